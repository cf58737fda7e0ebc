/* Tests of the configuration: the embedded default, the shipped example
 * file, YAML files, command-line flags, and the messages users see when a
 * value is wrong. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "error.h"
#include "log.h"

#define MiB (1024ull * 1024)
#define GiB (1024ull * MiB)

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

static char err[512];

/* Writes text to a fresh temporary file; the caller unlinks path. */
static void write_temp(const char *text, char *path, size_t len)
{
    const char *dir = getenv("TMPDIR");
    snprintf(path, len, "%s/llhls-config-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t n = strlen(text);
    assert_int_equal(write(fd, text, n), (ssize_t)n);
    close(fd);
}

static int load(llhls_config_t *c, const char *yaml)
{
    llhls_config_default(c);
    err[0] = '\0';
    return llhls_config_load_string(c, yaml, strlen(yaml), "test.yaml", err, sizeof(err));
}

/* Loads yaml, expects failure and that the message contains want. */
static void expect_yaml_error(const char *yaml, const char *want)
{
    llhls_config_t c;
    int r = load(&c, yaml);
    if (r != -LLHLS_ECONFIG || !strstr(err, want))
        fail_msg("yaml:\n%s\nreturned %d, message '%s', wanted '%s'", yaml, r, err, want);
}

static int args(llhls_config_t *c, int argc, char **argv)
{
    llhls_config_default(c);
    err[0] = '\0';
    return llhls_config_parse_args(c, argc, argv, err, sizeof(err));
}

static void expect_args_error(int argc, char **argv, const char *want)
{
    llhls_config_t c;
    int r = args(&c, argc, argv);
    if (r != -LLHLS_ECONFIG || !strstr(err, want))
        fail_msg("returned %d, message '%s', wanted '%s'", r, err, want);
}

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])))

static void assert_documented_defaults(const llhls_config_t *c)
{
    assert_string_equal(c->rtmp_addr, "0.0.0.0");
    assert_int_equal(c->rtmp_port, 1935);
    assert_int_equal(c->rtmp_max_connections, 1000);
    assert_int_equal(c->rtmp_max_message_size, 32 * MiB);
    assert_int_equal(c->rtmp_idle_timeout_ms, 30000);
    assert_string_equal(c->http_addr, "0.0.0.0");
    assert_int_equal(c->http_port, 8080);
    assert_int_equal(c->http_threads, 2);
    assert_int_equal(c->http_max_connections, 10000);
    assert_int_equal(c->http_max_waiting, 5000);
    assert_string_equal(c->data_dir, "./llhls-data");
    assert_true(c->store_size == 4 * GiB);
    assert_int_equal(c->segment_target_us, 2000000);
    assert_int_equal(c->part_target_us, 333340);
    assert_int_equal(c->window_ms, 60000);
    assert_int_equal(c->grace_ms, 10000);
    assert_int_equal(c->log_level, LLHLS_LOG_INFO);
}

/* ---- defaults and the example file ---- */

static void test_config_embedded_default_has_documented_values(void **state)
{
    llhls_config_t c;
    memset(&c, 0, sizeof(c));
    /* Parsed on a zeroed struct, so every key must be present in the text. */
    assert_int_equal(llhls_config_load_string(&c, llhls_config_embedded, strlen(llhls_config_embedded), "embedded", err,
                                              sizeof(err)),
                     0);
    assert_documented_defaults(&c);
    llhls_config_t d;
    llhls_config_default(&d);
    assert_documented_defaults(&d);
}

static void test_config_example_file_matches_embedded_default(void **state)
{
    const char *top = getenv("top_srcdir");
    char path[1024];
    snprintf(path, sizeof(path), "%s/conf/llhls-origin.yaml", top && *top ? top : ".");
    llhls_config_t from_file, def;
    memset(&from_file, 0, sizeof(from_file));
    int r = llhls_config_load_file(&from_file, path, err, sizeof(err));
    if (r != 0)
        fail_msg("%s: %s", path, err);
    llhls_config_default(&def);
    assert_documented_defaults(&from_file);
    /* Both start zeroed, so equal bytes mean every key is in the file. */
    assert_memory_equal(&from_file, &def, sizeof(def));
}

