/*
 * kite-test-client: the libwebsockets-test-client of kite, on
 * kite_client_connect(). Against a server with the lws test protocols
 * (kite-test-server, Debian's libwebsockets-test-server) its default mode
 * opens one dumb-increment-protocol connection, whose numbers must count
 * up by one, and one lws-mirror-protocol connection that draws
 * "c #RRGGBB x y r;" circles and must see its own come back, in order
 * (the colour carries a sequence number).
 *
 *   kite-test-client [options] URL | HOST
 *   URL: ws://, wss://, http://, https:// or raw://HOST:PORT/PATH;
 *   a bare HOST is ws:// with -p PORT (default 7681) and -s for wss
 *   -n          no mirror connection        -j  only the mirror connection
 *   -O          the mirror draws -c circles (default 10), then closes
 *   -m          multi-test: -c mirror connections one after the other,
 *               each drawing one circle
 *   -o          POST a form to /formtest (http), print the answer
 *   --echo[=N]  N messages (default 100) of many sizes, text and binary,
 *               to the "echo" protocol; each echo is checked
 *   -c COUNT    stop after COUNT dumb-increment numbers
 *   -t SECS     stop after SECS (default 10; 0: no limit)
 *   -k          accept a self-signed certificate (any name, too)
 *   -A CA       CA bundle for wss/https
 *   -P PROTO    the subprotocol for a ws:// URL (default: the test modes)
 *   -z          do not offer permessage-deflate (offered by default, as the
 *               lws test client does; each ws connection prints whether
 *               the server agreed to it)
 *   -Z L:M:W[:nct]  offer it with zlib level L, memLevel M, window bits W
 *               (asked of the server too when below 15), and no context
 *               takeover either way with ":nct"
 *   -d MASK     kite log mask
 * It prints one summary line per connection kind and exits 0 only when
 * every connection was made and every check passed.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kite.h"

enum { M_WS, M_HTTP, M_RAW };

static struct {
    int mode, tls, port, nomirror, justmirror, once, multi, post, echo, count, secs, insecure,
        nodeflate;
    const char *host, *path, *ca, *proto;
} o = {.port = 7681, .path = "/", .secs = 10};

static kite_context_t *ctx;
static kite_vhost_t *vh;
static int active, failed, stopping;

/* What the summary says. */
static struct {
    long dumb_n, dumb_last, dumb_bad;
    long mirror_sent, mirror_echoed, mirror_bad, mirror_conns;
    long echo_sent, echo_rcvd, echo_errs;
    int http_status;
    size_t http_bytes;
} s = {.dumb_last = -1};

static void conn_gone(void)
{
    if (--active <= 0 && !stopping)
        kite_cancel_service(ctx);
}

static void on_error(kite_conn_t *c, void *user, const char *why)
{
    (void)user;
    fprintf(stderr, "kite-test-client: %s: connection error: %s\n", kite_conn_protocol(c)->name,
            why);
    failed = 1;
    conn_gone();
}

static void on_closed(kite_conn_t *c, void *user, int code)
{
    (void)c;
    (void)user;
    (void)code;
    conn_gone();
}

/* Which ws connections got permessage-deflate: the tests read this. */
static void note_deflate(kite_conn_t *c)
{
    printf("%s: permessage-deflate %s\n", kite_conn_protocol(c)->name,
           kite_ws_deflate_active(c) ? "agreed" : "not agreed");
    fflush(stdout);
}

static kite_ws_deflate_t deflate = KITE_WS_DEFLATE_INIT();

static kite_conn_t *connect_ws(const char *proto, const char *path)
{
    kite_client_info_t ci =
        KITE_CLIENT_INFO_INIT(.vhost = vh, .address = o.host, .port = o.port, .path = path,
                              .protocol = proto, .origin = "http://kite-test-client");
    kite_conn_t *c;
    int err;

    ci.flags = (o.tls ? KITE_CLIENT_TLS : 0) |
               (o.insecure ? KITE_CLIENT_ALLOW_SELFSIGNED | KITE_CLIENT_SKIP_HOST_CHECK : 0);
    ci.tls_ca = o.ca;
    ci.ws_deflate = o.nodeflate ? NULL : &deflate;
    c = kite_client_connect(ctx, &ci, &err);
    if (!c) {
        fprintf(stderr, "kite-test-client: connect: %s\n", kite_strerror(err));
        failed = 1;
        return NULL;
    }
    active++;
    return c;
}

