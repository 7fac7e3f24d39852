#include "CCrypto.h"
#include "CDynamicLibrary.h"
#include <pthread.h>

// The subset of libcrypto the project uses, filled by dlsym().
static struct {
    EVP_MD_CTX *(*md_ctx_new)(void);
    void (*md_ctx_free)(EVP_MD_CTX *context);
    const EVP_MD *(*sha256)(void);
    const EVP_MD *(*sha1)(void);
    int (*digest_init_ex)(EVP_MD_CTX *context, const EVP_MD *method, ENGINE *engine);
    int (*digest_update)(EVP_MD_CTX *context, const void *bytes, size_t count);
    int (*digest_final_ex)(EVP_MD_CTX *context, unsigned char *digest, unsigned int *length);
    int (*digest)(const void *bytes, size_t count, unsigned char *digest, unsigned int *length,
                  const EVP_MD *method, ENGINE *engine);
} lib;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static int load_status = -1;
static char load_error[512];

static void load(void) {
    const cdl_symbol symbols[] = {
        {"EVP_MD_CTX_new", (void **)&lib.md_ctx_new},
        {"EVP_MD_CTX_free", (void **)&lib.md_ctx_free},
        {"EVP_sha256", (void **)&lib.sha256},
        {"EVP_sha1", (void **)&lib.sha1},
        {"EVP_DigestInit_ex", (void **)&lib.digest_init_ex},
        {"EVP_DigestUpdate", (void **)&lib.digest_update},
        {"EVP_DigestFinal_ex", (void **)&lib.digest_final_ex},
        {"EVP_Digest", (void **)&lib.digest},
    };
    if (cdl_open("libcrypto.so.3", symbols, sizeof symbols / sizeof *symbols, load_error, sizeof load_error) != 0) return;
    load_status = 0;
}

int ccrypto_load(void) {
    pthread_once(&load_once, load);
    return load_status;
}

const char *ccrypto_load_error(void) {
    pthread_once(&load_once, load);
    return load_status == 0 ? NULL : load_error;
}

EVP_MD_CTX *ccrypto_md_ctx_new(void) { return lib.md_ctx_new(); }
void ccrypto_md_ctx_free(EVP_MD_CTX *context) { lib.md_ctx_free(context); }
const EVP_MD *ccrypto_sha256(void) { return lib.sha256(); }
const EVP_MD *ccrypto_sha1(void) { return lib.sha1(); }

int ccrypto_digest_init(EVP_MD_CTX *context, const EVP_MD *method) {
    return lib.digest_init_ex(context, method, NULL);
}

int ccrypto_digest_update(EVP_MD_CTX *context, const void *bytes, size_t count) {
    return lib.digest_update(context, bytes, count);
}

int ccrypto_digest_final(EVP_MD_CTX *context, unsigned char *digest, unsigned int *length) {
    return lib.digest_final_ex(context, digest, length);
}

int ccrypto_digest(const void *bytes, size_t count, unsigned char *digest, unsigned int *length,
                   const EVP_MD *method) {
    return lib.digest(bytes, count, digest, length, method, NULL);
}
