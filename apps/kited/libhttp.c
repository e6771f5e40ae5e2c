/*
 * LibHTTP migration: `kited --libhttp FILE` (LibHTTP's "name value"
 * lines) and LibHTTP options on the command line (`-document_root DIR
 * -listening_ports 8080`, these win over the file) become one kited
 * config, written to a private directory that kited then loads as its
 * config directory (a SIGHUP reloads that file, not the LibHTTP one).
 * Each listening port is a vhost serving the same document root with
 * the same options; an "s" port is a TLS vhost (ssl_certificate and the
 * other ssl_* options), an "r" port redirects to the first "s" port.
 * LibHTTP's defaults are kept where kite's differ (directory listing on,
 * index files, ssi_pattern with exec, cgi_pattern, static_file_max_age,
 * authentication_domain), but for tcp_nodelay: kite keeps TCP_NODELAY on
 * unless the option says 0 (a response head and a file body are two
 * writes, which Nagle's algorithm would delay). Relative paths are taken
 * from the current directory, as LibHTTP takes them. An unknown option,
 * or one kite cannot honour (ssl_short_trust yes), stops kited with the
 * option named. lhttpd's -l prefix script.lua adds a lua-handler mount to
 * each vhost.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kited.h"

enum { G_STR, V_STR, V_PATH, V_BOOL, V_NUM, M_STR, M_BOOL, M_PATH, SPECIAL, IGNORED, REFUSED };

struct opt {
    const char *name;
    int kind;
    const char *key;  /* the kite key, or why it is refused */
    const char *dflt; /* LibHTTP's default where kite's differs */
};

static const struct opt opts[] = {
    {"document_root", SPECIAL, NULL, "."},
    {"listening_ports", SPECIAL, NULL, "8080"},
    {"request_timeout_ms", SPECIAL, NULL, NULL},
    {"extra_mime_types", SPECIAL, NULL, NULL},
    {"run_as_user", G_STR, "username", NULL},
    {"access_log_file", V_PATH, "access-log", NULL},
    {"access_control_list", V_STR, "access-control-list", NULL},
    {"throttle", V_STR, "throttle", NULL},
    {"access_control_allow_origin", V_STR, "access-control-allow-origin", NULL},
    {"error_pages", V_PATH, "error-pages", NULL},
    {"static_file_max_age", V_NUM, "static-file-max-age", "3600"},
    {"url_rewrite_patterns", SPECIAL, NULL, NULL},
    {"decode_url", V_BOOL, "decode-url", NULL},
    {"authentication_domain", V_STR, "auth-domain", "mydomain.com"},
    {"global_auth_file", V_PATH, "global-auth-file", NULL},
    {"protect_uri", SPECIAL, NULL, NULL},
    {"put_delete_auth_file", V_PATH, "put-delete-auth-file", NULL},
    {"enable_directory_listing", M_BOOL, "directory-listing", "yes"},
    {"index_files", M_STR, "index-files", "index.xhtml,index.html,index.htm,index.shtml"},
    {"hide_files_patterns", M_STR, "hide-files", NULL},
    {"ssi_pattern", M_STR, "ssi-pattern", "**.shtml$|**.shtm$"},
    {"tcp_nodelay", V_BOOL, "tcp-nodelay", NULL},
    {"cgi_pattern", M_STR, "cgi-pattern", "**.cgi$|**.pl$|**.php$"},
    {"cgi_interpreter", SPECIAL, NULL, NULL},
    {"cgi_environment", SPECIAL, NULL, NULL},
    {"ssl_certificate", SPECIAL, NULL, NULL},
    {"ssl_ca_file", SPECIAL, NULL, NULL},
    {"ssl_ca_path", SPECIAL, NULL, NULL},
    {"ssl_verify_peer", SPECIAL, NULL, "no"},
    {"ssl_verify_depth", SPECIAL, NULL, NULL},
    {"ssl_cipher_list", SPECIAL, NULL, NULL},
    {"ssl_protocol_version", SPECIAL, NULL, NULL},
    {"ssl_short_trust", SPECIAL, NULL, "no"},
    {"num_threads", IGNORED, "kite serves from event loops (count-threads)", NULL},
    {"enable_keep_alive", IGNORED, "kite always offers keep-alive", NULL},
    {"allow_sendfile_call", IGNORED, "kite always uses sendfile", NULL},
    {"error_log_file", IGNORED, "kited logs to stderr (syslog with -D)", NULL},
    {"ssl_default_verify_paths", IGNORED,
     "kite checks client certificates against ssl_ca_file and ssl_ca_path only", NULL},
    {"lua_preload_file", M_PATH, "lua-preload-file", NULL},
    {"lua_script_pattern", M_STR, "lua-script-pattern", "**.lua$"},
    {"lua_server_page_pattern", M_STR, "lua-server-page-pattern", "**.lp$|**.lsp$"},
    {"websocket_root", M_PATH, "lua-websocket-root", NULL},
};
#define NOPTS (sizeof(opts) / sizeof(opts[0]))

