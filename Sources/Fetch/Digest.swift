// The only Swift file of Fetch that talks to CCrypto: SHA-256 and SHA-1
// through libcrypto's EVP interface, loaded with dlopen on first use.
import CCrypto

#if canImport(Glibc)
import Glibc
#endif

/// Process-wide libcrypto loading.
enum CryptoLibrary {
    /// Loads libcrypto.so.3 once per process; wraps ccrypto_load() and ccrypto_load_error().
    static func load() throws(FetchError) {
        guard ccrypto_load() != 0 else { return }
        let reason = ccrypto_load_error().map { String(cString: $0) } ?? "unknown error"
        throw .libcryptoUnavailable(reason: reason)
    }
}

/// A running SHA-256 or SHA-1 computation.
public final class Digest {
    public enum Algorithm: Sendable {
        /// What release checksums use.
        case sha256
        /// Coder serves its agent binary with the SHA-1 hex of the file as ETag.
        case sha1
    }

    private let context: OpaquePointer

    /// ccrypto_load, then EVP_MD_CTX_new + EVP_DigestInit_ex(ctx, EVP_sha256()
    /// or EVP_sha1(), NULL). A Downloader loads libcrypto when it is made and
    /// throws FetchError.libcryptoUnavailable there; without libcrypto this
    /// stops the process, saying so.
    public init(_ algorithm: Algorithm) {
        do { try CryptoLibrary.load() } catch { fatalError("\(error)") }
        guard let context = ccrypto_md_ctx_new() else {
            fatalError("EVP_MD_CTX_new returned NULL (out of memory)")
        }
        let method =
            switch algorithm {
            case .sha256: ccrypto_sha256()
            case .sha1: ccrypto_sha1()
            }
        guard ccrypto_digest_init(context, method) == 1 else {
            fatalError("EVP_DigestInit_ex failed: libcrypto has no \(algorithm)")
        }
        self.context = context
    }

    /// EVP_MD_CTX_free
    deinit { ccrypto_md_ctx_free(context) }

    /// EVP_DigestUpdate
    public func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        ccrypto_digest_update(context, base, bytes.count)
    }

    /// EVP_DigestUpdate over an array of bytes.
    public func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// EVP_DigestFinal_ex: the digest as lowercase hex. Call once.
    public func finalizeHex() -> String {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        ccrypto_digest_final(context, &digest, &length)
        return digest.prefix(Int(length)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// The hex digest of `bytes`.
    public static func hex(_ algorithm: Algorithm, of bytes: [UInt8]) -> String {
        let digest = Digest(algorithm)
        digest.update(bytes)
        return digest.finalizeHex()
    }

    /// The hex digest of the file at `path`, read in 256 KiB blocks.
    public static func hex(_ algorithm: Algorithm, ofFile path: String) throws(FetchError) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .file(operation: "open", path: path, errno: errno) }
        defer { close(fd) }
        let digest = Digest(algorithm)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 * 1024, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let count = read(fd, buffer.baseAddress, buffer.count)
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                throw .file(operation: "read", path: path, errno: errno)
            }
            digest.update(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
        }
        return digest.finalizeHex()
    }
}
