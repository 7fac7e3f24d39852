// The only Swift file that talks to CCurl: libcurl's easy interface in Swift
// terms (a request value, a delegate for the callbacks, a classified result),
// so the rest of Fetch never sees a variadic call, a CURLoption or a raw
// CURL pointer.
import CCurl

/// Process-wide libcurl loading.
enum CurlLibrary {
    /// Loads libcurl.so.4 once per process; wraps ccurl_load() and ccurl_load_error().
    static func load() throws(FetchError) {
        guard ccurl_load() != 0 else { return }
        let reason = ccurl_load_error().map { String(cString: $0) } ?? "unknown error"
        throw .libcurlUnavailable(reason: reason)
    }

    /// The loaded libcurl's version line; wraps ccurl_version().
    static var version: String { String(cString: ccurl_version()) }

    /// The CA bundle this libcurl was built to use, from
    /// curl_easy_getinfo(CURLINFO_CAINFO) (ccurl_getinfo_string); nil before
    /// libcurl 7.84 or when it was built without one.
    static var builtInCABundle: String? {
        let easy = CurlEasy()
        return easy.info(string: CURLINFO_CAINFO)
    }
}

/// Everything libcurl needs for one request: a download's GET, or an API call.
struct CurlRequest {
    var url: String
    /// Complete "Name: value" lines (CURLOPT_HTTPHEADER).
    var headers: [String] = []
    /// CURLOPT_RESUME_FROM_LARGE: asks for "Range: bytes=N-" and makes libcurl
    /// fail with .rangeIgnored when the server answers 200 instead of 206.
    var resumeFrom: Int64 = 0
    var maxRedirects: Int
    var connectTimeoutMilliseconds: Int
    /// CURLOPT_LOW_SPEED_LIMIT / CURLOPT_LOW_SPEED_TIME.
    var lowSpeedBytesPerSecond: Int
    var lowSpeedSeconds: Int
    /// CURLOPT_TIMEOUT_MS; nil means no limit on the whole transfer.
    var timeoutMilliseconds: Int?
    /// CURLOPT_MAXFILESIZE_LARGE: libcurl refuses a response body announced
    /// or grown above this many bytes; nil for no limit.
    var maxBodyBytes: Int64?
    /// CURLOPT_CAINFO and CURLOPT_PROXY_CAINFO; nil keeps libcurl's built-in trust store.
    var caBundlePath: String?
    var proxy: Proxy
    var userAgent: String
    /// CURLOPT_CUSTOMREQUEST ("PATCH"); nil leaves it to libcurl (GET, or POST with a body).
    var method: String? = nil
    /// CURLOPT_POSTFIELDSIZE_LARGE and CURLOPT_COPYPOSTFIELDS; nil for no body.
    var body: [UInt8]? = nil
    /// CURLOPT_FAILONERROR: a status of 400 or more ends the transfer before
    /// its body (a download never keeps an error page). Off, the caller gets
    /// the status and the body.
    var failOnError = true
    /// CURLOPT_FOLLOWLOCATION. Off, a 3xx is the answer; RedirectPolicy
    /// refuses the same Locations either way.
    var followRedirects = true
}

/// Receives libcurl's callbacks, on the thread running perform().
protocol CurlDelegate: AnyObject {
    /// CURLOPT_WRITEFUNCTION: body bytes; false aborts with .writeFailed.
    func curlReceivedBody(_ bytes: UnsafeRawBufferPointer) -> Bool
    /// CURLOPT_HEADERFUNCTION: one header line, status lines included, every
    /// response of a redirect chain in turn; false aborts with .writeFailed.
    func curlReceivedHeader(_ line: String) -> Bool
    /// CURLOPT_XFERINFOFUNCTION, at least once a second while the transfer
    /// runs (libcurl's own counts leave out a resumed prefix and are not used);
    /// false aborts with .aborted.
    func curlProgress() -> Bool
}

