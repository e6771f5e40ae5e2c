/* Incremental UTF-8 validation (see utf8.c). */
#ifndef KITE_UTF8_H
#define KITE_UTF8_H

#include <stddef.h>
#include <stdint.h>

#define KITE__UTF8_ACCEPT 0u
#define KITE__UTF8_REJECT 0xffffffffu

/* Feed @len bytes; returns the new state (REJECT once invalid). */
uint32_t kite__utf8_check(uint32_t state, const unsigned char *p, size_t len);

#endif
