/*
 * LibHTTP glob patterns, as used by cgi_pattern, ssi_pattern and friends:
 * "**" matches anything, "*" anything but '/', "?" one character but '/',
 * "$" anchors at the end of the string and "|" separates alternatives;
 * everything else matches itself, ignoring ASCII case. Without "$" a
 * pattern matches a prefix, and the length matched is what LibHTTP's
 * recursive, greedy match_prefix() would return. Instead of recursing
 * (exponential on "**a**a**a$" against a long string) each alternative
 * runs as a Pike VM: a priority-ordered list of pattern positions
 * advanced over the string once, in O(pattern * string) time and a fixed
 * amount of stack.
 */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "misc/misc.h"

/* Longest alternative we run; it bounds the thread lists on the stack. */
#define ALT_MAX 512

/* A thread list entry that stands for "the pattern has matched here". */
#define ACCEPT UINT16_MAX

struct thread_list {
    uint16_t pc[ALT_MAX + 1];
    size_t n;
    uint8_t seen[ALT_MAX / 8 + 1];
};

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static void list_clear(struct thread_list *l)
{
    l->n = 0;
    memset(l->seen, 0, sizeof(l->seen));
}

/*
 * Adds the thread at @pc for string position @pos, following the empty
 * transitions: a star first keeps itself (consuming more is preferred,
 * which makes it greedy) and then also tries what follows it. A position
 * already in the list was added by a thread of higher priority, and the
 * same state at the same place cannot do better, so it is dropped.
 */
static void add_thread(struct thread_list *l, const char *pat, size_t alen, size_t pc, size_t pos,
                       size_t slen)
{
    for (;;) {
        if (l->seen[pc / 8] & (1u << (pc % 8)))
            return;
        l->seen[pc / 8] |= (uint8_t)(1u << (pc % 8));

        if (pc == alen) {
            l->pc[l->n++] = ACCEPT;
            return;
        }
        if (pat[pc] == '$') {
            /* As in LibHTTP, whatever follows a '$' in the alternative is ignored. */
            if (pos == slen)
                l->pc[l->n++] = ACCEPT;
            return;
        }
        l->pc[l->n++] = (uint16_t)pc;
        if (pat[pc] != '*')
            return;
        pc += (pc + 1 < alen && pat[pc + 1] == '*') ? 2 : 1;
    }
}

/* Whether the thread at @pc may consume @c, and if so the position it moves to. */
static int step(const char *pat, size_t alen, size_t pc, char c, size_t *next)
{
    if (pat[pc] == '*') {
        int any = pc + 1 < alen && pat[pc + 1] == '*';

        *next = pc;
        return any || c != '/';
    }
    *next = pc + 1;
    if (pat[pc] == '?')
        return c != '/';
    return lower(pat[pc]) == lower(c);
}

/*
 * One alternative against @str. Threads are kept in the order the
 * backtracking matcher would try them, so when a thread reaches the end
 * of the pattern the lower-priority ones behind it are cut; the last
 * match recorded then is the one backtracking would have returned first.
 */
static int match_alternative(const char *pat, size_t alen, const char *str, size_t slen)
{
    struct thread_list lists[2], *cur = &lists[0], *nxt = &lists[1], *tmp;
    int match = -1;
    size_t pos, i;

    if (alen > ALT_MAX)
        return -1;
    list_clear(cur);
    add_thread(cur, pat, alen, 0, 0, slen);
    for (pos = 0; cur->n; pos++) {
        list_clear(nxt);
        for (i = 0; i < cur->n; i++) {
            size_t next;

            if (cur->pc[i] == ACCEPT) {
                match = (int)pos;
                break;
            }
            if (pos < slen && step(pat, alen, cur->pc[i], str[pos], &next))
                add_thread(nxt, pat, alen, next, pos + 1, slen);
        }
        if (pos == slen)
            break;
        tmp = cur;
        cur = nxt;
        nxt = tmp;
    }
    return match;
}

/*
 * The common shape "**<literal>$" (a suffix such as "**.lp$"): the whole
 * string or nothing. Returns -2 when @pat is not of that shape.
 */
static int match_suffix(const char *pat, size_t alen, const char *str, size_t slen)
{
    size_t i, n;

    if (alen < 3 || pat[0] != '*' || pat[1] != '*' || pat[alen - 1] != '$')
        return -2;
    pat += 2;
    n = alen - 3;
    for (i = 0; i < n; i++)
        if (pat[i] == '*' || pat[i] == '?' || pat[i] == '$')
            return -2;
    if (n > slen)
        return -1;
    str += slen - n;
    for (i = 0; i < n; i++)
        if (lower(pat[i]) != lower(str[i]))
            return -1;
    return (int)slen;
}

/*
 * Alternatives are tried left to right and the first that matches wins,
 * even with a length of 0. (LibHTTP moves on past a zero-length match;
 * that only differs for an empty alternative such as "|x", where ours
 * matches the empty prefix as written.)
 */
int kite__pattern_match(const char *pat, size_t plen, const char *str, size_t slen)
{
    const char *end = pat + plen;

    if (slen > INT_MAX)
        return -1;
    for (;;) {
        const char *bar = pat < end ? memchr(pat, '|', (size_t)(end - pat)) : NULL;
        size_t alen = (size_t)((bar ? bar : end) - pat);
        int res = match_suffix(pat, alen, str, slen);

        if (res == -2)
            res = match_alternative(pat, alen, str, slen);

        if (res >= 0 || !bar)
            return res;
        pat = bar + 1;
    }
}
