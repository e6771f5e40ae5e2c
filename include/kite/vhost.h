/*
 * Vhosts and mounts. A vhost listens on an address and port (or a unix
 * socket); several vhosts on one port share the listener and are told
 * apart by the Host header. Mounts map URL prefixes to origins.
 */
#ifndef KITE_VHOST_H
#define KITE_VHOST_H

enum kite_mount_origin {
    KITE_MOUNT_AUTO = 0,    /* from the origin string's scheme (lwsws style) */
    KITE_MOUNT_FILE,        /* origin: a directory */
    KITE_MOUNT_CALLBACK,    /* origin or protocol: a protocol name */
    KITE_MOUNT_REDIR_HTTP,  /* origin: "host/path" -> 301 http:// */
    KITE_MOUNT_REDIR_HTTPS, /* origin: "host/path" -> 301 https:// */
    KITE_MOUNT_CGI,         /* origin: a directory of CGI scripts (RFC 3875) */
    KITE_MOUNT_PROXY_HTTP,  /* origin: "host[:port][/path]": reverse proxy over http */
    KITE_MOUNT_PROXY_HTTPS, /* the same over https (kite/client.h verifies the upstream) */
};

/**
 * A mount, made with KITE_MOUNT_INIT(...). Caller-owned; kite copies it at
 * kite_vhost_create() (the strings and pvos it points to must outlive the
 * vhost). With KITE_MOUNT_AUTO the
 * origin may be "file:///dir", "callback://proto", ">http://host/p",
 * ">https://host/p", "http://host:port/p" or "https://host:port/p" (a
 * reverse proxy, READMEs/README.proxy.md) or a plain directory path.
 */
typedef struct kite_mount_s {
    size_t struct_size; /* sizeof(kite_mount_t): KITE_MOUNT_INIT */
    const struct kite_mount_s *next;
    const char *mountpoint; /* "/", "/app" */
    const char *origin;
    const char *def;                   /* index file for directories, default "index.html" */
    const char *protocol;              /* callback mounts: protocol name */
    int origin_protocol;               /* enum kite_mount_origin */
    const kite_pvo_t *extra_mimetypes; /* name ".ext" or "ext", value "type/sub" */
    int cache_max_age;                 /* seconds; 0: no Cache-Control unless revalidate */
    unsigned cache_reuse : 1;
    unsigned cache_revalidate : 1;
    unsigned cache_intermediaries : 1;
    /* Appended members: */
    const char *basic_auth;      /* lwsws basic-auth: a "user:password[:mask]" file */
    unsigned auth_mask;          /* the user's mask (third field) must have these bits */
    const kite_pvo_t *interpret; /* file suffix (".ext") -> protocol that serves it */
    const kite_pvo_t *pmo;       /* per-mount options, see kite_http_mount_option() */
    unsigned cgi_timeout;        /* seconds (CGI mounts) */
    const kite_pvo_t *cgi_env;   /* extra CGI environment (CGI mounts) */
    /* LibHTTP cgi_pattern: on a file mount, files whose full path matches
     * (kite__pattern_match glob, e.g. "**.cgi$|**.pl$") run as CGI. */
    const char *cgi_pattern;
    /* LibHTTP cgi_interpreter: run every script of the mount with this
     * program (the script path its argument); NULL: exec the script. */
    const char *cgi_interpreter;
    /* LibHTTP options of file mounts; all off when zero: */
    int dir_listing;         /* directories without an index file get an HTML listing */
    const char *index_files; /* "index.html,index.htm": tried in order instead of def */
    const char *hide_files;  /* LibHTTP glob of file (or dir) names that answer 404 */
    const char *ssi_pattern; /* LibHTTP glob of files processed as SSI ("**.shtml$") */
    /* SSI <!--#exec "cmd" --> runs cmd with /bin/sh in the page's directory
     * (as a CGI script is run: off the loop, with cgi_timeout); 0: such
     * directives are dropped, and logged. */
    int ssi_exec;
    /* Reverse proxy mounts: seconds the upstream has to connect and send
     * its response head (504 past it); 0: 30. */
    unsigned proxy_timeout;
    /* Lua (READMEs/README.lua.md); all off when NULL / zero: */
    const char *lua_page_pattern;   /* glob of Lua server pages ("**.lp$|**.lsp$") */
    const char *lua_script_pattern; /* glob of Lua scripts ("**.lua$") */
    const char *lua_preload;        /* Lua file run in each new environment first */
    const char *lua_ws_root;        /* directory of Lua websocket scripts (else the docroot) */
    const char *lua_handler;        /* lhttpd script whose handlers serve the mount */
    size_t lua_max_memory;          /* bytes of the thread's Lua state; 0: 256 MiB */
    unsigned long lua_budget;       /* VM instructions per resume; 0: 100 million;
                                     * KITE_LUA_NO_BUDGET: none, no count hook */
    /* lwsws mount keys (READMEs/README.config.md): */
    unsigned flags;             /* KITE_MOUNT_F_* */
    const kite_pvo_t *headers;  /* response headers added to the mount's answers */
    unsigned keepalive_timeout; /* HTTP/1 idle seconds after the mount's answers; 0: vhost's */
    const char *cgi_chdir;      /* CGI mounts: the scripts' working directory */
} kite_mount_t;

