/* One YAML document for the configuration loaders: libyaml parses it, this
 * module checks its shape (one document, a mapping at the root) and words
 * libyaml's errors, and the loader given as a callback reads the keys.  The
 * messages are what a user reads at startup, so they name file and line. */
#include "yaml_doc.h"
#include "error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int llhls_yaml_fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -LLHLS_ECONFIG;
}

int llhls_yaml_node_line(const yaml_node_t *n)
{
    return (int)n->start_mark.line + 1;
}

int llhls_yaml_node_is_empty(const yaml_node_t *n)
{
    return n->type == YAML_SCALAR_NODE && n->data.scalar.length == 0 && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

const char *llhls_yaml_node_kind(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_SEQUENCE_NODE: return "a sequence";
    case YAML_MAPPING_NODE: return "a mapping";
    default: return llhls_yaml_node_is_empty(n) ? "nothing" : "a scalar";
    }
}

const char *llhls_yaml_scalar(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

/* The hint's text when the line holding index starts with its key and the
 * value opens a flow sequence, else "". */
static const char *hint_for(const llhls_yaml_hint_t *hint, const char *yaml, size_t len, size_t index)
{
    if (!hint || index > len)
        return "";
    size_t start = index;
    while (start > 0 && yaml[start - 1] != '\n')
        start--;
    const char *p = yaml + start, *end = yaml + len;
    while (p < end && (*p == ' ' || *p == '\t' || (hint->list_item && *p == '-')))
        p++;
    size_t klen = strlen(hint->key);
    if ((size_t)(end - p) < klen || memcmp(p, hint->key, klen) != 0)
        return "";
    for (p += klen; p < end && *p == ' '; p++)
        ;
    return p < end && *p == '[' ? hint->text : "";
}

static int syntax_error(const yaml_parser_t *p, const char *yaml, size_t len, const char *name,
                        const llhls_yaml_hint_t *hint, char *err, size_t errlen)
{
    const char *problem = p->problem ? p->problem : "malformed YAML";
    if (p->error == YAML_READER_ERROR)
        return llhls_yaml_fail(err, errlen, "%s: byte %zu: %s", name, p->problem_offset, problem);
    if (p->error == YAML_MEMORY_ERROR)
        return llhls_yaml_fail(err, errlen, "%s: out of memory while parsing", name);
    /* The mistake is often on the line where the construct began, not where
     * libyaml noticed it. */
    const char *advice = hint_for(hint, yaml, len, p->problem_mark.index);
    if (!*advice && p->context)
        advice = hint_for(hint, yaml, len, p->context_mark.index);
    if (p->context)
        return llhls_yaml_fail(err, errlen, "%s:%zu: YAML syntax error: %s (%s from line %zu)%s", name,
                               p->problem_mark.line + 1, problem, p->context, p->context_mark.line + 1, advice);
    return llhls_yaml_fail(err, errlen, "%s:%zu: YAML syntax error: %s%s", name, p->problem_mark.line + 1, problem,
                           advice);
}

int llhls_yaml_load(const char *yaml, size_t len, const char *name, const llhls_yaml_hint_t *hint,
                    const char *root_expectation, llhls_yaml_root_cb on_root, void *ctx, char *err, size_t errlen)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    int r = 0;

    if (!name)
        name = "config";
    if (!yaml_parser_initialize(&parser))
        return llhls_yaml_fail(err, errlen, "%s: out of memory", name);
    yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
    if (!yaml_parser_load(&parser, &doc)) {
        r = syntax_error(&parser, yaml, len, name, hint, err, errlen);
        yaml_parser_delete(&parser);
        return r;
    }

    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root && !llhls_yaml_node_is_empty(root)) {
        if (root->type != YAML_MAPPING_NODE) {
            r = llhls_yaml_fail(err, errlen, "%s:%d: expected %s, got %s", name, llhls_yaml_node_line(root),
                                root_expectation, llhls_yaml_node_kind(root));
            goto out;
        }
        r = on_root(ctx, &doc, root);
        if (r != 0)
            goto out;
    }

    /* A second document would be silently ignored otherwise. */
    yaml_document_t next;
    if (!yaml_parser_load(&parser, &next)) {
        r = syntax_error(&parser, yaml, len, name, hint, err, errlen);
        goto out;
    }
    yaml_node_t *nroot = yaml_document_get_root_node(&next);
    if (nroot)
        r = llhls_yaml_fail(err, errlen, "%s:%d: only one YAML document is allowed", name, llhls_yaml_node_line(nroot));
    yaml_document_delete(&next);
out:
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return r;
}

int llhls_yaml_read_file(const char *path, char **out, size_t *outlen, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return llhls_yaml_fail(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    /* One byte more than the cap tells a file at the cap from a larger one. */
    char *buf = malloc(LLHLS_YAML_FILE_MAX + 1);
    if (!buf) {
        fclose(f);
        return llhls_yaml_fail(err, errlen, "%s: out of memory", path);
    }
    size_t n = fread(buf, 1, LLHLS_YAML_FILE_MAX + 1, f);
    int bad = ferror(f);
    int saved = errno;
    fclose(f);
    if (bad) {
        free(buf);
        return llhls_yaml_fail(err, errlen, "%s: cannot read: %s", path, strerror(saved));
    }
    if (n > LLHLS_YAML_FILE_MAX) {
        free(buf);
        return llhls_yaml_fail(err, errlen, "%s: larger than %d bytes, not a config file", path, LLHLS_YAML_FILE_MAX);
    }
    *out = buf;
    *outlen = n;
    return 0;
}

int llhls_yaml_load_file(const char *path, const llhls_yaml_hint_t *hint, const char *root_expectation,
                         llhls_yaml_root_cb on_root, void *ctx, char *err, size_t errlen)
{
    char *text = NULL;
    size_t len = 0;
    int r = llhls_yaml_read_file(path, &text, &len, err, errlen);
    if (r != 0)
        return r;
    r = llhls_yaml_load(text, len, path, hint, root_expectation, on_root, ctx, err, errlen);
    free(text);
    return r;
}
