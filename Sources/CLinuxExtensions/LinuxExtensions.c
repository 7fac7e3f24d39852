// accept4 is a GNU extension: declared by <sys/socket.h> only under _GNU_SOURCE.
#define _GNU_SOURCE
#include <stddef.h>
#include <sys/socket.h>
#include "CLinuxExtensions.h"

int clinux_accept4(int fd, int flags) {
    return accept4(fd, NULL, NULL, flags);
}