/// How a perform() ended, when it did not succeed.
struct CurlFailure: Error {
    enum Kind: Equatable {
        /// CURLE_HTTP_RETURNED_ERROR (CURLOPT_FAILONERROR): status >= 400.
        case httpStatus
        /// CURLE_RANGE_ERROR: a resume was asked and the server sent the whole body.
        case rangeIgnored
        /// CURLE_OPERATION_TIMEDOUT: connect timeout, low-speed limit or overall timeout.
        case timedOut
        /// The connection broke or the body ended early (CURLE_PARTIAL_FILE, ...).
        case interrupted
        /// Name resolution or connection failed (CURLE_COULDNT_CONNECT, ...).
        case unreachable
        /// TLS handshake failed for a reason other than trust.
        case tlsHandshake
        /// The server's certificate is not trusted (CURLE_PEER_FAILED_VERIFICATION).
        case untrustedCertificate
        case tooManyRedirects
        /// A redirect to a scheme other than http or https, or from https to
        /// http (see RedirectPolicy); CurlCompletion.refusedRedirect says where.
        case redirectRefused
        /// CURLE_FILESIZE_EXCEEDED: the body is larger than CURLOPT_MAXFILESIZE_LARGE.
        case bodyTooLarge
        /// The delegate returned false from curlProgress.
        case aborted
        /// The delegate returned false from curlReceivedBody or curlReceivedHeader.
        case writeFailed
        case other

        /// The kind of a CURLcode, e.g. one kept in FetchError.transfer.
        init(curlCode: Int) {
            self = CurlEasy.kind(of: CURLcode(rawValue: UInt32(clamping: curlCode)))
        }
    }

    let kind: Kind
    /// The raw CURLcode, for messages.
    let code: Int
    /// libcurl's detailed message (CURLOPT_ERRORBUFFER or curl_easy_strerror).
    let message: String
}

/// How a perform() ended: the last HTTP status (0 if none) and the failure, if any.
struct CurlCompletion {
    let status: Int
    let failure: CurlFailure?
    /// CURLINFO_EFFECTIVE_URL: where redirects ended.
    let effectiveURL: String?
    /// The hop refused by RedirectPolicy, when failure is .redirectRefused.
    var refusedRedirect: (from: String, to: String)? = nil
}

/// One libcurl easy handle (curl_easy_init / curl_easy_cleanup). Used by one
/// thread at a time, as libcurl requires.
final class CurlEasy {
    private let handle: UnsafeMutableRawPointer
    /// CURLOPT_ERRORBUFFER target: libcurl's detailed message for the last failure.
    private let errorBuffer: UnsafeMutablePointer<CChar>
    /// String lists given to libcurl, which does not copy them.
    private var lists: [CurlStringList] = []

    /// Wraps ccurl_easy_init(); CurlLibrary.load() must have succeeded.
    init() {
        guard let handle = ccurl_easy_init() else {
            fatalError("curl_easy_init returned NULL (out of memory)")
        }
        self.handle = handle
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        ccurl_setopt_ptr(handle, CURLOPT_ERRORBUFFER, errorBuffer)
    }

