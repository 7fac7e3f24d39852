import Foundation

/// The daemon built beside the test bundle (the test target depends on it).
let builtDaemon: URL = {
    for start in [Bundle.main.bundleURL, URL(fileURLWithPath: CommandLine.arguments[0])] {
        var directory = start
        for _ in 0..<4 {
            directory = directory.deletingLastPathComponent()
            let binary = directory.appendingPathComponent("coder-vm-bootstrap")
            if FileManager.default.isExecutableFile(atPath: binary.path) { return binary }
        }
    }
    return URL(fileURLWithPath: ".build/debug/coder-vm-bootstrap")
}()
