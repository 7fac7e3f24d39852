#include "CZlib.h"
#include "CDynamicLibrary.h"
#include <pthread.h>

// The subset of zlib the daemon uses, filled by dlsym().
static struct {
    const char *(*version)(void);
    int (*inflate_init2_)(z_stream *stream, int window_bits, const char *version, int stream_size);
    int (*inflate)(z_stream *stream, int flush);
    int (*inflate_reset)(z_stream *stream);
    int (*inflate_end)(z_stream *stream);
} lib;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static int load_status = -1;
static char load_error[512];

static void load(void) {
    const cdl_symbol symbols[] = {
        {"zlibVersion", (void **)&lib.version},
        {"inflateInit2_", (void **)&lib.inflate_init2_},
        {"inflate", (void **)&lib.inflate},
        {"inflateReset", (void **)&lib.inflate_reset},
        {"inflateEnd", (void **)&lib.inflate_end},
    };
    if (cdl_open("libz.so.1", symbols, sizeof symbols / sizeof *symbols, load_error, sizeof load_error) != 0) return;
    load_status = 0;
}

int czlib_load(void) {
    pthread_once(&load_once, load);
    return load_status;
}

const char *czlib_load_error(void) {
    pthread_once(&load_once, load);
    return load_status == 0 ? NULL : load_error;
}

const char *czlib_version(void) { return lib.version(); }

int czlib_inflate_init_gzip(z_stream *stream) {
    // The version and struct size let the loaded zlib refuse (Z_VERSION_ERROR)
    // a layout other than the one these headers describe.
    return lib.inflate_init2_(stream, 15 + 32, ZLIB_VERSION, (int)sizeof(z_stream));
}

int czlib_inflate(z_stream *stream, int flush) { return lib.inflate(stream, flush); }
int czlib_inflate_reset(z_stream *stream) { return lib.inflate_reset(stream); }
int czlib_inflate_end(z_stream *stream) { return lib.inflate_end(stream); }
