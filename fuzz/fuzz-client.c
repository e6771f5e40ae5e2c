/*
 * libFuzzer target for the response head of client connections
 * (lib/client/response.c), behind the head scanner kite uses to find it
 * (lib/roles/h1/parser.c). Beyond "does not crash" it checks what the
 * client role relies on: a parsed head has a status of three digits
 * from 100, at most KITE__CL_MAX_HEADERS fields whose names and values
 * are NUL-terminated inside the head copy, names without ':' or
 * surrounding blanks, values trimmed, lookups that find the first field
 * of a name, and a body framing that is one of none, chunked, a length
 * or up to the close. The head is a malloc'd copy of exactly its size
 * plus the terminator, so AddressSanitizer sees a read past it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client/private-client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

static int inside(const kite__client_t *cl, size_t len, const char *p)
{
    return p >= cl->head && p <= cl->head + len && p + strlen(p) <= cl->head + len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    kite__h1_limits_t lim = {32 * 1024, 32 * 1024, KITE__CL_MAX_HEADERS};
    static kite__client_t cl;
    size_t scan = 0;
    int hl, i;

    hl = kite__h1_head_end((const char *)data, size, &scan, &lim);
    if (hl <= 0)
        return 0;
    memset(&cl, 0, sizeof(cl));
    cl.i.method = size && (data[0] & 1) ? "HEAD" : "GET";
    CHECK((cl.head = malloc((size_t)hl + 1)) != NULL);
    memcpy(cl.head, data, (size_t)hl);
    cl.head[hl] = '\0';
    if (kite__client_parse_head(&cl, (size_t)hl) == 0) {
        CHECK(cl.status >= 100 && cl.status <= 999);
        CHECK(cl.nhdrs >= 0 && cl.nhdrs <= KITE__CL_MAX_HEADERS);
        for (i = 0; i < cl.nhdrs; i++) {
            const char *n = cl.hdrs[i].name, *v = cl.hdrs[i].value;
            size_t vl = strlen(v);
            CHECK(inside(&cl, (size_t)hl, n) && inside(&cl, (size_t)hl, v));
            CHECK(*n && !strchr(n, ':') && n[0] != ' ' && n[strlen(n) - 1] != ' ');
            CHECK(!vl || (v[0] != ' ' && v[0] != '\t' && v[vl - 1] != ' ' && v[vl - 1] != '\t'));
            CHECK(!strchr(n, '\n') && !strchr(v, '\n') && !strchr(v, '\r'));
            CHECK(kite__client_header(&cl, n) != NULL);
        }
        if (kite__client_framing(&cl) == 0)
            CHECK((cl.chunked && cl.body_left == -1) || (!cl.chunked && cl.body_left >= -1));
    }
    free(cl.head);
    cl.head = NULL;
    return 0;
}
