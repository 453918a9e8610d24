#!/usr/bin/env bash
# Debian tools the lab's own playbooks call on this machine: Graphviz renders the topology's picture
# (playbooks/picture.yml, the validate report); QEMU and genisoimage boot the VM that
# playbooks/objective1_3_measure.yml measures next to a container. Idempotent: installs only what is missing.
set -euo pipefail

missing=()
command -v dot >/dev/null 2>&1 || missing+=(graphviz)
command -v qemu-system-x86_64 >/dev/null 2>&1 || missing+=(qemu-system-x86)
command -v qemu-img >/dev/null 2>&1 || missing+=(qemu-utils)
command -v genisoimage >/dev/null 2>&1 || missing+=(genisoimage)
[ ${#missing[@]} -eq 0 ] && exit 0
[ "$(id -u)" = 0 ] || { echo "[ensure-tools] missing ${missing[*]} and not root: install them yourself" >&2; exit 1; }
echo "[ensure-tools] installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
