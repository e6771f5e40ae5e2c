#include <mbedtls/pk.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/ecdh.h>
#include <mbedtls/entropy.h>
#include <mbedtls/ctr_drbg.h>
#include <stdio.h>
#include <time.h>
static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}
int main(void)
{
    mbedtls_entropy_context e;
    mbedtls_ctr_drbg_context d;
    mbedtls_entropy_init(&e);
    mbedtls_ctr_drbg_init(&d);
    mbedtls_ctr_drbg_seed(&d, mbedtls_entropy_func, &e, NULL, 0);
    mbedtls_pk_context pk;
    mbedtls_pk_init(&pk);
    if (mbedtls_pk_parse_keyfile(&pk, "k.pem", NULL))
        return 1;
    unsigned char h[32] = {1}, sig[200];
    size_t sl;
    int N = 300;
    double t = now();
    for (int i = 0; i < N; i++)
        mbedtls_pk_sign(&pk, MBEDTLS_MD_SHA256, h, 32, sig, &sl, mbedtls_ctr_drbg_random, &d);
    printf("pk_sign: %.0f/s\n", N / (now() - t));
    mbedtls_ecp_keypair *kp = mbedtls_pk_ec(pk);
    mbedtls_mpi r, s;
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    t = now();
    for (int i = 0; i < N; i++)
        mbedtls_ecdsa_sign(&kp->grp, &r, &s, &kp->d, h, 32, mbedtls_ctr_drbg_random, &d);
    printf("ecdsa_sign persistent grp (random k): %.0f/s\n", N / (now() - t));
    t = now();
    for (int i = 0; i < N; i++)
        mbedtls_ecdsa_sign_det_ext(&kp->grp, &r, &s, &kp->d, h, 32, MBEDTLS_MD_SHA256,
                                   mbedtls_ctr_drbg_random, &d);
    printf("ecdsa_sign_det persistent grp: %.0f/s\n", N / (now() - t));
    /* ECDH x25519 and p256: keygen + shared */
    int ids[2] = {MBEDTLS_ECP_DP_CURVE25519, MBEDTLS_ECP_DP_SECP256R1};
    for (int j = 0; j < 2; j++) {
        mbedtls_ecp_group g;
        mbedtls_mpi dd, z;
        mbedtls_ecp_point Q, P2;
        mbedtls_mpi d2;
        mbedtls_ecp_group_init(&g);
        mbedtls_ecp_group_load(&g, ids[j]);
        mbedtls_mpi_init(&dd);
        mbedtls_mpi_init(&z);
        mbedtls_mpi_init(&d2);
        mbedtls_ecp_point_init(&Q);
        mbedtls_ecp_point_init(&P2);
        mbedtls_ecdh_gen_public(&g, &d2, &P2, mbedtls_ctr_drbg_random, &d);
        t = now();
        for (int i = 0; i < N; i++) {
            mbedtls_ecp_group gg;
            mbedtls_ecp_group_init(&gg);
            mbedtls_ecp_group_load(&gg, ids[j]);
            mbedtls_ecdh_gen_public(&gg, &dd, &Q, mbedtls_ctr_drbg_random, &d);
            mbedtls_ecp_group_free(&gg);
        }
        double a = now() - t;
        t = now();
        for (int i = 0; i < N; i++) {
            mbedtls_ecdh_compute_shared(&g, &z, &P2, &dd, mbedtls_ctr_drbg_random, &d);
        }
        double b = now() - t;
        printf("curve %d: gen_public fresh grp %.0f/s, compute_shared %.0f/s\n", ids[j], N / a,
               N / b);
    }
    return 0;
}
