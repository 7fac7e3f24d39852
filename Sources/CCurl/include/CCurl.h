// libcurl, resolved at run time with dlopen("libcurl.so.4") so the daemon does
// not bind to one distribution's versioned symbols (CURL_OPENSSL_4).
// <curl/curl.h> is included for its types and constants only: nothing here
// links against libcurl.
#pragma once
#include <stddef.h>
#include <curl/curl.h>

/// Loads libcurl.so.4, resolves the functions below and calls
/// curl_global_init(CURL_GLOBAL_DEFAULT), once per process (thread-safe).
/// Returns 0 on success; otherwise -1 and ccurl_load_error() says why.
int ccurl_load(void);

/// Why ccurl_load() failed (dlerror() text or the missing symbol), or NULL.
const char *ccurl_load_error(void);

/// curl_version()
const char *ccurl_version(void);

/// curl_easy_init()
CURL *ccurl_easy_init(void);
/// curl_easy_cleanup()
void ccurl_easy_cleanup(CURL *handle);
/// curl_easy_perform(): blocks until the transfer ends.
CURLcode ccurl_easy_perform(CURL *handle);
/// curl_easy_strerror()
const char *ccurl_easy_strerror(CURLcode code);

// curl_easy_setopt() is variadic: each wrapper passes exactly the type the
// option expects (long, curl_off_t, pointer, function pointer).

/// curl_easy_setopt() for options taking a long.
CURLcode ccurl_setopt_long(CURL *handle, CURLoption option, long value);
/// curl_easy_setopt() for options taking a curl_off_t (the *_LARGE ones).
CURLcode ccurl_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value);
/// curl_easy_setopt() for options taking a char * (libcurl copies it) or a
/// data pointer handed back to callbacks (WRITEDATA, XFERINFODATA, ...).
CURLcode ccurl_setopt_ptr(CURL *handle, CURLoption option, const void *value);
/// curl_easy_setopt() for options taking a struct curl_slist *.
CURLcode ccurl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *list);
/// curl_easy_setopt() for CURLOPT_WRITEFUNCTION and CURLOPT_HEADERFUNCTION.
CURLcode ccurl_setopt_write_callback(CURL *handle, CURLoption option, curl_write_callback callback);
/// curl_easy_setopt(CURLOPT_XFERINFOFUNCTION).
CURLcode ccurl_setopt_xferinfo_callback(CURL *handle, curl_xferinfo_callback callback);

/// curl_easy_setopt(CURLOPT_PROTOCOLS_STR, "http,https") and
/// curl_easy_setopt(CURLOPT_REDIR_PROTOCOLS_STR, "https" or "http,https");
/// on a libcurl older than 7.85, which answers CURLE_UNKNOWN_OPTION to those,
/// the bitmask options CURLOPT_PROTOCOLS and CURLOPT_REDIR_PROTOCOLS instead
/// (EL 9 ships 7.76). Redirects may only go to https when
/// `redirect_https_only` is non-zero.
CURLcode ccurl_setopt_web_protocols(CURL *handle, int redirect_https_only);

// curl_easy_getinfo() is variadic too.

/// curl_easy_getinfo() for CURLINFO_LONG items.
CURLcode ccurl_getinfo_long(CURL *handle, CURLINFO info, long *value);
/// curl_easy_getinfo() for CURLINFO_OFF_T items.
CURLcode ccurl_getinfo_off_t(CURL *handle, CURLINFO info, curl_off_t *value);
/// curl_easy_getinfo() for CURLINFO_STRING items (owned by libcurl).
CURLcode ccurl_getinfo_string(CURL *handle, CURLINFO info, const char **value);

/// curl_slist_append()
struct curl_slist *ccurl_slist_append(struct curl_slist *list, const char *string);
/// curl_slist_free_all()
void ccurl_slist_free_all(struct curl_slist *list);
