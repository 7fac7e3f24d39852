#include "CDynamicLibrary.h"
#include <dlfcn.h>
#include <stdio.h>

int cdl_open(const char *soname, const cdl_symbol *symbols, size_t count, char *error, size_t error_size) {
    void *handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char *why = dlerror();
        snprintf(error, error_size, "%s", why ? why : "dlopen failed");
        return -1;
    }
    for (size_t index = 0; index < count; index++) {
        *symbols[index].address = dlsym(handle, symbols[index].name);
        if (!*symbols[index].address) {
            snprintf(error, error_size, "%s has no symbol %s", soname, symbols[index].name);
            return -1;
        }
    }
    return 0;
}