#define MAX_HANDLERS 16

struct kited_libhttp {
    char *val[NOPTS];
    char cli[NOPTS]; /* given on the command line: the file does not change it */
    char dir[64];
    const char *handler[MAX_HANDLERS][2]; /* -l: prefix, script */
    int nhandlers;
};

static struct kited_libhttp *state(kited_t *kd)
{
    if (!kd->lh)
        kd->lh = calloc(1, sizeof(*kd->lh));
    return kd->lh;
}

/* Set option @name; @from says where, for the message. */
static int set(kited_t *kd, const char *name, const char *value, const char *from)
{
    struct kited_libhttp *lh = state(kd);
    size_t i;

    for (i = 0; i < NOPTS; i++)
        if (!strcmp(opts[i].name, name))
            break;
    if (i == NOPTS) {
        fprintf(stderr, "kited: %s: unknown LibHTTP option \"%s\"\n", from, name);
        return -1;
    }
    if (opts[i].kind == REFUSED) {
        fprintf(stderr, "kited: %s: LibHTTP option \"%s\": %s\n", from, name, opts[i].key);
        return -1;
    }
    if (!lh)
        return -1;
    if (lh->cli[i] && strcmp(from, "command line"))
        return 0;
    lh->cli[i] = !strcmp(from, "command line");
    free(lh->val[i]);
    return (lh->val[i] = strdup(value)) ? 0 : -1;
}

int kited_libhttp_file(kited_t *kd, const char *path)
{
    char line[4096], where[PATH_MAX + 32];
    FILE *f = fopen(path, "re");
    int n = 0, r = 0;

    if (!f) {
        fprintf(stderr, "kited: --libhttp %s: %s\n", path, strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof(line), f)) {
        char *s = line, *v, *e;
        n++;
        s[strcspn(s, "\r\n")] = '\0';
        while (*s == ' ' || *s == '\t')
            s++;
        if (!*s || *s == '#')
            continue;
        v = s + strcspn(s, " \t");
        if (*v)
            *v++ = '\0';
        while (*v == ' ' || *v == '\t')
            v++;
        for (e = v + strlen(v); e > v && (e[-1] == ' ' || e[-1] == '\t'); e--)
            *(e - 1) = '\0';
        snprintf(where, sizeof(where), "%s:%d", path, n);
        if (set(kd, s, v, where) < 0)
            r = -1;
    }
    fclose(f);
    return r;
}

int kited_libhttp_args(kited_t *kd, int *argc, char **argv)
{
    int i, o = 1, r = 0;

    for (i = 1; i < *argc; i++) {
        const char *a = argv[i];
        /* LibHTTP's own options all have a '_', but throttle; kited's are letters. */
        if (a[0] == '-' && a[1] != '-' && (strchr(a, '_') || !strcmp(a, "-throttle"))) {
            if (i + 1 >= *argc) {
                fprintf(stderr, "kited: %s needs a value\n", a);
                return -1;
            }
            if (set(kd, a + 1, argv[++i], "command line") < 0)
                r = -1;
            continue;
        }
        argv[o++] = argv[i];
    }
    *argc = o;
    argv[o] = NULL;
    return r;
}

