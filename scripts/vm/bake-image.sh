#!/usr/bin/env bash
# Second image layer: the test image with one .deb installed, as a VM image
# vendor would bake it.
#   bake-image.sh IMAGE_DIR DEB OUTDIR
# IMAGE_DIR is a folder made by scripts/build-image.sh (rootfs/, vmlinuz,
# initrd.img, cmdline). The result, OUTDIR/<image key>-<deb sha256[:16]>-<this
# script's sha256[:8]>/, has the same shape (rootfs/, disk.img, vmlinuz,
# initrd.img, cmdline) plus baked.json, so the qemu runner and the nspawn harness
# take it like the base image. Cached: the same image, .deb and script give the
# same folder at once. Prints the folder. IMAGE_DIR is never written to.
#
# How: copy the rootfs, `apt-get install ./the.deb` in a chroot (no network, no
# apt lists: dependencies must already be in the image; services are not started,
# policy-rc.d says 101; deb-systemd-helper still records enablement), clean apt's
# caches, make the ext4 disk with mkfs.ext4 -d as build-image.sh does.
set -euo pipefail
if [[ $# -ne 3 ]]; then
  echo "usage: $0 IMAGE_DIR DEB OUTDIR" >&2
  exit 2
fi
image=$(cd "$1" && pwd)
deb=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
outroot=$3
for f in rootfs vmlinuz initrd.img cmdline; do
  [[ -e $image/$f ]] || { echo "$image has no $f (not a build-image.sh folder?)" >&2; exit 2; }
done
[[ -f $deb ]] || { echo "no such .deb: $deb" >&2; exit 2; }
dpkg-deb --info "$deb" >/dev/null || { echo "$deb is not a .deb" >&2; exit 2; }

deb_sha=$(sha256sum "$deb" | cut -d' ' -f1)
script_sha=$(sha256sum "$0" | cut -c1-8)
key=$(basename "$image")-${deb_sha:0:16}-$script_sha
mkdir -p "$outroot"
outroot=$(cd "$outroot" && pwd)
out=$outroot/$key
if [[ -f $out/done ]]; then echo "$out"; exit 0; fi

# One bake per key at a time; a second caller waits and then finds it done.
exec 9>"$outroot/.$key.lock"
flock 9
if [[ -f $out/done ]]; then echo "$out"; exit 0; fi

tmp=$out.tmp
root=$tmp/rootfs
mounted=()
cleanup() {
  local i
  for (( i=${#mounted[@]}-1; i>=0; i-- )); do umount -l "${mounted[$i]}" 2>/dev/null || true; done
  if [[ ! -f $out/done ]]; then rm -rf "$tmp"; fi
}
trap cleanup EXIT
rm -rf "$tmp"
mkdir -p "$tmp"
echo "baking $(basename "$deb") into a copy of $image (about 1 min)" >&2
cp -a --reflink=auto "$image/rootfs" "$root"

for m in proc sys dev; do
  mount --bind "/$m" "$root/$m"
  mounted+=("$root/$m")
done
printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"
cp "$deb" "$root/tmp/baked.deb"
chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 \
  apt-get install -y --no-install-recommends -o Dpkg::Options::=--force-confold /tmp/baked.deb >&2
pkg=$(dpkg-deb -f "$deb" Package)
version=$(dpkg-deb -f "$deb" Version)
chroot "$root" dpkg-query -W -f='${Status}\n' "$pkg" | grep -q 'install ok installed' \
  || { echo "$pkg did not end up installed" >&2; exit 1; }
rm -f "$root/usr/sbin/policy-rc.d" "$root/tmp/baked.deb"
rm -rf "$root"/var/cache/apt/*.bin "$root"/var/lib/apt/lists/partial "$root"/var/log/apt/eipp.log.xz
for (( i=${#mounted[@]}-1; i>=0; i-- )); do umount "${mounted[$i]}"; done
mounted=()
# A cloud image has no machine identity: keep it that way even if a script made one.
: > "$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"

cp "$image/cmdline" "$image/vmlinuz" "$image/initrd.img" "$tmp/"
mkfs.ext4 -q -L root -d "$root" "$tmp/disk.img" 4G >&2
printf '{"base": "%s", "deb": "%s", "sha256": "%s", "package": "%s", "version": "%s"}\n' \
  "$image" "$deb" "$deb_sha" "$pkg" "$version" > "$tmp/baked.json"
touch "$tmp/done"
rm -rf "$out"
mv "$tmp" "$out"
echo "$out"
