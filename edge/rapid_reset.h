/* HTTP/2 rapid reset (CVE-2023-44487) mitigation.  h2o 2.2.5 has none: a
 * client may open and cancel streams as fast as it can send frames, making
 * the server start work for each.  The edge watches the frames of every
 * HTTP/2 connection it serves and closes, with a GOAWAY, any connection that
 * cancels more than LLHLS_RAPID_RESET_MAX streams within
 * LLHLS_RAPID_RESET_WINDOW_MS. */
#ifndef LLHLS_RAPID_RESET_H
#define LLHLS_RAPID_RESET_H

#include <h2o.h>
#include <stdatomic.h>

#define LLHLS_RAPID_RESET_MAX 200
#define LLHLS_RAPID_RESET_WINDOW_MS 10000

/* Starts watching the HTTP/2 connection that req arrived on, once (later
 * calls for the same connection do nothing).  closed counts connections
 * closed for abuse. */
void llhls_rapid_reset_watch(h2o_req_t *req, atomic_uint_fast64_t *closed);

#endif
