/*
 * LibHTTP password files: "user:realm:ha1" lines, ha1 the hex MD5 of
 * "user:realm:password" (HTTP Digest, RFC 7616). A file is read when a
 * request needs it, as LibHTTP does: they are small, and a change is
 * seen at once. kite_htpasswd_set() edits one the way `libhttp -A`
 * does, replacing the file with a rename so that a reader never sees
 * half of it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "roles/http/private-http.h"
#include "tls/digest.h"

#define LINE_MAX_ 1024

void kite__md5_hex(const char *s, size_t len, char out[33])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char d[16];
    int i;

    if (kite__md5(s, len, d) < 0)
        memset(d, 0, sizeof(d));
    for (i = 0; i < 16; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[32] = '\0';
}

/* Does @line (no newline) start with "user:realm:"? Then its ha1 part. */
static const char *match_line(const char *line, const char *user, const char *realm)
{
    size_t ul = strlen(user), rl = strlen(realm);

    if (strncmp(line, user, ul) || line[ul] != ':' || strncmp(line + ul + 1, realm, rl) ||
        line[ul + 1 + rl] != ':')
        return NULL;
    return line + ul + rl + 2;
}

int kite__htpasswd_ha1(const char *file, const char *user, const char *realm, char ha1[33])
{
    char line[LINE_MAX_];
    const char *h;
    FILE *f = fopen(file, "re");
    int r = KITE_EPERM;

    if (!f)
        return errno == ENOENT ? KITE_ENOENT : KITE_EACCES;
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if ((h = match_line(line, user, realm)) && strlen(h) == 32) {
            memcpy(ha1, h, 33);
            r = 0;
            break;
        }
    }
    fclose(f);
    return r;
}

int kite_htpasswd_set(const char *file, const char *realm, const char *user, const char *password)
{
    char line[LINE_MAX_], tmp[4096], ha1[33];
    FILE *in, *out;
    struct stat st;
    int fd, done = 0, r = 0;
    size_t n;

    if (!file || !realm || !user || !*user || strpbrk(user, ":\r\n") || strpbrk(realm, ":\r\n") ||
        strlen(user) + strlen(realm) + 40 >= sizeof(line))
        return KITE_EINVAL;
    if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", file) >= (int)sizeof(tmp))
        return KITE_ENAMETOOLONG;
    if ((fd = mkstemp(tmp)) < 0)
        return errno == EACCES ? KITE_EACCES : KITE_EIO;
    if (!(out = fdopen(fd, "w"))) {
        close(fd);
        unlink(tmp);
        return KITE_ENOMEM;
    }
    if (password) {
        n = (size_t)snprintf(line, sizeof(line), "%s:%s:%s", user, realm, password);
        kite__md5_hex(line, n < sizeof(line) ? n : sizeof(line) - 1, ha1);
    }
    /* mkstemp() made it 0600: keep the mode of the file it replaces. */
    if (stat(file, &st) == 0)
        fchmod(fd, st.st_mode & 07777);
    else
        fchmod(fd, 0644);
    if ((in = fopen(file, "re"))) {
        while (fgets(line, sizeof(line), in)) {
            char *nl = line + strcspn(line, "\r\n");
            *nl = '\0';
            if (match_line(line, user, realm)) {
                if (password && !done)
                    fprintf(out, "%s:%s:%s\n", user, realm, ha1);
                done = 1;
                continue;
            }
            fprintf(out, "%s\n", line);
        }
        fclose(in);
    } else if (errno != ENOENT) {
        r = KITE_EACCES;
    }
    if (password && !done)
        fprintf(out, "%s:%s:%s\n", user, realm, ha1);
    if (fflush(out) || fsync(fileno(out)))
        r = KITE_EIO;
    if (fclose(out))
        r = KITE_EIO;
    if (!r && rename(tmp, file) < 0)
        r = KITE_EIO;
    if (r)
        unlink(tmp);
    return r;
}
