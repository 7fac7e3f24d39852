import Fetch
import HostSystem
import Logging
import WorkspaceSpec

#if canImport(Glibc)
import Glibc
#endif

/// Downloads with the spec's network settings (extra CA, proxy, the bounds
/// of `downloads`, retries), telling the component's events what happens
/// (see `DownloadEventRelay`), and the API calls of the boot log with the
/// same network settings. In the daemon each download and each call runs
/// in a child process of its own (`FetchWorkerProcess`), which keeps
/// libcurl, its TLS stack and libcrypto out of the long-running process; a
/// short-lived command runs the same code itself. A download's failure
/// comes out as a `ComponentError` whose kind says whether the server is
/// at fault.
public struct DownloadService: Sendable {
    public var network: DownloadNetwork
    public var runner: Runner
    /// Fetch workers started ahead of their work, taken first (at boot).
    public var spares: SpareFetchWorkers?

    /// Where a download or a call runs.
    public enum Runner: Sendable, Equatable {
        /// In `coder-vm-bootstrap fetch-worker` started from `executable`.
        case worker(executable: String)
        /// In this process.
        case inProcess

        /// The daemon's own program: the worker is the same build as the
        /// daemon, also after a package upgrade replaced the file on disk.
        public static let ownExecutable = Runner.worker(executable: ownExecutablePath)
        static let ownExecutablePath = "/proc/self/exe"
    }

    public init(spec: WorkspaceSpec, extraCABundle: String?, runner: Runner = .ownExecutable) {
        let proxy: Proxy
        if let settings = spec.coder?.proxy, let server = settings.https ?? settings.http {
            proxy = .server(server, noProxy: settings.noProxy.isEmpty ? nil : settings.noProxy.joined(separator: ","))
        } else {
            proxy = .direct
        }
        let network = DownloadNetwork(
            extraCABundle: extraCABundle, proxy: proxy, maxBytes: Int64(spec.downloads.maxBytes),
            attemptTimeout: .seconds(spec.downloads.attemptTimeout))
        self.init(network: network, runner: runner)
    }

    public init(network: DownloadNetwork, runner: Runner) {
        self.network = network
        self.runner = runner
    }

    /// Runs `job`; `what` names it for people ("code-server 4.96.4");
    /// `logger` gets what a worker prints on its standard error. The
    /// check of a complete program (`verifyProgram`) waits for
    /// `beforeCheck`, the bytes do not.
    public func download(
        _ job: DownloadJob, what: String, events: ComponentEvents, logger: Logger,
        beforeCheck: (@Sendable () async throws -> Void)? = nil
    ) async throws -> DownloadResult {
        let relay = DownloadEventRelay(what: what, url: job.url, events: events)
        do {
            let result =
                switch runner {
                case let .worker(executable):
                    try await FetchWorkerProcess(executable: executable, spares: spares).download(
                        job, network: network, beforeCheck: beforeCheck, report: relay.relay, logger: logger)
                case .inProcess:
                    try await DownloadExecutor(network: network).run(job, beforeCheck: beforeCheck, report: relay.relay)
                }
            relay.finished(result)
            return result
        } catch let failure as DownloadFailure {
            relay.failed(failure.description)
            throw ComponentError(failure.fault.kind, "\(what): \(failure.description)")
        } catch {
            relay.failed("\(error)")
            throw error
        }
    }

    /// A client for API calls with these network settings, run where
    /// downloads run; `logger` gets what a worker prints on its standard error.
    /// - Throws: FetchError, as `HTTPClient.init` does: in this process
    ///   when libcurl or the extra CA bundle cannot be loaded; for the
    ///   worker only when the extra CA bundle is not there (yet).
    public func apiClient(logger: Logger) throws(FetchError) -> any HTTPCalling {
        switch runner {
        case .inProcess:
            return try HTTPClient(settings: network.callSettings)
        case let .worker(executable):
            if let bundle = network.extraCABundle {
                let file = FilePathParts(bundle)
                guard case .some(.some) = try? Directory.system(file.directory).status(file.name) else {
                    throw .file(operation: "open", path: bundle, errno: ENOENT)
                }
            }
            return WorkerHTTPClient(worker: FetchWorkerProcess(executable: executable, spares: spares), network: network, logger: logger)
        }
    }

    /// The error in words that name the spec's setting where one would fix it.
    static func explain(_ error: FetchError, host: String) -> String {
        guard error.isUnknownCertificateAuthority, case let .transfer(_, _, detail, _) = error else { return error.description }
        return "TLS: unknown CA for \(host): add it to coder.caCertificates (\(detail))"
    }

    /// A server's or the network's fault, a local file problem (a full
    /// disk), or something the spec must change.
    static func kind(of error: FetchError) -> ComponentError.Kind {
        error.isServerFault ? .server : error.isLocal ? .local : .configuration
    }

    static func host(of url: String) -> String {
        let afterScheme = url.split(separator: "/", omittingEmptySubsequences: true).dropFirst().first
        return afterScheme.map(String.init) ?? url
    }
}
