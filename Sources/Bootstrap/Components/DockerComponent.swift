import HostSystem
import WorkspaceSpec

/// dockerd from the distribution's package (or, on the EL9 family and only
/// when the spec allows it, docker-ce from Docker's repository), its socket
/// and service enabled (the user joins the docker group through the user
/// component). Healthy when the API answers `/_ping`. The install runs the
/// family's package manager the way `PackageManager.installSteps` says (on
/// apt: recovery from a killed install first, a lock held by someone else
/// waited for), under a deadline, with progress for systemd.
public struct DockerComponent: Component {
    public let name = ComponentName.docker
    public let unit: String? = "docker.service"
    public let bootUnits = ["docker.socket", "docker.service"]
    /// Installing it needs the network and the package manager, which
    /// cloud-init's init stage brings up (and may use) first.
    public let afterUnits = ["sysinit.target"]
    static let socketPath = "/run/docker.sock"
    let settings: DockerSettings

    public init(spec: WorkspaceSpec) { settings = spec.docker }

    /// What installing docker takes here, from the distribution table and the spec alone.
    struct InstallPlan: Equatable {
        var packageManager: PackageManager
        var packages: [String]
        /// Added before the install; nil: the distribution's own repositories have docker.
        var repository: DockerRepository?
    }

    public func converge(_ context: ComponentContext) async throws -> Bool {
        guard !Self.isInstalled || Self.leftHalfInstalled(on: context.host) else { return false }
        let plan = try Self.installPlan(on: context.host, settings: settings)
        if let repository = plan.repository { try Self.add(repository, context) }
        let manager = plan.packageManager
        let what = "installing \(plan.packages.joined(separator: " ")) with \(manager.rawValue)"
        context.report(what)
        // Progress for systemd and people while the package manager runs.
        let heartbeat = HostCommand.Heartbeat(every: .seconds(10)) { elapsed in
            context.report("\(what) (\(elapsed.components.seconds) s)")
        }
        for step in manager.installSteps(plan.packages) {
            // A deadline or a signal is a passing local fault, a failed
            // install a configuration one (ComponentError.classify).
            try await HostCommand(step, environment: manager.environment, deadline: .seconds(20 * 60), heartbeat: heartbeat).run()
        }
        guard Self.isInstalled else {
            throw ComponentError(.configuration, "\(plan.packages.joined(separator: " ")) installed but no dockerd was found; install docker in the image")
        }
        return true
    }

    public func probe() async -> ProbeResult {
        await Probe.http(.unixSocket(Self.socketPath), path: "/_ping", accept: { $0 == 200 })
    }

    static func installPlan(on host: HostDetection, settings: DockerSettings) throws(ComponentError) -> InstallPlan {
        guard settings.install else {
            throw ComponentError(.configuration, "docker is not installed and docker.install is false; bake it into the image or allow the install")
        }
        guard let distro = host.distro else {
            throw ComponentError(.configuration, "docker is not installed and this distribution is unknown; install it in the image")
        }
        switch distro.docker {
        case .distributionPackage(let package):
            return InstallPlan(packageManager: distro.packageManager, packages: [package])
        case .dockerRepository(let repository):
            guard settings.allowDockerRepository else {
                throw ComponentError(
                    .configuration,
                    "docker is not installed and \(host.osRelease.prettyName) has no docker in its base repositories; "
                        + "set docker.allowDockerRepository: true to install docker-ce from Docker's repository (\(repository.baseURL)), "
                        + "or bake docker into the image")
            }
            return InstallPlan(packageManager: distro.packageManager, packages: repository.packages, repository: repository)
        }
    }

    /// Docker's repository definition, unless the image has one of that name
    /// already (Docker's own, or a mirror of it): that one is used as it is.
    static func add(_ repository: DockerRepository, _ context: ComponentContext) throws {
        let folder = try Directory.system(DockerRepository.folder, creating: .init())
        guard try folder.status(DockerRepository.fileName) == nil else { return }
        context.report("adding Docker's repository as \(folder.childPath(DockerRepository.fileName))")
        try folder.writeFile(DockerRepository.fileName, text: repository.definition, mode: 0o644)
    }

    /// An install killed halfway (the daemon or the VM stopped during it)
    /// can leave dockerd on disk with its package unpacked but never
    /// configured: dpkg's status says so, and the install steps, which begin
    /// with `dpkg --configure -a`, finish it. (rpm and pacman transactions
    /// do not leave a package half done that way.)
    static func leftHalfInstalled(on host: HostDetection) -> Bool {
        guard let distro = host.distro, distro.packageManager == .apt, case .distributionPackage(let package) = distro.docker,
            let status = try? Directory.system("/var/lib/dpkg").readFile("status", limit: 64 << 20) ?? nil
        else { return false }
        return DpkgStatus(status).state(of: package).map { $0 != "install ok installed" } ?? false
    }

    static var isInstalled: Bool {
        ["/usr/bin", "/usr/sbin", "/usr/local/bin"].contains { folder in
            (try? Directory.system(folder).status("dockerd"))??.isExecutableFile ?? false
        }
    }
}

/// dpkg's status file: one stanza per package, `Package:` then `Status:`.
/// Read on every boot and a megabyte or more on a cloud image, so it is
/// scanned as bytes, line by line, not split into strings.
struct DpkgStatus {
    let bytes: [UInt8]

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// The `Status:` of `package` ("install ok installed"), nil when dpkg does not know it.
    func state(of package: String) -> String? {
        let packageLine = Array("Package: \(package)".utf8)
        let statusPrefix = Array("Status: ".utf8)
        var matched = false
        var status: ArraySlice<UInt8>?
        var start = bytes.startIndex
        while start <= bytes.endIndex {
            let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.endIndex
            let line = bytes[start..<end]
            if line.isEmpty {
                if matched { break }
                status = nil
            } else if line.elementsEqual(packageLine) {
                matched = true
            } else if line.starts(with: statusPrefix) {
                status = line.dropFirst(statusPrefix.count)
            }
            start = end + 1
        }
        guard matched, let status else { return nil }
        return String(decoding: status, as: UTF8.self)
    }
}
