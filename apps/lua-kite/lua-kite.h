/*
 * lua-kite: the lua-websockets API as a Lua 5.4 C module on libkite's
 * public API. Shared between the module's files; nothing here is public.
 *
 * Ownership: the context userdata owns the kite context and the C
 * protocol table; its one user value is the "callbacks" table (integer
 * keys below) holding every Lua function the module calls and, under
 * LK_CB_CONNS, the websocket userdata of open connections, so that
 * everything a context keeps alive hangs off the context and is collected
 * with it (a callback closing over the context makes no registry cycle).
 */
#ifndef LUA_KITE_H
#define LUA_KITE_H

#include <lauxlib.h>
#include <lua.h>
#include <poll.h>
#include <sys/types.h>

#include "kite.h"

#define LK_CTX_META          "kite.websockets.context"
#define LK_WS_META           "kite.websockets.websocket"
#define LK_HTTP_PROTOCOL     "kite-lua-http"
#define LK_DEFAULT_MAX_QUEUE (4u << 20)

/* Keys of the callbacks table. */
enum {
    LK_CB_ADD_FD = 1,
    LK_CB_DEL_FD,
    LK_CB_CHANGE_FD,
    LK_CB_HTTP,
    LK_CB_CONNS, /* lightuserdata lk_ws_t * -> its userdata, while open */
    LK_CB_ERR,   /* the first error a callback raised during an entry */
    LK_CB_PROTO0 /* + i: the connect function of protocol i */
};

/* User values of a websocket userdata. */
enum { LK_WS_RECEIVE = 1, LK_WS_CLOSED, LK_WS_BROADCAST, LK_WS_CBS, LK_WS_NUV = LK_WS_CBS };

/* on_broadcast mode: KITE_WRITE_TEXT / KITE_WRITE_BINARY, or a function. */
#define LK_BC_FUNC (-1)

typedef struct lk_msg_s {
    struct lk_msg_s *next;
    size_t len;
    unsigned type;
    char data[];
} lk_msg_t;

struct lk_ws_s;

typedef struct lk_proto_s {
    kite_protocol_t p; /* first: kite_conn_protocol() points here */
    struct lk_ctx_s *lc;
    int key;              /* LK_CB_PROTO0 + index */
    struct lk_ws_s *head; /* its open websockets */
} lk_proto_t;

typedef struct lk_ctx_s {
    kite_context_t *ctx;
    kite_vhost_t *vh;
    /* The entry in progress (a method that calls into kite, entry.c): the
     * state the callbacks run on, and how many entries are nested. */
    lua_State *L;
    int depth;
    int destroyed;
    int extpoll;
    size_t max_queue;
    kite_extpoll_t xp;
    struct pollfd *pfds; /* kite's fds, for service() on an external-poll context */
    int npfds, cappfds;
    lk_proto_t *protos;
    int nprotos;
    kite_protocol_t http;
    const kite_protocol_t **plist;
    kite_mount_t mount;
} lk_ctx_t;

typedef struct lk_ws_s {
    lk_ctx_t *lc;
    kite_conn_t *c;    /* NULL once closed (or after on_http returned) */
    lk_proto_t *proto; /* NULL for the object on_http gets */
    struct lk_ws_s *prev, *next;
    lk_msg_t *head, *tail;
    size_t queued;
    int bcast;
    int close_code; /* close() called: close once the queue has drained */
    char close_reason[124];
    struct lk_http_s *hs; /* on_http's object: the transaction's file state */
} lk_ws_t;

/* Per-session memory of the HTTP protocol: the file being served. */
typedef struct lk_http_s {
    int fd;
    int open;
    int responded;
    off_t off, size;
} lk_http_t;

typedef struct {
    lua_State *L;
} lk_entry_t;

/* entry.c */
void lk_enter(lk_ctx_t *lc, lua_State *L, int cbs, lk_entry_t *save);
int lk_leave(lk_ctx_t *lc, lk_entry_t *save);
int lk_pcall(lk_ctx_t *lc, lua_CFunction f, void *ev);

/* context.c */
int lk_context_new(lua_State *L);
void lk_context_register(lua_State *L);

/* ws.c */
extern const kite_protocol_t lk_ws_protocol_template;
void lk_ws_register(lua_State *L);
int lk_broadcast(lua_State *L, int cbs, lk_proto_t *pr, int data);
int lk_ws_enqueue(lk_ws_t *ws, const char *data, size_t len, unsigned type);

/* http.c */
extern const kite_protocol_t lk_http_protocol_template;
int lk_ws_serve_http_file(lua_State *L);

/* extpoll.c */
extern const kite_extpoll_t lk_extpoll_template;
unsigned lk_check_events(lua_State *L, int first);
int lk_extpoll_service(lk_ctx_t *lc, int timeout_ms);
void lk_extpoll_free(lk_ctx_t *lc);

#endif
