/*
 * The config's arena: everything a loaded config holds (strings, mount
 * and pvo structs the vhosts point at) comes from a few large blocks
 * freed together, so a config is released in one step when its last
 * vhost is gone.
 */
#include <stdlib.h>
#include <string.h>

#include "config/private.h"

#define BLK_SIZE (16 * 1024)

struct kite__cfg_blk {
    kite__cfg_blk_t *next;
    size_t used, cap;
    _Alignas(16) char data[];
};

void *kite__cfg_alloc(kite__cfg_t *cfg, size_t n)
{
    kite__cfg_blk_t *b = cfg->arena;
    void *p;

    n = (n + 15) & ~(size_t)15;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > BLK_SIZE ? n : BLK_SIZE;
        b = malloc(sizeof(*b) + cap);
        if (!b)
            return NULL;
        b->used = 0;
        b->cap = cap;
        b->next = cfg->arena;
        cfg->arena = b;
    }
    p = b->data + b->used;
    b->used += n;
    memset(p, 0, n);
    return p;
}

char *kite__cfg_strdup(kite__cfg_t *cfg, const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = kite__cfg_alloc(cfg, n);

    if (p)
        memcpy(p, s, n);
    return p;
}

void kite__cfg_arena_free(kite__cfg_t *cfg)
{
    kite__cfg_blk_t *b;

    while ((b = cfg->arena)) {
        cfg->arena = b->next;
        free(b);
    }
}
