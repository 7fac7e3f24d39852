import XCTest

@testable import Fetch

/// What a download's error says of its URL reaches the journal, STATUS and
/// Coder's page: never a mirror's password or a signed URL's signature.
final class ShownURLTests: XCTestCase {
    func testErrorMessagesNeverShowTheURLsCredentialsQueryOrFragment() {
        let url = "https://mirror-user:mirror-pass@mirror.internal/cs.tar.gz?X-Amz-Signature=abcdef#part"
        let errors: [FetchError] = [
            .httpStatus(403, url: url, attempts: 1),
            .timedOut(url: url, detail: "no bytes for 30 s", attempts: 2),
            .transfer(url: url, curlCode: 56, detail: "connection reset", attempts: 3),
            .checksumMismatch(url: url, expected: "aa", actual: "bb"),
            .tooLarge(url: url, limit: 10),
            .redirectRefused(from: url, to: "http://user:pw@evil.example/x?sig=1"),
            .refused(url: url, reason: "an HTML page"),
            .invalidResponse(url: url, detail: "bad Content-Range", attempts: 1),
        ]
        for error in errors {
            let text = error.description
            for secret in ["mirror-pass", "mirror-user", "X-Amz-Signature", "abcdef", "#part", "pw@", "sig=1"] {
                XCTAssertFalse(text.contains(secret), "\(secret) in: \(text)")
            }
            XCTAssertTrue(text.contains("https://mirror.internal/cs.tar.gz"), text)
        }
    }

    func testAURLWithoutCredentialsIsShownAsItIsUpToItsQuery() {
        XCTAssertEqual(shownURL("http://127.0.0.1:7080/bin/coder-linux-amd64"), "http://127.0.0.1:7080/bin/coder-linux-amd64")
        XCTAssertEqual(shownURL("https://h.example/a@b/c?x=1"), "https://h.example/a@b/c", "an @ in the path is not user info")
        XCTAssertEqual(shownURL("not a url?q"), "not a url")
    }
}
