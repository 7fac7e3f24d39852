// Non-variadic entry points into libsystemd for Swift. Swift cannot call C
// variadic functions (sd_bus_call_method, sd_journal_send), so each use gets
// a static inline wrapper with a fixed signature here.
#pragma once

// We pass CODE_FILE/CODE_LINE/CODE_FUNC of the Swift caller ourselves; the
// header's macros would otherwise name this shim.
#define SD_JOURNAL_SUPPRESS_LOCATION 1

#include <stdint.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
#include <systemd/sd-bus.h>

#define CSD_DESTINATION "org.freedesktop.systemd1"
#define CSD_MANAGER_PATH "/org/freedesktop/systemd1"
#define CSD_MANAGER_INTERFACE "org.freedesktop.systemd1.Manager"

/// Manager methods taking (unit name, job mode) and returning a job path:
/// StartUnit, StopUnit, RestartUnit, ReloadUnit, ReloadOrRestartUnit,
/// TryRestartUnit. Signature "ss" -> "o".
static inline int csd_manager_call_unit_mode(sd_bus *bus, const char *member,
                                             const char *unit, const char *mode,
                                             sd_bus_error *error,
                                             sd_bus_message **reply) {
    return sd_bus_call_method(bus, CSD_DESTINATION, CSD_MANAGER_PATH,
                              CSD_MANAGER_INTERFACE, member, error, reply,
                              "ss", unit, mode);
}

/// Manager methods taking one string: LoadUnit, GetUnit ("s" -> "o"),
/// ResetFailedUnit ("s" -> "").
static inline int csd_manager_call_string(sd_bus *bus, const char *member,
                                          const char *argument,
                                          sd_bus_error *error,
                                          sd_bus_message **reply) {
    return sd_bus_call_method(bus, CSD_DESTINATION, CSD_MANAGER_PATH,
                              CSD_MANAGER_INTERFACE, member, error, reply,
                              "s", argument);
}

/// Manager methods without arguments: Reload (daemon-reload).
static inline int csd_manager_call_void(sd_bus *bus, const char *member,
                                        sd_bus_error *error,
                                        sd_bus_message **reply) {
    return sd_bus_call_method(bus, CSD_DESTINATION, CSD_MANAGER_PATH,
                              CSD_MANAGER_INTERFACE, member, error, reply,
                              NULL);
}

/// KillUnit(s name, s whom, i signal).
static inline int csd_manager_kill_unit(sd_bus *bus, const char *unit,
                                        const char *whom, int32_t signal_number,
                                        sd_bus_error *error,
                                        sd_bus_message **reply) {
    return sd_bus_call_method(bus, CSD_DESTINATION, CSD_MANAGER_PATH,
                              CSD_MANAGER_INTERFACE, "KillUnit", error, reply,
                              "ssi", unit, whom, signal_number);
}

/// EnableUnitFiles(as files, b runtime, b force) -> (b carries_install_info,
/// a(sss) changes). "as" needs a message built by hand: the variadic form
/// only takes a count known at compile time.
static inline int csd_manager_enable_unit_files(sd_bus *bus, char **files,
                                                int runtime, int force,
                                                sd_bus_error *error,
                                                sd_bus_message **reply) {
    sd_bus_message *m = NULL;
    int r = sd_bus_message_new_method_call(bus, &m, CSD_DESTINATION,
                                           CSD_MANAGER_PATH,
                                           CSD_MANAGER_INTERFACE,
                                           "EnableUnitFiles");
    if (r < 0) return r;
    r = sd_bus_message_append_strv(m, files);
    if (r >= 0) r = sd_bus_message_append(m, "bb", runtime, force);
    if (r >= 0) r = sd_bus_call(bus, m, 0, error, reply);
    sd_bus_message_unref(m);
    return r;
}

/// DisableUnitFiles(as files, b runtime) -> (a(sss) changes).
static inline int csd_manager_disable_unit_files(sd_bus *bus, char **files,
                                                 int runtime,
                                                 sd_bus_error *error,
                                                 sd_bus_message **reply) {
    sd_bus_message *m = NULL;
    int r = sd_bus_message_new_method_call(bus, &m, CSD_DESTINATION,
                                           CSD_MANAGER_PATH,
                                           CSD_MANAGER_INTERFACE,
                                           "DisableUnitFiles");
    if (r < 0) return r;
    r = sd_bus_message_append_strv(m, files);
    if (r >= 0) r = sd_bus_message_append(m, "b", runtime);
    if (r >= 0) r = sd_bus_call(bus, m, 0, error, reply);
    sd_bus_message_unref(m);
    return r;
}

/// org.freedesktop.DBus.Properties.Get on a systemd object, string-typed
/// property ("s" or "o"). *value must be freed with free().
static inline int csd_get_string_property(sd_bus *bus, const char *path,
                                          const char *interface,
                                          const char *member,
                                          sd_bus_error *error, char **value) {
    return sd_bus_get_property_string(bus, CSD_DESTINATION, path, interface,
                                      member, error, value);
}

/// Properties.Get for a fixed-size property: "u" (uint32_t), "i" (int32_t),
/// "t" (uint64_t), "b" (int). value must point at storage of that size.
static inline int csd_get_trivial_property(sd_bus *bus, const char *path,
                                           const char *interface,
                                           const char *member, char type,
                                           sd_bus_error *error, void *value) {
    return sd_bus_get_property_trivial(bus, CSD_DESTINATION, path, interface,
                                       member, error, type, value);
}

/// SD_BUS_ERROR_NULL as a function: the macro is a compound literal Swift
/// does not import.
static inline sd_bus_error csd_bus_error_null(void) {
    sd_bus_error e = SD_BUS_ERROR_NULL;
    return e;
}
