/* AMF0 values for RTMP commands: a recursive decoder with a depth, element
 * and node budget (so a few kilobytes of hostile input cannot become
 * megabytes of tree or a deep stack), and the matching encoder.  Only the
 * types that publishers send are accepted; references and typed objects
 * are refused. */
#include "amf0.h"

#include "error.h"

#include <stdlib.h>
#include <string.h>

typedef struct decoder {
    const uint8_t *p;
    size_t len;
    size_t pos;
    size_t nodes;
} decoder_t;

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static double rd_double(const uint8_t *p)
{
    uint64_t u = (uint64_t)rd32(p) << 32 | rd32(p + 4);
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

void llhls_amf0_free(llhls_amf0_value_t *v)
{
    if (v == NULL)
        return;
    free(v->str);
    for (size_t i = 0; i < v->count; i++) {
        free(v->props[i].key);
        llhls_amf0_free(v->props[i].value);
    }
    free(v->props);
    free(v);
}

static int need(decoder_t *d, size_t n)
{
    return d->len - d->pos >= n ? 0 : -LLHLS_EINVAL;
}

/* Copies n bytes at the cursor as a NUL-terminated string. */
static int take_string(decoder_t *d, size_t n, char **out)
{
    if (need(d, n) < 0)
        return -LLHLS_EINVAL;
    char *s = malloc(n + 1);
    if (s == NULL)
        return -LLHLS_ENOMEM;
    memcpy(s, d->p + d->pos, n);
    s[n] = '\0';
    d->pos += n;
    *out = s;
    return 0;
}

static int decode_value(decoder_t *d, int depth, llhls_amf0_value_t **out);

static int add_prop(llhls_amf0_value_t *v, char *key, size_t key_len, llhls_amf0_value_t *item)
{
    if (v->count >= LLHLS_AMF0_MAX_ELEMENTS)
        return -LLHLS_ETOOBIG;
    /* Grow by doubling; the element bound keeps this small. */
    if (v->count == 0 || (v->count >= 4 && (v->count & (v->count - 1)) == 0)) {
        size_t cap = v->count ? v->count * 2 : 4;
        llhls_amf0_prop_t *np = realloc(v->props, cap * sizeof *np);
        if (np == NULL)
            return -LLHLS_ENOMEM;
        v->props = np;
    }
    v->props[v->count].key = key;
    v->props[v->count].key_len = key_len;
    v->props[v->count].value = item;
    v->count++;
    return 0;
}

/* Properties of an object or ECMA array, up to the empty key followed by
 * the object end marker. */
static int decode_props(decoder_t *d, int depth, llhls_amf0_value_t *v)
{
    for (;;) {
        if (need(d, 2) < 0)
            return -LLHLS_EINVAL;
        size_t klen = rd16(d->p + d->pos);
        d->pos += 2;
        if (klen == 0) {
            if (need(d, 1) < 0)
                return -LLHLS_EINVAL;
            if (d->p[d->pos] == LLHLS_AMF0_OBJECT_END) {
                d->pos++;
                return 0;
            }
        }
        char *key;
        int rc = take_string(d, klen, &key);
        if (rc < 0)
            return rc;
        llhls_amf0_value_t *item;
        rc = decode_value(d, depth + 1, &item);
        if (rc < 0) {
            free(key);
            return rc;
        }
        rc = add_prop(v, key, klen, item);
        if (rc < 0) {
            free(key);
            llhls_amf0_free(item);
            return rc;
        }
    }
}

static int decode_value(decoder_t *d, int depth, llhls_amf0_value_t **out)
{
    if (depth > LLHLS_AMF0_MAX_DEPTH)
        return -LLHLS_ETOOBIG;
    if (++d->nodes > LLHLS_AMF0_MAX_NODES)
        return -LLHLS_ETOOBIG;
    if (need(d, 1) < 0)
        return -LLHLS_EINVAL;
    uint8_t marker = d->p[d->pos++];
    llhls_amf0_value_t *v = calloc(1, sizeof *v);
    if (v == NULL)
        return -LLHLS_ENOMEM;
    v->type = (llhls_amf0_type_t)marker;
    int rc = 0;
    switch (marker) {
    case LLHLS_AMF0_NUMBER:
        if ((rc = need(d, 8)) == 0) {
            v->number = rd_double(d->p + d->pos);
            d->pos += 8;
        }
        break;
    case LLHLS_AMF0_BOOLEAN:
        if ((rc = need(d, 1)) == 0)
            v->boolean = d->p[d->pos++] != 0;
        break;
    case LLHLS_AMF0_STRING:
        if ((rc = need(d, 2)) == 0) {
            v->str_len = rd16(d->p + d->pos);
            d->pos += 2;
            rc = take_string(d, v->str_len, &v->str);
        }
        break;
    case LLHLS_AMF0_LONG_STRING:
        if ((rc = need(d, 4)) == 0) {
            v->str_len = rd32(d->p + d->pos);
            d->pos += 4;
            if (v->str_len > LLHLS_AMF0_MAX_LONG_STRING)
                rc = -LLHLS_ETOOBIG;
            else
                rc = take_string(d, v->str_len, &v->str);
        }
        break;
    case LLHLS_AMF0_NULL:
    case LLHLS_AMF0_UNDEFINED:
        break;
    case LLHLS_AMF0_OBJECT:
        rc = decode_props(d, depth, v);
        break;
    case LLHLS_AMF0_ECMA_ARRAY:
        /* The count is only a hint (encoders get it wrong); the end marker
         * is what ends the array. */
        if ((rc = need(d, 4)) == 0) {
            d->pos += 4;
            rc = decode_props(d, depth, v);
        }
        break;
    case LLHLS_AMF0_STRICT_ARRAY: {
        if ((rc = need(d, 4)) < 0)
            break;
        uint32_t n = rd32(d->p + d->pos);
        d->pos += 4;
        if (n > LLHLS_AMF0_MAX_ELEMENTS) {
            rc = -LLHLS_ETOOBIG;
            break;
        }
        for (uint32_t i = 0; i < n && rc == 0; i++) {
            llhls_amf0_value_t *item;
            rc = decode_value(d, depth + 1, &item);
            if (rc == 0 && (rc = add_prop(v, NULL, 0, item)) < 0)
                llhls_amf0_free(item);
        }
        break;
    }
    case LLHLS_AMF0_DATE:
        if ((rc = need(d, 10)) == 0) {
            v->number = rd_double(d->p + d->pos);
            v->tz = (int16_t)rd16(d->p + d->pos + 8);
            d->pos += 10;
        }
        break;
    case LLHLS_AMF0_OBJECT_END:
        rc = -LLHLS_EINVAL;
        break;
    default:
        rc = -LLHLS_EUNSUPPORTED;
        break;
    }
    if (rc < 0) {
        llhls_amf0_free(v);
        return rc;
    }
    *out = v;
    return 0;
}

int llhls_amf0_decode(const uint8_t *p, size_t len, size_t *used, llhls_amf0_value_t **out)
{
    decoder_t d = {.p = p, .len = len};
    int rc = decode_value(&d, 1, out);
    if (rc == 0 && used)
        *used = d.pos;
    return rc;
}

const llhls_amf0_value_t *llhls_amf0_get(const llhls_amf0_value_t *obj, const char *key)
{
    if (obj == NULL || (obj->type != LLHLS_AMF0_OBJECT && obj->type != LLHLS_AMF0_ECMA_ARRAY))
        return NULL;
    size_t klen = strlen(key);
    for (size_t i = 0; i < obj->count; i++)
        if (obj->props[i].key_len == klen && memcmp(obj->props[i].key, key, klen) == 0)
            return obj->props[i].value;
    return NULL;
}

const char *llhls_amf0_get_string(const llhls_amf0_value_t *obj, const char *key)
{
    const llhls_amf0_value_t *v = llhls_amf0_get(obj, key);
    if (v == NULL || (v->type != LLHLS_AMF0_STRING && v->type != LLHLS_AMF0_LONG_STRING))
        return NULL;
    return v->str;
}

int llhls_amf0_get_number(const llhls_amf0_value_t *obj, const char *key, double *out)
{
    const llhls_amf0_value_t *v = llhls_amf0_get(obj, key);
    if (v == NULL || v->type != LLHLS_AMF0_NUMBER)
        return -LLHLS_ENOTFOUND;
    *out = v->number;
    return 0;
}

void llhls_amf0_command_free(llhls_amf0_command_t *cmd)
{
    free(cmd->name);
    for (size_t i = 0; i < cmd->nargs; i++)
        llhls_amf0_free(cmd->args[i]);
    free(cmd->args);
    memset(cmd, 0, sizeof *cmd);
}

int llhls_amf0_command_decode(const uint8_t *p, size_t len, int is_data, llhls_amf0_command_t *cmd)
{
    memset(cmd, 0, sizeof *cmd);
    size_t pos = 0, used = 0;
    llhls_amf0_value_t *v;
    int rc = llhls_amf0_decode(p, len, &used, &v);
    if (rc < 0)
        return rc;
    pos += used;
    if (v->type != LLHLS_AMF0_STRING) {
        llhls_amf0_free(v);
        return -LLHLS_EINVAL;
    }
    cmd->name = v->str;
    v->str = NULL;
    llhls_amf0_free(v);
    if (!is_data) {
        if ((rc = llhls_amf0_decode(p + pos, len - pos, &used, &v)) < 0)
            goto fail;
        pos += used;
        int is_number = v->type == LLHLS_AMF0_NUMBER;
        cmd->txn = v->number;
        llhls_amf0_free(v);
        if (!is_number) {
            rc = -LLHLS_EINVAL;
            goto fail;
        }
    }
    cmd->args = calloc(LLHLS_AMF0_MAX_ARGS, sizeof *cmd->args);
    if (cmd->args == NULL) {
        rc = -LLHLS_ENOMEM;
        goto fail;
    }
    while (pos < len) {
        if (cmd->nargs == LLHLS_AMF0_MAX_ARGS) {
            rc = -LLHLS_ETOOBIG;
            goto fail;
        }
        if ((rc = llhls_amf0_decode(p + pos, len - pos, &used, &cmd->args[cmd->nargs])) < 0)
            goto fail;
        cmd->nargs++;
        pos += used;
    }
    return 0;
fail:
    llhls_amf0_command_free(cmd);
    return rc;
}

static int put_u8(llhls_buf_t *b, uint8_t v)
{
    return llhls_buf_append(b, &v, 1);
}

static int put_be(llhls_buf_t *b, uint64_t v, int n)
{
    uint8_t tmp[8];
    for (int i = 0; i < n; i++)
        tmp[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
    return llhls_buf_append(b, tmp, (size_t)n);
}

static int put_double(llhls_buf_t *b, double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return put_be(b, u, 8);
}

int llhls_amf0_put_number(llhls_buf_t *b, double d)
{
    int rc = put_u8(b, LLHLS_AMF0_NUMBER);
    return rc < 0 ? rc : put_double(b, d);
}

int llhls_amf0_put_boolean(llhls_buf_t *b, int v)
{
    uint8_t tmp[2] = {LLHLS_AMF0_BOOLEAN, v ? 1 : 0};
    return llhls_buf_append(b, tmp, 2);
}

int llhls_amf0_put_string(llhls_buf_t *b, const char *s, size_t len)
{
    int rc;
    if (len > 0xffff) {
        if (len > UINT32_MAX)
            return -LLHLS_ETOOBIG;
        if ((rc = put_u8(b, LLHLS_AMF0_LONG_STRING)) < 0 || (rc = put_be(b, len, 4)) < 0)
            return rc;
    } else if ((rc = put_u8(b, LLHLS_AMF0_STRING)) < 0 || (rc = put_be(b, len, 2)) < 0) {
        return rc;
    }
    return llhls_buf_append(b, s, len);
}

int llhls_amf0_put_cstring(llhls_buf_t *b, const char *s)
{
    return llhls_amf0_put_string(b, s, strlen(s));
}

int llhls_amf0_put_null(llhls_buf_t *b)
{
    return put_u8(b, LLHLS_AMF0_NULL);
}

int llhls_amf0_put_undefined(llhls_buf_t *b)
{
    return put_u8(b, LLHLS_AMF0_UNDEFINED);
}

int llhls_amf0_put_object_begin(llhls_buf_t *b)
{
    return put_u8(b, LLHLS_AMF0_OBJECT);
}

int llhls_amf0_put_ecma_array_begin(llhls_buf_t *b, uint32_t count)
{
    int rc = put_u8(b, LLHLS_AMF0_ECMA_ARRAY);
    return rc < 0 ? rc : put_be(b, count, 4);
}

static int put_key_bytes(llhls_buf_t *b, const char *key, size_t len)
{
    if (len > 0xffff)
        return -LLHLS_ETOOBIG;
    int rc = put_be(b, len, 2);
    return rc < 0 ? rc : llhls_buf_append(b, key, len);
}

int llhls_amf0_put_key(llhls_buf_t *b, const char *key)
{
    return put_key_bytes(b, key, strlen(key));
}

int llhls_amf0_put_object_end(llhls_buf_t *b)
{
    static const uint8_t end[3] = {0, 0, LLHLS_AMF0_OBJECT_END};
    return llhls_buf_append(b, end, 3);
}

int llhls_amf0_encode(llhls_buf_t *b, const llhls_amf0_value_t *v)
{
    int rc = 0;
    switch (v->type) {
    case LLHLS_AMF0_NUMBER: return llhls_amf0_put_number(b, v->number);
    case LLHLS_AMF0_BOOLEAN: return llhls_amf0_put_boolean(b, v->boolean);
    case LLHLS_AMF0_STRING:
    case LLHLS_AMF0_LONG_STRING:
        /* Keep the marker the value came with, so that round trips are exact. */
        if ((rc = put_u8(b, (uint8_t)v->type)) < 0)
            return rc;
        if ((rc = put_be(b, v->str_len, v->type == LLHLS_AMF0_STRING ? 2 : 4)) < 0)
            return rc;
        return llhls_buf_append(b, v->str, v->str_len);
    case LLHLS_AMF0_NULL:
    case LLHLS_AMF0_UNDEFINED: return put_u8(b, (uint8_t)v->type);
    case LLHLS_AMF0_DATE:
        if ((rc = put_u8(b, LLHLS_AMF0_DATE)) < 0 || (rc = put_double(b, v->number)) < 0)
            return rc;
        return put_be(b, (uint16_t)v->tz, 2);
    case LLHLS_AMF0_STRICT_ARRAY:
        if ((rc = put_u8(b, LLHLS_AMF0_STRICT_ARRAY)) < 0 || (rc = put_be(b, v->count, 4)) < 0)
            return rc;
        for (size_t i = 0; i < v->count && rc == 0; i++)
            rc = llhls_amf0_encode(b, v->props[i].value);
        return rc;
    case LLHLS_AMF0_OBJECT:
    case LLHLS_AMF0_ECMA_ARRAY:
        rc = v->type == LLHLS_AMF0_OBJECT ? llhls_amf0_put_object_begin(b)
                                          : llhls_amf0_put_ecma_array_begin(b, (uint32_t)v->count);
        for (size_t i = 0; i < v->count && rc == 0; i++) {
            rc = put_key_bytes(b, v->props[i].key, v->props[i].key_len);
            if (rc == 0)
                rc = llhls_amf0_encode(b, v->props[i].value);
        }
        return rc < 0 ? rc : llhls_amf0_put_object_end(b);
    case LLHLS_AMF0_OBJECT_END: break;
    }
    return -LLHLS_EINVAL;
}

int llhls_amf0_put_status(llhls_buf_t *b, const char *name, double txn, const char *level, const char *code,
                          const char *description)
{
    int rc;
    if ((rc = llhls_amf0_put_cstring(b, name)) < 0 || (rc = llhls_amf0_put_number(b, txn)) < 0 ||
        (rc = llhls_amf0_put_null(b)) < 0 || (rc = llhls_amf0_put_object_begin(b)) < 0 ||
        (rc = llhls_amf0_put_key(b, "level")) < 0 || (rc = llhls_amf0_put_cstring(b, level)) < 0 ||
        (rc = llhls_amf0_put_key(b, "code")) < 0 || (rc = llhls_amf0_put_cstring(b, code)) < 0 ||
        (rc = llhls_amf0_put_key(b, "description")) < 0 || (rc = llhls_amf0_put_cstring(b, description)) < 0)
        return rc;
    return llhls_amf0_put_object_end(b);
}
