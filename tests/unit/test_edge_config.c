/* Tests of llhls-edge's configuration: the embedded default, the shipped
 * example file, YAML files with their lists of listeners and origins, the
 * command line, the messages users see when something is wrong, and the
 * reload rule that a bad file leaves the running configuration untouched. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "edge_config.h"
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
    snprintf(path, len, "%s/llhls-edge-config-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t n = strlen(text);
    assert_int_equal(write(fd, text, n), (ssize_t)n);
    close(fd);
}

static int load(llhls_edge_config_t *c, const char *yaml)
{
    llhls_edge_config_default(c);
    err[0] = '\0';
    return llhls_edge_config_load_string(c, yaml, strlen(yaml), "edge.yaml", err, sizeof(err));
}

/* Loads yaml, expects failure and exactly the message want. */
static void expect_yaml_error(const char *yaml, const char *want)
{
    llhls_edge_config_t c;
    int r = load(&c, yaml);
    if (r != -LLHLS_ECONFIG || strcmp(err, want) != 0)
        fail_msg("yaml:\n%s\nreturned %d, message\n  '%s'\nwanted\n  '%s'", yaml, r, err, want);
}

/* The same, when only the start of the message matters. */
static void expect_yaml_error_prefix(const char *yaml, const char *want)
{
    llhls_edge_config_t c;
    int r = load(&c, yaml);
    if (r != -LLHLS_ECONFIG || strncmp(err, want, strlen(want)) != 0)
        fail_msg("yaml:\n%s\nreturned %d, message\n  '%s'\nwanted it to start with\n  '%s'", yaml, r, err, want);
}

static int args(llhls_edge_config_t *c, int argc, char **argv, const char **path)
{
    llhls_edge_config_default(c);
    err[0] = '\0';
    return llhls_edge_config_parse_args(c, argc, argv, path, err, sizeof(err));
}

static void expect_args_error(int argc, char **argv, const char *want)
{
    llhls_edge_config_t c;
    const char *path;
    int r = args(&c, argc, argv, &path);
    if (r != -LLHLS_ECONFIG || strcmp(err, want) != 0)
        fail_msg("returned %d, message\n  '%s'\nwanted\n  '%s'", r, err, want);
}

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])))

static void assert_documented_defaults(const llhls_edge_config_t *c)
{
    assert_int_equal(c->nlisteners, 1);
    assert_string_equal(c->listeners[0].addr, "0.0.0.0");
    assert_int_equal(c->listeners[0].port, 8081);
    assert_int_equal(c->listeners[0].tls, 0);
    assert_string_equal(c->listeners[0].cert, "");
    assert_string_equal(c->listeners[0].key, "");
    assert_int_equal(c->norigins, 1);
    assert_string_equal(c->origins[0].url, "http://127.0.0.1:8080");
    assert_string_equal(c->origins[0].host, "127.0.0.1");
    assert_int_equal(c->origins[0].port, 8080);
    assert_int_equal(c->threads, 2);
    assert_true(c->cache_size == 1 * GiB);
    assert_int_equal(c->upstream_connect_timeout_ms, 2000);
    assert_int_equal(c->upstream_timeout_ms, 10000);
    assert_int_equal(c->client_idle_timeout_ms, 30000);
    assert_int_equal(c->client_send_timeout_ms, 20000);
    assert_int_equal(c->tls_handshake_timeout_ms, 10000);
    assert_int_equal(c->probe_interval_ms, 2000);
    assert_int_equal(c->max_connections, 20000);
    assert_int_equal(c->max_held, 50000);
    assert_int_equal(c->max_held_per_connection, 64);
    assert_int_equal(c->max_header_size, 32 * 1024);
    assert_int_equal(c->log_level, LLHLS_LOG_INFO);
    assert_string_equal(c->access_log, "");
    assert_string_equal(c->report_url, "");
    assert_int_equal(c->report_interval_ms, 2000);
}

/* ---- defaults and the example file ---- */

static void test_edge_config_embedded_default_has_documented_values(void **state)
{
    llhls_edge_config_t c;
    memset(&c, 0, sizeof(c));
    /* Parsed on a zeroed struct, so every key must be present in the text. */
    assert_int_equal(llhls_edge_config_load_string(&c, llhls_edge_config_embedded, strlen(llhls_edge_config_embedded),
                                                   "embedded", err, sizeof(err)),
                     0);
    assert_documented_defaults(&c);
    llhls_edge_config_t d;
    llhls_edge_config_default(&d);
    assert_documented_defaults(&d);
    /* The host name is the one default that is not in the text. */
    assert_true(d.report_id[0] != 0);
    memcpy(c.report_id, d.report_id, sizeof(c.report_id));
    assert_memory_equal(&c, &d, sizeof(d));
}

static void test_edge_config_example_file_matches_embedded_default(void **state)
{
    const char *top = getenv("top_srcdir");
    char path[1024];
    snprintf(path, sizeof(path), "%s/conf/llhls-edge.yaml", top && *top ? top : ".");
    llhls_edge_config_t from_file, def;
    memset(&from_file, 0, sizeof(from_file));
    int r = llhls_edge_config_load_file(&from_file, path, err, sizeof(err));
    if (r != 0)
        fail_msg("%s: %s", path, err);
    llhls_edge_config_default(&def);
    assert_documented_defaults(&from_file);
    memcpy(from_file.report_id, def.report_id, sizeof(def.report_id));
    /* Both start zeroed, so equal bytes mean every key is in the file. */
    assert_memory_equal(&from_file, &def, sizeof(def));
}

static void test_edge_config_yaml_sets_every_key(void **state)
{
    llhls_edge_config_t c;
    int r = load(&c, "listen:\n"
                     "  - address: 127.0.0.1:0\n"
                     "origins:\n"
                     "  - http://origin.example:8000/\n"
                     "threads: 8\n"
                     "cache:\n"
                     "  size: 256MiB\n"
                     "timeouts:\n"
                     "  upstream_connect: 500ms\n"
                     "  upstream_response: 4.5\n"
                     "  client_idle: 90s\n"
                     "  tls_handshake: 30s\n"
                     "  origin_probe: 0.25s\n"
                     "limits:\n"
                     "  max_connections: 100\n"
                     "  max_held: 300\n"
                     "  max_held_per_connection: 300\n"
                     "  max_header_size: 8KiB\n"
                     "log:\n"
                     "  level: debug\n"
                     "  access: /var/log/llhls/access.log\n");
    if (r != 0)
        fail_msg("%s", err);
    assert_int_equal(c.nlisteners, 1);
    assert_string_equal(c.listeners[0].addr, "127.0.0.1");
    assert_int_equal(c.listeners[0].port, 0);
    assert_int_equal(c.norigins, 1);
    assert_string_equal(c.origins[0].url, "http://origin.example:8000");
    assert_string_equal(c.origins[0].host, "origin.example");
    assert_int_equal(c.origins[0].port, 8000);
    assert_int_equal(c.threads, 8);
    assert_true(c.cache_size == 256 * MiB);
    assert_int_equal(c.upstream_connect_timeout_ms, 500);
    assert_int_equal(c.upstream_timeout_ms, 4500);
    assert_int_equal(c.client_idle_timeout_ms, 90000);
    assert_int_equal(c.tls_handshake_timeout_ms, 30000);
    assert_int_equal(c.probe_interval_ms, 250);
    assert_int_equal(c.max_connections, 100);
    assert_int_equal(c.max_held, 300);
    assert_int_equal(c.max_held_per_connection, 300);
    assert_int_equal(c.max_header_size, 8 * 1024);
    assert_int_equal(c.log_level, LLHLS_LOG_DEBUG);
    assert_string_equal(c.access_log, "/var/log/llhls/access.log");
}