static void test_config_yaml_overrides_only_given_keys(void **state)
{
    llhls_config_t c;
    assert_int_equal(load(&c, "rtmp:\n"
                              "  listen: 127.0.0.1:0\n"
                              "  max_message_size: 8MiB\n"
                              "  idle_timeout: 1500ms\n"
                              "http:\n"
                              "  listen: \"[::1]:8443\"\n"
                              "  threads: 8\n"
                              "  max_waiting_per_stream: 20\n"
                              "store:\n"
                              "  path: /var/lib/llhls\n"
                              "  size: 100MB\n"
                              "hls:\n"
                              "  segment_duration: 4\n"
                              "  part_duration: 500ms\n"
                              "  window: 12.5s\n"
                              "  reconnect_grace: 0\n"
                              "log:\n"
                              "  level: debug\n"),
                     0);
    assert_string_equal(c.rtmp_addr, "127.0.0.1");
    assert_int_equal(c.rtmp_port, 0);
    assert_int_equal(c.rtmp_max_message_size, 8 * MiB);
    assert_int_equal(c.rtmp_idle_timeout_ms, 1500);
    assert_int_equal(c.rtmp_max_connections, 1000);
    assert_string_equal(c.http_addr, "::1");
    assert_int_equal(c.http_port, 8443);
    assert_int_equal(c.http_threads, 8);
    assert_int_equal(c.http_max_connections, 10000);
    assert_int_equal(c.http_max_waiting, 20);
    assert_string_equal(c.data_dir, "/var/lib/llhls");
    assert_true(c.store_size == 100000000ull);
    assert_int_equal(c.segment_target_us, 4000000);
    assert_int_equal(c.part_target_us, 500000);
    assert_int_equal(c.window_ms, 12500);
    assert_int_equal(c.grace_ms, 0);
    assert_int_equal(c.log_level, LLHLS_LOG_DEBUG);
}

static void test_config_accepts_empty_document_and_empty_section(void **state)
{
    llhls_config_t c;
    assert_int_equal(load(&c, ""), 0);
    assert_documented_defaults(&c);
    assert_int_equal(load(&c, "# nothing but a comment\n"), 0);
    assert_documented_defaults(&c);
    assert_int_equal(load(&c, "rtmp:\n  # listen: 1.2.3.4:5\nlog:\n  level: warn\n"), 0);
    assert_int_equal(c.log_level, LLHLS_LOG_WARN);
    assert_int_equal(c.rtmp_port, 1935);
}

/* ---- YAML errors ---- */

static void test_config_rejects_unknown_key_with_line(void **state)
{
    expect_yaml_error("rtmp:\n  listen: 0.0.0.0:1935\n  lisen: 0.0.0.0:1936\n",
                      "test.yaml:3: rtmp.lisen: unknown key (rtmp has listen, max_connections, max_message_size, "
                      "idle_timeout)");
}

static void test_config_rejects_unknown_section(void **state)
{
    expect_yaml_error("log:\n  level: info\nrmtp:\n  listen: 0.0.0.0:1935\n",
                      "test.yaml:3: rmtp: unknown section (expected rtmp, http, store, hls, log or admin)");
}

static void test_config_rejects_bad_duration_with_line(void **state)
{
    expect_yaml_error("hls:\n  segment_duration: fast\n",
                      "test.yaml:2: hls.segment_duration: expected a duration like 2 or 0.5s, got 'fast'");
    expect_yaml_error("hls:\n  window: -5\n", "test.yaml:2: hls.window: expected a duration like 2 or 0.5s, got '-5'");
    expect_yaml_error("hls:\n  part_duration: 0.3h\n", "test.yaml:2: hls.part_duration: expected a duration");
    expect_yaml_error("rtmp:\n  idle_timeout: 0\n",
                      "test.yaml:2: rtmp.idle_timeout: expected a duration from 1 s to 3600 s, got '0'");
}

static void test_config_rejects_sequence_where_scalar_expected(void **state)
{
    expect_yaml_error("http:\n  threads:\n    - 1\n    - 2\n",
                      "test.yaml:3: http.threads: expected a whole number, got a sequence");
    expect_yaml_error("store:\n  path: {a: b}\n", "test.yaml:2: store.path: expected a directory path, got a mapping");
}

static void test_config_unquoted_ipv6_listen_hints_at_quotes(void **state)
{
    expect_yaml_error("http:\n  listen: [::1]:8080\n",
                      "test.yaml:2: YAML syntax error: did not find expected node content (while parsing a flow node "
                      "from line 2) (an IPv6 listen address needs quotes: \"[::1]:1935\")");
    expect_yaml_error("rtmp:\n  listen: [1]\n", "test.yaml:2: rtmp.listen: expected ADDR:PORT with a numeric address, "
                                                "like 0.0.0.0:1935 or [::1]:1935, got a sequence (an IPv6 listen "
                                                "address needs quotes");
}

static void test_config_rejects_section_that_is_not_a_mapping(void **state)
{
    expect_yaml_error("hls: 2\n", "test.yaml:1: hls: expected a mapping of keys, got a scalar");
    expect_yaml_error("- rtmp\n", "test.yaml:1: expected a mapping of sections");
}

