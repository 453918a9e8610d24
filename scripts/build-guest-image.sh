#!/usr/bin/env bash
# Build the lab's OpenStack guest image locally from Debian packages (no image can be downloaded),
# and optionally upload it to a cloud.
#
# The image: Debian (debootstrap from the mirror this machine's apt sources name, read at run
# time) with systemd, OpenSSH, cloud-init (ConfigDrive and OpenStack datasources: SSH key,
# hostname, networks), ifupdown with a DHCP client, iproute2, ping, curl, Node.js, Python 3 and
# sudo, and Debian's cloud kernel. cloud-init's default user is `debian` (passwordless sudo).
# It boots as three Glance images: the kernel (aki), the initrd (ari) and an ext4 root disk
# without partitions (qcow2), whose properties kernel_id, ramdisk_id and os_command_line tell
# Nova's libvirt driver how to boot it. The root disk's virtual size is 2 GiB (flavor disk >= 2).
#
# Cached by content: the cache key is the hash of this script (which holds every input of the
# build: suite, packages, configuration). A second build with the same script is a cache hit and
# takes no time; a changed script builds a new image next to the old one.
#
#   scripts/build-guest-image.sh                       build (or find in the cache); prints the directory
#   scripts/build-guest-image.sh upload [--cloud C] [--name N] [--visibility V]
#                                                      build if needed, then upload to cloud C
#                                                      (default: $OS_CLOUD) as image N (default debian-12),
#                                                      idempotently: nothing is uploaded when image N of
#                                                      this build is there; older builds of N are deleted.
#
# Environment: VIRTLAB_MIRROR (a Debian mirror URL, instead of the one in the apt sources),
# VIRTLAB_GUEST_CACHE (default /var/cache/virtlab/guest-image: one cache for every clone on the machine,
# as the cloud itself is one per machine), VIRTLAB_PYTHON (a Python with
# openstacksdk for the upload; default: the project's virtualenv, else python3).
# Needs root (debootstrap, chroot).
set -euo pipefail

STARTED_AT=$(date +%s)
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SELF="$REPO/scripts/build-guest-image.sh"
CACHE_ROOT="${VIRTLAB_GUEST_CACHE:-/var/cache/virtlab/guest-image}"
SUITE=bookworm
# Installed in the chroot with apt (debootstrap's minbase brings apt, dpkg, coreutils...).
PACKAGES="systemd systemd-sysv dbus udev kmod linux-image-cloud-amd64 initramfs-tools openssh-server
cloud-init ifupdown isc-dhcp-client iproute2 iputils-ping netbase ca-certificates curl nodejs
python3 sudo procps less"
# Modules the initramfs must have: the virtio disk and NIC, ext4, and the CD-ROM that holds the
# config drive (without those cloud-init misses the config drive and waits on the metadata URL).
INITRAMFS_MODULES="virtio_pci virtio_blk virtio_net virtio_scsi ext4 ata_piix sr_mod cdrom isofs"
DISK_SIZE=2G
# quiet: under emulation every line on the serial console costs boot time.
COMMAND_LINE="root=/dev/vda rw console=ttyS0 net.ifnames=0 quiet"

log() { printf '[guest-image] %s\n' "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }
elapsed() { echo "$(( $(date +%s) - STARTED_AT ))s"; }

ACTION=build
if [ "${1:-}" = upload ]; then ACTION=upload; shift; fi
CLOUD="${OS_CLOUD:-}"
NAME=debian-12
VISIBILITY=public
while [ $# -gt 0 ]; do
  case $1 in
    --cloud) CLOUD=$2; shift 2 ;;
    --name) NAME=$2; shift 2 ;;
    --visibility) VISIBILITY=$2; shift 2 ;;
    *) die "unknown argument $1 (see the header of $0)" ;;
  esac
done

KEY=$(sha256sum "$SELF" | cut -c1-16)
OUT="$CACHE_ROOT/$KEY"

# The Debian mirror, as the machine's apt configuration names it (deb822 or one-line format).
mirror_from_apt_sources() {
  local uri
  uri=$(grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null \
        | awk '{print $2}' | grep -v -- '-security' | head -n1 || true)
  if [ -z "$uri" ]; then
    uri=$(grep -hsE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
          | grep -v -- '-security' | sed -E 's/^deb (\[[^]]*\] )?//' | awk '{print $1}' | head -n1 || true)
  fi
  printf '%s' "$uri"
}

