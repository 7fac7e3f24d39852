import Glibc

/// Facts about the machine the daemon runs on.
public enum Machine {
    /// The CPU architecture's name as uname(2) gives it (`x86_64`, `aarch64`).
    public static var architecture: String? {
        var info = utsname()
        guard uname(&info) == 0 else { return nil }
        return withUnsafeBytes(of: &info.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    /// ELF `e_machine` of this machine's executables: EM_X86_64 (62) or EM_AARCH64 (183).
    public static var elfMachine: UInt16? {
        switch architecture {
        case "x86_64": 62
        case "aarch64": 183
        default: nil
        }
    }

    /// Seconds since the epoch, time(2).
    public static var now: Int { time(nil) }

    /// getpid(2)
    public static var processID: Int32 { getpid() }

    /// Whether a process with this id exists (kill(2) with signal 0; EPERM
    /// means it exists but is someone else's).
    public static func processExists(_ pid: Int32) -> Bool {
        kill(pid, 0) == 0 || errno == EPERM
    }
}
