import HostSystem
import WorkspaceSpec

/// dockerd from the distribution's package, its socket and service enabled
/// (the user joins the docker group through the user component). Healthy
/// when the API answers `/_ping`. The install survives being killed halfway
/// (the package manager's own recovery runs first) and waits for a package
/// manager lock held by someone else instead of failing on it.
public struct DockerComponent: Component {
    public let name = ComponentName.docker
    public let unit: String? = "docker.service"
    public let bootUnits = ["docker.socket", "docker.service"]
    static let socketPath = "/run/docker.sock"
    let settings: DockerSettings

    public init(spec: WorkspaceSpec) { settings = spec.docker }

    public func converge(_ context: ComponentContext) async throws -> Bool {
        guard !Self.isInstalled else { return false }
        guard settings.install else {
            throw ComponentError(.configuration, "docker is not installed and docker.install is false; bake it into the image or allow the install")
        }
        guard let distro = context.distro else {
            throw ComponentError(.configuration, "docker is not installed and this distribution is unknown; install it in the image")
        }
        guard let package = distro.dockerPackage else {
            throw ComponentError(.configuration, "\(distro.family.rawValue) has no docker package in its base repositories; bake docker-ce (or podman-docker) into the image")
        }
        let manager = distro.packageManager
        let what = "installing \(package) with \(manager.rawValue)"
        context.report(what)
        // Progress for systemd and people while the package manager runs.
        let heartbeat = HostCommand.Heartbeat(every: .seconds(10)) { elapsed in
            context.report("\(what) (\(elapsed.components.seconds) s)")
        }
        for step in manager.installSteps([package]) {
            do {
                try await HostCommand(step, environment: manager.environment, deadline: .seconds(20 * 60), heartbeat: heartbeat).run()
            } catch {
                switch error.reason {
                case .timedOut, .signaled: throw ComponentError(.local, "\(error)")
                default: throw ComponentError(.configuration, "\(error)")
                }
            }
        }
        guard Self.isInstalled else {
            throw ComponentError(.configuration, "\(package) is installed but no dockerd was found; install docker in the image")
        }
        return true
    }

    public func probe() async -> ProbeResult {
        await Probe.http(.unixSocket(Self.socketPath), path: "/_ping", accept: { $0 == 200 })
    }

    static var isInstalled: Bool {
        ["/usr/bin", "/usr/sbin", "/usr/local/bin"].contains { folder in
            (try? Directory.system(folder).status("dockerd"))??.isExecutableFile ?? false
        }
    }
}
