/*
 * Config errors and key lookup. Every message is "file:line: path:
 * reason"; all of them, and the warnings and notices of keys kite
 * ignores, are collected (a user fixes a config in one pass, not one
 * error per run) into the caller's buffer and the log. An unknown key
 * gets the nearest known name of its scope as a suggestion; a known key
 * in the wrong scope is ignored with a warning, as lws ignores it.
 */
#include <stdio.h>
#include <string.h>

#include "config/private.h"

#define MAX_ERRORS 50

void kite__cfg_path(char *out, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(out, KITE__CFG_PATH_MAX, fmt, ap);
    va_end(ap);
}

/* One "file:line: path: reason" line to the log and the caller's buffer;
 * warnings and notices go there too, after "warning: " or "notice: ",
 * so that an embedder sees what was ignored as well as what is wrong. */
static void emit(kite__cfg_t *cfg, int level, const kite__cfg_file_t *f, const char *path,
                 const char *fmt, va_list ap)
{
    static const char *const prefix[] = {"", "warning: ", "notice: "};
    char msg[1024], *p;
    size_t n = 0;

    if (f && path)
        n = (size_t)snprintf(msg, sizeof(msg), "%s:%d: %s: ", f->name, kite__cfg_line(f, path),
                             path);
    else if (f)
        n = (size_t)snprintf(msg, sizeof(msg), "%s: ", f->name);
    if (n >= sizeof(msg))
        n = sizeof(msg) - 1;
    vsnprintf(msg + n, sizeof(msg) - n, fmt, ap);
    /* one message, one line: jansson quotes raw input, newlines included */
    for (p = msg; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    if (level == KITE__CFG_ERROR)
        kite_err("%s", msg);
    else if (level == KITE__CFG_WARNING)
        kite_warn("%s", msg);
    else
        kite_notice("%s", msg);
    if (cfg->errbuf && cfg->errlen > cfg->errused + 1) {
        int w = snprintf(cfg->errbuf + cfg->errused, cfg->errlen - cfg->errused, "%s%s\n",
                         prefix[level], msg);
        if (w > 0)
            cfg->errused +=
                (size_t)w < cfg->errlen - cfg->errused ? (size_t)w : cfg->errlen - cfg->errused - 1;
    }
}

int kite__cfg_error(kite__cfg_t *cfg, const kite__cfg_file_t *f, const char *path, const char *fmt,
                    ...)
{
    va_list ap;

    if (++cfg->nerr > MAX_ERRORS)
        return KITE_EINVAL;
    va_start(ap, fmt);
    emit(cfg, KITE__CFG_ERROR, f, path, fmt, ap);
    va_end(ap);
    return KITE_EINVAL;
}

void kite__cfg_note(kite__cfg_t *cfg, int level, const kite__cfg_file_t *f, const char *path,
                    const char *fmt, ...)
{
    va_list ap;

    if (++cfg->nnote > MAX_ERRORS)
        return;
    va_start(ap, fmt);
    emit(cfg, level, f, path, fmt, ap);
    va_end(ap);
}

/* Edit distance, for "did you mean"; names are short. */
static unsigned distance(const char *a, const char *b)
{
    unsigned row[64], i, j, la = (unsigned)strlen(a), lb = (unsigned)strlen(b);

    if (la >= 63 || lb >= 63)
        return 99;
    for (j = 0; j <= lb; j++)
        row[j] = j;
    for (i = 1; i <= la; i++) {
        unsigned diag = row[0], tmp;
        row[0] = i;
        for (j = 1; j <= lb; j++) {
            unsigned best = diag + (a[i - 1] != b[j - 1]);
            tmp = row[j];
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = tmp;
        }
    }
    return row[lb];
}

static const char *const scope_names[] = {"global", "a vhost", "a mount"};

const kite__directive_t *kite__cfg_lookup(int scope, const char *name, char *hint, size_t hlen,
                                          int *other)
{
    const kite__directive_t *best = NULL;
    unsigned bd = 99;
    size_t i;

    *other = -1;
    for (i = 0; i < kite__ndirectives; i++) {
        const kite__directive_t *d = &kite__directives[i];
        unsigned dist;
        if (!strcmp(d->name, name)) {
            if (d->scope == scope)
                return d;
            *other = d->scope;
            continue;
        }
        if (d->scope != scope)
            continue;
        dist = distance(name, d->name);
        if (dist < bd) {
            bd = dist;
            best = d;
        }
    }
    hint[0] = '\0';
    if (best && bd <= 1 + strlen(name) / 4)
        snprintf(hint, hlen, " (did you mean \"%s\"?)", best->name);
    else if (*other >= 0)
        snprintf(hint, hlen, " (it belongs in %s)", scope_names[*other]);
    return NULL;
}

int kite__cfg_apply_object(kite__cfg_t *cfg, int scope, void *obj, json_t *o,
                           const kite__cfg_file_t *f, const char *path)
{
    const char *key;
    json_t *v;
    int r = 0;

    json_object_foreach(o, key, v)
    {
        char kp[KITE__CFG_PATH_MAX], hint[96];
        const kite__directive_t *d;
        int other;
        kite__cfg_path(kp, "%s%s%s", path, *path ? "." : "", key);
        d = kite__cfg_lookup(scope, key, hint, sizeof(hint), &other);
        if (!d && other >= 0) {
            /* lws skips a key it knows in the wrong place: a warning, so
             * that its shipped configs start, but never silence */
            kite__cfg_note(cfg, KITE__CFG_WARNING, f, kp, "ignored: \"%s\" belongs in %s%s", key,
                           scope_names[other],
                           strstr(hint, "did you mean") ? hint : ", as lws ignores it here");
            continue;
        }
        if (!d) {
            r = kite__cfg_error(cfg, f, kp, "unknown key \"%s\"%s", key, hint);
            continue;
        }
        if (d->set(cfg, obj, d, v, f, kp) < 0)
            r = KITE_EINVAL;
    }
    return r;
}
