/*
 * lib/tls internals: the TLS settings of a vhost, the state of a TLS
 * connection and the buffers a service thread lends its TLS connections.
 * Only lib/tls includes this (it includes mbedTLS).
 */
#ifndef KITE_TLS_PRIVATE_H
#define KITE_TLS_PRIVATE_H

#include <mbedtls/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <mbedtls/ssl_cache.h>
#include <mbedtls/ssl_ticket.h>

#include "tls/compat.h"
#include "tls/tls.h"

/* The largest record on the wire: 16 KiB of plaintext plus the most any
 * cipher suite adds (header, explicit IV, MAC or tag, padding). */
#define KITE__TLS_RECORD_MAX (16384 + 2048)

/* The OpenSSL SSL_OP_* bits (lws ssl-option-set) kite gives a meaning. */
#define KITE__SSL_OP_NO_TICKET                (1UL << 14)
#define KITE__SSL_OP_NO_COMPRESSION           (1UL << 17)
#define KITE__SSL_OP_CIPHER_SERVER_PREFERENCE (1UL << 22)
#define KITE__SSL_OP_NO_ANTI_REPLAY           (1UL << 24)
#define KITE__SSL_OP_NO_SSLv3                 (1UL << 25)
#define KITE__SSL_OP_NO_TLSv1                 (1UL << 26)
#define KITE__SSL_OP_NO_TLSv1_2               (1UL << 27)
#define KITE__SSL_OP_NO_TLSv1_1               (1UL << 28)
#define KITE__SSL_OP_NO_TLSv1_3               (1UL << 29)
#define KITE__SSL_OP_NO_RENEGOTIATION         (1UL << 30)

/* The TLS settings made from one reading of a vhost's files. A reload
 * makes new ones; handshakes hold a reference on the ones they began with. */
typedef struct kite__tls_cfg {
    atomic_int refs;
    mbedtls_ssl_config conf;
    mbedtls_x509_crt crt; /* the certificate, then its chain (cert file, host-ssl-ca) */
    mbedtls_pk_context pk;
    unsigned options;             /* KITE_TLS_* */
    mbedtls_x509_crt ca;          /* client certificates: the CAs that issue them */
    int depth;                    /* and how many may be above one */
    int *ciphers;                 /* the cipher suite ids, 0-terminated */
    kite__tls_group_t groups[12]; /* key exchange groups, best first, 0-terminated */
    /* Resumption without a full handshake: by session id from this cache,
     * or from a ticket the client keeps (both lock themselves: the
     * service threads share them). */
    mbedtls_ssl_cache_context cache;
    mbedtls_ssl_ticket_context ticket;
    const char *alpn[4]; /* offered protocols, NULL-terminated */
} kite__tls_cfg_t;

/* vh->tls: what the vhost was made with, and its current settings. */
struct kite__tls_vhost {
    pthread_mutex_t lock;   /* guards cur */
    kite__tls_cfg_t *cur;   /* a reference held */
    kite_vhost_info_t info; /* the tls_* members, strings owned */
};

typedef struct kite__tls_conn {
    kite__xport_t xp; /* first: c->xp points here */
    kite_conn_t *c;
    kite_vhost_t *cfg_vh; /* the port's first vhost, when the conn came (a reference held) */
    kite__tls_cfg_t *cfg; /* the settings the ssl context uses (a reference held) */
    kite__tls_cfg_t *sni; /* those of the vhost SNI picked, or NULL (a reference held) */
    mbedtls_ssl_context ssl;
    /* Ciphertext the kernel has not taken yet, and how many bytes at the head
     * of the output queue it carries (they count as sent once it is). */
    unsigned char *pend;
    size_t pend_off, pend_len, pend_plain;
    /* Ciphertext made while pend is in the backend's asynchronous write
     * (an alert, a close_notify): it follows pend. */
    unsigned char *later;
    size_t later_len;
    uint8_t hs_done;
    uint8_t started;             /* bytes have arrived */
    uint8_t pend_async;          /* pend is in the backend's asynchronous write */
    uint8_t said_bye;            /* close_notify sent */
    uint8_t client;              /* kite made the connection (client.c) */
    unsigned vflags;             /* client: the KITE_CLIENT_* certificate allowances */
    struct kite__tls_ccfg *ccfg; /* client: its settings (a reference held) */
} kite__tls_conn_t;

#define KITE__TC(c) ((kite__tls_conn_t *)(c)->xp)

/* Per service thread, shared by its TLS conns one event at a time: the
 * ciphertext being read (the thread's read buffer), the plaintext it
 * gives, and the ciphertext being written. One read of the thread's
 * buffer yields at most that much plaintext plus one record completed
 * from earlier reads. */
