/// The package manager of a distribution family, and the one way the daemon
/// runs it.
public enum PackageManager: String, Sendable {
    case apt, dnf, pacman

    /// The commands that install `packages` without asking, in order. apt:
    /// dpkg's recovery from an install that was killed halfway (a daemon or
    /// VM stopped mid-install) first, then the install, waiting up to 5
    /// minutes for a lock someone else holds. dnf waits for its lock by
    /// itself. pacman refuses to run while /var/lib/pacman/db.lck exists,
    /// which a killed pacman leaves behind: it says so, and the file is the
    /// administrator's to remove.
    public func installSteps(_ packages: [String]) -> [[String]] {
        switch self {
        case .apt:
            let lock = ["-o", "DPkg::Lock::Timeout=300"]
            return [
                ["dpkg", "--configure", "-a"],
                ["apt-get"] + lock + ["update", "-q"],
                ["apt-get"] + lock + ["install", "-y", "-q", "--no-install-recommends"] + packages,
            ]
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

    /// The kind of package file it installs (the daemon's own package, for the companion).
    public var packageFormat: PackageFormat {
        switch self {
        case .apt: .deb
        case .dnf: .rpm
        case .pacman: .pacman
        }
    }
}

/// A local package file a distribution can install.
public enum PackageFormat: String, Sendable {
    case deb, rpm, pacman
}
