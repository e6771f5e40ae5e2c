/*
 * struct_size, as an application built against these headers meets it:
 * a struct without its KITE_*_INIT is refused with KITE_EABI; a struct
 * from older headers (a shorter struct_size, allocated on the heap with
 * exactly that size so that ASan sees any read past it) works, with the
 * members it lacks defaulted; one from newer headers works when the
 * members this kite does not know are zero and is refused otherwise.
 * Also the version: kite_version() is meson's version and the macros'.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kite.h"
#include "tap.h"

static int on_http(kite_conn_t *c, void *user, const kite_http_req_t *req)
{
    (void)c;
    (void)user;
    (void)req;
    return 1;
}

static const kite_protocol_t proto = {
    .abi = KITE_PROTOCOL_ABI, .name = "sizes", .on_http = on_http};
static const kite_protocol_t *const protos[] = {&proto, NULL};

/* A heap struct of @n bytes holding the first @n bytes of @full, with
 * struct_size @n. */
static void *sized(const void *full, size_t n)
{
    unsigned char *p = calloc(1, n);

    if (p) {
        memcpy(p, full, n);
        memcpy(p, &n, sizeof(n));
    }
    return p;
}

static void versions(void)
{
    int n = -1;
    char want[32];

    tap_is_str(kite_version(&n), KITE_VERSION_STRING, "kite_version() is the headers' version");
    tap_is_int(n, KITE_VERSION_NUMBER, "and its number");
    snprintf(want, sizeof(want), "%d.%d.%d", KITE_VERSION_MAJOR, KITE_VERSION_MINOR,
             KITE_VERSION_PATCH);
    tap_is_str(KITE_VERSION_STRING, want, "KITE_VERSION_STRING is MAJOR.MINOR.PATCH");
    tap_is_str(kite_version(NULL), MESON_VERSION, "and meson's project version");
}

static void zero_size(kite_context_t *ctx)
{
    kite_context_info_t ci = {0};
    kite_vhost_info_t vi = KITE_VHOST_INFO_INIT(.options = KITE_VH_NO_LISTEN, .protocols = protos);
    kite_mount_t m = {.mountpoint = "/", .origin = "callback://sizes"};
    kite_client_info_t cl = {.address = "127.0.0.1", .port = 1};
    int err = 0;

    tap_ok(!kite_context_create(&ci, &err) && err == KITE_EABI,
           "kite_context_info_t without struct_size: KITE_EABI (%s)", kite_err_name(err));
    vi.struct_size = 0;
    err = 0;
    tap_ok(!kite_vhost_create(ctx, &vi, &err) && err == KITE_EABI,
           "kite_vhost_info_t without struct_size: KITE_EABI (%s)", kite_err_name(err));
    vi.struct_size = sizeof(vi);
    vi.mounts = &m;
    err = 0;
    tap_ok(!kite_vhost_create(ctx, &vi, &err) && err == KITE_EABI,
           "a kite_mount_t without struct_size: KITE_EABI (%s)", kite_err_name(err));
    err = 0;
    tap_ok(!kite_client_connect(ctx, &cl, &err) && err == KITE_EABI,
           "kite_client_info_t without struct_size: KITE_EABI (%s)", kite_err_name(err));
    {
        kite_ws_deflate_t wd = {.level = 1};
        kite_extpoll_t xp = {.add_fd = NULL};
        kite_context_info_t xi = KITE_CONTEXT_INFO_INIT(.extpoll = &xp);
        kite_config_opts_t o = {.flags = KITE_CONFIG_NO_DEFAULT_DIR};

        vi.mounts = NULL;
        vi.ws_deflate = &wd;
        err = 0;
        tap_ok(!kite_vhost_create(ctx, &vi, &err) && err == KITE_EABI,
               "a kite_ws_deflate_t without struct_size: KITE_EABI (%s)", kite_err_name(err));
        err = 0;
        tap_ok(!kite_context_create(&xi, &err) && err == KITE_EABI,
               "a kite_extpoll_t without struct_size: KITE_EABI (%s)", kite_err_name(err));
        err = 0;
        tap_ok(!kite_config_load("/nonexistent", &o, &err) && err == KITE_EABI,
               "a kite_config_opts_t without struct_size: KITE_EABI (%s)", kite_err_name(err));
    }
}

/* Headers from before access_log and the mounts' basic_auth. */
static void older(kite_context_t *ctx)
{
    kite_mount_t m = KITE_MOUNT_INIT(.mountpoint = "/", .origin = "callback://sizes");
    kite_vhost_info_t vi =
        KITE_VHOST_INFO_INIT(.options = KITE_VH_NO_LISTEN, .protocols = protos, .name = "older");
    kite_context_info_t ci = KITE_CONTEXT_INFO_INIT(.server_string = "x");
    kite_mount_t *pm = sized(&m, offsetof(kite_mount_t, basic_auth));
    kite_vhost_info_t *pv;
    kite_context_info_t *pc = sized(&ci, offsetof(kite_context_info_t, reject_service_keywords));
    kite_context_t *c2;
    int err = 0;

    vi.mounts = pm;
    pv = sized(&vi, offsetof(kite_vhost_info_t, access_log));
    tap_ok(kite_vhost_create(ctx, pv, &err) != NULL,
           "a shorter kite_vhost_info_t and kite_mount_t are read up to their size (%s)",
           kite_err_name(err));
    c2 = kite_context_create(pc, &err);
    tap_ok(c2 != NULL, "a shorter kite_context_info_t too (%s)", kite_err_name(err));
    if (c2)
        kite_context_destroy(c2);
    free(pc);
    free(pv);
    free(pm);
}

/* Headers with a member this kite does not know. */
static void newer(kite_context_t *ctx)
{
    kite_vhost_info_t vi =
        KITE_VHOST_INFO_INIT(.options = KITE_VH_NO_LISTEN, .protocols = protos, .name = "newer");
    size_t n = sizeof(vi) + 16;
    unsigned char *p = calloc(1, n);
    int err = 0;

    if (!p)
        return;
    memcpy(p, &vi, sizeof(vi));
    memcpy(p, &n, sizeof(n));
    tap_ok(kite_vhost_create(ctx, (kite_vhost_info_t *)p, &err) != NULL,
           "a bigger kite_vhost_info_t whose unknown members are zero is taken (%s)",
           kite_err_name(err));
    p[sizeof(vi) + 3] = 1;
    err = 0;
    tap_ok(!kite_vhost_create(ctx, (kite_vhost_info_t *)p, &err) && err == KITE_EABI,
           "one that sets an unknown member: KITE_EABI (%s)", kite_err_name(err));
    free(p);
}

int main(void)
{
    kite_context_info_t ci = KITE_CONTEXT_INFO_INIT();
    kite_context_t *ctx;
    int err = 0;

    kite_set_log_level(0, NULL);
    versions();
    ctx = kite_context_create(&ci, &err);
    tap_ok(ctx != NULL, "a context from KITE_CONTEXT_INFO_INIT() (%s)", kite_err_name(err));
    if (!ctx)
        return tap_done();
    {
        kite_context_t *c2 = kite_context_create(NULL, &err);
        tap_ok(c2 != NULL, "NULL info: every default (%s)", kite_err_name(err));
        if (c2)
            kite_context_destroy(c2);
    }
    zero_size(ctx);
    older(ctx);
    newer(ctx);
    kite_context_destroy(ctx);
    return tap_done();
}
