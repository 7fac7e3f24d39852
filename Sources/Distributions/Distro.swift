/// What differs between distribution families, in one place, so the daemon's
/// components ask `distro.sshUnit` instead of branching on IDs, and the
/// companion asks the same rows for the admin group and package format.
public struct Distro: Equatable, Sendable {
    public enum Name: String, Sendable {
        case debian, fedora
        case enterpriseLinux = "el"
        case arch
    }

    public var name: Name
    public var packageManager: PackageManager
    /// `ssh` on Debian and Ubuntu, `sshd` elsewhere.
    public var sshUnit: String
    public var docker: DockerPackaging
    /// The group whose members may use sudo.
    public var adminGroup: String
    /// Where extra CA certificates go, and the command that rebuilds the trust store.
    public var caAnchorDirectory: String
    public var caUpdateCommand: [String]
    /// The bundle libcurl and most programs read after the update.
    public var caBundle: String
    /// os-release IDs of this family that are not one of the tested
    /// distributions (`Distribution.all` names those), for ID_LIKE matching.
    public var otherOSReleaseIDs: [String] = []

    public var packageFormat: PackageFormat { packageManager.packageFormat }

    public static let debian = Distro(
        name: .debian, packageManager: .apt, sshUnit: "ssh", docker: .distributionPackage("docker.io"),
        adminGroup: "sudo",
        caAnchorDirectory: "/usr/local/share/ca-certificates", caUpdateCommand: ["update-ca-certificates"],
        caBundle: "/etc/ssl/certs/ca-certificates.crt")
    public static let fedora = Distro(
        name: .fedora, packageManager: .dnf, sshUnit: "sshd", docker: .distributionPackage("moby-engine"),
        adminGroup: "wheel",
        caAnchorDirectory: "/etc/pki/ca-trust/source/anchors", caUpdateCommand: ["update-ca-trust", "extract"],
        caBundle: "/etc/pki/tls/certs/ca-bundle.crt")
    public static let enterpriseLinux = Distro(
        name: .enterpriseLinux, packageManager: .dnf, sshUnit: "sshd", docker: .dockerRepository(.centos9),
        adminGroup: "wheel",
        caAnchorDirectory: "/etc/pki/ca-trust/source/anchors", caUpdateCommand: ["update-ca-trust", "extract"],
        caBundle: "/etc/pki/tls/certs/ca-bundle.crt",
        otherOSReleaseIDs: ["rhel"])
    public static let arch = Distro(
        name: .arch, packageManager: .pacman, sshUnit: "sshd", docker: .distributionPackage("docker"),
        adminGroup: "wheel",
        caAnchorDirectory: "/etc/ca-certificates/trust-source/anchors", caUpdateCommand: ["update-ca-trust"],
        caBundle: "/etc/ssl/certs/ca-certificates.crt")

    public static let all: [Distro] = [.debian, .fedora, .enterpriseLinux, .arch]

    /// The family os-release names: its ID's, else that of the first
    /// ID_LIKE entry that has one (Linux Mint is like Ubuntu, Amazon Linux
    /// like Fedora). nil: none of these families.
    public static func family(of release: OSRelease) -> Distro? {
        ([release.id] + release.idLike).lazy.compactMap { id in
            Distribution.all.first { $0.osReleaseID == id }?.family
                ?? all.first { $0.otherOSReleaseIDs.contains(id) }
        }.first
    }
}
