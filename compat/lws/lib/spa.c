/*
 * lws_spa: the parameters of a form post, urlencoded or multipart, by the
 * names the application lists. The body is collected (up to 16 MiB; the
 * parameters' storage up to max_storage) and parsed at lws_spa_finalize(),
 * where file parts go to the upload callback: LWS_UFS_OPEN, then the
 * content in pieces, the last one as LWS_UFS_FINAL_CONTENT.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "private.h"

#define SPA_MAX_BODY (16u << 20)

struct lws_spa {
    lws_spa_create_info_t i;
    char boundary[128]; /* "--" + the boundary; empty: urlencoded */
    char *body;
    size_t len, cap;
    char **values;
    int *lengths;
    size_t stored;
};

static const char *param_name(struct lws_spa *s, int n)
{
    if (s->i.param_names_stride)
        return *(const char *const *)((const char *)s->i.param_names +
                                      (size_t)n * s->i.param_names_stride);
    return s->i.param_names[n];
}

struct lws_spa *lws_spa_create_via_info(struct lws *w, const lws_spa_create_info_t *info)
{
    struct lws_spa *s = calloc(1, sizeof(*s));
    char ct[256];
    const char *b;

    if (!s)
        return NULL;
    s->i = *info;
    s->values = calloc((size_t)info->count_params + 1, sizeof(*s->values));
    s->lengths = calloc((size_t)info->count_params + 1, sizeof(*s->lengths));
    if (!s->values || !s->lengths) {
        lws_spa_destroy(s);
        return NULL;
    }
    if (lws_hdr_copy(w, ct, sizeof(ct), WSI_TOKEN_HTTP_CONTENT_TYPE) > 0 &&
        !strncasecmp(ct, "multipart/form-data", 19) && (b = strstr(ct, "boundary="))) {
        size_t l = strcspn(b + 9, "; \t\"");
        if (b[9] == '"')
            l = strcspn(b + 10, "\""), b++;
        if (l + 3 > sizeof(s->boundary)) {
            lws_spa_destroy(s);
            return NULL;
        }
        memcpy(s->boundary, "--", 2);
        memcpy(s->boundary + 2, b + 9, l);
    }
    return s;
}

struct lws_spa *lws_spa_create(struct lws *w, const char *const *param_names, int count_params,
                               int max_storage, lws_spa_fileupload_cb opt_cb, void *opt_data)
{
    lws_spa_create_info_t i = {0};

    i.param_names = param_names;
    i.count_params = count_params;
    i.max_storage = max_storage;
    i.opt_cb = opt_cb;
    i.opt_data = opt_data;
    return lws_spa_create_via_info(w, &i);
}

int lws_spa_process(struct lws_spa *s, const char *in, int len)
{
    if (len < 0 || s->len + (size_t)len > SPA_MAX_BODY)
        return -1;
    if (s->len + (size_t)len + 1 > s->cap) {
        size_t cap = (s->len + (size_t)len + 1) * 2;
        char *n = realloc(s->body, cap);
        if (!n)
            return -1;
        s->body = n;
        s->cap = cap;
    }
    memcpy(s->body + s->len, in, (size_t)len);
    s->len += (size_t)len;
    s->body[s->len] = '\0';
    return 0;
}

static void store(struct lws_spa *s, const char *name, size_t nl, const char *v, size_t vl)
{
    int n;

    for (n = 0; n < s->i.count_params; n++) {
        const char *pn = param_name(s, n);
        if (strlen(pn) != nl || strncmp(pn, name, nl) || s->values[n])
            continue;
        if (s->stored + vl + 1 > (size_t)s->i.max_storage)
            return;
        if (!(s->values[n] = malloc(vl + 1)))
            return;
        memcpy(s->values[n], v, vl);
        s->values[n][vl] = '\0';
        s->lengths[n] = (int)vl;
        s->stored += vl + 1;
        return;
    }
}

static void urlencoded(struct lws_spa *s)
{
    char *p = s->body, *amp, *eq, *q;

    while (p && *p) {
        amp = strchr(p, '&');
        if (amp)
            *amp = '\0';
        for (q = p; *q; q++)
            if (*q == '+')
                *q = ' ';
        eq = strchr(p, '=');
        if (eq) {
            int vl = lws_urldecode(eq + 1, eq + 1, (int)strlen(eq + 1) + 1);
            int nl = lws_urldecode(p, p, (int)(eq - p) + 1);
            if (vl >= 0 && nl >= 0)
                store(s, p, (size_t)nl, eq + 1, (size_t)vl);
        }
        p = amp ? amp + 1 : NULL;
    }
}

static const char *find(const char *h, size_t hl, const char *n, size_t nl)
{
    return nl <= hl ? memmem(h, hl, n, nl) : NULL;
}

/* A Content-Disposition parameter (name="x") from the part's head. */
static int disp(const char *head, size_t hl, const char *key, char *out, size_t olen)
{
    const char *p = find(head, hl, key, strlen(key)), *e;

    if (!p)
        return 0;
    p += strlen(key);
    e = memchr(p, '"', hl - (size_t)(p - head));
    if (!e || (size_t)(e - p) >= olen)
        return 0;
    memcpy(out, p, (size_t)(e - p));
    out[e - p] = '\0';
    return 1;
}

static int multipart(struct lws_spa *s)
{
    size_t bl = strlen(s->boundary);
    const char *p = find(s->body, s->len, s->boundary, bl), *end = s->body + s->len;

    while (p && (size_t)(end - p) > bl + 2 && strncmp(p + bl, "--", 2)) {
        const char *head = p + bl + 2, *he = find(head, (size_t)(end - head), "\r\n\r\n", 4);
        const char *data, *next;
        char name[128], file[256];
        size_t dl;

        if (!he)
            return -1;
        data = he + 4;
        next = find(data, (size_t)(end - data), s->boundary, bl);
        if (!next || next - data < 2)
            return -1;
        dl = (size_t)(next - data) - 2; /* the CRLF before the boundary */
        if (!disp(head, (size_t)(he - head), "name=\"", name, sizeof(name)))
            name[0] = '\0';
        if (disp(head, (size_t)(he - head), "filename=\"", file, sizeof(file)) && s->i.opt_cb) {
            size_t off = 0;
            if (s->i.opt_cb(s->i.opt_data, name, file, NULL, 0, LWS_UFS_OPEN))
                return -1;
            do {
                size_t n = dl - off > 4096 ? 4096 : dl - off;
                if (s->i.opt_cb(s->i.opt_data, name, file, (char *)data + off, (int)n,
                                off + n == dl ? LWS_UFS_FINAL_CONTENT : LWS_UFS_CONTENT))
                    return -1;
                off += n;
            } while (off < dl);
        } else
            store(s, name, strlen(name), data, dl);
        p = next;
    }
    return 0;
}

int lws_spa_finalize(struct lws_spa *s)
{
    if (!s->body)
        return 0;
    if (s->boundary[0])
        return multipart(s);
    urlencoded(s);
    return 0;
}

int lws_spa_get_length(struct lws_spa *s, int n)
{
    return n >= 0 && n < s->i.count_params ? s->lengths[n] : 0;
}

const char *lws_spa_get_string(struct lws_spa *s, int n)
{
    return n >= 0 && n < s->i.count_params ? s->values[n] : NULL;
}

int lws_spa_destroy(struct lws_spa *s)
{
    int n;

    if (!s)
        return 0;
    for (n = 0; s->values && n < s->i.count_params; n++)
        free(s->values[n]);
    free(s->values);
    free(s->lengths);
    free(s->body);
    free(s);
    return 0;
}
