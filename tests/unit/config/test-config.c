/*
 * Config loader: every broken config under tests/data/config/bad, and
 * every config of tests/data/config/warn that loads with warnings, gives
 * exactly the messages its "# expect:" lines (or its expect file) say,
 * and a good config with every kind of value resolves to the right
 * context, vhost and mount settings.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <unistd.h>

#include "config/private.h"
#include "tap.h"

static const kite_protocol_t proto_a = {.abi = KITE_PROTOCOL_ABI, .name = "test-a"};
static const kite_protocol_t proto_b = {.abi = KITE_PROTOCOL_ABI, .name = "test-b"};
static const kite_protocol_t *const protos[] = {&proto_a, &proto_b, NULL};

/* The expected messages: "# expect: " lines of a file, or dir/expect. */
static int expected(const char *name, char *out, size_t len)
{
    char path[512], line[2048];
    size_t n = 0;
    FILE *f;
    int isdir = !strchr(name, '.');

    snprintf(path, sizeof(path), isdir ? "%s/expect" : "%s", name);
    f = fopen(path, "r");
    if (!f)
        return -1;
    out[0] = '\0';
    while (fgets(line, sizeof(line), f)) {
        const char *m = line;
        if (!isdir) {
            if (strncmp(line, "# expect: ", 10))
                break;
            m += 10;
        }
        n += (size_t)snprintf(out + n, len - n, "%s", m);
    }
    fclose(f);
    return 0;
}

/* Every config of @dir gives exactly its expected messages; those of
 * "bad" are refused, those of "warn" load with warnings and notices. */
static void check_fixtures(const char *dir, int loads)
{
    struct dirent **list;
    int n, i;

    n = scandir(dir, &list, NULL, alphasort);
    tap_ok(n > (loads ? 4 : 20), "%s config fixtures found (%d)", dir, n);
    if (chdir(dir) < 0)
        return;
    for (i = 0; i < n; i++) {
        char want[8192], got[8192];
        kite_config_opts_t o =
            KITE_CONFIG_OPTS_INIT(.protocols = protos, .flags = KITE_CONFIG_NO_DEFAULT_DIR,
                                  .errbuf = got, .errlen = sizeof(got));
        const char *name = list[i]->d_name;
        kite_config_t *cfg;
        int err = 0;

        if (name[0] != '.' && !expected(name, want, sizeof(want))) {
            cfg = kite_config_load(name, &o, &err);
            if (loads)
                tap_ok(cfg != NULL, "%s loads", name);
            else
                tap_ok(!cfg && err == KITE_EINVAL, "%s is refused", name);
            tap_is_str(got, want, "%s: the messages", name);
            kite_config_put(cfg);
        }
        free(list[i]);
    }
    free(list);
    if (chdir("..") < 0)
        tap_ok(0, "chdir back");
}