/* A JSON string of @s's first @n bytes. */
static void jstrn(FILE *f, const char *s, size_t n)
{
    const char *end = s + n;

    fputc('"', f);
    for (; s < end && *s; s++) {
        if (*s == '"' || *s == '\\')
            fprintf(f, "\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            fprintf(f, "\\u%04x", (unsigned char)*s);
        else
            fputc(*s, f);
    }
    fputc('"', f);
}

static void jstr(FILE *f, const char *s)
{
    jstrn(f, s, strlen(s));
}

/* @p made absolute from the current directory, as LibHTTP reads it. */
static void jpath(FILE *f, const char *p)
{
    char cwd[PATH_MAX], buf[2 * PATH_MAX + 2];

    if (p[0] != '/' && getcwd(cwd, sizeof(cwd))) {
        snprintf(buf, sizeof(buf), "%s/%s", cwd, p);
        p = buf;
    }
    jstr(f, p);
}

static const char *val(const struct kited_libhttp *lh, size_t i)
{
    return lh && lh->val[i] ? lh->val[i] : opts[i].dflt;
}

static size_t idx(const char *name)
{
    size_t i;

    for (i = 0; strcmp(opts[i].name, name); i++)
        ;
    return i;
}

static int yes_no(const char *name, const char *v, int *out)
{
    if (!strcmp(v, "yes") || !strcmp(v, "1") || !strcmp(v, "true"))
        return *out = 1, 0;
    if (!strcmp(v, "no") || !strcmp(v, "0") || !strcmp(v, "false"))
        return *out = 0, 0;
    fprintf(stderr, "kited: LibHTTP option \"%s\": expected yes or no, got \"%s\"\n", name, v);
    return -1;
}

/* "a=b,c=d" with each b made absolute, for url-rewrite and protect-uri. */
static void pairs(FILE *f, const char *key, const char *v)
{
    char cwd[PATH_MAX] = "";
    const char *e, *eq;
    int first = 1;

    if (!getcwd(cwd, sizeof(cwd)))
        cwd[0] = '\0';
    fprintf(f, ",\n      \"%s\": \"", key);
    for (; *v; v = *e ? e + 1 : e) {
        if (!(e = strchr(v, ',')))
            e = v + strlen(v);
        eq = memchr(v, '=', (size_t)(e - v));
        fprintf(f, "%s", first ? "" : ",");
        first = 0;
        for (; v < e; v++) {
            if (v == eq + 1 && *v != '/')
                fprintf(f, "%s/", cwd);
            if (*v == '"' || *v == '\\')
                fputc('\\', f);
            fputc(*v, f);
        }
    }
    fputc('"', f);
}

/* cgi_environment "A=1,B=2" as "cgi-env": [{"A": "1"}, {"B": "2"}]. */
static int cgi_env(FILE *f, const char *v)
{
    const char *e, *eq;
    int n = 0;

    fputs(",\n        \"cgi-env\": [", f);
    for (; *v; v = *e ? e + 1 : e) {
        if (!(e = strchr(v, ',')))
            e = v + strlen(v);
        if (e == v)
            continue;
        if (!(eq = memchr(v, '=', (size_t)(e - v))) || eq == v) {
            fprintf(stderr, "kited: cgi_environment: expected NAME=value in \"%.*s\"\n",
                    (int)(e - v), v);
            return -1;
        }
        fprintf(f, "%s{ \"%.*s\": ", n++ ? ", " : " ", (int)(eq - v), v);
        jstrn(f, eq + 1, (size_t)(e - eq - 1));
        fputs(" }", f);
    }
    fputs(" ]", f);
    return 0;
}

/* The vhost's keys and its "/" mount, shared by every listening port. */
static int vhost_body(FILE *f, const struct kited_libhttp *lh)
{
    const char *v;
    size_t i;
    int b, r = 0;

    for (i = 0; i < NOPTS; i++) {
        if (!(v = val(lh, i)))
            continue;
        if (opts[i].kind == V_STR || opts[i].kind == V_NUM) {
            fprintf(f, ",\n      \"%s\": ", opts[i].key);
            jstr(f, v);
        } else if (opts[i].kind == V_PATH) {
            fprintf(f, ",\n      \"%s\": ", opts[i].key);
            jpath(f, v);
        } else if (opts[i].kind == V_BOOL) {
            if (yes_no(opts[i].name, v, &b) < 0)
                r = -1;
            fprintf(f, ",\n      \"%s\": %s", opts[i].key, b ? "true" : "false");
        }
    }
    if ((v = val(lh, idx("request_timeout_ms"))) && *v && strspn(v, "0123456789") == strlen(v))
        fprintf(f, ",\n      \"request-timeout\": %s", v);
    if ((v = val(lh, idx("url_rewrite_patterns"))))
        pairs(f, "url-rewrite", v);
    if ((v = val(lh, idx("protect_uri"))))
        pairs(f, "protect-uri", v);
    fprintf(f, ",\n      \"mounts\": [{ \"mountpoint\": \"/\", \"origin\": ");
    jpath(f, val(lh, idx("document_root")));
    for (i = 0; i < NOPTS; i++) {
        if (!(v = val(lh, i)) ||
            (opts[i].kind != M_STR && opts[i].kind != M_BOOL && opts[i].kind != M_PATH))
            continue;
        fprintf(f, ",\n        \"%s\": ", opts[i].key);
        if (opts[i].kind == M_STR)
            jstr(f, v);
        else if (opts[i].kind == M_PATH)
            jpath(f, v);
        else if (yes_no(opts[i].name, v, &b) < 0)
            r = -1;
        else
            fprintf(f, "%s", b ? "true" : "false");
    }
    /* LibHTTP serves a file of unknown type (lwsws refuses it): "*" */
    fprintf(f, ",\n        \"extra-mimetypes\": { \"*\": \"application/octet-stream\"");
    if ((v = val(lh, idx("extra_mime_types")))) {
        const char *e, *eq;
        for (b = 1; *v; v = *e ? e + 1 : e) {
            if (!(e = strchr(v, ',')))
                e = v + strlen(v);
            if (!(eq = memchr(v, '=', (size_t)(e - v)))) {
                fprintf(stderr, "kited: extra_mime_types: expected .ext=type in \"%.*s\"\n",
                        (int)(e - v), v);
                r = -1;
                continue;
            }
            fprintf(f, "%s \"%.*s\": \"%.*s\"", b++ ? "," : "", (int)(eq - v), v, (int)(e - eq - 1),
                    eq + 1);
        }
    }
    fputs(" }", f);
    if ((v = val(lh, idx("cgi_interpreter")))) {
        /* A bare name is looked up in PATH; a path is the current directory's. */
        fprintf(f, ",\n        \"cgi-interpreter\": ");
        if (strchr(v, '/'))
            jpath(f, v);
        else
            jstr(f, v);
    }
    if ((v = val(lh, idx("cgi_environment"))) && cgi_env(f, v) < 0)
        r = -1;
    /* LibHTTP runs the SSI exec directive in every SSI page. */
    if ((v = val(lh, idx("ssi_pattern"))) && *v)
        fputs(",\n        \"ssi-exec\": true", f);
    fputs(" }", f);
    for (i = 0; lh && i < (size_t)lh->nhandlers; i++) {
        fprintf(f, ",\n        { \"mountpoint\": ");
        jstr(f, lh->handler[i][0]);
        fprintf(f, ", \"origin\": ");
        jpath(f, val(lh, idx("document_root")));
        fprintf(f, ", \"lua-handler\": ");
        jpath(f, lh->handler[i][1]);
        fputs(" }", f);
    }
    fputs("]", f);
    return r;
}

int kited_libhttp_handler(kited_t *kd, const char *prefix, const char *script)
{
    struct kited_libhttp *lh = state(kd);

    if (!lh)
        return -1;
    if (lh->nhandlers == MAX_HANDLERS || *prefix != '/') {
        fprintf(stderr, "kited: -l %s %s: the prefix must start with / (at most %d)\n", prefix,
                script, MAX_HANDLERS);
        return -1;
    }
    lh->handler[lh->nhandlers][0] = prefix;
    lh->handler[lh->nhandlers][1] = script;
    lh->nhandlers++;
    return 0;
}

/* A number option's value in [lo, hi], or -1 (said). */
static long number(const char *name, const char *v, long lo, long hi)
{
    char *end;
    long n = strtol(v, &end, 10);

    if (!*v || *end || n < lo || n > hi) {
        fprintf(stderr,
                "kited: LibHTTP option \"%s\": expected a number from %ld to %ld, got \"%s\"\n",
                name, lo, hi, v);
        return -1;
    }
    return n;
}

/* The TLS keys of an "s" port's vhost, from the ssl_* options. */
static int tls_keys(FILE *f, const struct kited_libhttp *lh)
{
    const char *cert = val(lh, idx("ssl_certificate")), *ca = val(lh, idx("ssl_ca_file")), *v;
    const char *ca_dir = val(lh, idx("ssl_ca_path"));
    int b, r = 0;
    long n;

    if (!cert) {
        fprintf(stderr, "kited: listening_ports: an \"s\" port needs ssl_certificate\n");
        return -1;
    }
    /* LibHTTP's file holds the key and the certificate: kite reads each from it. */
    fputs(",\n      \"host-ssl-cert\": ", f);
    jpath(f, cert);
    fputs(", \"host-ssl-key\": ", f);
    jpath(f, cert);
    if (ca) {
        fputs(",\n      \"host-ssl-ca\": ", f);
        jpath(f, ca);
    }
    if (ca_dir) {
        fputs(",\n      \"ssl-ca-path\": ", f);
        jpath(f, ca_dir);
    }
    if (yes_no("ssl_verify_peer", val(lh, idx("ssl_verify_peer")), &b) < 0)
        r = -1;
    else if (b && !ca && !ca_dir) {
        fprintf(stderr, "kited: ssl_verify_peer yes needs ssl_ca_file or ssl_ca_path (the CAs "
                        "of client certificates)\n");
        r = -1;
    } else if (b) {
        fputs(",\n      \"client-cert-required\": true", f);
    }
    if ((v = val(lh, idx("ssl_verify_depth")))) {
        if ((n = number("ssl_verify_depth", v, 0, 100)) < 0)
            r = -1;
        else
            fprintf(f, ",\n      \"ssl-verify-depth\": %ld", n);
    }
    if ((v = val(lh, idx("ssl_cipher_list")))) {
        /* LibHTTP separates with ':', ',' or ' '; kite with ':' (mbedTLS names). */
        int sep = 0, any = 0;
        fputs(",\n      \"ciphers\": \"", f);
        for (; *v; v++) {
            if (*v == ':' || *v == ',' || *v == ' ') {
                sep = 1;
                continue;
            }
            if (sep && any)
                fputc(':', f);
            sep = 0;
            any = 1;
            if (*v == '"' || *v == '\\')
                fputc('\\', f);
            fputc(*v, f);
        }
        fputc('"', f);
    }
    /* 0-3 allow SSL 2 up to TLS 1.1 in LibHTTP: kite offers no less than
     * TLS 1.2 anyway. 4 is TLS 1.2 and up; 5 TLS 1.3 only (CivetWeb's
     * value, mbedTLS 3.6). */
    if ((v = val(lh, idx("ssl_protocol_version")))) {
        if ((n = number("ssl_protocol_version", v, 0, 5)) < 0)
            r = -1;
        else if (n >= 4)
            fprintf(f, ",\n      \"ssl-min-version\": \"%s\"", n == 5 ? "1.3" : "1.2");
    }
    if (yes_no("ssl_short_trust", val(lh, idx("ssl_short_trust")), &b) < 0)
        r = -1;
    else if (b) {
        fprintf(stderr, "kited: LibHTTP option \"ssl_short_trust\": not supported (kite reads "
                        "certificates when the config is loaded)\n");
        r = -1;
    }
    return r;
}

/* One listening_ports entry, @n bytes at @p: 8080, 127.0.0.1:8080,
 * [::1]:8080, with "s" (TLS) or "r" (redirect to https) after it. Its
 * interface to @iface, its suffix (or 0) to *@kind; the port or -1. */
static long parse_port(const char *p, size_t n, char iface[64], char *kind)
{
    const char *port = p, *c;
    size_t k;

    *kind = 0;
    iface[0] = '\0';
    if (n && (p[n - 1] == 's' || p[n - 1] == 'r'))
        *kind = p[--n];
    if (*p == '[' && (c = memchr(p, ']', n)) && c[1] == ':') {
        snprintf(iface, 64, "%.*s", (int)(c - p - 1), p + 1);
        port = c + 2;
    } else if ((c = memchr(p, ':', n))) {
        snprintf(iface, 64, "%.*s", (int)(c - p), p);
        port = c + 1;
    }
    k = n - (size_t)(port - p);
    if (!k || k > 5 || strspn(port, "0123456789") < k)
        return -1;
    return strtol(port, NULL, 10);
}

/* One listening_ports entry's vhost; @https_port: the first "s" port. */
static int port_vhost(FILE *f, const char *p, size_t n, const struct kited_libhttp *lh, int first,
                      long https_port)
{
    char iface[64], kind;
    long port = parse_port(p, n, iface, &kind);

    if (port < 0 || port > 65535) {
        fprintf(stderr, "kited: listening_ports: bad entry \"%.*s\"\n", (int)n, p);
        return -1;
    }
    fprintf(f, "%s    { \"name\": \"localhost\", \"port\": %ld", first ? "" : ",\n", port);
    if (*iface) {
        fprintf(f, ", \"interface\": ");
        jstr(f, iface);
    }
    if (kind == 's' && tls_keys(f, lh) < 0)
        return -1;
    if (kind == 'r') {
        if (https_port < 0) {
            fprintf(stderr, "kited: listening_ports \"%.*s\": no \"s\" port to redirect to\n",
                    (int)n, p);
            return -1;
        }
        fprintf(f, ",\n      \"redirect-http\": true, \"redirect-http-port\": %ld", https_port);
    }
    if (vhost_body(f, lh) < 0)
        return -1;
    fputs(" }", f);
    return 0;
}

static int write_conf(FILE *f, const struct kited_libhttp *lh)
{
    const char *v, *e;
    char iface[64], kind;
    unsigned long ms;
    long https_port = -1, n;
    int first = 1, r = 0;

    /* kite's idle keep-alive, not lwsws's 60 s */
    fputs("# written by kited from LibHTTP options\n{\n  \"global\": { \"keepalive_timeout\": 5",
          f);
    if ((v = val(lh, idx("run_as_user")))) {
        fputs(", \"username\": ", f);
        jstr(f, v);
    }
    first = 0;
    if ((v = val(lh, idx("request_timeout_ms")))) {
        /* Reading a request is request-timeout's (each vhost); writing is
         * timed in seconds. */
        if ((ms = (unsigned long)number("request_timeout_ms", v, 1, 3600000)) == (unsigned long)-1)
            r = -1;
        fprintf(f, "%s \"send-timeout-secs\": %lu", first ? "" : ",", (ms + 999) / 1000);
    }
    fputs(" },\n  \"vhosts\": [\n", f);
    for (v = val(lh, idx("listening_ports")); *v && https_port < 0; v = *e ? e + 1 : e) {
        while (*v == ' ')
            v++;
        if (!(e = strchr(v, ',')))
            e = v + strlen(v);
        if ((n = parse_port(v, (size_t)(e - v), iface, &kind)) >= 0 && kind == 's')
            https_port = n;
    }
    first = 1;
    for (v = val(lh, idx("listening_ports")); *v; v = *e ? e + 1 : e) {
        while (*v == ' ')
            v++;
        if (!(e = strchr(v, ',')))
            e = v + strlen(v);
        if (e == v)
            continue;
        if (port_vhost(f, v, (size_t)(e - v), lh, first, https_port) < 0)
            r = -1;
        first = 0;
    }
    fputs("\n  ]\n}\n", f);
    return r;
}

int kited_libhttp_write(kited_t *kd)
{
    struct kited_libhttp *lh = kd->lh;
    char path[sizeof(lh->dir) + 8];
    FILE *f;
    int r;

    snprintf(lh->dir, sizeof(lh->dir), "%s", "/tmp/kited-libhttp-XXXXXX");
    if (!mkdtemp(lh->dir)) {
        fprintf(stderr, "kited: %s: %s\n", lh->dir, strerror(errno));
        lh->dir[0] = '\0';
        return -1;
    }
    snprintf(path, sizeof(path), "%s/conf", lh->dir);
    if (!(f = fopen(path, "we"))) {
        fprintf(stderr, "kited: %s: %s\n", path, strerror(errno));
        return -1;
    }
    r = write_conf(f, lh);
    if (fclose(f))
        r = -1;
    kd->conf_dir = lh->dir;
    return r;
}

void kited_libhttp_cleanup(kited_t *kd)
{
    char path[sizeof(kd->lh->dir) + 8];
    size_t i;

    if (!kd->lh)
        return;
    if (kd->lh->dir[0]) {
        snprintf(path, sizeof(path), "%s/conf", kd->lh->dir);
        unlink(path);
        rmdir(kd->lh->dir);
        kd->lh->dir[0] = '\0';
    }
    for (i = 0; i < NOPTS; i++)
        free(kd->lh->val[i]);
}
