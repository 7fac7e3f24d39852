// Why a download failed, worded for a journal line an operator will read.
#if canImport(Glibc)
import Glibc
#endif

/// Each case says whether it is a server fault (`isServerFault`: the server
/// or the network is to blame and trying again later may work; the library
/// itself retries exactly these while a transfer runs, with backoff), a local
/// file-system problem (`isLocal`), or neither (final until someone changes
/// the request, the spec or the machine). Codable: an error from a call run
/// in another process (the daemon's fetch worker) comes back as it was.
public enum FetchError: Error, Equatable, Sendable, Codable, CustomStringConvertible {
    /// dlopen("libcurl.so.4") or one of its symbols failed. Final: install libcurl.
    case libcurlUnavailable(reason: String)
    /// dlopen("libcrypto.so.3") or one of its symbols failed. Final: install OpenSSL 3's libcrypto.
    case libcryptoUnavailable(reason: String)
    /// The server answered with an error status (FAILONERROR). A server fault
    /// for 5xx, 408 and 429; final for other statuses (404, 403, ...).
    case httpStatus(Int, url: String, attempts: Int)
    /// Connect timeout, low-speed limit or attempt deadline, on the last
    /// attempt. A server fault.
    case timedOut(url: String, detail: String, attempts: Int)
    /// Any other transfer failure libcurl reported, on the last attempt. A
    /// server fault when the connection broke or the body was cut, the host
    /// could not be resolved or reached, the TLS handshake failed, or the
    /// redirects loop; final otherwise (an untrusted certificate, an
    /// unreadable CA bundle, ...).
    case transfer(url: String, curlCode: Int, detail: String, attempts: Int)
    /// The downloaded file's SHA-256 is not the expected one; nothing was
    /// installed. Final: the pinned checksum or the URL is wrong.
    case checksumMismatch(url: String, expected: String, actual: String)
    /// A local file operation failed. Local (disk full, permissions, ...).
    case file(operation: String, path: String, errno: Int32)
    /// The request cannot be attempted as given. Final.
    case invalidRequest(String)
    /// The file is larger than DownloadRequest.maxBytes, as announced or as
    /// sent; the partial file was removed. Final.
    case tooLarge(url: String, limit: Int64)
    /// A redirect to a scheme other than http or https, or from https down to
    /// http, was refused before it was followed. Final.
    case redirectRefused(from: String, to: String)
    /// The complete file was refused by DownloadRequest.verify (e.g. an HTML
    /// page served with 200 instead of a binary); the previous file is kept.
    /// A server fault.
    case refused(url: String, reason: String)
    /// The response's sizes are malformed or impossible (a Content-Range not
    /// at the asked offset, an offset plus length beyond any file size, a
    /// body past its announced end), on the last attempt. A server fault.
    case invalidResponse(url: String, detail: String, attempts: Int)

    /// The server or the network is at fault: trying again later may work.
    public var isServerFault: Bool {
        switch self {
        case let .httpStatus(status, _, _):
            status == 408 || status == 429 || (500...599).contains(status)
        case .timedOut, .refused, .invalidResponse:
            true
        case let .transfer(_, code, _, _):
            switch CurlFailure.Kind(curlCode: code) {
            case .interrupted, .unreachable, .tlsHandshake, .tooManyRedirects, .timedOut: true
            default: false
            }
        case .libcurlUnavailable, .libcryptoUnavailable, .checksumMismatch, .file, .invalidRequest, .tooLarge, .redirectRefused:
            false
        }
    }

    /// A file-system problem on this machine (no space, no permission, ...).
    public var isLocal: Bool {
        if case .file = self { true } else { false }
    }

    public var description: String {
        switch self {
        case let .libcurlUnavailable(reason):
            return "cannot load libcurl.so.4 (\(reason)); install libcurl4 (Debian, Ubuntu) "
                + "or libcurl (Fedora, EL, SUSE, Arch)"
        case let .libcryptoUnavailable(reason):
            return "cannot load libcrypto.so.3 (\(reason)); install libssl3 (Debian, Ubuntu), "
                + "openssl-libs (Fedora, EL) or openssl / openssl-3 (Arch)"
        case let .httpStatus(status, url, attempts):
            return "GET \(shownURL(url)) answered HTTP \(status) \(Self.reason(status))\(Self.after(attempts)); "
                + Self.advice(status)
        case let .timedOut(url, detail, attempts):
            return "GET \(shownURL(url)) timed out\(Self.after(attempts)): \(detail); "
                + "check the network path and proxy settings, or raise the timeouts"
        case let .transfer(url, code, detail, attempts):
            return "GET \(shownURL(url)) failed\(Self.after(attempts)): \(detail) (curl error \(code)); "
                + Self.advice(curlCode: code)
        case let .checksumMismatch(url, expected, actual):
            return "SHA-256 mismatch for \(shownURL(url)): expected \(expected), got \(actual); the file was not "
                + "installed and will not be fetched again as is: fix the expected checksum "
                + "(codeServer.sha256 in the spec) or the URL, so that they name the same file"
        case let .file(operation, path, code):
            return "\(operation) \(path): \(String(cString: strerror(code)))" + Self.advice(errno: code, path: path)
        case let .invalidRequest(reason):
            return "invalid download request: \(reason)"
        case let .tooLarge(url, limit):
            return "GET \(shownURL(url)): the file is larger than the limit of \(limit) bytes; nothing was installed: "
                + "check the URL, or raise the limit if the file really is that large"
        case let .redirectRefused(from, to):
            return "GET \(shownURL(from)) redirected to \(shownURL(to)), which is refused: redirects are followed only to "
                + "http or https and never from https to http; fix the URL or the server's redirect"
        case let .refused(url, reason):
            return "GET \(shownURL(url)) sent a file that was refused: \(reason); the previous file was kept: "
                + "check what the server sends at this URL (an error page instead of the file?)"
        case let .invalidResponse(url, detail, attempts):
            return "GET \(shownURL(url)) sent an invalid response\(Self.after(attempts)): \(detail); "
                + "the server or a proxy in between is faulty"
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

    private static func advice(errno code: Int32, path: String) -> String {
        let directory = path.lastIndex(of: "/").map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        switch code {
        case ENOSPC, EDQUOT: return "; the file system holding \(directory) is full: free space there"
        case EROFS: return "; \(directory) is on a read-only file system"
        case EACCES, EPERM: return "; check the owner and permissions of \(directory)"
        default: return ""
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
