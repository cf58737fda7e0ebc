/* Error codes shared by every module: functions return 0 or one of these,
 * negated, and llhls_strerror() turns any of them into a sentence. */
#ifndef LLHLS_ERROR_H
#define LLHLS_ERROR_H

enum {
    LLHLS_OK = 0,
    LLHLS_ENOMEM = 1,    /* allocation failed */
    LLHLS_EINVAL = 2,    /* malformed input */
    LLHLS_ETOOBIG = 3,   /* a size from the network is over its bound */
    LLHLS_ENOTFOUND = 4, /* no such stream, part or key */
    LLHLS_EBUSY = 5,     /* the name is already in use (a live publisher) */
    LLHLS_EMAPFULL = 6,  /* the store's map is full */
    LLHLS_ESTORE = 7,    /* any other store (LMDB) failure */
    LLHLS_EAGAIN = 8,    /* not enough bytes yet; call again with more */
    LLHLS_EUNSUPPORTED = 9, /* valid but not supported (codec, feature) */
    LLHLS_EIO = 10,      /* system call or muxer failure */
    LLHLS_ECONFIG = 11,  /* bad configuration */
    LLHLS_EPROTO = 12,   /* protocol violation by the peer */
    LLHLS_ECANCELED = 13, /* stopped by an operator */
};

/* Returns a static, human-readable sentence for err (negative or positive). */
const char *llhls_strerror(int err);

#endif
