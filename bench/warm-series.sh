#!/usr/bin/env bash
# The warm data plane series of bench/README.md ("Warm data plane (issue 17)"): one `warm` run of
# Berth.Bench.EndToEnd per named setting, 3 repetitions each, every run with its own nginx and
# plain-YARP references. Usage: bash bench/warm-series.sh OUT_DIR defaults inline t2 ... (see the case below).
# Run on a quiet machine (no builds or tests): the ratios are what the README compares.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: warm-series.sh OUT_DIR SETTING...}
shift
mkdir -p "$out"
export PATH=$PATH:/usr/sbin
dotnet build -c Release bench/Berth.Bench.EndToEnd -nologo -clp:ErrorsOnly
bin=bench/Berth.Bench.EndToEnd/bin/Release/net10.0/Berth.Bench.EndToEnd.dll
run() {
  local name=$1; shift
  echo "== $name $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
  env "$@" timeout 900 nice -n -10 dotnet "$bin" warm --reps 3 --duration 8 --connections 32 --threads 1 \
    --instance-type standard-3 --targets direct,nginx,gateway,plain --unloaded-duration 3 > "$out/$name.out" 2>&1
  grep -E "gateway / nginx req/s|gateway / plain YARP|app CPU per request" "$out/$name.out" || true
}
for setting in "$@"; do
  case $setting in
    defaults*) run "$setting" BERTH_BENCH_SETTING=defaults ;;
    yarp) run yarp Berth__Gateway__Forwarder=Yarp ;;
    inline) run inline Berth__Gateway__InlineScheduling=true DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 ;;
    t2) run t2 DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT=2 ;;
    inline-t2) run inline-t2 Berth__Gateway__InlineScheduling=true DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT=2 ;;
    inline-t2-ws) run inline-t2-ws Berth__Gateway__InlineScheduling=true DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT=2 DOTNET_gcServer=0 ;;
    spinning) run spinning DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=70 ;;
    nowait-inline-t1*) run "$setting" BERTH_BENCH_WAIT_FOR_DATA=false Berth__Gateway__InlineScheduling=true DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT=1 ;;
    nowait-inline*) run "$setting" BERTH_BENCH_WAIT_FOR_DATA=false Berth__Gateway__InlineScheduling=true DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 ;;
    inline-t1*) run "$setting" Berth__Gateway__InlineScheduling=true DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT=1 ;;
    nowait-kinline*) run "$setting" BERTH_BENCH_WAIT_FOR_DATA=false Berth__Gateway__InlineScheduling=true ;;
    nowait*) run "$setting" BERTH_BENCH_WAIT_FOR_DATA=false ;;
    kinline*) run "$setting" Berth__Gateway__InlineScheduling=true ;;
    ioq0*) run "$setting" BERTH_BENCH_IO_QUEUES=0 ;;
    ioq1*) run "$setting" BERTH_BENCH_IO_QUEUES=1 ;;
    *) echo "unknown setting '$setting'; allowed: defaults[N], yarp, inline, t2, inline-t2, inline-t2-ws, spinning, nowait[N], nowait-inline[N], nowait-inline-t1[N], inline-t1[N], nowait-kinline[N], kinline[N], ioq0[N], ioq1[N]" >&2; exit 2 ;;
  esac
done
