#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Turns a JSON document (or an already parsed tree, e.g. from YAML on the
/// host) into a complete, validated `WorkspaceSpec`, or an `InvalidSpec`
/// listing every problem with its field path.
public enum SpecDecoder {
    /// The largest spec document read, in bytes. A spec is a few KiB, and
    /// the Secret that brings it into the VM holds at most 1 MiB; anything
    /// larger is refused before it is parsed.
    public static let maximumDocumentBytes = 1024 * 1024

    /// The diagnostics whose path is "" concern the whole document: larger
    /// than `maximumDocumentBytes`, not valid JSON, or not a mapping. Every
    /// other problem names its field, a key given twice included.
    public static func decode(json data: Data, source: String? = nil) throws(InvalidSpec) -> WorkspaceSpec {
        guard data.count <= maximumDocumentBytes else {
            throw InvalidSpec(
                source: source, document: "is larger than 1 MiB (\(maximumDocumentBytes) bytes), the most a spec may be",
                hint: "a spec is a few KiB; check that this is the right file")
        }
        let tree: JSONValue
        do {
            tree = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            let looksLikeYAML = data.first(where: { !" \t\r\n".utf8.contains($0) }).map { $0 != UInt8(ascii: "{") } ?? false
            let hint =
                looksLikeYAML
                ? "the daemon reads JSON, as coder-vm-seed writes it; check a YAML spec with `coder-vm-seed check-config FILE` and convert it with `coder-vm-seed render-spec FILE`"
                : "fix the JSON syntax (`python3 -m json.tool FILE` shows where)"
            throw InvalidSpec(source: source, document: "not valid JSON", hint: hint)
        }
        // Repeated keys are named by their field path, which needs a mapping at the top.
        guard case .object = tree else { return try decode(tree, source: source) }
        var diagnostics = repeatedKeys(inJSON: data)
        var spec: WorkspaceSpec?
        do { spec = try decode(tree, source: source) } catch { diagnostics += error.diagnostics }
        if let spec, diagnostics.isEmpty { return spec }
        throw InvalidSpec(source: source, diagnostics: diagnostics)
    }

    /// A problem for every key given twice in one object of `data`, a JSON
    /// document JSONDecoder accepted (it keeps the first copy silently; most
    /// other readers keep the last). For callers that parse JSON themselves
    /// and then `decode(_:source:)` the tree.
    public static func repeatedKeys(inJSON data: Data) -> [SpecDiagnostic] {
        JSONDuplicateKeys.paths(in: data).map {
            SpecDiagnostic(
                path: $0, message: "appears more than once in its mapping",
                hint: "keep one: JSON readers disagree on which copy counts")
        }
    }

    public static func decode(_ tree: JSONValue, source: String? = nil) throws(InvalidSpec) -> WorkspaceSpec {
        let diagnostics = SpecReader.Diagnostics()
        let spec = SpecReader.mapping(tree, path: "", diagnostics: diagnostics).flatMap { root in
            defer { root.finish() }
            return readSpec(root)
        }
        guard let spec, diagnostics.all.isEmpty else {
            throw InvalidSpec(source: source, diagnostics: diagnostics.all)
        }
        return spec
    }

    // MARK: - Sections

    private static func readSpec(_ root: SpecReader) -> WorkspaceSpec? {
        _ = root.string("apiVersion", required: true) { version in
            version == WorkspaceSpec.currentAPIVersion
                ? nil
                : ("\(FieldRules.quoted(version)) is not a version this program reads", "use apiVersion: \(WorkspaceSpec.currentAPIVersion)")
        }
        let workspace = root.section("workspace", required: true, readIdentity)
        let hostname = root.string("hostname", rule: FieldRules.hostname)
        let user = root.section("user", required: true, readUser)
        let coder = root.section("coder", readCoder)
        let codeServer = root.section("codeServer", readCodeServer) ?? CodeServerSettings()
        let ssh = root.section("ssh", readSSH) ?? SSHSettings()
        let docker = root.section("docker", readDocker) ?? DockerSettings()
        let readiness = root.section("readiness", readReadiness) ?? ReadinessSettings()
        let install = root.section("install", readInstall)
        let downloads = root.section("downloads", readDownloads) ?? DownloadLimits()
        let network = readNetwork(root)

        guard let workspace = workspace ?? nil, let user = user ?? nil else { return nil }
        var spec = WorkspaceSpec(
            workspace: workspace, hostname: hostname, user: user, coder: coder ?? nil,
            codeServer: codeServer, ssh: ssh, docker: docker, readiness: readiness,
            install: install ?? nil, downloads: downloads)
        spec.network = network
        checkAcrossSections(spec, root)
        return spec
    }

