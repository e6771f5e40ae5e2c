/*
 * HTTP/1.1 role internals: connection states and the response framing
 * used by roles/http through struct kite__http_wire.
 */
#ifndef KITE_H1_PRIVATE_H
#define KITE_H1_PRIVATE_H

#include "roles/http/private-http.h"

enum kite__h1_state {
    H1_IDLE = 0, /* between requests (keep-alive timeout) */
    H1_HEAD,     /* part of a request head has arrived (header timeout) */
    H1_BODY,     /* reading the request body */
    H1_WAIT,     /* request read, response not finished */
    H1_CLOSING,  /* answering an error; then close */
};

/* The role's bits in conn->rflags. PROCESSING is bit 0 for ws too, as when both
 * were in core's word: a conn switched to ws inside the input loop is seen as
 * inside it until that loop ends. */
#define H1_F_PROCESSING (1u << 0) /* inside the input loop */
#define H1_F_HELD       (1u << 1) /* input held until the output drains */
#define H1_F_SERVED     (1u << 2) /* a request has been seen on this conn */
#define H1_F_AH         (1u << 3) /* holds an ip-limit-ah slot while reading a head */
#define H1_F_LAST       (1u << 4) /* draining: the current request is the last */

extern const struct kite__http_wire kite__h1_wire;

/* The response is complete: move on to the next request or close. */
void kite__h1_final(kite_conn_t *c, kite_http_req_t *t);

#endif
