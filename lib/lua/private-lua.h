/*
 * Lua 5.4 in the server (LibHTTP Lua server pages, Lua scripts, Lua
 * websockets, lhttpd handlers). One lua_State per service thread, made
 * with the thread's first Lua request and closed when the thread goes
 * away (kite__lua_pt_free). Every request, websocket callback or handler
 * call runs in a coroutine of that state, anchored in the registry while
 * it lives; what would block (output over the conn's cap, a request body
 * not yet here, a socket, a sleep) yields the coroutine, and the conn's
 * event resumes it. Only one coroutine runs at a time per thread: the
 * running one is lp->cur, which is how the C functions find their
 * request (a script's own coroutines run inside it).
 *
 * Ownership: the state owns everything Lua; a request's kite__lua_run_t
 * lives in the client conn's per-session memory and lets go of its
 * coroutine in on_closed.
 */
#ifndef KITE_LUA_PRIVATE_H
#define KITE_LUA_PRIVATE_H

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>

#include "lua/hooks.h"

/* Defaults of lua-max-memory and lua-instruction-budget. */
#define KITE__LUA_MAX_MEMORY (256u << 20)
#define KITE__LUA_BUDGET     100000000ull
/* The count hook runs every this many VM instructions. */
#define KITE__LUA_HOOK_STEP 1000
/* Finished coroutines kept for reuse per thread. */
#define KITE__LUA_POOL 32
/* The first size of a page's held output (most pages fit). */
#define KITE__LUA_HOLD_FIRST 1024
/* A page's own status line and headers must fit in this. */
#define KITE__LUA_HEAD_MAX (16 * 1024)
/* Stop reading a request body while this much waits for mg.read. */
#define KITE__LUA_RX_HIGH (256 * 1024)

typedef struct kite__lua_run kite__lua_run_t;

/* alloc.c: blocks up to this size come from the thread's free lists. */
#define KITE__LUA_SMALL 256
typedef struct kite__lua_block {
    struct kite__lua_block *next;
} kite__lua_block_t;

/* files.c: a Lua file of the thread, with its compiled chunks. */
#define KITE__LUA_FBUCKETS 256
typedef struct kite__lua_file kite__lua_file_t;
struct kite__lua_file {
    kite__lua_file_t *hnext; /* path hash chain */
    kite__lua_file_t *wnext; /* watch chain (wd >= 0) */
    unsigned hash;
    int wd;              /* inotify watch, or -1: stat() on every use */
    int fn[2];           /* registry refs: the chunk as a script, as a page */
    uint64_t checked_ms; /* loop time of the last stat() */
    int64_t id[4];       /* mtime s, ns, size, inode at that stat() */
    char *real;          /* its realpath, for the docroot check of mounts */
    size_t len;
    char path[];
};
typedef struct kite__lua_files {
    kite__lua_file_t *b[KITE__LUA_FBUCKETS];  /* by path */
    kite__lua_file_t *wb[KITE__LUA_FBUCKETS]; /* by watch */
    unsigned n, evict;
    int ino;                /* inotify fd; -1 until the first file, -2 when there is none */
    uint64_t turn;          /* the loop turn its queue was last read in */
    kite__lua_file_t *last; /* the entry found last, in turn last_turn */
    uint64_t last_turn;
} kite__lua_files_t;

typedef struct kite__lua_pt {
    lua_State *L;
    kite__pt_t *pt;
    size_t mem, max_mem;
    uint64_t steps, budget_steps; /* hook steps this resume, and the limit */
    kite__lua_run_t *cur;         /* the run being resumed, or NULL */
    int env_meta;                 /* registry refs: {__index = _G} for environments */
    int mg_funcs;                 /* the mg functions (state.c: setup) */
    int mg_base;                  /* _G.mg, over them */
    int mg_meta;                  /* {__index = mg_funcs} for a request's own mg */
    int wsscripts;                /* path -> ws script table (ws.c) */
    int handlers;                 /* script -> {path -> handler} (httpd.c) */
    int loading;                  /* the table of the script being loaded, or LUA_NOREF */
    struct kite__lua_ws_script *ws_head;
    lua_State *pool_co[KITE__LUA_POOL]; /* finished coroutines, anchored by pool_ref */
    int pool_ref[KITE__LUA_POOL];
    int npool;
    kite__lua_files_t files;
    char *hold_spare; /* output.c: a KITE__LUA_HOLD_FIRST buffer for the next page */
    int anchors;      /* registry ref: the table of kite__lua_anchor() */
    int *afree;       /* its free slots */
    int nafree, cafree, anext;
    kite__lua_block_t *fl[KITE__LUA_SMALL / 16 + 1]; /* alloc.c: free blocks by 16-byte class */
    unsigned nfl[KITE__LUA_SMALL / 16 + 1];
} kite__lua_pt_t;

enum {
    LR_PAGE = 1, /* a Lua server page */
    LR_SCRIPT,   /* a .lua script */
    LR_HTTPD,    /* an lhttpd handler */
    LR_WS,       /* a websocket callback */
};

