import Foundation
import WorkspaceSpec

/// The runcmd items that install coder-vm-bootstrap when the image lacks it,
/// and start it either way.
///
/// A package goes to the distribution's tool. The release tarball
/// (`coder-vm-bootstrap-<version>-linux-<arch>.tar.gz`) holds one folder of
/// that name with `install.sh`, `coder-vm-bootstrap`, `units/` and `man/`:
/// it is unpacked into a private temporary folder and its `install.sh` runs
/// there with sh, from that folder, as root.
///
/// The package URL and digest reach the script only as positional
/// arguments of one fixed `sh -c SCRIPT` (cloud-init single-quotes every
/// item of a list command), so nothing from the spec is ever parsed as
/// shell text.
enum DaemonInstall {
    static let unit = "coder-vm-bootstrap.service"

    enum PackageKind: String {
        case deb = ".deb"
        case rpm = ".rpm"
        case pacman = ".pkg.tar.zst"
        case tarball = ".tar.gz"

        /// By the URL's path (a query such as a signed-URL token is ignored),
        /// the same way the script decides.
        init?(url: String) {
            let path = String(url.prefix { $0 != "?" && $0 != "#" })
            guard
                let kind = [PackageKind.deb, .rpm, .pacman, .tarball].first(where: { path.hasSuffix($0.rawValue) })
                    ?? (path.hasSuffix(".tgz") ? .tarball : nil)
            else { return nil }
            self = kind
        }

        var format: PackageFormat? {
            switch self {
            case .deb: .deb
            case .rpm: .rpm
            case .pacman: .pacman
            case .tarball: nil
            }
        }
    }

    /// `$1` URL, `$2` SHA-256 hex or empty. Runs once per instance (runcmd).
    static let script = """
        set -eu
        url=$1 sum=$2
        work=$(mktemp -d)
        trap 'rm -rf "$work"' EXIT
        case ${url%%[?#]*} in
          *.deb) kind=deb ;;
          *.rpm) kind=rpm ;;
          *.pkg.tar.zst) kind=pkg.tar.zst ;;
          *.tar.gz|*.tgz) kind=tar.gz ;;
          *) echo "coder-vm-bootstrap install: cannot tell the package type of $url" >&2; exit 1 ;;
        esac
        file=$work/coder-vm-bootstrap.$kind
        echo "coder-vm-bootstrap install: downloading $url"
        if command -v curl >/dev/null 2>&1; then
          curl -fsSL --retry 5 --retry-delay 5 --retry-connrefused --connect-timeout 30 -o "$file" "$url"
        else
          wget -q -t 5 -T 30 -O "$file" "$url"
        fi
        if [ -n "$sum" ]; then
          echo "$sum  $file" | sha256sum -c -
        else
          echo "coder-vm-bootstrap install: no install.sha256 in the spec, package not verified" >&2
        fi
        case $kind in
          deb) DEBIAN_FRONTEND=noninteractive apt-get install -y "$file" ;;
          rpm) dnf install -y "$file" ;;
          pkg.tar.zst) pacman -U --noconfirm "$file" ;;
          tar.gz)
            mkdir "$work/unpacked"
            tar -xzf "$file" -C "$work/unpacked" --no-same-owner
            set -- "$work"/unpacked/*
            case "$# ${1##*/}" in
              "1 coder-vm-bootstrap-"*-linux-*) ;;
              *) echo "coder-vm-bootstrap install: $url does not hold one folder coder-vm-bootstrap-VERSION-linux-ARCH/" >&2; exit 1 ;;
            esac
            if [ -L "$1" ] || [ ! -d "$1" ] || [ -L "$1/install.sh" ] || [ ! -f "$1/install.sh" ]; then
              echo "coder-vm-bootstrap install: ${1##*/}/install.sh is missing from $url" >&2; exit 1
            fi
            (cd "$1" && sh ./install.sh) ;;
        esac
        systemctl daemon-reload

        """

    static func runcmd(_ spec: WorkspaceSpec) -> [YAMLValue] {
        var items: [YAMLValue] = []
        if let install = spec.install {
            // The download goes through the workspace's proxy, as the daemon's do.
            var command: [YAMLValue] = []
            if let proxy = spec.coder?.proxy {
                command.append("env")
                if let http = proxy.http { command.append(.string("http_proxy=\(http)")) }
                if let https = proxy.https { command.append(.string("https_proxy=\(https)")) }
                if !proxy.noProxy.isEmpty { command.append(.string("no_proxy=\(proxy.noProxy.joined(separator: ","))")) }
            }
            command += [
                "sh", "-c", .string(script), "coder-vm-bootstrap-install",
                .string(install.packageURL), .string(install.sha256 ?? ""),
            ]
            items.append(.list(command))
        }
        // Enabled so later boots start it; started with --no-block because
        // runcmd runs inside cloud-final, and a unit ordered after it would
        // deadlock a blocking start. Done even when the daemon is baked in,
        // in case the image ships it disabled.
        items.append(["systemctl", "enable", .string(unit)])
        items.append(["systemctl", "start", "--no-block", .string(unit)])
        return items
    }
}
