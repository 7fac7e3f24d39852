// libcrypto (OpenSSL 3, on every target distribution), resolved at run time
// with dlopen("libcrypto.so.3"), so that only a process that hashes maps it:
// the daemon itself never does (its downloads run in a child process).
// <openssl/evp.h> is included for its types and constants only: nothing here
// links against libcrypto.
#pragma once
#include <stddef.h>
#include <openssl/evp.h>

/// Loads libcrypto.so.3 and resolves the functions below, once per process
/// (thread-safe). Returns 0 on success; otherwise -1 and
/// ccrypto_load_error() says why.
int ccrypto_load(void);

/// Why ccrypto_load() failed (dlerror() text or the missing symbol), or NULL.
const char *ccrypto_load_error(void);

/// EVP_MD_CTX_new()
EVP_MD_CTX *ccrypto_md_ctx_new(void);
/// EVP_MD_CTX_free()
void ccrypto_md_ctx_free(EVP_MD_CTX *context);
/// EVP_sha256()
const EVP_MD *ccrypto_sha256(void);
/// EVP_sha1()
const EVP_MD *ccrypto_sha1(void);
/// EVP_DigestInit_ex(context, method, NULL): starts (or starts over) a digest.
int ccrypto_digest_init(EVP_MD_CTX *context, const EVP_MD *method);
/// EVP_DigestUpdate()
int ccrypto_digest_update(EVP_MD_CTX *context, const void *bytes, size_t count);
/// EVP_DigestFinal_ex(): `digest` holds EVP_MAX_MD_SIZE bytes.
int ccrypto_digest_final(EVP_MD_CTX *context, unsigned char *digest, unsigned int *length);
/// EVP_Digest(bytes, count, digest, length, method, NULL): a one-shot digest.
int ccrypto_digest(const void *bytes, size_t count, unsigned char *digest, unsigned int *length,
                   const EVP_MD *method);
