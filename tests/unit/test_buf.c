/* The capped byte buffer: growth, the hard cap, consume and steal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "error.h"

static void test_buf_appends_and_grows(void **state)
{
    llhls_buf_t b;
    llhls_buf_init(&b, 0);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(llhls_buf_append(&b, "abc", 3), 0);
    assert_int_equal(b.len, 3000);
    assert_memory_equal(b.data + 2997, "abc", 3);
    llhls_buf_free(&b);
    assert_null(b.data);
}

static void test_buf_refuses_to_pass_its_cap_and_keeps_its_bytes(void **state)
{
    llhls_buf_t b;
    llhls_buf_init(&b, 10);
    assert_int_equal(llhls_buf_append(&b, "0123456789", 10), 0);
    assert_int_equal(llhls_buf_append(&b, "x", 1), -LLHLS_ETOOBIG);
    assert_int_equal(b.len, 10);
    assert_memory_equal(b.data, "0123456789", 10);
    assert_int_equal(llhls_buf_printf(&b, "%d", 1), -LLHLS_ETOOBIG);
    llhls_buf_free(&b);
}

static void test_buf_cap_arithmetic_does_not_wrap(void **state)
{
    llhls_buf_t b;
    llhls_buf_init(&b, 16);
    assert_int_equal(llhls_buf_append(&b, "ab", 2), 0);
    assert_int_equal(llhls_buf_reserve(&b, SIZE_MAX), -LLHLS_ETOOBIG);
    assert_int_equal(llhls_buf_reserve(&b, SIZE_MAX - 1), -LLHLS_ETOOBIG);
    llhls_buf_free(&b);
}

static void test_buf_printf_formats_without_counting_the_nul(void **state)
{
    llhls_buf_t b;
    llhls_buf_init(&b, 0);
    assert_int_equal(llhls_buf_printf(&b, "#EXT-X-PART:DURATION=%.5f", 0.33333), 0);
    assert_int_equal(llhls_buf_printf(&b, ",URI=\"%s\"\n", "video/1.2.m4s"), 0);
    const char *want = "#EXT-X-PART:DURATION=0.33333,URI=\"video/1.2.m4s\"\n";
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.data, want, b.len);
    llhls_buf_free(&b);
}

static void test_buf_consume_and_steal(void **state)
{
    llhls_buf_t b;
    llhls_buf_init(&b, 0);
    llhls_buf_append(&b, "hello world", 11);
    llhls_buf_consume(&b, 6);
    assert_int_equal(b.len, 5);
    assert_memory_equal(b.data, "world", 5);
    llhls_buf_consume(&b, 100);
    assert_int_equal(b.len, 0);
    llhls_buf_append(&b, "kept", 4);
    size_t n;
    uint8_t *p = llhls_buf_steal(&b, &n);
    assert_int_equal(n, 4);
    assert_memory_equal(p, "kept", 4);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_appends_and_grows),
        cmocka_unit_test(test_buf_refuses_to_pass_its_cap_and_keeps_its_bytes),
        cmocka_unit_test(test_buf_cap_arithmetic_does_not_wrap),
        cmocka_unit_test(test_buf_printf_formats_without_counting_the_nul),
        cmocka_unit_test(test_buf_consume_and_steal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