static void test_config_rejects_bad_size(void **state)
{
    expect_yaml_error("store:\n  size: 4 gigabytes\n",
                      "test.yaml:2: store.size: expected a size like 4GiB, 512MiB or 100MB, got '4 gigabytes'");
    expect_yaml_error("store:\n  size: 512KiB\n",
                      "test.yaml:2: store.size: expected a size from 1MiB to 64TiB, got '512KiB'");
    expect_yaml_error("rtmp:\n  max_message_size: 2GiB\n",
                      "test.yaml:2: rtmp.max_message_size: expected a size from 64KiB to 1GiB, got '2GiB'");
}

static void test_config_rejects_bad_listen(void **state)
{
    expect_yaml_error("\nrtmp:\n  listen: 0.0.0.0:70000\n",
                      "test.yaml:3: rtmp.listen: expected ADDR:PORT with a numeric address, like 0.0.0.0:1935 or "
                      "[::1]:1935, got '0.0.0.0:70000'");
    expect_yaml_error("http:\n  listen: 8080\n", "test.yaml:2: http.listen: expected ADDR:PORT");
    expect_yaml_error("http:\n  listen: localhost:8080\n", "got 'localhost:8080'");
}

static void test_config_rejects_counts_out_of_bounds(void **state)
{
    expect_yaml_error("http:\n  threads: 65\n",
                      "test.yaml:2: http.threads: expected a whole number from 1 to 64, got '65'");
    expect_yaml_error("http:\n  threads: 0\n", "from 1 to 64, got '0'");
    expect_yaml_error("http:\n  max_connections: 1.5\n", "http.max_connections: expected a whole number");
    expect_yaml_error("rtmp:\n  max_connections: 99999999999999999999999\n", "rtmp.max_connections");
}

static void test_config_rejects_bad_log_level(void **state)
{
    expect_yaml_error("log:\n  level: verbose\n",
                      "test.yaml:2: log.level: expected one of error, warn, info, debug, got 'verbose'");
}

static void test_config_rejects_empty_path(void **state)
{
    expect_yaml_error("store:\n  path:\n", "test.yaml:2: store.path: expected a directory path, got nothing");
}

static void test_config_rejects_part_over_half_segment(void **state)
{
    expect_yaml_error("hls:\n  segment_duration: 2\n  part_duration: 1.5\n",
                      "test.yaml:3: hls.part_duration: part duration 1.5 s must be at most half of the segment "
                      "duration 2 s");
    /* Exactly half is allowed. */
    llhls_config_t c;
    assert_int_equal(load(&c, "hls:\n  segment_duration: 2\n  part_duration: 1\n"), 0);
    assert_int_equal(c.part_target_us, 1000000);
    /* The key written last is the one named. */
    expect_yaml_error("hls:\n  part_duration: 1\n  segment_duration: 1.5\n",
                      "test.yaml:3: hls.segment_duration: part duration 1 s must be at most half of the segment "
                      "duration 1.5 s");
}

static void test_config_rejects_part_too_short_and_segment_too_long(void **state)
{
    expect_yaml_error("hls:\n  part_duration: 50ms\n",
                      "test.yaml:2: hls.part_duration: expected a duration from 0.1 s to 15 s, got '50ms'");
    expect_yaml_error("hls:\n  segment_duration: 31\n  window: 120\n",
                      "test.yaml:2: hls.segment_duration: expected a duration from 0.2 s to 30 s, got '31'");
}

static void test_config_rejects_window_under_three_segments(void **state)
{
    expect_yaml_error("hls:\n  window: 5s\n",
                      "test.yaml:2: hls.window: window 5 s must be at least 3 times the segment duration 2 s");
    /* The default window does not fit 30 s segments: the segment is named. */
    expect_yaml_error("hls:\n  segment_duration: 30\n",
                      "test.yaml:2: hls.segment_duration: window 60 s must be at least 3 times the segment duration "
                      "30 s");
}

static void test_config_rejects_duplicate_key_and_section(void **state)
{
    expect_yaml_error("http:\n  threads: 2\n  threads: 4\n",
                      "test.yaml:3: http.threads: given twice (first on line 2)");
    expect_yaml_error("log:\n  level: info\nlog:\n  level: debug\n",
                      "test.yaml:3: log: section given twice (first on line 1)");
}

static void test_config_reports_yaml_syntax_error_with_line(void **state)
{
    expect_yaml_error("rtmp:\n  listen: 0.0.0.0:1935\n   max_connections: 5\n", "test.yaml:3: YAML syntax error: ");
    expect_yaml_error("http:\n  listen: \"0.0.0.0:80\n",
                      "test.yaml:3: YAML syntax error: found unexpected end of stream");
}

