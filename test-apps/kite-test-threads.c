/*
 * kite-test-threads: websockets fed from threads that are not service
 * threads (the idea of lws's test-server-pthreads). The context runs
 * count_threads service threads (default 2); K worker threads post
 * numbered messages "w<id> <seq>" to every service thread with
 * kite_post(). On the service thread the post callback queues the message
 * for each "kite-threads" websocket of that thread and asks for
 * on_writeable; each connection sends its queue in order, one message per
 * on_writeable. Nothing but kite_post() crosses threads: the per-thread
 * connection lists are only touched by their own thread.
 *
 *   kite-test-threads [-p port] [-t threads] [-w workers] [-m messages]
 *                     [-i interval-us] [--selftest N]
 *
 * Without --selftest it serves on port 7682 (0: ephemeral) until SIGINT;
 * workers post every interval (default 100 ms) forever, or -m messages
 * each. With --selftest N it listens on an ephemeral loopback port, opens
 * N websocket connections itself from a client thread (raw sockets, a
 * minimal client: handshake with the Sec-WebSocket-Accept check, masked
 * frames out, unmasked frames in), starts the workers once all N are
 * established, checks that every connection receives every message
 * exactly once and in order per worker, closes with 1000, and prints TAP.
 * Exit status 0 when every check passed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "kite.h"

#define MAX_WORKERS 16
#define MAX_CLIENTS 256
#define QUEUE_MAX   (1u << 16) /* messages a connection may have queued */

/* ---- the server side ---------------------------------------------------- */

struct vhd;

/* One posted message for one service thread; shared by that thread's
 * connections, freed when the last of them has sent it. */
struct tmsg {
    struct vhd *vhd;
    int tsi;
    int refs;
    size_t len;
    char text[32];
};

struct pss {
    kite_conn_t *c;
    struct pss *next, *prev;
    struct tmsg **q; /* ring of queued messages */
    uint32_t qcap, qhead, qtail;
    int tsi;
};

/* A service thread's connections: only that thread touches it. */
struct tstate {
    struct pss *conns;
};

struct vhd {
    int nthreads;
    struct tstate *ts;
};

static struct {
    kite_context_t *ctx;
    struct vhd *vhd;
    int nthreads, nworkers;
    long messages;        /* per worker; 0: forever */
    unsigned interval_us; /* between a worker's messages */
    int wait_for;         /* workers start when this many conns are established */
    atomic_int established;
    atomic_int per_tsi[64];
    atomic_int stop;
    atomic_long live_msgs; /* allocated and not yet freed */
    atomic_long post_failures;
} app;

static void msg_unref(struct tmsg *m)
{
    if (--m->refs <= 0) {
        free(m);
        atomic_fetch_sub(&app.live_msgs, 1);
    }
}

static int enqueue(struct pss *pss, struct tmsg *m)
{
    uint32_t n = pss->qhead - pss->qtail, i;

    if (n == pss->qcap) {
        uint32_t cap = pss->qcap ? pss->qcap * 2 : 64;
        struct tmsg **q;

        if (cap > QUEUE_MAX)
            return KITE_E2BIG;
        q = malloc(cap * sizeof(*q));
        if (!q)
            return KITE_ENOMEM;
        for (i = 0; i < n; i++)
            q[i] = pss->q[(pss->qtail + i) & (pss->qcap - 1)];
        free(pss->q);
        pss->q = q;
        pss->qcap = cap;
        pss->qtail = 0;
        pss->qhead = n;
    }
    pss->q[pss->qhead++ & (pss->qcap - 1)] = m;
    m->refs++;
    return 0;
}