ensure_tools() {
  local missing="" tool pkg
  for tool in debootstrap:debootstrap qemu-img:qemu-utils mkfs.ext4:e2fsprogs; do
    pkg=${tool#*:}
    command -v "${tool%%:*}" >/dev/null 2>&1 || missing="$missing $pkg"
  done
  if [ -n "$missing" ]; then
    log "installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 $missing >/dev/null
  fi
}

ROOTFS=""
cleanup() {
  if [ -n "$ROOTFS" ]; then
    for mount in dev/pts dev sys proc; do
      mountpoint -q "$ROOTFS/$mount" && umount -l "$ROOTFS/$mount"
    done
    rm -rf "$ROOTFS"
  fi
  rm -rf "${WORK:-}"
}
trap cleanup EXIT

in_chroot() { chroot "$ROOTFS" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
  DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 "$@"; }

configure_rootfs() {
  # Nothing may start inside the chroot while packages install.
  printf '#!/bin/sh\nexit 101\n' >"$ROOTFS/usr/sbin/policy-rc.d"
  chmod +x "$ROOTFS/usr/sbin/policy-rc.d"
  mkdir -p "$ROOTFS/etc/initramfs-tools"
  # shellcheck disable=SC2086
  printf '%s\n' $INITRAMFS_MODULES >"$ROOTFS/etc/initramfs-tools/modules"
  # Only those (and what they need): a small initramfs unpacks faster under emulation.
  mkdir -p "$ROOTFS/etc/initramfs-tools/conf.d"
  echo MODULES=list >"$ROOTFS/etc/initramfs-tools/conf.d/virtlab.conf"
  # The kernel lives outside the disk (aki/ari): no boot loader, no symlinks in /.
  printf 'do_symlinks = no\ndo_bootloader = no\n' >"$ROOTFS/etc/kernel-img.conf"
  printf 'deb %s %s main\n' "$MIRROR" "$SUITE" >"$ROOTFS/etc/apt/sources.list"

  mount -t proc proc "$ROOTFS/proc"
  mount -t sysfs sysfs "$ROOTFS/sys"
  mount --bind /dev "$ROOTFS/dev"
  mount --bind /dev/pts "$ROOTFS/dev/pts"
  cp /etc/resolv.conf "$ROOTFS/etc/resolv.conf" 2>/dev/null || true
  in_chroot apt-get update -qq
  # shellcheck disable=SC2086
  in_chroot apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold $PACKAGES >"$WORK/apt.log" 2>&1 \
    || die "apt-get install in the image failed:
$(tail -n 20 "$WORK/apt.log")"
  in_chroot apt-get clean
  for mount in dev/pts dev sys proc; do umount -l "$ROOTFS/$mount"; done
  rm -f "$ROOTFS/usr/sbin/policy-rc.d"

  # First boot: cloud-init from the config drive (or the metadata service), the `debian` user.
  cat >"$ROOTFS/etc/cloud/cloud.cfg.d/90_virtlab.cfg" <<'EOF'
# virtlab guest image: OpenStack datasources only (the config drive first: no network wait).
datasource_list: [ConfigDrive, OpenStack, None]
manage_etc_hosts: true
# Guests have no route to a package mirror: keep the sources as built, install nothing at boot.
apt:
  preserve_sources_list: true
package_update: false
package_upgrade: false
# One host key type: key generation is slow under emulation.
ssh_genkeytypes: [ed25519]
# Only the modules a guest of the lab uses: each costs boot time under emulation (SSH waits for
# the first list).
cloud_init_modules: [seed_random, bootcmd, write-files, resizefs, set_hostname, update_hostname,
                     update_etc_hosts, users-groups, ssh]
cloud_config_modules: [set-passwords, package-update-upgrade-install, timezone, runcmd]
cloud_final_modules: [scripts-vendor, scripts-per-once, scripts-per-boot, scripts-per-instance,
                      scripts-user, final-message]
EOF
  # Network: loopback here; cloud-init writes the interfaces it finds in the metadata to
  # /etc/network/interfaces.d (and a DHCP fallback on eth0 when there is none).
  cat >"$ROOTFS/etc/network/interfaces" <<'EOF'
auto lo
iface lo inet loopback

source /etc/network/interfaces.d/*
EOF
  mkdir -p "$ROOTFS/etc/network/interfaces.d"
  printf '/dev/vda / ext4 rw,errors=remount-ro 0 1\n' >"$ROOTFS/etc/fstab"
  echo localhost >"$ROOTFS/etc/hostname"
  # Each guest gets its own identity at first boot: no machine id, no SSH host keys in the image;
  # if cloud-init did not make host keys, this unit does, before sshd starts.
  : >"$ROOTFS/etc/machine-id"
  rm -f "$ROOTFS/var/lib/dbus/machine-id" "$ROOTFS"/etc/ssh/ssh_host_*
  cat >"$ROOTFS/etc/systemd/system/virtlab-ssh-host-keys.service" <<'EOF'
[Unit]
Description=SSH host keys when cloud-init made none
After=cloud-init.service
Before=ssh.service
ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A

[Install]
WantedBy=multi-user.target
EOF
  ln -sf /etc/systemd/system/virtlab-ssh-host-keys.service \
    "$ROOTFS/etc/systemd/system/multi-user.target.wants/virtlab-ssh-host-keys.service"
  # No periodic jobs competing with the guest's real work on an emulated CPU.
  for unit in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service fstrim.timer; do
    ln -sf /dev/null "$ROOTFS/etc/systemd/system/$unit"
  done
  rm -rf "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/* \
         "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/*.bin "$ROOTFS"/var/log/*.log \
         "$ROOTFS/etc/resolv.conf"
  find "$ROOTFS/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name 'C.*' ! -name locale.alias \
    -exec rm -rf {} + 2>/dev/null || true
}

build() {
  if [ -s "$OUT/manifest" ]; then
    log "cache hit: $OUT ($(elapsed))"
    return 0
  fi
  [ "$(id -u)" = 0 ] || die "run as root (debootstrap and chroot)"
  MIRROR="${VIRTLAB_MIRROR:-$(mirror_from_apt_sources)}"
  [ -n "$MIRROR" ] || die "no Debian mirror found in the apt sources; set VIRTLAB_MIRROR"
  ensure_tools
  mkdir -p "$CACHE_ROOT"
  WORK=$(mktemp -d "$CACHE_ROOT/.build.XXXXXX")
  ROOTFS="$WORK/rootfs"
  mkdir -p "$ROOTFS"
  chmod 755 "$ROOTFS"        # becomes the root directory of the disk

  log "debootstrap $SUITE from $MIRROR"
  debootstrap --variant=minbase "$SUITE" "$ROOTFS" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 \
    || die "debootstrap failed:
$(tail -n 20 "$WORK/debootstrap.log")"
  log "installing the guest's packages ($(elapsed))"
  configure_rootfs

  local kernel initrd
  kernel=$(find "$ROOTFS/boot" -maxdepth 1 -name 'vmlinuz-*' | sort | tail -n1)
  initrd=$(find "$ROOTFS/boot" -maxdepth 1 -name 'initrd.img-*' | sort | tail -n1)
  if [ -z "$kernel" ] || [ -z "$initrd" ]; then die "no kernel or initrd in the image's /boot"; fi
  cp "$kernel" "$WORK/vmlinuz"
  cp "$initrd" "$WORK/initrd.img"

  log "making the ext4 root disk ($(elapsed))"
  truncate -s "$DISK_SIZE" "$WORK/root.raw"
  mkfs.ext4 -q -F -L cloudimg-rootfs -d "$ROOTFS" "$WORK/root.raw" \
    || die "mkfs.ext4 -d failed"
  qemu-img convert -f raw -O qcow2 "$WORK/root.raw" "$WORK/root.qcow2"
  rm -f "$WORK/root.raw"

  {
    echo "key=$KEY"
    echo "suite=$SUITE"
    echo "kernel=$(basename "$kernel")"
    echo "command_line=$COMMAND_LINE"
    # shellcheck disable=SC2016  # ${Version} is dpkg-query's field, not the shell's
    echo "node=$(in_chroot dpkg-query -W -f='${Version}' nodejs 2>/dev/null || true)"
    echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "seconds=$(( $(date +%s) - STARTED_AT ))"
  } >"$WORK/manifest.tmp"
  rm -rf "$ROOTFS"
  ROOTFS=""
  mkdir -p "$OUT"
  mv "$WORK/vmlinuz" "$WORK/initrd.img" "$WORK/root.qcow2" "$OUT/"
  mv "$WORK/manifest.tmp" "$OUT/manifest"      # last: its presence means the build is complete
  log "built $OUT in $(elapsed): $(du -sh "$OUT/root.qcow2" | cut -f1) root disk"
}

upload() {
  [ -n "$CLOUD" ] || die "upload: name the cloud (--cloud or OS_CLOUD)"
  local python="${VIRTLAB_PYTHON:-}"
  if [ -z "$python" ]; then
    if [ -x "$REPO/.venv/bin/python" ]; then python="$REPO/.venv/bin/python"; else python=python3; fi
  fi
  "$python" "$REPO/scripts/upload-guest-image.py" --cloud "$CLOUD" --name "$NAME" \
    --visibility "$VISIBILITY" --command-line "$COMMAND_LINE" "$OUT"
}

# One build at a time per cache: a second caller waits, then finds the first one's result.
mkdir -p "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/.lock"
flock 9
build
flock -u 9
if [ "$ACTION" = upload ]; then upload; fi
echo "$OUT"
