/*
 * The HTTP/1.1 response head of a client connection, parsed in place once
 * the server's head scanner has found its end: the status line, the
 * header fields (at most KITE__CL_MAX_HEADERS, names and values
 * NUL-terminated, values trimmed), lookups by name, and how the body is
 * framed (RFC 9112 6.3: none for HEAD, 204 and 304; chunked when it is
 * the last coding; else Content-Length; else up to the close). Kept apart
 * from the role so that the fuzz target can drive it alone.
 */
#include <stdlib.h>
#include <string.h>

#include "client/private-client.h"
#include "misc/misc.h"

/* Parse the head in cl->head (NUL-terminated, @len bytes). 0 or <0. */
int kite__client_parse_head(kite__client_t *cl, size_t len)
{
    char *p = cl->head, *end = cl->head + len, *eol, *colon;
    int i;

    while (p < end && (*p == '\r' || *p == '\n'))
        p++;
    if (end - p < 12 || memcmp(p, "HTTP/1.", 7) || (p[7] != '0' && p[7] != '1') || p[8] != ' ')
        return KITE_EPROTO;
    for (i = 9, cl->status = 0; i < 12; i++) {
        if (p[i] < '0' || p[i] > '9')
            return KITE_EPROTO;
        cl->status = cl->status * 10 + (p[i] - '0');
    }
    if (cl->status < 100 || (p[12] != ' ' && p[12] != '\r' && p[12] != '\n'))
        return KITE_EPROTO;
    cl->nhdrs = 0;
    if (!(eol = strchr(p, '\n')))
        return KITE_EPROTO;
    p = eol + 1;
    while (p < end && *p != '\r' && *p != '\n') {
        eol = strchr(p, '\n');
        if (!eol || cl->nhdrs == KITE__CL_MAX_HEADERS)
            return KITE_EPROTO;
        *eol = '\0';
        if (eol > p && eol[-1] == '\r')
            eol[-1] = '\0';
        colon = strchr(p, ':');
        if (!colon || colon == p || *p == ' ' || *p == '\t' || colon[-1] == ' ')
            return KITE_EPROTO;
        *colon++ = '\0';
        while (*colon == ' ' || *colon == '\t')
            colon++;
        {
            size_t vl = strlen(colon);
            while (vl && (colon[vl - 1] == ' ' || colon[vl - 1] == '\t'))
                colon[--vl] = '\0';
        }
        cl->hdrs[cl->nhdrs].name = p;
        cl->hdrs[cl->nhdrs].value = colon;
        cl->nhdrs++;
        p = eol + 1;
    }
    return 0;
}

const char *kite__client_header(const kite__client_t *cl, const char *name)
{
    size_t n = strlen(name) + 1;
    int i;

    for (i = 0; i < cl->nhdrs; i++)
        if (!kite__strncasecmp(cl->hdrs[i].name, name, n))
            return cl->hdrs[i].value;
    return NULL;
}

/* How the body is framed: 0, or <0 for a head that cannot be framed. */
int kite__client_framing(kite__client_t *cl)
{
    const char *te = kite__client_header(cl, "Transfer-Encoding"),
               *cls = kite__client_header(cl, "Content-Length");
    char *e;
    long long n;

    cl->chunked = 0;
    cl->body_left = -1;
    if ((cl->i.method && !strcmp(cl->i.method, "HEAD")) || cl->status == 204 || cl->status == 304) {
        cl->body_left = 0;
        return 0;
    }
    if (te) {
        /* chunked must be the last coding; anything else is not framed. */
        size_t n2 = strlen(te);
        if (n2 < 7 || kite__strncasecmp(te + n2 - 7, "chunked", 8))
            return 0;
        cl->chunked = 1;
        memset(&cl->chunk, 0, sizeof(cl->chunk));
        return 0;
    }
    if (cls) {
        n = strtoll(cls, &e, 10);
        if (e == cls || *e || n < 0)
            return KITE_EPROTO;
        cl->body_left = n;
    }
    return 0;
}
