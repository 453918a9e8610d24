#!/usr/bin/env bash
# Make sure a Docker engine answers on this machine, installing and starting
# Debian's docker.io when none does. Idempotent: exits at once when `docker info` works.
set -euo pipefail

log() { printf '[ensure-docker] %s\n' "$*" >&2; }

engine_answers() { docker info >/dev/null 2>&1; }

# Every lab node runs systemd, which takes about five inotify instances: two labs side by side (one per
# student) exceed the kernel's default of 128 per user, and their nodes then never finish booting.
want_inotify=1024
if [ "$(cat /proc/sys/fs/inotify/max_user_instances 2>/dev/null || echo "$want_inotify")" -lt "$want_inotify" ]; then
  if [ "$(id -u)" = 0 ] && echo "$want_inotify" > /proc/sys/fs/inotify/max_user_instances 2>/dev/null; then
    log "raised fs.inotify.max_user_instances to $want_inotify (systemd in every lab node)"
  else
    log "fs.inotify.max_user_instances is below $want_inotify: several labs at once may not boot (sysctl -w fs.inotify.max_user_instances=$want_inotify)"
  fi
fi

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
