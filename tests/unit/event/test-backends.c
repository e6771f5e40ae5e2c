/*
 * The two event backends (lib/event/uv.c and extpoll.c) through one set
 * of checks, each run on a context of either kind: the backend core
 * picked, its clock, a timer firing once and not early, a wakeup from
 * another thread ending a long wait, an adopted socket's reads, a 4 MiB
 * write that the kernel cannot take at once finishing in the background
 * with every byte in order, on_writeable after the drain, the peer's close
 * reported as KITE_CLOSE_PEER, and (extpoll) every fd given back.
 */
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "event/event.h"
#include "../../embed/extpoll-loop.h"

#include "tap.h"

#define BIG (4u << 20)

static struct {
    int fired, posted, writeable, closed, close_code;
    uint64_t fired_at;
    char rx[64];
    size_t rx_len;
} st;
static kite_context_t *ctx;
static int use_extpoll;

/* One pass of whichever loop, waiting at most @ms. */
static void pass(int ms)
{
    if (use_extpoll)
        el_pass(ctx, ms);
    else
        kite_service(ctx, 0, ms);
}

static uint64_t now(void)
{
    kite__pt_t *pt = &ctx->pts[0];

    return pt->evops->now_ms(pt);
}

/* --- the protocol -------------------------------------------------------- */

static int on_raw(kite_conn_t *c, void *user, const void *in, size_t len)
{
    (void)c;
    (void)user;
    if (len > sizeof(st.rx) - st.rx_len)
        len = sizeof(st.rx) - st.rx_len;
    memcpy(st.rx + st.rx_len, in, len);
    st.rx_len += len;
    return 0;
}
static int on_writeable(kite_conn_t *c, void *user)
{
    (void)user;
    st.writeable++;
    tap_is_int(kite_conn_pending(c), 0, "on_writeable comes once the output has drained");
    return 0;
}
static void on_closed(kite_conn_t *c, void *user, int code)
{
    (void)c;
    (void)user;
    st.closed++;
    st.close_code = code;
}
static const kite_protocol_t proto = {.abi = KITE_PROTOCOL_ABI,
                                      .name = "raw-unit",
                                      .on_raw = on_raw,
                                      .on_writeable = on_writeable,
                                      .on_closed = on_closed};
static const kite_protocol_t *const protos[] = {&proto, NULL};
static const kite_pvo_t raw_opt = {.name = "raw", .value = "1"};
static const kite_pvo_t pvo = {.name = "raw-unit", .options = &raw_opt};

static void fired(kite_vhost_t *vh, kite_timer_t *t)
{
    (void)vh;
    (void)t;
    st.fired++;
    st.fired_at = now();
}
static void posted(kite_context_t *c, void *arg)
{
    (void)c;
    (void)arg;
    st.posted++;
}
static void *poster(void *arg)
{
    (void)arg;
    usleep(50 * 1000);
    kite_post(ctx, 0, posted, NULL);
    return NULL;
}

/* The peer reads the big write and checks it. */
static size_t peer_got;
static int peer_ok = 1;
static void *reader(void *arg)
{
    int fd = *(int *)arg;
    unsigned char buf[65536];
    ssize_t n, i;

    while (peer_got < BIG && (n = read(fd, buf, sizeof(buf))) > 0) {
        for (i = 0; i < n; i++)
            if (buf[i] != (unsigned char)((peer_got + (size_t)i) * 7))
                peer_ok = 0;
        peer_got += (size_t)n;
    }
    return NULL;
}

