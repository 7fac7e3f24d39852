# Sourced by packaging/*/build.sh: the version, the architecture names each
# package format uses, and the inputs every package ships, in one place so the
# four packages are named and versioned the same way.
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
version=$(sed -n 's/.*static let version = "\(.*\)".*/\1/p' "$repo/Sources/WorkspaceSpec/BuildInfo.swift")
[[ $version =~ ^[0-9]+(\.[0-9]+)*$ ]] || { echo "packaging: no usable version in Sources/WorkspaceSpec/BuildInfo.swift (got '$version')" >&2; exit 2; }
daemon=$repo/.build/release/coder-vm-bootstrap
man_page=$repo/out/man/coder-vm-bootstrap.8
[[ -x $daemon ]] || { echo "packaging: $daemon is missing; build it with 'make release'" >&2; exit 2; }
[[ -f $man_page ]] || { echo "packaging: $man_page is missing; generate it with 'make man'" >&2; exit 2; }
# The units every package ships: the daemon's service, the path unit that
# starts it when cloud-init writes this boot's spec (the two are enabled),
# and the templates the daemon starts per user.
unit_files=("$repo"/units/{coder-vm-bootstrap.service,coder-vm-bootstrap.path,code-server@.service,coder-agent@.service})
# Reproducible timestamps (changelogs, archive members): the last commit's.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$repo" log -1 --format=%ct)}

# The binary's own architecture, in each format's spelling.
case $(readelf -h "$daemon" | sed -n 's/^ *Machine: *//p') in
  *X86-64*) deb_arch=amd64 rpm_arch=x86_64 pacman_arch=x86_64 go_arch=amd64 ;;
  AArch64) deb_arch=arm64 rpm_arch=aarch64 pacman_arch=aarch64 go_arch=arm64 ;;
  *) echo "packaging: $daemon is for an architecture no package is made for" >&2; exit 2 ;;
esac

# The four files, named as each format's tools expect.
deb_file=coder-vm-bootstrap_${version}_$deb_arch.deb
rpm_file=coder-vm-bootstrap-$version-1.$rpm_arch.rpm
pacman_file=coder-vm-bootstrap-$version-1-$pacman_arch.pkg.tar.zst
tarball_name=coder-vm-bootstrap-$version-linux-$go_arch
tarball_file=$tarball_name.tar.gz

# stage_daemon DEST: the binary as every package ships it: stripped, and
# without the RUNPATH $ORIGIN that SwiftPM links in (the daemon needs no
# library from its own folder, and /usr/bin is no place to look for one).
stage_daemon() {
  install -m 0755 -s "$daemon" "$1"
  patchelf --remove-rpath "$1"
}
