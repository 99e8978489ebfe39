#!/usr/bin/env bash
# Installs and starts what Berth needs on a fresh Debian machine: the Docker engine (Debian's
# docker.io, started in the background when none runs), busybox-static for the test images, the node's image
# registry (docker-registry on 127.0.0.1:5000), and the .NET SDK check. Safe to run again: every step is skipped when already done.
set -euo pipefail

log() { printf '[bootstrap] %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_updated=0
apt_install() {
  if [ "$apt_updated" -eq 0 ]; then
    log "apt-get update"
    as_root apt-get update -qq
    apt_updated=1
  fi
  log "installing $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

command -v dotnet >/dev/null 2>&1 || { log "the .NET 10 SDK is required (dotnet not on PATH)"; exit 1; }

missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
[ -x /bin/busybox ] || missing+=(busybox-static)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v iptables >/dev/null 2>&1 || missing+=(iptables)
# Native AOT (the test app and the demo's model service) links with gcc against zlib; the base image copies libssl.
command -v gcc >/dev/null 2>&1 || missing+=(gcc)
dpkg -s zlib1g-dev >/dev/null 2>&1 || missing+=(zlib1g-dev)
dpkg -s libssl3 >/dev/null 2>&1 || missing+=(libssl3)
# A class with `init: true` runs the engine's docker-init as PID 1; Debian's docker.io links it to tini's tini-static.
command -v docker-init >/dev/null 2>&1 || [ -x /usr/libexec/docker/docker-init ] || missing+=(tini)
if [ "${#missing[@]}" -gt 0 ]; then apt_install "${missing[@]}"; fi

# Every ASP.NET Core app in a container holds an inotify instance, charged to host root; the kernel's
# default of 128 per user stops the ~120th .NET container from starting (see bench/README.md).
if [ "$(cat /proc/sys/fs/inotify/max_user_instances 2>/dev/null || echo 8192)" -lt 8192 ]; then
  log "raising fs.inotify.max_user_instances to 8192"
  as_root sysctl -q -w fs.inotify.max_user_instances=8192 || log "could not raise fs.inotify.max_user_instances; many .NET containers may fail to start"
fi

sock="${DOCKER_HOST:-unix:///var/run/docker.sock}"
sock="${sock#unix://}"

engine_up() { curl -sf --max-time 2 --unix-socket "$sock" http://localhost/_ping >/dev/null 2>&1; }

if engine_up; then
  log "Docker engine already running on $sock"
else
  log "starting dockerd in the background (log: /var/log/berth-dockerd.log)"
  as_root sh -c "setsid nohup dockerd >/var/log/berth-dockerd.log 2>&1 < /dev/null &"
  for _ in $(seq 1 60); do
    engine_up && break
    sleep 1
  done
  engine_up || { log "dockerd did not come up; last lines of its log:"; tail -n 20 /var/log/berth-dockerd.log; exit 1; }
  log "Docker engine is up on $sock"
fi

# gVisor for classes with runtime "runsc": Debian's runsc, registered with the engine (--network=host; see
# scripts/register-runsc.sh and docs/security.md). dockerd is reloaded (SIGHUP) only when daemon.json changed.
if ! bash "$(dirname "$0")/register-runsc.sh"; then
  log "runsc could not be registered; classes with runtime \"runsc\" will fail to start (runc classes are unaffected)"
fi

# The node's image registry (issue 13): Debian's docker-registry on 127.0.0.1:5000, storage under
# /var/lib/docker-registry, deletes enabled (Berth's image GC deletes old versions and runs garbage-collect).
# The engine pushes to a 127.0.0.1 registry over plain HTTP without any daemon.json change.
registry_conf=/etc/docker/registry/config.yml
registry_addr=127.0.0.1:5000
registry_up() { curl -sf --max-time 2 "http://$registry_addr/v2/" >/dev/null 2>&1; }
command -v docker-registry >/dev/null 2>&1 || apt_install docker-registry
if ! grep -q '^# berth-registry' "$registry_conf" 2>/dev/null; then
  log "writing $registry_conf (listen $registry_addr, storage /var/lib/docker-registry, deletes enabled)"
  as_root mkdir -p /etc/docker/registry /var/lib/docker-registry
  as_root sh -c "cat > $registry_conf" <<CONF
# berth-registry: written by Berth's scripts/bootstrap.sh; remove this line to keep your own edits.
version: 0.1
log:
  level: warn
  fields:
    service: registry
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: /var/lib/docker-registry
  delete:
    enabled: true
http:
  addr: $registry_addr
  headers:
    X-Content-Type-Options: [nosniff]
health:
  storagedriver:
    enabled: true
    interval: 10s
    threshold: 3
CONF
fi
if registry_up; then
  log "image registry already running on http://$registry_addr"
else
  log "starting docker-registry in the background on http://$registry_addr (log: /var/log/berth-registry.log)"
  as_root sh -c "setsid nohup docker-registry serve $registry_conf >/var/log/berth-registry.log 2>&1 < /dev/null &"
  for _ in $(seq 1 30); do
    registry_up && break
    sleep 1
  done
  registry_up || log "docker-registry did not come up (see /var/log/berth-registry.log); versions will use local image tags"
fi
