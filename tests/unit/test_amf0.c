/* AMF0: wire bytes of known values, round trips of every type, command
 * decoding, and refusal of deep, huge, truncated or unsupported input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "amf0.h"
#include "buf.h"
#include "error.h"

static void test_amf0_encodes_known_bytes(void **state)
{
    llhls_buf_t b;
    llhls_buf_init(&b, 0);
    assert_int_equal(llhls_amf0_put_number(&b, 1.0), 0);
    assert_int_equal(llhls_amf0_put_cstring(&b, "app"), 0);
    assert_int_equal(llhls_amf0_put_boolean(&b, 1), 0);
    assert_int_equal(llhls_amf0_put_null(&b), 0);
    static const uint8_t want[] = {0x00, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0, 0x02, 0x00, 0x03, 'a', 'p', 'p', 0x01, 0x01, 0x05};
    assert_int_equal(b.len, sizeof want);
    assert_memory_equal(b.data, want, sizeof want);
    llhls_buf_free(&b);
}

/* Every type, nested, as a connect command object might carry them. */
static void build_everything(llhls_buf_t *b)
{
    llhls_amf0_put_object_begin(b);
    llhls_amf0_put_key(b, "app");
    llhls_amf0_put_cstring(b, "live");
    llhls_amf0_put_key(b, "fpad");
    llhls_amf0_put_boolean(b, 0);
    llhls_amf0_put_key(b, "audioCodecs");
    llhls_amf0_put_number(b, 3191.0);
    llhls_amf0_put_key(b, "nothing");
    llhls_amf0_put_null(b);
    llhls_amf0_put_key(b, "undef");
    llhls_amf0_put_undefined(b);
    llhls_amf0_put_key(b, "meta");
    llhls_amf0_put_ecma_array_begin(b, 2);
    llhls_amf0_put_key(b, "framerate");
    llhls_amf0_put_number(b, 29.97);
    llhls_amf0_put_key(b, "encoder");
    llhls_amf0_put_cstring(b, "Lavf59");
    llhls_amf0_put_object_end(b);
    llhls_amf0_put_key(b, "list");
    /* Strict array [1, "two"] and a date, written by hand. */
    static const uint8_t arr[] = {0x0a, 0, 0, 0, 2, 0x00, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0, 0x02, 0, 3, 't', 'w', 'o'};
    llhls_buf_append(b, arr, sizeof arr);
    llhls_amf0_put_key(b, "when");
    static const uint8_t date[] = {0x0b, 0x42, 0x78, 0x00, 0, 0, 0, 0, 0, 0xff, 0xc4};
    llhls_buf_append(b, date, sizeof date);
    llhls_amf0_put_key(b, "big");
    char *big = malloc(70000);
    memset(big, 'x', 70000);
    llhls_amf0_put_string(b, big, 70000); /* a long string */
    free(big);
    llhls_amf0_put_object_end(b);
}

