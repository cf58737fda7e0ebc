/* Sentences for the error codes of error.h. */
#include "error.h"

const char *llhls_strerror(int err)
{
    if (err < 0)
        err = -err;
    switch (err) {
    case LLHLS_OK: return "success";
    case LLHLS_ENOMEM: return "out of memory";
    case LLHLS_EINVAL: return "malformed input";
    case LLHLS_ETOOBIG: return "size over its limit";
    case LLHLS_ENOTFOUND: return "not found";
    case LLHLS_EBUSY: return "already in use";
    case LLHLS_EMAPFULL: return "store is full";
    case LLHLS_ESTORE: return "store failure";
    case LLHLS_EAGAIN: return "need more data";
    case LLHLS_EUNSUPPORTED: return "not supported";
    case LLHLS_EIO: return "input/output failure";
    case LLHLS_ECONFIG: return "bad configuration";
    case LLHLS_EPROTO: return "protocol violation";
    case LLHLS_ECANCELED: return "stopped by an operator";
    }
    return "unknown error";
}
