#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Turns a JSON document (or an already parsed tree, e.g. from YAML on the
/// host) into a complete, validated `WorkspaceSpec`, or an `InvalidSpec`
/// listing every problem with its field path.
public enum SpecDecoder {
    public static func decode(json data: Data, source: String? = nil) throws(InvalidSpec) -> WorkspaceSpec {
        let tree: JSONValue
        do {
            tree = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            let looksLikeYAML = data.first(where: { !" \t\r\n".utf8.contains($0) }).map { $0 != UInt8(ascii: "{") } ?? false
            let hint = looksLikeYAML
                ? "the daemon reads JSON, as coder-vm-seed writes it; check a YAML spec with `coder-vm-seed check-config FILE` and convert it with `coder-vm-seed render-spec FILE`"
                : "fix the JSON syntax (`python3 -m json.tool FILE` shows where)"
            throw InvalidSpec(source: source, diagnostics: [SpecDiagnostic(path: "", message: "not valid JSON", hint: hint)])
        }
        return try decode(tree, source: source)
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
        if let version = root.string("apiVersion", required: true), version != WorkspaceSpec.currentAPIVersion {
            root.report("apiVersion", "\(FieldRules.quoted(version)) is not a version this program reads",
                        hint: "use apiVersion: \(WorkspaceSpec.currentAPIVersion)")
        }
        let workspace = root.section("workspace", required: true, readIdentity)
        let hostname = root.string("hostname")
        if let hostname { root.report("hostname", FieldRules.hostname(hostname)) }
        let user = root.section("user", required: true, readUser)
        let coder = root.section("coder", readCoder)
        let codeServer = root.section("codeServer", readCodeServer) ?? CodeServerSettings()
        let ssh = root.section("ssh", readSSH) ?? SSHSettings()
        let docker = root.section("docker", readDocker) ?? DockerSettings()
        let readiness = root.section("readiness", readReadiness) ?? ReadinessSettings()
        let install = root.section("install", readInstall)
        let network = readNetwork(root)

        guard let workspace = workspace ?? nil, let user = user ?? nil else { return nil }
        var spec = WorkspaceSpec(workspace: workspace, hostname: hostname, user: user, coder: coder ?? nil,
                                 codeServer: codeServer, ssh: ssh, docker: docker, readiness: readiness,
                                 install: install ?? nil)
        spec.network = network
        checkAcrossSections(spec, root)
        return spec
    }