static void test_edge_config_yaml_overrides_only_given_keys(void **state)
{
    llhls_edge_config_t c;
    assert_int_equal(load(&c, "limits:\n  max_connections: 7\nlog:\n  access: \"-\"\n"), 0);
    assert_int_equal(c.max_connections, 7);
    assert_string_equal(c.access_log, "-");
    /* The lists and every other key keep the default. */
    c.max_connections = 20000;
    c.access_log[0] = '\0';
    assert_documented_defaults(&c);
}

static void test_edge_config_accepts_empty_document_and_empty_section(void **state)
{
    llhls_edge_config_t c;
    assert_int_equal(load(&c, ""), 0);
    assert_documented_defaults(&c);
    assert_int_equal(load(&c, "# nothing but a comment\n"), 0);
    assert_documented_defaults(&c);
    assert_int_equal(load(&c, "timeouts:\n  # client_idle: 5s\nlog:\n  level: warn\n"), 0);
    assert_int_equal(c.log_level, LLHLS_LOG_WARN);
    assert_int_equal(c.client_idle_timeout_ms, 30000);
    /* An access key with nothing after it turns the access log off. */
    assert_int_equal(load(&c, "log:\n  access: /tmp/a.log\n"), 0);
    assert_int_equal(llhls_edge_config_load_string(&c, "log:\n  access:\n", 15, "x", err, sizeof(err)), 0);
    assert_string_equal(c.access_log, "");
}

/* ---- lists ---- */

static void test_edge_config_listen_list_replaces_default_in_order(void **state)
{
    llhls_edge_config_t c;
    int r = load(&c, "listen:\n"
                     "  - address: 0.0.0.0:80\n"
                     "  - address: \"[::]:8443\"\n"
                     "    tls:\n"
                     "      certificate: /etc/llhls/edge.crt\n"
                     "      key: /etc/llhls/edge.key\n"
                     "  - tls: {key: k.pem, certificate: c.pem}\n"
                     "    address: 10.0.0.1:443\n"
                     "  - address: :0\n"
                     "  - address: 127.0.0.1:0\n");
    if (r != 0)
        fail_msg("%s", err);
    assert_int_equal(c.nlisteners, 5);
    assert_string_equal(c.listeners[0].addr, "0.0.0.0");
    assert_int_equal(c.listeners[0].port, 80);
    assert_int_equal(c.listeners[0].tls, 0);
    assert_string_equal(c.listeners[1].addr, "::");
    assert_int_equal(c.listeners[1].port, 8443);
    assert_int_equal(c.listeners[1].tls, 1);
    assert_string_equal(c.listeners[1].cert, "/etc/llhls/edge.crt");
    assert_string_equal(c.listeners[1].key, "/etc/llhls/edge.key");
    assert_string_equal(c.listeners[2].addr, "10.0.0.1");
    assert_int_equal(c.listeners[2].port, 443);
    assert_int_equal(c.listeners[2].tls, 1);
    assert_string_equal(c.listeners[2].cert, "c.pem");
    assert_string_equal(c.listeners[2].key, "k.pem");
    assert_string_equal(c.listeners[3].addr, "0.0.0.0");
    assert_int_equal(c.listeners[3].port, 0);
    assert_int_equal(c.listeners[4].port, 0);
    /* The origins were not listed, so they keep the default. */
    assert_int_equal(c.norigins, 1);
    assert_int_equal(c.origins[0].port, 8080);
}

static void test_edge_config_shorter_list_clears_old_entries(void **state)
{
    llhls_edge_config_t c;
    assert_int_equal(load(&c, "listen:\n  - address: :1\n    tls: {certificate: a, key: b}\n  - address: :2\n"
                              "origins: [http://a, http://b, http://c]\n"),
                     0);
    assert_int_equal(c.norigins, 3);
    const char *again = "listen:\n  - address: :3\norigins:\n  - http://d\n";
    assert_int_equal(llhls_edge_config_load_string(&c, again, strlen(again), "x", err, sizeof(err)), 0);
    assert_int_equal(c.nlisteners, 1);
    assert_int_equal(c.listeners[0].port, 3);
    assert_int_equal(c.listeners[0].tls, 0);
    assert_string_equal(c.listeners[0].cert, "");
    assert_int_equal(c.norigins, 1);
    assert_string_equal(c.origins[0].host, "d");
    /* Nothing of the longer lists is left behind the new end. */
    static const llhls_edge_listener_t zl;
    static const llhls_edge_origin_t zo;
    assert_memory_equal(&c.listeners[1], &zl, sizeof(zl));
    assert_memory_equal(&c.origins[1], &zo, sizeof(zo));
}

static void test_edge_config_origins_list_in_order(void **state)
{
    llhls_edge_config_t c;
    int r = load(&c, "origins:\n"
                     "  - http://10.0.0.1:8080\n"
                     "  - http://origin-b.example\n"
                     "  - HTTP://[::1]:9000/\n"
                     "  - http://10.0.0.1:8081\n");
    if (r != 0)
        fail_msg("%s", err);
    assert_int_equal(c.norigins, 4);
    assert_string_equal(c.origins[0].url, "http://10.0.0.1:8080");
    assert_string_equal(c.origins[0].host, "10.0.0.1");
    assert_int_equal(c.origins[0].port, 8080);
    assert_string_equal(c.origins[1].url, "http://origin-b.example");
    assert_string_equal(c.origins[1].host, "origin-b.example");
    assert_int_equal(c.origins[1].port, 80);
    assert_string_equal(c.origins[2].url, "HTTP://[::1]:9000");
    assert_string_equal(c.origins[2].host, "::1");
    assert_int_equal(c.origins[2].port, 9000);
    assert_int_equal(c.origins[3].port, 8081);
    assert_int_equal(c.nlisteners, 1);
}

