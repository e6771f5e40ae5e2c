/*
 * A CGI script's environment (lib/roles/cgi/env.c) for a request parsed
 * by the real h1 parser on a real loopback connection: the RFC 3875
 * meta-variables (SCRIPT_NAME / PATH_INFO split at the script, the query,
 * the body's type and length, the peer and the port it reached), request
 * headers as HTTP_* (a repeated one joined with ", "), the ones that must
 * not pass (Authorization, Proxy: httpoxy, Content-Type/-Length) left
 * out, and the mount's cgi-env last, replacing a variable of the same
 * name; a cgi-env name with '=' in it is dropped.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../../../lib/roles/cgi/env.c"
#include "event/event.h"

#include "tap.h"

static int the_fd = -1;
static int fake_fd(const kite_conn_t *c)
{
    (void)c;
    return the_fd;
}
static const struct kite__event_ops fake_ops = {.fd = fake_fd};

static const char *get(char **env, const char *name)
{
    size_t n = strlen(name);

    for (; env && *env; env++)
        if (!strncmp(*env, name, n) && (*env)[n] == '=')
            return *env + n + 1;
    return NULL;
}

static int count(char **env, const char *prefix)
{
    int n = 0;

    for (; env && *env; env++)
        n += !strncmp(*env, prefix, strlen(prefix));
    return n;
}

/* A connected loopback pair: kite's end is *mine, its port *port. */
static int loopback(int *mine, int *other, int *port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    int l = socket(AF_INET, SOCK_STREAM, 0);

    if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1) ||
        getsockname(l, (struct sockaddr *)&a, &al))
        return -1;
    *port = ntohs(a.sin_port);
    *other = socket(AF_INET, SOCK_STREAM, 0);
    if (*other < 0 || connect(*other, (struct sockaddr *)&a, sizeof(a)))
        return -1;
    *mine = accept(l, NULL, NULL);
    close(l);
    return *mine < 0 ? -1 : 0;
}

int main(void)
{
    static const kite_pvo_t bad = {.name = "BAD=X", .value = "1"};
    static const kite_pvo_t path = {.next = &bad, .name = "PATH", .value = "/opt/bin"};
    static const kite_pvo_t extra = {.next = &path, .name = "EXTRA", .value = "yes"};
    static struct kite_context_s ctx;
    static kite__pt_t pt;
    static struct kite_vhost_s vh;
    static struct kite_conn_s c;
    static kite_http_req_t t;
    kite_mount_t m = KITE_MOUNT_INIT(.cgi_env = &extra);
    kite__mount_rt_t mrt = {.m = &m, .mp_len = 8, .root = "/srv/cgi", .root_len = 8};
    kite__h1_limits_t lim = {8192, 8192, 64};
    char head[] = "POST /cgi-bin/run.sh/extra/path?x=1&y=2 HTTP/1.1\r\n"
                  "Host: www.test:8080\r\n"
                  "Content-Type: text/plain\r\n"
                  "Content-Length: 5\r\n"
                  "Authorization: Basic Zm9vOmJhcg==\r\n"
                  "Proxy: http://evil.test/\r\n"
                  "X-Dup: a\r\n"
                  "X-Dup: b\r\n"
                  "User-Agent: unit\r\n"
                  "\r\n";
    char **env, want[16];
    int other = -1, port = 0;

    tap_ok(loopback(&the_fd, &other, &port) == 0, "a loopback connection");
    ctx.server_string = "kite-unit";
    pt.ctx = &ctx;
    pt.evops = &fake_ops;
    vh.name = "vhost";
    c.pt = &pt;
    c.vh = &vh;
    c.xp = &kite__xport_tcp;
    tap_is_int(kite__h1_parse_head(head, sizeof(head) - 1, &t.p, &lim), 0, "the head parses");
    t.mrt = &mrt;
    t.path = "/cgi-bin/run.sh/extra/path";
    t.mount_path = "/run.sh/extra/path";
    t.tflags = KITE__T_BODY;
    env = kite__cgi_env(&c, &t, "/srv/cgi/run.sh", strlen("/run.sh"));
    tap_ok(env != NULL, "an environment");

    tap_is_str(get(env, "GATEWAY_INTERFACE"), "CGI/1.1", "GATEWAY_INTERFACE");
    tap_is_str(get(env, "SERVER_SOFTWARE"), "kite-unit", "SERVER_SOFTWARE: the Server string");
    tap_is_str(get(env, "SERVER_PROTOCOL"), "HTTP/1.1", "SERVER_PROTOCOL");
    tap_is_str(get(env, "SERVER_NAME"), "www.test", "SERVER_NAME: the Host without its port");
    tap_is_str(get(env, "REMOTE_ADDR"), "127.0.0.1", "REMOTE_ADDR: the peer");
    snprintf(want, sizeof(want), "%d", port);
    tap_is_str(get(env, "SERVER_PORT"), want, "SERVER_PORT: the port the connection reached");
    tap_is_str(get(env, "REQUEST_METHOD"), "POST", "REQUEST_METHOD");
    tap_is_str(get(env, "REQUEST_URI"), "/cgi-bin/run.sh/extra/path?x=1&y=2", "REQUEST_URI");
    tap_is_str(get(env, "SCRIPT_NAME"), "/cgi-bin/run.sh", "SCRIPT_NAME: up to the script");
    tap_is_str(get(env, "SCRIPT_FILENAME"), "/srv/cgi/run.sh", "SCRIPT_FILENAME");
    tap_is_str(get(env, "PATH_INFO"), "/extra/path", "PATH_INFO: what follows it");
    tap_is_str(get(env, "PATH_TRANSLATED"), "/srv/cgi/extra/path", "PATH_TRANSLATED");
    tap_is_str(get(env, "QUERY_STRING"), "x=1&y=2", "QUERY_STRING");
    tap_is_str(get(env, "CONTENT_TYPE"), "text/plain", "CONTENT_TYPE");
    tap_is_str(get(env, "CONTENT_LENGTH"), "5", "CONTENT_LENGTH");
    tap_is_str(get(env, "HTTP_X_DUP"), "a, b", "a repeated header is joined with \", \"");
    tap_is_str(get(env, "HTTP_USER_AGENT"), "unit", "headers become HTTP_*");
    tap_is_str(get(env, "HTTP_HOST"), "www.test:8080", "HTTP_HOST");
    tap_ok(!get(env, "HTTP_AUTHORIZATION"), "no HTTP_AUTHORIZATION");
    tap_ok(!get(env, "HTTP_PROXY"), "no HTTP_PROXY (httpoxy)");
    tap_ok(!get(env, "HTTP_CONTENT_TYPE") && !get(env, "HTTP_CONTENT_LENGTH"),
           "no HTTP_CONTENT_TYPE / _LENGTH");
    tap_ok(!get(env, "HTTPS"), "no HTTPS over plain TCP");
    tap_is_str(get(env, "REDIRECT_STATUS"), "200", "REDIRECT_STATUS (php-cgi)");
    tap_is_str(get(env, "EXTRA"), "yes", "the mount's cgi-env is added");
    tap_is_str(get(env, "PATH"), "/opt/bin", "and replaces a variable of the same name");
    tap_is_int(count(env, "PATH="), 1, "once");
    tap_is_int(count(env, "BAD"), 0, "a cgi-env name with '=' is dropped");
    free(env);
    close(the_fd);
    close(other);
    return tap_done();
}
