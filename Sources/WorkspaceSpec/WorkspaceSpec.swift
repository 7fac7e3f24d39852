#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The declaration of one workspace VM: the single source of truth that
/// `coder-vm-seed` writes on the host and `coder-vm-bootstrap` reads in the
/// VM. Every field has a default except the workspace identity and the user;
/// `SpecDecoder` fills the defaults, so a decoded spec is always complete.
///
/// Encoded as JSON with the field names below (camelCase, like Kubernetes).
public struct WorkspaceSpec: Encodable, Equatable, Sendable {
    public static let currentAPIVersion = "coder-vm-bootstrap/v1"

    public var apiVersion: String = WorkspaceSpec.currentAPIVersion
    public var workspace: WorkspaceIdentity
    /// Host name of the VM; defaults to `coder-<owner>-<name>`.
    public var hostname: String
    public var user: WorkspaceUser
    /// Absent: no Coder agent (a plain VM with SSH, docker and code-server).
    public var coder: CoderSettings?
    public var codeServer: CodeServerSettings
    public var ssh: SSHSettings
    public var docker: DockerSettings
    public var readiness: ReadinessSettings
    /// Where cloud-init gets the daemon when the image does not have it baked in.
    public var install: InstallSettings?
    /// Bounds on every download the daemon makes.
    public var downloads: DownloadLimits
    /// cloud-init's network-config (version 2, or 1) for the VM, passed
    /// through as given; absent: the image's own (DHCP on the pod network).
    public var network: JSONValue?

    public init(
        workspace: WorkspaceIdentity, hostname: String? = nil, user: WorkspaceUser,
        coder: CoderSettings? = nil, codeServer: CodeServerSettings = .init(),
        ssh: SSHSettings = .init(), docker: DockerSettings = .init(),
        readiness: ReadinessSettings = .init(), install: InstallSettings? = nil,
        downloads: DownloadLimits = .init()
    ) {
        self.workspace = workspace
        self.hostname = hostname ?? workspace.defaultHostname
        self.user = user
        self.coder = coder
        self.codeServer = codeServer
        self.ssh = ssh
        self.docker = docker
        self.readiness = readiness
        self.install = install
        self.downloads = downloads
    }
}

/// Who and what the workspace is in Coder; used for names and labels.
public struct WorkspaceIdentity: Encodable, Equatable, Sendable {
    public var owner: String
    public var name: String
    /// Coder's workspace id (a UUID); the VM's firmware UUID is derived from it.
    public var id: String

    public init(owner: String, name: String, id: String) {
        self.owner = owner
        self.name = name
        self.id = id
    }

    /// `coder-<owner>-<name>`, the seed template's naming convention.
    public var resourceName: String { "coder-\(owner)-\(name)" }
    var defaultHostname: String { resourceName }
}

public struct WorkspaceUser: Encodable, Equatable, Sendable {
    public var name: String
    public var shell: String = "/bin/bash"
    /// Extra supplementary groups (the admin and docker groups are added by
    /// the daemon). Never `root`; the groups that amount to root (sudo,
    /// wheel, admin, disk, shadow, kmem) only with `sudo: true`.
    public var groups: [String] = []
    /// Passwordless sudo through the distribution's admin group.
    public var sudo: Bool = true
    public var sshAuthorizedKeys: [String] = []

    public init(
        name: String, shell: String = "/bin/bash", groups: [String] = [], sudo: Bool = true,
        sshAuthorizedKeys: [String] = []
    ) {
        self.name = name
        self.shell = shell
        self.groups = groups
        self.sudo = sudo
        self.sshAuthorizedKeys = sshAuthorizedKeys
    }
}

public enum CPUArchitecture: String, Encodable, Equatable, Sendable, CaseIterable {
    case auto, amd64, arm64
}

public struct CoderSettings: Encodable, Equatable, Sendable {
    public enum Auth: String, Encodable, Equatable, Sendable, CaseIterable {
        case token
        case googleInstanceIdentity = "google-instance-identity"
        case awsInstanceIdentity = "aws-instance-identity"
        case azureInstanceIdentity = "azure-instance-identity"
    }

    /// Where the agent serves its debug endpoints (CODER_AGENT_DEBUG_ADDRESS),
    /// which the daemon probes: no other service of the spec may use its port.
    public static let agentDebugAddress = HostPort(host: "127.0.0.1", port: 2113)