static void check_good(void)
{
    char errs[4096];
    kite_config_opts_t o =
        KITE_CONFIG_OPTS_INIT(.protocols = protos, .flags = KITE_CONFIG_NO_DEFAULT_DIR,
                              .errbuf = errs, .errlen = sizeof(errs));
    const kite_context_info_t *ci;
    const kite_config_global_t *g;
    kite__cfg_vhost_t *vh;
    const kite_mount_t *m;
    kite_config_t *cfg;
    int err = 0;

    cfg = kite_config_load("good", &o, &err);
    tap_ok(cfg != NULL, "the good config loads");
    if (!cfg) {
        printf("# %s", errs);
        return;
    }
    ci = kite_config_context_info(cfg);
    g = kite_config_global(cfg);
    tap_is_int(g->uid, 48, "uid from a string");
    tap_is_int(g->gid, 48, "gid from a number");
    tap_is_int(g->rlimit_nofile, 20000, "rlimit-nofile");
    tap_is_int(ci->count_threads, 2, "count-threads");
    tap_is_str(ci->server_string, "myserver v1 #1", "a '#' inside a string is not a comment");
    tap_is_int(ci->timeout_secs, 7, "timeout-secs");
    tap_is_int(ci->ws_ping_pong_secs, 30, "ws-pingpong-secs");
    tap_is_int(ci->ip_limit_ah, 4, "ip-limit-ah");
    tap_is_int(ci->ip_limit_wsi, 8, "ip-limit-wsi");
    tap_is_str(kite_pvo_get(ci->reject_service_keywords, "badbot"), "403",
               "reject-service-keywords from an array of objects");
    tap_is_int(cfg->nvhosts, 3, "vhosts of conf.d files in name order, backups skipped");
    if (cfg->nvhosts != 3)
        goto out;
    vh = &cfg->vhosts[0];
    tap_is_str(vh->info.name, "site.example", "vhost name");
    tap_is_int(vh->info.port, 7681, "port from a string");
    tap_is_str(vh->info.iface, "127.0.0.1", "interface");
    tap_is_int(vh->info.keepalive_timeout, 60, "keepalive_timeout");
    tap_is_int(vh->info.options, KITE_VH_STRICT_HOST | KITE_VH_NOIPV6, "option flags");
    tap_ok(vh->info.access_log && vh->info.access_log[0] == '/' &&
               strstr(vh->info.access_log, "good/conf.d/site.log"),
           "access-log relative to its file");
    tap_is_str(vh->info.error_document_404, "/404.html", "error-document-404");
    tap_ok(vh->info.ws_deflate && vh->info.ws_deflate->level == 6 &&
               vh->info.ws_deflate->mem_level == 5 && vh->info.ws_deflate->window_bits == 12 &&
               vh->info.ws_deflate->flags == KITE_WS_DEFLATE_NO_CONTEXT_TAKEOVER,
           "ws-deflate settings");
    tap_ok(!cfg->vhosts[1].info.ws_deflate, "no ws-deflate by default");
    tap_is_str(kite_pvo_get(vh->info.headers, "X-Test"), "yes", "headers");
    tap_ok(vh->info.protocols[0] == &proto_a && vh->info.protocols[1] == &proto_b &&
               !vh->info.protocols[2],
           "ws-protocols resolved in order");
    tap_is_str(vh->info.pvo->name, "test-a", "pvo per protocol");
    tap_is_str(kite_pvo_get(vh->info.pvo->options, "default"), "1", "a number pvo as a string");
    m = vh->info.mounts;
    tap_ok(m && m->origin_protocol == KITE_MOUNT_FILE && m->origin[0] == '/',
           "file:// origin resolved to an absolute docroot");
    tap_ok(m && m->cache_max_age == 60 && m->cache_reuse && !m->cache_revalidate &&
               m->cache_intermediaries,
           "cache keys");
    tap_is_str(m ? kite_pvo_get(m->extra_mimetypes, ".zip") : NULL, "application/zip",
               "extra-mimetypes");
    tap_is_str(m ? kite_pvo_get(m->interpret, ".lp") : NULL, "test-b", "interpret");
    tap_is_str(m ? m->cgi_pattern : NULL, "**.cgi$|**.pl$", "cgi-pattern");
    tap_is_str(m ? m->cgi_interpreter : NULL, "/usr/bin/perl", "cgi-interpreter");
    tap_ok(m && m->lua_budget == KITE_LUA_NO_BUDGET, "lua-instruction-budget false: none");
    m = m ? m->next : NULL;
    tap_is_str(m ? m->origin : NULL, "callback://test-b", "callback mount");
    tap_is_str(m ? kite_pvo_get(m->pmo, "greeting") : NULL, "hello", "pmo");
    tap_ok(m && m->basic_auth && strstr(m->basic_auth, "conf.d/../passwords"),
           "basic-auth relative to its file");
    tap_is_int(m ? m->auth_mask : 0, 3, "auth-mask");
    m = m ? m->next : NULL;
    tap_is_str(m ? m->origin : NULL, ">https://example.com/", "redirect mount");
    tap_ok(m && (m->flags & KITE_MOUNT_F_REDIRECT_ORIGIN_ONLY),
           "a redirect without append-path goes to the origin alone");
    m = m ? m->next : NULL;
    tap_ok(m && m->origin_protocol == KITE_MOUNT_CGI && m->origin[0] == '/' &&
               strstr(m->origin, "conf.d"),
           "cgi:// origin resolved to an absolute directory");
    tap_is_int(m ? m->cgi_timeout : 0, 20, "cgi-timeout");
    tap_is_int(m ? (long)m->lua_budget : 0, 5000, "lua-instruction-budget");
    tap_is_str(m ? kite_pvo_get(m->cgi_env, "APP_MODE") : NULL, "test", "cgi-env");
    tap_ok(m && !m->next, "four mounts");
    vh = &cfg->vhosts[2];
    tap_ok(vh->info.unix_socket && strstr(vh->info.unix_socket, "kite.sock") && !vh->info.iface,
           "unix-socket takes its path from interface");
out:
    kite_config_put(cfg);
}

