/*
 * throttle rules: LibHTTP's "*=1k,10.0.0.0/8=0,/downloads/=5k". A key
 * is "*" (every connection), a subnet (the peer's address) or a URI
 * prefix pattern (LibHTTP glob against the decoded path); the value is
 * bytes per second, a decimal number with an optional k (1024) or m
 * (1048576), 0 meaning unlimited. The last matching rule wins. The rate
 * is chosen per request, so a keep-alive connection follows the URI it
 * fetches; core/throttle.c enforces it on the write path.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roles/http/private-http.h"

enum { R_ALL, R_NET, R_URI };

struct rule {
    uint8_t kind;
    uint32_t rate;
    struct kite__net net;
    const char *pat; /* into the parse copy */
    size_t plen;
};

struct kite__throttle {
    int n, has_net;
    char *text;
    struct rule r[];
};

static int parse_rate(const char *s, size_t n, uint32_t *out)
{
    char buf[32], *end;
    double v;

    if (!n || n >= sizeof(buf) || !((*s >= '0' && *s <= '9') || *s == '.'))
        return KITE_EINVAL;
    memcpy(buf, s, n);
    buf[n] = '\0';
    v = strtod(buf, &end);
    if (*end == 'k' || *end == 'K')
        v *= 1024, end++;
    else if (*end == 'm' || *end == 'M')
        v *= 1048576, end++;
    if (*end || !isfinite(v) || v < 0 || v > 4e9)
        return KITE_EINVAL;
    *out = (uint32_t)v;
    return 0;
}

static int parse_rule(struct rule *ru, char *s, size_t n)
{
    char *eq = memchr(s, '=', n);
    size_t klen;

    if (!eq || eq == s)
        return KITE_EINVAL;
    klen = (size_t)(eq - s);
    if (parse_rate(eq + 1, n - klen - 1, &ru->rate) < 0)
        return KITE_EINVAL;
    if (klen == 1 && *s == '*') {
        ru->kind = R_ALL;
    } else if (*s == '/' || *s == '*') {
        ru->kind = R_URI;
        ru->pat = s;
        ru->plen = klen;
    } else {
        ru->kind = R_NET;
        return kite__net_parse(s, klen, &ru->net);
    }
    return 0;
}

int kite__throttle_parse(const char *list, struct kite__throttle **out, char *bad, size_t blen)
{
    struct kite__throttle *th;
    char *s, *e;
    int n = 1;

    for (s = (char *)list; *s; s++)
        n += *s == ',';
    if (!(th = calloc(1, sizeof(*th) + (size_t)n * sizeof(th->r[0]))) ||
        !(th->text = strdup(list))) {
        free(th);
        return KITE_ENOMEM;
    }
    for (s = th->text; *s; s = *e ? e + 1 : e) {
        if (!(e = strchr(s, ',')))
            e = s + strlen(s);
        while (s < e && *s == ' ')
            s++;
        if (s == e)
            continue;
        if (parse_rule(&th->r[th->n], s, (size_t)(e - s)) < 0) {
            snprintf(bad, blen, "%.*s", (int)(e - s), s);
            kite__throttle_free(th);
            return KITE_EINVAL;
        }
        th->has_net |= th->r[th->n++].kind == R_NET;
    }
    *out = th;
    return 0;
}

void kite__throttle_free(struct kite__throttle *th)
{
    if (!th)
        return;
    free(th->text);
    free(th);
}

int kite__http_throttle(kite_conn_t *c, const char *path)
{
    const struct kite__throttle *th = kite__http_vh_throttle(c->vh);
    uint32_t rate = 0;
    uint8_t a[16];
    unsigned alen = 0;
    int i;

    if (!th)
        return kite__conn_throttle(c, 0);
    /* The peer's address only when a rule needs it: one getpeername(). */
    if (th->has_net && kite__conn_peer_ip(c, a, &alen) < 0)
        alen = 0;
    for (i = 0; i < th->n; i++) {
        const struct rule *ru = &th->r[i];
        if (ru->kind == R_ALL ||
            (ru->kind == R_NET && alen && kite__net_match(&ru->net, a, alen)) ||
            (ru->kind == R_URI && kite__pattern_match(ru->pat, ru->plen, path, strlen(path)) > 0))
            rate = ru->rate;
    }
    return kite__conn_throttle(c, rate);
}
