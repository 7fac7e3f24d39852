import CCrypto

/// SHA-1 through the system's libcrypto (dlopen'ed by CCrypto). Only for
/// name-based identifiers (UUIDv5, short name suffixes), never for integrity.
enum SHA1 {
    static func digest(_ bytes: [UInt8]) -> [UInt8] {
        guard ccrypto_load() == 0 else {
            fatalError("cannot load libcrypto.so.3 (\(String(cString: ccrypto_load_error()))); install OpenSSL 3")
        }
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let ok = bytes.withUnsafeBufferPointer { input in
            ccrypto_digest(input.baseAddress, input.count, &output, &length, ccrypto_sha1())
        }
        // EVP_Digest only fails when libcrypto cannot allocate or lacks SHA-1.
        precondition(ok == 1 && length == 20, "libcrypto SHA-1 failed")
        return Array(output.prefix(20))
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { byte in
            let text = String(byte, radix: 16)
            return byte < 16 ? "0" + text : text
        }.joined()
    }
}