/* static const kite_mount_t m = KITE_MOUNT_INIT(.mountpoint = "/", .origin = "/srv"); */
#define KITE_MOUNT_INIT(...)                                                                       \
    {                                                                                              \
        .struct_size = sizeof(kite_mount_t), __VA_ARGS__                                           \
    }

enum {
    KITE_MOUNT_F_EXACT_MATCH = 1 << 0,    /* the mountpoint itself only, nothing below it */
    KITE_MOUNT_F_NO_WS_UPGRADES = 1 << 1, /* websocket upgrades pass over this mount */
    /* Redirect mounts: the Location is the origin alone, without the
     * path below the mountpoint (lwsws without "append-path"). */
    KITE_MOUNT_F_REDIRECT_ORIGIN_ONLY = 1 << 2,
    KITE_MOUNT_F_CACHE_NO = 1 << 3,       /* file answers: Cache-Control: no-cache */
    KITE_MOUNT_F_CACHE_NO_STORE = 1 << 4, /* file answers without cache keys: no-store */
    /* A file whose type neither extra_mimetypes (its "*" entry included)
     * nor kite's table knows gets 403 instead of application/octet-stream
     * (lwsws: a suffix-less password file is never served). */
    KITE_MOUNT_F_KNOWN_TYPES = 1 << 5,
};

/* lua_budget for none: Lua runs without the count hook (a tight loop about
 * twice as fast), and nothing ends a script that never waits. */
#define KITE_LUA_NO_BUDGET (~0ul)

enum {
    KITE_VH_IPV6ONLY = 1 << 0, /* "::" listener takes no IPv4 */
    KITE_VH_NOIPV6 = 1 << 1,   /* default listener is 0.0.0.0, not :: */
    KITE_VH_NO_LISTEN = 1 << 2,
    KITE_VH_RAW_ONLY = 1 << 3,        /* accepted conns are raw (see kite/raw.h) */
    KITE_VH_FALLBACK_TO_RAW = 1 << 4, /* non-HTTP first bytes: the conn becomes raw */
    KITE_VH_UDP = 1 << 5,             /* listen on UDP, datagrams to the raw protocol */
    KITE_VH_STRICT_HOST = 1 << 6,     /* a Host naming no vhost on the port gets 400 */
    KITE_VH_NO_DECODE_URL = 1 << 7,   /* the path is routed as sent, %XX not decoded */
    /* Accepted TCP conns keep Nagle's algorithm: TCP_NODELAY is not set
     * (kite sets it by default; the listen port's first vhost decides). */
    KITE_VH_NO_TCP_NODELAY = 1 << 8,
    /* HTTP/2 (READMEs/README.http2.md). A TLS vhost offers "h2" by ALPN
     * unless NO_H2; a plain one speaks HTTP/2 only with H2C: to a client
     * that starts with the connection preface (prior knowledge). The
     * port's first vhost decides. */
    KITE_VH_NO_H2 = 1 << 9,
    KITE_VH_H2C = 1 << 10,
    /* A websocket upgrade without Sec-WebSocket-Protocol is refused (400)
     * instead of getting the default protocol (lws
     * disable-no-protocol-ws-upgrades). */
    KITE_VH_WS_NEED_PROTOCOL = 1 << 11,
    /* The listen socket (and so its connections) is bound to the network
     * interface iface names, with SO_BINDTODEVICE (Linux; needs
     * CAP_NET_RAW). */
    KITE_VH_BIND_IFACE = 1 << 12,
};

/**
 * Vhost creation info, made with KITE_VHOST_INFO_INIT(...). Caller-owned;
 * it and the mounts are copied, but protocols, pvos and the strings of
 * mounts are referenced and must outlive the vhost.
 */