static void test_edge_config_accepts_eight_of_each_and_refuses_nine(void **state)
{
    char yaml[2048];
    size_t n = (size_t)snprintf(yaml, sizeof(yaml), "listen:\n");
    for (int i = 0; i < 8; i++)
        n += (size_t)snprintf(yaml + n, sizeof(yaml) - n, "  - address: :%d\n", 9000 + i);
    n += (size_t)snprintf(yaml + n, sizeof(yaml) - n, "origins:\n");
    for (int i = 0; i < 8; i++)
        n += (size_t)snprintf(yaml + n, sizeof(yaml) - n, "  - http://o%d\n", i);
    llhls_edge_config_t c;
    if (load(&c, yaml) != 0)
        fail_msg("%s", err);
    assert_int_equal(c.nlisteners, 8);
    assert_int_equal(c.listeners[7].port, 9007);
    assert_int_equal(c.norigins, 8);
    assert_string_equal(c.origins[7].host, "o7");

    char more[2100];
    snprintf(more, sizeof(more), "%s  - http://o8\n", yaml);
    expect_yaml_error(more, "edge.yaml:19: origins[8]: at most 8 origins are allowed");
    snprintf(more, sizeof(more), "listen:\n");
    for (int i = 0; i < 9; i++)
        snprintf(more + strlen(more), sizeof(more) - strlen(more), "  - address: :%d\n", 9000 + i);
    expect_yaml_error(more, "edge.yaml:10: listen[8]: at most 8 listeners are allowed");
}

static void test_edge_config_origin_parse_forms(void **state)
{
    static const struct {
        const char *s, *url, *host;
        int port;
    } ok[] = {
        {"http://127.0.0.1:8080", "http://127.0.0.1:8080", "127.0.0.1", 8080},
        {"http://127.0.0.1:8080/", "http://127.0.0.1:8080", "127.0.0.1", 8080},
        {"http://origin", "http://origin", "origin", 80},
        {"http://origin/", "http://origin", "origin", 80},
        {"http://a-b.c_d.example:65535", "http://a-b.c_d.example:65535", "a-b.c_d.example", 65535},
        {"http://[::1]", "http://[::1]", "::1", 80},
        {"http://[fe80::1:2]:1/", "http://[fe80::1:2]:1", "fe80::1:2", 1},
        {"Http://X:1", "Http://X:1", "X", 1},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        llhls_edge_origin_t o;
        memset(&o, 0xaa, sizeof(o));
        if (llhls_edge_origin_parse(ok[i].s, &o) != 0)
            fail_msg("'%s' was refused", ok[i].s);
        assert_string_equal(o.url, ok[i].url);
        assert_string_equal(o.host, ok[i].host);
        assert_int_equal(o.port, ok[i].port);
    }
    static const char *bad[] = {
        "",
        "127.0.0.1:8080",
        "https://origin",
        "ftp://origin",
        "http:/origin",
        "http://",
        "http:///",
        "http://:8080",
        "http://origin:",
        "http://origin:0",
        "http://origin:65536",
        "http://origin:000080",
        "http://origin:80a",
        "http://origin/live",
        "http://origin//",
        "http://origin?x=1",
        "http://origin#f",
        "http://user@origin",
        "http://orig in",
        "http://[::1",
        "http://[nope]:80",
        "http://[::1]x",
        "http://::1:80",
        "http://a:1:2",
        "http://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        llhls_edge_origin_t o;
        memset(&o, 0, sizeof(o));
        if (llhls_edge_origin_parse(bad[i], &o) != -LLHLS_EINVAL)
            fail_msg("'%s' was accepted as host '%s' port %d", bad[i], o.host, o.port);
        /* A refused URL leaves o as it was. */
        assert_int_equal(o.port, 0);
    }
    char longurl[LLHLS_URL_MAX + 8];
    memset(longurl, 'a', sizeof(longurl) - 1);
    longurl[sizeof(longurl) - 1] = '\0';
    memcpy(longurl, "http://", 7);
    llhls_edge_origin_t o;
    assert_int_equal(llhls_edge_origin_parse(longurl, &o), -LLHLS_EINVAL);
    assert_int_equal(llhls_edge_origin_parse(NULL, &o), -LLHLS_EINVAL);
}

/* ---- YAML errors: each names the file, the line and the key ---- */

static void test_edge_config_rejects_unknown_keys_everywhere(void **state)
{
    expect_yaml_error("threads: 2\nthread: 4\n",
                      "edge.yaml:2: thread: unknown key (expected listen, origins, threads, cache, timeouts, limits, "
                      "log or report)");
    expect_yaml_error("timeouts:\n  client_idle: 5s\n  idle: 5s\n",
                      "edge.yaml:3: timeouts.idle: unknown key (timeouts has upstream_connect, upstream_response, "
                      "client_idle, client_send, tls_handshake, origin_probe)");
    expect_yaml_error("cache:\n  max: 1GiB\n", "edge.yaml:2: cache.max: unknown key (cache has size)");
    expect_yaml_error("log:\n  file: x\n", "edge.yaml:2: log.file: unknown key (log has level, access)");
    expect_yaml_error("limits:\n  max_held_per_conn: 2\n",
                      "edge.yaml:2: limits.max_held_per_conn: unknown key (limits has max_connections, max_held, "
                      "max_held_per_connection, max_header_size)");
    expect_yaml_error("listen:\n  - address: :80\n  - adress: :81\n",
                      "edge.yaml:3: listen[1].adress: unknown key (a listener has address, tls)");
    expect_yaml_error("listen:\n  - address: :443\n    tls:\n      cert: a.pem\n      key: b.pem\n",
                      "edge.yaml:4: listen[0].tls.cert: unknown key (tls has certificate, key)");
}

static void test_edge_config_rejects_bad_origin_urls(void **state)
{
    expect_yaml_error("origins:\n  - http://a:8080\n  - https://b:8443\n",
                      "edge.yaml:3: origins[1]: https:// is not supported (origins are reached over plain HTTP), got "
                      "'https://b:8443'");
    expect_yaml_error("origins:\n  - 127.0.0.1:8080\n",
                      "edge.yaml:2: origins[0]: expected a URL like http://127.0.0.1:8080, got '127.0.0.1:8080'");
    expect_yaml_error("origins:\n  - http://a:8080/live\n",
                      "edge.yaml:2: origins[0]: only http://HOST[:PORT] is allowed, without a path, got "
                      "'http://a:8080/live'");
    expect_yaml_error("origins:\n  - http://:8080\n",
                      "edge.yaml:2: origins[0]: the host is missing, got 'http://:8080'");
    expect_yaml_error("origins:\n  - http://a:0\n", "edge.yaml:2: origins[0]: the port must be 1 to 65535, got "
                                                    "'http://a:0'");
    expect_yaml_error("origins:\n  - http://u:p@a\n",
                      "edge.yaml:2: origins[0]: user information is not allowed, got 'http://u:p@a'");
    expect_yaml_error("origins:\n  - \"http://a b\"\n",
                      "edge.yaml:2: origins[0]: the host may hold only letters, digits, '-', '.' and '_', got "
                      "'http://a b'");
    expect_yaml_error("origins:\n  - http://[::1\n",
                      "edge.yaml:2: origins[0]: an IPv6 address needs its closing ']', got 'http://[::1'");
    expect_yaml_error("origins:\n  - \"\"\n",
                      "edge.yaml:2: origins[0]: expected a URL like http://127.0.0.1:8080, got nothing");
    expect_yaml_error("origins:\n  - http://a:8080\n  - http://A:8080/\n",
                      "edge.yaml:3: origins[1]: the same origin as origins[0]");
}

