#!/usr/bin/env bash
# The guest image behind the VBoxManage and PVE API test doubles: the lab's systemd base image plus
# what a VM or CT guest needs (an SSH server, a DHCP client, dnsmasq for the networks that answer DHCP,
# socat for the NAT port forwards) and what the calculator lab's guests would otherwise fetch from a mirror they
# cannot reach (Node.js, as the nodejs role installs it: Debian's package), as one image layer built once and
# cached.
#
#   scripts/build-guest-container-image.sh      prints the image's tag (builds it when missing)
#
# The tag carries a hash of this script, so a changed recipe builds a new image next to the old one.
# The packages come from the Debian mirror of the base image's apt sources (written from this machine's
# apt sources by scripts/build-base-image.sh), reached through a NAT-ed Docker network of its own that
# is removed afterwards.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BASE="${VIRTLAB_BASE_IMAGE:-virtlab/debian-systemd:bookworm}"
PACKAGES="openssh-server isc-dhcp-client dnsmasq-base socat nodejs"
HASH=$(sha256sum "$REPO/scripts/build-guest-container-image.sh" | cut -c1-12)
IMAGE="virtlab/vguest:bookworm-$HASH"

log() { printf '[guest-image] %s\n' "$*" >&2; }

if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  echo "$IMAGE"
  exit 0
fi

# One build at a time (test sessions may start together).
exec 9>"/tmp/vguest-image-$HASH.lock"
flock 9
if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  echo "$IMAGE"
  exit 0
fi

docker image inspect "$BASE" >/dev/null 2>&1 || bash "$REPO/scripts/build-base-image.sh"

NAME="vguest-build-$$"
cleanup() { docker rm -f "$NAME" >/dev/null 2>&1 || true; docker network rm "$NAME" >/dev/null 2>&1 || true; }
trap cleanup EXIT
docker network create --driver bridge "$NAME" >/dev/null
log "installing $PACKAGES into $BASE"
docker run --name "$NAME" --network "$NAME" "$BASE" /bin/sh -ec "
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $PACKAGES >/dev/null
  rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb
  # Host keys are made at each guest's first boot (a clone or a copy must not share them).
  rm -f /etc/ssh/ssh_host_*
  mkdir -p /etc/systemd/system/ssh.service.d
  printf '[Service]\nExecStartPre=\nExecStartPre=/usr/bin/ssh-keygen -A\nExecStartPre=/usr/sbin/sshd -t\n' \
    >/etc/systemd/system/ssh.service.d/hostkeys.conf
  systemctl enable ssh.service >/dev/null 2>&1
  # Empty package lists look stale, as in the base image.
  touch -d '2000-01-01 00:00:00' /var/lib/apt/lists /var/lib/apt
"
docker commit --change 'CMD ["/lib/systemd/systemd"]' --change 'ENV container=docker' "$NAME" "$IMAGE" >/dev/null
log "built $IMAGE"
echo "$IMAGE"