static void test_amf0_round_trips_every_type(void **state)
{
    llhls_buf_t b, again;
    llhls_buf_init(&b, 0);
    llhls_buf_init(&again, 0);
    build_everything(&b);
    llhls_amf0_value_t *v;
    size_t used = 0;
    assert_int_equal(llhls_amf0_decode(b.data, b.len, &used, &v), 0);
    assert_int_equal(used, b.len);
    assert_int_equal(v->type, LLHLS_AMF0_OBJECT);
    assert_int_equal(v->count, 9);
    assert_string_equal(llhls_amf0_get_string(v, "app"), "live");
    assert_int_equal(llhls_amf0_get(v, "fpad")->type, LLHLS_AMF0_BOOLEAN);
    assert_int_equal(llhls_amf0_get(v, "fpad")->boolean, 0);
    double d = 0;
    assert_int_equal(llhls_amf0_get_number(v, "audioCodecs", &d), 0);
    assert_true(d == 3191.0);
    assert_int_equal(llhls_amf0_get(v, "nothing")->type, LLHLS_AMF0_NULL);
    assert_int_equal(llhls_amf0_get(v, "undef")->type, LLHLS_AMF0_UNDEFINED);
    const llhls_amf0_value_t *meta = llhls_amf0_get(v, "meta");
    assert_int_equal(meta->type, LLHLS_AMF0_ECMA_ARRAY);
    assert_int_equal(llhls_amf0_get_number(meta, "framerate", &d), 0);
    assert_true(d == 29.97);
    const llhls_amf0_value_t *list = llhls_amf0_get(v, "list");
    assert_int_equal(list->type, LLHLS_AMF0_STRICT_ARRAY);
    assert_int_equal(list->count, 2);
    assert_string_equal(list->props[1].value->str, "two");
    const llhls_amf0_value_t *when = llhls_amf0_get(v, "when");
    assert_int_equal(when->type, LLHLS_AMF0_DATE);
    assert_true(when->number == 1649267441664.0);
    assert_int_equal(when->tz, -60);
    const llhls_amf0_value_t *big = llhls_amf0_get(v, "big");
    assert_int_equal(big->type, LLHLS_AMF0_LONG_STRING);
    assert_int_equal(big->str_len, 70000);
    assert_null(llhls_amf0_get(v, "absent"));
    assert_null(llhls_amf0_get_string(v, "audioCodecs"));
    assert_int_equal(llhls_amf0_get_number(v, "app", &d), -LLHLS_ENOTFOUND);

    assert_int_equal(llhls_amf0_encode(&again, v), 0);
    assert_int_equal(again.len, b.len);
    assert_memory_equal(again.data, b.data, b.len);
    llhls_amf0_free(v);
    llhls_buf_free(&b);
    llhls_buf_free(&again);
}

static void test_amf0_refuses_every_truncation(void **state)
{
    llhls_buf_t b;
    llhls_buf_init(&b, 0);
    build_everything(&b);
    for (size_t n = 0; n < b.len; n++) {
        llhls_amf0_value_t *v = NULL;
        size_t used = 0;
        assert_int_equal(llhls_amf0_decode(b.data, n, &used, &v), -LLHLS_EINVAL);
        assert_null(v);
    }
    llhls_buf_free(&b);
}

static void nest(llhls_buf_t *b, int depth)
{
    for (int i = 0; i < depth - 1; i++) {
        llhls_amf0_put_object_begin(b);
        llhls_amf0_put_key(b, "k");
    }
    llhls_amf0_put_number(b, 1);
    for (int i = 0; i < depth - 1; i++)
        llhls_amf0_put_object_end(b);
}

static void test_amf0_refuses_nesting_deeper_than_the_bound(void **state)
{
    llhls_buf_t b;
    llhls_buf_init(&b, 0);
    nest(&b, LLHLS_AMF0_MAX_DEPTH);
    llhls_amf0_value_t *v;
    assert_int_equal(llhls_amf0_decode(b.data, b.len, NULL, &v), 0);
    llhls_amf0_free(v);
    llhls_buf_reset(&b);
    nest(&b, LLHLS_AMF0_MAX_DEPTH + 1);
    assert_int_equal(llhls_amf0_decode(b.data, b.len, NULL, &v), -LLHLS_ETOOBIG);
    /* Strict arrays count as nesting too: 10000 levels must not recurse. */
    llhls_buf_reset(&b);
    for (int i = 0; i < 10000; i++)
        llhls_buf_append(&b, "\x0a\x00\x00\x00\x01", 5);
    assert_int_equal(llhls_amf0_decode(b.data, b.len, NULL, &v), -LLHLS_ETOOBIG);
    llhls_buf_free(&b);
}

