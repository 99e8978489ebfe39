#!/usr/bin/env bash
# Profiles of the warm data plane (bench/README.md, "Warm data plane", fourth stop): one `warm` run of nginx then the
# gateway, 25 s each; in the middle of each, `perf record` (999 Hz, call graphs, 12 s) of the proxy (nginx's workers or
# the gateway, which is the benchmark's own process) and, at the same time, of the container app's process.
# Usage: bash bench/warm-profile.sh OUT_DIR; then e.g. `perf report -i OUT_DIR/gateway.data --no-children --sort dso`.
# Run on a quiet machine; needs perf (Debian's linux-perf).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: warm-profile.sh OUT_DIR}
mkdir -p "$out"
# The perf map names JIT-compiled code; W^X off keeps its addresses the ones perf samples.
set -- DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0
. bench/warm-run.sh
profile() { # NAME PIDS: 12 s of samples
  perf record -F 999 -g -p "$2" -o "$out/$1.data" -- sleep 12 > /dev/null 2>&1
}
# After the warm-up, nginx runs for 25 s, then 1 s of pause, then the gateway for 25 s.
sleep 5
profile nginx "$nginx" & a=$!; profile app-behind-nginx "$app" & b=$!; wait $a $b || true
sleep "$(echo "$t0 + 32 - $(date +%s.%N)" | bc)"
profile gateway "$bench" & a=$!; profile app-behind-gateway "$app" & b=$!; wait $a $b || true
wait $bench || true
grep -E "^\| 1 \|" "$out/bench.out"
for f in nginx app-behind-nginx gateway app-behind-gateway; do
  echo "== $f"
  perf report -i "$out/$f.data" --no-children --sort dso --stdio 2>/dev/null | grep -E "^ +[0-9]|Samples" | head -6
done
