/*
 * libkite-lws: the lws 4.1 application and plugin API on top of libkite.
 *
 * This header stands in for lws's <libwebsockets.h> so that code written
 * for lws 4.1 builds unchanged against kite (READMEs/README.lws-compat.md).
 * It is kite's own description of that API: the names, the struct member
 * orders that positional initialisers depend on, and the behaviour, over
 * kite's public API only. What has no kite meaning is declared with an
 * error attribute, so a call to it fails the build naming the call.
 */
#ifndef KITE_LWS_LIBWEBSOCKETS_H
#define KITE_LWS_LIBWEBSOCKETS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <pthread.h>
#include <unistd.h>

#include <kite.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "libwebsockets/kite-lws-base.h"
#include "libwebsockets/kite-lws-callbacks.h"
#include "libwebsockets/kite-lws-context.h"
#include "libwebsockets/kite-lws-conn.h"
#include "libwebsockets/kite-lws-http.h"
#include "libwebsockets/kite-lws-unsupported.h"

#ifdef __cplusplus
}
#endif

#endif
