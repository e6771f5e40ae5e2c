/* protocol-http-test: HTTP endpoints that exercise kite's callback API (see the .c). */
#ifndef KITE_PROTOCOL_HTTP_TEST_H
#define KITE_PROTOCOL_HTTP_TEST_H

#include "kite.h"

extern const kite_protocol_t kite_protocol_http_test;

#endif
