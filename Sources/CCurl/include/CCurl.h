// libcurl, resolved at run time with dlopen("libcurl.so.4") so the daemon does
// not bind to one distribution's versioned symbols (CURL_OPENSSL_4).
#pragma once
#include <curl/curl.h>

/// Loads libcurl and resolves the functions below; returns 0 on success.
int ccurl_load(void);
