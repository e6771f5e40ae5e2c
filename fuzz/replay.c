/*
 * Runs LLVMFuzzerTestOneInput() over saved inputs without libFuzzer, so
 * that any compiler (gcc included) can replay a corpus or a crash file as
 * a regression test. Arguments are files or directories; directories are
 * read one level deep, entries starting with '.' skipped.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0, n;
    int rc = -1;

    if (!f) {
        perror(path);
        return -1;
    }
    for (;;) {
        if (len == cap) {
            uint8_t *nb = realloc(buf, cap = cap ? cap * 2 : 4096);

            if (!nb)
                goto cleanup;
            buf = nb;
        }
        n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    if (ferror(f)) {
        perror(path);
        goto cleanup;
    }
    /* An exact-size copy, as libFuzzer passes it, so over-reads are caught. */
    {
        uint8_t *exact = malloc(len ? len : 1);

        if (!exact)
            goto cleanup;
        memcpy(exact, buf, len);
        LLVMFuzzerTestOneInput(exact, len);
        free(exact);
    }
    rc = 0;
cleanup:
    free(buf);
    fclose(f);
    return rc;
}

int main(int argc, char **argv)
{
    int i, count = 0, failed = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: %s file-or-dir...\n", argv[0]);
        return 2;
    }
    for (i = 1; i < argc; i++) {
        struct stat sb;
        DIR *d;
        struct dirent *e;

        if (stat(argv[i], &sb) < 0) {
            perror(argv[i]);
            failed++;
            continue;
        }
        if (!S_ISDIR(sb.st_mode)) {
            failed += replay_file(argv[i]) < 0;
            count++;
            continue;
        }
        if (!(d = opendir(argv[i]))) {
            perror(argv[i]);
            failed++;
            continue;
        }
        while ((e = readdir(d)) != NULL) {
            char path[4096];

            if (e->d_name[0] == '.')
                continue;
            snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
            if (stat(path, &sb) < 0 || !S_ISREG(sb.st_mode))
                continue;
            failed += replay_file(path) < 0;
            count++;
        }
        closedir(d);
    }
    printf("replayed %d inputs, %d unreadable\n", count, failed);
    return failed || count == 0 ? 1 : 0;
}
