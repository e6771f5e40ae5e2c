/*
 * protocol-lws-mirror: "lws-mirror-protocol", on the wire as in
 * libwebsockets 4.1. A connection joins the mirror instance named by
 * "?mirror=NAME" on its upgrade URL ("" without one); a vhost has at most
 * MAX_INSTANCES names at once, and a connection asking for one more is
 * closed with 1008. Every piece of a message a member sends is re-sent
 * to every member of its instance, the sender included, as a message of
 * its own (text stays text; a text piece that ends inside a UTF-8
 * sequence keeps those bytes for the next piece, so every re-sent text
 * message is valid UTF-8).
 *
 * Memory is bounded. Messages wait in one ring per instance (RING
 * entries, RING_BYTES_MAX bytes); each member keeps its own tail, and a
 * message is freed once every member has sent it. A member that sends
 * while the ring is nearly full stops reading (rx flow control) and polls
 * every POLL_US until there is room again. If the slowest member makes
 * no progress for STALL_US while someone waits, or the ring is full,
 * the slowest members are dropped: they stop holding the ring, get
 * nothing more and are closed with 1008 when they next become writeable
 * (a member that reads nothing at all is closed by kite's send timeout).
 *
 * Threads: with several service threads an instance has members on each
 * of them. The instances live in the per-vhost data under one mutex; a
 * callback only ever calls kite on its own connection, or on connections
 * of its own thread, and wakes members on other threads with kite_post()
 * (one post per instance and thread in flight, counted in `refs` so the
 * instance outlives it).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kite.h"
#include "protocol-lws-mirror.h"

#define MAX_INSTANCES  3
#define NAME_MAX_LEN   63
#define RING           512          /* messages an instance holds */
#define RXFLOW_MIN     32           /* a sender pauses below this many free entries */
#define RXFLOW_MAX     (RING / 2)   /* and resumes at this many */
#define RING_BYTES_HI  (1u << 20)   /* a sender pauses above this many bytes held */
#define RING_BYTES_LO  (256u << 10) /* and resumes below this */
#define RING_BYTES_MAX (4u << 20)   /* past this (or RING entries) the slowest are dropped */
#define POLL_US        20000u
#define STALL_US       3000000u

struct instance;

struct msg {
    char *p;
    uint32_t len;
    uint8_t binary;
};

struct pss {
    kite_conn_t *c;
    struct instance *mi;
    struct pss *next, *prev; /* mi->members */
    uint32_t tail;           /* next message to send */
    int tsi;
    kite_timer_t poll; /* while paused */
    uint32_t stall_oldest;
    unsigned stall_us;
    uint8_t paused;  /* we stopped reading from this member */
    uint8_t dropped; /* too slow: gets nothing more, closes when writeable */
    uint8_t carry_len;
    char carry[4]; /* the start of a UTF-8 sequence cut by a piece's end */
};

struct wake {
    struct instance *mi;
    int tsi;
    int posted;
};

struct vhd;

struct instance {
    struct vhd *vhd;
    char name[NAME_MAX_LEN + 1];
    struct pss *members;
    int nmembers;
    int refs;        /* members + wakes posted */
    int listed;      /* still in vhd->mi[] */
    uint32_t head;   /* next sequence number */
    uint32_t oldest; /* oldest message still held */
    size_t bytes;
    int *per_tsi; /* members on each service thread */
    struct wake *wakes;
    struct msg ring[RING];
};

struct vhd {
    pthread_mutex_t lock;
    kite_context_t *ctx;
    int nthreads;
    struct instance *mi[MAX_INSTANCES];
};

static void instance_free(struct instance *mi)
{
    for (; mi->oldest != mi->head; mi->oldest++)
        free(mi->ring[mi->oldest % RING].p);
    free(mi->per_tsi);
    free(mi->wakes);
    free(mi);
}

static struct instance *instance_new(struct vhd *vhd, const char *name)
{
    struct instance *mi = calloc(1, sizeof(*mi));
    int i;

    if (!mi)
        return NULL;
    mi->per_tsi = calloc((size_t)vhd->nthreads, sizeof(*mi->per_tsi));
    mi->wakes = calloc((size_t)vhd->nthreads, sizeof(*mi->wakes));
    if (!mi->per_tsi || !mi->wakes) {
        instance_free(mi);
        return NULL;
    }
    for (i = 0; i < vhd->nthreads; i++) {
        mi->wakes[i].mi = mi;
        mi->wakes[i].tsi = i;
    }
    mi->vhd = vhd;
    strcpy(mi->name, name);
    mi->listed = 1;
    return mi;
}

