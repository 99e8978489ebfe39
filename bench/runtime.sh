#!/usr/bin/env bash
# Runtime benchmark (issue 12 item 3): cold start and warm requests/s of the test app on runc vs runsc (gVisor).
# Not a test. Each runtime: COUNT cold starts one after another (docker run → first 200 from GET /hello on the
# container's address), then one container under wrk for DURATION seconds. The containers sit on a Berth-style
# network (inter-container communication off, bridge bb-…), with standard-3's limits (2 vCPU, 8 GiB, as
# bench/run-e2e.sh uses; lite's 1/16 vCPU would measure the CPU quota, not the runtime). Only the benchmark's own
# containers are contacted; everything carries berth.test=1 / berth.bench=1 and is removed at the end.
#
#   bench/runtime.sh                         # COUNT=10 DURATION=10
#   COUNT=20 DURATION=20 bench/runtime.sh
#
# Needs the test images (built by any engine test run: berth-test/app) and runsc registered
# (scripts/register-runsc.sh). Installs wrk from Debian when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT="${COUNT:-10}"
DURATION="${DURATION:-10}"
IMAGE="${IMAGE:-berth-test/app:latest}"

command -v wrk >/dev/null 2>&1 || {
  echo "installing wrk from Debian…" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >&2
}
docker image inspect "$IMAGE" >/dev/null 2>&1 || { echo "$IMAGE is missing; run an engine test once (it builds the test images)" >&2; exit 1; }
docker info --format '{{json .Runtimes}}' | grep -q '"runsc"' || bash scripts/register-runsc.sh >&2

net="berth-bench-rt-$$"
bridge="bb-$(printf '%s' "$net" | sha256sum | cut -c1-8)"
labels=(--label berth.test=1 --label berth.bench=1)
docker network create "${labels[@]}" -o com.docker.network.bridge.name="$bridge" \
  -o com.docker.network.bridge.enable_icc=false "$net" >/dev/null
cleanup() {
  docker ps -aq --filter label=berth.bench.rt="$$" | xargs -r docker rm -f >/dev/null 2>&1 || true
  docker network rm "$net" >/dev/null 2>&1 || true
}
trap cleanup EXIT INT TERM

run() { # runtime → container id
  docker run -d "${labels[@]}" --label berth.bench.rt="$$" --runtime "$1" --network "$net" \
    --cpus 2 --memory 8g --memory-swap 8g --pids-limit 4096 --ulimit nofile=16384:16384 \
    -e DOTNET_hostBuilder__reloadConfigOnChange=false "$IMAGE"
}
ip_of() { docker inspect -f "{{(index .NetworkSettings.Networks \"$net\").IPAddress}}" "$1"; }
now_ms() { date +%s%3N; }

printf '\n## Runtime: runc vs runsc (gVisor)\n\n'
printf 'Run %s on %s (%s cores, load before: %s), %s; image %s.\n' "$(date -u +%Y-%m-%dT%H:%MZ)" "$(uname -n)" "$(nproc)" \
  "$(cut -d' ' -f1-3 /proc/loadavg)" "$(docker version --format 'Docker {{.Server.Version}}')" "$IMAGE"
printf 'Command: `COUNT=%s DURATION=%s bench/runtime.sh`\n\n' "$COUNT" "$DURATION"
printf '| runtime | cold start ms: min / median / max (n=%s) | warm req/s (wrk -t1 -c16 -d%ss) | p99 latency |\n|---|---|---|---|\n' "$COUNT" "$DURATION"

for rt in runc runsc; do
  times=()
  for _ in $(seq 1 "$COUNT"); do
    start=$(now_ms)
    id=$(run "$rt")
    ip=$(ip_of "$id")
    until curl -sf --max-time 1 "http://$ip:8080/hello" >/dev/null 2>&1; do sleep 0.01; done
    times+=($(( $(now_ms) - start )))
    docker rm -f "$id" >/dev/null
  done
  sorted=($(printf '%s\n' "${times[@]}" | sort -n))
  median=${sorted[$(( ${#sorted[@]} / 2 ))]}
  id=$(run "$rt")
  ip=$(ip_of "$id")
  until curl -sf --max-time 1 "http://$ip:8080/hello" >/dev/null 2>&1; do sleep 0.05; done
  wrk -t1 -c16 -d"${DURATION}s" --latency "http://$ip:8080/hello" > "/tmp/berth-wrk-$rt-$$.txt"
  rps=$(awk '/Requests\/sec/ {print $2}' "/tmp/berth-wrk-$rt-$$.txt")
  p99=$(awk '$1 == "99%" {print $2}' "/tmp/berth-wrk-$rt-$$.txt")
  rm -f "/tmp/berth-wrk-$rt-$$.txt"
  docker rm -f "$id" >/dev/null
  printf '| %s | %s / %s / %s | %s | %s |\n' "$rt" "${sorted[0]}" "$median" "${sorted[-1]}" "$rps" "$p99"
done
