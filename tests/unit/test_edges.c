/* Tests of the edge report registry: what a valid report keeps, each kind
 * of bad report refused with its own sentence, gone after three intervals
 * (at least 10 s), forgotten ten minutes later, and the CDN-wide totals. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "edges.h"
#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 1700000000000ll

static char why[256];

static int report(llhls_edges_t *e, const char *json, int64_t now)
{
    why[0] = 0;
    return llhls_edges_report(e, json, strlen(json), "10.0.0.7:5555", now, why, sizeof(why));
}

static json_t *edge_at(json_t *list, size_t i)
{
    return json_array_get(json_object_get(list, "edges"), i);
}

static void test_edges_keeps_the_last_report_of_each_edge(void **state)
{
    (void)state;
    llhls_edges_t *e;
    assert_int_equal(llhls_edges_create(&e), 0);
    assert_int_equal(report(e, "{\"id\":\"b\",\"connections\":10,\"egress_bps\":5e6,\"viewers\":{\"live/x\":7},"
                               "\"origins\":[{\"url\":\"http://o:8080\",\"up\":true}],\"hit_ratio\":0.9}", T0), 0);
    assert_int_equal(report(e, "{\"id\":\"a\",\"connections\":1,\"viewers\":{\"live/x\":1,\"live/y\":2}}", T0), 0);
    assert_int_equal(report(e, "{\"id\":\"b\",\"connections\":20,\"egress_bps\":1e6,\"viewers\":{\"live/x\":9}}",
                            T0 + 1000), 0);
    json_t *l = llhls_edges_json(e, T0 + 2000);
    assert_int_equal(json_array_size(json_object_get(l, "edges")), 2);
    json_t *a = edge_at(l, 0), *b = edge_at(l, 1);
    assert_string_equal(json_string_value(json_object_get(a, "id")), "a");
    assert_string_equal(json_string_value(json_object_get(b, "address")), "10.0.0.7:5555");
    assert_int_equal(json_integer_value(json_object_get(b, "connections")), 20);
    assert_int_equal(json_integer_value(json_object_get(b, "last_report_ms")), T0 + 1000);
    assert_true(json_number_value(json_object_get(b, "age_s")) == 1.0);
    assert_false(json_is_true(json_object_get(b, "gone")));
    json_t *t = json_object_get(l, "total");
    assert_int_equal(json_integer_value(json_object_get(t, "edges_up")), 2);
    assert_int_equal(json_integer_value(json_object_get(t, "connections")), 21);
    assert_int_equal(json_integer_value(json_object_get(t, "viewers")), 12);
    assert_true(json_number_value(json_object_get(t, "egress_bps")) == 1e6);
    json_decref(l);
    llhls_edges_destroy(e);
}

static void test_edges_refuses_bad_reports_with_a_reason(void **state)
{
    (void)state;
    llhls_edges_t *e;
    assert_int_equal(llhls_edges_create(&e), 0);
    static const struct { const char *json, *want; } bad[] = {
        {"not json", "not JSON"},
        {"[1,2]", "a report is a JSON object"},
        {"{\"connections\":1}", "\"id\" must be a string"},
        {"{\"id\":\"\"}", "\"id\" must be a string"},
        {"{\"id\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaX\"}", "1 to 64 bytes"},
        {"{\"id\":\"a\",\"connections\":\"many\"}", "\"connections\" must be a number"},
        {"{\"id\":\"a\",\"egress_bps\":-1}", "\"egress_bps\" must be a number of at least 0"},
        {"{\"id\":\"a\",\"hit_ratio\":1.5}", "\"hit_ratio\" must be from 0 to 1"},
        {"{\"id\":\"a\",\"viewers\":[1]}", "\"viewers\" must be an object"},
        {"{\"id\":\"a\",\"viewers\":{\"live/x\":1.5}}", "\"viewers\" of \"live/x\" must be a whole number"},
        {"{\"id\":\"a\",\"origins\":[{\"url\":1,\"up\":true}]}", "\"origins\"[0] must be"},
        {"{\"id\":\"a\",\"id\":\"b\"}", "not JSON"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int r = report(e, bad[i].json, T0);
        if (r != -LLHLS_EINVAL || strstr(why, bad[i].want) == NULL)
            fail_msg("%s: returned %d, '%s', wanted '%s'", bad[i].json, r, why, bad[i].want);
    }
    char *big = malloc(LLHLS_EDGE_REPORT_MAX + 2);
    memset(big, ' ', LLHLS_EDGE_REPORT_MAX + 1);
    big[LLHLS_EDGE_REPORT_MAX + 1] = 0;
    assert_int_equal(report(e, big, T0), -LLHLS_ETOOBIG);
    free(big);
    json_t *l = llhls_edges_json(e, T0);
    assert_int_equal(json_array_size(json_object_get(l, "edges")), 0);
    json_decref(l);
    llhls_edges_destroy(e);
}

static void test_edges_gone_after_three_intervals_then_forgotten(void **state)
{
    (void)state;
    llhls_edges_t *e;
    assert_int_equal(llhls_edges_create(&e), 0);
    assert_int_equal(report(e, "{\"id\":\"slow\",\"interval_ms\":5000,\"connections\":4}", T0), 0);
    assert_int_equal(report(e, "{\"id\":\"fast\",\"interval_ms\":1000,\"connections\":2}", T0), 0);
    /* 3 x 1 s is under the 10 s floor; 3 x 5 s is over it. */
    json_t *l = llhls_edges_json(e, T0 + 10001);
    assert_true(json_is_true(json_object_get(edge_at(l, 0), "gone")));   /* fast */
    assert_false(json_is_true(json_object_get(edge_at(l, 1), "gone"))); /* slow */
    assert_int_equal(json_integer_value(json_object_get(json_object_get(l, "total"), "connections")), 4);
    json_decref(l);
    l = llhls_edges_json(e, T0 + 15001);
    assert_true(json_is_true(json_object_get(edge_at(l, 1), "gone")));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(l, "total"), "edges_up")), 0);
    json_decref(l);
    l = llhls_edges_json(e, T0 + 10001 + 10 * 60 * 1000);
    assert_int_equal(json_array_size(json_object_get(l, "edges")), 1);
    json_decref(l);
    l = llhls_edges_json(e, T0 + 15001 + 10 * 60 * 1000);
    assert_int_equal(json_array_size(json_object_get(l, "edges")), 0);
    json_decref(l);
    llhls_edges_destroy(e);
}

static void test_edges_bounds_the_number_of_edges(void **state)
{
    (void)state;
    llhls_edges_t *e;
    assert_int_equal(llhls_edges_create(&e), 0);
    char json[64];
    for (int i = 0; i < LLHLS_EDGES_MAX; i++) {
        snprintf(json, sizeof(json), "{\"id\":\"e%d\"}", i);
        assert_int_equal(report(e, json, T0), 0);
    }
    assert_int_equal(report(e, "{\"id\":\"one-more\"}", T0), -LLHLS_ETOOBIG);
    assert_non_null(strstr(why, "edges report here"));
    /* A known edge may still report. */
    assert_int_equal(report(e, "{\"id\":\"e7\",\"connections\":3}", T0 + 1), 0);
    llhls_edges_destroy(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edges_keeps_the_last_report_of_each_edge),
        cmocka_unit_test(test_edges_refuses_bad_reports_with_a_reason),
        cmocka_unit_test(test_edges_gone_after_three_intervals_then_forgotten),
        cmocka_unit_test(test_edges_bounds_the_number_of_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