static void test_edge_config_rejects_incomplete_tls(void **state)
{
    expect_yaml_error("listen:\n  - address: :443\n    tls:\n      certificate: /etc/edge.crt\n",
                      "edge.yaml:4: listen[0].tls.key: missing (tls needs both certificate and key)");
    expect_yaml_error("listen:\n  - address: :80\n  - address: :443\n    tls:\n      key: /etc/edge.key\n",
                      "edge.yaml:5: listen[1].tls.certificate: missing (tls needs both certificate and key)");
    expect_yaml_error("listen:\n  - address: :443\n    tls:\n",
                      "edge.yaml:3: listen[0].tls: expected a mapping with certificate and key, got nothing");
    expect_yaml_error("listen:\n  - address: :443\n    tls: yes\n",
                      "edge.yaml:3: listen[0].tls: expected a mapping with certificate and key, got a scalar");
    expect_yaml_error("listen:\n  - address: :443\n    tls:\n      certificate: \"\"\n      key: k\n",
                      "edge.yaml:4: listen[0].tls.certificate: expected a file path, got nothing");
    expect_yaml_error("listen:\n  - address: :443\n    tls:\n      certificate: [a, b]\n      key: k\n",
                      "edge.yaml:4: listen[0].tls.certificate: expected a file path, got a sequence");
    expect_yaml_error("listen:\n  - address: :443\n    tls:\n      key: a\n      key: b\n",
                      "edge.yaml:5: listen[0].tls.key: given twice (first on line 4)");
}

static void test_edge_config_rejects_empty_lists(void **state)
{
    expect_yaml_error("listen: []\n", "edge.yaml:1: listen: at least one listener is needed");
    expect_yaml_error("threads: 2\nlisten:\n", "edge.yaml:2: listen: at least one listener is needed");
    expect_yaml_error("origins: []\n", "edge.yaml:1: origins: at least one origin is needed");
    expect_yaml_error("origins:\n  # - http://a\nthreads: 2\n", "edge.yaml:1: origins: at least one origin is needed");
}

static void test_edge_config_rejects_wrong_types(void **state)
{
    expect_yaml_error("listen: 0.0.0.0:8081\n",
                      "edge.yaml:1: listen: expected a sequence of listeners ('- address: ADDR:PORT'), got a scalar");
    expect_yaml_error("listen:\n  - 0.0.0.0:8081\n",
                      "edge.yaml:2: listen[0]: expected a mapping with address and optionally tls, got a scalar "
                      "(write '- address: ADDR:PORT')");
    expect_yaml_error("listen:\n  - [a]\n",
                      "edge.yaml:2: listen[0]: expected a mapping with address and optionally tls, got a sequence");
    expect_yaml_error("origins:\n  url: http://a\n",
                      "edge.yaml:2: origins: expected a sequence of URLs ('- http://127.0.0.1:8080'), got a mapping");
    expect_yaml_error("origins:\n  - {url: http://a}\n",
                      "edge.yaml:2: origins[0]: expected a URL like http://127.0.0.1:8080, got a mapping");
    expect_yaml_error("threads:\n  - 1\n  - 2\n", "edge.yaml:2: threads: expected a whole number, got a sequence");
    expect_yaml_error("cache: 1GiB\n", "edge.yaml:1: cache: expected a mapping of keys, got a scalar");
    expect_yaml_error("log:\n  level: [info]\n",
                      "edge.yaml:2: log.level: expected one of error, warn, info, debug, got a sequence");
    expect_yaml_error("listen:\n  - address: {a: 1}\n",
                      "edge.yaml:2: listen[0].address: expected ADDR:PORT with a numeric address, like 0.0.0.0:8081 "
                      "or [::1]:8443, got a mapping");
    expect_yaml_error("- listen\n", "edge.yaml:1: expected a mapping of keys (listen, origins, threads, ...), got a "
                                    "sequence");
    expect_yaml_error("? [a]\n: b\n", "edge.yaml:1: expected a key name, got a sequence");
}

static void test_edge_config_rejects_bad_listen_addresses(void **state)
{
    expect_yaml_error("listen:\n  - address: 0.0.0.0:70000\n",
                      "edge.yaml:2: listen[0].address: expected ADDR:PORT with a numeric address, like 0.0.0.0:8081 "
                      "or [::1]:8443, got '0.0.0.0:70000'");
    expect_yaml_error_prefix("listen:\n  - address: :80\n  - address: localhost:81\n",
                             "edge.yaml:3: listen[1].address: expected ADDR:PORT");
    expect_yaml_error("listen:\n  - tls: {certificate: a, key: b}\n",
                      "edge.yaml:2: listen[0].address: missing (every listener needs one)");
    expect_yaml_error("listen:\n  - address: 0.0.0.0:80\n  - address: :80\n",
                      "edge.yaml:3: listen[1].address: :80 is already listen[0]");
    expect_yaml_error("listen:\n  - address: :80\n    address: :81\n",
                      "edge.yaml:3: listen[0].address: given twice (first on line 2)");
    expect_yaml_error("listen:\n  - address: [::1]:8443\n",
                      "edge.yaml:2: YAML syntax error: did not find expected node content (while parsing a flow "
                      "node from line 2) (an IPv6 address needs quotes: \"[::1]:8443\")");
}

static void test_edge_config_rejects_values_out_of_bounds(void **state)
{
    expect_yaml_error("threads: 65\n", "edge.yaml:1: threads: expected a whole number from 1 to 64, got '65'");
    expect_yaml_error("threads: 0\n", "edge.yaml:1: threads: expected a whole number from 1 to 64, got '0'");
    expect_yaml_error("cache:\n  size: 512KiB\n",
                      "edge.yaml:2: cache.size: expected a size from 1MiB to 1TiB, got '512KiB'");
    expect_yaml_error("limits:\n  max_header_size: 1MiB\n",
                      "edge.yaml:2: limits.max_header_size: expected a size from 1KiB to 256KiB, got '1MiB'");
    expect_yaml_error("cache:\n  size: lots\n",
                      "edge.yaml:2: cache.size: expected a size like 1GiB, 512MiB or 100MB, got 'lots'");
    expect_yaml_error("timeouts:\n  upstream_connect: 50ms\n",
                      "edge.yaml:2: timeouts.upstream_connect: expected a duration from 0.1 s to 60 s, got '50ms'");
    expect_yaml_error("timeouts:\n  upstream_response: 601\n",
                      "edge.yaml:2: timeouts.upstream_response: expected a duration from 0.1 s to 600 s, got '601'");
    expect_yaml_error("timeouts:\n  tls_handshake: 500ms\n",
                      "edge.yaml:2: timeouts.tls_handshake: expected a duration from 1 s to 600 s, got '500ms'");
    expect_yaml_error("timeouts:\n  client_idle: 0.5s\n",
                      "edge.yaml:2: timeouts.client_idle: expected a duration from 1 s to 3600 s, got '0.5s'");
    expect_yaml_error("timeouts:\n  origin_probe: soon\n",
                      "edge.yaml:2: timeouts.origin_probe: expected a duration like 2 or 0.5s, got 'soon'");
    expect_yaml_error("limits:\n  max_connections: 1000001\n",
                      "edge.yaml:2: limits.max_connections: expected a whole number from 1 to 1000000, got '1000001'");
    expect_yaml_error("limits:\n  max_held: -1\n",
                      "edge.yaml:2: limits.max_held: expected a whole number from 1 to 1000000, got '-1'");
    expect_yaml_error("log:\n  level: verbose\n",
                      "edge.yaml:2: log.level: expected one of error, warn, info, debug, got 'verbose'");
}

