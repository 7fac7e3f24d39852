import ArgumentParser

/// Exit codes of coder-vm-bootstrap, from sysexits.h where one fits. The unit
/// file lists EX_CONFIG in RestartPreventExitStatus= so a bad spec never
/// turns into a restart loop.
extension ExitCode {
    /// The spec file is missing or unreadable (EX_NOINPUT).
    static let specMissing = ExitCode(66)
    /// The spec is invalid (EX_CONFIG).
    static let specInvalid = ExitCode(78)
}
