#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What differs between the distributions the daemon supports, in one
/// table, so components ask `distro.sshUnit` instead of branching on IDs.
public struct Distro: Equatable, Sendable {
    public enum PackageManager: String, Sendable {
        case apt, dnf, pacman

        /// The commands that install `packages` without asking, in order:
        /// first the package manager's recovery from an install that was
        /// killed halfway (a daemon or VM stopped mid-install), then the
        /// install itself, waiting up to 5 minutes for a lock someone else holds.
        public func installSteps(_ packages: [String]) -> [[String]] {
            switch self {
            case .apt:
                let lock = ["-o", "DPkg::Lock::Timeout=300"]
                return [["dpkg", "--configure", "-a"],
                        ["apt-get"] + lock + ["update", "-q"],
                        ["apt-get"] + lock + ["install", "-y", "-q", "--no-install-recommends"] + packages]
            case .dnf:
                return [["dnf", "install", "-y", "-q"] + packages]
            case .pacman:
                return [["pacman", "-S", "--noconfirm", "--needed"] + packages]
            }
        }

        /// What the install commands run with: never a question on a terminal nobody watches.
        public var environment: [String: String] {
            self == .apt ? ["DEBIAN_FRONTEND": "noninteractive"] : [:]
        }
    }

    public enum Family: String, Sendable {
        case debian, fedora, enterpriseLinux = "el", arch
    }

    public var family: Family
    public var packageManager: PackageManager
    /// `ssh` on Debian and Ubuntu, `sshd` elsewhere.
    public var sshUnit: String
    /// The package that provides dockerd, or nil when the base repositories have none (EL9).
    public var dockerPackage: String?
    public var sshServerPackage: String
    /// The group whose members may use sudo.
    public var adminGroup: String
    /// Where extra CA certificates go, and the command that rebuilds the trust store.
    public var caAnchorDirectory: String
    public var caUpdateCommand: [String]
    /// The bundle libcurl and most programs read after the update.
    public var caBundle: String

    static let debian = Distro(
        family: .debian, packageManager: .apt, sshUnit: "ssh", dockerPackage: "docker.io",
        sshServerPackage: "openssh-server", adminGroup: "sudo",
        caAnchorDirectory: "/usr/local/share/ca-certificates", caUpdateCommand: ["update-ca-certificates"],
        caBundle: "/etc/ssl/certs/ca-certificates.crt")
    static let fedora = Distro(
        family: .fedora, packageManager: .dnf, sshUnit: "sshd", dockerPackage: "moby-engine",
        sshServerPackage: "openssh-server", adminGroup: "wheel",
        caAnchorDirectory: "/etc/pki/ca-trust/source/anchors", caUpdateCommand: ["update-ca-trust", "extract"],
        caBundle: "/etc/pki/tls/certs/ca-bundle.crt")
    static let enterpriseLinux = Distro(
        family: .enterpriseLinux, packageManager: .dnf, sshUnit: "sshd", dockerPackage: nil,
        sshServerPackage: "openssh-server", adminGroup: "wheel",
        caAnchorDirectory: "/etc/pki/ca-trust/source/anchors", caUpdateCommand: ["update-ca-trust", "extract"],
        caBundle: "/etc/pki/tls/certs/ca-bundle.crt")
    static let arch = Distro(
        family: .arch, packageManager: .pacman, sshUnit: "sshd", dockerPackage: "docker",
        sshServerPackage: "openssh", adminGroup: "wheel",
        caAnchorDirectory: "/etc/ca-certificates/trust-source/anchors", caUpdateCommand: ["update-ca-trust"],
        caBundle: "/etc/ssl/certs/ca-certificates.crt")
}

/// The outcome of looking at os-release: the facts to use and, for anything
/// but a first-class distribution, a sentence saying what was assumed.
public struct HostDetection: Equatable, Sendable {
    public var osRelease: OSRelease
    /// nil: unknown family; components that need distribution facts are skipped.
    public var distro: Distro?
    /// True for the seven distributions this project tests.
    public var firstClass: Bool
    public var note: String?

    /// First-class: ID and major VERSION_ID.
    static let firstClassReleases: [String: Set<String>] = [
        "debian": ["12"], "ubuntu": ["22.04"], "fedora": ["39"], "arch": [""],
        "almalinux": ["9"], "centos": ["9"], "rocky": ["9"],
    ]

    public init(_ osRelease: OSRelease) {
        self.osRelease = osRelease
        let candidates = [osRelease.id] + osRelease.idLike
        distro = candidates.lazy.compactMap(Self.distro(forID:)).first
        let version = osRelease.versionID ?? ""
        let major = osRelease.id == "ubuntu" ? version : String(version.split(separator: ".").first ?? "")
        firstClass = Self.firstClassReleases[osRelease.id]?.contains(major) ?? false
        switch (distro, firstClass) {
        case (nil, _):
            note = "unknown distribution ID=\(osRelease.id) (ID_LIKE=\(osRelease.idLike.joined(separator: " "))): "
                + "package installs, CA trust and the admin group are skipped; SSH, code-server and the agent are configured with defaults"
        case (let distro?, false):
            note = "\(osRelease.prettyName) is not tested; treating it as the \(distro.family.rawValue) family"
        default:
            note = nil
        }
    }

    /// Reads `/etc/os-release`, falling back to `/usr/lib/os-release` as os-release(5) says.
    public static func current(root: String = "") -> HostDetection {
        for path in ["/etc/os-release", "/usr/lib/os-release"] {
            if let text = try? String(contentsOfFile: root + path, encoding: .utf8) {
                return HostDetection(OSRelease(contents: text))
            }
        }
        return HostDetection(OSRelease(fields: [:]))
    }

    private static func distro(forID id: String) -> Distro? {
        switch id {
        case "debian", "ubuntu": .debian
        case "fedora": .fedora
        case "rhel", "centos", "almalinux", "rocky": .enterpriseLinux
        case "arch", "archlinux": .arch
        default: nil
        }
    }
}
