/*
 * kite: an HTTP/1.1 + WebSocket server library on libuv.
 *
 * This is the one public header; it pulls in every header in include/kite/.
 * Everything declared here is part of the ABI. Structs the caller
 * allocates and hands to kite start with `size_t struct_size`, set by
 * their KITE_*_INIT(...) macro, and only ever grow at the end: kite reads
 * only what struct_size covers and defaults the rest (a struct_size of 0
 * is refused with KITE_EABI). Binaries built against kite 0.1 headers,
 * whose structs had no struct_size, keep working: the functions taking
 * such structs have new symbols (KITE_SIZED_ENTRY), the 0.1 ones remain.
 */
#ifndef KITE_H
#define KITE_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define KITE_EXTERN __attribute__((visibility("default")))
/* The symbol of a function that takes sized structs (see above). */
#define KITE_SIZED_ENTRY(sym) __asm__(sym)
#else
#error "kite.h needs GCC or clang: the sized-struct entry points are asm labels"
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kite_context_s kite_context_t;
typedef struct kite_vhost_s kite_vhost_t;
typedef struct kite_conn_s kite_conn_t;
typedef struct kite_http_req_s kite_http_req_t;

#include "kite/version.h"
#include "kite/errors.h"
#include "kite/log.h"
#include "kite/protocol.h"
#include "kite/context.h"
#include "kite/vhost.h"
#include "kite/conn.h"
#include "kite/timer.h"
#include "kite/http.h"
#include "kite/ws.h"
#include "kite/plugin.h"
#include "kite/extpoll.h"
#include "kite/raw.h"
#include "kite/config.h"
#include "kite/tls.h"
#include "kite/client.h"

#ifdef __cplusplus
}
#endif

#endif
