/*
 * permessage-deflate negotiation (RFC 7692 5 and 7.1): the
 * Sec-WebSocket-Extensions grammar of RFC 6455 9.1 (elements separated by
 * commas, parameters by semicolons, values as tokens or quoted strings),
 * the server's choice of the first acceptable offer with its response,
 * and the client's offer and its check of the response.
 */
#include <stdio.h>
#include <string.h>

#include "misc/misc.h"
#include "roles/ws/pmd.h"

/* One element of the header as parsed: -1 for an absent window bits
 * parameter, 0 for client_max_window_bits without a value. */
typedef struct offer {
    int snct, cnct; /* server/client_no_context_takeover */
    int smwb, cmwb; /* server/client_max_window_bits */
    int bad;        /* an unknown, repeated or invalid parameter */
    int is_pmd;     /* the element is permessage-deflate */
} offer_t;

void kite__pmd_conf_defaults(kite_ws_deflate_t *conf, const kite_ws_deflate_t *in)
{
    *conf = *in;
    if (conf->level <= 0 || conf->level > 9)
        conf->level = 1;
    if (conf->mem_level <= 0 || conf->mem_level > 9)
        conf->mem_level = 8;
    if (conf->window_bits < 8 || conf->window_bits > 15)
        conf->window_bits = 15;
}

