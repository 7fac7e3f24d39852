#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Fetch
import Glibc
import WorkspaceSpec

/// code-server from its release tarball, unpacked once per version under
/// /opt/code-server/<version> and kept across reboots (never /tmp), run as
/// the user by `code-server@<user>.service` on the spec's address.
/// Healthy when `GET /healthz` answers 200; `"status":"expired"` there only
/// means nobody used it lately.
public struct CodeServerComponent: Component {
    public let name = ComponentName.codeServer
    public let unit: String
    let settings: CodeServerSettings
    let user: String

    public init(spec: WorkspaceSpec) {
        settings = spec.codeServer
        user = spec.user.name
        unit = "code-server@\(spec.user.name).service"
    }

    public func converge(_ context: ComponentContext) async throws -> Bool {
        let root = context.paths.codeServerRoot
        let release = try await installRelease(context)
        var changed = try pointCurrent(at: release, root: root)
        var environment = "CODE_SERVER_BIND_ADDR=\(settings.bindAddress)\nCODE_SERVER_AUTH=\(settings.auth.rawValue)\n"
        if let hash = settings.hashedPassword { environment += "HASHED_PASSWORD=\(hash)\n" }
        changed = try AtomicFile.write(environment, to: context.paths.codeServerEnvironmentFile(user: user), mode: 0o600) || changed
        try writeSettingsIfMissing(context)
        return changed
    }

    public func probe() async -> ProbeResult {
        let port = HostPort(settings.bindAddress)?.port ?? 13337
        return await Probe.http(.tcp(host: "127.0.0.1", port: port), path: "/healthz", accept: { $0 == 200 })
    }

    /// The folder holding `bin/code-server`: the baked-in one, the one
    /// installed on an earlier boot, or a fresh download.
    private func installRelease(_ context: ComponentContext) async throws -> String {
        if let baked = settings.installedPath {
            guard access("\(baked)/bin/code-server", X_OK) == 0 else {
                throw ComponentError("codeServer.installedPath \(baked) has no bin/code-server; fix the path or drop it to download \(settings.version)")
            }
            return baked
        }
        let arch = try CPUArchitecture.auto.resolved()
        if let refusal = settings.unpinnedDownloadRefusal(arch: arch) { throw ComponentError(refusal) }
        let root = context.paths.codeServerRoot
        let release = "\(root)/\(settings.version)-\(arch.rawValue)"
        if access("\(release)/bin/code-server", X_OK) == 0 { return release }

        // A crash halfway leaves at most a resumable .part download and a
        // half-unpacked staging folder, which is removed here.
        let staging = "\(root)/.staging-\(settings.version)-\(arch.rawValue)"
        try await HostCommand(["rm", "-rf", staging]).run()
        try AtomicFile.makeDirectories(staging)
        let tarball = "\(context.paths.state)/downloads/code-server-\(settings.version)-linux-\(arch.rawValue).tar.gz"
        try AtomicFile.makeDirectories("\(context.paths.state)/downloads")
        _ = try await context.downloads.download(
            DownloadRequest(url: settings.downloadURL(arch: arch), destination: tarball,
                            expectedSHA256: settings.sha256[arch.rawValue], mode: 0o644, revalidation: .never),
            what: "code-server \(settings.version)", report: context.report)
        context.report("unpacking code-server \(settings.version)")
        try await HostCommand(["tar", "-xzf", tarball, "-C", staging, "--strip-components=1", "--no-same-owner"]).run()
        guard access("\(staging)/bin/code-server", X_OK) == 0 else {
            throw ComponentError("\(settings.downloadURL(arch: arch)) has no bin/code-server inside; check codeServer.downloadURL")
        }
        guard rename(staging, release) == 0 else {
            throw ComponentError("cannot move \(staging) to \(release): \(String(cString: strerror(errno)))")
        }
        AtomicFile.syncDirectory(root)
        unlink(tarball)
        return release
    }

    /// /opt/code-server/current -> the release in use, swapped atomically.
    private func pointCurrent(at release: String, root: String) throws -> Bool {
        let current = "\(root)/current"
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = readlink(current, &buffer, buffer.count - 1)
        if length > 0, String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self) == release { return false }
        let temporary = "\(root)/.current.tmp"
        unlink(temporary)
        guard symlink(release, temporary) == 0, rename(temporary, current) == 0 else {
            throw ComponentError("cannot point \(current) at \(release): \(String(cString: strerror(errno)))")
        }
        return true
    }

    /// The spec's settings become the user's settings.json only when they
    /// have none: what people change in the editor is theirs to keep.
    private func writeSettingsIfMissing(_ context: ComponentContext) throws {
        guard !settings.settings.isEmpty else { return }
        let folder = "\(context.user.home)/.local/share/code-server/User"
        let file = "\(folder)/settings.json"
        guard access(file, F_OK) != 0 else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        guard let data = try? encoder.encode(settings.settings) else { return }
        for directory in [".local", ".local/share", ".local/share/code-server", ".local/share/code-server/User"] {
            let path = "\(context.user.home)/\(directory)"
            if mkdir(path, 0o755) == 0 { chown(path, context.user.uid, context.user.gid) }
        }
        try AtomicFile.write(Array(data), to: file, mode: 0o644, owner: (context.user.uid, context.user.gid))
    }

    /// Installs the spec's extensions that are missing, as the user. Runs in
    /// the background after code-server is up: never blocks readiness.
    func installExtensions(_ context: ComponentContext) async {
        let binary = "\(context.paths.codeServerRoot)/current/bin/code-server"
        let installed = (try? await HostCommand([binary, "--list-extensions"], user: context.user).run()) ?? ""
        let present = Set(installed.split(separator: "\n").map { $0.lowercased() })
        for id in settings.extensions where !present.contains(id.split(separator: "@").first.map { $0.lowercased() } ?? id) {
            context.report("installing extension \(id)")
            do {
                try await HostCommand([binary, "--install-extension", id], user: context.user).run()
                context.logger.info("installed extension \(id)", metadata: ["component": "code-server", "stage": "extensions"])
            } catch {
                context.logger.warning("extension \(id) not installed: \(error)", metadata: ["component": "code-server", "stage": "extensions"])
            }
        }
    }
}