/* Runs on service thread m->tsi. */
static void on_post(kite_context_t *ctx, void *arg)
{
    struct tmsg *m = arg;
    struct pss *pss, *next;

    (void)ctx;
    m->refs = 1; /* ours, until every connection has its reference */
    /* After the context has stopped its loops no connection is left. */
    for (pss = m->vhd->ts[m->tsi].conns; pss; pss = next) {
        next = pss->next;
        if (enqueue(pss, m) < 0) {
            kite_warn("kite-threads: a connection's queue is full: closing it");
            kite_close(pss->c, KITE_WS_CLOSE_POLICY, "queue overflow");
            continue;
        }
        kite_callback_on_writable(pss->c);
    }
    msg_unref(m);
}

static int on_vhost_init(kite_vhost_t *vh, const kite_pvo_t *pvo, void **vhd)
{
    struct vhd *v = calloc(1, sizeof(*v));

    (void)pvo;
    if (!v)
        return 1;
    v->nthreads = kite_context_count_threads(kite_vhost_context(vh));
    v->ts = calloc((size_t)v->nthreads, sizeof(*v->ts));
    if (!v->ts) {
        free(v);
        return 1;
    }
    *vhd = v;
    return 0;
}

static void on_vhost_destroy(kite_vhost_t *vh, void *vhd)
{
    struct vhd *v = vhd;

    (void)vh;
    free(v->ts);
    free(v);
}

static int on_established(kite_conn_t *c, void *user)
{
    struct pss *pss = user;
    struct tstate *ts = &app.vhd->ts[kite_conn_tsi(c)];

    pss->c = c;
    pss->tsi = kite_conn_tsi(c);
    pss->next = ts->conns;
    if (ts->conns)
        ts->conns->prev = pss;
    ts->conns = pss;
    if (pss->tsi < 64)
        atomic_fetch_add(&app.per_tsi[pss->tsi], 1);
    atomic_fetch_add(&app.established, 1);
    return 0;
}

static int on_writeable(kite_conn_t *c, void *user)
{
    struct pss *pss = user;
    struct tmsg *m;
    int r;

    if (pss->qtail == pss->qhead)
        return 0;
    m = pss->q[pss->qtail & (pss->qcap - 1)];
    r = kite_write(c, m->text, m->len, KITE_WRITE_TEXT);
    if (r == 0) {
        pss->qtail++;
        msg_unref(m);
    } else if (r != KITE_EAGAIN) {
        return 1;
    }
    if (pss->qtail != pss->qhead)
        kite_callback_on_writable(c);
    return 0;
}

static void on_closed(kite_conn_t *c, void *user, int code)
{
    struct pss *pss = user;
    struct tstate *ts;

    (void)c;
    (void)code;
    if (!pss->c)
        return;
    ts = &app.vhd->ts[pss->tsi];
    if (pss->prev)
        pss->prev->next = pss->next;
    else
        ts->conns = pss->next;
    if (pss->next)
        pss->next->prev = pss->prev;
    for (; pss->qtail != pss->qhead; pss->qtail++)
        msg_unref(pss->q[pss->qtail & (pss->qcap - 1)]);
    free(pss->q);
    pss->q = NULL;
}

static const kite_protocol_t threads_protocol = {
    .abi = KITE_PROTOCOL_ABI,
    .name = "kite-threads",
    .per_session_size = sizeof(struct pss),
    .on_vhost_init = on_vhost_init,
    .on_vhost_destroy = on_vhost_destroy,
    .on_established = on_established,
    .on_writeable = on_writeable,
    .on_closed = on_closed,
};

static const kite_protocol_t *const protocols[] = {&threads_protocol, NULL};
static const kite_pvo_t pvo_default = {.name = "default", .value = "1"};
static const kite_pvo_t pvo = {.name = "kite-threads", .options = &pvo_default};

