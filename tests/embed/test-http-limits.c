/*
 * strict-host-check, reject-service-keywords, ip-limit-wsi and
 * ip-limit-ah. A Host naming no vhost gets 400 when the listener's
 * default vhost is strict (and is served when it is not); a User-Agent
 * with a listed keyword gets the listed status; the connection past a
 * peer's limit is closed unanswered, across two service threads, and a
 * slot freed by a close can be used again; a head started past the
 * peer's limit of head-reading connections gets 503 and Connection:
 * close; unix-socket peers are not limited.
 */
#include <stdlib.h>
#include <sys/un.h>

#include "http-get.h"
#include "srv.h"
#include "tap.h"

static int on_http(kite_conn_t *c, void *user, const kite_http_req_t *req)
{
    (void)user;
    (void)req;
    if (kite_http_respond(c, 200, "text/plain", 2) < 0)
        return 1;
    return kite_write(c, "ok", 2, KITE_WRITE_HTTP_FINAL) < 0;
}

static const kite_protocol_t proto = {.abi = KITE_PROTOCOL_ABI, .name = "ok", .on_http = on_http};
static const kite_protocol_t *const protos[] = {&proto, NULL};
static const kite_mount_t mount = KITE_MOUNT_INIT(.mountpoint = "/", .origin = "callback://ok");

static kite_vhost_t *vhost(kite_context_t *ctx, const char *name, unsigned options,
                           const char *unix_path)
{
    kite_vhost_info_t vi = KITE_VHOST_INFO_INIT();
    int err = 0;

    vi.name = name;
    vi.iface = "127.0.0.1";
    vi.unix_socket = unix_path;
    vi.options = options;
    vi.protocols = protos;
    vi.mounts = &mount;
    return kite_vhost_create(ctx, &vi, &err);
}

static int host_get(int port, const char *host, const char *ua)
{
    char req[512], resp[4096];

    snprintf(req, sizeof(req), "GET / HTTP/1.1\r\n%s%s%s%s%s%sConnection: close\r\n\r\n",
             host ? "Host: " : "", host ? host : "", host ? "\r\n" : "", ua ? "User-Agent: " : "",
             ua ? ua : "", ua ? "\r\n" : "");
    return srv_request(port, req, resp, sizeof(resp));
}

static void test_host_and_keywords(void)
{
    static const kite_pvo_t kw2 = {.name = "EvilScanner", .value = "403"};
    static const kite_pvo_t kw1 = {.next = &kw2, .name = "badbot", .value = "404 Not Found"};
    static const kite_pvo_t kw_bad = {.name = "x", .value = "nope"};
    kite_context_info_t ci = KITE_CONTEXT_INFO_INIT();
    kite_context_t *ctx;
    kite_vhost_t *strict, *lax;
    pthread_t th;
    int err = 0, ps, pl;

    ci.reject_service_keywords = &kw_bad;
    tap_ok(!kite_context_create(&ci, &err) && err == KITE_EINVAL,
           "a reject keyword whose value is not a status fails the context");
    ci.reject_service_keywords = &kw1;
    ctx = kite_context_create(&ci, &err);
    strict = vhost(ctx, "strict.example", KITE_VH_STRICT_HOST, NULL);
    lax = vhost(ctx, "lax.example", 0, NULL);
    tap_ok(strict && lax, "vhosts");
    if (!strict || !lax)
        return;
    ps = kite_vhost_port(strict);
    pl = kite_vhost_port(lax);
    srv_start(ctx, &th);
    tap_is_int(host_get(ps, "strict.example", NULL), 200, "strict: its own name");
    tap_is_int(host_get(ps, "STRICT.example.:8080", NULL), 200, "strict: name with port, any case");
    tap_is_int(host_get(ps, "other.example", NULL), 400, "strict: an unknown Host gets 400");
    tap_is_int(host_get(ps, "127.0.0.1", NULL), 400, "strict: an address is unknown too");
    tap_is_int(host_get(ps, NULL, NULL), 400, "HTTP/1.1 without Host: 400");
    tap_is_int(host_get(pl, "other.example", NULL), 200, "not strict: an unknown Host is served");
    {
        char resp[4096];
        tap_is_int(srv_request(ps, "GET / HTTP/1.0\r\n\r\n", resp, sizeof(resp)), 400,
                   "strict: HTTP/1.0 without Host gets 400");
        tap_is_int(srv_request(pl, "GET / HTTP/1.0\r\n\r\n", resp, sizeof(resp)), 200,
                   "not strict: HTTP/1.0 without Host is served");
        tap_is_int(srv_request(pl, "GET / HTTP/1.1\r\n\r\n", resp, sizeof(resp)), 400,
                   "not strict: HTTP/1.1 without Host is 400 all the same");
    }

    tap_is_int(host_get(pl, "lax.example", "Mozilla/5.0 (badbot 1.1)"), 404,
               "User-Agent with a keyword: the listed status");
    tap_is_int(host_get(pl, "lax.example", "EvilScanner/2"), 403, "the second keyword: 403");
    tap_is_int(host_get(pl, "lax.example", "curl/8.0"), 200, "another User-Agent is served");
    tap_is_int(host_get(pl, "lax.example", NULL), 200, "no User-Agent is served");
    srv_stop(ctx, th);
}

