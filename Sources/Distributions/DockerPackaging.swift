/// Where a distribution family gets dockerd from.
public enum DockerPackaging: Equatable, Sendable {
    /// A package in the distribution's own repositories.
    case distributionPackage(String)
    /// None in the base repositories: only from Docker's own repository,
    /// which the daemon adds when the spec allows it (`docker.allowDockerRepository`).
    case dockerRepository(DockerRepository)
}

/// Docker's own package repository for a family whose base repositories
/// have no docker, as dnf reads it from `/etc/yum.repos.d`: the same
/// definition (and file name) as Docker's install instructions give, so an
/// image that already has it, or a mirror of it under that name, keeps its own.
public struct DockerRepository: Equatable, Sendable {
    public static let folder = "/etc/yum.repos.d"
    public static let fileName = "docker-ce.repo"

    public var baseURL: String
    /// dnf imports the key from here on first use (over HTTPS), as Docker's
    /// instructions do; Docker publishes its fingerprint as
    /// 060A 61C5 1B55 8A7F 742B 77AA C52F EB6B 621E 9F35.
    public var signingKeyURL: String
    /// Docker Engine, its command line, containerd and the compose and
    /// buildx plugins: what Docker's instructions install.
    public var packages: [String]

    /// Docker's repository for CentOS Stream 9, which AlmaLinux's and Rocky
    /// Linux's own guides use for their 9 too. The release is written out, not left to dnf's
    /// `$releasever`: this is the repository for release 9's packages.
    public static let centos9 = DockerRepository(
        baseURL: "https://download.docker.com/linux/centos/9/$basearch/stable",
        signingKeyURL: "https://download.docker.com/linux/centos/gpg",
        packages: ["docker-ce", "docker-ce-cli", "containerd.io", "docker-buildx-plugin", "docker-compose-plugin"])

    /// The `.repo` file: packages signed by Docker's key, checked by dnf.
    public var definition: String {
        """
        # Added by coder-vm-bootstrap because the workspace spec allows it
        # (docker.allowDockerRepository): this distribution's base repositories have no docker.
        [docker-ce-stable]
        name=Docker CE Stable - $basearch
        baseurl=\(baseURL)
        enabled=1
        gpgcheck=1
        gpgkey=\(signingKeyURL)

        """
    }
}
