# Sourced by bench/warm-profile.sh and bench/warm-syscalls.sh: builds the end-to-end benchmark and starts one `warm` run
# of nginx then the gateway, 25 s each, in the background, with the environment in "$@" (VAR=value ...), output in
# "$out/bench.out". Returns after the JIT warm-up with: bench (the benchmark's pid, which is the gateway's process), t0
# (when the measured runs began, seconds since the epoch), container, app (the container app's pid) and nginx (its
# workers' pids, comma-separated); they are also written to "$out/pids".
dotnet build -c Release bench/Berth.Bench.EndToEnd -nologo -clp:ErrorsOnly
env "$@" nice -n -10 dotnet bench/Berth.Bench.EndToEnd/bin/Release/net10.0/Berth.Bench.EndToEnd.dll \
  warm --reps 1 --duration 25 --connections 32 --threads 1 --instance-type standard-3 --targets nginx,gateway --unloaded-duration 1 > "$out/bench.out" 2>&1 &
bench=$!
until grep -q "Warm-up:" "$out/bench.out" 2>/dev/null; do
  sleep 0.5
  kill -0 $bench 2>/dev/null || { echo "the benchmark ended before its warm-up did: $out/bench.out" >&2; exit 1; }
done
t0=$(date +%s.%N)
container=$(grep -oE "Container [0-9a-f]{12}" "$out/bench.out" | head -1 | cut -d' ' -f2)
app=$(docker inspect -f '{{.State.Pid}}' "$container")
nginx=$(pgrep -f "nginx: worker" | tr '\n' ',' | sed 's/,$//')
echo "gateway $bench, nginx workers $nginx, app $app (container $container)" > "$out/pids"
