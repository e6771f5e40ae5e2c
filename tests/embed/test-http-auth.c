/*
 * basic-auth, auth-mask, interpret and pmo on a vhost's mounts: the
 * right password passes (and kite_http_auth_user() names the user), a
 * wrong or missing one gets 401 with the realm, a user without the
 * mask's bits gets 403, a websocket upgrade on the mount needs the
 * password too, a changed password file is picked up; a file of
 * an interpreted suffix goes to the protocol with its path, other files
 * are sent; kite_http_mount_option() returns the mount's pmo; an
 * interpret naming an unknown protocol fails the vhost.
 */
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "srv.h"
#include "tap.h"

static char dir[64], docroot[128], users[128];

/* Says who it is serving, with which options and which file. */
static int on_http(kite_conn_t *c, void *user, const kite_http_req_t *req)
{
    const char *u = kite_http_auth_user(req), *o = kite_http_mount_option(req, "greeting");
    const char *f = kite_http_file_path(req);
    char out[PATH_MAX + 128];
    int n;

    (void)user;
    n = snprintf(out, sizeof(out), "user=%s greeting=%s file=%s", u ? u : "-", o ? o : "-",
                 f ? f : "-");
    if (kite_http_respond(c, 200, "text/plain", n) < 0)
        return 1;
    return kite_write(c, out, (size_t)n, KITE_WRITE_HTTP_FINAL) < 0;
}

static const kite_protocol_t proto = {
    .abi = KITE_PROTOCOL_ABI,
    .name = "who",
    .on_http = on_http,
};
static const kite_protocol_t *const protos[] = {&proto, NULL};

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

/* GET @path with "Authorization: Basic @b64" (none when NULL). */
static int get(int port, const char *path, const char *b64, char *resp, size_t cap)
{
    char req[512];

    snprintf(req, sizeof(req),
             "GET %s HTTP/1.1\r\nHost: authhost\r\n%s%s%sConnection: close\r\n\r\n", path,
             b64 ? "Authorization: Basic " : "", b64 ? b64 : "", b64 ? "\r\n" : "");
    return srv_request(port, req, resp, cap);
}

/* A websocket upgrade of @path: the status of the answer. */
static int upgrade(int port, const char *path, const char *b64)
{
    char req[512], head[512];
    int fd = srv_dial(port), status = -1;
    ssize_t n;

    snprintf(req, sizeof(req),
             "GET %s HTTP/1.1\r\nHost: authhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
             "Sec-WebSocket-Protocol: who\r\n%s%s%s\r\n",
             path, b64 ? "Authorization: Basic " : "", b64 ? b64 : "", b64 ? "\r\n" : "");
    if (fd < 0 || srv_send(fd, req) < 0) {
        close(fd);
        return -1;
    }
    n = read(fd, head, sizeof(head) - 1);
    head[n > 0 ? n : 0] = '\0';
    close(fd);
    sscanf(head, "HTTP/1.1 %d", &status);
    return status;
}

#define ALICE_OK  "YWxpY2U6czNjcmV0"     /* alice:s3cret */
#define ALICE_BAD "YWxpY2U6d3Jvbmc="     /* alice:wrong */
#define ALICE_NEW "YWxpY2U6bmV3cGFzcw==" /* alice:newpass */
#define BOB       "Ym9iOnB3Mg=="         /* bob:pw2 (mask 0x3) */
#define CAROL     "Y2Fyb2w6cHcz"         /* carol:pw3 (mask 4) */
#define NOBODY    "bm9ib2R5OnMzY3JldA==" /* nobody:s3cret */

static void test_auth(int port)
{
    char resp[4096];

    tap_is_int(get(port, "/private/x", ALICE_OK, resp, sizeof(resp)), 200, "right password: 200");
    tap_is_str(srv_body(resp), "user=alice greeting=hi file=-",
               "the handler sees the user and the mount's pmo");
    tap_is_int(get(port, "/private/x", NULL, resp, sizeof(resp)), 401, "no credentials: 401");
    tap_ok(strstr(resp, "\r\nWWW-Authenticate: Basic realm=\"authhost\"\r\n") != NULL,
           "the 401 names the realm");
    tap_is_int(get(port, "/private/x", ALICE_BAD, resp, sizeof(resp)), 401, "wrong password: 401");
    tap_is_int(get(port, "/private/x", NOBODY, resp, sizeof(resp)), 401, "unknown user: 401");
    tap_is_int(get(port, "/private/x", "!!notbase64", resp, sizeof(resp)), 401,
               "credentials that are not base64: 401");
    tap_is_int(get(port, "/open", NULL, resp, sizeof(resp)), 200, "a mount without basic-auth");
    tap_is_str(srv_body(resp), "user=- greeting=- file=-", "no user, no pmo there");

    tap_is_int(get(port, "/admin/", BOB, resp, sizeof(resp)), 200, "mask 0x3 has bit 2: 200");
    tap_is_int(get(port, "/admin/", CAROL, resp, sizeof(resp)), 403, "mask 4 lacks bit 2: 403");
    tap_is_int(get(port, "/admin/", ALICE_OK, resp, sizeof(resp)), 403, "no mask: 403");
    tap_is_int(get(port, "/admin/", ALICE_BAD, resp, sizeof(resp)), 401,
               "wrong password on a masked mount: 401");

    tap_is_int(upgrade(port, "/private/ws", NULL), 401, "a websocket upgrade needs the password");
    tap_is_int(upgrade(port, "/private/ws", ALICE_OK), 101, "... and gets through with it");
    tap_is_int(upgrade(port, "/elsewhere", NULL), 101, "an upgrade outside any mount still works");

    /* A new password: the file is checked at most once a second. */
    write_file(users, "alice:newpass\nbob:pw2:0x3\n");
    srv_sleep_ms(1200);
    tap_is_int(get(port, "/private/x", ALICE_NEW, resp, sizeof(resp)), 200,
               "the changed file is read again: new password works");
    tap_is_int(get(port, "/private/x", ALICE_OK, resp, sizeof(resp)), 401,
               "... and the old one no longer does");
}

