#!/usr/bin/env bash
# Builds the Debian 12 guest used by the system (nspawn) and VM (qemu) tests:
# a rootfs folder and an ext4 disk image made from it, with what a cloud image
# has (systemd, cloud-init, sshd, docker) and NOT this project.
# Cached under .cache/image/<key>/, keyed by this script's contents, so a
# second run takes no time. Prints the cache folder on stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cache_root=${IMAGE_CACHE:-$here/.cache/image}
key=$(sha256sum "$0" | cut -c1-16)
out=$cache_root/$key
if [[ -f $out/done ]]; then echo "$out"; exit 0; fi

packages=systemd,systemd-sysv,udev,dbus,kmod,cloud-init,python3-cffi-backend,openssh-server,linux-image-amd64,initramfs-tools,docker.io,curl,ca-certificates,sudo,iproute2,procps,libcurl4,libssl3,python3,tar,gzip,less
mkdir -p "$cache_root/debs"
rm -rf "$out.tmp"; mkdir -p "$out.tmp"
rootfs=$out.tmp/rootfs
echo "building Debian 12 image in $out (debootstrap, about 3 min)" >&2
debootstrap --variant=minbase --cache-dir="$cache_root/debs" --include="$packages" \
  bookworm "$rootfs" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >&2

# What a cloud image is like: no machine identity, no host keys, no apt sources
# (nothing is reachable from the guest), networking by DHCP.
: > "$rootfs/etc/machine-id"
rm -f "$rootfs"/var/lib/dbus/machine-id "$rootfs"/etc/ssh/ssh_host_*
: > "$rootfs/etc/apt/sources.list"
echo debian12 > "$rootfs/etc/hostname"
cat > "$rootfs/etc/systemd/network/80-dhcp.network" <<'NET'
[Match]
Name=en* eth*
[Network]
DHCP=yes
NET
chroot "$rootfs" systemctl enable systemd-networkd >&2
chroot "$rootfs" systemctl mask systemd-networkd-wait-online.service >&2
# Wait-online is masked: make network-online.target depend on networkd being up
# instead, which is enough for user networking.
cat > "$rootfs/etc/cloud/cloud.cfg.d/90-test-image.cfg" <<'CFG'
datasource_list: [NoCloud, None]
network: {config: disabled}
locale: C.UTF-8
CFG
echo 'root=/dev/vda rw console=ttyS0' > "$out.tmp/cmdline"
cp -L "$rootfs"/boot/vmlinuz-* "$out.tmp/vmlinuz"
cp -L "$rootfs"/boot/initrd.img-* "$out.tmp/initrd.img"
mkfs.ext4 -q -L root -d "$rootfs" "$out.tmp/disk.img" 4G >&2
touch "$out.tmp/done"
rm -rf "$out"; mv "$out.tmp" "$out"
echo "$out"
