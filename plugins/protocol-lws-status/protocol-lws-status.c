/*
 * protocol-lws-status: "lws-status", on the wire as in libwebsockets 4.1.
 * It keeps the list of connected lws-status clients (peer address,
 * connect time, User-Agent) and sends it to every one of them each time
 * a client connects or goes away, as one JSON text message:
 *
 *   {"version":"kite/0.1.0","wss_over_h2":"0","hostname":"box","wsi":"2",
 *    "conns":[{"peer":"127.0.0.1","time":"1700000000","ua":"..."},...]}
 *
 * ("time" is seconds since the epoch, "wsi" the number of entries). A list
 * that does not fit in one 4 KiB frame goes out as a fragmented message,
 * one frame per on_writeable, so memory stays bounded however many
 * clients there are. A client whose list changed while it was being sent
 * gets it again afterwards. Anything clients send is ignored.
 *
 * Threads: the list is shared by the vhost's connections on every service
 * thread, under a mutex. Entries are walked by their arrival number, never
 * by pointer across calls, so an entry may go away between fragments.
 * Clients on other threads are woken with kite_post().
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kite.h"
#include "protocol-lws-status.h"

#define FRAME_MAX 4096
#define UA_MAX    256

struct pss {
    kite_conn_t *c;
    uint64_t id; /* arrival number: the list is sorted by it */
    int tsi;
    int listed;
    time_t time;
    char peer[64];
    char ua[UA_MAX];
    /* The message being sent (this connection's thread only). */
    int walking;
    uint64_t walk_next; /* the next entry to send has an id >= this */
    unsigned walk_gen;  /* list generation the walk started from */
    unsigned sent_gen;  /* generation last sent in full */
    int subsequent;     /* an entry was sent already: put a comma first */
};

struct wake {
    struct vhd *vhd;
    int tsi;
    int posted;
};

struct vhd {
    pthread_mutex_t lock;
    kite_context_t *ctx;
    kite_vhost_t *vh;
    int nthreads;
    struct pss **list;
    int n, cap;
    uint64_t next_id;
    unsigned gen; /* changes whenever the list does; starts at 1 */
    int *per_tsi;
    struct wake *wakes;
    char hostname[128];
};

/* Append @s to @o as JSON string content: quotes, backslashes and control
 * characters escaped, bytes that are not valid UTF-8 replaced by '?'.
 * Returns bytes written (never more than @cap - 1; NUL-terminated). */
static size_t json_str(char *o, size_t cap, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t w = 0;

    while (*p && w + 7 < cap) {
        unsigned b = *p;
        size_t n = 1, i;

        if (b == '"' || b == '\\') {
            o[w++] = '\\';
            o[w++] = (char)b;
            p++;
            continue;
        }
        if (b < 0x20) {
            w += (size_t)snprintf(o + w, cap - w, "\\u%04x", b);
            p++;
            continue;
        }
        if (b >= 0x80) {
            int ok = 1;
            n = b >= 0xc2 && b <= 0xdf   ? 2
                : b >= 0xe0 && b <= 0xef ? 3
                : b >= 0xf0 && b <= 0xf4 ? 4
                                         : 0;
            for (i = 1; n && i < n; i++)
                if ((p[i] & 0xc0) != 0x80)
                    ok = 0;
            if (!n || !ok || (b == 0xe0 && p[1] < 0xa0) || (b == 0xed && p[1] >= 0xa0) ||
                (b == 0xf0 && p[1] < 0x90) || (b == 0xf4 && p[1] >= 0x90)) {
                o[w++] = '?';
                p++;
                continue;
            }
        }
        for (i = 0; i < n; i++)
            o[w++] = (char)p[i];
        p += n;
    }
    o[w] = '\0';
    return w;
}

static void on_wake(kite_context_t *ctx, void *arg);

/* The list changed: every client sends it again. Called with the lock held. */
static void changed(struct vhd *vhd, int my_tsi)
{
    int t;

    vhd->gen++;
    if (vhd->per_tsi[my_tsi])
        kite_callback_on_writable_all_protocol(vhd->vh, &kite_protocol_lws_status);
    for (t = 0; t < vhd->nthreads; t++) {
        struct wake *w = &vhd->wakes[t];

        if (t == my_tsi || !vhd->per_tsi[t] || w->posted)
            continue;
        w->posted = 1;
        if (kite_post(vhd->ctx, t, on_wake, w) < 0) {
            kite_warn("lws-status: cannot wake service thread %d", t);
            w->posted = 0;
        }
    }
}