static void test_interpret(int port)
{
    char resp[4096], want[PATH_MAX + 64], real[PATH_MAX];

    tap_is_int(get(port, "/files/page.kph?a=1", NULL, resp, sizeof(resp)), 200,
               "an interpreted file is answered");
    if (!realpath(docroot, real))
        real[0] = '\0';
    snprintf(want, sizeof(want), "user=- greeting=- file=%s/page.kph", real);
    tap_is_str(srv_body(resp), want, "by the protocol, with the file's path");
    tap_is_int(get(port, "/files/", NULL, resp, sizeof(resp)), 200, "an interpreted index file");
    snprintf(want, sizeof(want), "user=- greeting=- file=%s/index.kph", real);
    tap_is_str(srv_body(resp), want, "the index file goes to the protocol too");
    tap_is_int(get(port, "/files/plain.txt", NULL, resp, sizeof(resp)), 200, "other files");
    tap_is_str(srv_body(resp), "plain\n", "are sent as they are");
    tap_is_int(get(port, "/files/missing.kph", NULL, resp, sizeof(resp)), 404,
               "a missing interpreted file: 404");
}

int main(void)
{
    static const kite_pvo_t greeting = {.name = "greeting", .value = "hi"};
    static const kite_pvo_t interp = {.name = ".kph", .value = "who"};
    static const kite_pvo_t interp_bad = {.name = ".kph", .value = "nope"};
    static kite_mount_t m_open = KITE_MOUNT_INIT(.mountpoint = "/open", .origin = "callback://who");
    static kite_mount_t m_priv =
        KITE_MOUNT_INIT(.mountpoint = "/private", .origin = "callback://who", .basic_auth = users,
                        .pmo = &greeting);
    static kite_mount_t m_admin =
        KITE_MOUNT_INIT(.mountpoint = "/admin", .origin = "callback://who", .basic_auth = users,
                        .auth_mask = 2);
    static kite_mount_t m_files =
        KITE_MOUNT_INIT(.mountpoint = "/files", .def = "index.kph", .interpret = &interp);
    kite_context_info_t ci = KITE_CONTEXT_INFO_INIT();
    kite_vhost_info_t vi = KITE_VHOST_INFO_INIT();
    kite_context_t *ctx;
    kite_vhost_t *vh;
    pthread_t th;
    char path[192];
    int err = 0;

    snprintf(dir, sizeof(dir), "/tmp/kite-auth-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    snprintf(users, sizeof(users), "%s/users", dir);
    snprintf(docroot, sizeof(docroot), "%s/www", dir);
    mkdir(docroot, 0755);
    write_file(users, "# users\nalice:s3cret\r\nbob:pw2:0x3\ncarol:pw3:4\n\n");
    snprintf(path, sizeof(path), "%s/page.kph", docroot);
    write_file(path, "<?kph ?>\n");
    snprintf(path, sizeof(path), "%s/index.kph", docroot);
    write_file(path, "<?kph ?>\n");
    snprintf(path, sizeof(path), "%s/plain.txt", docroot);
    write_file(path, "plain\n");
    m_files.origin = docroot;
    m_open.next = &m_priv;
    m_priv.next = &m_admin;
    m_admin.next = &m_files;

    ci.count_threads = 2;
    ctx = kite_context_create(&ci, &err);
    vi.name = "authhost";
    vi.iface = "127.0.0.1";
    vi.protocols = protos;
    vi.mounts = &m_open;
    m_files.interpret = &interp_bad;
    tap_ok(!kite_vhost_create(ctx, &vi, &err) && err == KITE_EINVAL,
           "interpret with an unknown protocol fails the vhost");
    m_files.interpret = &interp;
    m_priv.basic_auth = "/nonexistent-kite-users";
    tap_ok(!kite_vhost_create(ctx, &vi, &err) && err == KITE_ENOENT,
           "a missing basic-auth file fails the vhost");
    m_priv.basic_auth = users;
    vh = kite_vhost_create(ctx, &vi, &err);
    tap_ok(vh != NULL, "vhost with basic-auth, interpret and pmo (%d)", err);
    if (!vh)
        return tap_done();
    srv_start(ctx, &th);
    test_auth(kite_vhost_port(vh));
    test_interpret(kite_vhost_port(vh));
    srv_stop(ctx, th);
    snprintf(path, sizeof(path), "rm -rf %s", dir);
    if (system(path))
        return 1;
    return tap_done();
}