enum {
    LR_HEAD_UNDECIDED = 0, /* output so far is a prefix of "HTTP/" */
    LR_HEAD_OWN,           /* the page is writing its own head */
    LR_HEAD_BUFFER,        /* output held for the default head */
    LR_HEAD_SENT,          /* the response head went out */
};

enum {
    LR_W_NONE = 0,
    LR_W_WRITE, /* output over the cap: on_writeable */
    LR_W_READ,  /* body not here yet: on_http_body / done */
    LR_W_SLEEP, /* a timer */
    LR_W_SOCK,  /* a connect() socket */
};

struct kite__lua_run {
    kite__lua_pt_t *lp;
    kite_conn_t *c;        /* the client (NULL: a websocket script's timer) */
    kite_http_req_t *t;    /* the request (NULL for websockets) */
    const kite_mount_t *m; /* its mount: limits, preload */
    lua_State *co;
    int co_ref;  /* registry: the coroutine */
    int env_ref; /* its environment: a registry ref, or an anchor (env_anchor) */
    uint8_t kind, head, wait, dead;
    uint8_t budget_out; /* the instruction budget ran out */
    uint8_t done_body;  /* the whole request body was delivered */
    uint8_t rx_paused;
    uint8_t complete;   /* the response was finished (send_file) */
    uint8_t env_owned;  /* env_ref is the run's own */
    uint8_t env_anchor; /* env_ref is a kite__lua_anchor() slot */
    uint8_t in_onerror; /* mg.onerror is running */
    char *hbuf;         /* output held before the head: LR_HEAD_UNDECIDED, OWN, BUFFER */
    size_t hlen, hcap;
    char *rbuf; /* request body waiting for mg.read */
    size_t rlen, rcap;
    const char *wp; /* output the coroutine waits to write */
    size_t wn;
    FILE *sf; /* mg.send_file in progress */
    char *redirect;
    int err_status;   /* mg.send_http_error, a missing mg.send_file: after the page */
    char *err_detail; /* its text, or NULL */
    char *serve_rel;  /* mg.send_file on GET/HEAD: the file's docroot path, served after */
    kite_timer_t tm;  /* mg.sleep */
    struct kite__lua_socket *wsock;
    struct kite__lua_ws_client *wsc; /* LR_WS: the client it runs for */
};

/* alloc.c: the lua_Alloc of the thread's state (@ud is its kite__lua_pt_t),
 * and letting go of the blocks it keeps, after lua_close(). */
void *kite__lua_alloc(void *ud, void *ptr, size_t osize, size_t nsize);
void kite__lua_alloc_free(kite__lua_pt_t *lp);

/* state.c */
/* The thread's state, made on first use; NULL when it cannot be made. */
kite__lua_pt_t *kite__lua_pt_get(kite__pt_t *pt);
/* The run of the C function called from @L (error when there is none). */
kite__lua_run_t *kite__lua_cur(lua_State *L);
/* A new coroutine for @r, its environment: a fresh table over _G (with
 * env._G = env and env.mg = _G.mg), or @env_ref when >= 0, or none yet
 * with KITE__LUA_ENV_LATER (then kite__lua_enter makes it). */
#define KITE__LUA_ENV_LATER (-3) /* LUA_NOREF and LUA_REFNIL are -2 and -1 */
int kite__lua_run_init(kite__lua_run_t *r, kite__lua_pt_t *lp, int env_ref);
/* Anchors for a request's values, cheaper than luaL_ref's protocol on
 * the registry: slots of one table, handed out from a C free list.
 * kite__lua_anchor pops the value (raises when out of memory). */
int kite__lua_anchor(lua_State *L, kite__lua_pt_t *lp);
void kite__lua_unanchor(kite__lua_pt_t *lp, int slot);
/* Push @r's environment (nil when it has none). */
void kite__lua_push_env(lua_State *L, const kite__lua_run_t *r);
/* The first function of a coroutine started with KITE__LUA_ENV_LATER: the
 * C function at 1 called with the run's new environment at 1 (made here,
 * where running out of memory is an error of the coroutine). */
int kite__lua_enter(lua_State *L);
void kite__lua_run_release(kite__lua_run_t *r);
/* mg.read and httpd.read: the request body read so far, at most the
 * integer at stack index 2 of it (none or 0: all); waits for more while
 * the body goes on; nil at its end. A lua_KFunction. */
int kite__lua_read_k(lua_State *L, int status, lua_KContext ctx);

/* files.c */
/* The entry of the regular file @path, checked as files.c says; NULL
 * with errno set when there is none. Valid until the next call. */
kite__lua_file_t *kite__lua_file_get(kite__lua_pt_t *lp, const char *path);
/* Push the compiled chunk of @path (a page when @lsp), compiling it on
 * first use; raises the error otherwise. The chunk takes the environment
 * as its first argument. */
int kite__lua_load(kite__lua_pt_t *lp, lua_State *L, const char *path, int lsp);
void kite__lua_files_init(kite__lua_pt_t *lp);
void kite__lua_files_free(kite__lua_pt_t *lp);
/* Resume r->co with @nargs arguments on its stack under @mount's limits:
 * the lua_resume status; LUA_YIELD with r->budget_out set when the
 * instruction budget ran out. */