static void test_edge_config_rejects_held_per_connection_over_total(void **state)
{
    expect_yaml_error("limits:\n  max_held: 10\n",
                      "edge.yaml:2: limits.max_held: max_held_per_connection 64 must be at most max_held 10");
    /* The key written last is the one named. */
    expect_yaml_error("limits:\n  max_held: 10\n  max_held_per_connection: 11\n",
                      "edge.yaml:3: limits.max_held_per_connection: max_held_per_connection 11 must be at most "
                      "max_held 10");
    llhls_edge_config_t c;
    assert_int_equal(load(&c, "limits:\n  max_held: 10\n  max_held_per_connection: 10\n"), 0);
    assert_int_equal(c.max_held_per_connection, 10);
}

static void test_edge_config_rejects_duplicates_and_bad_documents(void **state)
{
    expect_yaml_error("threads: 2\nthreads: 4\n", "edge.yaml:2: threads: given twice (first on line 1)");
    expect_yaml_error("listen:\n  - address: :1\nlisten:\n  - address: :2\n",
                      "edge.yaml:3: listen: given twice (first on line 1)");
    expect_yaml_error("log:\n  level: info\n  level: warn\n", "edge.yaml:3: log.level: given twice (first on line 2)");
    expect_yaml_error("log:\n  level: info\n---\nlog:\n  level: debug\n",
                      "edge.yaml:4: only one YAML document is allowed");
    expect_yaml_error_prefix("threads: 2\n cache: 1\n", "edge.yaml:2: YAML syntax error: ");
    /* A quoted "\0" escape puts a NUL inside the value. */
    static const char nul[] = "log:\n  access: \"x\\0y\"\n";
    llhls_edge_config_t c;
    llhls_edge_config_default(&c);
    assert_int_equal(llhls_edge_config_load_string(&c, nul, sizeof(nul) - 1, "edge.yaml", err, sizeof(err)),
                     -LLHLS_ECONFIG);
    assert_string_equal(err, "edge.yaml:2: log.access: the value contains a NUL byte");
}

static void test_edge_config_load_file_names_file_in_errors(void **state)
{
    llhls_edge_config_t c;
    llhls_edge_config_default(&c);
    assert_int_equal(llhls_edge_config_load_file(&c, "/nonexistent/edge.yaml", err, sizeof(err)), -LLHLS_ECONFIG);
    assert_string_equal(err, "/nonexistent/edge.yaml: cannot open: No such file or directory");

    char path[256];
    write_temp("origins:\n  - http://a\n  - https://b\n", path, sizeof(path));
    int r = llhls_edge_config_load_file(&c, path, err, sizeof(err));
    char want[400];
    snprintf(want, sizeof(want),
             "%s:3: origins[1]: https:// is not supported (origins are reached over plain HTTP), got 'https://b'",
             path);
    unlink(path);
    assert_int_equal(r, -LLHLS_ECONFIG);
    assert_string_equal(err, want);
}

/* ---- reload ---- */

static void test_edge_config_reload_with_bad_file_keeps_running_config(void **state)
{
    llhls_edge_config_t running, saved;
    const char *first = "listen:\n  - address: :9443\n    tls: {certificate: c, key: k}\n"
                        "origins: [http://o1, http://o2]\nthreads: 4\n";
    assert_int_equal(load(&running, first), 0);
    memcpy(&saved, &running, sizeof(saved));

    /* The new file changes much before its mistake on the last line. */
    char path[256];
    write_temp("listen:\n  - address: :1\norigins:\n  - http://other\nthreads: 9\ncache:\n  size: 2GiB\n"
               "log:\n  level: debug\n  bogus: 1\n",
               path, sizeof(path));
    llhls_edge_config_t next;
    memcpy(&next, &running, sizeof(next));
    int r = llhls_edge_config_load_file(&next, path, err, sizeof(err));
    char want[400];
    snprintf(want, sizeof(want), "%s:10: log.bogus: unknown key (log has level, access)", path);
    assert_int_equal(r, -LLHLS_ECONFIG);
    assert_string_equal(err, want);
    assert_memory_equal(&running, &saved, sizeof(saved));
    /* The function leaves even the copy it was given as it was. */
    assert_memory_equal(&next, &saved, sizeof(saved));

    /* A good file then replaces what it lists. */
    write_temp("threads: 3\norigins:\n  - http://other\n", path, sizeof(path));
    assert_int_equal(llhls_edge_config_load_file(&next, path, err, sizeof(err)), 0);
    unlink(path);
    assert_int_equal(next.threads, 3);
    assert_int_equal(next.norigins, 1);
    assert_string_equal(next.origins[0].host, "other");
    assert_int_equal(next.nlisteners, 1);
    assert_int_equal(next.listeners[0].port, 9443);
}

static void test_edge_config_rule_failure_leaves_config_untouched(void **state)
{
    llhls_edge_config_t c, saved;
    llhls_edge_config_default(&c);
    memcpy(&saved, &c, sizeof(saved));
    const char *yaml = "threads: 5\nlimits:\n  max_held: 3\n";
    assert_int_equal(llhls_edge_config_load_string(&c, yaml, strlen(yaml), "edge.yaml", err, sizeof(err)),
                     -LLHLS_ECONFIG);
    assert_memory_equal(&c, &saved, sizeof(saved));
}

/* ---- command line ---- */

static void test_edge_config_args_none_keeps_defaults(void **state)
{
    char *argv[] = {"llhls-edge"};
    llhls_edge_config_t c;
    const char *path = "unset";
    assert_int_equal(args(&c, ARGC(argv), argv, &path), 0);
    assert_null(path);
    assert_documented_defaults(&c);
}