static void test_config_rejects_second_document(void **state)
{
    expect_yaml_error("log:\n  level: info\n---\nlog:\n  level: debug\n",
                      "test.yaml:4: only one YAML document is allowed");
}

static void test_config_load_file_reports_missing_file(void **state)
{
    llhls_config_t c;
    llhls_config_default(&c);
    assert_int_equal(llhls_config_load_file(&c, "/nonexistent/llhls.yaml", err, sizeof(err)), -LLHLS_ECONFIG);
    assert_string_equal(err, "/nonexistent/llhls.yaml: cannot open: No such file or directory");
}

static void test_config_load_file_names_file_in_errors(void **state)
{
    char path[256];
    write_temp("store:\n  path: /srv/x\n  bogus: 1\n", path, sizeof(path));
    llhls_config_t c;
    llhls_config_default(&c);
    int r = llhls_config_load_file(&c, path, err, sizeof(err));
    char want[400];
    snprintf(want, sizeof(want), "%s:3: store.bogus: unknown key (store has path, size)", path);
    unlink(path);
    assert_int_equal(r, -LLHLS_ECONFIG);
    assert_string_equal(err, want);
}

/* ---- command line ---- */

static void test_config_args_none_keeps_defaults(void **state)
{
    char *argv[] = {"llhls-origin"};
    llhls_config_t c;
    assert_int_equal(args(&c, ARGC(argv), argv), 0);
    assert_documented_defaults(&c);
}

static void test_config_args_each_flag(void **state)
{
    char *argv[] = {"llhls-origin",
                    "--rtmp",
                    "127.0.0.1:0",
                    "--http",
                    "[::]:0",
                    "--data",
                    "/tmp/d",
                    "--store-size",
                    "256MiB",
                    "--segment-duration",
                    "6",
                    "--part-duration",
                    "1s",
                    "--window",
                    "30",
                    "--reconnect-grace",
                    "2500ms",
                    "--http-threads",
                    "16",
                    "--log-level",
                    "error"};
    llhls_config_t c;
    int r = args(&c, ARGC(argv), argv);
    if (r != 0)
        fail_msg("%s", err);
    assert_string_equal(c.rtmp_addr, "127.0.0.1");
    assert_int_equal(c.rtmp_port, 0);
    assert_string_equal(c.http_addr, "::");
    assert_int_equal(c.http_port, 0);
    assert_string_equal(c.data_dir, "/tmp/d");
    assert_true(c.store_size == 256 * MiB);
    assert_int_equal(c.segment_target_us, 6000000);
    assert_int_equal(c.part_target_us, 1000000);
    assert_int_equal(c.window_ms, 30000);
    assert_int_equal(c.grace_ms, 2500);
    assert_int_equal(c.http_threads, 16);
    assert_int_equal(c.log_level, LLHLS_LOG_ERROR);
    /* Keys without a flag keep their defaults. */
    assert_int_equal(c.http_max_connections, 10000);
}

static void test_config_args_accept_equals_form(void **state)
{
    char *argv[] = {"llhls-origin", "--http=:9090", "--log-level=warn"};
    llhls_config_t c;
    assert_int_equal(args(&c, ARGC(argv), argv), 0);
    assert_string_equal(c.http_addr, "0.0.0.0");
    assert_int_equal(c.http_port, 9090);
    assert_int_equal(c.log_level, LLHLS_LOG_WARN);
}

static void test_config_window_takes_hours_up_to_a_day(void **state)
{
    llhls_config_t c;
    /* Past the 71 minutes a count of microseconds in 32 bits could hold. */
    if (load(&c, "hls:\n  window: 7200s\n") != 0)
        fail_msg("%s", err);
    assert_int_equal(c.window_ms, 7200000);
    if (load(&c, "hls:\n  window: 86400\n") != 0)
        fail_msg("%s", err);
    assert_int_equal(c.window_ms, 86400000);
    expect_yaml_error("hls:\n  window: 86401s\n",
                      "test.yaml:2: hls.window: expected a duration from 0.6 s to 86400 s, got '86401s'");
}

