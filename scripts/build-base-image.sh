#!/usr/bin/env bash
# Build the lab's systemd base image locally (no image registry is reachable):
# debootstrap Debian from the mirror this machine's apt sources name, then `docker import`.
# Idempotent: does nothing when the tag already exists.
set -euo pipefail

IMAGE="${VIRTLAB_BASE_IMAGE:-virtlab/debian-systemd:bookworm}"
SUITE="${VIRTLAB_SUITE:-bookworm}"
PACKAGES="systemd,systemd-sysv,dbus,python3,python3-apt,iproute2,iputils-ping,ca-certificates,curl,procps,sudo"

log() { printf '[base-image] %s\n' "$*" >&2; }

if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  exit 0
fi

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

MIRROR="${VIRTLAB_MIRROR:-$(mirror_from_apt_sources)}"
[ -n "$MIRROR" ] || { log "no Debian mirror found in the apt sources; set VIRTLAB_MIRROR"; exit 1; }

if ! command -v debootstrap >/dev/null 2>&1; then
  log "installing debootstrap"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi

ROOTFS=$(mktemp -d /var/tmp/virtlab-rootfs.XXXXXX)
trap 'rm -rf "$ROOTFS"' EXIT

log "debootstrap $SUITE from $MIRROR (a few minutes)"
debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$ROOTFS" "$MIRROR" >/dev/null

# Make the tree boot well as a container: the same mirror for apt inside the nodes,
# no units that make no sense without hardware, no first-boot questions.
printf 'deb %s %s main\ndeb %s %s-updates main\n' "$MIRROR" "$SUITE" "$MIRROR" "$SUITE" >"$ROOTFS/etc/apt/sources.list"
: >"$ROOTFS/etc/machine-id"
for unit in getty.target console-getty.service systemd-firstboot.service \
            systemd-udevd.service systemd-udev-trigger.service systemd-modules-load.service \
            sys-kernel-config.mount sys-kernel-debug.mount systemd-remount-fs.service; do
  ln -sf /dev/null "$ROOTFS/etc/systemd/system/$unit"
done
rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/*
# Empty package lists must look stale, so that roles' `apt update_cache + cache_valid_time` refresh them.
touch -d '2000-01-01 00:00:00' "$ROOTFS"/var/lib/apt/lists "$ROOTFS"/var/lib/apt
rm -f "$ROOTFS"/var/lib/apt/periodic/update-success-stamp

log "importing as $IMAGE"
tar -C "$ROOTFS" -c . | docker import \
  --change 'CMD ["/lib/systemd/systemd"]' \
  --change 'ENV container=docker' \
  - "$IMAGE" >/dev/null
log "built $IMAGE"
