/*
 * A program built against kite 0.1's headers (tests/abi/old-include, a
 * copy of include/ at 85ab324, whose caller-allocated structs had no
 * struct_size) run against today's library: it must work unchanged. Each
 * struct is allocated on the heap with exactly its 0.1 size, so that
 * under ASan a read past what the program allocated fails the run. It
 * serves a request to itself through the 0.1 client entry point and
 * checks that members from the start, middle and end of each struct took
 * effect: the Server string, the vhost's extra header, the second mount
 * of the chain, the client's path and extra header.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kite.h" /* tests/abi/old-include/kite.h */
#include "tap.h"

static struct {
    int status, done, closed, err;
    char server[64], extra[64], body[256];
    size_t body_len;
} got;

static int on_http(kite_conn_t *c, void *user, const kite_http_req_t *req)
{
    char body[200];
    int n;

    (void)user;
    n = snprintf(body, sizeof(body), "old abi: %s %s x-req=%s", kite_http_method(req),
                 kite_http_path(req), kite_http_header(req, "x-req") ? "yes" : "no");
    if (kite_http_respond(c, 200, "text/plain", n) < 0)
        return 1;
    return kite_write(c, body, (size_t)n, KITE_WRITE_HTTP_FINAL) < 0;
}

static int on_response(kite_conn_t *c, void *user, int status)
{
    const char *s = kite_client_http_header(c, "server"), *x = kite_client_http_header(c, "x-old");

    (void)user;
    got.status = status;
    snprintf(got.server, sizeof(got.server), "%s", s ? s : "");
    snprintf(got.extra, sizeof(got.extra), "%s", x ? x : "");
    return 0;
}

static int on_body(kite_conn_t *c, void *user, const void *in, size_t len)
{
    (void)c;
    (void)user;
    if (len > sizeof(got.body) - 1 - got.body_len)
        len = sizeof(got.body) - 1 - got.body_len;
    memcpy(got.body + got.body_len, in, len);
    got.body_len += len;
    return 0;
}

static int on_done(kite_conn_t *c, void *user)
{
    (void)c;
    (void)user;
    got.done = 1;
    return 0;
}

static void on_error(kite_conn_t *c, void *user, const char *reason)
{
    (void)c;
    (void)user;
    printf("# client error: %s\n", reason);
    got.err = 1;
}

static void on_closed(kite_conn_t *c, void *user, int code)
{
    (void)user;
    (void)code;
    if (kite_client_is_client(c))
        got.closed = 1;
}

static const kite_protocol_t proto = {
    .abi = KITE_PROTOCOL_ABI,
    .name = "old-app",
    .on_http = on_http,
    .on_closed = on_closed,
    .on_client_http_response = on_response,
    .on_client_http_body = on_body,
    .on_client_http_done = on_done,
    .on_client_connection_error = on_error,
};
static const kite_protocol_t *const protos[] = {&proto, NULL};
static const kite_pvo_t extra_header = {.name = "X-Old", .value = "kept"};

/* Heap copies of exactly @n bytes: nothing after them is the program's. */
static void *exact(const void *src, size_t n)
{
    void *p = malloc(n);

    if (p)
        memcpy(p, src, n);
    return p;
}

static void config_entry_points(const char *dir)
{
    char path[256];
    FILE *f;
    kite_config_t *cfg;
    kite_context_info_t base = {0}, *b;
    kite_context_t *ctx;
    int err = 0, marker;

    snprintf(path, sizeof(path), "%s/conf", dir);
    f = fopen(path, "w");
    if (!f)
        return;
    fputs("{\"global\": {\"timeout-secs\": 13, \"server-string\": \"from-json\"}}\n", f);
    fclose(f);
    {
        /* The 0.1 opts: errbuf and errlen are its last members. */
        kite_config_opts_t o0 = {.flags = KITE_CONFIG_NO_DEFAULT_DIR}, *o;
        char errbuf[256] = "";
        o0.errbuf = errbuf;
        o0.errlen = sizeof(errbuf);
        o = exact(&o0, sizeof(o0));
        tap_ok(!kite_config_load("/nonexistent/kite.conf", o, &err) &&
                   strstr(errbuf, "nonexistent"),
               "0.1 kite_config_load writes its error into the 0.1 opts' errbuf (%s)", errbuf);
        free(o);
    }
    cfg = kite_config_load(path, NULL, &err);
    tap_ok(cfg != NULL, "0.1 kite_config_load (%s)", kite_err_name(err));
    if (cfg) {
        const kite_context_info_t *ci = kite_config_context_info(cfg);
        tap_is_int(ci->timeout_secs, 13, "0.1 kite_config_context_info: timeout_secs in place");
        tap_is_str(ci->server_string, "from-json", "0.1 kite_config_context_info: server_string");
        kite_config_put(cfg);
    }
    base.user = &marker;
    base.timeout_secs = 99; /* JSON's 13 wins */
    b = exact(&base, sizeof(base));
    ctx = kite_context_create_from_json(path, b, NULL, &err);
    tap_ok(ctx != NULL, "0.1 kite_context_create_from_json (%s)", kite_err_name(err));
    if (ctx) {
        tap_ok(kite_context_user(ctx) == &marker, "its 0.1 base's user is the context's");
        kite_context_destroy(ctx);
    }
    free(b);
    unlink(path);
}

