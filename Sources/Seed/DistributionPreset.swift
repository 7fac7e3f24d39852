/// The distributions a workspace VM can boot, in one table: everything the
/// host side needs to know about each (the in-VM daemon has its own table,
/// keyed by /etc/os-release, for what it needs at run time).
public struct DistributionPreset: Equatable, Sendable {
    /// How the distribution installs a local package file.
    public enum PackageFormat: String, Sendable {
        case deb, rpm, pacman
    }

    /// The name used on the command line and in the Terraform parameter.
    public var name: String
    /// Cloud image (amd64) for the DataVolume's `source.http.url`.
    public var imageURL: String
    /// Group that grants sudo: `users[].groups` gets it when `user.sudo` is set.
    public var adminGroup: String
    public var packageFormat: PackageFormat
    /// The login shell to use when the spec keeps the default `/bin/bash`
    /// but the distribution has it elsewhere. nil: `/bin/bash` exists (all
    /// seven are usr-merged, so none needs it today).
    public var defaultShell: String?

    public static let all: [DistributionPreset] = [
        .init(name: "debian-12",
              imageURL: "https://cloud.debian.org/images/cloud/bookworm/latest/debian-12-genericcloud-amd64.qcow2",
              adminGroup: "sudo", packageFormat: .deb),
        .init(name: "ubuntu-22.04",
              imageURL: "https://cloud-images.ubuntu.com/jammy/current/jammy-server-cloudimg-amd64-disk-kvm.img",
              adminGroup: "sudo", packageFormat: .deb),
        .init(name: "fedora-39",
              imageURL: "https://download.fedoraproject.org/pub/fedora/linux/releases/39/Cloud/x86_64/images/Fedora-Cloud-Base-39-1.5.x86_64.qcow2",
              adminGroup: "wheel", packageFormat: .rpm),
        .init(name: "arch",
              imageURL: "https://geo.mirror.pkgbuild.com/images/latest/Arch-Linux-x86_64-cloudimg.qcow2",
              adminGroup: "wheel", packageFormat: .pacman),
        .init(name: "almalinux-9",
              imageURL: "https://repo.almalinux.org/almalinux/9/cloud/x86_64/images/AlmaLinux-9-GenericCloud-latest.x86_64.qcow2",
              adminGroup: "wheel", packageFormat: .rpm),
        .init(name: "centos-stream-9",
              imageURL: "https://cloud.centos.org/centos/9-stream/x86_64/images/CentOS-Stream-GenericCloud-9-latest.x86_64.qcow2",
              adminGroup: "wheel", packageFormat: .rpm),
        .init(name: "rocky-9",
              imageURL: "https://download.rockylinux.org/pub/rocky/9/images/x86_64/Rocky-9-GenericCloud.latest.x86_64.qcow2",
              adminGroup: "wheel", packageFormat: .rpm),
    ]

    public static let `default` = all[0]

    public static func named(_ name: String) -> DistributionPreset? {
        all.first { $0.name == name }
    }

    public static var names: [String] { all.map(\.name) }

    /// The login shell for `spec.user.shell` on this distribution.
    public func loginShell(for specShell: String) -> String {
        specShell == "/bin/bash" ? (defaultShell ?? specShell) : specShell
    }
}
