import Glibc
import WorkspaceSpec

/// dockerd from the distribution's package, its socket and service enabled,
/// the user in the docker group. Healthy when the API answers `/_ping`.
public struct DockerComponent: Component {
    public let name = ComponentName.docker
    public let unit = "docker.service"
    static let socketPath = "/run/docker.sock"
    let settings: DockerSettings

    public init(spec: WorkspaceSpec) { settings = spec.docker }

    public func converge(_ context: ComponentContext) async throws -> Bool {
        guard !Self.isInstalled else { return false }
        guard settings.install else {
            throw ComponentError("docker is not installed and docker.install is false; bake it into the image or allow the install")
        }
        guard let distro = context.distro else {
            throw ComponentError("docker is not installed and this distribution is unknown; install it in the image")
        }
        guard let package = distro.dockerPackage else {
            throw ComponentError("\(distro.family.rawValue) has no docker package in its base repositories; bake docker-ce (or podman-docker) into the image")
        }
        context.report("installing \(package) with \(distro.packageManager.rawValue)")
        if distro.packageManager == .apt {
            try await HostCommand(["apt-get", "update", "-q"]).run()
        }
        try await HostCommand(distro.packageManager.installCommand([package]),
                              environment: ["DEBIAN_FRONTEND": "noninteractive"]).run()
        return true
    }

    public func probe() async -> ProbeResult {
        await Probe.http(.unixSocket(Self.socketPath), path: "/_ping", accept: { $0 == 200 })
    }

    static var isInstalled: Bool {
        let candidates: [String] = ["/usr/bin/dockerd", "/usr/sbin/dockerd", "/usr/local/bin/dockerd"]
        return candidates.contains { access($0, X_OK) == 0 }
    }
}

/// A component could not be converged; the message says what to do.
public struct ComponentError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
