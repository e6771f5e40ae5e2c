/*
 * HTTP/2 role internals. A connection in the h2 role holds an nghttp2
 * session (framing, HPACK, flow control); each request stream is a conn
 * of its own (KITE__C_STREAM) whose role is h2s and whose transport is
 * the stream: everything above the role (roles/http, protocols, CGI)
 * sees an ordinary conn carrying one request. What the http layer
 * queues on a stream conn leaves as DATA frames, taken from its queue
 * when the stream's window and the parent's output allow.
 */
#ifndef KITE_H2_PRIVATE_H
#define KITE_H2_PRIVATE_H

#include <nghttp2/nghttp2.h>

#include "roles/http/private-http.h"

/* The parent's output that nghttp2 may fill before waiting for it to drain. */
#define KITE__H2_OUT_HIGH (128 * 1024)

typedef struct kite__h2 kite__h2_t;
typedef struct kite__h2s kite__h2s_t;

/* Stream bits. */
enum {
    H2S_DEFERRED = 1 << 0,   /* the data provider waits for output */
    H2S_FIN = 1 << 1,        /* the writer is done: END_STREAM after the queue */
    H2S_SUBMITTED = 1 << 2,  /* the response (or its headers) was submitted */
    H2S_REMOTE_END = 1 << 3, /* the peer's END_STREAM arrived */
    H2S_DISPATCHED = 1 << 4, /* the request went to roles/http */
    H2S_ENDED = 1 << 5,      /* nghttp2 closed the stream */
};

struct kite__h2s {
    kite_conn_t c;     /* the stream's conn (c.rd: its transaction) */
    kite__h2_t *h2;    /* the session, NULL once the parent has gone */
    kite__h2s_t *next; /* the session's streams, then its dead list */
    int32_t id;
    uint16_t sflags;
    uint8_t too_big; /* the fields passed the limit: 431 */
    kite_conn_t *pc; /* the parent conn */
    size_t held;     /* input held while paused, not yet consumed */
    char *head;      /* the request's fields, as HTTP/1.1 header lines */
    size_t head_len, head_cap;
    char *method, *path, *authority, *protocol; /* pseudo-headers */
};

struct kite__h2 {
    nghttp2_session *s;
    kite_conn_t *c;       /* the connection */
    kite__h2s_t *streams; /* open stream conns */
    kite__h2s_t *dead;    /* closed stream conns, freed from the parent */
    unsigned nstreams;
    unsigned resets;             /* streams the peer reset in the current window */
    uint64_t reset_win;          /* when that window started (ms) */
    uint8_t in_recv;             /* inside nghttp2_session_mem_recv */
    uint8_t in_send;             /* inside nghttp2_session_send */
    uint8_t draining;            /* GOAWAY sent: close once the streams are done */
    uint8_t closing;             /* the conn is closing: streams only detach */
    kite_timer_t settings_timer; /* until the peer acknowledges our SETTINGS */
};

/* ops-h2.c */
/* Make frames from what is ready, as far as the parent's output allows
 * (from inside nghttp2's callbacks: at the end of this loop pass). */
/* ops-h2.c: make @c (a conn in its h1 role, no request in flight) an
 * HTTP/2 connection; @buf holds the first bytes it read (the preface).
 * Others reach it as the "h2" role's start op. */
int kite__h2_start(kite_conn_t *c, char *buf, size_t len);
void kite__h2_pump(kite__h2_t *h2);
/* Ask for a pump at the end of this loop pass (from stream context). */
void kite__h2_want_send(kite__h2_t *h2);

/* stream.c */
extern const struct kite__role_ops kite__role_h2s;
extern const kite__xport_t kite__h2s_xport;
kite__h2s_t *kite__h2s_new(kite__h2_t *h2, int32_t id);
int kite__h2s_header(kite__h2s_t *s, const uint8_t *name, size_t nlen, const uint8_t *value,
                     size_t vlen);
/* An HTTP/1.1 transaction @t (Upgrade: h2c) becomes the stream's and is routed. */
void kite__h2s_take(kite__h2s_t *s, kite_http_req_t *t);
/* The head is complete: make the transaction and route it. */
int kite__h2s_request(kite__h2s_t *s, int end_stream);
/* Request body bytes and its end. */
int kite__h2s_data(kite__h2s_t *s, const uint8_t *data, size_t len);
void kite__h2s_remote_end(kite__h2s_t *s);
/* nghttp2 closed the stream: close its conn. */
void kite__h2s_ended(kite__h2s_t *s, uint32_t error_code);
/* Free closed streams (not inside their handlers). */
void kite__h2s_reap(kite__h2_t *h2);
/* The data provider of a response (source.ptr is the stream). */
ssize_t kite__h2s_read(nghttp2_session *session, int32_t id, uint8_t *buf, size_t length,
                       uint32_t *data_flags, nghttp2_data_source *source, void *user);
int kite__h2s_send_data(nghttp2_session *session, nghttp2_frame *frame, const uint8_t *framehd,
                        size_t length, nghttp2_data_source *source, void *user);

/* wire.c: responses on a stream, for roles/http. */
extern const struct kite__http_wire kite__h2_wire;

#endif