static void backend(int extpoll)
{
    const char *name = extpoll ? "extpoll" : "uv";
    kite_context_info_t ci = KITE_CONTEXT_INFO_INIT(.extpoll = extpoll ? &el_ops : NULL);
    kite_vhost_info_t vi =
        KITE_VHOST_INFO_INIT(.options = KITE_VH_NO_LISTEN, .protocols = protos, .pvo = &pvo);
    kite_vhost_t *vh;
    kite_timer_t t = {0};
    kite_conn_t *c;
    pthread_t th;
    uint64_t t0;
    unsigned char *big;
    int sv[2], err = 0, i;
    size_t k;

    memset(&st, 0, sizeof(st));
    use_extpoll = extpoll;
    ctx = kite_context_create(&ci, &err);
    vh = ctx ? kite_vhost_create(ctx, &vi, &err) : NULL;
    tap_ok(vh != NULL, "%s: a context and vhost (%s)", name, kite_err_name(err));
    if (!vh)
        return;
    tap_ok(ctx->pts[0].evops == (extpoll ? &kite__event_extpoll : &kite__event_uv),
           "%s: core runs on that backend (%s)", name, ctx->pts[0].evops->name);

    t0 = now();
    kite_vhost_timer_schedule(vh, 0, &t, 40 * 1000, fired);
    for (i = 0; i < 200 && !st.fired; i++)
        pass(100);
    tap_is_int(st.fired, 1, "%s: a 40 ms timer fires", name);
    tap_ok(st.fired_at >= t0 + 40 && st.fired_at < t0 + 2000, "%s: not early, not late (%llu ms)",
           name, (unsigned long long)(st.fired_at - t0));
    for (i = 0; i < 3; i++)
        pass(20);
    tap_is_int(st.fired, 1, "%s: and only once", name);

    pthread_create(&th, NULL, poster, NULL);
    t0 = now();
    for (i = 0; i < 5 && !st.posted; i++)
        pass(3000);
    pthread_join(th, NULL);
    tap_ok(st.posted == 1 && now() - t0 < 2500,
           "%s: a post from another thread ends a 3 s wait (%llu ms)", name,
           (unsigned long long)(now() - t0));

    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    c = kite_adopt_fd(vh, sv[0], KITE_ADOPT_SOCKET, "raw-unit", &err);
    tap_ok(c != NULL, "%s: a socket adopted (%s)", name, kite_err_name(err));
    if (!c)
        goto out;
    tap_is_int(ctx->pts[0].evops->fd(c), sv[0], "%s: fd() is the adopted socket", name);
    write(sv[1], "ping", 4);
    for (i = 0; i < 100 && st.rx_len < 4; i++)
        pass(20);
    tap_ok(st.rx_len == 4 && !memcmp(st.rx, "ping", 4), "%s: its bytes are read", name);

    big = malloc(BIG);
    for (k = 0; k < BIG; k++)
        big[k] = (unsigned char)(k * 7);
    /* The cap is the context's max_output (1 MiB): write in pieces. */
    peer_got = 0;
    peer_ok = 1;
    pthread_create(&th, NULL, reader, &sv[1]);
    for (k = 0, i = 0; k < BIG && i < 20000; i++) {
        size_t n = BIG - k < 256 * 1024 ? BIG - k : 256 * 1024;
        if (kite_write(c, big + k, n, KITE_WRITE_RAW) == 0)
            k += n;
        else
            pass(10);
    }
    tap_ok(k == BIG, "%s: 4 MiB queued past what the kernel takes at once", name);
    kite_callback_on_writable(c);
    for (i = 0; i < 1000 && !st.writeable; i++)
        pass(10);
    pthread_join(th, NULL);
    tap_ok(peer_got == BIG && peer_ok, "%s: the peer read every byte in order (%zu)", name,
           peer_got);
    tap_is_int(st.writeable, 1, "%s: one on_writeable", name);
    free(big);

    close(sv[1]);
    for (i = 0; i < 100 && !st.closed; i++)
        pass(20);
    tap_is_int(st.closed, 1, "%s: the peer's close closes the conn", name);
    tap_is_int(st.close_code, KITE_CLOSE_PEER, "%s: with KITE_CLOSE_PEER", name);
out:
    kite_context_destroy(ctx);
    if (extpoll)
        tap_is_int(el_nadded, 0, "%s: every fd was given back to the application", name);
}

int main(void)
{
    kite_set_log_level(KITE_LL_ERR, NULL);
    backend(0);
    backend(1);
    return tap_done();
}