/* --- dumb-increment-protocol -------------------------------------------- */

static int dumb_established(kite_conn_t *c, void *user)
{
    (void)user;
    note_deflate(c);
    return 0;
}

static int dumb_rx(kite_conn_t *c, void *user, const void *in, size_t len, unsigned flags)
{
    char b[32];
    long v;

    (void)user;
    (void)flags;
    if (len >= sizeof(b))
        len = sizeof(b) - 1;
    memcpy(b, in, len);
    b[len] = '\0';
    v = strtol(b, NULL, 10);
    if (kite_log_enabled(KITE_LL_INFO))
        kite_info("rx %ld '%s'", s.dumb_n, b);
    if (s.dumb_last >= 0 && v != s.dumb_last + 1)
        s.dumb_bad++;
    s.dumb_last = v;
    if (++s.dumb_n == o.count)
        kite_close(c, KITE_WS_CLOSE_NORMAL, "enough");
    return 0;
}

/* --- lws-mirror-protocol ------------------------------------------------ */

typedef struct mirror {
    kite_timer_t tick;
    long sent, echoed; /* this connection's circles */
    long next;         /* the sequence number of the next circle */
} mirror_t;

static long seq_all;

static void mirror_tick(kite_conn_t *c, kite_timer_t *t)
{
    (void)t;
    kite_callback_on_writable(c);
}

static int mirror_limit(void)
{
    return o.multi ? 1 : o.once ? (o.count ? o.count : 10) : 0;
}

static int mirror_established(kite_conn_t *c, void *user)
{
    mirror_t *m = user;

    (void)m;
    note_deflate(c);
    s.mirror_conns++;
    return kite_callback_on_writable(c);
}

static int mirror_writeable(kite_conn_t *c, void *user)
{
    mirror_t *m = user;
    char b[64];
    long seq = ++seq_all & 0xffffff;
    int n;

    if (mirror_limit() && m->sent >= mirror_limit())
        return 0;
    n = snprintf(b, sizeof(b), "c #%06lX %u %u %u;", seq, (unsigned)(rand() % 500),
                 (unsigned)(rand() % 250), (unsigned)(rand() % 24 + 1));
    if (kite_write(c, b, (size_t)n, KITE_WRITE_TEXT) < 0)
        return -1;
    if (!m->sent)
        m->next = seq;
    m->sent++;
    s.mirror_sent++;
    /* A circle every 20 ms, as the lws client draws them. */
    kite_timer_schedule(c, &m->tick, 20000, mirror_tick);
    return 0;
}

static int mirror_rx(kite_conn_t *c, void *user, const void *in, size_t len, unsigned flags)
{
    mirror_t *m = user;
    unsigned col, x, y, r;
    char b[64];

    (void)flags;
    if (len >= sizeof(b) || !m->sent)
        return 0; /* someone else's drawing, or before ours */
    memcpy(b, in, len);
    b[len] = '\0';
    if (sscanf(b, "c #%6X %u %u %u;", &col, &x, &y, &r) != 4)
        return 0;
    if ((long)col != m->next)
        return 0; /* another client's circle */
    m->next = (m->next + 1) & 0xffffff;
    m->echoed++;
    s.mirror_echoed++;
    if (mirror_limit() && m->echoed == mirror_limit()) {
        kite_close(c, KITE_WS_CLOSE_NORMAL, "done");
        if (o.multi && s.mirror_conns < (o.count ? o.count : 10))
            connect_ws("lws-mirror-protocol", "/");
    }
    return 0;
}

static void mirror_closed(kite_conn_t *c, void *user, int code)
{
    mirror_t *m = user;

    /* At the time limit circles may still be on their way back. */
    if (!stopping && m->echoed < m->sent - 1)
        s.mirror_bad += m->sent - 1 - m->echoed; /* the last may cross the close */
    on_closed(c, user, code);
}

/* --- echo --------------------------------------------------------------- */

static size_t echo_size(long i)
{
    static const size_t sizes[] = {0, 1, 125, 126, 127, 65535, 65536, 65537, 200000};

    return i < 9 ? sizes[i] : (size_t)((i * 7919) % 70000);
}

