// Linux calls that Swift's Glibc module leaves out (it is built without
// _GNU_SOURCE, and without <sys/eventfd.h> or <malloc.h>). Wrapped in Swift
// by HostSystem/Network (ListeningSocket, WakeUpEvent) and
// HostSystem/Process (FreeHeapPages).
#pragma once
#include <malloc.h>
#include <sys/eventfd.h>

/// accept4(2) without the peer's address: `flags` are SOCK_NONBLOCK and
/// SOCK_CLOEXEC, set atomically with the new descriptor (a command the
/// daemon starts meanwhile cannot inherit it).
int clinux_accept4(int fd, int flags);
