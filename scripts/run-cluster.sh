#!/usr/bin/env bash
# Runs the Titanic demo as a cluster of 3 nodes on this machine: starts PostgreSQL (scripts/postgres.sh), publishes the
# model service, builds the gateway, and starts 3 node processes on http://127.0.0.1:8787, :8788 and :8789 (locations
# eu, us and ap), joined through PostgreSQL membership. It then sends a few requests to each node and prints which node
# answered (the `berth-node` response header, added in cluster mode only) and where the one model container runs.
# Ctrl-C stops the three nodes; the model container keeps running and is adopted by the next run (same data
# directories in .berth-cluster/, git-ignored). Logs: .berth-cluster/node-N.log.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/bootstrap.sh
bash scripts/postgres.sh
connection="${BERTH_POSTGRES:-Host=127.0.0.1;Port=5432;Username=berth;Password=berth;Database=berth}"

model=samples/Titanic/Titanic.Model
binary="$model/bin/aot/titanic-model"
if [ ! -x "$binary" ] || [ -n "$(find "$model" -maxdepth 1 \( -name '*.cs' -o -name '*.csproj' -o -name '*.csv' \) -newer "$binary")" ]; then
  echo "[cluster] publishing the model service with Native AOT (about a minute the first time)"
  dotnet publish "$model" -c Release -r linux-x64 -o "$model/bin/aot" -nologo -v quiet
fi

echo "[cluster] building the gateway"
dotnet build samples/Titanic/Titanic.Gateway -c Release -nologo -v quiet -clp:ErrorsOnly
gateway_dir=samples/Titanic/Titanic.Gateway
dll="$gateway_dir/bin/Release/net10.0/Titanic.Gateway.dll"

state="$PWD/.berth-cluster"
mkdir -p "$state"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

locations=(eu us ap)
for i in 0 1 2; do
  port=$((8787 + i))
  (cd "$gateway_dir" && exec dotnet "$OLDPWD/$dll" --urls "http://127.0.0.1:$port" \
      --Berth:Objects:DataDirectory="$state/node-$i" \
      --Berth:Cluster:Provider=postgres \
      --Berth:Cluster:Connection="$connection" \
      --Berth:Cluster:ClusterId=titanic-demo \
      --Berth:Cluster:AdvertiseAddress=127.0.0.1 \
      --Berth:Cluster:SiloPort=$((11111 + i)) \
      --Berth:Cluster:GatewayPort=$((30000 + i)) \
      --Berth:Cluster:Location="${locations[$i]}" \
      --Berth:Egress:ProxyPort=$((3129 + i)) >"$state/node-$i.log" 2>&1) &
  pids+=($!)
  echo "[cluster] node $i (location ${locations[$i]}) starting on http://127.0.0.1:$port, log $state/node-$i.log"
done

for i in 0 1 2; do
  port=$((8787 + i))
  for _ in $(seq 1 120); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null && break
    sleep 1
  done
done

echo "[cluster] 3 nodes up; each request prints the node that answered it (the model container runs on one of them)"
for round in 1 2 3; do
  for i in 0 1 2; do
    port=$((8787 + i))
    node=$(curl -sS -o /dev/null -D - "http://127.0.0.1:$port/api/health" | tr -d '\r' | awk -F': ' 'tolower($1) == "berth-node" { print $2 }')
    code=$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/api/health")
    echo "[cluster] round $round: http://127.0.0.1:$port/api/health -> $code, answered by node ${node:-?}"
  done
done
echo "[cluster] model containers: $(docker ps --filter label=berth.app=titanic --format '{{.Names}}' | tr '\n' ' ')"
echo "[cluster] open http://127.0.0.1:8787/, :8788/ or :8789/; Ctrl-C stops the cluster"
wait