    /// The Coder deployment's access URL, e.g. `https://coder.example.com/`.
    public var accessURL: String
    /// Where the agent connects and downloads from, when it differs from the
    /// access URL (an in-cluster Service address, say).
    public var agentURL: String?
    /// The agent token of this build. Secret: only ever written to 0600 files.
    public var token: String?
    /// Alternative to `token`: a file in the VM that holds it (mode 0600).
    public var tokenFile: String?
    public var auth: Auth = .token
    public var arch: CPUArchitecture = .auto
    /// Extra CA certificates (PEM) to trust, e.g. for a self-signed Coder.
    public var caCertificates: [String] = []
    public var proxy: ProxySettings?
    /// Extra HTTP headers the agent sends to Coder (`CODER_AGENT_HEADER`).
    public var agentHeaders: [String: String] = [:]

    public init(
        accessURL: String, agentURL: String? = nil, token: String? = nil, tokenFile: String? = nil,
        auth: Auth = .token, arch: CPUArchitecture = .auto, caCertificates: [String] = [],
        proxy: ProxySettings? = nil, agentHeaders: [String: String] = [:]
    ) {
        self.accessURL = accessURL
        self.agentURL = agentURL
        self.token = token
        self.tokenFile = tokenFile
        self.auth = auth
        self.arch = arch
        self.caCertificates = caCertificates
        self.proxy = proxy
        self.agentHeaders = agentHeaders
    }

    /// The URL the agent uses: `agentURL` when set, else `accessURL`, with a trailing slash.
    public var effectiveAgentURL: String {
        let url = agentURL ?? accessURL
        return url.hasSuffix("/") ? url : url + "/"
    }
}

public struct ProxySettings: Encodable, Equatable, Sendable {
    public var http: String?
    public var https: String?
    public var noProxy: [String] = []

    public init(http: String? = nil, https: String? = nil, noProxy: [String] = []) {
        self.http = http
        self.https = https
        self.noProxy = noProxy
    }
}

public struct CodeServerSettings: Encodable, Equatable, Sendable {
    public enum Auth: String, Encodable, Equatable, Sendable, CaseIterable {
        case none, password
    }

    public static let defaultDownloadURL =
        "https://github.com/coder/code-server/releases/download/v{version}/code-server-{version}-linux-{arch}.tar.gz"

    public var enabled: Bool = true
    public var version: String = "4.96.4"
    /// URL template; `{version}` and `{arch}` (amd64, arm64) are substituted.
    public var downloadURL: String = CodeServerSettings.defaultDownloadURL
    /// Expected SHA-256 of the tarball per architecture (code-server publishes none).
    /// A plain `http://` downloadURL needs at least one pin to be accepted,
    /// and the daemon refuses to download over http:// for an architecture
    /// that has none (`unpinnedDownloadRefusal(arch:)`).
    public var sha256: [String: String] = [:]
    /// A code-server already in the image (its `bin/code-server` parent); nothing is downloaded.
    public var installedPath: String?
    public var bindAddress: String = "127.0.0.1:13337"
    public var auth: Auth = .none
    /// code-server's `hashed-password` (argon2), required with `auth: password`.
    public var hashedPassword: String?
    /// Marketplace ids (`publisher.name[@version]`), installed in the background.
    public var extensions: [String] = []
    /// The user's `settings.json`, written when the user has none.
    public var settings: [String: JSONValue] = [:]

    public init(
        enabled: Bool = true, version: String = "4.96.4",
        downloadURL: String = CodeServerSettings.defaultDownloadURL, sha256: [String: String] = [:],
        installedPath: String? = nil, bindAddress: String = "127.0.0.1:13337", auth: Auth = .none,
        hashedPassword: String? = nil, extensions: [String] = [], settings: [String: JSONValue] = [:]
    ) {
        self.enabled = enabled
        self.version = version
        self.downloadURL = downloadURL
        self.sha256 = sha256
        self.installedPath = installedPath
        self.bindAddress = bindAddress
        self.auth = auth
        self.hashedPassword = hashedPassword
        self.extensions = extensions
        self.settings = settings
    }

    /// The download URL for one architecture.
    public func downloadURL(arch: CPUArchitecture) -> String {
        downloadURL.replacing("{version}", with: version)
            .replacing("{arch}", with: arch.rawValue)
    }

    /// Why the tarball for `arch` must not be downloaded: it would come over
    /// plain http:// with no digest to check it against. Nil when it may.
    public func unpinnedDownloadRefusal(arch: CPUArchitecture) -> String? {
        let url = downloadURL(arch: arch)
        guard FieldRules.isPlainHTTP(url), sha256[arch.rawValue] == nil else { return nil }
        return
            "refusing to download code-server for \(arch.rawValue) from \(url): plain http:// and no codeServer.sha256.\(arch.rawValue) to verify it; use https:// or pin the digest"
    }

