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

    /// How long ago this process started: CLOCK_BOOTTIME now (clock_gettime(2))
    /// minus its start time in /proc/self/stat (field 22, in clock ticks of
    /// sysconf(_SC_CLK_TCK)). nil when /proc cannot say.
    public static var processAge: Duration? {
        guard let folder = try? Directory.system("/proc/self"), let bytes = try? folder.readFile("stat", limit: 4096) ?? nil else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        // Fields after the command name, which is in parentheses and may hold spaces.
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let ticks = Int64(fields[19]) else { return nil }
        var now = timespec()
        clock_gettime(CLOCK_BOOTTIME, &now)
        let hertz = Int64(sysconf(Int32(_SC_CLK_TCK)))
        let started = Duration.milliseconds(ticks * 1000 / max(hertz, 1))
        return .seconds(now.tv_sec) + .nanoseconds(now.tv_nsec) - started
    }

    /// getpid(2)
    public static var processID: Int32 { getpid() }

    /// Whether a process with this id exists (kill(2) with signal 0; EPERM
    /// means it exists but is someone else's).
    public static func processExists(_ pid: Int32) -> Bool {
        kill(pid, 0) == 0 || errno == EPERM
    }
}
