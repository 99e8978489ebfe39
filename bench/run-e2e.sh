#!/usr/bin/env bash
# End-to-end benchmarks of Berth's gateway and container objects (see bench/README.md).
# Installs wrk and nginx from Debian when missing, builds Release and runs the four scenarios, each in its
# own process (so each starts from a fresh platform process), with bounded counts and durations: about
# 10 minutes on 2 cores. All traffic goes to 127.0.0.1 and to the benchmark's own containers.
#
#   bench/run-e2e.sh                 # everything
#   bench/run-e2e.sh cold-start warm # some scenarios
#   OUT=results.md bench/run-e2e.sh  # also append the markdown report to a file
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]} from Debian…" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}" >&2 \
    || { $SUDO apt-get update >&2 && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}" >&2; }
fi
export PATH="$PATH:/usr/sbin"

dotnet build -c Release bench/Berth.Bench.EndToEnd -nologo -v q >&2
BIN=(dotnet bench/Berth.Bench.EndToEnd/bin/Release/net10.0/Berth.Bench.EndToEnd.dll)
OUT_ARGS=()
if [ -n "${OUT:-}" ]; then OUT_ARGS=(--out "$OUT"); fi

scenarios=("$@")
[ ${#scenarios[@]} -eq 0 ] && scenarios=(cold-start warm fanout churn)

echo "load before: $(cat /proc/loadavg)" >&2
for s in "${scenarios[@]}"; do
  case "$s" in
    # ≥20 fresh IDs one after another, interleaved with as many direct engine starts; then 10 at once.
    cold-start) timeout 300 "${BIN[@]}" cold-start --count 20 --concurrent 10 --instance-type standard-3 "${OUT_ARGS[@]}" ;;
    # wrk -t1 -c32 -d10s against gateway, container address, docker-proxy, nginx, plain YARP; 3 repetitions.
    warm) timeout 400 "${BIN[@]}" warm --reps 3 --duration 10 --connections 32 --threads 1 --instance-type standard-3 "${OUT_ARGS[@]}" ;;
    # 100 then 500 running containers (lite), 16 starts in flight, 10 s of wrk across them at each size.
    fanout) timeout 600 "${BIN[@]}" fanout --sizes 100,500 --concurrency 16 --duration 10 --instance-type lite "${OUT_ARGS[@]}" ;;
    # 10 IDs with SleepAfter 1 s, bursts and pauses for 60 s; no leaks, steady memory.
    churn) timeout 200 "${BIN[@]}" churn --ids 10 --duration 60 --sleep-after-ms 1000 --max-pause-ms 2500 --instance-type lite "${OUT_ARGS[@]}" ;;
    # 20 fresh IDs without, then 20 with prewarmed_instances 2 (the pool refills between two, not counted).
    warm-pool) timeout 300 "${BIN[@]}" warm-pool --count 20 --prewarmed 2 --instance-type standard-3 "${OUT_ARGS[@]}" ;;
    *) echo "unknown scenario $s (cold-start, warm, fanout, churn, warm-pool)" >&2; exit 2 ;;
  esac
done
echo "load after: $(cat /proc/loadavg)" >&2
