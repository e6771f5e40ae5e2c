/*
 * Peer addresses of TCP connections, shared by the service threads: a
 * hash of address -> entry under one mutex, touched when a connection is
 * accepted and when it closes, never per request. An entry counts the
 * peer's connections (ip-limit-wsi) and, in an atomic that needs no lock,
 * its connections reading a request head (ip-limit-ah); it also keeps the
 * address as text for the access log. A connection holds the index of
 * its entry (4 bytes that fit the padding of kite_conn_t). Entries live
 * in chunks that never move, so the owner of an index reads its entry
 * without the lock. AF_UNIX and adopted connections are not tracked.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "event/event.h"

#define CHUNK_BITS 10
#define CHUNK      (1u << CHUNK_BITS)
#define MAX_CHUNKS 1024 /* a million distinct peers at once; more are not tracked */

struct peer {
    uint32_t next;  /* hash chain, or the free list */
    uint32_t conns; /* under the lock */
    atomic_uint ah; /* connections reading a head */
    uint8_t len;    /* 4 or 16 */
    uint8_t addr[16];
    char text[INET6_ADDRSTRLEN];
};

struct kite__peers {
    pthread_mutex_t lock;
    atomic_int on;
    unsigned limit_wsi, limit_ah;
    uint32_t *buckets;
    uint32_t nbuckets, count;
    uint32_t fresh, free_head; /* the next never-used index; reusable entries */
    struct peer *chunks[MAX_CHUNKS];
};

static struct peer *entry(const struct kite__peers *ps, uint32_t i)
{
    return &ps->chunks[i >> CHUNK_BITS][i & (CHUNK - 1)];
}

int kite__peers_create(kite_context_t *ctx)
{
    struct kite__peers *ps = calloc(1, sizeof(*ps));

    if (!ps)
        return KITE_ENOMEM;
    pthread_mutex_init(&ps->lock, NULL);
    ps->limit_wsi = ctx->info.ip_limit_wsi;
    ps->limit_ah = ctx->info.ip_limit_ah;
    ps->fresh = 1; /* index 0 means "not tracked" */
    atomic_init(&ps->on, ps->limit_wsi || ps->limit_ah);
    ctx->peers = ps;
    return 0;
}

void kite__peers_destroy(kite_context_t *ctx)
{
    struct kite__peers *ps = ctx->peers;
    int i;

    if (!ps)
        return;
    for (i = 0; i < MAX_CHUNKS; i++)
        free(ps->chunks[i]);
    free(ps->buckets);
    pthread_mutex_destroy(&ps->lock);
    free(ps);
    ctx->peers = NULL;
}

void kite__peers_enable(kite_context_t *ctx)
{
    if (ctx->peers)
        atomic_store(&ctx->peers->on, 1);
}

static uint32_t hash(const uint8_t *a, unsigned len)
{
    uint32_t h = 2166136261u;
    unsigned i;

    for (i = 0; i < len; i++)
        h = (h ^ a[i]) * 16777619u;
    return h;
}

static int grow(struct kite__peers *ps)
{
    uint32_t n = ps->nbuckets ? ps->nbuckets * 2 : 256, i, j, next;
    uint32_t *b = calloc(n, sizeof(*b));

    if (!b)
        return KITE_ENOMEM;
    for (i = 0; i < ps->nbuckets; i++)
        for (j = ps->buckets[i]; j; j = next) {
            struct peer *e = entry(ps, j);
            uint32_t h = hash(e->addr, e->len) & (n - 1);
            next = e->next;
            e->next = b[h];
            b[h] = j;
        }
    free(ps->buckets);
    ps->buckets = b;
    ps->nbuckets = n;
    return 0;
}

/* A free entry's index, or 0. */
static uint32_t take_entry(struct kite__peers *ps)
{
    uint32_t i = ps->free_head;

    if (i) {
        ps->free_head = entry(ps, i)->next;
        return i;
    }
    i = ps->fresh;
    if ((i >> CHUNK_BITS) >= MAX_CHUNKS)
        return 0;
    if (!ps->chunks[i >> CHUNK_BITS] &&
        !(ps->chunks[i >> CHUNK_BITS] = calloc(CHUNK, sizeof(struct peer))))
        return 0;
    ps->fresh++;
    return i;
}

