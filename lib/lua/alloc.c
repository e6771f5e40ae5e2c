/*
 * The allocator of a thread's Lua state. Every byte is counted against
 * lua-max-memory; past the cap Lua gets NULL, which it raises as a "not
 * enough memory" error in the coroutine. Small blocks (tables, strings,
 * closures: most of what a request makes and the collector frees in
 * bursts) come from free lists by 16-byte class, so that a request's
 * garbage costs a push and a pop instead of a trip through malloc's slow
 * path. The lists are the thread's own (a state runs on one thread) and
 * bounded; what is over the bound goes back to malloc.
 */
#include <stdlib.h>
#include <string.h>

#include "lua/private-lua.h"
#include "misc/misc.h"

/* Blocks kept per class: at most ~1 MiB over all classes. None under
 * AddressSanitizer, which then sees every block of the state come and go. */
#define KEEP (KITE__ASAN ? 0 : 512)

static unsigned class_of(size_t n)
{
    return (unsigned)((n + 15) >> 4);
}

static void *get(kite__lua_pt_t *lp, size_t n)
{
    unsigned c;
    kite__lua_block_t *b;

    if (n > KITE__LUA_SMALL)
        return malloc(n);
    c = class_of(n);
    if ((b = lp->fl[c])) {
        lp->fl[c] = b->next;
        lp->nfl[c]--;
        return b;
    }
    return malloc((size_t)c << 4);
}

static void put(kite__lua_pt_t *lp, void *p, size_t n)
{
    unsigned c;
    kite__lua_block_t *b = p;

    if (n > KITE__LUA_SMALL || (int)lp->nfl[c = class_of(n)] >= KEEP) {
        free(p);
        return;
    }
    b->next = lp->fl[c];
    lp->fl[c] = b;
    lp->nfl[c]++;
}

void *kite__lua_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    kite__lua_pt_t *lp = ud;
    void *p;

    if (!ptr)
        osize = 0; /* then osize says what kind of object Lua makes */
    if (!nsize) {
        if (ptr)
            put(lp, ptr, osize);
        lp->mem -= osize;
        return NULL;
    }
    if (nsize > osize && lp->max_mem && lp->mem + (nsize - osize) > lp->max_mem)
        return NULL;
    if (ptr && osize > KITE__LUA_SMALL && nsize > KITE__LUA_SMALL) {
        p = realloc(ptr, nsize);
    } else if (ptr && osize <= KITE__LUA_SMALL && nsize <= KITE__LUA_SMALL &&
               class_of(osize) == class_of(nsize)) {
        p = ptr;
    } else if ((p = get(lp, nsize)) && ptr) {
        memcpy(p, ptr, osize < nsize ? osize : nsize);
        put(lp, ptr, osize);
    }
    if (!p)
        return NULL;
    lp->mem = lp->mem - osize + nsize;
    return p;
}

void kite__lua_alloc_free(kite__lua_pt_t *lp)
{
    unsigned c;
    kite__lua_block_t *b;

    for (c = 0; c <= KITE__LUA_SMALL >> 4; c++) {
        while ((b = lp->fl[c])) {
            lp->fl[c] = b->next;
            free(b);
        }
        lp->nfl[c] = 0;
    }
}
