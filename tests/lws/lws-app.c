/*
 * A server written to the lws 4.1 API, built twice by the tests: against
 * libkite-lws and against Debian's libwebsockets. test_lws_compat.py sends
 * both the same requests and compares the answers. It serves:
 * - /files/: a file mount (mount-origin given by -r DIR);
 * - /dyn/...: a dynamic page (the path below the mount, a url argument,
 *   a header, a body written in pieces from HTTP_WRITEABLE);
 * - /form: a POST parsed with lws_spa (urlencoded or multipart);
 * - ws "chat": every message goes to every member through a ring, one
 *   message per SERVER_WRITEABLE, with rx flow control when a member lags.
 * -p PORT (0: any; the port is printed as "port N"), -e: external poll,
 * -u: on the application's own libuv loop (foreign_loops).
 */
#include <libwebsockets.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

static volatile int interrupted;
static struct lws_context *context;

struct pss_http {
    char path[128];
    char arg[64];
    int part;
    struct lws_spa *spa;
};

static const char *const form_params[] = {"text", "number"};

static int cb_http(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                   size_t len)
{
    struct pss_http *pss = user;
    unsigned char buf[LWS_PRE + 1024], *start = &buf[LWS_PRE], *p = start,
                                       *end = &buf[sizeof(buf) - 1];
    char ua[64];

    switch (reason) {
    case LWS_CALLBACK_HTTP:
        if (lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI)) {
            pss->spa = lws_spa_create(wsi, form_params, 2, 1024, NULL, NULL);
            return !pss->spa;
        }
        lws_snprintf(pss->path, sizeof(pss->path), "%s", (const char *)in);
        if (!lws_get_urlarg_by_name(wsi, "x=", pss->arg, sizeof(pss->arg)))
            strcpy(pss->arg, "-");
        if (!strcmp(pss->path, "/missing"))
            return lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, NULL) ||
                   lws_http_transaction_completed(wsi);
        if (lws_hdr_copy(wsi, ua, sizeof(ua), WSI_TOKEN_HTTP_USER_AGENT) < 0)
            strcpy(ua, "?");
        if (lws_add_http_common_headers(wsi, HTTP_STATUS_OK, "text/plain",
                                        LWS_ILLEGAL_HTTP_CONTENT_LEN, &p, end) ||
            lws_add_http_header_by_name(wsi, (const unsigned char *)"x-agent:",
                                        (const unsigned char *)ua, (int)strlen(ua), &p, end) ||
            lws_finalize_write_http_header(wsi, start, &p, end))
            return 1;
        pss->part = 0;
        lws_callback_on_writable(wsi);
        return 0;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        if (pss->part < 3) {
            p += lws_snprintf((char *)p, (size_t)(end - p), "part %d of %s arg %s\n", pss->part,
                              pss->path, pss->arg);
            if (lws_write(wsi, start, (size_t)(p - start), LWS_WRITE_HTTP) != (int)(p - start))
                return 1;
            pss->part++;
            lws_callback_on_writable(wsi);
            return 0;
        }
        if (lws_write(wsi, start, 0, LWS_WRITE_HTTP_FINAL))
            return 1;
        return lws_http_transaction_completed(wsi) ? -1 : 0;
    case LWS_CALLBACK_HTTP_BODY:
        return pss->spa && lws_spa_process(pss->spa, in, (int)len);
    case LWS_CALLBACK_HTTP_BODY_COMPLETION: {
        char body[512];
        int n;
        lws_spa_finalize(pss->spa);
        n = lws_snprintf(body, sizeof(body), "text=%s number=%s\n",
                         lws_spa_get_string(pss->spa, 0) ? lws_spa_get_string(pss->spa, 0) : "-",
                         lws_spa_get_string(pss->spa, 1) ? lws_spa_get_string(pss->spa, 1) : "-");
        if (lws_add_http_common_headers(wsi, HTTP_STATUS_OK, "text/plain", (unsigned long)n, &p,
                                        end) ||
            lws_finalize_write_http_header(wsi, start, &p, end))
            return 1;
        memcpy(start, body, (size_t)n);
        if (lws_write(wsi, start, (size_t)n, LWS_WRITE_HTTP_FINAL) != n)
            return 1;
        return lws_http_transaction_completed(wsi) ? -1 : 0;
    }
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        if (pss && pss->spa) {
            lws_spa_destroy(pss->spa);
            pss->spa = NULL;
        }
        break;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

