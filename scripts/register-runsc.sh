#!/usr/bin/env bash
# Installs Debian's gVisor (`runsc`) and registers it with the Docker engine as runtime "runsc", so a
# container class with `runtime: "runsc"` runs its system calls through gVisor. Safe to run again.
#
# Why runtimeArgs ["--network=host"]: Debian's runsc (build 2022-12-19) registered as a plain runtime
# refuses every container ("cannot run with network enabled in root network namespace"). With
# --network=host gVisor uses the network namespace Docker made for the container (so Berth's bridges,
# inter-container isolation and firewall rules still apply) instead of its own netstack; system calls,
# files and processes still go through gVisor's kernel. See docs/security.md.
#
# The engine is told only when daemon.json changed: SIGHUP makes dockerd reload its runtimes without
# restarting any container. Used by scripts/bootstrap.sh and by the gVisor tests' fixture.
set -euo pipefail

log() { printf '[runsc] %s\n' "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v runsc >/dev/null 2>&1; then
  log "installing runsc (gVisor) from Debian"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends runsc >/dev/null
fi
runsc_path="$(command -v runsc)"

daemon_json="${BERTH_DOCKER_DAEMON_JSON:-/etc/docker/daemon.json}"
as_root mkdir -p "$(dirname "$daemon_json")"
current="$( [ -s "$daemon_json" ] && as_root cat "$daemon_json" || echo '{}')"
# python3 merges the one key and keeps every other setting as it was (jq is not always installed).
wanted="$(printf '%s' "$current" | python3 -c '
import json, sys
config = json.load(sys.stdin)
config.setdefault("runtimes", {})["runsc"] = {"path": sys.argv[1], "runtimeArgs": ["--network=host"]}
print(json.dumps(config, indent=2, sort_keys=True))
' "$runsc_path")"

if [ "$(printf '%s' "$current" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin), indent=2, sort_keys=True))')" = "$wanted" ]; then
  log "runsc already registered in $daemon_json"
else
  log "registering runsc in $daemon_json"
  printf '%s\n' "$wanted" | as_root tee "$daemon_json.tmp" >/dev/null
  as_root mv "$daemon_json.tmp" "$daemon_json"
  if pid="$(pidof dockerd)"; then
    log "reloading dockerd (SIGHUP, pid $pid)"
    as_root kill -HUP "$pid"
  fi
fi

# The reload is asynchronous: wait until the engine lists the runtime.
for _ in $(seq 1 20); do
  if docker info --format '{{json .Runtimes}}' 2>/dev/null | grep -q '"runsc"'; then
    log "engine lists runtime runsc"
    exit 0
  fi
  sleep 0.5
done
log "the engine does not list runtime runsc after the reload; see the dockerd log"
exit 1