    private static func readIdentity(_ r: SpecReader) -> WorkspaceIdentity? {
        let owner = r.string("owner", required: true, rule: FieldRules.dnsLabel)
        let name = r.string("name", required: true, rule: FieldRules.dnsLabel)
        let id = r.string("id", required: true) { id in
            id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") })
                ? nil
                : ("\(FieldRules.quoted(id)) is not a workspace id", "use Coder's workspace id (data.coder_workspace.me.id)")
        }
        guard let owner, let name, let id else { return nil }
        return WorkspaceIdentity(owner: owner, name: name, id: id)
    }

    private static func readUser(_ r: SpecReader) -> WorkspaceUser? {
        let name = r.string("name", required: true, rule: FieldRules.userName)
        var user = WorkspaceUser(name: name ?? "")
        if let shell = r.string("shell", rule: FieldRules.shell) { user.shell = shell }
        user.sudo = r.bool("sudo") ?? user.sudo
        user.groups = r.strings("groups", rule: { [sudo = user.sudo] in FieldRules.supplementaryGroup($0, sudo: sudo) }) ?? []
        user.sshAuthorizedKeys = r.strings("sshAuthorizedKeys", rule: checkAuthorizedKey) ?? []
        return name == nil ? nil : user
    }

    private static func checkAuthorizedKey(_ line: String) -> FieldRules.Problem? {
        do {
            _ = try SSHAuthorizedKey(line: line)
            return nil
        } catch {
            switch error {
            case .multipleLines: return ("an SSH key must be one line", "give each key as its own list item")
            case .noKeyType: return ("not an SSH public key", "paste the whole line of ~/.ssh/id_ed25519.pub (type, key, comment)")
            case .badBase64: return ("the key data is not valid base64", "paste the .pub line unchanged")
            case .typeMismatch(let embedded):
                return ("the key data is a \(embedded) key but the line says otherwise", "paste the .pub line unchanged")
            }
        }
    }

    private static func readCoder(_ r: SpecReader) -> CoderSettings? {
        let accessURL = r.string("accessURL", required: true) { FieldRules.url($0) }
        var coder = CoderSettings(accessURL: accessURL ?? "")
        coder.agentURL = r.string("agentURL") { FieldRules.url($0) }
        coder.token = r.string("token") { token in
            token.isEmpty || token.contains(where: { $0.isWhitespace })
                ? ("the token is empty or contains white space", "give the agent token exactly as Coder minted it") : nil
        }
        coder.tokenFile = r.string("tokenFile", rule: FieldRules.absolutePath)
        coder.auth = r.choice("auth", CoderSettings.Auth.self) ?? coder.auth
        coder.arch = r.choice("arch", CPUArchitecture.self) ?? coder.arch
        coder.caCertificates = r.strings("caCertificates", allowing: FieldRules.pemWhitespace, rule: FieldRules.pemCertificates) ?? []
        coder.proxy = r.section("proxy") { p in
            var proxy = ProxySettings(http: p.string("http") { FieldRules.url($0) }, https: p.string("https") { FieldRules.url($0) })
            proxy.noProxy = p.strings("noProxy", rule: FieldRules.noProxyEntry) ?? []
            return proxy
        }
        coder.agentHeaders =
            r.stringMap(
                "agentHeaders",
                rule: { name, value in
                    FieldRules.headerName(name) ?? FieldRules.headerValue(value)
                }) ?? [:]
        switch (coder.auth, coder.token, coder.tokenFile) {
        case (.token, nil, nil):
            r.report("token", "is required with auth: token", hint: "set token (coder_agent.main.token) or tokenFile")
        case (.token, .some, .some):
            r.report("tokenFile", "token and tokenFile are both set", hint: "keep one of them")
        default: break
        }
        return accessURL == nil ? nil : coder
    }

