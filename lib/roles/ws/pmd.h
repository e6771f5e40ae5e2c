/*
 * permessage-deflate (RFC 7692): the negotiation of its parameters and a
 * per-connection codec over zlib, for server and client websockets
 * alike. The codec knows nothing of frames: the ws role hands it the
 * payload of a message's frames and sends or delivers what comes out.
 *
 * Sides: the server compresses with the server_* parameters and inflates
 * with the client_* ones; a client the other way round (@is_client).
 */
#ifndef KITE_WS_PMD_H
#define KITE_WS_PMD_H

#include <stddef.h>
#include <stdint.h>

#include "kite.h"

/* Parameters agreed for one connection, as in the 101 response. */
typedef struct kite__pmd_params {
    uint8_t server_no_context_takeover;
    uint8_t client_no_context_takeover;
    uint8_t server_max_window_bits; /* 8..15; 15 when the response has none */
    uint8_t client_max_window_bits; /* 8..15; 15 when the response has none */
} kite__pmd_params_t;

/* kite_ws_deflate_t with the defaults filled in (level, mem_level, window_bits). */
void kite__pmd_conf_defaults(kite_ws_deflate_t *conf, const kite_ws_deflate_t *in);

/**
 * kite__pmd_negotiate() - the server's choice among the client's offers:
 * @values are the @n Sec-WebSocket-Extensions header values in order.
 * The first permessage-deflate offer whose parameters are all known,
 * unrepeated and valid is accepted; others are declined (never a failed
 * handshake). Returns 1 with *@out set and the response header value in
 * @resp (NUL-terminated, at most @resp_size bytes), or 0 when no offer is
 * acceptable.
 */
int kite__pmd_negotiate(const char *const *values, int n, const kite_ws_deflate_t *conf,
                        kite__pmd_params_t *out, char *resp, size_t resp_size);

/**
 * kite__pmd_offer() - a client's offer for @conf in @buf (NUL-terminated):
 * "permessage-deflate; client_max_window_bits" plus the limits @conf
 * asks of the server. Returns its length, or KITE_E2BIG.
 */
int kite__pmd_offer(const kite_ws_deflate_t *conf, char *buf, size_t size);

/**
 * kite__pmd_accept_response() - a client checks the server's
 * Sec-WebSocket-Extensions @value against the offer kite__pmd_offer(@conf)
 * made. Returns 0 with *@out set, or KITE_EPROTO: the client must then
 * fail the connection (RFC 7692 5: anything not exactly one valid
 * permessage-deflate answer to its offer).
 */
int kite__pmd_accept_response(const char *value, const kite_ws_deflate_t *conf,
                              kite__pmd_params_t *out);

typedef struct kite__pmd kite__pmd_t;

/**
 * kite__pmd_create() - a codec for one connection (the zlib streams are
 * made at first use, and freed after each message in a direction
 * without context takeover). Returns NULL when out of memory. Free
 * with kite__pmd_destroy() (NULL is allowed).
 */
kite__pmd_t *kite__pmd_create(const kite__pmd_params_t *p, const kite_ws_deflate_t *conf,
                              int is_client);
void kite__pmd_destroy(kite__pmd_t *z);

/**
 * kite__pmd_deflate_bound() - bytes kite__pmd_deflate() may need for @len
 * bytes of input.
 */
size_t kite__pmd_deflate_bound(const kite__pmd_t *z, size_t len);

/**
 * kite__pmd_deflate() - compress the next @len bytes of the message being
 * sent into @out (at least kite__pmd_deflate_bound(@len) bytes), flushed so
 * that the peer can inflate all of it now. With @fin it ends the message:
 * the trailing 00 00 ff ff is removed (RFC 7692 7.2.1) and an empty
 * message becomes the single byte 00. *@out_len gets the size. Returns 0,
 * KITE_ENOMEM, or KITE_EIO when zlib fails.
 */
int kite__pmd_deflate(kite__pmd_t *z, const void *in, size_t len, int fin, void *out,
                      size_t *out_len);

/**
 * kite__pmd_inflate() - inflate payload bytes of the compressed message
 * being received. Takes @in[0..@len), writing at most @cap bytes to @out;
 * *@used gets the input bytes consumed, *@produced the output. With @fin
 * (@in ends the message) the 00 00 ff ff tail is inflated after the input.
 * Returns 1 when @out filled up and more output may follow (call again
 * with the input left, maybe none), 0 when the input is used up and (with
 * @fin) the message is complete, KITE_EPROTO for data that is not
 * DEFLATE, KITE_ENOMEM.
 */
int kite__pmd_inflate(kite__pmd_t *z, const void *in, size_t len, int fin, void *out, size_t cap,
                      size_t *used, size_t *produced);

/** kite__pmd_memory() - bytes of zlib state the codec holds now (for tests). */
size_t kite__pmd_memory(const kite__pmd_t *z);

#endif