static int tchar(char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

/* Case-insensitive equality of NUL-terminated @a and the literal @b. */
static int ci_eq(const char *a, const char *b)
{
    size_t n = strlen(b);

    return strlen(a) == n && !kite__strncasecmp(a, b, n);
}

static void skip_ows(const char **p)
{
    while (**p == ' ' || **p == '\t')
        (*p)++;
}

/* A token into @out (truncated past @cap - 1; truncation makes no known name). */
static int token(const char **p, char *out, size_t cap)
{
    size_t n = 0;

    while (tchar(**p)) {
        if (n + 1 < cap)
            out[n++] = **p;
        (*p)++;
    }
    out[n] = '\0';
    return n ? 0 : -1;
}

/* A parameter value: token or quoted-string (RFC 7692 7.1 allows both). */
static int value(const char **p, char *out, size_t cap)
{
    size_t n = 0;

    if (**p != '"')
        return token(p, out, cap);
    for ((*p)++; **p != '"'; (*p)++) {
        if (!**p)
            return -1;
        if (**p == '\\' && !*++*p)
            return -1;
        if (n + 1 < cap)
            out[n++] = **p;
    }
    (*p)++;
    out[n] = '\0';
    return 0;
}

/* Window bits: 8..15 written as in RFC 7692 7.1.2.1 (no leading zero). */
static int bits(const char *v)
{
    int b;

    if (!v[0] || v[0] == '0' || strspn(v, "0123456789") != strlen(v) || strlen(v) > 2)
        return -1;
    b = v[0] - '0';
    if (v[1])
        b = b * 10 + v[1] - '0';
    return b >= 8 && b <= 15 ? b : -1;
}

static void set_param(offer_t *o, const char *name, const char *val, int has_val)
{
    if (ci_eq(name, "server_no_context_takeover")) {
        o->bad |= o->snct || has_val;
        o->snct = 1;
    } else if (ci_eq(name, "client_no_context_takeover")) {
        o->bad |= o->cnct || has_val;
        o->cnct = 1;
    } else if (ci_eq(name, "server_max_window_bits")) {
        o->bad |= o->smwb >= 0 || !has_val || bits(val) < 0;
        o->smwb = has_val ? bits(val) : 0;
    } else if (ci_eq(name, "client_max_window_bits")) {
        o->bad |= o->cmwb >= 0 || (has_val && bits(val) < 0);
        o->cmwb = has_val ? bits(val) : 0;
    } else {
        o->bad = 1;
    }
}

/* Parse the element at *p up to the next top-level comma (consumed).
 * Returns 0, or -1 when *p holds no more elements. A syntax error marks
 * the element bad and skips to the comma. */
static int element(const char **p, offer_t *o)
{
    char name[32], pname[40], val[16];

    memset(o, 0, sizeof(*o));
    o->smwb = o->cmwb = -1;
    while (**p == ' ' || **p == '\t' || **p == ',')
        (*p)++;
    if (!**p)
        return -1;
    if (token(p, name, sizeof(name)) < 0)
        goto syntax;
    o->is_pmd = ci_eq(name, "permessage-deflate");
    for (;;) {
        int has_val = 0;

        skip_ows(p);
        if (!**p || **p == ',')
            break;
        if (**p != ';')
            goto syntax;
        (*p)++;
        skip_ows(p);
        if (token(p, pname, sizeof(pname)) < 0)
            goto syntax;
        skip_ows(p);
        val[0] = '\0';
        if (**p == '=') {
            (*p)++;
            skip_ows(p);
            if (value(p, val, sizeof(val)) < 0)
                goto syntax;
            has_val = 1;
        }
        set_param(o, pname, val, has_val);
    }
    return 0;
syntax:
    o->bad = 1;
    /* Skip to the next comma outside a quoted string. */
    while (**p && **p != ',') {
        if (**p == '"') {
            for ((*p)++; **p && **p != '"'; (*p)++)
                if (**p == '\\' && (*p)[1])
                    (*p)++;
            if (!**p)
                break;
        }
        (*p)++;
    }
    return 0;
}

/* Agree on @o: RFC 7692 7.1 for each parameter. */
static void agree(const offer_t *o, const kite_ws_deflate_t *conf, kite__pmd_params_t *p,
                  int *say_smwb, int *say_cmwb)
{
    int nct = !!(conf->flags & KITE_WS_DEFLATE_NO_CONTEXT_TAKEOVER);

    /* Accepting an offer with server_no_context_takeover means keeping to
     * it; client_no_context_takeover may always be asked for, and is when
     * offered: the inflate state of an idle connection can then go. */
    p->server_no_context_takeover = (uint8_t)(o->snct || nct);
    p->client_no_context_takeover = (uint8_t)(o->cnct || nct);
    /* server_max_window_bits: the response must carry it when offered,
     * with the same value or less; unoffered, it tells the client that
     * the server uses a smaller window than 15. */
    p->server_max_window_bits = (uint8_t)conf->window_bits;
    if (o->smwb > 0 && o->smwb < conf->window_bits)
        p->server_max_window_bits = (uint8_t)o->smwb;
    *say_smwb = o->smwb > 0 || p->server_max_window_bits < 15;
    /* client_max_window_bits may be in the response only when offered (the
     * client can honour it); then kite asks for its own limit. */
    p->client_max_window_bits = 15;
    *say_cmwb = 0;
    if (o->cmwb >= 0) {
        int b = o->cmwb > 0 && o->cmwb < conf->window_bits ? o->cmwb : conf->window_bits;
        p->client_max_window_bits = (uint8_t)b;
        *say_cmwb = b < 15 || o->cmwb > 0;
    }
}

int kite__pmd_negotiate(const char *const *values, int n, const kite_ws_deflate_t *conf_in,
                        kite__pmd_params_t *out, char *resp, size_t resp_size)
{
    kite_ws_deflate_t conf;
    offer_t o;
    int i, say_s, say_c, len;

    kite__pmd_conf_defaults(&conf, conf_in);
    for (i = 0; i < n; i++) {
        const char *p = values[i];

        while (element(&p, &o) == 0) {
            if (!o.is_pmd || o.bad)
                continue;
            agree(&o, &conf, out, &say_s, &say_c);
            len = snprintf(resp, resp_size, "permessage-deflate%s%s",
                           out->server_no_context_takeover ? "; server_no_context_takeover" : "",
                           out->client_no_context_takeover ? "; client_no_context_takeover" : "");
            if (len >= 0 && say_s && (size_t)len < resp_size)
                len += snprintf(resp + len, resp_size - (size_t)len, "; server_max_window_bits=%d",
                                out->server_max_window_bits);
            if (len >= 0 && say_c && (size_t)len < resp_size)
                len += snprintf(resp + len, resp_size - (size_t)len, "; client_max_window_bits=%d",
                                out->client_max_window_bits);
            return len >= 0 && (size_t)len < resp_size;
        }
    }
    return 0;
}

int kite__pmd_offer(const kite_ws_deflate_t *conf_in, char *buf, size_t size)
{
    kite_ws_deflate_t conf;
    int len;

    kite__pmd_conf_defaults(&conf, conf_in);
    len = snprintf(buf, size, "permessage-deflate; client_max_window_bits");
    if (len >= 0 && (size_t)len < size && conf.window_bits < 15)
        len += snprintf(buf + len, size - (size_t)len, "; server_max_window_bits=%d",
                        conf.window_bits);
    if (len >= 0 && (size_t)len < size && (conf.flags & KITE_WS_DEFLATE_NO_CONTEXT_TAKEOVER))
        len += snprintf(buf + len, size - (size_t)len,
                        "; server_no_context_takeover; client_no_context_takeover");
    return len >= 0 && (size_t)len < size ? len : KITE_E2BIG;
}

int kite__pmd_accept_response(const char *value, const kite_ws_deflate_t *conf_in,
                              kite__pmd_params_t *out)
{
    kite_ws_deflate_t conf;
    const char *p = value;
    offer_t o, more;
    int nct;

    kite__pmd_conf_defaults(&conf, conf_in);
    nct = !!(conf.flags & KITE_WS_DEFLATE_NO_CONTEXT_TAKEOVER);
    if (!value || element(&p, &o) < 0 || element(&p, &more) == 0)
        return KITE_EPROTO; /* none, or more than the one extension offered */
    if (!o.is_pmd || o.bad)
        return KITE_EPROTO;
    /* Asked for server_no_context_takeover: the server must agree to it;
     * and a smaller server window than offered is a breach. */
    if ((nct && !o.snct) || (conf.window_bits < 15 && (o.smwb < 0 || o.smwb > conf.window_bits)))
        return KITE_EPROTO;
    out->server_no_context_takeover = (uint8_t)o.snct;
    out->client_no_context_takeover = (uint8_t)(o.cnct || nct);
    out->server_max_window_bits = (uint8_t)(o.smwb > 0 ? o.smwb : 15);
    if (o.cmwb == 0)
        return KITE_EPROTO; /* a response must give client_max_window_bits a value */
    out->client_max_window_bits = (uint8_t)(o.cmwb > 0 ? o.cmwb : 15);
    return 0;
}
