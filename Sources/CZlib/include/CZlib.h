// zlib, resolved at run time with dlopen("libz.so.1") so the daemon's
// portability check keeps seeing only the libraries every target has.
// <zlib.h> is included for its types and constants only: nothing here links
// against libz.
#pragma once
#include <zlib.h>

/// Loads libz.so.1 and resolves the functions below, once per process
/// (thread-safe). Returns 0 on success; otherwise -1 and czlib_load_error()
/// says why.
int czlib_load(void);

/// Why czlib_load() failed (dlerror() text or the missing symbol), or NULL.
const char *czlib_load_error(void);

/// zlibVersion(): the loaded library's version, e.g. "1.2.13".
const char *czlib_version(void);

/// inflateInit2_(stream, 15 + 32, ZLIB_VERSION, sizeof(z_stream)): a 32 KiB
/// window, gzip or zlib header detected automatically. The caller zeroes
/// zalloc, zfree and opaque first (zlib's own allocator).
int czlib_inflate_init_gzip(z_stream *stream);
/// inflate()
int czlib_inflate(z_stream *stream, int flush);
/// inflateReset(): ready for the next concatenated gzip member, keeping the window.
int czlib_inflate_reset(z_stream *stream);
/// inflateEnd()
int czlib_inflate_end(z_stream *stream);
