#ifndef CDYNAMICLIBRARY_H
#define CDYNAMICLIBRARY_H

#include <stddef.h>

// One symbol a loader needs: its name and where its address goes (a
// function pointer field, passed as `(void **)&table.field`).
typedef struct {
    const char *name;
    void **address;
} cdl_symbol;

// dlopen(soname, RTLD_NOW | RTLD_LOCAL), then dlsym() for each of
// `symbols`. Returns 0, or -1 with the reason (the missing library or
// symbol) in `error`. The library stays loaded for the process's life.
int cdl_open(const char *soname, const cdl_symbol *symbols, size_t count, char *error, size_t error_size);

#endif