static void test_config_record_defaults_off_and_reads_booleans(void **state)
{
    llhls_config_t c;
    llhls_config_default(&c);
    assert_int_equal(c.record, 0);
    assert_int_equal(load(&c, "hls:\n  record: true\n"), 0);
    assert_int_equal(c.record, 1);
    assert_int_equal(load(&c, "hls:\n  record: yes\n"), 0);
    assert_int_equal(c.record, 1);
    assert_int_equal(load(&c, "hls:\n  record: false\n"), 0);
    assert_int_equal(c.record, 0);
    expect_yaml_error("hls:\n  record: sometimes\n",
                      "test.yaml:2: hls.record: expected true or false, got 'sometimes'");
    expect_yaml_error("hls:\n  record: 1\n", "test.yaml:2: hls.record: expected true or false, got '1'");
}

static void test_config_record_flag_bare_or_with_value(void **state)
{
    llhls_config_t c;
    char *bare[] = {"llhls-origin", "--record"};
    assert_int_equal(args(&c, ARGC(bare), bare), 0);
    assert_int_equal(c.record, 1);
    char *off[] = {"llhls-origin", "--record=false"};
    assert_int_equal(args(&c, ARGC(off), off), 0);
    assert_int_equal(c.record, 0);
    char *bad[] = {"llhls-origin", "--record=maybe"};
    expect_args_error(ARGC(bad), bad, "--record: expected true or false, got 'maybe'");
}

static void test_config_args_file_is_loaded_first_and_flags_override(void **state)
{
    char path[256];
    write_temp("http:\n  listen: 127.0.0.1:7000\n  threads: 3\nhls:\n  segment_duration: 4\n", path, sizeof(path));
    /* -c stands last but is applied before the flags before it. */
    char *argv[] = {"llhls-origin", "--http", "127.0.0.2:7001", "-c", path};
    llhls_config_t c;
    int r = args(&c, ARGC(argv), argv);
    unlink(path);
    if (r != 0)
        fail_msg("%s", err);
    assert_string_equal(c.http_addr, "127.0.0.2");
    assert_int_equal(c.http_port, 7001);
    assert_int_equal(c.http_threads, 3);
    assert_int_equal(c.segment_target_us, 4000000);
    assert_int_equal(c.rtmp_port, 1935);
}

static void test_config_args_flags_can_repair_file_rules(void **state)
{
    char path[256];
    /* On its own this file breaks part <= segment / 2; the flag fixes it. */
    write_temp("hls:\n  part_duration: 1.5\n", path, sizeof(path));
    char *argv[] = {"llhls-origin", "--config", path, "--segment-duration", "3"};
    llhls_config_t c;
    int r = args(&c, ARGC(argv), argv);
    unlink(path);
    if (r != 0)
        fail_msg("%s", err);
    assert_int_equal(c.part_target_us, 1500000);
    assert_int_equal(c.segment_target_us, 3000000);
}

static void test_config_args_rules_apply_after_flags(void **state)
{
    char *argv[] = {"llhls-origin", "--part-duration", "0.5", "--segment-duration", "0.8"};
    expect_args_error(ARGC(argv), argv,
                      "--segment-duration: part duration 0.5 s must be at most half of the segment duration 0.8 s");
    char *argv2[] = {"llhls-origin", "--window", "4"};
    expect_args_error(ARGC(argv2), argv2, "--window: window 4 s must be at least 3 times the segment duration 2 s");
}

static void test_config_args_rule_names_last_change(void **state)
{
    char path[256];
    write_temp("hls:\n  window: 30\n", path, sizeof(path));
    /* The flag broke the rule, so the flag is named. */
    char *a1[] = {"llhls-origin", "-c", path, "--segment-duration", "12"};
    expect_args_error(ARGC(a1), a1,
                      "--segment-duration: window 30 s must be at least 3 times the segment duration 12 s");
    unlink(path);
    /* Here the file's window is the value at fault: its line is named. */
    write_temp("hls:\n\n  window: 5\n", path, sizeof(path));
    char *a2[] = {"llhls-origin", "-c", path, "--part-duration", "0.5"};
    char want[400];
    snprintf(want, sizeof(want), "%s:3: hls.window: window 5 s must be at least 3 times the segment duration 2 s",
             path);
    expect_args_error(ARGC(a2), a2, want);
    unlink(path);
}

static void test_config_args_bad_value_names_flag(void **state)
{
    char *a1[] = {"llhls-origin", "--rtmp", "nowhere"};
    expect_args_error(ARGC(a1), a1, "--rtmp: expected ADDR:PORT with a numeric address");
    char *a2[] = {"llhls-origin", "--segment-duration", "fast"};
    expect_args_error(ARGC(a2), a2, "--segment-duration: expected a duration like 2 or 0.5s, got 'fast'");
    char *a3[] = {"llhls-origin", "--http-threads", "100"};
    expect_args_error(ARGC(a3), a3, "--http-threads: expected a whole number from 1 to 64, got '100'");
    char *a4[] = {"llhls-origin", "--store-size", "lots"};
    expect_args_error(ARGC(a4), a4, "--store-size: expected a size like 4GiB");
    char *a5[] = {"llhls-origin", "--log-level", "loud"};
    expect_args_error(ARGC(a5), a5, "--log-level: expected one of error, warn, info, debug, got 'loud'");
    char *a6[] = {"llhls-origin", "--data", ""};
    expect_args_error(ARGC(a6), a6, "--data: expected a directory path, got nothing");
}