static void test_amf0_refuses_huge_counts_without_allocating_them(void **state)
{
    static const uint8_t arr[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0x05};
    llhls_amf0_value_t *v;
    assert_int_equal(llhls_amf0_decode(arr, sizeof arr, NULL, &v), -LLHLS_ETOOBIG);
    static const uint8_t lstr[] = {0x0c, 0x7f, 0xff, 0xff, 0xff, 'a'};
    assert_int_equal(llhls_amf0_decode(lstr, sizeof lstr, NULL, &v), -LLHLS_ETOOBIG);
    /* An object with one property too many. */
    llhls_buf_t b;
    llhls_buf_init(&b, 0);
    llhls_amf0_put_object_begin(&b);
    for (int i = 0; i <= LLHLS_AMF0_MAX_ELEMENTS; i++) {
        llhls_amf0_put_key(&b, "k");
        llhls_amf0_put_null(&b);
    }
    llhls_amf0_put_object_end(&b);
    assert_int_equal(llhls_amf0_decode(b.data, b.len, NULL, &v), -LLHLS_ETOOBIG);
    llhls_buf_free(&b);
}

static void test_amf0_refuses_stray_end_and_unsupported_markers(void **state)
{
    llhls_amf0_value_t *v;
    static const uint8_t end[] = {0x09};
    assert_int_equal(llhls_amf0_decode(end, 1, NULL, &v), -LLHLS_EINVAL);
    static const uint8_t ref[] = {0x07, 0x00, 0x01};
    assert_int_equal(llhls_amf0_decode(ref, sizeof ref, NULL, &v), -LLHLS_EUNSUPPORTED);
    static const uint8_t amf3[] = {0x11, 0x01};
    assert_int_equal(llhls_amf0_decode(amf3, sizeof amf3, NULL, &v), -LLHLS_EUNSUPPORTED);
    assert_int_equal(llhls_amf0_decode(end, 0, NULL, &v), -LLHLS_EINVAL);
}

static void test_amf0_ecma_array_count_is_only_a_hint(void **state)
{
    llhls_buf_t b;
    llhls_buf_init(&b, 0);
    llhls_amf0_put_ecma_array_begin(&b, 5);
    llhls_amf0_put_key(&b, "width");
    llhls_amf0_put_number(&b, 7680);
    llhls_amf0_put_object_end(&b);
    llhls_amf0_value_t *v;
    assert_int_equal(llhls_amf0_decode(b.data, b.len, NULL, &v), 0);
    assert_int_equal(v->count, 1);
    double w = 0;
    assert_int_equal(llhls_amf0_get_number(v, "width", &w), 0);
    assert_true(w == 7680);
    llhls_amf0_free(v);
    llhls_buf_free(&b);
}

static void test_amf0_decodes_a_connect_command(void **state)
{
    llhls_buf_t b;
    llhls_buf_init(&b, 0);
    llhls_amf0_put_cstring(&b, "connect");
    llhls_amf0_put_number(&b, 1);
    llhls_amf0_put_object_begin(&b);
    llhls_amf0_put_key(&b, "app");
    llhls_amf0_put_cstring(&b, "live");
    llhls_amf0_put_key(&b, "tcUrl");
    llhls_amf0_put_cstring(&b, "rtmp://127.0.0.1:1935/live");
    llhls_amf0_put_object_end(&b);
    llhls_amf0_put_cstring(&b, "extra");
    llhls_amf0_command_t cmd;
    assert_int_equal(llhls_amf0_command_decode(b.data, b.len, 0, &cmd), 0);
    assert_string_equal(cmd.name, "connect");
    assert_true(cmd.txn == 1);
    assert_int_equal(cmd.nargs, 2);
    assert_string_equal(llhls_amf0_get_string(cmd.args[0], "app"), "live");
    assert_string_equal(cmd.args[1]->str, "extra");
    llhls_amf0_command_free(&cmd);

    /* Without a number transaction id it is not a command. */
    llhls_buf_reset(&b);
    llhls_amf0_put_cstring(&b, "connect");
    llhls_amf0_put_cstring(&b, "1");
    assert_int_equal(llhls_amf0_command_decode(b.data, b.len, 0, &cmd), -LLHLS_EINVAL);
    /* Nor without a string name. */
    llhls_buf_reset(&b);
    llhls_amf0_put_number(&b, 1);
    assert_int_equal(llhls_amf0_command_decode(b.data, b.len, 0, &cmd), -LLHLS_EINVAL);
    /* A truncated trailing argument spoils the whole command. */
    llhls_buf_reset(&b);
    llhls_amf0_put_cstring(&b, "publish");
    llhls_amf0_put_number(&b, 5);
    llhls_amf0_put_null(&b);
    llhls_amf0_put_cstring(&b, "test");
    assert_int_equal(llhls_amf0_command_decode(b.data, b.len - 1, 0, &cmd), -LLHLS_EINVAL);
    llhls_buf_free(&b);
}