static void on_wake(kite_context_t *ctx, void *arg)
{
    struct wake *w = arg;
    struct vhd *vhd = w->vhd;
    int n;

    (void)ctx;
    pthread_mutex_lock(&vhd->lock);
    w->posted = 0;
    n = vhd->per_tsi[w->tsi];
    pthread_mutex_unlock(&vhd->lock);
    /* After the context has stopped its loops no client is left here. */
    if (n)
        kite_callback_on_writable_all_protocol(vhd->vh, &kite_protocol_lws_status);
}

static int on_vhost_init(kite_vhost_t *vh, const kite_pvo_t *pvo, void **vhd)
{
    struct vhd *v = calloc(1, sizeof(*v));
    int i;

    (void)pvo;
    if (!v)
        return 1;
    v->vh = vh;
    v->ctx = kite_vhost_context(vh);
    v->nthreads = kite_context_count_threads(v->ctx);
    v->per_tsi = calloc((size_t)v->nthreads, sizeof(*v->per_tsi));
    v->wakes = calloc((size_t)v->nthreads, sizeof(*v->wakes));
    if (!v->per_tsi || !v->wakes) {
        free(v->per_tsi);
        free(v->wakes);
        free(v);
        return 1;
    }
    for (i = 0; i < v->nthreads; i++) {
        v->wakes[i].vhd = v;
        v->wakes[i].tsi = i;
    }
    v->gen = 1;
    if (gethostname(v->hostname, sizeof(v->hostname) - 1))
        strcpy(v->hostname, "unknown");
    pthread_mutex_init(&v->lock, NULL);
    *vhd = v;
    return 0;
}

static void on_vhost_destroy(kite_vhost_t *vh, void *vhd)
{
    struct vhd *v = vhd;

    (void)vh;
    if (!v)
        return;
    pthread_mutex_destroy(&v->lock);
    free(v->list);
    free(v->per_tsi);
    free(v->wakes);
    free(v);
}

static int on_established(kite_conn_t *c, void *user)
{
    struct vhd *vhd = kite_vhost_protocol_data(kite_conn_vhost(c), &kite_protocol_lws_status);
    const kite_http_req_t *req = kite_http_request(c);
    const char *ua = req ? kite_http_header(req, "User-Agent") : NULL;
    struct pss *pss = user;

    if (!vhd)
        return 1;
    pss->c = c;
    pss->tsi = kite_conn_tsi(c);
    pss->time = time(NULL);
    if (kite_conn_peer(c, pss->peer, sizeof(pss->peer), NULL) < 0)
        strcpy(pss->peer, "unknown");
    snprintf(pss->ua, sizeof(pss->ua), "%s", ua ? ua : "unknown");

    pthread_mutex_lock(&vhd->lock);
    if (vhd->n == vhd->cap) {
        int cap = vhd->cap ? vhd->cap * 2 : 16;
        struct pss **l = realloc(vhd->list, (size_t)cap * sizeof(*l));
        if (!l) {
            pthread_mutex_unlock(&vhd->lock);
            return 1;
        }
        vhd->list = l;
        vhd->cap = cap;
    }
    pss->id = vhd->next_id++;
    pss->listed = 1;
    vhd->list[vhd->n++] = pss;
    vhd->per_tsi[pss->tsi]++;
    changed(vhd, pss->tsi);
    pthread_mutex_unlock(&vhd->lock);
    return 0;
}