#define KITE__TLS_PLAIN_CAP (KITE__RXBUF_SIZE + KITE__TLS_RECORD_MAX)
#define KITE__TLS_OUT_CAP   (4 * KITE__TLS_RECORD_MAX)

struct kite__tls_pt {
    const unsigned char *rwin; /* ciphertext read, not yet given to mbedTLS */
    size_t rwin_len;
    size_t out_len; /* ciphertext in out[] */
    char plain[KITE__TLS_PLAIN_CAP];
    unsigned char out[KITE__TLS_OUT_CAP];
    unsigned char stage[16384];    /* small pieces gathered into one record */
    unsigned char file[64 * 1024]; /* a file chunk: files go out in large records */
};

/* conn.c: the transport of TLS conns, and mbedTLS's receive callback. */
extern const struct kite__xport_ops kite__tls_ops;
int kite__tls_bio_recv(void *p, unsigned char *buf, size_t len);

/* write.c: the transport's writes. */
ssize_t kite__tls_writev(kite_conn_t *c, const struct iovec *iov, int n, int more);
ssize_t kite__tls_sendfile(kite_conn_t *c, int fd, off_t *pos, size_t len);
int kite__tls_write_async(kite_conn_t *c, const struct iovec *iov, int n);
size_t kite__tls_written(kite_conn_t *c, size_t bytes);
/* Send what mbedTLS wrote into the thread's out[] outside a queue write
 * (handshake, alerts, close_notify); what the kernel refuses is sent in
 * the background. Returns 0 or <0. */
int kite__tls_emit(kite__tls_conn_t *tc);
/* mbedTLS's send callback: records go to the thread's out[]. */
int kite__tls_bio_send(void *p, const unsigned char *buf, size_t len);

/* peer.c: require client certificates issued by @info's tls_ca. */
int kite__tls_client_auth(kite_vhost_t *vh, kite__tls_cfg_t *t, const kite_vhost_info_t *info);
/* peer.c: a handshake picked settings @t by SNI: ask for its client certificates. */
void kite__tls_sni_auth(mbedtls_ssl_context *ssl, kite__tls_cfg_t *t);

/* ciphers.c: set @t's cipher suites from @info's tls13_ciphers and
 * tls_ciphers (or the defaults). Returns 0, KITE_EINVAL (logged) or
 * KITE_ENOMEM. */
int kite__tls_ciphers(kite_vhost_t *vh, kite__tls_cfg_t *t, const kite_vhost_info_t *info);

/* opts.c: @t's key exchange groups from @info->tls_groups (or the
 * defaults). Returns 0 or KITE_EINVAL (logged). */
int kite__tls_groups(kite_vhost_t *vh, kite__tls_cfg_t *t, const kite_vhost_info_t *info);
/* opts.c: the default groups, 0-terminated (server and client). */
#define KITE__TLS_NGROUPS_DEFAULT 4
void kite__tls_default_groups(kite__tls_group_t out[KITE__TLS_NGROUPS_DEFAULT]);
/* opts.c: the OpenSSL option bits kite's defaults stand for, and what the
 * set / clear bits of @info leave (notices for bits with no meaning). */
unsigned long kite__tls_ssl_options(kite_vhost_t *vh, const kite_vhost_info_t *info);

/* ctx.c: settings from @info's files; NULL with *err (logged). */
kite__tls_cfg_t *kite__tls_cfg_new(kite_vhost_t *vh, const kite_vhost_info_t *info, int *err);
/* reload.c: a reference on @vh's current settings; drop it with put. */
kite__tls_cfg_t *kite__tls_cfg_get(kite_vhost_t *vh);
void kite__tls_cfg_put(kite__tls_cfg_t *t);

/* client.c: drop a reference on a client's settings. */
void kite__tls_ccfg_put(struct kite__tls_ccfg *t);
/* client.c: the handshake of a client conn ended (@err 0 or mbedTLS's). */
int kite__tls_client_done(kite__tls_conn_t *tc, int err);

/* ctx.c: log "@what: mbedTLS's text for @err". */
void kite__tls_log_err(const char *what, const char *name, int err);
/* ctx.c: the vhost of @ls that serves the SNI @name: exact, then a
 * "*.domain" wildcard, then NULL (the caller keeps the port's first). */
kite_vhost_t *kite__tls_sni_vhost(const kite__listener_t *ls, const char *name, size_t len);
/* ctx.c: the process's one-time mbedTLS set-up. Returns 0 or KITE_EIO. */
int kite__tls_global_init(void);

#endif