static void test_edge_config_args_each_flag(void **state)
{
    char *argv[] = {"llhls-edge", "--listen",    "127.0.0.1:0",    "--tls-cert",   "/c.pem", "--tls-key",
                    "/k.pem",     "--origin",    "http://o:9000/", "--threads",    "16",     "--cache-size",
                    "64MiB",      "--log-level", "error",          "--access-log", "-"};
    llhls_edge_config_t c;
    int r = args(&c, ARGC(argv), argv, NULL);
    if (r != 0)
        fail_msg("%s", err);
    assert_int_equal(c.nlisteners, 1);
    assert_string_equal(c.listeners[0].addr, "127.0.0.1");
    assert_int_equal(c.listeners[0].port, 0);
    assert_int_equal(c.listeners[0].tls, 1);
    assert_string_equal(c.listeners[0].cert, "/c.pem");
    assert_string_equal(c.listeners[0].key, "/k.pem");
    assert_int_equal(c.norigins, 1);
    assert_string_equal(c.origins[0].url, "http://o:9000");
    assert_int_equal(c.origins[0].port, 9000);
    assert_int_equal(c.threads, 16);
    assert_true(c.cache_size == 64 * MiB);
    assert_int_equal(c.log_level, LLHLS_LOG_ERROR);
    assert_string_equal(c.access_log, "-");
    /* Keys without a flag keep their defaults. */
    assert_int_equal(c.max_held, 50000);
    assert_int_equal(c.client_idle_timeout_ms, 30000);
}

static void test_edge_config_args_repeated_listen_and_tls_follow_order(void **state)
{
    char *argv[] = {"llhls-edge",  "--listen",   ":80",   "--listen",  "[::]:443", "--tls-key",
                    "b.key",       "--tls-cert", "b.crt", "--origin",  "http://a", "--listen",
                    ":8443",       "--tls-cert", "c.crt", "--tls-key", "c.key",    "--origin=http://b:81",
                    "--listen=:81"};
    llhls_edge_config_t c;
    int r = args(&c, ARGC(argv), argv, NULL);
    if (r != 0)
        fail_msg("%s", err);
    assert_int_equal(c.nlisteners, 4);
    assert_int_equal(c.listeners[0].port, 80);
    assert_int_equal(c.listeners[0].tls, 0);
    assert_string_equal(c.listeners[1].addr, "::");
    assert_int_equal(c.listeners[1].port, 443);
    assert_int_equal(c.listeners[1].tls, 1);
    assert_string_equal(c.listeners[1].cert, "b.crt");
    assert_string_equal(c.listeners[1].key, "b.key");
    assert_int_equal(c.listeners[2].port, 8443);
    assert_string_equal(c.listeners[2].cert, "c.crt");
    assert_string_equal(c.listeners[2].key, "c.key");
    assert_int_equal(c.listeners[3].port, 81);
    assert_int_equal(c.listeners[3].tls, 0);
    assert_int_equal(c.norigins, 2);
    assert_string_equal(c.origins[0].host, "a");
    assert_int_equal(c.origins[0].port, 80);
    assert_string_equal(c.origins[1].host, "b");
    assert_int_equal(c.origins[1].port, 81);
}

static void test_edge_config_args_last_scalar_flag_wins(void **state)
{
    char *argv[] = {"llhls-edge", "--threads", "3", "--log-level", "debug", "--threads", "5", "--log-level", "warn"};
    llhls_edge_config_t c;
    assert_int_equal(args(&c, ARGC(argv), argv, NULL), 0);
    assert_int_equal(c.threads, 5);
    assert_int_equal(c.log_level, LLHLS_LOG_WARN);
}

static void test_edge_config_args_file_first_and_flags_replace_lists(void **state)
{
    char path[256];
    write_temp("listen:\n  - address: :7000\n  - address: :7001\norigins:\n  - http://f1\n  - http://f2\n"
               "threads: 3\ncache:\n  size: 2GiB\n",
               path, sizeof(path));
    /* -c stands last but is applied before the flags before it. */
    char *argv[] = {"llhls-edge", "--origin", "http://cli", "--cache-size", "100MB", "-c", path};
    llhls_edge_config_t c;
    const char *cfg = NULL;
    int r = args(&c, ARGC(argv), argv, &cfg);
    if (r != 0) {
        unlink(path);
        fail_msg("%s", err);
    }
    assert_ptr_equal(cfg, argv[6]);
    /* The file's listeners stay; its origins are replaced by the flag's. */
    assert_int_equal(c.nlisteners, 2);
    assert_int_equal(c.listeners[1].port, 7001);
    assert_int_equal(c.norigins, 1);
    assert_string_equal(c.origins[0].host, "cli");
    assert_true(c.cache_size == 100000000ull);
    assert_int_equal(c.threads, 3);

    char *argv2[] = {"llhls-edge", "--config", path, "--listen", ":7100"};
    r = args(&c, ARGC(argv2), argv2, &cfg);
    unlink(path);
    if (r != 0)
        fail_msg("%s", err);
    assert_int_equal(c.nlisteners, 1);
    assert_int_equal(c.listeners[0].port, 7100);
    assert_int_equal(c.norigins, 2);
    assert_string_equal(c.origins[1].host, "f2");
}

static void test_edge_config_args_tls_flags_need_their_listen(void **state)
{
    char *a1[] = {"llhls-edge", "--tls-cert", "a.crt", "--listen", ":443"};
    expect_args_error(ARGC(a1), a1, "--tls-cert: needs a --listen before it (it applies to the one just before)");
    char *a2[] = {"llhls-edge", "--listen", ":443", "--tls-cert", "a.crt", "--listen", ":80"};
    expect_args_error(ARGC(a2), a2, "--listen 0.0.0.0:443: --tls-cert needs --tls-key too");
    char *a3[] = {"llhls-edge", "--listen", "[::1]:443", "--tls-key", "a.key"};
    expect_args_error(ARGC(a3), a3, "--listen [::1]:443: --tls-key needs --tls-cert too");
    char *a4[] = {"llhls-edge", "--listen", ":443", "--tls-key", "a.key", "--tls-key", "b.key"};
    expect_args_error(ARGC(a4), a4, "--tls-key: given twice for --listen 0.0.0.0:443");
    char *a5[] = {"llhls-edge", "--listen", ":443", "--tls-cert", "", "--tls-key", "b.key"};
    expect_args_error(ARGC(a5), a5, "--tls-cert: expected a file path, got nothing");
    /* The file's listeners are not what a --tls flag applies to. */
    char path[256];
    write_temp("listen:\n  - address: :443\n", path, sizeof(path));
    char *a6[] = {"llhls-edge", "-c", path, "--tls-cert", "a.crt", "--tls-key", "a.key"};
    expect_args_error(ARGC(a6), a6, "--tls-cert: needs a --listen before it (it applies to the one just before)");
    unlink(path);
}

