// The bitmask protocol options are deprecated since 7.85 but are the only
// ones older libcurl knows: they are the fallback, without the warning.
#define CURL_DISABLE_DEPRECATION 1
#include "CCurl.h"
#include "CDynamicLibrary.h"
#include <pthread.h>
#include <stdio.h>

// The subset of libcurl the daemon uses, filled by dlsym().
static struct {
    CURLcode (*global_init)(long flags);
    char *(*version)(void);
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *handle);
    CURLcode (*easy_perform)(CURL *handle);
    const char *(*easy_strerror)(CURLcode code);
    CURLcode (*easy_setopt)(CURL *handle, CURLoption option, ...);
    CURLcode (*easy_getinfo)(CURL *handle, CURLINFO info, ...);
    struct curl_slist *(*slist_append)(struct curl_slist *list, const char *string);
    void (*slist_free_all)(struct curl_slist *list);
} lib;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static int load_status = -1;
static char load_error[512];

static void load(void) {
    const cdl_symbol symbols[] = {
        {"curl_global_init", (void **)&lib.global_init},
        {"curl_version", (void **)&lib.version},
        {"curl_easy_init", (void **)&lib.easy_init},
        {"curl_easy_cleanup", (void **)&lib.easy_cleanup},
        {"curl_easy_perform", (void **)&lib.easy_perform},
        {"curl_easy_strerror", (void **)&lib.easy_strerror},
        {"curl_easy_setopt", (void **)&lib.easy_setopt},
        {"curl_easy_getinfo", (void **)&lib.easy_getinfo},
        {"curl_slist_append", (void **)&lib.slist_append},
        {"curl_slist_free_all", (void **)&lib.slist_free_all},
    };
    if (cdl_open("libcurl.so.4", symbols, sizeof symbols / sizeof *symbols, load_error, sizeof load_error) != 0) return;
    // Not thread-safe in older libcurl, hence inside the once-block.
    CURLcode code = lib.global_init(CURL_GLOBAL_DEFAULT);
    if (code != CURLE_OK) {
        snprintf(load_error, sizeof load_error, "curl_global_init failed: %s",
                 lib.easy_strerror(code));
        return;
    }
    load_status = 0;
}

int ccurl_load(void) {
    pthread_once(&load_once, load);
    return load_status;
}

const char *ccurl_load_error(void) {
    pthread_once(&load_once, load);
    return load_status == 0 ? NULL : load_error;
}

const char *ccurl_version(void) { return lib.version(); }
CURL *ccurl_easy_init(void) { return lib.easy_init(); }
void ccurl_easy_cleanup(CURL *handle) { lib.easy_cleanup(handle); }
CURLcode ccurl_easy_perform(CURL *handle) { return lib.easy_perform(handle); }
const char *ccurl_easy_strerror(CURLcode code) { return lib.easy_strerror(code); }

CURLcode ccurl_setopt_long(CURL *handle, CURLoption option, long value) {
    return lib.easy_setopt(handle, option, value);
}

CURLcode ccurl_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value) {
    return lib.easy_setopt(handle, option, value);
}

CURLcode ccurl_setopt_ptr(CURL *handle, CURLoption option, const void *value) {
    return lib.easy_setopt(handle, option, value);
}

CURLcode ccurl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *list) {
    return lib.easy_setopt(handle, option, list);
}

CURLcode ccurl_setopt_write_callback(CURL *handle, CURLoption option, curl_write_callback callback) {
    return lib.easy_setopt(handle, option, callback);
}

CURLcode ccurl_setopt_xferinfo_callback(CURL *handle, curl_xferinfo_callback callback) {
    return lib.easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, callback);
}

CURLcode ccurl_setopt_web_protocols(CURL *handle, int redirect_https_only) {
    CURLcode code = lib.easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
    if (code == CURLE_OK) {
        return lib.easy_setopt(handle, CURLOPT_REDIR_PROTOCOLS_STR,
                               redirect_https_only ? "https" : "http,https");
    }
    if (code != CURLE_UNKNOWN_OPTION) return code;
    code = lib.easy_setopt(handle, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
    if (code != CURLE_OK) return code;
    return lib.easy_setopt(handle, CURLOPT_REDIR_PROTOCOLS,
                           redirect_https_only ? (long)CURLPROTO_HTTPS
                                               : (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
}

CURLcode ccurl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return lib.easy_getinfo(handle, info, value);
}

CURLcode ccurl_getinfo_off_t(CURL *handle, CURLINFO info, curl_off_t *value) {
    return lib.easy_getinfo(handle, info, value);
}

CURLcode ccurl_getinfo_string(CURL *handle, CURLINFO info, const char **value) {
    return lib.easy_getinfo(handle, info, value);
}

struct curl_slist *ccurl_slist_append(struct curl_slist *list, const char *string) {
    return lib.slist_append(list, string);
}

void ccurl_slist_free_all(struct curl_slist *list) { lib.slist_free_all(list); }