typedef struct kite_vhost_info_s {
    size_t struct_size;                      /* sizeof(kite_vhost_info_t): KITE_VHOST_INFO_INIT */
    const char *name;                        /* matched against Host; NULL: "localhost" */
    const char *iface;                       /* listen address; NULL: any (dual stack) */
    int port;                                /* 0: ephemeral, see kite_vhost_port() */
    const char *unix_socket;                 /* listen on this AF_UNIX path instead of TCP */
    unsigned options;                        /* KITE_VH_* */
    const kite_protocol_t *const *protocols; /* NULL-terminated */
    const kite_pvo_t *pvo;                   /* per protocol (pvo->name = protocol) */
    const kite_mount_t *mounts;
    const kite_pvo_t *headers;      /* extra response headers on every response */
    const char *error_document_404; /* URL path served for 404s */
    unsigned keepalive_timeout;     /* 0: the context's */
    void *user;
    /* Appended members: */
    const char *access_log; /* combined log format file, appended; NULL: none */
    /* Called once the vhost is gone (context destroy, or a reload retired
     * it and its last connection closed), on a service thread or the
     * destroying thread; what the info referenced may be freed then. */
    void (*on_destroyed)(void *user);
    /* Appended for TLS (READMEs/README.tls.md). With a certificate and a key
     * the vhost serves https and wss; the vhosts sharing its port must
     * have theirs too, and the client's SNI picks among them. Paths are
     * read at creation. */
    const char *tls_cert;      /* PEM certificate, maybe followed by its chain */
    const char *tls_key;       /* PEM private key, RSA or ECDSA */
    const char *tls_ca;        /* PEM certificates sent after it as its chain, and the CAs
                                * that issue client certificates */
    const char *tls_ciphers;   /* "TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256:..."; NULL: mbedTLS's */
    unsigned tls_options;      /* KITE_TLS_* */
    unsigned tls_verify_depth; /* client certificates: CAs allowed above one; 0: 9 */
    /* Protocol versions as on the wire: 0x0301 TLS 1.0 ... 0x0304 TLS 1.3.
     * 0: TLS 1.2 at least, and the newest mbedTLS has. A version this
     * mbedTLS cannot do is refused at creation. */
    unsigned tls_min_version, tls_max_version;
    /* Access-Control-Allow-Origin on every response, and answers to CORS
     * preflight OPTIONS requests; NULL: no CORS. */
    const char *cors_origin;
    /* A directory of error pages: error<status>.html, error<N>xx.html or
     * error.html is sent with an error status; NULL: built-in pages. */
    const char *error_pages;
    /* LibHTTP access_control_list ("-0.0.0.0/0,+192.168/16,+::1"): peers
     * it denies are closed at accept, before anything is read. On a port
     * shared by vhosts, the list of the port's first vhost applies. */
    const char *access_control_list;
    /* LibHTTP throttle ("*=1k,10.0.0.0/8=0,/downloads/=5k"): bytes per
     * second for each response, by peer subnet or URI; NULL: none. */
    const char *throttle;
    /* HTTP Digest authentication against LibHTTP password files
     * ("user:realm:ha1"); with any of the first three set, a .htpasswd in
     * a served file's directory guards it too (unless global_auth_file). */
    const char *auth_domain;      /* the realm; NULL: the vhost name */
    const char *global_auth_file; /* guards every request of the vhost */
    const char *protect_uri;      /* "/uri=file,...": a file per URI prefix */
    unsigned auth_nonce_timeout;  /* seconds a nonce is good for; 0: 300 */
    /* PUT, DELETE and MKCOL on file mounts for the users of this LibHTTP
     * password file (Digest); NULL: those methods answer 405. */
    const char *put_delete_auth_file;
    /* Milliseconds a client has to send a request head once it started
     * it, and between two pieces of a request body; then 408 and close.
     * 0: the context's timeout_secs. Idle time between requests is
     * keepalive_timeout's. A head is timed by the listen port's first
     * vhost (the Host is not known yet), a body by the request's. */
    unsigned request_timeout_ms;
    /* With KITE_TLS_REDIRECT_HTTP: the https port the Location names, with
     * the Host's name (LibHTTP's "r" ports go to its first "s" port); 0:
     * the Host as the client sent it. The port's first vhost decides. */
    unsigned redirect_https_port;
    /* A directory of PEM CA certificates (every file in it is read; no
     * c_rehash links needed) that issue client certificates, with or
     * instead of tls_ca (LibHTTP ssl_ca_path). */
    const char *tls_ca_path;
    /* permessage-deflate (RFC 7692) on the vhost's websockets when the
     * client offers it (READMEs/README.websockets.md); NULL: never. */
    const struct kite_ws_deflate_s *ws_deflate;
    /* TLS 1.3 cipher suites, best first ("TLS_AES_128_GCM_SHA256:..."; lws
     * tls13-ciphers); NULL: AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305.
     * tls_ciphers is the TLS 1.2 list. mbedTLS 2.28 has no TLS 1.3: a
     * notice, and nothing else. */
    const char *tls13_ciphers;
    /* Key exchange groups, best first ("X25519:P-256"; lws ecdh-curve);
     * NULL: P-256, X25519, P-384. */
    const char *tls_groups;
    /* OpenSSL SSL_OP_* bits (lws ssl-option-set / ssl-option-clear): those
     * with an mbedTLS meaning apply (no TLS 1.x, no tickets; renegotiation
     * stays off and the server's suite order is always used); any other is
     * a notice naming it (READMEs/README.tls.md). */
    unsigned long tls_ssl_options_set, tls_ssl_options_clear;
} kite_vhost_info_t;