static void test_edge_config_args_bad_value_names_flag(void **state)
{
    char *a1[] = {"llhls-edge", "--listen", "nowhere"};
    expect_args_error(ARGC(a1), a1,
                      "--listen: expected ADDR:PORT with a numeric address, like 0.0.0.0:8081 or [::1]:8443, got "
                      "'nowhere'");
    char *a2[] = {"llhls-edge", "--origin", "https://o"};
    expect_args_error(ARGC(a2), a2,
                      "--origin: https:// is not supported (origins are reached over plain HTTP), got 'https://o'");
    char *a3[] = {"llhls-edge", "--threads", "100"};
    expect_args_error(ARGC(a3), a3, "--threads: expected a whole number from 1 to 64, got '100'");
    char *a4[] = {"llhls-edge", "--cache-size", "big"};
    expect_args_error(ARGC(a4), a4, "--cache-size: expected a size like 1GiB, 512MiB or 100MB, got 'big'");
    char *a5[] = {"llhls-edge", "--log-level", "loud"};
    expect_args_error(ARGC(a5), a5, "--log-level: expected one of error, warn, info, debug, got 'loud'");
    char *a6[] = {"llhls-edge", "--listen", ":80", "--listen", "0.0.0.0:80"};
    expect_args_error(ARGC(a6), a6, "--listen: 0.0.0.0:80 is given twice");
    char *a7[] = {"llhls-edge", "--origin", "http://a", "--origin", "http://a:80/"};
    expect_args_error(ARGC(a7), a7, "--origin: http://a:80/ is given twice");
    char *a8[] = {"llhls-edge", "--listen", ":1", "--listen", ":2", "--listen", ":3", "--listen", ":4", "--listen",
                  ":5",         "--listen", ":6", "--listen", ":7", "--listen", ":8", "--listen", ":9"};
    expect_args_error(ARGC(a8), a8, "--listen: at most 8 listeners are allowed");
    char *a9[] = {"llhls-edge", "--origin",  "http://a1", "--origin",  "http://a2", "--origin",  "http://a3",
                  "--origin",   "http://a4", "--origin",  "http://a5", "--origin",  "http://a6", "--origin",
                  "http://a7",  "--origin",  "http://a8", "--origin",  "http://a9"};
    expect_args_error(ARGC(a9), a9, "--origin: at most 8 origins are allowed");
}

static void test_edge_config_args_unknown_or_incomplete_flag(void **state)
{
    char *a1[] = {"llhls-edge", "--listen-port", "80"};
    expect_args_error(ARGC(a1), a1, "unknown or ambiguous option '--listen-port' (see --help)");
    char *a2[] = {"llhls-edge", "-x"};
    expect_args_error(ARGC(a2), a2, "unknown option '-x' (see --help)");
    char *a3[] = {"llhls-edge", "--origin"};
    expect_args_error(ARGC(a3), a3, "--origin needs a value (see --help)");
    char *a4[] = {"llhls-edge", "-c"};
    expect_args_error(ARGC(a4), a4, "-c/--config needs a value (see --help)");
    char *a5[] = {"llhls-edge", "serve"};
    expect_args_error(ARGC(a5), a5, "unexpected argument 'serve' (see --help)");
    char *a6[] = {"llhls-edge", "--version=1"};
    expect_args_error(ARGC(a6), a6, "-V/--version takes no value (see --help)");
    char *a7[] = {"llhls-edge", "-c", "a.yaml", "-c", "b.yaml"};
    expect_args_error(ARGC(a7), a7, "-c/--config given twice ('a.yaml' and 'b.yaml')");
}

