/*
 * The lwsws basic-auth file: "user:password" lines (plain text, as lwsws
 * has them) with kite's optional third field ":mask" (hex with 0x, or
 * decimal) for auth-mask. Each service thread holds a reference to a
 * parsed, immutable table; at most once a second, on a request to the
 * mount, it stat()s the file and parses it again when its mtime, size or
 * inode changed, so no thread waits for another and no lock is taken.
 * Passwords are compared in constant time, and an unknown user costs
 * the same comparison as a known one.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "misc/misc.h"
#include "roles/http/private-http.h"
#include "tls/digest.h"

#define CRED_MAX 512 /* decoded "user:password" */

struct user {
    const char *name, *pass;
    size_t plen;
    unsigned mask;
};

struct table {
    atomic_uint refs;
    struct stat st; /* the file this was read from */
    struct user *users;
    size_t n;
    char *text; /* the file, split in place */
};

struct slot {
    struct table *t;
    uint64_t checked_ms;
};

struct kite__auth {
    char *path;
    int npts;
    struct slot slots[];
};

static void table_unref(struct table *t)
{
    if (t && atomic_fetch_sub(&t->refs, 1) == 1) {
        free(t->users);
        free(t->text);
        free(t);
    }
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct user *)a)->name, ((const struct user *)b)->name);
}

/* "0x1f" or "31"; -1 when @s is not a number. */
static long parse_mask(const char *s)
{
    char *e;
    unsigned long v;

    if (!*s || *s == '-' || *s == '+' || *s == ' ')
        return -1;
    v = strtoul(s, &e, (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) ? 16 : 10);
    return *e || v > 0xffffffffu ? -1 : (long)v;
}

/* Split one line in place into @u; 0, or -1 to skip it. */
static int parse_line(char *line, struct user *u)
{
    char *pass = strchr(line, ':'), *m;
    long mask;

    if (!pass || pass == line)
        return -1;
    *pass++ = '\0';
    u->mask = 0;
    /* A last ":<number>" is the mask; a password cannot end that way. */
    if ((m = strrchr(pass, ':')) && (mask = parse_mask(m + 1)) >= 0) {
        *m = '\0';
        u->mask = (unsigned)mask;
    }
    u->name = line;
    u->pass = pass;
    u->plen = strlen(pass);
    return 0;
}

static struct table *table_load(const char *path, int *err)
{
    struct table *t = calloc(1, sizeof(*t));
    FILE *f = fopen(path, "re");
    char *line, *next;
    size_t cap = 0;
    long size;

    *err = KITE_ENOMEM;
    if (!f) {
        *err = KITE_ENOENT;
        goto fail;
    }
    if (!t || fstat(fileno(f), &t->st) || fseek(f, 0, SEEK_END) || (size = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET))
        goto fail;
    if (!(t->text = malloc((size_t)size + 1)) ||
        fread(t->text, 1, (size_t)size, f) != (size_t)size) {
        *err = KITE_EIO;
        goto fail;
    }
    t->text[size] = '\0';
    for (line = t->text; line; line = next) {
        size_t n = strcspn(line, "\r\n");
        next = line[n] ? line + n + 1 : NULL;
        line[n] = '\0';
        if (!*line || *line == '#')
            continue;
        if (t->n == cap) {
            struct user *u = realloc(t->users, (cap = cap ? cap * 2 : 16) * sizeof(*u));
            if (!u)
                goto fail;
            t->users = u;
        }
        if (parse_line(line, &t->users[t->n]) == 0)
            t->n++;
    }
    fclose(f);
    qsort(t->users, t->n, sizeof(*t->users), by_name);
    atomic_init(&t->refs, 1);
    return t;
fail:
    if (f)
        fclose(f);
    if (t) {
        free(t->users);
        free(t->text);
        free(t);
    }
    return NULL;
}

struct kite__auth *kite__auth_load(const char *path, int npts, int *err)
{
    struct kite__auth *a = calloc(1, sizeof(*a) + (size_t)npts * sizeof(a->slots[0]));
    struct table *t = NULL;
    int i;

    *err = KITE_ENOMEM;
    if (!a || !(a->path = strdup(path)) || !(t = table_load(path, err))) {
        if (a)
            free(a->path);
        free(a);
        return NULL;
    }
    a->npts = npts;
    atomic_store(&t->refs, (unsigned)npts);
    for (i = 0; i < npts; i++)
        a->slots[i].t = t;
    return a;
}

void kite__auth_free(struct kite__auth *a)
{
    int i;

    if (!a)
        return;
    for (i = 0; i < a->npts; i++)
        table_unref(a->slots[i].t);
    free(a->path);
    free(a);
}

static int same_file(const struct stat *a, const struct stat *b)
{
    return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* This thread's table, read again when the file changed (checked once a second). */
static struct table *current(struct kite__auth *a, kite__pt_t *pt)
{
    struct slot *s = &a->slots[pt->tsi];
    uint64_t now = kite__pt_now(pt);
    struct stat st;
    struct table *t;
    int err;

    if (now - s->checked_ms < 1000 && s->checked_ms)
        return s->t;
    s->checked_ms = now;
    if (stat(a->path, &st) || same_file(&st, &s->t->st))
        return s->t; /* a vanished file keeps the users last read */
    if (!(t = table_load(a->path, &err))) {
        kite_warn("basic-auth %s: cannot read it again: %s", a->path, kite_strerror(err));
        return s->t;
    }
    table_unref(s->t);
    s->t = t;
    return t;
}

/* Equal in time that depends only on @b's length. */
static int ct_equal(const char *a, size_t alen, const char *b, size_t blen)
{
    unsigned char d = alen != blen;
    size_t i;

    for (i = 0; i < blen; i++)
        d |= (unsigned char)(b[i] ^ (alen ? a[i % alen] : 0));
    return !d;
}

int kite__auth_check(struct kite__auth *a, kite__pt_t *pt, const char *authz, char *user,
                     size_t ucap, unsigned *mask)
{
    static const char dummy[] = "kite-no-such-user-password";
    struct table *t = current(a, pt);
    char cred[CRED_MAX + 1], *pass;
    struct user key, *u;
    int n;

    if (!authz || kite__strncasecmp(authz, "basic ", 6))
        return KITE_EPERM;
    for (authz += 6; *authz == ' '; authz++)
        ;
    n = kite__base64_decode(authz, strlen(authz), cred, CRED_MAX);
    if (n < 0)
        return KITE_EPERM;
    cred[n] = '\0';
    if (!(pass = memchr(cred, ':', (size_t)n)))
        return KITE_EPERM;
    *pass++ = '\0';
    key.name = cred;
    u = t->n ? bsearch(&key, t->users, t->n, sizeof(*u), by_name) : NULL;
    if (!u) {
        /* The same work as for a wrong password: no timing tells which users exist. */
        volatile int sink = ct_equal(pass, strlen(pass), dummy, sizeof(dummy) - 1);
        (void)sink;
        return KITE_EPERM;
    }
    if (!ct_equal(pass, strlen(pass), u->pass, u->plen) || strlen(cred) >= ucap)
        return KITE_EPERM;
    memcpy(user, cred, strlen(cred) + 1);
    *mask = u->mask;
    return 0;
}