/* What the lws keys of warn/lws-keys.conf do. */
static void check_lws_keys(void)
{
    kite_config_opts_t o =
        KITE_CONFIG_OPTS_INIT(.protocols = protos, .flags = KITE_CONFIG_NO_DEFAULT_DIR);
    const kite__cfg_vhost_t *a, *b;
    const kite_mount_t *m;
    kite_config_t *cfg;
    int err = 0;

    cfg = kite_config_load("warn/lws-keys.conf", &o, &err);
    tap_ok(cfg && cfg->nvhosts == 2, "lws-keys.conf loads");
    if (!cfg || cfg->nvhosts != 2) {
        kite_config_put(cfg);
        return;
    }
    a = &cfg->vhosts[0];
    b = &cfg->vhosts[1];
    tap_is_int(a->info.options, KITE_VH_FALLBACK_TO_RAW | KITE_VH_WS_NEED_PROTOCOL,
               "alpn with h2, fallback-listen-accept, disable-no-protocol-ws-upgrades");
    tap_is_int(b->info.options, KITE_VH_RAW_ONLY | KITE_VH_NO_H2,
               "apply-listen-accept; default-alpn without h2");
    tap_ok(a->info.tls_options == 0, "allow-http-on-https off");
    tap_is_str(kite_pvo_get(a->info.pvo ? a->info.pvo->options : NULL, "raw"), "1",
               "listen-accept-protocol gives its protocol the raw connections");
    tap_ok(a->info.protocols[0] == &proto_a && !a->info.protocols[1],
           "listen-accept-protocol enables the protocol");
    tap_ok(b->info.pvo && !strcmp(b->info.pvo->name, "test-b") &&
               kite_pvo_get(b->info.pvo->options, "raw"),
           "listen-accept-protocol without ws-protocols");
    m = a->info.mounts;
    tap_is_int(m ? m->flags : 0,
               KITE_MOUNT_F_EXACT_MATCH | KITE_MOUNT_F_NO_WS_UPGRADES | KITE_MOUNT_F_CACHE_NO |
                   KITE_MOUNT_F_REDIRECT_ORIGIN_ONLY | KITE_MOUNT_F_KNOWN_TYPES,
               "exact-match, no-ws-upgrades, cache-no (a cache key: no no-store)");
    tap_is_str(m ? kite_pvo_get(m->headers, "X-Mount") : NULL, "yes", "mount headers");
    tap_is_int(m ? (int)m->keepalive_timeout : 0, 9, "mount keepalive-timeout");
    m = m ? m->next : NULL;
    tap_is_int(m ? (int)m->flags : -1, KITE_MOUNT_F_CACHE_NO_STORE | KITE_MOUNT_F_KNOWN_TYPES,
               "append-path; no cache key: no-store");
    m = m ? m->next : NULL;
    tap_is_str(m ? m->cgi_chdir : NULL, "/tmp", "cgi-chdir");
    kite_config_put(cfg);
}