/* Message @i: printable for text, any byte for binary. */
static void echo_fill(unsigned char *p, size_t n, long i)
{
    size_t k;

    for (k = 0; k < n; k++)
        p[k] = (i & 1) ? (unsigned char)(k * 31 + (size_t)i) : (unsigned char)('a' + (k + i) % 26);
}

static unsigned char *echo_buf;

static int echo_writeable(kite_conn_t *c, void *user)
{
    size_t n = echo_size(s.echo_sent);

    (void)user;
    if (s.echo_sent >= o.echo)
        return 0;
    echo_fill(echo_buf, n, s.echo_sent);
    if (kite_write(c, echo_buf, n, (s.echo_sent & 1) ? KITE_WRITE_BINARY : KITE_WRITE_TEXT) < 0)
        return -1;
    s.echo_sent++;
    return 0;
}

static int echo_rx(kite_conn_t *c, void *user, const void *in, size_t len, unsigned flags)
{
    long i = s.echo_rcvd++;
    size_t n = echo_size(i);

    (void)user;
    echo_fill(echo_buf, n, i);
    if (len != n || (len && memcmp(in, echo_buf, len)) || !(flags & KITE_RX_BINARY) != !(i & 1)) {
        fprintf(stderr, "kite-test-client: echo %ld: mismatch (%zu bytes, want %zu)\n", i, len, n);
        s.echo_errs++;
    }
    if (s.echo_rcvd == o.echo) {
        printf("Everything received: errs %ld\n", s.echo_errs);
        kite_close(c, KITE_WS_CLOSE_NORMAL, "done");
        return 0;
    }
    return kite_callback_on_writable(c);
}

static int echo_established(kite_conn_t *c, void *user)
{
    (void)user;
    note_deflate(c);
    return kite_callback_on_writable(c);
}

/* --- http and raw ------------------------------------------------------- */

static const char form[] = "text=kite-test-client&send=Send+the+form";

static int http_established(kite_conn_t *c, void *user)
{
    (void)user;
    return o.post ? kite_callback_on_writable(c) : 0;
}

static int http_writeable(kite_conn_t *c, void *user)
{
    (void)user;
    return kite_write(c, form, sizeof(form) - 1, KITE_WRITE_HTTP_FINAL) < 0;
}

static int http_response(kite_conn_t *c, void *user, int status)
{
    (void)c;
    (void)user;
    s.http_status = status;
    return 0;
}

static int http_body(kite_conn_t *c, void *user, const void *in, size_t len)
{
    (void)c;
    (void)user;
    s.http_bytes += len;
    return fwrite(in, 1, len, stdout) != len;
}

static int raw_established(kite_conn_t *c, void *user)
{
    (void)user;
    return kite_write(c, "hello from kite-test-client\n", 28, KITE_WRITE_RAW) < 0;
}

static int raw_rx(kite_conn_t *c, void *user, const void *in, size_t len)
{
    (void)user;
    s.http_bytes += len;
    fwrite(in, 1, len, stdout);
    fflush(stdout);
    return kite_close(c, 0, NULL);
}

static const kite_protocol_t p_dumb = {
    .abi = KITE_PROTOCOL_ABI,
    .name = "dumb-increment-protocol",
    .on_client_established = dumb_established,
    .on_client_connection_error = on_error,
    .on_receive = dumb_rx,
    .on_closed = on_closed,
};
static const kite_protocol_t p_mirror = {
    .abi = KITE_PROTOCOL_ABI,
    .name = "lws-mirror-protocol",
    .per_session_size = sizeof(mirror_t),
    .flags = KITE_PROTO_WHOLE_MESSAGES,
    .on_client_established = mirror_established,
    .on_client_connection_error = on_error,
    .on_writeable = mirror_writeable,
    .on_receive = mirror_rx,
    .on_closed = mirror_closed,
};
static const kite_protocol_t p_echo = {
    .abi = KITE_PROTOCOL_ABI,
    .name = "echo",
    .rx_buffer_size = 1 << 20,
    .flags = KITE_PROTO_WHOLE_MESSAGES,
    .on_client_established = echo_established,
    .on_client_connection_error = on_error,
    .on_writeable = echo_writeable,
    .on_receive = echo_rx,
    .on_closed = on_closed,
};
static const kite_protocol_t p_http = {
    .abi = KITE_PROTOCOL_ABI,
    .name = "kite-test-client-http",
    .on_client_established = http_established,
    .on_client_connection_error = on_error,
    .on_writeable = http_writeable,
    .on_client_http_response = http_response,
    .on_client_http_body = http_body,
    .on_closed = on_closed,
};
static const kite_protocol_t p_raw = {
    .abi = KITE_PROTOCOL_ABI,
    .name = "kite-test-client-raw",
    .on_client_established = raw_established,
    .on_client_connection_error = on_error,
    .on_raw = raw_rx,
    .on_closed = on_closed,
};
static const kite_protocol_t *const protos[] = {&p_dumb, &p_mirror, &p_echo, &p_http, &p_raw, NULL};