int kite__lua_resume(kite__lua_run_t *r, const kite_mount_t *m, int nargs, int *nres);
/* Log a traceback of @co with @msg, one line each. */
void kite__lua_log_error(lua_State *co, const char *what, const char *msg);
/* The file of the nearest Lua function calling the running C function
 * (its chunk's "@path" source), or NULL. */
const char *kite__lua_caller_file(lua_State *L);
/* Is @path a server page (lua-server-page-pattern, else .lp/.lsp)? */
int kite__lua_is_page(const kite_mount_t *m, const char *path);

/* lsp.c: the Lua source of the server page @src[0..len) (free() it). */
char *kite__lua_lsp_translate(const char *src, size_t len, size_t *out_len);

/* mg.c: the request-independent mg functions into the table on top. */
void kite__lua_mg_pure(lua_State *L);

/* output.c: the response head and body of pages, scripts, handlers. */
/* The held output's head now: the page's own, or 200 text/html of
 * unknown length, then what was held as body. */
int kite__lua_head_now(kite__lua_run_t *r);
/* Let go of the held output buffer. */
void kite__lua_hold_free(kite__lua_run_t *r);
/* Body bytes r->wp/wn within the output cap: 0 all went, 1 the cap was
 * reached (wait for on_writeable), <0 failed. */
int kite__lua_write_some(kite__lua_run_t *r);
/* mg.write's body: write the arguments from @i to the top, waiting as
 * needed. */
int kite__lua_write_k(lua_State *L, int status, lua_KContext i);
/* Yield r->co until kite__lua_wake(); @k continues the C function. */
int kite__lua_wait(lua_State *L, kite__lua_run_t *r, int what, lua_KContext ctx, lua_KFunction k);

/* mgreq.c: the request-bound mg functions into the table on top. */
void kite__lua_mg_request(lua_State *L);
/* __index of the mg functions: what the running request set in its own
 * mg, then its request_info, document_root, auth_domain and lua_type,
 * made on first use (and kept in its own mg). */
int kite__lua_mg_index(lua_State *L);
/* __newindex of _G.mg: into the running request's own mg. */
int kite__lua_mg_newindex(lua_State *L);
/* __pairs of _G.mg and of a request's own mg: all that mg.x finds. */
int kite__lua_mg_pairs(lua_State *L);
/* request_info of @c/@t into a new table on top. */
void kite__lua_push_request_info(lua_State *L, kite_conn_t *c, kite_http_req_t *t,
                                 const char *script);
/* Coroutine bodies: a page or script (env at 1), mg.onerror (env, msg). */
int kite__lua_page_main(lua_State *L);
int kite__lua_onerror_main(lua_State *L);
/* The base mg.onerror (logs): a script's own replaces it. */
int kite__lua_mg_onerror(lua_State *L);

/* mgsend.c: mg.send_file, send_file_body, send_http_ok, send_http_error,
 * send_http_redirect into the table on top; a new mg.response table. */
void kite__lua_mg_send(lua_State *L);
void kite__lua_push_response(lua_State *L);
/* mginfo.c: get_option, get_info, split_form_data, time, uuid, ... */
void kite__lua_mg_info(lua_State *L);

/* sandbox.c: the standard libraries made safe for pages, lfs, sqlite3. */
void kite__lua_sandbox(lua_State *L);
/* require.c: require finds a module beside the calling file first. */
void kite__lua_require_open(lua_State *L);
/* sqlite.c: luaopen of the sqlite3 module. */
int kite__lua_open_sqlite3(lua_State *L);

/* page.c: kite__lua_proto (hooks.h) for pages, scripts and handlers. */
/* Resume @r after what it waited for; closes the conn on failure. */
void kite__lua_wake(kite__lua_run_t *r);
/* Start a run of @kind on the client @c: fn(env) in a new coroutine.
 * Returns nonzero to close the connection. */
int kite__lua_start(kite_conn_t *c, kite__lua_run_t *r, lua_CFunction fn, int kind);

/* sock.c: connect(host, port, use_ssl) */
int kite__lua_connect(lua_State *L);
void kite__lua_sock_open_lib(lua_State *L);
/* @r goes away: it no longer waits on its socket. */
void kite__lua_sock_forget(kite__lua_run_t *r);

/* ws.c: Lua websockets. */
extern const kite_protocol_t kite__lua_ws_proto;
void kite__lua_ws_open_lib(lua_State *L);
/* mg.write in a websocket script. */
int kite__lua_ws_write(lua_State *L);
/* A websocket run came back from lua_resume with @st. */
void kite__lua_ws_resumed(kite__lua_run_t *r, int st);
void kite__lua_ws_pt_free(kite__lua_pt_t *lp);

/* httpd.c: lhttpd handlers (lua-handler). */
/* on_http of a handler request (no file): run the handler. */
int kite__lua_httpd_start(kite_conn_t *c, kite__lua_run_t *r);
void kite__lua_httpd_open_lib(lua_State *L);

#endif
