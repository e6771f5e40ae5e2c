/*
 * libFuzzer target for the config loader: comment blanking, jansson,
 * the line scan, every directive's value parsing and the resolve step,
 * on one file held in memory. Beyond "does not crash or leak" it checks
 * that every message names the file and a line that exists in it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

static const kite_protocol_t proto_a = {.abi = KITE_PROTOCOL_ABI,
                                        .name = "dumb-increment-protocol"};
static const kite_protocol_t proto_b = {.abi = KITE_PROTOCOL_ABI, .name = "lws-mirror-protocol"};
static const kite_protocol_t *const protos[] = {&proto_a, &proto_b, NULL};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char errs[64 * 1024];
    kite_config_opts_t o =
        KITE_CONFIG_OPTS_INIT(.protocols = protos, .errbuf = errs, .errlen = sizeof(errs));
    kite__cfg_t *cfg;
    const char *l;
    long lines = 1;
    size_t i;

    kite_set_log_level(0, NULL);
    for (i = 0; i < size; i++)
        lines += data[i] == '\n';
    cfg = kite__cfg_new(&o);
    CHECK(cfg);
    if (kite__cfg_load_text(cfg, "fuzz.conf", (const char *)data, size) < 0)
        CHECK(errs[0]);
    for (l = errs; *l; l = strchr(l, '\n') + 1) {
        /* warnings and notices say so first */
        if (!strncmp(l, "warning: ", 9) || !strncmp(l, "notice: ", 8))
            l = strchr(l, ' ') + 1;
        CHECK(!strncmp(l, "fuzz.conf", 9));
        if (l[9] == ':' && l[10] >= '0' && l[10] <= '9') {
            long n = strtol(l + 10, NULL, 10);
            CHECK(n >= 1 && n <= lines);
        }
        CHECK(strchr(l, '\n'));
    }
    kite_config_put(cfg);
    return 0;
}
