#!/usr/bin/env bash
# Make sure a Docker engine answers on this machine, installing and starting
# Debian's docker.io when none does. Idempotent: exits at once when `docker info` works.
set -euo pipefail

log() { printf '[ensure-docker] %s\n' "$*" >&2; }

engine_answers() { docker info >/dev/null 2>&1; }

if command -v docker >/dev/null 2>&1 && engine_answers; then
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || { log "no Docker engine and not root: install docker.io yourself"; exit 1; }
  log "installing Debian's docker.io"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends docker.io iptables iproute2 >/dev/null
fi

if ! engine_answers; then
  if command -v systemctl >/dev/null 2>&1 && systemctl is-system-running >/dev/null 2>&1; then
    systemctl start docker || true
  fi
fi

if ! engine_answers; then
  log "starting dockerd in the background (log: /var/log/dockerd.log)"
  nohup dockerd >/var/log/dockerd.log 2>&1 &
  for _ in $(seq 1 60); do
    engine_answers && break
    sleep 1
  done
fi

engine_answers || { log "dockerd did not answer within 60 s; see /var/log/dockerd.log"; exit 1; }
log "Docker engine is up"
