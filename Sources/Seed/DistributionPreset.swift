/// The distributions a workspace VM can boot, in one table: everything the
/// host side needs to know about each (the in-VM daemon has its own table,
/// keyed by /etc/os-release, for what it needs at run time: admin group,
/// ssh unit, CA store).
public struct DistributionPreset: Equatable, Sendable {
    /// How the distribution installs a local package file.
    public enum PackageFormat: String, Sendable {
        case deb, rpm, pacman
    }

    /// The name used on the command line and in the Terraform parameter.
    public var name: String
    /// Cloud image (amd64) for the DataVolume's `source.http.url`.
    public var imageURL: String
    public var packageFormat: PackageFormat

    public static let all: [DistributionPreset] = [
        .init(name: "debian-12",
              imageURL: "https://cloud.debian.org/images/cloud/bookworm/latest/debian-12-genericcloud-amd64.qcow2",
              packageFormat: .deb),
        .init(name: "ubuntu-22.04",
              imageURL: "https://cloud-images.ubuntu.com/jammy/current/jammy-server-cloudimg-amd64-disk-kvm.img",
              packageFormat: .deb),
        .init(name: "fedora-39",
              imageURL: "https://download.fedoraproject.org/pub/fedora/linux/releases/39/Cloud/x86_64/images/Fedora-Cloud-Base-39-1.5.x86_64.qcow2",
              packageFormat: .rpm),
        .init(name: "arch",
              imageURL: "https://geo.mirror.pkgbuild.com/images/latest/Arch-Linux-x86_64-cloudimg.qcow2",
              packageFormat: .pacman),
        .init(name: "almalinux-9",
              imageURL: "https://repo.almalinux.org/almalinux/9/cloud/x86_64/images/AlmaLinux-9-GenericCloud-latest.x86_64.qcow2",
              packageFormat: .rpm),
        .init(name: "centos-stream-9",
              imageURL: "https://cloud.centos.org/centos/9-stream/x86_64/images/CentOS-Stream-GenericCloud-9-latest.x86_64.qcow2",
              packageFormat: .rpm),
        .init(name: "rocky-9",
              imageURL: "https://download.rockylinux.org/pub/rocky/9/images/x86_64/Rocky-9-GenericCloud.latest.x86_64.qcow2",
              packageFormat: .rpm),
    ]

    public static let `default` = all[0]

    public static func named(_ name: String) -> DistributionPreset? {
        all.first { $0.name == name }
    }

    public static var names: [String] { all.map(\.name) }
}