/* The chat: a ring of messages, a tail per member. */
struct msg {
    void *payload;
    size_t len;
};
struct pss_chat {
    struct pss_chat *next;
    struct lws *wsi;
    uint32_t tail;
};
struct vhd_chat {
    struct lws_ring *ring;
    struct pss_chat *members;
};

static void destroy_msg(void *m)
{
    free(((struct msg *)m)->payload);
}

static int cb_chat(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                   size_t len)
{
    struct pss_chat *pss = user;
    struct vhd_chat *vhd = lws_protocol_vh_priv_get(lws_get_vhost(wsi), lws_get_protocol(wsi));
    const struct msg *pm;
    struct msg m;

    switch (reason) {
    case LWS_CALLBACK_PROTOCOL_INIT:
        vhd = lws_protocol_vh_priv_zalloc(lws_get_vhost(wsi), lws_get_protocol(wsi), sizeof(*vhd));
        vhd->ring = lws_ring_create(sizeof(struct msg), 8, destroy_msg);
        return !vhd->ring;
    case LWS_CALLBACK_PROTOCOL_DESTROY:
        if (vhd)
            lws_ring_destroy(vhd->ring);
        break;
    case LWS_CALLBACK_ESTABLISHED:
        lws_ll_fwd_insert(pss, next, vhd->members);
        pss->wsi = wsi;
        pss->tail = lws_ring_get_oldest_tail(vhd->ring);
        break;
    case LWS_CALLBACK_CLOSED:
        lws_ll_fwd_remove(struct pss_chat, next, pss, vhd->members);
        break;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        pm = lws_ring_get_element(vhd->ring, &pss->tail);
        if (!pm)
            break;
        if (lws_write(wsi, (unsigned char *)pm->payload + LWS_PRE, pm->len, LWS_WRITE_TEXT) <
            (int)pm->len)
            return -1;
        lws_ring_consume_and_update_oldest_tail(vhd->ring, struct pss_chat, &pss->tail, 1,
                                                vhd->members, tail, next);
        if (lws_ring_get_element(vhd->ring, &pss->tail))
            lws_callback_on_writable(wsi);
        /* Room again: let the members that filled the ring go on. */
        if (lws_ring_get_count_free_elements(vhd->ring)) {
            lws_start_foreach_llp(struct pss_chat **, pp, vhd->members)
            {
                lws_rx_flow_control((*pp)->wsi, 1);
            }
            lws_end_foreach_llp(pp, next);
        }
        break;
    case LWS_CALLBACK_RECEIVE:
        if (len == 5 && !memcmp(in, "close", 5)) {
            lws_close_reason(wsi, LWS_CLOSE_STATUS_GOINGAWAY, (unsigned char *)"bye", 3);
            return -1;
        }
        m.len = len;
        m.payload = malloc(LWS_PRE + len);
        if (!m.payload)
            return -1;
        memcpy((char *)m.payload + LWS_PRE, in, len);
        if (!lws_ring_insert(vhd->ring, &m, 1)) {
            free(m.payload);
            return -1;
        }
        /* A full ring stops this member until the others caught up. */
        if (!lws_ring_get_count_free_elements(vhd->ring))
            lws_rx_flow_control(wsi, 0);
        lws_callback_on_writable_all_protocol(lws_get_context(wsi), lws_get_protocol(wsi));
        break;
    default:
        break;
    }
    return 0;
}

