#!/usr/bin/env bash
# Sets everything up on a fresh Debian machine and runs the demo app on http://127.0.0.1:8787:
# installs and starts the Docker engine, publishes the model service (Native AOT), then runs the
# gateway with `berth dev`, which builds the container image through the engine API and serves.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/bootstrap.sh

model=samples/Titanic/Titanic.Model
binary="$model/bin/aot/titanic-model"
if [ ! -x "$binary" ] || [ -n "$(find "$model" -maxdepth 1 \( -name '*.cs' -o -name '*.csproj' -o -name '*.csv' \) -newer "$binary")" ]; then
  echo "[demo] publishing the model service with Native AOT (about a minute the first time)"
  dotnet publish "$model" -c Release -r linux-x64 -o "$model/bin/aot" -nologo -v quiet
fi

echo "[demo] starting the demo on http://127.0.0.1:${BERTH_PORT:-8787}"
exec dotnet run --project src/Berth.Cli -c Release -- dev --project samples/Titanic/Titanic.Gateway --port "${BERTH_PORT:-8787}"
