import BootstrapTestKit
import Foundation

/// `coder-vm-bootstrap check-config FILE` run for real: how it ended and what
/// it wrote to standard error (where the diagnostics go).
func runCheckConfig(_ file: URL) throws -> (reason: Process.TerminationReason, status: Int32, errors: String) {
    let process = Process()
    process.executableURL = BuiltDaemon.url
    process.arguments = ["check-config", file.path]
    let errors = Pipe()
    process.standardError = errors
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    let output = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return (process.terminationReason, process.terminationStatus, output)
}
