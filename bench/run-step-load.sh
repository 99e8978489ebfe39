#!/usr/bin/env bash
# The pool step-load benchmark (see bench/README.md, "Pools under a step load"): 1 → 32 → 1 concurrent clients
# (closed loop, 127.0.0.1 only) against MapPool, about 2 minutes; writes bench/step-load.csv and draws
# bench/step-load.png with Debian's python3-matplotlib (installed when missing).
#
#   bench/run-step-load.sh                  # the defaults
#   bench/run-step-load.sh --peak 16        # any step-load option of Berth.Bench.EndToEnd
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian's interpreter: the package installs for it, whatever python3 comes first on PATH.
PY=/usr/bin/python3
if ! "$PY" -c "import matplotlib" >/dev/null 2>&1; then
  echo "installing python3-matplotlib from Debian…" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-matplotlib >&2 \
    || { $SUDO apt-get update >&2 && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-matplotlib >&2; }
fi

dotnet build -c Release bench/Berth.Bench.EndToEnd -nologo -v q >&2
echo "load before: $(cat /proc/loadavg)" >&2
timeout 300 dotnet bench/Berth.Bench.EndToEnd/bin/Release/net10.0/Berth.Bench.EndToEnd.dll step-load --csv bench/step-load.csv "$@"
echo "load after: $(cat /proc/loadavg)" >&2
"$PY" bench/plot-step-load.py bench/step-load.csv bench/step-load.png