    deinit {
        ccurl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    /// Sets up `request` with curl_easy_setopt and runs curl_easy_perform,
    /// blocking the calling thread until the transfer ends. The delegate is
    /// called back on this thread.
    func perform(_ request: CurlRequest, delegate: CurlDelegate) -> CurlCompletion {
        let box = DelegateBox(delegate, easy: self)
        let context = Unmanaged.passRetained(box)
        defer { context.release() }
        if let failure = configure(request, context: context.toOpaque()) {
            return CurlCompletion(status: 0, failure: failure, effectiveURL: nil)
        }
        errorBuffer[0] = 0
        let code = ccurl_easy_perform(handle)
        let status = info(CURLINFO_RESPONSE_CODE) ?? 0
        let url = info(string: CURLINFO_EFFECTIVE_URL)
        guard code != CURLE_OK else {
            return CurlCompletion(status: status, failure: nil, effectiveURL: url)
        }
        if let hop = box.refusedRedirect {
            let failure = CurlFailure(
                kind: .redirectRefused, code: Int(code.rawValue),
                message: "redirect from \(hop.from) to \(hop.to) refused")
            return CurlCompletion(status: status, failure: failure, effectiveURL: url, refusedRedirect: hop)
        }
        let failure = CurlFailure(
            kind: Self.kind(of: code), code: Int(code.rawValue),
            message: message(for: code))
        return CurlCompletion(status: status, failure: failure, effectiveURL: url)
    }

    /// curl_easy_setopt (through the ccurl_setopt_* wrappers) for every option
    /// of `request`; returns the first option libcurl refused.
    private func configure(_ request: CurlRequest, context: UnsafeMutableRawPointer) -> CurlFailure? {
        var results: [(String, CURLcode)] = [
            ("CURLOPT_URL", setString(CURLOPT_URL, request.url)),
            // No SIGALRM for DNS timeouts: several transfers run on their own threads.
            ("CURLOPT_NOSIGNAL", setLong(CURLOPT_NOSIGNAL, 1)),
            // Downloads: a 4xx/5xx body must never land in the file.
            ("CURLOPT_FAILONERROR", setLong(CURLOPT_FAILONERROR, request.failOnError ? 1 : 0)),
            ("CURLOPT_FOLLOWLOCATION", setLong(CURLOPT_FOLLOWLOCATION, request.followRedirects ? 1 : 0)),
            // What libcurl itself enforces; RedirectPolicy refuses the same
            // hops earlier, in the header callback, naming both URLs.
            (
                "CURLOPT_PROTOCOLS_STR",
                ccurl_setopt_web_protocols(handle, RedirectPolicy.scheme(of: request.url) == "https" ? 1 : 0)
            ),
            ("CURLOPT_MAXREDIRS", setLong(CURLOPT_MAXREDIRS, request.maxRedirects)),
            (
                "CURLOPT_CONNECTTIMEOUT_MS",
                setLong(CURLOPT_CONNECTTIMEOUT_MS, request.connectTimeoutMilliseconds)
            ),
            ("CURLOPT_LOW_SPEED_LIMIT", setLong(CURLOPT_LOW_SPEED_LIMIT, request.lowSpeedBytesPerSecond)),
            ("CURLOPT_LOW_SPEED_TIME", setLong(CURLOPT_LOW_SPEED_TIME, request.lowSpeedSeconds)),
            ("CURLOPT_TIMEOUT_MS", setLong(CURLOPT_TIMEOUT_MS, request.timeoutMilliseconds ?? 0)),
            ("CURLOPT_USERAGENT", setString(CURLOPT_USERAGENT, request.userAgent)),
            // Fewer, larger writes to the file than the 16 KiB default; 512 KiB
            // is the most libcurl before 7.88 accepts.
            ("CURLOPT_BUFFERSIZE", setLong(CURLOPT_BUFFERSIZE, Self.receiveBufferBytes)),
            (
                "CURLOPT_MAXFILESIZE_LARGE",
                ccurl_setopt_off_t(handle, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(request.maxBodyBytes ?? 0))
            ),
            (
                "CURLOPT_RESUME_FROM_LARGE",
                ccurl_setopt_off_t(handle, CURLOPT_RESUME_FROM_LARGE, curl_off_t(request.resumeFrom))
            ),
            ("CURLOPT_HTTPHEADER", setList(CURLOPT_HTTPHEADER, request.headers)),
            ("CURLOPT_WRITEFUNCTION", ccurl_setopt_write_callback(handle, CURLOPT_WRITEFUNCTION, onBody)),
            ("CURLOPT_WRITEDATA", ccurl_setopt_ptr(handle, CURLOPT_WRITEDATA, context)),
            ("CURLOPT_HEADERFUNCTION", ccurl_setopt_write_callback(handle, CURLOPT_HEADERFUNCTION, onHeader)),
            ("CURLOPT_HEADERDATA", ccurl_setopt_ptr(handle, CURLOPT_HEADERDATA, context)),
            ("CURLOPT_XFERINFOFUNCTION", ccurl_setopt_xferinfo_callback(handle, onProgress)),
            ("CURLOPT_XFERINFODATA", ccurl_setopt_ptr(handle, CURLOPT_XFERINFODATA, context)),
            ("CURLOPT_NOPROGRESS", setLong(CURLOPT_NOPROGRESS, 0)),
        ]
        if let method = request.method {
            results.append(("CURLOPT_CUSTOMREQUEST", setString(CURLOPT_CUSTOMREQUEST, method)))
        }
        if let body = request.body {
            // The size first, so the body may hold any byte; libcurl copies
            // it. Never a NULL pointer: that would make libcurl read stdin.
            results.append(
                (
                    "CURLOPT_POSTFIELDSIZE_LARGE",
                    ccurl_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
                ))
            let bytes = body.isEmpty ? [0] : body
            results.append(
                (
                    "CURLOPT_COPYPOSTFIELDS",
                    bytes.withUnsafeBytes { ccurl_setopt_ptr(handle, CURLOPT_COPYPOSTFIELDS, $0.baseAddress) }
                ))
        }
        if let path = request.caBundlePath {
            results.append(("CURLOPT_CAINFO", setString(CURLOPT_CAINFO, path)))
            // The same trust for an https:// proxy.
            results.append(("CURLOPT_PROXY_CAINFO", setString(CURLOPT_PROXY_CAINFO, path)))
        }
        switch request.proxy {
        case .environment:
            break  // libcurl's default: http_proxy, https_proxy, no_proxy
        case .direct:
            // An empty proxy disables the environment variables too.
            results.append(("CURLOPT_PROXY", setString(CURLOPT_PROXY, "")))
        case let .server(url, noProxy):
            results.append(("CURLOPT_PROXY", setString(CURLOPT_PROXY, url)))
            results.append(("CURLOPT_NOPROXY", setString(CURLOPT_NOPROXY, noProxy ?? "")))
        }
        guard let (name, code) = results.first(where: { $0.1 != CURLE_OK }) else { return nil }
        return CurlFailure(
            kind: .other, code: Int(code.rawValue),
            message: "libcurl \(CurlLibrary.version) refused \(name): \(Self.describe(code))")
    }

    private static let receiveBufferBytes = 512 * 1024

    private func setLong(_ option: CURLoption, _ value: Int) -> CURLcode {
        ccurl_setopt_long(handle, option, value)
    }

    private func setString(_ option: CURLoption, _ value: String) -> CURLcode {
        value.withCString { ccurl_setopt_ptr(handle, option, $0) }
    }

    private func setList(_ option: CURLoption, _ lines: [String]) -> CURLcode {
        let list = CurlStringList(lines)
        lists.append(list)
        return ccurl_setopt_slist(handle, option, list.head)
    }

    /// curl_easy_getinfo for a long item (ccurl_getinfo_long); nil if unsupported.
    fileprivate func info(_ item: CURLINFO) -> Int? {
        var value = 0
        return ccurl_getinfo_long(handle, item, &value) == CURLE_OK ? value : nil
    }

    /// curl_easy_getinfo for a string item (ccurl_getinfo_string); nil if unset
    /// or unknown to this libcurl.
    fileprivate func info(string item: CURLINFO) -> String? {
        var value: UnsafePointer<CChar>? = nil
        guard ccurl_getinfo_string(handle, item, &value) == CURLE_OK, let value else { return nil }
        return String(cString: value)
    }

    /// libcurl's detail from CURLOPT_ERRORBUFFER, else curl_easy_strerror(code).
    private func message(for code: CURLcode) -> String {
        let detail = String(cString: errorBuffer).trimmed
        return detail.isEmpty ? Self.describe(code) : detail
    }

    /// curl_easy_strerror
    private static func describe(_ code: CURLcode) -> String {
        String(cString: ccurl_easy_strerror(code))
    }

    fileprivate static func kind(of code: CURLcode) -> CurlFailure.Kind {
        switch code {
        case CURLE_HTTP_RETURNED_ERROR: .httpStatus
        case CURLE_RANGE_ERROR: .rangeIgnored
        case CURLE_OPERATION_TIMEDOUT: .timedOut
        case CURLE_PARTIAL_FILE, CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING,
            CURLE_HTTP2, CURLE_HTTP2_STREAM:
            .interrupted
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY, CURLE_COULDNT_CONNECT:
            .unreachable
        case CURLE_SSL_CONNECT_ERROR: .tlsHandshake
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE: .untrustedCertificate
        case CURLE_TOO_MANY_REDIRECTS: .tooManyRedirects
        case CURLE_FILESIZE_EXCEEDED: .bodyTooLarge
        case CURLE_ABORTED_BY_CALLBACK: .aborted
        case CURLE_WRITE_ERROR: .writeFailed
        default: .other
        }
    }
}

// The C callbacks: each recovers the delegate from its userdata pointer.

/// What the callbacks' userdata points at.
private final class DelegateBox {
    let delegate: CurlDelegate
    /// For curl_easy_getinfo from within a callback (allowed by libcurl).
    unowned let easy: CurlEasy
    /// Set by the header callback when it stopped the transfer on a redirect.
    var refusedRedirect: (from: String, to: String)?

