/*
 * Client connections, inside: the state of a connection kite makes, from
 * the name lookup to the end of the HTTP response or the WebSocket
 * handshake, and the entry points between connect.c (lookup, connect,
 * TLS, errors), http.c (request out, response in) and ws.c (the
 * upgrade). After a WebSocket handshake the conn is in the ws role and
 * this state hangs off the ws state; a raw client keeps it in c->rd.
 */
#ifndef KITE_CLIENT_PRIVATE_H
#define KITE_CLIENT_PRIVATE_H

#include <sys/socket.h>

#include "core/private.h"
#include "roles/roles.h"
#include "roles/h1/parser.h"
#include "roles/ws/pmd.h"

#define KITE__CL_MAX_HEADERS 64

enum { CL_HTTP, CL_WS, CL_RAW };

enum {
    CL_START,    /* waiting for the first step (never inside kite_client_connect) */
    CL_RESOLVE,  /* name lookup */
    CL_CONNECT,  /* TCP connect to one of the addresses */
    CL_TLS,      /* TLS handshake */
    CL_HEAD,     /* request sent, reading the response head */
    CL_BODY,     /* reading the response body */
    CL_DONE,     /* the response is complete */
    CL_UPGRADED, /* a websocket (ws role) or raw conn */
};

typedef struct kite__cl_hdr {
    const char *name, *value; /* NUL-terminated in head */
} kite__cl_hdr_t;

typedef struct kite__client {
    kite_client_info_t i; /* strings point into strs */
    char *strs;
    uint8_t mode;        /* CL_HTTP, CL_WS, CL_RAW */
    uint8_t phase;       /* CL_* */
    uint8_t failed;      /* the connection error was reported: nothing follows */
    uint8_t established; /* on_client_established was called */
    uint8_t chunked;     /* response body is chunked */
    uint8_t req_chunked; /* request body is sent chunked */
    uint8_t req_done;    /* the request body is complete */
    uint8_t redirects;
    uint8_t timed_out; /* the connect timeout ended it */
    uint8_t tunnel;    /* a proxied upgrade: a 101 makes the conn a raw tunnel */
    int last_err;      /* of the last address tried */
    char port[8];
    kite__dns_t dns;
    struct addrinfo *ai, *next_ai; /* addresses, and the next to try */
    kite_timer_t step;
    char key[32]; /* ws: the Sec-WebSocket-Key sent */
    /* The response head, parsed in place. */
    char *head;
    int status;
    int nhdrs;
    kite__cl_hdr_t hdrs[KITE__CL_MAX_HEADERS];
    int64_t body_left; /* -1: until the server closes */
    int64_t req_left;  /* request body bytes still to send (Content-Length) */
    kite__h1_chunked_t chunk;
    char *chosen; /* ws: the subprotocol the server chose, or NULL */
    /* ws: the permessage-deflate offer (i.ws_deflate points here when one
     * is made), and what the server's answer agreed to. */
    kite_ws_deflate_t deflate;
    kite__pmd_params_t pmd;
    uint8_t pmd_agreed;
} kite__client_t;

/* kite_client_connect() with the protocol given (NULL: from @info). */
kite_conn_t *kite__client_connect(kite_context_t *ctx, const kite_client_info_t *info,
                                  const kite_protocol_t *p, int *err);

/* proxy.c: serve @t from the reverse proxy mount @m (an upgrade too). */
struct kite__mount_rt;
int kite__proxy_serve(kite_conn_t *c, struct kite_http_req_s *t, const struct kite__mount_rt *m);

/* The client state of @c, or NULL. */
kite__client_t *kite__client_of(const kite_conn_t *c);
void kite__client_free(kite__client_t *cl);

/* connect.c: report @why to the protocol and close the conn. */
void kite__client_fail(kite_conn_t *c, const char *why);
/* connect.c: start over at @url (a redirect); 0 or <0. */
int kite__client_redirect(kite_conn_t *c, const char *url);
/* connect.c: the client roles' timeout and close. */
int kite__client_timeout(kite_conn_t *c);
void kite__client_on_close(kite_conn_t *c, int reason);
/* Call on_client_established once; 0, or <0 when the protocol refused. */
int kite__client_established(kite_conn_t *c);

/* response.c: parse the head in cl->head (@len bytes, NUL-terminated)
 * in place; then how its body is framed (cl->chunked, cl->body_left).
 * 0 or KITE_EPROTO. A header by name (case-insensitive), or NULL. */
int kite__client_parse_head(kite__client_t *cl, size_t len);
int kite__client_framing(kite__client_t *cl);
const char *kite__client_header(const kite__client_t *cl, const char *name);
/* http.c: queue the request head (HTTP, or the WebSocket upgrade). */
int kite__client_send_head(kite_conn_t *c);
extern const struct kite__role_ops kite__role_client_http;

/* ws.c: the upgrade request's extra headers; check the 101 and switch
 * @c to the ws role, then hand it the bytes after the head. */
int kite__client_ws_request(kite_conn_t *c, char *buf, size_t cap);
int kite__client_ws_upgrade(kite_conn_t *c, char *rest, size_t len);

#endif
