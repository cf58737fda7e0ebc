/* The YAML half of the configuration loaders (the origin's and the edge's):
 * a file read under a size cap, one libyaml document whose root must be a
 * mapping, and libyaml's errors turned into messages that name the file and
 * the line.  What the keys mean stays with each loader. */
#ifndef LLHLS_YAML_DOC_H
#define LLHLS_YAML_DOC_H

#include <stddef.h>
#include <yaml.h>

/* A config file is a few hundred bytes; anything far larger is a mistake
 * (a video file given to -c) and is refused before libyaml sees it. */
#define LLHLS_YAML_FILE_MAX (1024 * 1024)

/* An unquoted "[::1]:1935" reads as a YAML flow sequence and fails as a
 * syntax error far from what the user meant.  When the line of the error
 * starts with key (after blanks, and after '-' too when list_item is set)
 * and its value opens with '[', text is appended to the message. */
typedef struct {
    const char *key;  /* with its colon, e.g. "listen:" */
    int list_item;    /* the key may follow a sequence's "- " */
    const char *text; /* e.g. " (an IPv6 listen address needs quotes: \"[::1]:1935\")" */
} llhls_yaml_hint_t;

/* Called with the root of a document that holds a non-empty mapping.  doc
 * and root belong to llhls_yaml_load and are valid only during the call.
 * Returns 0, or a negative code after writing the message itself. */
typedef int (*llhls_yaml_root_cb)(void *ctx, yaml_document_t *doc, yaml_node_t *root);

/* Writes the formatted message into err (when err is not NULL and errlen is
 * not 0, truncating it to errlen) and returns -LLHLS_ECONFIG, so that a
 * loader can write "return llhls_yaml_fail(...)". */
int llhls_yaml_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The 1-based line on which n starts. */
int llhls_yaml_node_line(const yaml_node_t *n);
/* "a sequence", "a mapping", "nothing" (an empty value) or "a scalar", for
 * messages of the form "expected X, got Y".  The string is static. */
const char *llhls_yaml_node_kind(const yaml_node_t *n);
/* Whether n is a null value: libyaml gives a key with nothing after it as
 * an empty plain scalar. */
int llhls_yaml_node_is_empty(const yaml_node_t *n);
/* The NUL-terminated text of scalar n, owned by its document.  It is
 * shorter than n->data.scalar.length when the value holds a NUL byte. */
const char *llhls_yaml_scalar(const yaml_node_t *n);

/* Parses len bytes of yaml as exactly one document, named name in messages
 * ("config" when NULL).  A syntax error, a root that is not a mapping
 * ("expected <root_expectation>, got ...") or a second document fails with
 * -LLHLS_ECONFIG and a message in err; hint (may be NULL) adds advice to a
 * syntax error.  An empty document succeeds without calling on_root;
 * otherwise returns what on_root returns.  yaml is only read, and need not
 * be NUL-terminated. */
int llhls_yaml_load(const char *yaml, size_t len, const char *name, const llhls_yaml_hint_t *hint,
                    const char *root_expectation, llhls_yaml_root_cb on_root, void *ctx, char *err, size_t errlen);

/* Reads the file at path, at most LLHLS_YAML_FILE_MAX bytes.  On success
 * *out is a malloc'd buffer the caller frees and *outlen its length (it is
 * not NUL-terminated); on failure returns -LLHLS_ECONFIG with a message
 * naming path, and *out is left alone. */
int llhls_yaml_read_file(const char *path, char **out, size_t *outlen, char *err, size_t errlen);

/* llhls_yaml_read_file, then llhls_yaml_load with path as the name. */
int llhls_yaml_load_file(const char *path, const llhls_yaml_hint_t *hint, const char *root_expectation,
                         llhls_yaml_root_cb on_root, void *ctx, char *err, size_t errlen);

#endif
