// Trusting an extra CA without distrusting the public ones.
//
// CURLOPT_CAINFO replaces libcurl's default bundle instead of adding to it,
// and CURLOPT_CAINFO_BLOB needs libcurl 7.77 (EL 9 ships 7.76). So the system
// bundle and the extra one are concatenated into a private file that is
// passed as CURLOPT_CAINFO. Works with every OpenSSL-based libcurl (Debian,
// Ubuntu, Fedora, EL, SUSE, Arch, Alpine).
#if canImport(Glibc)
import Glibc
#endif

final class CABundle: Sendable {
    /// Where distributions keep their PEM bundle, for libcurl older than 7.84
    /// (which cannot tell its own): Debian/Ubuntu/Arch/Alpine, Fedora/EL,
    /// EL's extracted store, openSUSE.
    static let wellKnownSystemBundles = [
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
        "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
        "/etc/ssl/ca-bundle.pem",
    ]

    /// The combined bundle, removed when the Downloader goes away.
    let path: String

    /// Writes the system bundle followed by `extraBundle` to a new file in
    /// $TMPDIR (or /tmp). With no system bundle found, only the extra CAs are
    /// in the file; libcurl's CA directory, if it has one, still applies.
    init(combining extraBundle: String) throws(FetchError) {
        let extra = try POSIXFile.read(extraBundle)
        guard extra.contains(where: { $0 != 0x20 && $0 != 0x0a && $0 != 0x0d }) else {
            throw .invalidRequest("extra CA bundle \(extraBundle) is empty")
        }
        let systemBundle = ([CurlLibrary.builtInCABundle].compactMap { $0 } + Self.wellKnownSystemBundles)
            .first(where: POSIXFile.exists)
        var combined = try systemBundle.map(POSIXFile.read) ?? []
        if combined.last != 0x0a && !combined.isEmpty { combined.append(0x0a) }
        combined += extra

        let directory = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        var template = Array((directory + "/coder-vm-bootstrap-ca.XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        let path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        guard fd >= 0 else { throw .file(operation: "create", path: path, errno: errno) }
        let written = combined.withUnsafeBytes { POSIXFile.writeAll(fd, $0) }
        let writeError = errno
        close(fd)
        guard written else {
            unlink(path)
            throw .file(operation: "write", path: path, errno: writeError)
        }
        self.path = path
    }

    deinit { unlink(path) }
}
