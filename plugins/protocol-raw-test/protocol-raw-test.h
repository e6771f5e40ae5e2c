/* protocol-raw-test: the "raw-test" raw protocol (see the .c). */
#ifndef KITE_PROTOCOL_RAW_TEST_H
#define KITE_PROTOCOL_RAW_TEST_H

#include "kite.h"

extern const kite_protocol_t kite_protocol_raw_test;

/**
 * kite_raw_test_mark_fifo() - tell raw-test that @c (just returned by
 * kite_adopt_fd() for this protocol) reads a FIFO: its bytes are printed
 * to stdout instead of echoed. Call it before the loop runs again.
 */
void kite_raw_test_mark_fifo(kite_conn_t *c);

#endif