    private static func readIdentity(_ r: SpecReader) -> WorkspaceIdentity? {
        let owner = r.string("owner", required: true)
        let name = r.string("name", required: true)
        let id = r.string("id", required: true)
        if let owner { r.report("owner", FieldRules.dnsLabel(owner)) }
        if let name { r.report("name", FieldRules.dnsLabel(name)) }
        if let id, id.isEmpty || !id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) {
            r.report("id", "\(FieldRules.quoted(id)) is not a workspace id", hint: "use Coder's workspace id (data.coder_workspace.me.id)")
        }
        guard let owner, let name, let id else { return nil }
        return WorkspaceIdentity(owner: owner, name: name, id: id)
    }

    private static func readUser(_ r: SpecReader) -> WorkspaceUser? {
        let name = r.string("name", required: true)
        if let name { r.report("name", FieldRules.userName(name)) }
        var user = WorkspaceUser(name: name ?? "")
        if let shell = r.string("shell") {
            r.report("shell", FieldRules.absolutePath(shell))
            user.shell = shell
        }
        user.groups = r.strings("groups", rule: { FieldRules.userName($0) == nil || $0 == "root" ? nil : FieldRules.userName($0) }) ?? []
        user.sudo = r.bool("sudo") ?? user.sudo
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
        let accessURL = r.string("accessURL", required: true)
        if let accessURL { r.report("accessURL", FieldRules.url(accessURL)) }
        var coder = CoderSettings(accessURL: accessURL ?? "")
        coder.agentURL = r.string("agentURL")
        if let agentURL = coder.agentURL { r.report("agentURL", FieldRules.url(agentURL)) }
        coder.token = r.string("token")
        coder.tokenFile = r.string("tokenFile")
        coder.auth = r.choice("auth", CoderSettings.Auth.self) ?? coder.auth
        coder.arch = r.choice("arch", CPUArchitecture.self) ?? coder.arch
        coder.caCertificates = r.strings("caCertificates", rule: FieldRules.pemCertificates) ?? []
        coder.proxy = r.section("proxy") { p in
            var proxy = ProxySettings(http: p.string("http"), https: p.string("https"))
            for key in ["http", "https"] {
                if let url = key == "http" ? proxy.http : proxy.https { p.report(key, FieldRules.url(url)) }
            }
            proxy.noProxy = p.strings("noProxy", rule: { $0.contains(where: { $0.isWhitespace || $0 == "," }) ? ("one host per item", "split the list") : nil }) ?? []
            return proxy
        }
        coder.agentHeaders = r.stringMap("agentHeaders", rule: { name, value in
            FieldRules.headerName(name) ?? FieldRules.headerValue(value)
        }) ?? [:]

        if let token = coder.token, token.isEmpty || token.contains(where: { $0.isWhitespace }) {
            r.report("token", "the token is empty or contains white space", hint: "give the agent token exactly as Coder minted it")
        }
        if let tokenFile = coder.tokenFile { r.report("tokenFile", FieldRules.absolutePath(tokenFile)) }
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
        if let version = r.string("version") {
            r.report("version", FieldRules.releaseVersion(version))
            settings.version = version
        }
        if let template = r.string("downloadURL") {
            settings.downloadURL = template
            var rest = template.replacing("{version}", with: "").replacing("{arch}", with: "")
            if rest.contains("{") || rest.contains("}") {
                r.report("downloadURL", "unknown placeholder in \(FieldRules.quoted(template))", hint: "only {version} and {arch} are substituted")
            } else {
                rest = settings.downloadURL(arch: .amd64)
                r.report("downloadURL", FieldRules.url(rest))
            }
        }
        settings.sha256 = r.stringMap("sha256", rule: { arch, digest in
            [CPUArchitecture.amd64.rawValue, CPUArchitecture.arm64.rawValue].contains(arch)
                ? FieldRules.sha256Hex(digest) : ("unknown architecture \(FieldRules.quoted(arch))", "use amd64 or arm64")
        }) ?? [:]
        settings.installedPath = r.string("installedPath")
        if let path = settings.installedPath { r.report("installedPath", FieldRules.absolutePath(path)) }
        if let bind = r.string("bindAddress") {
            settings.bindAddress = bind
            if HostPort(bind) == nil {
                r.report("bindAddress", "\(FieldRules.quoted(bind)) is not HOST:PORT", hint: "e.g. 127.0.0.1:13337")
            }
        }
        settings.auth = r.choice("auth", CodeServerSettings.Auth.self) ?? settings.auth
        settings.hashedPassword = r.string("hashedPassword")
        if let hash = settings.hashedPassword { r.report("hashedPassword", FieldRules.hashedPassword(hash)) }
        settings.extensions = r.strings("extensions", rule: FieldRules.extensionID) ?? []
        settings.settings = r.object("settings") ?? [:]

        if settings.auth == .none, let bind = HostPort(settings.bindAddress), !bind.isLoopback {
            r.report("bindAddress", "code-server on \(bind.host) with auth: none would let anyone who reaches the VM run commands as the user",
                     hint: "bind to 127.0.0.1 (Coder's port forwarding reaches it) or set auth: password with hashedPassword")
        }
        if settings.auth == .password, settings.hashedPassword == nil {
            r.report("hashedPassword", "is required with auth: password", hint: "give code-server's argon2 hashed-password")
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
        DockerSettings(enabled: r.bool("enabled") ?? true, install: r.bool("install") ?? true,
                       addUserToGroup: r.bool("addUserToGroup") ?? true)
    }

    private static func readReadiness(_ r: SpecReader) -> ReadinessSettings {
        var readiness = ReadinessSettings()
        if let port = r.int("port") {
            r.report("port", FieldRules.port(port))
            readiness.port = port
        }
        if let names = r.strings("required", rule: { name in
            ComponentName(rawValue: name) == nil
                ? ("unknown component \(FieldRules.quoted(name))", "use \(ComponentName.allCases.map(\.rawValue).joined(separator: ", "))") : nil
        }) {
            readiness.required = names.compactMap(ComponentName.init(rawValue:))
        }
        return readiness
    }

    private static func readInstall(_ r: SpecReader) -> InstallSettings? {
        let url = r.string("packageURL", required: true)
        if let url { r.report("packageURL", FieldRules.url(url)) }
        let sha256 = r.string("sha256")
        if let sha256 { r.report("sha256", FieldRules.sha256Hex(sha256)) }
        return url.map { InstallSettings(packageURL: $0, sha256: sha256) }
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
            root.diagnostics.report(path, "is required (cloud-init network-config version 2, or 1)",
                                    hint: wrapped ? "give the network-config mapping itself, not wrapped in another network: key"
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
            root.diagnostics.report("readiness.required[\(index)]", "\(name.rawValue) is required but not enabled",
                                    hint: name == .agent ? "add a coder section or drop agent from the list" : "enable it or drop it from the list")
        }
        var ports: [(String, Int)] = []
        if spec.ssh.enabled { ports.append(("ssh.port", spec.ssh.port)) }
        if spec.codeServer.enabled { ports.append(("codeServer.bindAddress", spec.codeServer.port)) }
        ports.append(("readiness.port", spec.readiness.port))
        for (index, (path, port)) in ports.enumerated() {
            if let other = ports[..<index].first(where: { $0.1 == port }) {
                root.diagnostics.report(path, "port \(port) is also used by \(other.0)", hint: "give each service its own port")
            }
        }
    }
}
