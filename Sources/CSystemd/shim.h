// Non-variadic entry points into libsystemd for Swift. Swift cannot call C
// variadic functions (sd_bus_call_method, sd_journal_send), so each use gets
// a static inline wrapper with a fixed signature here.
#pragma once
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
#include <systemd/sd-bus.h>
