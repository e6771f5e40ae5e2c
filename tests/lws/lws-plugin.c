/*
 * An lwsws protocol plugin written to the lws 4.1 API: the file
 * libprotocol_kite_lws_shout.so exports kite_lws_shout, an
 * lws_plugin_protocol_t, and nothing kite-specific. kited loads it through
 * libkite-lws's adapter. The protocol "lws-shout" answers each message
 * with the vhost's "prefix" pvo and the message in capitals; it counts
 * its connections in per-vhost data (lws_protocol_vh_priv_zalloc()), and
 * a callback mount to it answers GET with the count.
 */
#define LWS_DLL
#define LWS_INTERNAL
#include <ctype.h>
#include <libwebsockets.h>
#include <string.h>

struct vhd {
    const char *prefix;
    int conns;
};

static int cb_shout(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    struct vhd *vhd = lws_protocol_vh_priv_get(lws_get_vhost(wsi), lws_get_protocol(wsi));
    const struct lws_protocol_vhost_options *pv;
    unsigned char buf[LWS_PRE + 256], *p = &buf[LWS_PRE], *end = &buf[sizeof(buf) - 1];
    size_t i, n;

    switch (reason) {
    case LWS_CALLBACK_PROTOCOL_INIT:
        vhd = lws_protocol_vh_priv_zalloc(lws_get_vhost(wsi), lws_get_protocol(wsi), sizeof(*vhd));
        if (!vhd)
            return 1;
        pv = lws_pvo_search(in, "prefix");
        vhd->prefix = pv ? pv->value : "";
        break;
    case LWS_CALLBACK_ESTABLISHED:
        vhd->conns++;
        break;
    case LWS_CALLBACK_CLOSED:
        vhd->conns--;
        break;
    case LWS_CALLBACK_RECEIVE:
        n = (size_t)lws_snprintf((char *)p, (size_t)(end - p), "%s", vhd->prefix);
        for (i = 0; i < len && n < 200; i++)
            p[n++] = (unsigned char)toupper(((const unsigned char *)in)[i]);
        if (lws_write(wsi, p, n, LWS_WRITE_TEXT) < (int)n)
            return -1;
        break;
    case LWS_CALLBACK_HTTP:
        n = (size_t)lws_snprintf((char *)buf, sizeof(buf), "conns %d\n", vhd->conns);
        if (lws_add_http_common_headers(wsi, HTTP_STATUS_OK, "text/plain", n, &p, end) ||
            lws_finalize_write_http_header(wsi, &buf[LWS_PRE], &p, end))
            return 1;
        memmove(&buf[LWS_PRE], buf, n);
        if (lws_write(wsi, &buf[LWS_PRE], n, LWS_WRITE_HTTP_FINAL) != (int)n)
            return 1;
        return lws_http_transaction_completed(wsi) ? -1 : 0;
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols protocols[] = {
    {"lws-shout", cb_shout, 0, 128, 0, NULL, 0},
};

LWS_VISIBLE const lws_plugin_protocol_t kite_lws_shout = {
    .hdr = {"kite lws shout", "lws_protocol_plugin", LWS_PLUGIN_API_MAGIC},
    .protocols = protocols,
    .count_protocols = LWS_ARRAY_SIZE(protocols),
    .extensions = NULL,
    .count_extensions = 0,
};
