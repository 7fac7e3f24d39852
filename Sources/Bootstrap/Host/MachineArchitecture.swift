import Glibc
import WorkspaceSpec

extension CPUArchitecture {
    /// This machine's architecture in Go's names, which Coder and code-server
    /// use in their download names (uname(2): x86_64 -> amd64, aarch64 -> arm64).
    public static var machine: CPUArchitecture? {
        var info = utsname()
        guard uname(&info) == 0 else { return nil }
        let name = withUnsafeBytes(of: &info.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        switch name {
        case "x86_64", "amd64": return .amd64
        case "aarch64", "arm64": return .arm64
        default: return nil
        }
    }

    /// `auto` resolved to this machine.
    public func resolved() throws -> CPUArchitecture {
        guard self == .auto else { return self }
        guard let machine = Self.machine else {
            throw ComponentError("this machine's architecture is neither x86_64 nor aarch64; set coder.arch")
        }
        return machine
    }
}