static void *worker(void *arg)
{
    int id = (int)(intptr_t)arg, t;
    long seq;

    while (atomic_load(&app.established) < app.wait_for && !atomic_load(&app.stop))
        usleep(1000);
    for (seq = 0; !atomic_load(&app.stop) && (!app.messages || seq < app.messages); seq++) {
        for (t = 0; t < app.nthreads; t++) {
            struct tmsg *m = calloc(1, sizeof(*m));

            if (!m) {
                atomic_fetch_add(&app.post_failures, 1);
                continue;
            }
            m->vhd = app.vhd;
            m->tsi = t;
            m->len = (size_t)snprintf(m->text, sizeof(m->text), "w%d %ld", id, seq);
            atomic_fetch_add(&app.live_msgs, 1);
            if (kite_post(app.ctx, t, on_post, m) < 0) {
                atomic_fetch_add(&app.post_failures, 1);
                atomic_fetch_sub(&app.live_msgs, 1);
                free(m);
            }
        }
        if (app.interval_us)
            usleep(app.interval_us);
        else if (!(seq & 15))
            sched_yield(); /* let the workers interleave */
    }
    return NULL;
}

/* ---- the self-test client ------------------------------------------------ */

typedef struct {
    uint32_t h[5];
    uint64_t len;
    unsigned char buf[64];
    size_t n;
} sha1_ctx;

static uint32_t rol(uint32_t v, int s)
{
    return (v << s) | (v >> (32 - s));
}

