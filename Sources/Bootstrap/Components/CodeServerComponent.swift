import Fetch
import HostSystem
import WorkspaceSpec

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// code-server from its release tarball, unpacked once per version under
/// /opt/code-server/<version>-<arch> and kept across reboots (never /tmp),
/// run as the user by `code-server@<user>.service` on the spec's address.
/// Healthy when `GET /healthz` answers 200; `"status":"expired"` there only
/// means nobody used it lately.
public struct CodeServerComponent: Component {
    public let name = ComponentName.codeServer
    public let unit: String?
    public let needs: Set<ComponentName> = [.user]
    let settings: CodeServerSettings
    let userName: String

    public init(spec: WorkspaceSpec) {
        settings = spec.codeServer
        userName = spec.user.name
        unit = "code-server@\(spec.user.name).service"
    }

    public func converge(_ context: ComponentContext) async throws -> Bool {
        let user = try context.workspaceUser()
        let release = try await installRelease(context)  // at once when the prefetch installed it
        let root = try Directory.system(context.paths.codeServerRoot, creating: .init())
        var changed = try root.pointLink("current", at: release)
        var environment = EnvironmentFile(comment: "Managed by coder-vm-bootstrap from the workspace spec (codeServer section).")
        try environment.set("CODE_SERVER_BIND_ADDR", settings.bindAddress)
        try environment.set("CODE_SERVER_AUTH", settings.auth.rawValue)
        if let hash = settings.hashedPassword { try environment.set("HASHED_PASSWORD", hash) }
        let environmentFolder = try Directory.system(context.paths.environmentFolder("code-server"), creating: .init())
        changed = try environmentFolder.writeFile("\(userName).env", text: environment.text, mode: 0o600) || changed
        try writeSettingsIfMissing(context, user: user)
        return changed
    }

    /// The release, downloaded and unpacked into root's /opt/code-server
    /// while the user is still being made; the running unit uses it only
    /// once converge points `current` at it.
    public func prefetch(_ context: ComponentContext, needsReady: NeedsReady) async throws -> Bool {
        _ = try await installRelease(context)
        return false
    }

    public func probe() async -> ProbeResult {
        return await Probe.http(Self.probeEndpoint(settings.bindAddress), path: "/healthz", accept: { $0 == 200 })
    }

    /// Where to reach code-server from this machine: its own address when it
    /// is bound to one (an IPv6 literal or localhost included), loopback when
    /// it listens everywhere.
    static func probeEndpoint(_ bindAddress: String) -> NetworkEndpoint {
        guard let bind = HostPort(bindAddress) else { return .tcp(host: "127.0.0.1", port: 13337) }
        switch bind.host {
        case "0.0.0.0", "localhost": return .tcp(host: "127.0.0.1", port: bind.port)
        case "::", "[::]": return .tcp(host: "::1", port: bind.port)
        default: return .tcp(host: bind.host, port: bind.port)
        }
    }

    /// Installs the spec's extensions that are missing, as the user, after
    /// code-server is up: it never delays readiness.
    public func afterReady(_ context: ComponentContext) async {
        guard !settings.extensions.isEmpty, let user = try? context.workspaceUser() else { return }
        let binary = "\(context.paths.codeServerRoot)/current/bin/code-server"
        let installed = (try? await HostCommand([binary, "--list-extensions"], user: user).run()) ?? ""
        let present = Set(installed.split(separator: "\n").map { $0.lowercased() })
        var added = 0
        for id in settings.extensions where !present.contains(id.split(separator: "@").first.map { $0.lowercased() } ?? id) {
            context.report("installing extension \(id)")
            do {
                try await HostCommand([binary, "--install-extension", id], user: user, deadline: .seconds(300)).run()
                added += 1
                context.logger.info("installed extension \(id)", metadata: ["component": "code-server", "stage": "extensions"])
            } catch {
                context.logger.warning("extension \(id) not installed: \(error)", metadata: ["component": "code-server", "stage": "extensions"])
            }
        }
        context.report("extensions: \(added) installed, \(settings.extensions.count) asked for")
    }

    /// The folder holding `bin/code-server`: the baked-in one, the one
    /// installed on an earlier boot, or a fresh download.
    private func installRelease(_ context: ComponentContext) async throws -> String {
        if let baked = settings.installedPath {
            let folder = try? Directory.system(baked).descend("bin")
            guard (try? folder?.status("code-server"))??.isExecutableFile == true else {
                throw ComponentError(
                    .configuration, "codeServer.installedPath \(baked) has no bin/code-server; fix the path or drop it to download \(settings.version)")
            }
            return baked
        }
        let arch = try CPUArchitecture.auto.resolved()
        if let refusal = settings.unpinnedDownloadRefusal(arch: arch) { throw ComponentError(.configuration, refusal) }
        let root = try Directory.system(context.paths.codeServerRoot, creating: .init())
        let releaseName = "\(settings.version)-\(arch.rawValue)"
        if try Self.holdsRelease(root, releaseName) { return root.childPath(releaseName) }

        // The tarball is unpacked while it downloads, member by member (never
        // `tar` as root). A crash halfway leaves a resumable .part download,
        // which is unpacked again from disk before the download continues,
        // and a staging folder, which is emptied first.
        let stagingName = ".staging-\(releaseName)"
        try root.removeTree(stagingName)
        let staging = try root.child(stagingName, creating: .init(mode: 0o700))
        let downloads = try Directory.system(context.paths.downloads, creating: .init(mode: 0o700))
        let tarballName = "code-server-\(settings.version)-linux-\(arch.rawValue).tar.gz"
        let url = settings.downloadURL(arch: arch)
        let job = DownloadJob(
            url: url, destination: downloads.childPath(tarballName),
            expectedSHA256: settings.sha256[arch.rawValue], mode: 0o600, revalidation: .never,
            body: .unpack(staging: staging.path, stripComponents: 1))
        do {
            _ = try await context.downloads.download(job, what: "code-server \(settings.version)", events: context.events, logger: context.logger)
        } catch {
            // The half-unpacked release goes; the .part download stays for the resume.
            _ = try? root.removeTree(stagingName)
            throw error
        }
        guard try Self.holdsRelease(root, stagingName) else {
            throw ComponentError(.configuration, "\(shownURL(url)) has no bin/code-server inside; check codeServer.downloadURL")
        }
        try root.child(stagingName).setAttributes(mode: 0o755)
        try root.rename(stagingName, to: releaseName)
        try root.sync()
        try downloads.remove(tarballName)
        return root.childPath(releaseName)
    }

    private static func holdsRelease(_ root: Directory, _ name: String) throws -> Bool {
        guard let release = try? root.child(name), let bin = try? release.child("bin") else { return false }
        return try bin.status("code-server")?.isExecutableFile ?? false
    }

    /// The spec's settings become the user's settings.json only when they
    /// have none: what people change in the editor is theirs to keep. The
    /// folders are walked and made from the home folder down without
    /// following any link the user may have planted, and owned by the user.
    private func writeSettingsIfMissing(_ context: ComponentContext, user: UserIdentity) throws {
        guard !settings.settings.isEmpty else { return }
        let home = FilePathParts(user.home)
        let owned = Directory.Creation(mode: 0o755, owner: user.ownership)
        let folder = try Directory.system(home.directory).child(home.name).descend(".local/share/code-server/User", creating: owned)
        guard try folder.status("settings.json") == nil else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try folder.writeFile("settings.json", Array(try encoder.encode(settings.settings)), mode: 0o644, owner: user.ownership)
    }
}
