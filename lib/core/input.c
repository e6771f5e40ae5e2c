/*
 * Input a connection keeps between reads: the unprocessed tail of a read
 * (a partial request head, a partial frame held for flow control) is
 * copied out of the thread's shared read buffer into the connection's
 * own, and joined with the next bytes. Idle connections hold none.
 */
#include <stdlib.h>
#include <string.h>

#include "core/private.h"

/* The smallest buffer a conn keeps: most held tails are a few bytes of a
 * head or frame, and one allocation serves the reads that complete them.
 * fuzz/fuzz-ws.c compiles this file with 1, so that a buffer of exactly
 * the size held shows an off-by-one in how a parser hands it back. */
#ifndef INPUT_MIN_CAP
#define INPUT_MIN_CAP 1024
#endif

int kite__conn_keep_input(kite_conn_t *c, const char *buf, size_t len)
{
    size_t need;
    char *p;

    if (c->in && buf >= c->in && buf <= c->in + c->in_len) {
        /* Already ours (a tail of it, possibly empty when all of it was
         * used): move the unprocessed tail to the front. */
        memmove(c->in, buf, len);
        c->in_len = (uint32_t)len;
        if (!len) {
            free(c->in);
            c->in = NULL;
            c->in_cap = 0;
        }
        return 0;
    }
    if (!len)
        return 0; /* nothing to keep; c->in may still be NULL */
    need = (size_t)c->in_len + len;
    if (need > c->in_cap) {
        size_t cap = need < INPUT_MIN_CAP ? INPUT_MIN_CAP : need;
        p = realloc(c->in, cap);
        if (!p)
            return KITE_ENOMEM;
        c->in = p;
        c->in_cap = (uint32_t)cap;
    }
    memcpy(c->in + c->in_len, buf, len);
    c->in_len = (uint32_t)need;
    return 0;
}

int kite__conn_join_input(kite_conn_t *c, char **buf, size_t *len)
{
    if (!c->in_len)
        return 0;
    if (kite__conn_keep_input(c, *buf, *len) < 0)
        return KITE_ENOMEM;
    *buf = c->in;
    *len = c->in_len;
    return 0;
}