/* Drop the reference a member or a wake held; free an unlisted instance
 * nobody refers to any more. Called with the lock held. */
static void instance_unref(struct instance *mi)
{
    if (--mi->refs == 0 && !mi->listed)
        instance_free(mi);
}

/* Free the messages every live member has sent. Called with the lock held. */
static void advance_oldest(struct instance *mi)
{
    uint32_t lag = 0, to;
    struct pss *m;

    for (m = mi->members; m; m = m->next)
        if (!m->dropped && mi->head - m->tail > lag)
            lag = mi->head - m->tail;
    to = mi->head - lag;
    for (; mi->oldest != to; mi->oldest++) {
        struct msg *g = &mi->ring[mi->oldest % RING];
        mi->bytes -= g->len;
        free(g->p);
        g->p = NULL;
    }
}

static void on_wake(kite_context_t *ctx, void *arg);

/* Ask every member on the calling thread for on_writeable, and post a
 * wake to each other thread that has members. Called with the lock held. */
static void wake_members(struct instance *mi, int my_tsi)
{
    struct pss *m;
    int t;

    for (m = mi->members; m; m = m->next)
        if (m->tsi == my_tsi)
            kite_callback_on_writable(m->c);
    for (t = 0; t < mi->vhd->nthreads; t++) {
        struct wake *w = &mi->wakes[t];

        if (t == my_tsi || !mi->per_tsi[t] || w->posted)
            continue;
        w->posted = 1;
        mi->refs++;
        if (kite_post(mi->vhd->ctx, t, on_wake, w) < 0) {
            kite_warn("lws-mirror: cannot wake service thread %d", t);
            w->posted = 0;
            mi->refs--;
        }
    }
}

static void on_wake(kite_context_t *ctx, void *arg)
{
    struct wake *w = arg;
    struct instance *mi = w->mi;
    struct vhd *vhd = mi->vhd;
    struct pss *m;

    (void)ctx;
    pthread_mutex_lock(&vhd->lock);
    w->posted = 0;
    /* After the context has stopped its loops no member is left here. */
    for (m = mi->members; m; m = m->next)
        if (m->tsi == w->tsi)
            kite_callback_on_writable(m->c);
    instance_unref(mi);
    pthread_mutex_unlock(&vhd->lock);
}

/* Drop the members furthest behind so that the ring can move on; 0 when
 * nobody is behind. Called with the lock held. */
static int drop_slowest(struct instance *mi, int my_tsi)
{
    uint32_t lag = 0;
    struct pss *m;

    for (m = mi->members; m; m = m->next)
        if (!m->dropped && mi->head - m->tail > lag)
            lag = mi->head - m->tail;
    if (!lag)
        return 0;
    for (m = mi->members; m; m = m->next)
        if (!m->dropped && mi->head - m->tail == lag) {
            kite_notice("lws-mirror \"%s\": dropping a member %u messages behind", mi->name,
                        (unsigned)lag);
            m->dropped = 1;
            m->tail = mi->head;
        }
    advance_oldest(mi);
    wake_members(mi, my_tsi);
    return 1;
}

static int ring_full(const struct instance *mi, size_t add)
{
    return mi->head - mi->oldest >= RING || mi->bytes + add > RING_BYTES_MAX;
}

static int ring_room(const struct instance *mi)
{
    return RING - (mi->head - mi->oldest) >= RXFLOW_MAX && mi->bytes <= RING_BYTES_LO;
}

static void poll_room(kite_conn_t *c, kite_timer_t *t)
{
    struct pss *pss = kite_conn_user(c);
    struct instance *mi = pss->mi;
    struct vhd *vhd = mi->vhd;
    int resume = 0;

    pthread_mutex_lock(&vhd->lock);
    if (ring_room(mi) || pss->dropped) {
        pss->paused = 0;
        resume = 1;
    } else {
        if (mi->oldest != pss->stall_oldest) {
            pss->stall_oldest = mi->oldest;
            pss->stall_us = 0;
        } else if ((pss->stall_us += POLL_US) >= STALL_US) {
            drop_slowest(mi, pss->tsi);
            pss->stall_us = 0;
        }
    }
    pthread_mutex_unlock(&vhd->lock);
    if (resume)
        kite_rx_flow_control(c, 1);
    else
        kite_timer_schedule(c, t, POLL_US, poll_room);
}

