/* AMF0, the value encoding of RTMP commands and data messages: a bounded
 * decoder into a small tree of values, an encoder onto a capped buffer, and
 * the command shape (name, transaction id, command object, arguments) that
 * every RTMP command message has. */
#ifndef LLHLS_AMF0_H
#define LLHLS_AMF0_H

#include "buf.h"

#include <stddef.h>
#include <stdint.h>

/* The markers, as they appear on the wire. */
typedef enum {
    LLHLS_AMF0_NUMBER = 0x00,
    LLHLS_AMF0_BOOLEAN = 0x01,
    LLHLS_AMF0_STRING = 0x02,
    LLHLS_AMF0_OBJECT = 0x03,
    LLHLS_AMF0_NULL = 0x05,
    LLHLS_AMF0_UNDEFINED = 0x06,
    LLHLS_AMF0_ECMA_ARRAY = 0x08,
    LLHLS_AMF0_OBJECT_END = 0x09,
    LLHLS_AMF0_STRICT_ARRAY = 0x0a,
    LLHLS_AMF0_DATE = 0x0b,
    LLHLS_AMF0_LONG_STRING = 0x0c,
} llhls_amf0_type_t;

/* Bounds on what the decoder accepts from the network. */
#define LLHLS_AMF0_MAX_DEPTH 16          /* nested objects and arrays */
#define LLHLS_AMF0_MAX_ELEMENTS 1024     /* properties or items in one container */
#define LLHLS_AMF0_MAX_NODES 16384       /* values in one decode, all levels */
#define LLHLS_AMF0_MAX_LONG_STRING (1u << 20)

typedef struct llhls_amf0_value llhls_amf0_value_t;

typedef struct llhls_amf0_prop {
    char *key;          /* NUL-terminated; NULL for strict array items */
    size_t key_len;
    llhls_amf0_value_t *value;
} llhls_amf0_prop_t;

struct llhls_amf0_value {
    llhls_amf0_type_t type;
    double number;        /* NUMBER, and the milliseconds of a DATE */
    int16_t tz;           /* DATE: minutes, sent as 0 by everyone */
    int boolean;          /* BOOLEAN */
    char *str;            /* STRING, LONG_STRING: NUL-terminated copy */
    size_t str_len;       /* may hold NULs inside; str_len is the truth */
    llhls_amf0_prop_t *props; /* OBJECT, ECMA_ARRAY, STRICT_ARRAY */
    size_t count;
};

/* Decodes one value from p[0..len).  On success *used is the bytes read and
 * *out a tree the caller frees with llhls_amf0_free().  Returns 0,
 * -LLHLS_EINVAL (truncated or malformed, or a stray object end),
 * -LLHLS_ETOOBIG (over a bound above), -LLHLS_EUNSUPPORTED (a reference,
 * typed object, AMF3 switch...) or -LLHLS_ENOMEM. */
int llhls_amf0_decode(const uint8_t *p, size_t len, size_t *used, llhls_amf0_value_t **out);
void llhls_amf0_free(llhls_amf0_value_t *v);

/* The value under key in an OBJECT or ECMA_ARRAY, or NULL. */
const llhls_amf0_value_t *llhls_amf0_get(const llhls_amf0_value_t *obj, const char *key);
/* The string under key, or NULL when absent or not a string. */
const char *llhls_amf0_get_string(const llhls_amf0_value_t *obj, const char *key);
/* The number under key in *out; returns 0 or -LLHLS_ENOTFOUND. */
int llhls_amf0_get_number(const llhls_amf0_value_t *obj, const char *key, double *out);

/* A command message: a string name, a number transaction id, then any
 * values (the command object, usually an object or null, is args[0]). */
typedef struct llhls_amf0_command {
    char *name;
    double txn;
    llhls_amf0_value_t **args;
    size_t nargs;
} llhls_amf0_command_t;

#define LLHLS_AMF0_MAX_ARGS 16

/* Decodes a whole command or data message.  Data messages (@setDataFrame,
 * onMetaData) have no transaction id: with is_data set, txn stays 0 and
 * every value after the name is an argument.  Returns 0 or the errors of
 * llhls_amf0_decode(); on error *cmd holds nothing to free. */
int llhls_amf0_command_decode(const uint8_t *p, size_t len, int is_data, llhls_amf0_command_t *cmd);
void llhls_amf0_command_free(llhls_amf0_command_t *cmd);

/* Encoders: each appends to b and returns 0 or the errors of
 * llhls_buf_append().  Objects are written as begin, then key and value
 * pairs, then end. */
int llhls_amf0_put_number(llhls_buf_t *b, double d);
int llhls_amf0_put_boolean(llhls_buf_t *b, int v);
/* Writes a STRING, or a LONG_STRING past 65535 bytes. */
int llhls_amf0_put_string(llhls_buf_t *b, const char *s, size_t len);
int llhls_amf0_put_cstring(llhls_buf_t *b, const char *s);
int llhls_amf0_put_null(llhls_buf_t *b);
int llhls_amf0_put_undefined(llhls_buf_t *b);
int llhls_amf0_put_object_begin(llhls_buf_t *b);
int llhls_amf0_put_ecma_array_begin(llhls_buf_t *b, uint32_t count);
/* A property name inside an object or ECMA array (at most 65535 bytes). */
int llhls_amf0_put_key(llhls_buf_t *b, const char *key);
int llhls_amf0_put_object_end(llhls_buf_t *b);
/* Writes any decoded value back, as it was. */
int llhls_amf0_encode(llhls_buf_t *b, const llhls_amf0_value_t *v);

/* A reply as RTMP servers send them: name ("_result", "_error", "onStatus"),
 * txn, null, then an information object with level, code and description. */
int llhls_amf0_put_status(llhls_buf_t *b, const char *name, double txn, const char *level, const char *code,
                          const char *description);

#endif
