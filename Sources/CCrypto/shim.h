// SHA-256 and SHA-1 from the system's libcrypto (OpenSSL 3 on every target
// distribution), through the EVP digest interface.
#pragma once
#include <openssl/evp.h>