static void test_amf0_decodes_a_data_message_without_transaction_id(void **state)
{
    llhls_buf_t b;
    llhls_buf_init(&b, 0);
    llhls_amf0_put_cstring(&b, "@setDataFrame");
    llhls_amf0_put_cstring(&b, "onMetaData");
    llhls_amf0_put_ecma_array_begin(&b, 1);
    llhls_amf0_put_key(&b, "framerate");
    llhls_amf0_put_number(&b, 120);
    llhls_amf0_put_object_end(&b);
    llhls_amf0_command_t cmd;
    assert_int_equal(llhls_amf0_command_decode(b.data, b.len, 1, &cmd), 0);
    assert_string_equal(cmd.name, "@setDataFrame");
    assert_int_equal(cmd.nargs, 2);
    assert_string_equal(cmd.args[0]->str, "onMetaData");
    double fps = 0;
    assert_int_equal(llhls_amf0_get_number(cmd.args[1], "framerate", &fps), 0);
    assert_true(fps == 120);
    llhls_amf0_command_free(&cmd);
    llhls_buf_free(&b);
}

static void test_amf0_status_reply_carries_level_code_and_description(void **state)
{
    llhls_buf_t b;
    llhls_buf_init(&b, 0);
    assert_int_equal(llhls_amf0_put_status(&b, "onStatus", 0, "error", "NetStream.Publish.BadName",
                                           "Stream live/test is already being published."),
                     0);
    llhls_amf0_command_t cmd;
    assert_int_equal(llhls_amf0_command_decode(b.data, b.len, 0, &cmd), 0);
    assert_string_equal(cmd.name, "onStatus");
    assert_true(cmd.txn == 0);
    assert_int_equal(cmd.nargs, 2);
    assert_int_equal(cmd.args[0]->type, LLHLS_AMF0_NULL);
    assert_string_equal(llhls_amf0_get_string(cmd.args[1], "level"), "error");
    assert_string_equal(llhls_amf0_get_string(cmd.args[1], "code"), "NetStream.Publish.BadName");
    assert_string_equal(llhls_amf0_get_string(cmd.args[1], "description"),
                        "Stream live/test is already being published.");
    llhls_amf0_command_free(&cmd);
    llhls_buf_free(&b);
}

static void test_amf0_encoder_stops_at_the_buffer_cap(void **state)
{
    llhls_buf_t b;
    llhls_buf_init(&b, 8);
    assert_int_equal(llhls_amf0_put_cstring(&b, "far too long"), -LLHLS_ETOOBIG);
    llhls_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_amf0_encodes_known_bytes),
        cmocka_unit_test(test_amf0_round_trips_every_type),
        cmocka_unit_test(test_amf0_refuses_every_truncation),
        cmocka_unit_test(test_amf0_refuses_nesting_deeper_than_the_bound),
        cmocka_unit_test(test_amf0_refuses_huge_counts_without_allocating_them),
        cmocka_unit_test(test_amf0_refuses_stray_end_and_unsupported_markers),
        cmocka_unit_test(test_amf0_ecma_array_count_is_only_a_hint),
        cmocka_unit_test(test_amf0_decodes_a_connect_command),
        cmocka_unit_test(test_amf0_decodes_a_data_message_without_transaction_id),
        cmocka_unit_test(test_amf0_status_reply_carries_level_code_and_description),
        cmocka_unit_test(test_amf0_encoder_stops_at_the_buffer_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
