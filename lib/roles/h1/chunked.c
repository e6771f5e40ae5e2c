/*
 * The chunked transfer coding decoder for request bodies (RFC 9112 7.1).
 * It is a byte-level state machine that keeps everything it needs in
 * kite__h1_chunked_t, so input may arrive split anywhere, and it decodes
 * in place: data bytes only ever move towards the start of the buffer.
 * Chunk extensions and trailer fields are checked for shape and dropped;
 * nothing in kite reads them, and passing them on would only widen what
 * a smuggling attempt could play with. Limits bound the work spent on a
 * size line and on the trailer section.
 */
#include <string.h>

#include "roles/h1/parser.h"

#define MAX_SIZE_DIGITS 16   /* 16 hex digits fill a uint64_t */
#define MAX_SIZE_LINE   4096 /* chunk-size, extensions and BWS, without CRLF */
#define MAX_TRAILERS    8192 /* the whole trailer section with its CRLFs */

enum {
    S_SIZE = 0, /* hex digits of chunk-size; count == digits so far */
    S_SIZE_WS,  /* BWS after the size: only ';' may follow */
    S_EXT,      /* a chunk-ext, up to the end of the line */
    S_SIZE_LF,  /* CR seen at the end of the size line */
    S_DATA,     /* chunk data, remaining bytes to go */
    S_DATA_CR,  /* CRLF that must follow the data */
    S_DATA_LF,
    S_TRAILER,  /* start of a trailer line, or the final empty line */
    S_TR_NAME,  /* trailer field name */
    S_TR_VALUE, /* trailer field value */
    S_TR_LF,    /* CR seen at the end of a trailer field */
    S_END_LF,   /* CR seen on the final empty line */
    S_DONE,
    S_ERROR,
};

static int hexval(unsigned c)
{
    if (c >= '0' && c <= '9')
        return (int)(c - '0');
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return (int)(c - 'a' + 10);
    return -1;
}

/* RFC 9110 5.6.2 tchar, for trailer field names. */
static int is_tchar(unsigned c)
{
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
        return 1;
    if (c >= '0' && c <= '9')
        return 1;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", (int)c) != NULL;
}

/* A byte that may appear in an extension or a trailer value: no controls but HTAB. */
static int is_text(unsigned c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* Called at the end of a size line: go to the data, or to the trailers after "0". */
static void size_line_done(kite__h1_chunked_t *st)
{
    st->count = 0;
    st->state = st->remaining ? S_DATA : S_TRAILER;
}

int kite__h1_chunked_decode(kite__h1_chunked_t *st, char *buf, size_t len, size_t *out_len,
                            size_t *consumed)
{
    const unsigned char *in = (const unsigned char *)buf;
    size_t i = 0, o = 0;
    int ret = 0;

    while (i < len) {
        unsigned c;

        if (st->state == S_DATA) {
            /* The hot path: move a run of data down in one go. */
            size_t n = len - i;

            if (n > st->remaining)
                n = (size_t)st->remaining;
            if (o != i)
                memmove(buf + o, buf + i, n);
            o += n;
            i += n;
            st->remaining -= n;
            if (st->remaining == 0)
                st->state = S_DATA_CR;
            continue;
        }
        if (st->state == S_DONE) {
            ret = 1;
            break;
        }
        if (st->state == S_ERROR)
            goto fail;
        c = in[i++];
        switch (st->state) {
        case S_SIZE: {
            int h = hexval(c);

            if (h >= 0) {
                if (st->count >= MAX_SIZE_DIGITS)
                    goto fail;
                st->remaining = (st->remaining << 4) | (uint64_t)h;
                st->count++;
                continue;
            }
            if (st->count == 0)
                goto fail;
            if (c == ';')
                st->state = S_EXT;
            else if (c == ' ' || c == '\t')
                st->state = S_SIZE_WS;
            else if (c == '\r')
                st->state = S_SIZE_LF;
            else if (c == '\n')
                size_line_done(st);
            else
                goto fail;
            if (c != '\r' && c != '\n')
                st->count++;
            continue;
        }
        case S_SIZE_WS:
            /* RFC 9112 7.1.1 allows BWS before ';' only. */
            if (c == ';')
                st->state = S_EXT;
            else if (c != ' ' && c != '\t')
                goto fail;
            if (++st->count > MAX_SIZE_LINE)
                goto fail;
            continue;
        case S_EXT:
            if (c == '\r') {
                st->state = S_SIZE_LF;
            } else if (c == '\n') {
                size_line_done(st);
            } else {
                if (!is_text(c) || ++st->count > MAX_SIZE_LINE)
                    goto fail;
            }
            continue;
        case S_SIZE_LF:
            if (c != '\n')
                goto fail;
            size_line_done(st);
            continue;
        case S_DATA_CR:
            /* The data must be followed by exactly CRLF; anything else means a wrong size. */
            if (c != '\r')
                goto fail;
            st->state = S_DATA_LF;
            continue;
        case S_DATA_LF:
            if (c != '\n')
                goto fail;
            st->state = S_SIZE;
            st->count = 0;
            continue;
        default:
            break;
        }
        /* Trailer section: every byte counts towards its limit. */
        if (++st->count > MAX_TRAILERS)
            goto fail;
        switch (st->state) {
        case S_TRAILER:
            if (c == '\r')
                st->state = S_END_LF;
            else if (c == '\n')
                st->state = S_DONE;
            else if (is_tchar(c))
                st->state = S_TR_NAME;
            else
                goto fail; /* includes obs-fold, which starts with SP or HTAB */
            break;
        case S_TR_NAME:
            if (c == ':')
                st->state = S_TR_VALUE;
            else if (!is_tchar(c))
                goto fail;
            break;
        case S_TR_VALUE:
            if (c == '\r')
                st->state = S_TR_LF;
            else if (c == '\n')
                st->state = S_TRAILER;
            else if (!is_text(c))
                goto fail;
            break;
        case S_TR_LF:
            if (c != '\n')
                goto fail;
            st->state = S_TRAILER;
            break;
        case S_END_LF:
            if (c != '\n')
                goto fail;
            st->state = S_DONE;
            break;
        default:
            goto fail;
        }
    }
    if (st->state == S_DONE)
        ret = 1;
    *out_len = o;
    *consumed = i;
    return ret;

fail:
    st->state = S_ERROR;
    *out_len = o;
    *consumed = i;
    return -1;
}