    /// Port of `bindAddress` (validated by the decoder).
    public var port: Int { HostPort(bindAddress)?.port ?? 13337 }
}

public struct SSHSettings: Encodable, Equatable, Sendable {
    public var enabled: Bool = true
    public var port: Int = 22
    public var passwordAuthentication: Bool = false
    public var permitRootLogin: Bool = false

    public init(
        enabled: Bool = true, port: Int = 22, passwordAuthentication: Bool = false,
        permitRootLogin: Bool = false
    ) {
        self.enabled = enabled
        self.port = port
        self.passwordAuthentication = passwordAuthentication
        self.permitRootLogin = permitRootLogin
    }
}

public struct DockerSettings: Encodable, Equatable, Sendable {
    public var enabled: Bool = true
    /// Install the distribution's docker package when docker is missing.
    public var install: Bool = true
    /// Where the distribution's base repositories have no docker (the EL9
    /// family), the install may add Docker's own repository and install
    /// docker-ce from it. Off unless asked: it trusts a third party as root.
    public var allowDockerRepository: Bool = false
    public var addUserToGroup: Bool = true

    public init(enabled: Bool = true, install: Bool = true, allowDockerRepository: Bool = false, addUserToGroup: Bool = true) {
        self.enabled = enabled
        self.install = install
        self.allowDockerRepository = allowDockerRepository
        self.addUserToGroup = addUserToGroup
    }
}

/// The parts the daemon converges; their names are used in `readiness.required`,
/// journal fields (`COMPONENT=`) and `status`.
public enum ComponentName: String, Codable, Equatable, Hashable, Sendable, CaseIterable, Comparable {
    /// The workspace user, its groups and sudo rule, and the spec's CA
    /// certificates in the trust store: what the others need first.
    case user
    case ssh, docker
    case codeServer = "code-server"
    case agent

    public static func < (lhs: Self, rhs: Self) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

public struct ReadinessSettings: Encodable, Equatable, Sendable {
    public static let defaultPort = 13380
    /// Port of the HTTP readiness endpoint (`/readyz`, `/livez`, `/status`).
    public var port: Int = ReadinessSettings.defaultPort
    /// Components that must be healthy for the workspace to be ready; the
    /// others may fail and leave it degraded. Default: every enabled one.
    public var required: [ComponentName]?

    public init(port: Int = ReadinessSettings.defaultPort, required: [ComponentName]? = nil) {
        self.port = port
        self.required = required
    }
}

public struct InstallSettings: Encodable, Equatable, Sendable {
    /// URL of the daemon's package (.deb, .rpm or .pkg.tar.zst) or tarball.
    public var packageURL: String
    /// The package's SHA-256; required when packageURL is plain http://.
    public var sha256: String?

    public init(packageURL: String, sha256: String? = nil) {
        self.packageURL = packageURL
        self.sha256 = sha256
    }
}

/// How much one download may bring and how long one attempt may take; the
/// daemon hands these to its download library for code-server, the agent
/// and anything else it fetches.
public struct DownloadLimits: Encodable, Equatable, Sendable {
    public static let defaultMaxBytes = 2 * 1024 * 1024 * 1024
    public static let defaultAttemptTimeout = 1800
    /// From 1 MiB (less holds no code-server) to 64 GiB.
    public static let maxBytesRange = (1024 * 1024)...(64 * 1024 * 1024 * 1024)
    /// From 10 s to a day.
    public static let attemptTimeoutRange = 10...86400

    /// The largest file a download may produce, in bytes.
    public var maxBytes: Int = DownloadLimits.defaultMaxBytes
    /// Seconds one attempt may take from connect to the last byte before it
    /// is cut (and retried, resuming where it stopped).
    public var attemptTimeout: Int = DownloadLimits.defaultAttemptTimeout

    public init(maxBytes: Int = DownloadLimits.defaultMaxBytes, attemptTimeout: Int = DownloadLimits.defaultAttemptTimeout) {
        self.maxBytes = maxBytes
        self.attemptTimeout = attemptTimeout
    }
}

extension WorkspaceSpec {
    /// The components this spec turns on, in a fixed order.
    public var enabledComponents: [ComponentName] {
        ComponentName.allCases.filter { name in
            switch name {
            case .user: true
            case .ssh: ssh.enabled
            case .docker: docker.enabled
            case .codeServer: codeServer.enabled
            case .agent: coder != nil
            }
        }
    }

    /// The components that must be healthy for READY=1.
    public var requiredComponents: Set<ComponentName> {
        Set(readiness.required ?? enabledComponents)
    }
}