/* Length of the longest prefix of @p that ends between UTF-8 sequences
 * (@p is valid UTF-8 so far: kite checked it). */
static size_t utf8_whole(const char *p, size_t len)
{
    size_t i = len, back;

    for (back = 0; i > 0 && back < 4; back++) {
        unsigned char b = (unsigned char)p[--i];
        if ((b & 0xc0) != 0x80) {
            size_t need = b < 0x80 ? 1 : b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
            return len - i >= need ? len : i;
        }
    }
    return len;
}

static int on_vhost_init(kite_vhost_t *vh, const kite_pvo_t *pvo, void **vhd)
{
    struct vhd *v = calloc(1, sizeof(*v));

    (void)pvo;
    if (!v)
        return 1;
    v->ctx = kite_vhost_context(vh);
    v->nthreads = kite_context_count_threads(v->ctx);
    pthread_mutex_init(&v->lock, NULL);
    *vhd = v;
    return 0;
}

static void on_vhost_destroy(kite_vhost_t *vh, void *vhd)
{
    struct vhd *v = vhd;
    int i;

    (void)vh;
    if (!v)
        return;
    /* Every connection has closed by now; only empty instances remain. */
    for (i = 0; i < MAX_INSTANCES; i++)
        if (v->mi[i])
            instance_free(v->mi[i]);
    pthread_mutex_destroy(&v->lock);
    free(v);
}

static int on_established(kite_conn_t *c, void *user)
{
    struct vhd *vhd = kite_vhost_protocol_data(kite_conn_vhost(c), &kite_protocol_lws_mirror);
    const kite_http_req_t *req = kite_http_request(c);
    struct pss *pss = user;
    struct instance *mi = NULL;
    char name[NAME_MAX_LEN + 1] = "";
    const char *why = NULL;
    int i, free_slot = -1, r;

    if (!vhd)
        return 1;
    r = req ? kite_http_query_arg(req, "mirror", name, sizeof(name)) : KITE_ENOENT;
    if (r == KITE_E2BIG) {
        kite_close(c, KITE_WS_CLOSE_POLICY, "mirror name too long");
        return 0;
    }
    if (r < 0)
        name[0] = '\0';

    pthread_mutex_lock(&vhd->lock);
    for (i = 0; i < MAX_INSTANCES; i++) {
        if (vhd->mi[i] && !strcmp(vhd->mi[i]->name, name)) {
            mi = vhd->mi[i];
            break;
        }
        if (!vhd->mi[i] && free_slot < 0)
            free_slot = i;
    }
    if (!mi) {
        if (free_slot < 0)
            why = "too many mirror instances";
        else if (!(mi = instance_new(vhd, name)))
            why = "out of memory";
        else
            vhd->mi[free_slot] = mi;
    }
    if (mi) {
        pss->c = c;
        pss->mi = mi;
        pss->tsi = kite_conn_tsi(c);
        pss->tail = mi->head;
        pss->next = mi->members;
        if (mi->members)
            mi->members->prev = pss;
        mi->members = pss;
        mi->nmembers++;
        mi->per_tsi[pss->tsi]++;
        mi->refs++;
    }
    pthread_mutex_unlock(&vhd->lock);
    if (why) {
        kite_notice("lws-mirror: refusing \"%s\": %s", name, why);
        kite_close(c, KITE_WS_CLOSE_POLICY, why);
    }
    return 0;
}