/* --- the command line --------------------------------------------------- */

static int usage(const char *me)
{
    fprintf(
        stderr,
        "usage: %s [-n] [-j] [-O] [-m] [-o] [--echo[=N]] [-c COUNT] [-t SECS] [-k]\n"
        "          [-A CA] [-P PROTO] [-p PORT] [-s] [-z | -Z L:M:W[:nct]] [-d MASK] URL|HOST\n",
        me);
    return 2;
}

/* Split "scheme://host:port/path" (host may be [v6]). 0 or -1. */
static int parse_url(char *u)
{
    static const struct {
        const char *scheme;
        int mode, tls, port;
    } sch[] = {{"ws://", M_WS, 0, 80},
               {"wss://", M_WS, 1, 443},
               {"http://", M_HTTP, 0, 80},
               {"https://", M_HTTP, 1, 443},
               {"raw://", M_RAW, 0, 0}};
    char *p = NULL, *slash, *colon;
    size_t i;

    for (i = 0; i < sizeof(sch) / sizeof(sch[0]); i++)
        if (!strncmp(u, sch[i].scheme, strlen(sch[i].scheme))) {
            p = u + strlen(sch[i].scheme);
            o.mode = sch[i].mode;
            o.tls = sch[i].tls;
            o.port = sch[i].port;
        }
    if (!p) {
        o.host = u; /* lws style: a host, with -p and -s */
        return 0;
    }
    if ((slash = strchr(p, '/'))) {
        static char path[4096];
        snprintf(path, sizeof(path), "%s", slash);
        o.path = path;
        *slash = '\0';
    }
    if (*p == '[' && (colon = strchr(p, ']'))) {
        *colon++ = '\0';
        o.host = p + 1;
        if (*colon == ':')
            o.port = atoi(colon + 1);
    } else {
        o.host = p;
        if ((colon = strchr(p, ':'))) {
            *colon = '\0';
            o.port = atoi(colon + 1);
        }
    }
    return *o.host && o.port > 0 ? 0 : -1;
}

static void on_signal(int sig)
{
    (void)sig;
    kite_cancel_service(ctx);
}

static void time_up(kite_vhost_t *v, kite_timer_t *t)
{
    (void)v;
    (void)t;
    kite_cancel_service(ctx);
}