static struct lws_protocols protocols[] = {
    {"http", cb_http, sizeof(struct pss_http), 0, 0, NULL, 0},
    {"chat", cb_chat, sizeof(struct pss_chat), 1024, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static struct lws_http_mount mount_dyn = {
    NULL, "/dyn", "http",           NULL, NULL, NULL,        NULL, NULL, 0, 0, 0, 0,
    0,    0,      LWSMPRO_CALLBACK, 4,    NULL, {NULL, NULL}};
static struct lws_http_mount mount_form = {
    &mount_dyn, "/form", "http",           NULL, NULL, NULL,        NULL, NULL, 0, 0, 0, 0,
    0,          0,       LWSMPRO_CALLBACK, 5,    NULL, {NULL, NULL}};
static struct lws_http_mount mount_files = {
    &mount_form, "/files", ".", "index.html", NULL, NULL, NULL,        NULL, 0, 0, 0,
    0,           0,        0,   LWSMPRO_FILE, 6,    NULL, {NULL, NULL}};

/* External poll (-e): the fds lws hands us, in our own array. */
static struct pollfd fds[64];
static int nfds;

static int cb_poll(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                   size_t len)
{
    struct lws_pollargs *pa = in;
    int i;

    switch (reason) {
    case LWS_CALLBACK_ADD_POLL_FD:
        if (nfds == 64)
            return 1;
        fds[nfds].fd = pa->fd;
        fds[nfds].events = (short)pa->events;
        fds[nfds++].revents = 0;
        return 0;
    case LWS_CALLBACK_DEL_POLL_FD:
        for (i = 0; i < nfds; i++)
            if (fds[i].fd == pa->fd)
                fds[i] = fds[--nfds];
        return 0;
    case LWS_CALLBACK_CHANGE_MODE_POLL_FD:
        for (i = 0; i < nfds; i++)
            if (fds[i].fd == pa->fd)
                fds[i].events = (short)pa->events;
        return 0;
    default:
        return cb_http(wsi, reason, user, in, len);
    }
}

/* -u: the application runs its libuv loop; a uv signal stops it. */
static void on_uv_signal(uv_signal_t *h, int sig)
{
    (void)sig;
    uv_stop(h->loop);
}

static int run_foreign(uv_loop_t *loop)
{
    /* closed here, freed by the loop later: not on this stack */
    static uv_signal_t s1, s2;

    uv_signal_init(loop, &s1);
    uv_signal_init(loop, &s2);
    uv_signal_start(&s1, on_uv_signal, SIGINT);
    uv_signal_start(&s2, on_uv_signal, SIGTERM);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&s1, NULL);
    uv_close((uv_handle_t *)&s2, NULL);
    return 0;
}

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

int main(int argc, const char **argv)
{
    struct lws_context_creation_info info;
    const char *p;
    int n = 0, extpoll = !!lws_cmdline_option(argc, argv, "-e");
    int foreign = !!lws_cmdline_option(argc, argv, "-u");
    uv_loop_t loop;
    void *loops[1] = {&loop};

    signal(SIGINT, on_sigint);
    signal(SIGTERM, on_sigint);
    lws_set_log_level(LLL_ERR | LLL_USER, NULL);
    memset(&info, 0, sizeof(info));
    info.port = (p = lws_cmdline_option(argc, argv, "-p")) ? atoi(p) : 7681;
    if ((p = lws_cmdline_option(argc, argv, "-r")))
        mount_files.origin = p;
    info.mounts = &mount_files;
    info.protocols = protocols;
    if (extpoll)
        protocols[0].callback = cb_poll;
    info.options = LWS_SERVER_OPTION_HTTP_HEADERS_SECURITY_BEST_PRACTICES_ENFORCE;
    if (foreign) {
        uv_loop_init(&loop);
        info.options |= LWS_SERVER_OPTION_LIBUV;
        info.foreign_loops = loops;
    }
    context = lws_create_context(&info);
    if (!context)
        return 1;
    printf("port %d\n", lws_get_vhost_port(lws_get_vhost_by_name(context, "default")));
    fflush(stdout);
    if (foreign) {
        run_foreign(&loop);
        lws_context_destroy(context);
        /* the loop is the application's: it outlives the context */
        uv_run(&loop, UV_RUN_NOWAIT);
        return uv_loop_close(&loop) ? 2 : 0;
    }
    while (n >= 0 && !interrupted) {
        if (!extpoll) {
            n = lws_service(context, 0);
            continue;
        }
        n = poll(fds, (nfds_t)nfds, lws_service_adjust_timeout(context, 1000, 0));
        for (int i = 0; n > 0 && i < nfds; i++)
            if (fds[i].revents) {
                struct pollfd pfd = fds[i];
                fds[i].revents = 0;
                lws_service_fd(context, &pfd);
            }
        /* lws 4.1's way to run what became due without an fd event */
        n = lws_service_tsi(context, -1, 0);
    }
    lws_context_destroy(context);
    return 0;
}