static int on_receive(kite_conn_t *c, void *user, const void *in, size_t len, unsigned flags)
{
    struct pss *pss = user;
    struct instance *mi = pss->mi;
    int binary = !!(flags & KITE_RX_BINARY),
        whole_msg = (flags & (KITE_RX_FIRST | KITE_RX_FINAL)) == (KITE_RX_FIRST | KITE_RX_FINAL);
    size_t total, cut;
    char *p;

    if (!mi)
        return 0;
    total = pss->carry_len + len;
    if (total > UINT32_MAX)
        return 1;
    p = malloc(total ? total : 1);
    if (!p)
        return 1;
    memcpy(p, pss->carry, pss->carry_len);
    if (len)
        memcpy(p + pss->carry_len, in, len);
    cut = binary || (flags & KITE_RX_FINAL) ? total : utf8_whole(p, total);
    pss->carry_len = (uint8_t)(total - cut);
    memcpy(pss->carry, p + cut, pss->carry_len);
    if (!cut && !whole_msg) {
        free(p); /* nothing complete to mirror yet */
        return 0;
    }

    pthread_mutex_lock(&mi->vhd->lock);
    if (pss->dropped) {
        pthread_mutex_unlock(&mi->vhd->lock);
        free(p);
        return 0;
    }
    /* Only a piece larger than the whole byte budget can still find the
     * ring full once nobody is behind; it is held all the same. */
    while (ring_full(mi, cut) && drop_slowest(mi, pss->tsi))
        ;
    mi->ring[mi->head % RING] =
        (struct msg){.p = p, .len = (uint32_t)cut, .binary = (uint8_t)binary};
    mi->head++;
    mi->bytes += cut;
    if (!pss->paused &&
        (RING - (mi->head - mi->oldest) < RXFLOW_MIN || mi->bytes > RING_BYTES_HI)) {
        pss->paused = 1;
        pss->stall_oldest = mi->oldest;
        pss->stall_us = 0;
        kite_rx_flow_control(c, 0);
        kite_timer_schedule(c, &pss->poll, POLL_US, poll_room);
    }
    wake_members(mi, pss->tsi);
    pthread_mutex_unlock(&mi->vhd->lock);
    return 0;
}

static int on_writeable(kite_conn_t *c, void *user)
{
    struct pss *pss = user;
    struct instance *mi = pss->mi;
    const struct msg *g;
    int r = 0, more, dropped;

    if (!mi)
        return 0;
    pthread_mutex_lock(&mi->vhd->lock);
    dropped = pss->dropped;
    if (!dropped && pss->tail != mi->head) {
        int was_oldest = pss->tail == mi->oldest;

        g = &mi->ring[pss->tail % RING];
        r = kite_write(c, g->p, g->len, g->binary ? KITE_WRITE_BINARY : KITE_WRITE_TEXT);
        if (r == 0) {
            pss->tail++;
            if (was_oldest)
                advance_oldest(mi);
        }
    }
    more = !dropped && pss->tail != mi->head;
    pthread_mutex_unlock(&mi->vhd->lock);
    if (dropped) {
        kite_close(c, KITE_WS_CLOSE_POLICY, "too slow for the mirror");
        return 0;
    }
    if (r < 0 && r != KITE_EAGAIN)
        return 1;
    if (more || r == KITE_EAGAIN)
        kite_callback_on_writable(c); /* after an EAGAIN: once the output has drained */
    return 0;
}

static void on_closed(kite_conn_t *c, void *user, int code)
{
    struct pss *pss = user;
    struct instance *mi = pss->mi;
    struct vhd *vhd;
    int i;

    (void)c;
    (void)code;
    kite_timer_cancel(&pss->poll);
    if (!mi)
        return;
    vhd = mi->vhd;
    pthread_mutex_lock(&vhd->lock);
    if (pss->prev)
        pss->prev->next = pss->next;
    else
        mi->members = pss->next;
    if (pss->next)
        pss->next->prev = pss->prev;
    mi->nmembers--;
    mi->per_tsi[pss->tsi]--;
    pss->mi = NULL;
    if (!mi->nmembers) {
        for (i = 0; i < MAX_INSTANCES; i++)
            if (vhd->mi[i] == mi)
                vhd->mi[i] = NULL;
        mi->listed = 0;
    } else {
        advance_oldest(mi);
    }
    instance_unref(mi);
    pthread_mutex_unlock(&vhd->lock);
}

const kite_protocol_t kite_protocol_lws_mirror = {
    .abi = KITE_PROTOCOL_ABI,
    .name = "lws-mirror-protocol",
    .per_session_size = sizeof(struct pss),
    .on_vhost_init = on_vhost_init,
    .on_vhost_destroy = on_vhost_destroy,
    .on_established = on_established,
    .on_receive = on_receive,
    .on_writeable = on_writeable,
    .on_closed = on_closed,
};

#ifdef KITE_BUILD_PLUGIN
KITE_PLUGIN_EXPORT("lws-mirror", &kite_protocol_lws_mirror);
#endif
