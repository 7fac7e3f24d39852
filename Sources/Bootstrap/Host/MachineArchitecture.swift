import HostSystem
import WorkspaceSpec

extension CPUArchitecture {
    /// This machine's architecture in Go's names, which Coder and code-server
    /// use in their download names (x86_64 -> amd64, aarch64 -> arm64).
    public static var machine: CPUArchitecture? {
        switch Machine.architecture {
        case "x86_64", "amd64": .amd64
        case "aarch64", "arm64": .arm64
        default: nil
        }
    }

    /// `auto` resolved to this machine.
    public func resolved() throws -> CPUArchitecture {
        guard self == .auto else { return self }
        guard let machine = Self.machine else {
            throw ComponentError(.configuration, "this machine's architecture is neither x86_64 nor aarch64; set coder.arch")
        }
        return machine
    }
}