static int summary(void)
{
    int ok = !failed;

    if (o.mode == M_HTTP) {
        fprintf(stderr, "http: status %d, %zu body bytes\n", s.http_status, s.http_bytes);
        return ok && s.http_status >= 200 && s.http_status < 300 ? 0 : 1;
    }
    if (o.mode == M_RAW) {
        fprintf(stderr, "raw: %zu bytes back\n", s.http_bytes);
        return ok && s.http_bytes ? 0 : 1;
    }
    if (o.echo) {
        printf("echo: %ld sent, %ld received, errs %ld\n", s.echo_sent, s.echo_rcvd, s.echo_errs);
        return ok && s.echo_rcvd == o.echo && !s.echo_errs ? 0 : 1;
    }
    if (o.proto)
        return ok ? 0 : 1;
    if (!o.justmirror) {
        printf("dumb-increment: %ld messages, counting up: %s\n", s.dumb_n,
               s.dumb_bad ? "no" : "yes");
        ok = ok && s.dumb_n > 0 && !s.dumb_bad;
    }
    if (!o.nomirror) {
        printf("mirror: %ld connections, %ld circles sent, %ld echoed, %ld missing\n",
               s.mirror_conns, s.mirror_sent, s.mirror_echoed, s.mirror_bad);
        ok = ok && s.mirror_echoed > 0 && !s.mirror_bad;
    }
    fflush(stdout);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    static const struct option lo[] = {{"echo", optional_argument, NULL, 'e'}, {NULL, 0, NULL, 0}};
    kite_context_info_t ci = KITE_CONTEXT_INFO_INIT();
    kite_vhost_info_t vi = KITE_VHOST_INFO_INIT();
    kite_timer_t limit = {0};
    int opt, err, rc;

    while ((opt = getopt_long(argc, argv, "njOmoc:t:kA:P:p:szZ:d:", lo, NULL)) != -1) {
        switch (opt) {
        case 'n':
            o.nomirror = 1;
            break;
        case 'j':
            o.justmirror = 1;
            break;
        case 'O':
            o.once = 1;
            break;
        case 'm':
            o.multi = 1;
            break;
        case 'o':
            o.post = 1;
            break;
        case 'e':
            o.echo = optarg ? atoi(optarg) : 100;
            break;
        case 'c':
            o.count = atoi(optarg);
            break;
        case 't':
            o.secs = atoi(optarg);
            break;
        case 'k':
            o.insecure = 1;
            break;
        case 'A':
            o.ca = optarg;
            break;
        case 'P':
            o.proto = optarg;
            break;
        case 'p':
            o.port = atoi(optarg);
            break;
        case 's':
            o.tls = 1;
            break;
        case 'z':
            o.nodeflate = 1;
            break;
        case 'Z': {
            char nct[4] = "";
            if (sscanf(optarg, "%d:%d:%d:%3s", &deflate.level, &deflate.mem_level,
                       &deflate.window_bits, nct) < 3)
                return usage(argv[0]);
            deflate.flags = strcmp(nct, "nct") ? 0u : KITE_WS_DEFLATE_NO_CONTEXT_TAKEOVER;
            o.nodeflate = 0;
            break;
        }
        case 'd':
            kite_set_log_level(atoi(optarg), NULL);
            break;
        default:
            return usage(argv[0]);
        }
    }
    if (optind != argc - 1 || parse_url(argv[optind]) < 0)
        return usage(argv[0]);
    if (o.post) {
        o.mode = M_HTTP;
        o.path = "/formtest";
    }
    ci.ws_max_message = 1 << 20;
    if (!(ctx = kite_context_create(&ci, &err))) {
        fprintf(stderr, "kite-test-client: context: %s\n", kite_strerror(err));
        return 1;
    }
    vi.name = "kite-test-client";
    vi.options = KITE_VH_NO_LISTEN;
    vi.protocols = protos;
    if (!(vh = kite_vhost_create(ctx, &vi, &err)) || !(echo_buf = malloc(1 << 20))) {
        fprintf(stderr, "kite-test-client: vhost: %s\n", kite_strerror(err));
        return 1;
    }
    if (o.mode == M_HTTP || o.mode == M_RAW) {
        kite_client_info_t hi =
            KITE_CLIENT_INFO_INIT(.vhost = vh, .address = o.host, .port = o.port, .path = o.path);
        hi.method = o.mode == M_RAW ? "RAW" : o.post ? "POST" : "GET";
        hi.local_protocol = o.mode == M_RAW ? p_raw.name : p_http.name;
        hi.flags = (o.tls ? KITE_CLIENT_TLS : 0) |
                   (o.insecure ? KITE_CLIENT_ALLOW_SELFSIGNED | KITE_CLIENT_SKIP_HOST_CHECK : 0);
        hi.tls_ca = o.ca;
        if (o.post) {
            hi.content_length = sizeof(form) - 1;
            hi.headers = "Content-Type: application/x-www-form-urlencoded\r\n";
        }
        if (kite_client_connect(ctx, &hi, &err))
            active++;
        else
            failed = 1;
    } else if (o.proto) {
        connect_ws(o.proto, o.path);
    } else if (o.echo) {
        connect_ws("echo", o.path);
    } else {
        if (!o.justmirror)
            connect_ws("dumb-increment-protocol", o.path);
        if (!o.nomirror)
            connect_ws("lws-mirror-protocol", o.path);
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    if (o.secs)
        kite_vhost_timer_schedule(vh, 0, &limit, (uint64_t)o.secs * 1000000u, time_up);
    if (active)
        kite_run(ctx);
    stopping = 1;
    rc = summary();
    kite_context_destroy(ctx);
    free(echo_buf);
    return rc;
}
