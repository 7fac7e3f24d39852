/// The seven distributions this project builds packages for and tests, one
/// row each: how the daemon recognises it in os-release, how the companion
/// names it (`--distro`, the Terraform `distro` parameter) and boots it, and
/// its family's facts.
public struct Distribution: Equatable, Sendable {
    /// The companion's name for it.
    public var name: String
    /// os-release `ID`.
    public var osReleaseID: String
    /// os-release `VERSION_ID`, or the release its point releases share
    /// ("9" matches 9.4); nil for a rolling release, which has none.
    public var versionID: String?
    public var family: Distro
    /// Cloud image (amd64) for the DataVolume's `source.http.url`.
    public var imageURL: String

    public static let all: [Distribution] = [
        .init(
            name: "debian-12", osReleaseID: "debian", versionID: "12", family: .debian,
            imageURL: "https://cloud.debian.org/images/cloud/bookworm/latest/debian-12-genericcloud-amd64.qcow2"),
        .init(
            name: "ubuntu-22.04", osReleaseID: "ubuntu", versionID: "22.04", family: .debian,
            imageURL: "https://cloud-images.ubuntu.com/jammy/current/jammy-server-cloudimg-amd64-disk-kvm.img"),
        .init(
            name: "fedora-39", osReleaseID: "fedora", versionID: "39", family: .fedora,
            imageURL: "https://download.fedoraproject.org/pub/fedora/linux/releases/39/Cloud/x86_64/images/Fedora-Cloud-Base-39-1.5.x86_64.qcow2"),
        .init(
            name: "arch", osReleaseID: "arch", versionID: nil, family: .arch,
            imageURL: "https://geo.mirror.pkgbuild.com/images/latest/Arch-Linux-x86_64-cloudimg.qcow2"),
        .init(
            name: "almalinux-9", osReleaseID: "almalinux", versionID: "9", family: .enterpriseLinux,
            imageURL: "https://repo.almalinux.org/almalinux/9/cloud/x86_64/images/AlmaLinux-9-GenericCloud-latest.x86_64.qcow2"),
        .init(
            name: "centos-stream-9", osReleaseID: "centos", versionID: "9", family: .enterpriseLinux,
            imageURL: "https://cloud.centos.org/centos/9-stream/x86_64/images/CentOS-Stream-GenericCloud-9-latest.x86_64.qcow2"),
        .init(
            name: "rocky-9", osReleaseID: "rocky", versionID: "9", family: .enterpriseLinux,
            imageURL: "https://download.rockylinux.org/pub/rocky/9/images/x86_64/Rocky-9-GenericCloud.latest.x86_64.qcow2"),
    ]

    public static func named(_ name: String) -> Distribution? {
        all.first { $0.name == name }
    }

    /// The row os-release describes: its ID, and its VERSION_ID equal to the
    /// row's or a point release of it. nil for anything else, related
    /// distributions included (see `Distro.family(of:)`).
    public static func matching(_ release: OSRelease) -> Distribution? {
        all.first { row in
            guard row.osReleaseID == release.id else { return false }
            guard let wanted = row.versionID else { return true }
            let version = release.versionID ?? ""
            return version == wanted || version.hasPrefix(wanted + ".")
        }
    }
}