static void test_config_args_unknown_or_incomplete_flag(void **state)
{
    char *a1[] = {"llhls-origin", "--rtmp-port", "1935"};
    expect_args_error(ARGC(a1), a1, "unknown or ambiguous option '--rtmp-port'");
    char *a2[] = {"llhls-origin", "-x"};
    expect_args_error(ARGC(a2), a2, "unknown option '-x'");
    char *a3[] = {"llhls-origin", "--window"};
    expect_args_error(ARGC(a3), a3, "--window needs a value");
    char *a4[] = {"llhls-origin", "-c"};
    expect_args_error(ARGC(a4), a4, "-c/--config needs a value");
    char *a5[] = {"llhls-origin", "serve"};
    expect_args_error(ARGC(a5), a5, "unexpected argument 'serve'");
    char *a6[] = {"llhls-origin", "--help=yes"};
    expect_args_error(ARGC(a6), a6, "-h/--help takes no value");
}

static void test_config_args_bad_file_is_reported(void **state)
{
    char *a1[] = {"llhls-origin", "-c", "/nonexistent/x.yaml"};
    expect_args_error(ARGC(a1), a1, "/nonexistent/x.yaml: cannot open: No such file or directory");
    char path[256];
    write_temp("hls:\n  window: [1, 2]\n", path, sizeof(path));
    char *a2[] = {"llhls-origin", "-c", path};
    char want[400];
    snprintf(want, sizeof(want), "%s:2: hls.window: expected a duration like 2 or 0.5s, got a sequence", path);
    expect_args_error(ARGC(a2), a2, want);
    unlink(path);
    char *a3[] = {"llhls-origin", "-c", "a.yaml", "-c", "b.yaml"};
    expect_args_error(ARGC(a3), a3, "-c/--config given twice");
}

/* Runs parse_args with stdout sent to a file and returns what was printed. */
static int args_capturing_stdout(int argc, char **argv, char *out, size_t outlen)
{
    char path[256];
    write_temp("", path, sizeof(path));
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    assert_true(saved >= 0);
    assert_non_null(freopen(path, "w", stdout));
    llhls_config_t c;
    int r = args(&c, argc, argv);
    fflush(stdout);
    assert_true(dup2(saved, STDOUT_FILENO) >= 0);
    close(saved);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(out, 1, outlen - 1, f);
    out[n] = '\0';
    fclose(f);
    unlink(path);
    return r;
}

static void test_config_args_help_and_version_print_and_return_one(void **state)
{
    char out[4096];
    /* --help wins even over a config file that does not exist. */
    char *a1[] = {"llhls-origin", "-c", "/nonexistent/x.yaml", "--help"};
    assert_int_equal(args_capturing_stdout(ARGC(a1), a1, out, sizeof(out)), 1);
    assert_non_null(strstr(out, "Usage: llhls-origin [OPTION]...\n"));
    char *a2[] = {"llhls-origin", "-V"};
    assert_int_equal(args_capturing_stdout(ARGC(a2), a2, out, sizeof(out)), 1);
    assert_string_equal(out, "llhls-origin " PACKAGE_VERSION "\n");
    char *a3[] = {"llhls-origin", "--version"};
    assert_int_equal(args_capturing_stdout(ARGC(a3), a3, out, sizeof(out)), 1);
    assert_string_equal(out, "llhls-origin " PACKAGE_VERSION "\n");
}

static void test_config_usage_lists_every_flag_with_default(void **state)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    llhls_config_usage(f, "llhls-origin");
    fclose(f);
    static const char *want[] = {
        "Usage: llhls-origin [OPTION]...",
        "-c, --config FILE",
        "--rtmp ADDR:PORT        RTMP listen address (default 0.0.0.0:1935)",
        "--http ADDR:PORT        HTTP listen address (default 0.0.0.0:8080)",
        "--data DIR              store directory (default ./llhls-data)",
        "--store-size SIZE       largest size of the store (default 4GiB)",
        "--segment-duration S    segment target duration (default 2 s)",
        "--part-duration S       part target duration (default 0.33334 s)",
        "--window S              playlist window, up to 24h (default 60 s)",
        "--record[=BOOL]         keep every segment of a stream",
        "(default false)",
        "reconnect before it ends (default 10 s)",
        "--http-threads N        HTTP worker threads (default 2)",
        "--log-level LEVEL       error, warn, info or debug (default info)",
        "-h, --help",
        "-V, --version",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        if (!strstr(text, want[i]))
            fail_msg("usage lacks '%s':\n%s", want[i], text);
    free(text);
}

