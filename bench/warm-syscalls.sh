#!/usr/bin/env bash
# System calls per warm request of each process (bench/README.md, "Warm data plane", sixth stop): one `warm` run of
# nginx then the gateway, 25 s each; in the middle of each, `perf stat` on syscall tracepoints (10 s) of the proxy
# (nginx's workers, or the gateway: the benchmark's own process) and, at the same time, of the container app's process.
# Counts are divided by the app's sendto calls in the same 10 s (the app answers each request with one sendto), so the
# figures are per request whatever perf's own cost did to the rate. `recv EAGAIN` counts the reads that found nothing.
# Usage: bash bench/warm-syscalls.sh OUT_DIR [VAR=value ...]; needs perf (Debian's linux-perf).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: warm-syscalls.sh OUT_DIR [VAR=value ...]}
shift
mkdir -p "$out"
. bench/warm-run.sh
events=()
for s in recvfrom sendto read write readv writev sendmsg recvmsg poll epoll_wait epoll_ctl futex sched_yield getsockopt; do
  events+=(-e "syscalls:sys_enter_$s")
done
events+=(-e syscalls:sys_exit_recvfrom --filter 'ret == -11' -e context-switches)
count() { # NAME PIDS: 10 s of counts
  perf stat "${events[@]}" -p "$2" -x, -o "$out/$1.csv" -- sleep 10 > /dev/null 2>&1
}
sleep 7
count nginx "$nginx" & a=$!; count app-behind-nginx "$app" & b=$!; wait $a $b || true
sleep "$(echo "$t0 + 33 - $(date +%s.%N)" | bc)"
count gateway "$bench" & a=$!; count app-behind-gateway "$app" & b=$!; wait $a $b || true
wait $bench || true
# One table: per request, each proxy and the app behind it.
for proxy in nginx gateway; do
  requests=$(awk -F, '$3 == "syscalls:sys_enter_sendto" {print $1}' "$out/app-behind-$proxy.csv")
  echo "== $proxy ($requests requests in the window)"
  paste -d, <(awk -F, -v n="$requests" '$3 ~ /syscalls|context/ {sub(/syscalls:sys_/, "", $3); sub(/exit_recvfrom/, "recv EAGAIN", $3); sub(/enter_/, "", $3); printf "%s,%.2f\n", $3, $1 / n}' "$out/$proxy.csv") \
            <(awk -F, -v n="$requests" '$3 ~ /syscalls|context/ {printf "%.2f\n", $1 / n}' "$out/app-behind-$proxy.csv") \
    | awk -F, 'BEGIN {printf "%-18s %8s %8s\n", "per request", "proxy", "app"} $2 + $3 > 0 {printf "%-18s %8s %8s\n", $1, $2, $3}'
done
