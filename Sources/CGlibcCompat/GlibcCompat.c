// The Swift runtime calls hypotf, which glibc 2.35 re-versioned
// (hypotf@GLIBC_2.35). Linked with `--wrap=hypotf`, its calls land here
// instead, so the binary starts on EL9 (glibc 2.34). Computed in double:
// the squares of floats are exact there and cannot overflow, so the result
// is as accurate as glibc's.
#include <math.h>

float __wrap_hypotf(float x, float y) {
    if (isinf(x) || isinf(y)) return INFINITY;
    double dx = x, dy = y;
    return (float)__builtin_sqrt(dx * dx + dy * dy);
}