    private static func readCodeServer(_ r: SpecReader) -> CodeServerSettings {
        var settings = CodeServerSettings()
        settings.enabled = r.bool("enabled") ?? settings.enabled
        if let version = r.string("version", rule: FieldRules.releaseVersion) { settings.version = version }
        if let template = r.string(
            "downloadURL",
            rule: { template in
                let rest = template.replacing("{version}", with: "").replacing("{arch}", with: "")
                if rest.contains("{") || rest.contains("}") {
                    return ("unknown placeholder in \(FieldRules.quoted(template))", "only {version} and {arch} are substituted")
                }
                // Checked with the default version: a bad version is reported at version, once.
                return FieldRules.url(CodeServerSettings(downloadURL: template).downloadURL(arch: .amd64))
            })
        {
            settings.downloadURL = template
        }
        settings.sha256 =
            r.stringMap(
                "sha256",
                rule: { arch, digest in
                    [CPUArchitecture.amd64.rawValue, CPUArchitecture.arm64.rawValue].contains(arch)
                        ? FieldRules.sha256Hex(digest) : ("unknown architecture \(FieldRules.quoted(arch))", "use amd64 or arm64")
                }) ?? [:]
        settings.installedPath = r.string("installedPath", rule: FieldRules.absolutePath)
        settings.auth = r.choice("auth", CodeServerSettings.Auth.self) ?? settings.auth
        if let bind = r.string("bindAddress", rule: { [auth = settings.auth] in FieldRules.bindAddress($0, auth: auth) }) {
            settings.bindAddress = bind
        }
        settings.hashedPassword = r.string("hashedPassword", rule: FieldRules.hashedPassword)
        settings.extensions = r.strings("extensions", rule: FieldRules.extensionID) ?? []
        settings.settings = r.object("settings") ?? [:]

        if settings.auth == .password, settings.hashedPassword == nil {
            r.report("hashedPassword", "is required with auth: password", hint: "give code-server's argon2 hashed-password")
        }
        let downloads = settings.enabled && settings.installedPath == nil
        if downloads, settings.sha256.isEmpty, [CPUArchitecture.amd64, .arm64].contains(where: { FieldRules.isPlainHTTP(settings.downloadURL(arch: $0)) }) {
            r.report(
                "downloadURL", "code-server would be downloaded over plain http:// with no SHA-256 to check it against, so anyone on the way could replace it",
                hint:
                    "use an https:// URL, or pin the tarball's digest in codeServer.sha256 (amd64, arm64: `sha256sum FILE`); an architecture without a pin is refused at run time"
            )
        }
        return settings
    }

    private static func readSSH(_ r: SpecReader) -> SSHSettings {
        var ssh = SSHSettings()
        ssh.enabled = r.bool("enabled") ?? ssh.enabled
        if let port = r.int("port") {
            r.report("port", FieldRules.port(port))
            ssh.port = port
        }
        ssh.passwordAuthentication = r.bool("passwordAuthentication") ?? ssh.passwordAuthentication
        ssh.permitRootLogin = r.bool("permitRootLogin") ?? ssh.permitRootLogin
        return ssh
    }

    private static func readDocker(_ r: SpecReader) -> DockerSettings {
        DockerSettings(
            enabled: r.bool("enabled") ?? true, install: r.bool("install") ?? true,
            allowDockerRepository: r.bool("allowDockerRepository") ?? false,
            addUserToGroup: r.bool("addUserToGroup") ?? true)
    }

    private static func readReadiness(_ r: SpecReader) -> ReadinessSettings {
        var readiness = ReadinessSettings()
        if let port = r.int("port") {
            r.report("port", FieldRules.port(port))
            readiness.port = port
        }
        if let names = r.strings(
            "required",
            rule: { name in
                ComponentName(rawValue: name) == nil
                    ? ("unknown component \(FieldRules.quoted(name))", "use \(ComponentName.allCases.map(\.rawValue).joined(separator: ", "))") : nil
            })
        {
            readiness.required = names.compactMap(ComponentName.init(rawValue:))
        }
        return readiness
    }