static void sha1_block(sha1_ctx *c, const unsigned char *p)
{
    uint32_t w[80], a = c->h[0], b = c->h[1], d = c->h[3], e = c->h[4], cc = c->h[2], t;
    int i;

    for (i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (; i < 80; i++)
        w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    for (i = 0; i < 80; i++) {
        uint32_t f, k;
        if (i < 20) {
            f = (b & cc) | (~b & d);
            k = 0x5A827999;
        } else if (i < 40) {
            f = b ^ cc ^ d;
            k = 0x6ED9EBA1;
        } else if (i < 60) {
            f = (b & cc) | (b & d) | (cc & d);
            k = 0x8F1BBCDC;
        } else {
            f = b ^ cc ^ d;
            k = 0xCA62C1D6;
        }
        t = rol(a, 5) + f + e + k + w[i];
        e = d;
        d = cc;
        cc = rol(b, 30);
        b = a;
        a = t;
    }
    c->h[0] += a;
    c->h[1] += b;
    c->h[2] += cc;
    c->h[3] += d;
    c->h[4] += e;
}

static void sha1(const void *data, size_t len, unsigned char out[20])
{
    sha1_ctx c = {{0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0}, 0, {0}, 0};
    const unsigned char *p = data;
    unsigned char pad[128] = {0};
    uint64_t bits = (uint64_t)len * 8;
    size_t rest, padlen;
    int i;

    for (; len >= 64; p += 64, len -= 64)
        sha1_block(&c, p);
    rest = len;
    memcpy(pad, p, rest);
    pad[rest] = 0x80;
    padlen = rest + 1 + 8 <= 64 ? 64 : 128;
    for (i = 0; i < 8; i++)
        pad[padlen - 1 - (size_t)i] = (unsigned char)(bits >> (8 * i));
    sha1_block(&c, pad);
    if (padlen == 128)
        sha1_block(&c, pad + 64);
    for (i = 0; i < 20; i++)
        out[i] = (unsigned char)(c.h[i / 4] >> (24 - 8 * (i % 4)));
}

static void base64(const unsigned char *in, size_t n, char *out)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i;

    for (i = 0; i + 2 < n; i += 3) {
        *out++ = tab[in[i] >> 2];
        *out++ = tab[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
        *out++ = tab[((in[i + 1] & 15) << 2) | (in[i + 2] >> 6)];
        *out++ = tab[in[i + 2] & 63];
    }
    if (n - i == 1) {
        *out++ = tab[in[i] >> 2];
        *out++ = tab[(in[i] & 3) << 4];
        *out++ = '=';
        *out++ = '=';
    } else if (n - i == 2) {
        *out++ = tab[in[i] >> 2];
        *out++ = tab[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
        *out++ = tab[(in[i + 1] & 15) << 2];
        *out++ = '=';
    }
    *out = '\0';
}

struct client {
    int fd;
    unsigned char *buf;
    size_t len, cap;
    long next[MAX_WORKERS]; /* the next sequence number expected from each worker */
    long received;
    int close_code; /* the server's close frame: its code, -1 none yet */
    int eof;
};

static struct {
    int port, n;
    struct client cl[MAX_CLIENTS];
    int upgraded; /* handshakes that passed every check */
    int all_received, in_order, closed_ok;
    char why[256]; /* the first problem seen */
} st;

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void problem(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void problem(const char *fmt, ...)
{
    va_list ap;

    if (st.why[0])
        return;
    va_start(ap, fmt);
    vsnprintf(st.why, sizeof(st.why), fmt, ap);
    va_end(ap);
}

static int send_all(int fd, const void *p, size_t n)
{
    const char *s = p;

    while (n) {
        ssize_t k = send(fd, s, n, MSG_NOSIGNAL);
        if (k < 0 && (errno == EINTR || errno == EAGAIN)) {
            struct pollfd pf = {.fd = fd, .events = POLLOUT};
            poll(&pf, 1, 1000);
            continue;
        }
        if (k <= 0)
            return -1;
        s += k;
        n -= (size_t)k;
    }
    return 0;
}

/* A masked client frame (RFC 6455 5.3): FIN, @opcode, payload @p. */
static int send_frame(int fd, int opcode, const void *p, size_t n, uint32_t seed)
{
    unsigned char f[14 + 125];
    unsigned char mask[4] = {(unsigned char)(seed >> 24), (unsigned char)(seed >> 16),
                             (unsigned char)(seed >> 8), (unsigned char)seed | 1};
    size_t i;

    if (n > 125)
        return -1;
    f[0] = (unsigned char)(0x80 | opcode);
    f[1] = (unsigned char)(0x80 | n);
    memcpy(f + 2, mask, 4);
    for (i = 0; i < n; i++)
        f[6 + i] = ((const unsigned char *)p)[i] ^ mask[i & 3];
    return send_all(fd, f, 6 + n);
}

static int handshake(struct client *cl, int idx)
{
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)st.port)};
    unsigned char raw[16], sha[20];
    char key[32], want[32], req[512], cat[128], *end;
    int one = 1, i;
    double t0 = now_s();

    cl->fd = socket(AF_INET, SOCK_STREAM, 0);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (cl->fd < 0 || connect(cl->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        return -1;
    setsockopt(cl->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    for (i = 0; i < 16; i++)
        raw[i] = (unsigned char)(idx * 31 + i * 7 + 1);
    base64(raw, sizeof(raw), key);
    snprintf(cat, sizeof(cat), "%s%s", key, guid);
    sha1(cat, strlen(cat), sha);
    base64(sha, sizeof(sha), want);
    snprintf(req, sizeof(req),
             "GET /?client=%d HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
             "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
             "Sec-WebSocket-Protocol: kite-threads\r\nUser-Agent: kite-test-threads\r\n\r\n",
             idx, st.port, key);
    if (send_all(cl->fd, req, strlen(req)) < 0)
        return -1;
    cl->cap = 1 << 16;
    cl->buf = malloc(cl->cap);
    if (!cl->buf)
        return -1;
    /* Read the response head; bytes after it are the first frames. */
    for (;;) {
        struct pollfd pf = {.fd = cl->fd, .events = POLLIN};
        ssize_t k;

        cl->buf[cl->len] = '\0';
        if ((end = strstr((char *)cl->buf, "\r\n\r\n")))
            break;
        if (cl->len + 1 >= cl->cap || now_s() - t0 > 10 || poll(&pf, 1, 1000) < 0)
            return -1;
        k = recv(cl->fd, cl->buf + cl->len, cl->cap - 1 - cl->len, 0);
        if (k <= 0)
            return -1;
        cl->len += (size_t)k;
    }
    *end = '\0';
    if (strncmp((char *)cl->buf, "HTTP/1.1 101", 12)) {
        problem("client %d: no 101 but \"%.40s\"", idx, (char *)cl->buf);
        return -1;
    }
    snprintf(cat, sizeof(cat), "Sec-WebSocket-Accept: %s\r\n", want);
    strcat((char *)cl->buf, "\r\n");
    if (!strcasestr((char *)cl->buf, cat) ||
        !strcasestr((char *)cl->buf, "Sec-WebSocket-Protocol: kite-threads\r\n")) {
        problem("client %d: bad accept or protocol in the 101", idx);
        return -1;
    }
    i = (int)((unsigned char *)end + 4 - cl->buf);
    memmove(cl->buf, cl->buf + i, cl->len - (size_t)i);
    cl->len -= (size_t)i;
    cl->close_code = -1;
    return 0;
}

static void on_message(struct client *cl, int idx, const char *p, size_t n)
{
    char text[64];
    int w;
    long seq;

    if (n >= sizeof(text)) {
        problem("client %d: a %zu byte message", idx, n);
        st.in_order = 0;
        return;
    }
    memcpy(text, p, n);
    text[n] = '\0';
    if (sscanf(text, "w%d %ld", &w, &seq) != 2 || w < 0 || w >= app.nworkers) {
        problem("client %d: unexpected message \"%s\"", idx, text);
        st.in_order = 0;
        return;
    }
    if (seq != cl->next[w]) {
        problem("client %d: got seq %ld, expected %ld", idx, seq, cl->next[w]);
        st.in_order = 0;
        if (seq < cl->next[w])
            return; /* a duplicate */
    }
    cl->next[w] = seq + 1;
    cl->received++;
}

/* Parse the server's frames in cl->buf; 0, or -1 on a protocol error. */
static int parse(struct client *cl, int idx)
{
    size_t off = 0;

    for (;;) {
        unsigned char *h = cl->buf + off;
        size_t avail = cl->len - off, hl = 2;
        uint64_t len;
        int op;

        if (avail < 2)
            break;
        if (h[1] & 0x80) {
            problem("client %d: a masked frame from the server", idx);
            return -1;
        }
        len = h[1] & 0x7f;
        if (len == 126) {
            hl = 4;
            if (avail < hl)
                break;
            len = (uint64_t)h[2] << 8 | h[3];
        } else if (len == 127) {
            hl = 10;
            if (avail < hl)
                break;
            len = 0;
            for (int i = 0; i < 8; i++)
                len = len << 8 | h[2 + i];
        }
        if (len > (1u << 20)) {
            problem("client %d: a %llu byte frame", idx, (unsigned long long)len);
            return -1;
        }
        if (avail < hl + len)
            break;
        op = h[0] & 0x0f;
        if (op == 1 && (h[0] & 0x80))
            on_message(cl, idx, (const char *)h + hl, (size_t)len);
        else if (op == 8)
            cl->close_code = len >= 2 ? (h[hl] << 8 | h[hl + 1]) : 1005;
        else if (op == 9)
            send_frame(cl->fd, 10, h + hl, (size_t)len, 0x5a5a5a5a);
        else if (op != 10) {
            problem("client %d: unexpected opcode %d", idx, op);
            return -1;
        }
        off += hl + (size_t)len;
    }
    memmove(cl->buf, cl->buf + off, cl->len - off);
    cl->len -= off;
    return 0;
}

/* Read what is there on every socket until @done says stop or @secs pass. */
static void pump(int (*done)(void), double secs)
{
    struct pollfd pf[MAX_CLIENTS];
    double t0 = now_s();
    int i;

    while (!done() && now_s() - t0 < secs) {
        for (i = 0; i < st.n; i++) {
            pf[i].fd = st.cl[i].eof ? -1 : st.cl[i].fd;
            pf[i].events = POLLIN;
            pf[i].revents = 0;
        }
        if (poll(pf, (nfds_t)st.n, 100) < 0 && errno != EINTR)
            return;
        for (i = 0; i < st.n; i++) {
            struct client *cl = &st.cl[i];
            ssize_t k;

            if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            if (cl->len == cl->cap) {
                /* parse() refuses frames over 1 MiB: this stays bounded. */
                unsigned char *nb = realloc(cl->buf, cl->cap * 2);
                if (!nb) {
                    cl->eof = 1;
                    continue;
                }
                cl->buf = nb;
                cl->cap *= 2;
            }
            k = recv(cl->fd, cl->buf + cl->len, cl->cap - cl->len, 0);
            if (k <= 0) {
                cl->eof = 1;
                continue;
            }
            cl->len += (size_t)k;
            if (parse(cl, i) < 0)
                cl->eof = 1;
        }
    }
}

static int all_received(void)
{
    long want = app.messages * app.nworkers;
    int i;

    for (i = 0; i < st.n; i++)
        if (st.cl[i].received < want && !st.cl[i].eof)
            return 0;
    return 1;
}

static int all_closed(void)
{
    int i;

    for (i = 0; i < st.n; i++)
        if (!st.cl[i].eof)
            return 0;
    return 1;
}

static void *client_main(void *arg)
{
    long want = app.messages * app.nworkers;
    int i;

    (void)arg;
    st.in_order = 1;
    for (i = 0; i < st.n; i++) {
        if (handshake(&st.cl[i], i) == 0)
            st.upgraded++;
        else
            st.cl[i].eof = 1;
    }
    if (st.upgraded == st.n) {
        pump(all_received, 60);
        st.all_received = 1;
        for (i = 0; i < st.n; i++)
            if (st.cl[i].received != want) {
                problem("client %d: %ld messages of %ld", i, st.cl[i].received, want);
                st.all_received = 0;
            }
        /* A masked text frame the protocol ignores, then the close. */
        for (i = 0; i < st.n; i++) {
            static const unsigned char bye[] = {0x03, 0xe8, 'b', 'y', 'e'};
            send_frame(st.cl[i].fd, 1, "done", 4, (uint32_t)i * 2654435761u);
            send_frame(st.cl[i].fd, 8, bye, sizeof(bye), (uint32_t)i * 40503u + 7);
        }
        pump(all_closed, 10);
        st.closed_ok = 1;
        for (i = 0; i < st.n; i++)
            if (st.cl[i].close_code != 1000 || !st.cl[i].eof) {
                problem("client %d: close code %d, eof %d", i, st.cl[i].close_code, st.cl[i].eof);
                st.closed_ok = 0;
            }
    }
    atomic_store(&app.stop, 1);
    kite_cancel_service(app.ctx);
    return NULL;
}

/* ---- main ----------------------------------------------------------------- */

static void on_signal(int sig)
{
    (void)sig;
    atomic_store(&app.stop, 1);
    kite_cancel_service(app.ctx);
}

static void usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s [-p port] [-t threads] [-w workers] [-m messages] [-i interval-us]\n"
            "          [-d logmask] [--selftest N]\n",
            argv0);
}

int main(int argc, char **argv)
{
    static const struct option lo[] = {{"selftest", required_argument, NULL, 'S'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
    kite_context_info_t ci = KITE_CONTEXT_INFO_INIT();
    kite_vhost_info_t vi = KITE_VHOST_INFO_INIT();
    pthread_t workers[MAX_WORKERS], client;
    int selftest = 0, opt, err = 0, i, nworkers_started = 0, client_started = 0, fails = 0;
    int logmask = KITE_LL_ERR | KITE_LL_WARN;
    kite_vhost_t *vh;

    ci.count_threads = 2;
    vi.port = 7682;
    app.nworkers = 3;
    app.interval_us = 100000;
    while ((opt = getopt_long(argc, argv, "p:t:w:m:i:d:h", lo, NULL)) != -1) {
        switch (opt) {
        case 'p':
            vi.port = atoi(optarg);
            break;
        case 't':
            ci.count_threads = atoi(optarg);
            break;
        case 'w':
            app.nworkers = atoi(optarg);
            break;
        case 'm':
            app.messages = atol(optarg);
            break;
        case 'i':
            app.interval_us = (unsigned)atol(optarg);
            break;
        case 'd':
            logmask = atoi(optarg);
            break;
        case 'S':
            selftest = atoi(optarg);
            break;
        default:
            usage(argv[0]);
            return opt == 'h' ? 0 : 2;
        }
    }
    if (app.nworkers < 1 || app.nworkers > MAX_WORKERS || ci.count_threads < 1 ||
        ci.count_threads > 64 || selftest < 0 || selftest > MAX_CLIENTS) {
        usage(argv[0]);
        return 2;
    }
    if (selftest) {
        vi.port = 0;
        vi.iface = "127.0.0.1";
        app.wait_for = selftest;
        app.interval_us = 0;
        if (!app.messages)
            app.messages = 2000;
        printf("1..4\n");
    }
    kite_set_log_level(logmask, NULL);
    app.nthreads = ci.count_threads;
    app.ctx = kite_context_create(&ci, &err);
    if (!app.ctx) {
        fprintf(stderr, "kite-test-threads: context: %s\n", kite_strerror(err));
        return 1;
    }
    vi.protocols = protocols;
    vi.pvo = &pvo;
    vh = kite_vhost_create(app.ctx, &vi, &err);
    if (!vh) {
        fprintf(stderr, "kite-test-threads: vhost: %s\n", kite_strerror(err));
        kite_context_destroy(app.ctx);
        return 1;
    }
    app.vhd = kite_vhost_protocol_data(vh, &threads_protocol);
    for (i = 0; i < app.nworkers; i++) {
        if (pthread_create(&workers[i], NULL, worker, (void *)(intptr_t)i))
            break;
        nworkers_started++;
    }
    if (selftest) {
        st.port = kite_vhost_port(vh);
        st.n = selftest;
        client_started = !pthread_create(&client, NULL, client_main, NULL);
    } else {
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        printf("kite-test-threads: listening on port %d, %d service threads, %d workers\n",
               kite_vhost_port(vh), app.nthreads, app.nworkers);
        fflush(stdout);
    }
    if (nworkers_started == app.nworkers && (!selftest || client_started))
        kite_run(app.ctx);
    atomic_store(&app.stop, 1);
    for (i = 0; i < nworkers_started; i++)
        pthread_join(workers[i], NULL);
    if (client_started)
        pthread_join(client, NULL);
    kite_context_destroy(app.ctx);
    if (!selftest)
        return 0;

    for (i = 0; i < app.nthreads && i < 64; i++)
        printf("# service thread %d: %d connections\n", i, atomic_load(&app.per_tsi[i]));
    if (st.why[0])
        printf("# first problem: %s\n", st.why);
    fails += st.upgraded != st.n;
    printf("%sok 1 - %d of %d websocket connections upgraded (accept and protocol checked)\n",
           st.upgraded == st.n ? "" : "not ", st.upgraded, st.n);
    fails += !(st.all_received && st.in_order);
    printf("%sok 2 - every connection got %d x %ld messages, each once and in order per worker\n",
           st.all_received && st.in_order ? "" : "not ", app.nworkers, app.messages);
    fails += !st.closed_ok;
    printf("%sok 3 - close handshake: every connection got 1000 back, then EOF\n",
           st.closed_ok ? "" : "not ");
    i = atomic_load(&app.live_msgs) == 0 && atomic_load(&app.post_failures) == 0;
    fails += !i;
    printf("%sok 4 - every post succeeded and every message was freed (%ld left, %ld failed)\n",
           i ? "" : "not ", atomic_load(&app.live_msgs), atomic_load(&app.post_failures));
    for (i = 0; i < st.n; i++) {
        if (st.cl[i].fd > 0)
            close(st.cl[i].fd);
        free(st.cl[i].buf);
    }
    return fails ? 1 : 0;
}