/* kite_vhost_info_t vi = KITE_VHOST_INFO_INIT(.port = 8080, .mounts = &m); */
#define KITE_VHOST_INFO_INIT(...)                                                                  \
    {                                                                                              \
        .struct_size = sizeof(kite_vhost_info_t), __VA_ARGS__                                      \
    }

enum {
    KITE_TLS_STS = 1 << 0, /* send Strict-Transport-Security on every response */
    /* Plain HTTP on the TLS port too, told apart by the first byte (a TLS
     * handshake starts with 0x16). The port's first vhost decides. */
    KITE_TLS_ALLOW_NON_TLS = 1 << 1,
    /* A client certificate issued by tls_ca (at most tls_verify_depth CAs
     * above it) is required; without one the handshake fails. Handlers
     * read its subject with kite_conn_tls_peer(). The port's first vhost
     * decides when the client names no other by SNI. */
    KITE_TLS_CLIENT_CERT_REQUIRED = 1 << 2,
    /* Plain HTTP requests get a 301 to https://HOST/target: on a vhost
     * without a certificate every request, on a TLS one those that came
     * without TLS (KITE_TLS_ALLOW_NON_TLS). The port's first vhost
     * decides. */
    KITE_TLS_REDIRECT_HTTP = 1 << 3,
};

/**
 * kite_vhost_create() - add a vhost and start listening on every service
 * thread. Call before kite_run(), or between kite_context_reload_begin()
 * and commit (the vhost is then staged, see kite/context.h). Returns NULL
 * with *err (KITE_EADDRINUSE, KITE_EINVAL, KITE_ENOMEM, KITE_ESTATE,
 * KITE_EABI for a bad struct_size of @info or a mount, ...) on failure;
 * the reason is logged.
 */
KITE_EXTERN kite_vhost_t *kite_vhost_create(kite_context_t *ctx, const kite_vhost_info_t *info,
                                            int *err) KITE_SIZED_ENTRY("kite_vhost_create_v2");

/** kite_vhost_port() - the bound port (useful with port 0), or -1 for unix sockets. */
KITE_EXTERN int kite_vhost_port(const kite_vhost_t *vh);
KITE_EXTERN const char *kite_vhost_name(const kite_vhost_t *vh);
KITE_EXTERN void *kite_vhost_user(const kite_vhost_t *vh);
KITE_EXTERN kite_context_t *kite_vhost_context(const kite_vhost_t *vh);
/** kite_vhost_protocol_data() - the vhd set by @proto's on_vhost_init, or NULL. */
KITE_EXTERN void *kite_vhost_protocol_data(const kite_vhost_t *vh, const kite_protocol_t *proto);
/**
 * kite_vhost_protocol_at() - the vhost's @i-th protocol (0-based, in the
 * order of kite_vhost_info_t.protocols), or NULL past the last. While
 * kite_vhost_create() runs the protocols' on_vhost_init in that order,
 * the one being initialised is the first whose kite_vhost_protocol_data()
 * is still NULL when every earlier one set its vhd (libkite-lws relies on
 * this to tell its protocols apart).
 */
KITE_EXTERN const kite_protocol_t *kite_vhost_protocol_at(const kite_vhost_t *vh, int i);
/** kite_vhost_find_protocol() - the vhost's protocol called @name, or NULL. */
KITE_EXTERN const kite_protocol_t *kite_vhost_find_protocol(const kite_vhost_t *vh,
                                                            const char *name);

#endif
