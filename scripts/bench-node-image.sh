#!/usr/bin/env bash
# The lab's base image with Node.js in one more layer, built once per base image: a lab whose nodes start from it
# (-e virtlab_docker_image=virtlab/debian-systemd-node:bookworm) does not download and unpack Node.js on every
# service node; the nodejs role then only checks the version. Docker shares the layer between all containers.
# Idempotent: does nothing when the image exists and was made from the current base image (its label says which).
set -euo pipefail

BASE="${VIRTLAB_BASE_IMAGE:-virtlab/debian-systemd:bookworm}"
IMAGE="${VIRTLAB_NODE_IMAGE:-virtlab/debian-systemd-node:bookworm}"

log() { printf '[node-image] %s\n' "$*" >&2; }

bash "$(dirname "$0")/build-base-image.sh"
base_id=$(docker image inspect --format '{{.Id}}' "$BASE")
if [ "$(docker image inspect --format '{{ index .Config.Labels "virtlab.base" }}' "$IMAGE" 2>/dev/null || true)" = "$base_id" ]; then
  exit 0
fi

builder="virtlab-node-image-build-$$"
trap 'docker rm -f "$builder" >/dev/null 2>&1 || true' EXIT
log "installing Node.js into a layer on $BASE"
# The same steps as the nodejs role's apt install; then the package lists look stale again, as in the base image,
# so that a role's `apt update_cache + cache_valid_time` refreshes them.
docker run --name "$builder" --network bridge -e DEBIAN_FRONTEND=noninteractive "$BASE" /bin/sh -ec '
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends nodejs >/dev/null
  apt-get clean
  rm -rf /var/lib/apt/lists/*
  touch -d "2000-01-01 00:00:00" /var/lib/apt/lists /var/lib/apt
  rm -f /var/lib/apt/periodic/update-success-stamp
  node --version'
docker commit \
  --change 'CMD ["/lib/systemd/systemd"]' \
  --change 'ENV container=docker' \
  --change "LABEL virtlab.base=$base_id" \
  "$builder" "$IMAGE" >/dev/null
log "built $IMAGE"