/* The peer's address, with IPv4-mapped IPv6 as plain IPv4; 0 or -1. */
static int peer_addr(kite_conn_t *c, uint8_t *addr, uint8_t *len, char *text)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    int fd = c->pt->evops->fd(c);

    if (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &sl))
        return -1;
    if (ss.ss_family == AF_INET6) {
        const uint8_t *a = ((struct sockaddr_in6 *)&ss)->sin6_addr.s6_addr;
        if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)a)) {
            memcpy(addr, a + 12, 4);
            *len = 4;
        } else {
            memcpy(addr, a, 16);
            *len = 16;
        }
    } else if (ss.ss_family == AF_INET) {
        memcpy(addr, &((struct sockaddr_in *)&ss)->sin_addr, 4);
        *len = 4;
    } else {
        return -1;
    }
    return inet_ntop(*len == 4 ? AF_INET : AF_INET6, addr, text, INET6_ADDRSTRLEN) ? 0 : -1;
}

int kite__peer_add(kite_conn_t *c)
{
    struct kite__peers *ps = c->pt->ctx->peers;
    uint8_t addr[16], len;
    char text[INET6_ADDRSTRLEN];
    struct peer *e = NULL;
    uint32_t h, i;
    int r = 0;

    if (!ps || !atomic_load_explicit(&ps->on, memory_order_relaxed) || !c->ls ||
        c->ls->family == AF_UNIX || peer_addr(c, addr, &len, text) < 0)
        return 0;
    pthread_mutex_lock(&ps->lock);
    if (ps->count >= ps->nbuckets * 2 && grow(ps) < 0 && !ps->nbuckets)
        goto out;
    h = hash(addr, len) & (ps->nbuckets - 1);
    for (i = ps->buckets[h]; i; i = e->next) {
        e = entry(ps, i);
        if (e->len == len && !memcmp(e->addr, addr, len))
            break;
    }
    if (!i) {
        /* Out of memory for the table: the connection is served untracked. */
        if (!(i = take_entry(ps)))
            goto out;
        e = entry(ps, i);
        e->conns = 0;
        atomic_store_explicit(&e->ah, 0, memory_order_relaxed);
        e->len = len;
        memcpy(e->addr, addr, len);
        memcpy(e->text, text, sizeof(text));
        e->next = ps->buckets[h];
        ps->buckets[h] = i;
        ps->count++;
    }
    if (ps->limit_wsi && e->conns >= ps->limit_wsi) {
        r = KITE_EAGAIN;
        goto out;
    }
    e->conns++;
    c->peer = i;
out:
    pthread_mutex_unlock(&ps->lock);
    return r;
}

void kite__peer_del(kite_conn_t *c)
{
    struct kite__peers *ps = c->pt->ctx->peers;
    struct peer *e;
    uint32_t *pp;

    if (!c->peer)
        return;
    pthread_mutex_lock(&ps->lock);
    e = entry(ps, c->peer);
    if (!--e->conns) {
        for (pp = &ps->buckets[hash(e->addr, e->len) & (ps->nbuckets - 1)]; *pp;
             pp = &entry(ps, *pp)->next)
            if (*pp == c->peer) {
                *pp = e->next;
                break;
            }
        e->next = ps->free_head;
        ps->free_head = c->peer;
        ps->count--;
    }
    pthread_mutex_unlock(&ps->lock);
    c->peer = 0;
}

const char *kite__peer_text(const kite_conn_t *c)
{
    if (c->peer)
        return entry(c->pt->ctx->peers, c->peer)->text;
    return c->ls && c->ls->family == AF_UNIX ? "unix" : "-";
}

int kite__peer_ah(kite_conn_t *c, int take)
{
    struct kite__peers *ps = c->pt->ctx->peers;
    struct peer *e;

    if (!c->peer || !ps->limit_ah)
        return 0;
    e = entry(ps, c->peer);
    if (!take) {
        atomic_fetch_sub_explicit(&e->ah, 1, memory_order_relaxed);
        return 0;
    }
    if (atomic_fetch_add_explicit(&e->ah, 1, memory_order_relaxed) >= ps->limit_ah) {
        atomic_fetch_sub_explicit(&e->ah, 1, memory_order_relaxed);
        return KITE_EAGAIN;
    }
    return 0;
}