    init(_ delegate: CurlDelegate, easy: CurlEasy) {
        self.delegate = delegate
        self.easy = easy
    }

    /// A Location header of a 3xx response: the hop it asks for, when
    /// RedirectPolicy refuses it. CURLINFO_EFFECTIVE_URL is still the URL
    /// that answered, since libcurl moves on only after the response.
    func refusesRedirect(_ line: String) -> Bool {
        guard line.utf8.count > 9, line.prefix(9).lowercased() == "location:",
            let status = easy.info(CURLINFO_RESPONSE_CODE), (300...399).contains(status),
            let from = easy.info(string: CURLINFO_EFFECTIVE_URL),
            let to = RedirectPolicy.refusedTarget(from: from, location: String(line.dropFirst(9)))
        else { return false }
        refusedRedirect = (from, to)
        return true
    }
}

private func box(_ userdata: UnsafeMutableRawPointer?) -> DelegateBox {
    Unmanaged<DelegateBox>.fromOpaque(userdata!).takeUnretainedValue()
}

private func delegate(_ userdata: UnsafeMutableRawPointer?) -> CurlDelegate {
    box(userdata).delegate
}

/// CURLOPT_WRITEFUNCTION: returning less than size * count makes libcurl stop
/// with CURLE_WRITE_ERROR.
private let onBody: curl_write_callback = { data, size, count, userdata in
    let length = size * count
    let bytes = UnsafeRawBufferPointer(start: data, count: length)
    return delegate(userdata).curlReceivedBody(bytes) ? length : 0
}

/// CURLOPT_HEADERFUNCTION: one complete header line per call, CRLF included;
/// returning less than size * count makes libcurl stop with CURLE_WRITE_ERROR.
private let onHeader: curl_write_callback = { data, size, count, userdata in
    let length = size * count
    let bytes = UnsafeRawBufferPointer(start: data, count: length)
    let line = String(decoding: bytes, as: UTF8.self).trimmed
    let box = box(userdata)
    guard !box.refusesRedirect(line), box.delegate.curlReceivedHeader(line) else { return 0 }
    return length
}

/// CURLOPT_XFERINFOFUNCTION: non-zero aborts with CURLE_ABORTED_BY_CALLBACK.
private let onProgress: curl_xferinfo_callback = { userdata, _, _, _, _ in
    delegate(userdata).curlProgress() ? 0 : 1
}

/// A struct curl_slist built with curl_slist_append, freed with curl_slist_free_all.
private final class CurlStringList {
    private(set) var head: UnsafeMutablePointer<curl_slist>?

    init(_ lines: [String]) {
        for line in lines {
            head = line.withCString { ccurl_slist_append(head, $0) }
        }
    }

    deinit { ccurl_slist_free_all(head) }
}
