/*
 * Digest nonce-count tracking (lib/roles/http/digest.c count_nonce): a
 * count not above the last one seen for a nonce is a replay; the table
 * stays at SEEN_MAX entries, an expired nonce's entry is reused, and when
 * the table is full the oldest entry is dropped and every nonce as old is
 * treated as expired from then on, so a dropped nonce is never accepted
 * again. Service threads share the table: four threads count at once
 * (run under TSan in the threads suite).
 */
#include "roles/http/digest.c"

#include "tap.h"

#define THREADS 4
#define CALLS   2000

static struct kite__dauth *shared_d;
static uint32_t shared_now;

/* Each thread: its own nonces (all must pass) and one nonce of all four,
 * whose counts may arrive out of order (some refused, none twice). */
static void *counter(void *arg)
{
    static unsigned next_nc;
    long id = (long)arg, bad = 0;
    char own[NONCE_LEN + 1];
    int i;

    for (i = 0; i < CALLS; i++) {
        snprintf(own, sizeof(own), "%0*ld", NONCE_LEN, 100000 * (id + 1) + i % 100);
        bad += count_nonce(shared_d, own, shared_now, (uint32_t)(i / 100 + 1)) != 1;
        count_nonce(shared_d, "shared-nonce-shared-nonce-shared-nonce-shared-n", shared_now,
                    __atomic_add_fetch(&next_nc, 1, __ATOMIC_RELAXED));
    }
    return (void *)bad;
}

static const char *nonce_of(int i)
{
    static char buf[NONCE_LEN + 1];

    snprintf(buf, sizeof(buf), "%0*d", NONCE_LEN, i);
    return buf;
}

int main(void)
{
    struct kite__dauth *d = calloc(1, sizeof(*d));
    uint32_t now = (uint32_t)time(NULL);
    int i, bad = 0;

    pthread_mutex_init(&d->lock, NULL);
    d->nonce_secs = 300;
    tap_is_int(count_nonce(d, nonce_of(1), now, 1), 1, "a new nonce, nc 1: accepted");
    tap_is_int(count_nonce(d, nonce_of(1), now, 1), -1, "nc 1 again: a replay");
    tap_is_int(count_nonce(d, nonce_of(1), now, 5), 1, "nc 5: accepted");
    tap_is_int(count_nonce(d, nonce_of(1), now, 3), -1, "nc 3 after 5: refused");
    tap_is_int(count_nonce(d, nonce_of(2), now, 1), 1, "another nonce counts on its own");

    /* Expired entries are reused: the floor does not move. */
    memset(d->seen, 0, sizeof(d->seen));
    for (i = 0; i < SEEN_MAX; i++)
        count_nonce(d, nonce_of(100 + i), now - 400, 1);
    tap_is_int(count_nonce(d, nonce_of(9), now - 5, 1), 1,
               "a full table of expired nonces takes a new one");
    tap_is_int((int)d->floor, 0, "... without dropping a live one");

    /* A full table of live nonces: the oldest goes, and nonces as old with it. */
    memset(d->seen, 0, sizeof(d->seen));
    for (i = 0; i < SEEN_MAX; i++)
        bad |= count_nonce(d, nonce_of(1000 + i), now - 200 + (uint32_t)i / 8, 1) != 1;
    tap_ok(!bad, "%d live nonces fill the table", SEEN_MAX);
    tap_is_int(count_nonce(d, nonce_of(5000), now, 1), 1, "one more is taken");
    tap_is_int((int)(now - d->floor), 200, "the oldest's issue time is the new floor");
    tap_is_int(count_nonce(d, nonce_of(1000), now - 200, 2), 0,
               "the dropped nonce is now stale, not a new nonce");
    tap_is_int(count_nonce(d, nonce_of(6000), now - 200, 1), 0,
               "an unknown nonce as old is stale too");
    tap_is_int(count_nonce(d, nonce_of(1001), now - 200, 2), 1,
               "a nonce of the same second still in the table goes on counting");
    tap_is_int(count_nonce(d, nonce_of(1100), now - 188, 1), -1,
               "a replay in the full table is still refused");

    pthread_t th[THREADS];
    void *res;
    long fails = 0;

    memset(d->seen, 0, sizeof(d->seen));
    d->floor = 0;
    shared_d = d;
    shared_now = now;
    for (i = 0; i < THREADS; i++)
        pthread_create(&th[i], NULL, counter, (void *)(long)i);
    for (i = 0; i < THREADS; i++) {
        pthread_join(th[i], &res);
        fails += (long)res;
    }
    tap_is_int((int)fails, 0,
               "%d threads counting at once: every new count of their own "
               "nonces accepted",
               THREADS);
    pthread_mutex_destroy(&d->lock);
    free(d);
    return tap_done();
}