static void test_edge_config_args_bad_file_is_reported_and_config_untouched(void **state)
{
    char *a1[] = {"llhls-edge", "-c", "/nonexistent/edge.yaml"};
    expect_args_error(ARGC(a1), a1, "/nonexistent/edge.yaml: cannot open: No such file or directory");
    char path[256];
    write_temp("threads: 9\nlisten:\n  - address: :443\n    tls:\n      certificate: x.crt\n", path, sizeof(path));
    char *a2[] = {"llhls-edge", "-c", path};
    llhls_edge_config_t c, saved;
    llhls_edge_config_default(&c);
    memcpy(&saved, &c, sizeof(saved));
    const char *cfg = NULL;
    int r = llhls_edge_config_parse_args(&c, ARGC(a2), a2, &cfg, err, sizeof(err));
    char want[400];
    snprintf(want, sizeof(want), "%s:5: listen[0].tls.key: missing (tls needs both certificate and key)", path);
    unlink(path);
    assert_int_equal(r, -LLHLS_ECONFIG);
    assert_string_equal(err, want);
    assert_memory_equal(&c, &saved, sizeof(saved));
    /* The file is still named, so that a later reload can read it again. */
    assert_ptr_equal(cfg, a2[2]);
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
    llhls_edge_config_t c;
    int r = args(&c, argc, argv, NULL);
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

static void test_edge_config_args_help_and_version_print_and_return_one(void **state)
{
    char out[4096];
    /* --help wins even over a config file that does not exist. */
    char *a1[] = {"llhls-edge", "-c", "/nonexistent/x.yaml", "--help"};
    assert_int_equal(args_capturing_stdout(ARGC(a1), a1, out, sizeof(out)), 1);
    assert_non_null(strstr(out, "Usage: llhls-edge [OPTION]...\n"));
    char *a2[] = {"llhls-edge", "-V"};
    assert_int_equal(args_capturing_stdout(ARGC(a2), a2, out, sizeof(out)), 1);
    assert_string_equal(out, "llhls-edge " PACKAGE_VERSION "\n");
    char *a3[] = {"llhls-edge", "--version"};
    assert_int_equal(args_capturing_stdout(ARGC(a3), a3, out, sizeof(out)), 1);
    assert_string_equal(out, "llhls-edge " PACKAGE_VERSION "\n");
}

static void test_edge_config_usage_lists_every_flag_with_default(void **state)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    llhls_edge_config_usage(f, "llhls-edge");
    fclose(f);
    static const char *want[] = {
        "Usage: llhls-edge [OPTION]...",
        "-c, --config FILE           YAML config file",
        "--listen ADDR:PORT      listen address, repeatable",
        "the configured list (default 0.0.0.0:8081)",
        "--tls-cert FILE         PEM certificate chain for the --listen before it",
        "--tls-key FILE          PEM private key for the --listen before it",
        "--origin URL            origin http://HOST[:PORT]",
        "list (default http://127.0.0.1:8080)",
        "--threads N             worker threads (default 2)",
        "--cache-size SIZE       memory for cached objects (default 1GiB)",
        "--log-level LEVEL       error, warn, info or debug (default info)",
        "--access-log PATH",
        "(default none)",
        "-h, --help",
        "-V, --version",
        "docs/edge-config.md",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        if (!strstr(text, want[i]))
            fail_msg("usage lacks '%s':\n%s", want[i], text);
    free(text);
}

static void test_edge_config_report_section(void **state)
{
    (void)state;
    llhls_edge_config_t c;
    llhls_edge_config_default(&c);
    assert_string_equal(c.report_url, "");
    assert_int_equal(c.report_interval_ms, 2000);
    /* The id defaults to the host name (those hosts have plain names). */
    char host[256] = "";
    gethostname(host, sizeof(host) - 1);
    if (host[0] && strlen(host) <= 64 && strchr(host, ' ') == NULL)
        assert_string_equal(c.report_id, host);
    else
        assert_true(strlen(c.report_id) > 0);
    assert_int_equal(load(&c, "report:\n  url: http://origin.example:8080/api/edges/report\n"
                              "  token: tok-0123456789abcdef\n  id: edge-paris-1\n  interval: 5s\n"),
                     0);
    assert_string_equal(c.report_host, "origin.example");
    assert_int_equal(c.report_port, 8080);
    assert_string_equal(c.report_path, "/api/edges/report");
    assert_string_equal(c.report_token, "tok-0123456789abcdef");
    assert_string_equal(c.report_id, "edge-paris-1");
    assert_int_equal(c.report_interval_ms, 5000);
    const char *path = NULL;
    char *argv[] = {"llhls-edge", "--report-url", "http://[::1]/r", "--report-interval", "0.5", NULL};
    assert_int_equal(args(&c, 5, argv, &path), 0);
    assert_string_equal(c.report_host, "::1");
    assert_int_equal(c.report_port, 80);
    assert_string_equal(c.report_path, "/r");
    assert_int_equal(c.report_interval_ms, 500);
}

static void test_edge_config_rejects_bad_report_values(void **state)
{
    (void)state;
    static const char *const url_expect =
        "report.url: expected \"\" (off) or a URL like http://origin:8080/api/edges/report, got ";
    char want[256];
    snprintf(want, sizeof(want), "edge.yaml:2: %s'http://origin:8080'", url_expect);
    expect_yaml_error("report:\n  url: http://origin:8080\n", want);
    snprintf(want, sizeof(want), "edge.yaml:2: %s'https://origin/api/edges/report'", url_expect);
    expect_yaml_error("report:\n  url: https://origin/api/edges/report\n", want);
    expect_yaml_error_prefix("report:\n  url: http://or igin/x\n", "edge.yaml:2: report.url: the host may hold only");
    expect_yaml_error("report:\n  url: http://origin:99999/x\n",
                      "edge.yaml:2: report.url: the port must be 1 to 65535, got 'http://origin:99999'");
    expect_yaml_error("report:\n  interval: 0.1s\n",
                      "edge.yaml:2: report.interval: expected a duration from 0.5 s to 600 s, got '0.1s'");
    expect_yaml_error("report:\n  id: \"a b\"\n",
                      "edge.yaml:2: report.id: expected printable characters without spaces");
    expect_yaml_error_prefix("report:\n  every: 2s\n", "edge.yaml:2: report.every: unknown key");
    /* What goes into the request head cannot carry a line break. */
    expect_yaml_error_prefix("report:\n  url: \"http://origin/a\\r\\nX-Evil: 1\"\n",
                             "edge.yaml:2: report.url: the path holds a space or a control character");
    expect_yaml_error_prefix("report:\n  url: \"http://origin/a b\"\n",
                             "edge.yaml:2: report.url: the path holds a space or a control character");
    expect_yaml_error_prefix("report:\n  token: \"tok\\r\\nX-Evil: 1\"\n", "edge.yaml:2: report.token: ");
    expect_yaml_error_prefix("report:\n  id: \"\"\n", "edge.yaml:2: report.id: ");
    char longid[100];
    snprintf(longid, sizeof(longid), "report:\n  id: %065d\n", 1);
    expect_yaml_error_prefix(longid, "edge.yaml:2: report.id: ");
    expect_yaml_error("report:\n  interval: 601s\n",
                      "edge.yaml:2: report.interval: expected a duration from 0.5 s to 600 s, got '601s'");
    expect_yaml_error_prefix("report:\n  url: http:///api/edges/report\n", "edge.yaml:2: report.url: ");
    expect_yaml_error_prefix("report: 5\n", "edge.yaml:1: report: ");
    char *argv[] = {"llhls-edge", "--report-url", "ftp://x/y", NULL};
    snprintf(want, sizeof(want),
             "--report-url: expected \"\" (off) or a URL like "
             "http://origin:8080/api/edges/report, got 'ftp://x/y'");
    expect_args_error(3, argv, want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edge_config_report_section),
        cmocka_unit_test(test_edge_config_rejects_bad_report_values),
        cmocka_unit_test(test_edge_config_embedded_default_has_documented_values),
        cmocka_unit_test(test_edge_config_example_file_matches_embedded_default),
        cmocka_unit_test(test_edge_config_yaml_sets_every_key),
        cmocka_unit_test(test_edge_config_yaml_overrides_only_given_keys),
        cmocka_unit_test(test_edge_config_accepts_empty_document_and_empty_section),
        cmocka_unit_test(test_edge_config_listen_list_replaces_default_in_order),
        cmocka_unit_test(test_edge_config_shorter_list_clears_old_entries),
        cmocka_unit_test(test_edge_config_origins_list_in_order),
        cmocka_unit_test(test_edge_config_accepts_eight_of_each_and_refuses_nine),
        cmocka_unit_test(test_edge_config_origin_parse_forms),
        cmocka_unit_test(test_edge_config_rejects_unknown_keys_everywhere),
        cmocka_unit_test(test_edge_config_rejects_bad_origin_urls),
        cmocka_unit_test(test_edge_config_rejects_incomplete_tls),
        cmocka_unit_test(test_edge_config_rejects_empty_lists),
        cmocka_unit_test(test_edge_config_rejects_wrong_types),
        cmocka_unit_test(test_edge_config_rejects_bad_listen_addresses),
        cmocka_unit_test(test_edge_config_rejects_values_out_of_bounds),
        cmocka_unit_test(test_edge_config_rejects_held_per_connection_over_total),
        cmocka_unit_test(test_edge_config_rejects_duplicates_and_bad_documents),
        cmocka_unit_test(test_edge_config_load_file_names_file_in_errors),
        cmocka_unit_test(test_edge_config_reload_with_bad_file_keeps_running_config),
        cmocka_unit_test(test_edge_config_rule_failure_leaves_config_untouched),
        cmocka_unit_test(test_edge_config_args_none_keeps_defaults),
        cmocka_unit_test(test_edge_config_args_each_flag),
        cmocka_unit_test(test_edge_config_args_repeated_listen_and_tls_follow_order),
        cmocka_unit_test(test_edge_config_args_last_scalar_flag_wins),
        cmocka_unit_test(test_edge_config_args_file_first_and_flags_replace_lists),
        cmocka_unit_test(test_edge_config_args_tls_flags_need_their_listen),
        cmocka_unit_test(test_edge_config_args_bad_value_names_flag),
        cmocka_unit_test(test_edge_config_args_unknown_or_incomplete_flag),
        cmocka_unit_test(test_edge_config_args_bad_file_is_reported_and_config_untouched),
        cmocka_unit_test(test_edge_config_args_help_and_version_print_and_return_one),
        cmocka_unit_test(test_edge_config_usage_lists_every_flag_with_default),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
