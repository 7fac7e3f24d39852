import Foundation

/// The daemon binary `swift build` put beside the test bundle, for the tests
/// that run it as systemd and people do.
public enum BuiltDaemon {
    /// Beside the test bundle in the build folder (test targets depend on the
    /// executable). A folder of that name (a clone called coder-vm-bootstrap)
    /// does not count.
    public static let url: URL = {
        for start in [Bundle.main.bundleURL, URL(fileURLWithPath: CommandLine.arguments[0])] {
            var directory = start
            for _ in 0..<4 {
                directory = directory.deletingLastPathComponent()
                let binary = directory.appendingPathComponent("coder-vm-bootstrap")
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: binary.path, isDirectory: &isDirectory), !isDirectory.boolValue,
                    FileManager.default.isExecutableFile(atPath: binary.path)
                {
                    return binary
                }
            }
        }
        return URL(fileURLWithPath: ".build/debug/coder-vm-bootstrap")
    }()
}