/* ---- parse helpers ---- */

static void test_config_parse_size_units(void **state)
{
    static const struct {
        const char *s;
        uint64_t v;
    } ok[] = {
        {"1048576", 1048576},   {"0", 0},
        {"512B", 512},          {"4GiB", 4 * GiB},
        {"512MiB", 512 * MiB},  {"64KiB", 65536},
        {"100MB", 100000000},   {"2KB", 2000},
        {"3GB", 3000000000ull}, {"1TiB", 1024 * GiB},
        {"1.5GiB", 1610612736}, {"4 GiB", 4 * GiB},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        uint64_t v = 0;
        if (llhls_config_parse_size(ok[i].s, &v) != 0 || v != ok[i].v)
            fail_msg("'%s' gave %llu", ok[i].s, (unsigned long long)v);
    }
    static const char *bad[] = {
        "", "GiB", "4gib", "4 G", "-1", "1.5B", "1.5", "4GiBs", "99999999999999999999", "20000000TiB", "0x10", "1,000"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t v = 0;
        if (llhls_config_parse_size(bad[i], &v) != -LLHLS_EINVAL)
            fail_msg("'%s' was accepted as %llu", bad[i], (unsigned long long)v);
    }
}

static void test_config_parse_duration_forms(void **state)
{
    static const struct {
        const char *s;
        uint64_t us;
    } ok[] = {
        {"2", 2000000}, {"0.33334", 333340}, {"1.5s", 1500000}, {"500ms", 500000},  {".5", 500000},   {"3.", 3000000},
        {"0", 0},       {"0.1s", 100000},    {"2.5ms", 2500},   {"10 s", 10000000}, {"0.0000015", 1},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        uint64_t us = 0;
        if (llhls_config_parse_duration(ok[i].s, &us) != 0 || us != ok[i].us)
            fail_msg("'%s' gave %llu", ok[i].s, (unsigned long long)us);
    }
    static const char *bad[] = {"", "fast", "s", "-1", "1m", "2 sec", "1e3", "1.2.3", "5us", "99999999999999999999s"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t us = 0;
        if (llhls_config_parse_duration(bad[i], &us) != -LLHLS_EINVAL)
            fail_msg("'%s' was accepted as %llu", bad[i], (unsigned long long)us);
    }
}

static void test_config_parse_listen_forms(void **state)
{
    static const struct {
        const char *s, *addr;
        int port;
    } ok[] = {
        {"0.0.0.0:1935", "0.0.0.0", 1935}, {"127.0.0.1:0", "127.0.0.1", 0}, {":8080", "0.0.0.0", 8080},
        {"[::1]:80", "::1", 80},           {"[::]:65535", "::", 65535},     {"[fe80::1:2]:443", "fe80::1:2", 443},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        char addr[LLHLS_ADDR_MAX] = "";
        int port = -1;
        if (llhls_config_parse_listen(ok[i].s, addr, sizeof(addr), &port) != 0)
            fail_msg("'%s' was refused", ok[i].s);
        assert_string_equal(addr, ok[i].addr);
        assert_int_equal(port, ok[i].port);
    }
    static const char *bad[] = {
        "",        "1935",   "0.0.0.0", "0.0.0.0:",     "0.0.0.0:65536", "0.0.0.0:-1", "0.0.0.0:80a",    "::1:80",
        "[::1]80", "[::1]:", "[]:80",   "[1.2.3.4]:80", "localhost:80",  "1.2.3:80",   "0.0.0.0:000080", "[::1:80"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char addr[LLHLS_ADDR_MAX];
        int port;
        if (llhls_config_parse_listen(bad[i], addr, sizeof(addr), &port) != -LLHLS_EINVAL)
            fail_msg("'%s' was accepted", bad[i]);
    }
    /* The address must fit the caller's buffer. */
    char small[4];
    int port;
    assert_int_equal(llhls_config_parse_listen("10.0.0.1:80", small, sizeof(small), &port), -LLHLS_EINVAL);
}

