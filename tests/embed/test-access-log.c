/*
 * access-log: the exact combined-format line (peer, authuser from
 * basic-auth, date, escaped request line, status, body bytes or "-",
 * Referer, User-Agent), lines buffered and then written within about a
 * second, a 101 for a websocket upgrade, kite_context_reopen_logs()
 * after the file was renamed (new lines go to the new file), and a vhost
 * whose log cannot be opened. Two service threads.
 */
#include <fcntl.h>
#include <regex.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "srv.h"
#include "tap.h"

static char dir[64], logpath[128], authpath[128];

static int on_http(kite_conn_t *c, void *user, const kite_http_req_t *req)
{
    (void)user;
    (void)req;
    if (kite_http_respond(c, 200, "text/plain", 5) < 0)
        return 1;
    return kite_write(c, "hello", 5, KITE_WRITE_HTTP_FINAL) < 0;
}

static const kite_protocol_t proto = {
    .abi = KITE_PROTOCOL_ABI,
    .name = "hello",
    .on_http = on_http,
};
static const kite_protocol_t *const protos[] = {&proto, NULL};

static size_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) ? 0 : (size_t)st.st_size;
}

static void read_file(const char *path, char *out, size_t cap)
{
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(out, 1, cap - 1, f) : 0;

    out[n] = '\0';
    if (f)
        fclose(f);
}

/* Wait until @path holds @lines lines; the seconds it took, or -1. */
static double wait_lines(const char *path, int lines, double limit)
{
    double t0 = srv_now();
    char buf[8192];

    while (srv_now() - t0 < limit) {
        int n = 0;
        const char *p;
        read_file(path, buf, sizeof(buf));
        for (p = buf; (p = strchr(p, '\n')); p++)
            n++;
        if (n >= lines)
            return srv_now() - t0;
        srv_sleep_ms(20);
    }
    return -1;
}

static int matches(const char *text, const char *re)
{
    regex_t rx;
    int r;

    if (regcomp(&rx, re, REG_EXTENDED | REG_NEWLINE))
        return 0;
    r = regexec(&rx, text, 0, NULL, 0) == 0;
    regfree(&rx);
    return r;
}

#define DATE "\\[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2} [-+][0-9]{4}\\]"