int main(void)
{
    kite_context_info_t ci0 = {0}, *ci;
    kite_vhost_info_t vi0 = {0}, *vi;
    kite_mount_t m0 = {0}, *m_redir, *m_app;
    kite_client_info_t cl0 = {0}, *cl;
    kite_ws_deflate_t wd0 = {.level = 1}, *wd = exact(&wd0, sizeof(wd0));
    kite_context_t *ctx;
    kite_vhost_t *vh;
    char dir[] = "/tmp/kite-old-abi-XXXXXX";
    int err = 0, i;

    kite_set_log_level(KITE_LL_ERR, NULL);
    /* Members from the start, middle and end of each struct. */
    ci0.count_threads = 1;
    ci0.server_string = "old-abi/1";
    ci0.ws_max_message = 4096;
    ci0.h2_settings_timeout = 3;
    ci = exact(&ci0, sizeof(ci0));
    ctx = kite_context_create(ci, &err);
    tap_ok(ctx != NULL, "0.1 kite_context_create (%s)", kite_err_name(err));
    if (!ctx)
        return tap_done();

    m0.mountpoint = "/app";
    m0.origin = "callback://old-app";
    m0.lua_budget = 1000;
    m_app = exact(&m0, sizeof(m0));
    memset(&m0, 0, sizeof(m0));
    m0.next = m_app;
    m0.mountpoint = "/elsewhere";
    m0.origin = ">https://example.invalid/";
    m_redir = exact(&m0, sizeof(m0));

    vi0.iface = "127.0.0.1";
    vi0.protocols = protos;
    vi0.mounts = m_redir;
    vi0.headers = &extra_header;
    vi0.ws_deflate = wd;
    vi = exact(&vi0, sizeof(vi0));
    vh = kite_vhost_create(ctx, vi, &err);
    tap_ok(vh != NULL, "0.1 kite_vhost_create with a chain of two 0.1 mounts (%s)",
           kite_err_name(err));
    if (!vh)
        goto out;

    cl0.vhost = vh;
    cl0.address = "127.0.0.1";
    cl0.port = kite_vhost_port(vh);
    cl0.path = "/app/hello";
    cl0.method = "GET";
    cl0.local_protocol = "old-app";
    cl0.connect_timeout_ms = 3000;
    cl0.headers = "X-Req: 1\r\n";
    cl = exact(&cl0, sizeof(cl0));
    tap_ok(kite_client_connect(ctx, cl, &err) != NULL, "0.1 kite_client_connect (%s)",
           kite_err_name(err));
    for (i = 0; i < 500 && !(got.done && got.closed) && !got.err; i++)
        kite_service(ctx, 0, 10);
    tap_is_int(got.status, 200, "the request was served");
    tap_is_str(got.server, "old-abi/1", "Server: the 0.1 context info's server_string");
    tap_is_str(got.extra, "kept", "X-Old: the 0.1 vhost info's headers");
    tap_is_str(got.body, "old abi: GET /app/hello x-req=yes",
               "the second 0.1 mount served it, with the 0.1 client's path and headers");
    tap_ok(got.closed, "the client's on_closed came");
    free(cl);
out:
    kite_context_destroy(ctx);
    free(vi);
    free(m_redir);
    free(m_app);
    free(wd);
    free(ci);
    if (mkdtemp(dir)) {
        config_entry_points(dir);
        rmdir(dir);
    }
    return tap_done();
}
