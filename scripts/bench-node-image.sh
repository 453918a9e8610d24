#!/usr/bin/env bash
# The lab's base image with Node.js in one more layer, built once per base image: a lab whose nodes start from it
# (-e virtlab_docker_image=virtlab/debian-systemd-node:bookworm) does not download and unpack Node.js on every
# service node; the nodejs role then only checks the version. Docker shares the layer between all containers.
# Idempotent: does nothing when the image exists and was made from the current base image (its label says which).
# The build is the measure role's (roles/measure/files/measure.py --node-image), which starts its container from
# the same image.
set -euo pipefail

here="$(dirname "$0")"
BASE="${VIRTLAB_BASE_IMAGE:-virtlab/debian-systemd:bookworm}"
IMAGE="${VIRTLAB_NODE_IMAGE:-virtlab/debian-systemd-node:bookworm}"

bash "$here/build-base-image.sh"
"${PYTHON:-python3}" "$here/../roles/measure/files/measure.py" --node-image --base-image "$BASE" --node-tag "$IMAGE" >/dev/null