static void test_lines(kite_context_t *ctx, int port)
{
    char resp[4096], log[8192];
    double took;

    tap_is_int(srv_request(port,
                           "GET /a/b%20c?x=1&y=%22q%22 HTTP/1.1\r\nHost: log\r\n"
                           "Referer: http://ref.example/page\r\nUser-Agent: t\"ua\\1\r\n"
                           "Connection: close\r\n\r\n",
                           resp, sizeof(resp)),
               200, "GET answered");
    tap_is_int(file_size(logpath), 0, "the line is buffered, not written per request");
    took = wait_lines(logpath, 1, 3.0);
    tap_ok(took >= 0 && took < 1.6, "the buffered line is written within a second (%.2fs)", took);
    read_file(logpath, log, sizeof(log));
    tap_ok(matches(log, "^127\\.0\\.0\\.1 - - " DATE " \"GET /a/b%20c\\?x=1&y=%22q%22 HTTP/1\\.1\" "
                        "200 5 \"http://ref\\.example/page\" \"t\\\\\"ua\\\\\\\\1\"$"),
           "combined format, with quotes and backslashes escaped: %s", log);

    tap_is_int(
        srv_request(port,
                    "HEAD /private/x HTTP/1.0\r\nAuthorization: Basic YWxpY2U6czNjcmV0\r\n\r\n",
                    resp, sizeof(resp)),
        200, "HEAD with basic-auth answered");
    tap_is_int(srv_request(port, "GET /private/x HTTP/1.0\r\n\r\n", resp, sizeof(resp)), 401,
               "no credentials: 401");
    tap_ok(wait_lines(logpath, 3, 3.0) >= 0, "two more lines");
    read_file(logpath, log, sizeof(log));
    tap_ok(matches(log, "^127\\.0\\.0\\.1 - alice " DATE " \"HEAD /private/x HTTP/1\\.0\" 200 - "
                        "\"-\" \"-\"$"),
           "authuser from basic-auth, no body bytes for HEAD: \"-\"");
    tap_ok(matches(log, "^127\\.0\\.0\\.1 - - " DATE " \"GET /private/x HTTP/1\\.0\" 401 [0-9]+ "),
           "the 401 is logged with its page's bytes");

    {
        int fd = srv_dial(port);
        char head[512] = "";
        ssize_t n;
        srv_send(fd, "GET /ws HTTP/1.1\r\nHost: log\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: hello\r\n\r\n");
        n = read(fd, head, sizeof(head) - 1);
        head[n > 0 ? n : 0] = '\0';
        tap_ok(!strncmp(head, "HTTP/1.1 101", 12), "websocket upgrade answered");
        close(fd);
    }
    tap_ok(wait_lines(logpath, 4, 3.0) >= 0, "a fourth line");
    read_file(logpath, log, sizeof(log));
    tap_ok(matches(log, "\"GET /ws HTTP/1\\.1\" 101 - \"-\" \"-\"$"), "the upgrade logged as 101");

    /* logrotate: move the file away, then reopen. */
    {
        char old[160];
        snprintf(old, sizeof(old), "%s.1", logpath);
        tap_is_int(rename(logpath, old), 0, "log renamed");
        tap_is_int(kite_context_reopen_logs(ctx), 0, "kite_context_reopen_logs");
        tap_is_int(srv_request(port, "GET /after HTTP/1.0\r\n\r\n", resp, sizeof(resp)), 200,
                   "request after the reopen");
        tap_ok(wait_lines(logpath, 1, 3.0) >= 0, "the new file gets the new line");
        read_file(logpath, log, sizeof(log));
        tap_ok(matches(log, "\"GET /after HTTP/1\\.0\" 200 5 ") &&
                   !strchr(strchr(log, '\n') + 1, '\n'),
               "only the new line in the new file");
        read_file(old, log, sizeof(log));
        tap_ok(!strstr(log, "/after"), "the renamed file does not get it");
        unlink(old);
    }

    /* Past 4 KiB the buffer is written at once, not a second later. */
    {
        static char ua[300], req[400], all[40 * 400];
        int fd = srv_dial(port), i;
        size_t before = file_size(logpath);
        memset(ua, 'u', sizeof(ua) - 1);
        snprintf(req, sizeof(req), "GET /bulk HTTP/1.1\r\nHost: log\r\nUser-Agent: %s\r\n\r\n", ua);
        all[0] = '\0';
        for (i = 0; i < 20; i++)
            strcat(all, req);
        srv_send(fd, all);
        srv_send(fd, "GET /bulk HTTP/1.1\r\nHost: log\r\nConnection: close\r\n\r\n");
        srv_read_all(fd, all, sizeof(all));
        close(fd);
        srv_sleep_ms(100);
        tap_ok(file_size(logpath) >= before + 4096, "a full buffer is written without waiting");
    }
}

int main(void)
{
    static const kite_mount_t m_priv =
        KITE_MOUNT_INIT(.mountpoint = "/private", .origin = "callback://hello",
                        .basic_auth = authpath);
    static kite_mount_t m_root = KITE_MOUNT_INIT(.mountpoint = "/", .origin = "callback://hello");
    kite_context_info_t ci = KITE_CONTEXT_INFO_INIT();
    kite_vhost_info_t vi = KITE_VHOST_INFO_INIT();
    kite_context_t *ctx;
    kite_vhost_t *vh;
    pthread_t th;
    FILE *f;
    int err = 0;

    snprintf(dir, sizeof(dir), "/tmp/kite-alog-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    snprintf(logpath, sizeof(logpath), "%s/access.log", dir);
    snprintf(authpath, sizeof(authpath), "%s/users", dir);
    f = fopen(authpath, "w");
    fputs("alice:s3cret\n", f);
    fclose(f);
    m_root.next = &m_priv;

    ci.count_threads = 2;
    ctx = kite_context_create(&ci, &err);
    vi.name = "log";
    vi.iface = "127.0.0.1";
    vi.protocols = protos;
    vi.mounts = &m_root;
    vi.access_log = "/nonexistent-kite-dir/access.log";
    tap_ok(!kite_vhost_create(ctx, &vi, &err) && err == KITE_ENOENT,
           "an access-log that cannot be opened fails the vhost (%d)", err);
    vi.access_log = logpath;
    vh = kite_vhost_create(ctx, &vi, &err);
    tap_ok(vh != NULL, "vhost with an access log (%d)", err);
    if (!vh)
        return tap_done();
    srv_start(ctx, &th);
    test_lines(ctx, kite_vhost_port(vh));
    srv_stop(ctx, th);
    unlink(logpath);
    unlink(authpath);
    rmdir(dir);
    return tap_done();
}
