/*
 * kite_context_create_from_json() for embedders: a config directory
 * (conf + conf.d) with the application's own protocol, its pvo reaching
 * on_vhost_init, a file mount and a context-wide reject keyword; a bad
 * config gives NULL and the file:line message; a reload through
 * kite_config_load + kite_config_create_vhosts swaps the answer, and the
 * first config (which held the reject keywords the context was made
 * from) is freed with its vhosts while the keywords keep working.
 */
#include <stdlib.h>
#include <sys/stat.h>

#include "srv.h"
#include "tap.h"

static char dir[64];
static int port;

static void emit(int level, const char *line)
{
    const char *p = strstr(line, "listening on 127.0.0.1 port ");

    if (p)
        port = atoi(p + 28);
}

static int on_init(kite_vhost_t *vh, const kite_pvo_t *pvo, void **vhd)
{
    const char *g = kite_pvo_get(pvo, "greeting");

    *vhd = g ? strdup(g) : NULL;
    return !g; /* the test config always gives one */
}

static void on_destroy(kite_vhost_t *vh, void *vhd)
{
    free(vhd);
}

static int on_http(kite_conn_t *c, void *user, const kite_http_req_t *req)
{
    const char *g = kite_vhost_protocol_data(kite_conn_vhost(c), kite_conn_protocol(c));
    size_t n = strlen(g);

    if (kite_http_respond(c, 200, "text/plain", (int64_t)n) < 0)
        return 1;
    return kite_write(c, g, n, KITE_WRITE_HTTP_FINAL) < 0;
}

static const kite_protocol_t hello = {.abi = KITE_PROTOCOL_ABI,
                                      .name = "hello",
                                      .on_vhost_init = on_init,
                                      .on_vhost_destroy = on_destroy,
                                      .on_http = on_http};
static const kite_protocol_t *const protos[] = {&hello, NULL};

static void put(const char *rel, const char *text)
{
    char p[256];
    FILE *f;

    snprintf(p, sizeof(p), "%s/%s", dir, rel);
    f = fopen(p, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void write_vhost(const char *greeting)
{
    char conf[1024];

    snprintf(conf, sizeof(conf),
             "# written by test-json\n"
             "{ \"vhosts\": [{\n"
             "  \"name\": \"localhost\", \"port\": %d, \"interface\": \"127.0.0.1\",\n"
             "  \"ws-protocols\": [{ \"hello\": { \"greeting\": \"%s\" } }],\n"
             "  \"mounts\": [\n"
             "    { \"mountpoint\": \"/\", \"origin\": \"file://../www\" },\n"
             "    { \"mountpoint\": \"/hello\", \"origin\": \"callback://hello\" }\n"
             "  ]\n"
             "}] }\n",
             port, greeting);
    put("conf.d/10-vhost.json", conf);
}

static int get(const char *path, const char *ua, char *resp, size_t cap)
{
    char req[256];

    snprintf(req, sizeof(req),
             "GET %s HTTP/1.1\r\nHost: localhost\r\nUser-Agent: %s\r\n"
             "Connection: close\r\n\r\n",
             path, ua);
    return srv_request(port, req, resp, cap);
}

int main(void)
{
    kite_config_opts_t o =
        KITE_CONFIG_OPTS_INIT(.protocols = protos, .flags = KITE_CONFIG_NO_DEFAULT_DIR);
    char errs[2048], resp[4096], sub[128];
    kite_context_t *ctx;
    kite_config_t *cfg;
    pthread_t th;
    int err = 0;

    kite_set_log_level(KITE_LL_NOTICE, emit);
    snprintf(dir, sizeof(dir), "/tmp/kite-json-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    snprintf(sub, sizeof(sub), "%s/conf.d", dir);
    mkdir(sub, 0755);
    snprintf(sub, sizeof(sub), "%s/www", dir);
    mkdir(sub, 0755);
    put("www/index.html", "static index\n");
    put("conf", "{ \"global\": { \"server-string\": \"json-test\",\n"
                "  \"reject-service-keywords\": [{ \"badbot\": \"403\" }] } }\n");
    put("conf.d/10-vhost.json", "{ \"vhosts\": [{ \"port\": 0, \"prot\": 1 }] }\n");
    o.errbuf = errs;
    o.errlen = sizeof(errs);
    tap_ok(!kite_context_create_from_json(dir, NULL, &o, &err) && err == KITE_EINVAL,
           "a bad config gives no context");
    tap_ok(strstr(errs, "conf.d/10-vhost.json:1: vhosts[0].prot: unknown key \"prot\"") != NULL,
           "and says where: %s", errs);

    port = 0;
    write_vhost("first");
    ctx = kite_context_create_from_json(dir, NULL, &o, &err);
    tap_ok(ctx && port > 0, "context and vhost from the JSON (port %d)", port);
    if (!ctx)
        return tap_done();
    srv_start(ctx, &th);
    tap_is_int(get("/hello", "test", resp, sizeof(resp)), 200, "callback mount");
    tap_is_str(srv_body(resp), "first", "the pvo reached on_vhost_init");
    tap_ok(strstr(resp, "Server: json-test\r\n") != NULL, "server-string");
    tap_is_int(get("/", "test", resp, sizeof(resp)), 200,
               "file mount, docroot relative to its file");
    tap_is_str(srv_body(resp), "static index\n", "index.html");
    tap_is_int(get("/", "a badbot b", resp, sizeof(resp)), 403, "reject-service-keywords");

    /* the same port again: the listener is kept, the vhost swapped */
    write_vhost("second");
    cfg = kite_config_load(dir, &o, &err);
    tap_ok(cfg != NULL, "the new config loads");
    tap_is_int(kite_context_reload_begin(ctx), 0, "reload begins");
    tap_is_int(kite_config_create_vhosts(cfg, ctx, errs, sizeof(errs)), 0, "staged vhosts");
    tap_is_int(kite_context_reload_commit(ctx), 0, "reload commits");
    kite_config_put(cfg);
    srv_sleep_ms(100);
    tap_is_int(get("/hello", "test", resp, sizeof(resp)), 200, "callback mount after reload");
    tap_is_str(srv_body(resp), "second", "the new vhost answers");
    tap_is_int(get("/", "badbot", resp, sizeof(resp)), 403,
               "reject keywords outlive the config they came from");
    srv_stop(ctx, th);
    snprintf(resp, sizeof(resp), "rm -rf %s", dir);
    tap_ok(system(resp) == 0, "cleanup");
    return tap_done();
}
