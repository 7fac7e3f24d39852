// Why a download failed, worded for a journal line an operator will read.
#if canImport(Glibc)
import Glibc
#endif

public enum FetchError: Error, Equatable, Sendable, CustomStringConvertible {
    /// dlopen("libcurl.so.4") or one of its symbols failed.
    case libcurlUnavailable(reason: String)
    /// The server answered with an error status (FAILONERROR); retried first
    /// when the status is transient.
    case httpStatus(Int, url: String, attempts: Int)
    /// Connect timeout, low-speed limit or overall timeout, on the last attempt.
    case timedOut(url: String, detail: String, attempts: Int)
    /// Any other transfer failure libcurl reported (DNS, connection, TLS,
    /// redirect loop, ...) on the last attempt.
    case transfer(url: String, curlCode: Int, detail: String, attempts: Int)
    /// The downloaded file's SHA-256 is not the expected one; nothing was installed.
    case checksumMismatch(url: String, expected: String, actual: String)
    /// A local file operation failed.
    case file(operation: String, path: String, errno: Int32)
    /// The request cannot be attempted as given.
    case invalidRequest(String)

    public var description: String {
        switch self {
        case let .libcurlUnavailable(reason):
            return "cannot load libcurl.so.4 (\(reason)); install libcurl4 (Debian, Ubuntu) "
                + "or libcurl (Fedora, EL, SUSE, Arch)"
        case let .httpStatus(status, url, attempts):
            return "GET \(url) answered HTTP \(status) \(Self.reason(status))\(Self.after(attempts)); "
                + Self.advice(status)
        case let .timedOut(url, detail, attempts):
            return "GET \(url) timed out\(Self.after(attempts)): \(detail); "
                + "check the network path and proxy settings, or raise the timeouts"
        case let .transfer(url, code, detail, attempts):
            return "GET \(url) failed\(Self.after(attempts)): \(detail) (curl error \(code)); "
                + Self.advice(curlCode: code)
        case let .checksumMismatch(url, expected, actual):
            return "SHA-256 mismatch for \(url): expected \(expected), got \(actual); "
                + "the file was not installed: check the expected checksum matches this version"
        case let .file(operation, path, code):
            return "\(operation) \(path): \(String(cString: strerror(code)))"
        case let .invalidRequest(reason):
            return "invalid download request: \(reason)"
        }
    }

    private static func after(_ attempts: Int) -> String {
        attempts > 1 ? " after \(attempts) attempts" : ""
    }

    private static func reason(_ status: Int) -> String {
        switch status {
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 408: "Request Timeout"
        case 410: "Gone"
        case 416: "Range Not Satisfiable"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        default: ""
        }
    }

    private static func advice(_ status: Int) -> String {
        switch status {
        case 401, 403: "check the credentials or token the URL needs"
        case 404, 410: "check the URL and that this version exists"
        case 500...: "the server is failing: try again later"
        default: "check the URL"
        }
    }

    private static func advice(curlCode: Int) -> String {
        switch curlCode {
        case 6, 5: "check DNS and the proxy host name"
        case 7: "check that the host is reachable and the port is open"
        case 35: "check the TLS setup of the server or proxy"
        case 60, 77: "the certificate is not trusted: set an extra CA bundle if a private CA signs it"
        case 47: "the redirect chain is too long or loops"
        default: "check the network and proxy settings"
        }
    }
}