/* _lws_ddir_ is the install's data directory in every path value. */
static void check_lws_ddir(void)
{
    static const char text[] =
        "{ \"vhosts\": [{ \"port\": 7681, \"access-log\": \"_lws_ddir_/kite/a.log\",\n"
        "  \"mounts\": [{ \"mountpoint\": \"/\", \"origin\": \"file://_lws_ddir_/no-such\" }] }] }";
    char errs[2048], want[1024];
    kite_config_opts_t o = KITE_CONFIG_OPTS_INIT(.flags = KITE_CONFIG_NO_DEFAULT_DIR,
                                                 .errbuf = errs, .errlen = sizeof(errs));
    kite__cfg_t *cfg = kite__cfg_new(&o);

    tap_ok(cfg && kite__cfg_load_text(cfg, "ddir", text, sizeof(text) - 1) == KITE_EINVAL,
           "_lws_ddir_: a missing docroot under it is refused");
    snprintf(want, sizeof(want),
             "ddir:2: vhosts[0].mounts[0].origin: docroot \"%s/no-such\": No such file or "
             "directory\n",
             KITE_DATA_DIR);
    tap_is_str(errs, want, "_lws_ddir_ in an origin is the data directory");
    tap_is_str(cfg && cfg->nvhosts ? cfg->vhosts[0].info.access_log : NULL,
               KITE_DATA_DIR "/kite/a.log", "_lws_ddir_ in a path key");
    kite_config_put(cfg);
}

#define BEGIN_MARK "<!-- directives:begin -->\n"
#define END_MARK   "<!-- directives:end -->"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf;
    long n;

    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    buf = calloc(1, (size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

/* README.config.md's key list is the table's: regenerate it with
 * `test-config DATA_DIR README --write`, a test fails when they differ. */
static void check_readme(const char *readme, const char *gen, int write)
{
    char *doc = slurp(readme), *b, *e;

    tap_ok(doc != NULL, "%s is readable", readme);
    if (!doc)
        return;
    b = strstr(doc, BEGIN_MARK);
    e = b ? strstr(b, END_MARK) : NULL;
    tap_ok(b && e, "the README has the directives markers");
    if (b && e) {
        b += strlen(BEGIN_MARK);
        if (write) {
            FILE *f = fopen(readme, "w");
            if (f) {
                fprintf(f, "%.*s%s%s", (int)(b - doc), doc, gen, e);
                fclose(f);
            }
        } else {
            int same = (size_t)(e - b) == strlen(gen) && !strncmp(b, gen, strlen(gen));
            tap_ok(same, "README.config.md lists exactly the directive table (regenerate: "
                         "test-config DATA_DIR README --write)");
        }
    }
    free(doc);
}

static void check_reference(const char *readme, int write)
{
    size_t i, j;
    int dup = 0;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    for (i = 0; i < kite__ndirectives; i++)
        for (j = i + 1; j < kite__ndirectives; j++)
            if (kite__directives[i].scope == kite__directives[j].scope &&
                !strcmp(kite__directives[i].name, kite__directives[j].name))
                dup++;
    tap_is_int(dup, 0, "no key is in the table twice in one scope");
    kite_config_write_reference(f);
    fclose(f);
    tap_ok(buf && strstr(buf, "| `plugin-dir` | string, repeatable |"), "the reference lists keys");
    if (buf && readme)
        check_readme(readme, buf, write);
    free(buf);
}

int main(int argc, char **argv)
{
    kite_set_log_level(0, NULL);
    char readme[4096] = "";

    /* the README path is taken before chdir, relative to where we started */
    if (argc > 2 && !realpath(argv[2], readme))
        snprintf(readme, sizeof(readme), "%s", argv[2]);
    if (argc < 2 || chdir(argv[1]) < 0) {
        printf("Bail out! usage: test-config DATA_DIR [README [--write]]\n");
        return 1;
    }
    check_fixtures("bad", 0);
    check_fixtures("warn", 1);
    check_good();
    check_lws_keys();
    check_lws_ddir();
    check_reference(readme[0] ? readme : NULL, argc > 3 && !strcmp(argv[3], "--write"));
    return tap_done();
}