static void test_config_admin_credentials(void **state)
{
    (void)state;
    llhls_config_t c;
    llhls_config_default(&c);
    assert_string_equal(c.admin_token, "");
    assert_string_equal(c.admin_user, "");
    assert_int_equal(load(&c, "admin:\n  token: 0123456789abcdef-xyz\n  user: ops\n  password: s3cret-pass\n"), 0);
    assert_string_equal(c.admin_token, "0123456789abcdef-xyz");
    assert_string_equal(c.admin_user, "ops");
    assert_string_equal(c.admin_password, "s3cret-pass");
    char *argv[] = {"llhls-origin", "--admin-token", "fedcba9876543210", NULL};
    assert_int_equal(args(&c, 3, argv), 0);
    assert_string_equal(c.admin_token, "fedcba9876543210");
}

static void test_config_rejects_bad_admin_credentials(void **state)
{
    (void)state;
    expect_yaml_error("admin:\n  token: short\n", "test.yaml:2: admin.token: expected 16 to 255 characters, got 5");
    expect_yaml_error("admin:\n  token: \"0123456789 abcdef\"\n",
                      "test.yaml:2: admin.token: expected printable characters without spaces");
    expect_yaml_error("admin:\n  user: \"a:b\"\n  password: longenough\n", "admin.user: expected printable characters "
                                                                         "without spaces and no ':'");
    expect_yaml_error("admin:\n  user: ops\n", "admin.user and admin.password go together");
    expect_yaml_error("admin:\n  password: longenough\n", "admin.user and admin.password go together");
    expect_yaml_error("admin:\n  secret: x\n", "admin.secret");
    char *argv[] = {"llhls-origin", "--admin-token", "abc", NULL};
    expect_args_error(3, argv, "--admin-token: expected 16 to 255 characters, got 3");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_admin_credentials),
        cmocka_unit_test(test_config_rejects_bad_admin_credentials),
        cmocka_unit_test(test_config_embedded_default_has_documented_values),
        cmocka_unit_test(test_config_example_file_matches_embedded_default),
        cmocka_unit_test(test_config_yaml_overrides_only_given_keys),
        cmocka_unit_test(test_config_accepts_empty_document_and_empty_section),
        cmocka_unit_test(test_config_rejects_unknown_key_with_line),
        cmocka_unit_test(test_config_rejects_unknown_section),
        cmocka_unit_test(test_config_rejects_bad_duration_with_line),
        cmocka_unit_test(test_config_rejects_sequence_where_scalar_expected),
        cmocka_unit_test(test_config_unquoted_ipv6_listen_hints_at_quotes),
        cmocka_unit_test(test_config_rejects_section_that_is_not_a_mapping),
        cmocka_unit_test(test_config_rejects_bad_size),
        cmocka_unit_test(test_config_rejects_bad_listen),
        cmocka_unit_test(test_config_rejects_counts_out_of_bounds),
        cmocka_unit_test(test_config_rejects_bad_log_level),
        cmocka_unit_test(test_config_rejects_empty_path),
        cmocka_unit_test(test_config_rejects_part_over_half_segment),
        cmocka_unit_test(test_config_rejects_part_too_short_and_segment_too_long),
        cmocka_unit_test(test_config_rejects_window_under_three_segments),
        cmocka_unit_test(test_config_rejects_duplicate_key_and_section),
        cmocka_unit_test(test_config_reports_yaml_syntax_error_with_line),
        cmocka_unit_test(test_config_rejects_second_document),
        cmocka_unit_test(test_config_load_file_reports_missing_file),
        cmocka_unit_test(test_config_load_file_names_file_in_errors),
        cmocka_unit_test(test_config_args_none_keeps_defaults),
        cmocka_unit_test(test_config_args_each_flag),
        cmocka_unit_test(test_config_args_accept_equals_form),
        cmocka_unit_test(test_config_args_file_is_loaded_first_and_flags_override),
        cmocka_unit_test(test_config_args_flags_can_repair_file_rules),
        cmocka_unit_test(test_config_args_rules_apply_after_flags),
        cmocka_unit_test(test_config_args_rule_names_last_change),
        cmocka_unit_test(test_config_args_bad_value_names_flag),
        cmocka_unit_test(test_config_args_unknown_or_incomplete_flag),
        cmocka_unit_test(test_config_args_bad_file_is_reported),
        cmocka_unit_test(test_config_args_help_and_version_print_and_return_one),
        cmocka_unit_test(test_config_usage_lists_every_flag_with_default),
        cmocka_unit_test(test_config_window_takes_hours_up_to_a_day),
        cmocka_unit_test(test_config_record_defaults_off_and_reads_booleans),
        cmocka_unit_test(test_config_record_flag_bare_or_with_value),
        cmocka_unit_test(test_config_parse_size_units),
        cmocka_unit_test(test_config_parse_duration_forms),
        cmocka_unit_test(test_config_parse_listen_forms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
