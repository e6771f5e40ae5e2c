/*
 * lws rings: a fixed number of fixed-size elements, one writer (the head)
 * and any number of readers, each with its own tail; the oldest tail
 * bounds how far the head may go. Offsets are in bytes, as in lws, so
 * lws_ring_next_linear_insert_range() can hand out raw space.
 */
#include <stdlib.h>
#include <string.h>

#include "private.h"

struct lws_ring {
    unsigned char *buf;
    void (*destroy_element)(void *);
    uint32_t buflen, element_len, head, oldest_tail;
};

struct lws_ring *lws_ring_create(size_t element_len, size_t count, void (*destroy)(void *))
{
    struct lws_ring *r = calloc(1, sizeof(*r));

    if (!r)
        return NULL;
    r->buflen = (uint32_t)(element_len * count);
    r->element_len = (uint32_t)element_len;
    r->destroy_element = destroy;
    r->buf = malloc(r->buflen);
    if (!r->buf) {
        free(r);
        return NULL;
    }
    return r;
}

void lws_ring_destroy(struct lws_ring *r)
{
    if (!r)
        return;
    if (r->destroy_element)
        while (r->oldest_tail != r->head) {
            r->destroy_element(r->buf + r->oldest_tail);
            r->oldest_tail = (r->oldest_tail + r->element_len) % r->buflen;
        }
    free(r->buf);
    free(r);
}

static size_t used(const struct lws_ring *r, uint32_t tail)
{
    return (r->head + r->buflen - tail) % r->buflen;
}

size_t lws_ring_get_count_free_elements(struct lws_ring *r)
{
    /* One element stays empty so a full ring is not an empty one. */
    return (r->buflen - used(r, r->oldest_tail)) / r->element_len - 1;
}

size_t lws_ring_get_count_waiting_elements(struct lws_ring *r, uint32_t *tail)
{
    return used(r, tail ? *tail : r->oldest_tail) / r->element_len;
}

size_t lws_ring_insert(struct lws_ring *r, const void *src, size_t max_count)
{
    size_t n = lws_ring_get_count_free_elements(r), i;

    if (n > max_count)
        n = max_count;
    for (i = 0; i < n; i++) {
        memcpy(r->buf + r->head, (const unsigned char *)src + i * r->element_len, r->element_len);
        r->head = (r->head + r->element_len) % r->buflen;
    }
    return n;
}

size_t lws_ring_consume(struct lws_ring *r, uint32_t *tail, void *dest, size_t max_count)
{
    uint32_t *t = tail ? tail : &r->oldest_tail;
    size_t n = used(r, *t) / r->element_len, i;

    if (n > max_count)
        n = max_count;
    for (i = 0; i < n; i++) {
        if (dest)
            memcpy((unsigned char *)dest + i * r->element_len, r->buf + *t, r->element_len);
        else if (!tail && r->destroy_element)
            r->destroy_element(r->buf + *t);
        *t = (*t + r->element_len) % r->buflen;
    }
    return n;
}

const void *lws_ring_get_element(struct lws_ring *r, uint32_t *tail)
{
    uint32_t t = tail ? *tail : r->oldest_tail;

    return t == r->head ? NULL : r->buf + t;
}

void lws_ring_update_oldest_tail(struct lws_ring *r, uint32_t tail)
{
    if (r->destroy_element)
        while (r->oldest_tail != tail && r->oldest_tail != r->head) {
            r->destroy_element(r->buf + r->oldest_tail);
            r->oldest_tail = (r->oldest_tail + r->element_len) % r->buflen;
        }
    r->oldest_tail = tail;
}

uint32_t lws_ring_get_oldest_tail(struct lws_ring *r)
{
    return r->oldest_tail;
}

int lws_ring_next_linear_insert_range(struct lws_ring *r, void **start, size_t *bytes)
{
    size_t f = lws_ring_get_count_free_elements(r) * r->element_len;
    size_t lin = r->buflen - r->head;

    if (!f)
        return 1;
    *start = r->buf + r->head;
    *bytes = f < lin ? f : lin;
    return 0;
}

void lws_ring_bump_head(struct lws_ring *r, size_t bytes)
{
    r->head = (uint32_t)((r->head + bytes) % r->buflen);
}

void lws_ring_dump(struct lws_ring *r, uint32_t *tail)
{
    lwsl_notice("ring %p: head %u oldest tail %u buflen %u\n", (void *)r, r->head, r->oldest_tail,
                r->buflen);
}