/* True when the server closed @fd without answering. */
static int closed_unanswered(int fd)
{
    char buf[256];
    int n;

    srv_send(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    n = srv_read_all(fd, buf, sizeof(buf));
    return n == 0;
}

static int get_on(int fd)
{
    char buf[1024];
    ssize_t n;
    int status = -1;

    if (srv_send(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n") < 0)
        return -1;
    n = read(fd, buf, sizeof(buf) - 1);
    buf[n > 0 ? n : 0] = '\0';
    sscanf(buf, "HTTP/1.1 %d", &status);
    return status;
}

static void test_ip_limits(void)
{
    kite_context_info_t ci = KITE_CONTEXT_INFO_INIT();
    kite_context_t *ctx;
    kite_vhost_t *vh, *vu;
    char upath[64], resp[4096];
    pthread_t th;
    int err = 0, port, fd[4], i, ok;

    ci.count_threads = 2;
    ci.ip_limit_wsi = 3;
    ci.ip_limit_ah = 2;
    ctx = kite_context_create(&ci, &err);
    snprintf(upath, sizeof(upath), "/tmp/kite-limits-%d.sock", (int)getpid());
    vh = vhost(ctx, "limits", 0, NULL);
    vu = vhost(ctx, "limits-unix", 0, upath);
    tap_ok(vh && vu, "vhosts with per-IP limits");
    if (!vh || !vu)
        return;
    port = kite_vhost_port(vh);
    srv_start(ctx, &th);

    /* ip-limit-wsi 3: three keep-alive connections are served... */
    for (i = 0, ok = 0; i < 3; i++) {
        fd[i] = srv_dial(port);
        ok += get_on(fd[i]) == 200;
    }
    tap_is_int(ok, 3, "three connections from one address are served");
    fd[3] = srv_dial(port);
    tap_ok(fd[3] >= 0 && closed_unanswered(fd[3]), "the fourth is closed at once, unanswered");
    close(fd[3]);
    close(fd[0]);
    srv_sleep_ms(200);
    fd[0] = srv_dial(port);
    tap_is_int(get_on(fd[0]), 200, "after one closes, a new connection is served");
    for (i = 0; i < 3; i++)
        close(fd[i]);
    for (i = 0, ok = 0; i < 5; i++)
        ok += http_get(0, upath, "/", NULL, 0) == 200;
    tap_is_int(ok, 5, "unix-socket peers are not limited");
    srv_sleep_ms(200);

    /* ip-limit-ah 2: two connections in the middle of a head... */
    fd[0] = srv_dial(port);
    fd[1] = srv_dial(port);
    srv_send(fd[0], "GET / HTTP/1.1\r\nHost: x\r\n");
    srv_send(fd[1], "GET / HTTP/1.1\r\n");
    srv_sleep_ms(300);
    tap_is_int(srv_request(port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", resp, sizeof(resp)), 503,
               "a third head from the address gets 503");
    tap_ok(strstr(resp, "\r\nConnection: close\r\n") != NULL, "with Connection: close");
    srv_send(fd[0], "Connection: close\r\n\r\n");
    srv_send(fd[1], "Host: x\r\nConnection: close\r\n\r\n");
    tap_ok(srv_read_all(fd[0], resp, sizeof(resp)) > 0 && !strncmp(resp, "HTTP/1.1 200", 12),
           "the slow heads, once complete, are served");
    srv_read_all(fd[1], resp, sizeof(resp));
    close(fd[0]);
    close(fd[1]);
    tap_is_int(srv_request(port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", resp,
                           sizeof(resp)),
               200, "then a new request is served again");
    srv_stop(ctx, th);
}

int main(void)
{
    test_host_and_keywords();
    test_ip_limits();
    return tap_done();
}