/* Index of the first entry with an id >= @id. Called with the lock held. */
static int find_from(const struct vhd *vhd, uint64_t id)
{
    int lo = 0, hi = vhd->n;

    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (vhd->list[mid]->id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Format one entry into @o (room for @cap bytes); bytes written or 0
 * when it does not fit. */
static size_t entry(char *o, size_t cap, const struct pss *e, int comma)
{
    char peer[sizeof(e->peer) * 6 + 1], ua[UA_MAX * 6 + 1];
    int n;

    json_str(peer, sizeof(peer), e->peer);
    json_str(ua, sizeof(ua), e->ua);
    n = snprintf(o, cap, "%s{\"peer\":\"%s\",\"time\":\"%lld\",\"ua\":\"%s\"}", comma ? "," : "",
                 peer, (long long)e->time, ua);
    return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

static int on_writeable(kite_conn_t *c, void *user)
{
    struct vhd *vhd = kite_vhost_protocol_data(kite_conn_vhost(c), &kite_protocol_lws_status);
    struct pss *pss = user;
    char buf[FRAME_MAX], host[sizeof(vhd->hostname) * 6 + 1];
    size_t w = 0, k;
    unsigned kind;
    int i, fin = 0, first, r, subsequent, again = 0;
    uint64_t next;

    if (!vhd)
        return 0;
    pthread_mutex_lock(&vhd->lock);
    first = !pss->walking;
    if (first && pss->sent_gen == vhd->gen) {
        pthread_mutex_unlock(&vhd->lock);
        return 0;
    }
    next = first ? 0 : pss->walk_next;
    subsequent = first ? 0 : pss->subsequent;
    if (first) {
        json_str(host, sizeof(host), vhd->hostname);
        w = (size_t)snprintf(buf, sizeof(buf),
                             "{\"version\":\"kite/%s\",\"wss_over_h2\":\"0\",\"hostname\":\"%s\","
                             "\"wsi\":\"%d\",\"conns\":[",
                             kite_version(NULL), host, vhd->n);
    }
    /* As many entries as fit, leaving room for the closing "]}". */
    for (i = find_from(vhd, next); i < vhd->n; i++) {
        k = entry(buf + w, sizeof(buf) - w - 2, vhd->list[i], subsequent);
        if (!k)
            break;
        w += k;
        subsequent = 1;
        next = vhd->list[i]->id + 1;
    }
    if (i == vhd->n) {
        memcpy(buf + w, "]}", 2);
        w += 2;
        fin = 1;
    } else if (!w) {
        /* An entry too big for an empty frame would stop the walk: skip
         * it (with these sizes every entry fits). */
        next = vhd->list[i]->id + 1;
    }
    kind = first ? KITE_WRITE_TEXT : KITE_WRITE_CONTINUATION;
    r = kite_write(c, buf, w, kind | (fin ? 0u : (unsigned)KITE_WRITE_NO_FIN));
    if (r == 0) {
        if (first) {
            pss->walking = 1;
            pss->walk_gen = vhd->gen;
        }
        pss->walk_next = next;
        pss->subsequent = subsequent;
        if (fin) {
            pss->walking = 0;
            pss->sent_gen = pss->walk_gen;
        }
        /* More to send, or the list changed while we were sending it. */
        again = !fin || pss->sent_gen != vhd->gen;
    }
    pthread_mutex_unlock(&vhd->lock);
    if (r == KITE_EAGAIN)
        again = 1;
    else if (r < 0)
        return 1;
    if (again)
        kite_callback_on_writable(c);
    return 0;
}

static void on_closed(kite_conn_t *c, void *user, int code)
{
    struct vhd *vhd = kite_vhost_protocol_data(kite_conn_vhost(c), &kite_protocol_lws_status);
    struct pss *pss = user;
    int i;

    (void)code;
    if (!vhd || !pss->listed)
        return;
    pthread_mutex_lock(&vhd->lock);
    i = find_from(vhd, pss->id);
    if (i < vhd->n && vhd->list[i] == pss) {
        memmove(&vhd->list[i], &vhd->list[i + 1], (size_t)(vhd->n - i - 1) * sizeof(*vhd->list));
        vhd->n--;
    }
    pss->listed = 0;
    vhd->per_tsi[pss->tsi]--;
    changed(vhd, pss->tsi);
    pthread_mutex_unlock(&vhd->lock);
}

const kite_protocol_t kite_protocol_lws_status = {
    .abi = KITE_PROTOCOL_ABI,
    .name = "lws-status",
    .per_session_size = sizeof(struct pss),
    .on_vhost_init = on_vhost_init,
    .on_vhost_destroy = on_vhost_destroy,
    .on_established = on_established,
    .on_writeable = on_writeable,
    .on_closed = on_closed,
};

#ifdef KITE_BUILD_PLUGIN
KITE_PLUGIN_EXPORT("lws-status", &kite_protocol_lws_status);
#endif
