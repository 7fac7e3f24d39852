import Fetch
import Foundation
import XCTest
@testable import Bootstrap

/// The daemon's own SHA-1 (for name-based UUIDs, so that it never loads
/// libcrypto) against the published vectors and against libcrypto's.
final class NameBasedUUIDTests: XCTestCase {
    private func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    func testSHA1GivesTheFIPSExampleDigests() {
        XCTAssertEqual(hex(NameBasedUUID.sha1([])), "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        XCTAssertEqual(hex(NameBasedUUID.sha1(Array("abc".utf8))), "a9993e364706816aba3e25717850c26c9cd0d89d")
        XCTAssertEqual(hex(NameBasedUUID.sha1(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))),
                       "84983e441c3bd26ebaae4aa1f95129e5e54670f1", "two blocks: the length does not fit after the message")
        XCTAssertEqual(hex(NameBasedUUID.sha1([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))),
                       "34aa973cd4c4daa4f61eeb2bdbad27316534016f")
    }

    func testSHA1AgreesWithLibcryptoAcrossEveryPaddingCase() {
        var generator = SystemRandomNumberGenerator()
        for length in 0...200 {
            let message = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            XCTAssertEqual(hex(NameBasedUUID.sha1(message)), Digest.hex(.sha1, of: message), "\(length) bytes")
        }
    }

    func testVersion5UUIDIsRFC9562sExample() {
        let dns = UUID(uuidString: "6ba7b810-9dad-11d1-80b4-00c04fd430c8")!
        XCTAssertEqual(NameBasedUUID.v5(namespace: dns, name: "www.example.com"), "2ed6657d-e927-568b-95e1-2665a8aea6a2")
    }
}