    private static func readInstall(_ r: SpecReader) -> InstallSettings? {
        let url = r.string("packageURL", required: true) { FieldRules.url($0) }
        let sha256 = r.string("sha256", rule: FieldRules.sha256Hex)
        if let url, FieldRules.isPlainHTTP(url), sha256 == nil {
            r.report(
                "packageURL",
                "the package would be downloaded over plain http:// with no SHA-256 to check it against, so anyone on the way could replace the daemon",
                hint: "use an https:// URL, or set install.sha256 to the package's digest (`sha256sum FILE`)")
        }
        return url.map { InstallSettings(packageURL: $0, sha256: sha256) }
    }

    private static func readDownloads(_ r: SpecReader) -> DownloadLimits {
        var limits = DownloadLimits()
        if let bytes = r.int("maxBytes") {
            if !DownloadLimits.maxBytesRange.contains(bytes) {
                r.report(
                    "maxBytes", "\(bytes) is outside 1048576 (1 MiB) to 68719476736 (64 GiB)", hint: "give a size in bytes; the default is 2147483648 (2 GiB)")
            }
            limits.maxBytes = bytes
        }
        if let seconds = r.int("attemptTimeout") {
            if !DownloadLimits.attemptTimeoutRange.contains(seconds) {
                r.report("attemptTimeout", "\(seconds) s is outside 10 s to 86400 s (a day)", hint: "give seconds; the default is 1800")
            }
            limits.attemptTimeout = seconds
        }
        return limits
    }

    /// cloud-init's network-config, which cloud-init and the distribution's
    /// renderer judge: only its version is checked here, so that a mapping
    /// meant for something else fails now rather than silently at boot.
    private static func readNetwork(_ root: SpecReader) -> JSONValue? {
        guard let fields = root.object("network") else { return nil }
        let path = root.childPath("network") + ".version"
        switch fields["version"] {
        case .int(1)?, .int(2)?:
            return .object(fields)
        case nil:
            let wrapped = fields["network"] != nil
            root.diagnostics.report(
                path, "is required (cloud-init network-config version 2, or 1)",
                hint: wrapped
                    ? "give the network-config mapping itself, not wrapped in another network: key"
                    : "start the mapping with version: 2, then ethernets: ...")
        case .int(let number)?:
            root.diagnostics.report(path, "\(number) is not a network-config version cloud-init reads", hint: "use version: 2 (or 1)")
        case let other?:
            root.diagnostics.report(path, "must be the number 2 or 1, not \(other.kindName)", hint: "write version: 2 without quotes")
        }
        return nil
    }

    /// Rules that relate fields of different sections.
    private static func checkAcrossSections(_ spec: WorkspaceSpec, _ root: SpecReader) {
        let enabled = Set(spec.enabledComponents)
        for (index, name) in (spec.readiness.required ?? []).enumerated() where !enabled.contains(name) {
            root.diagnostics.report(
                "readiness.required[\(index)]", "\(name.rawValue) is required but not enabled",
                hint: name == .agent ? "add a coder section or drop agent from the list" : "enable it or drop it from the list")
        }
        let debug = CoderSettings.agentDebugAddress
        var taken: [(owner: String, port: Int)] = []
        if spec.coder != nil {
            taken.append(("the Coder agent's debug server (CODER_AGENT_DEBUG_ADDRESS=\(debug.host):\(debug.port), fixed)", debug.port))
        }
        var ports: [(path: String, port: Int)] = []
        if spec.ssh.enabled { ports.append(("ssh.port", spec.ssh.port)) }
        if spec.codeServer.enabled { ports.append(("codeServer.bindAddress", spec.codeServer.port)) }
        ports.append(("readiness.port", spec.readiness.port))
        for (path, port) in ports {
            if let other = taken.first(where: { $0.port == port }) {
                root.diagnostics.report(path, "port \(port) is also used by \(other.owner)", hint: "give each service its own port")
            }
            taken.append((path, port))
        }
        if !spec.docker.addUserToGroup, let index = spec.user.groups.firstIndex(of: "docker") {
            root.diagnostics.report(
                "user.groups[\(index)]", "docker lets its members act as root, but docker.addUserToGroup is false",
                hint: "set docker.addUserToGroup: true if the user should run containers, or drop docker from groups")
        }
    }
}
