// SHA-256 from the system's libcrypto (OpenSSL 3 on every target distribution).
#pragma once
#include <openssl/evp.h>
