#!/usr/bin/env bash
# Installs what building and testing need on a fresh Debian 12 machine (root).
# Idempotent and quick when everything is there already.
set -euo pipefail
apt_packages=(
  # build: headers of the C libraries the daemon uses
  libsystemd-dev libcurl4-openssl-dev libssl-dev zlib1g-dev pkg-config
  # tests: real sshd, systemd in a container, HTTP checks
  openssh-client openssh-server systemd-container curl python3-yaml util-linux iproute2
  # companion tests: cloud-init's own schema validator
  cloud-init
  # image and VM: debootstrap, ext4 image, qemu, NoCloud seed
  debootstrap e2fsprogs qemu-system-x86 qemu-utils cloud-image-utils
  # packages: each family's own build and check tools, man pages, RUNPATH removal
  dpkg-dev lintian rpm rpmlint makepkg pacman-package-manager libarchive-tools fakeroot zstd
  man-db groff-base patchelf shellcheck
  # benchmarks
  hyperfine
)
missing=()
for p in "${apt_packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# makepkg lists the installed packages in .BUILDINFO with `pacman -Q`, which
# needs pacman's (here empty) local database.
install -d /var/lib/pacman/local
# Python validators for the companion's output (Kubernetes, KubeVirt/CDI, HCL).
python3 -m pip install -q --disable-pip-version-check -r "$(dirname "$0")/../Tests/requirements.txt"
