#!/usr/bin/env bash
# Runs every test against a real Docker engine. Installs and starts what is missing first.
# Leftovers of an earlier run that was killed halfway (anything labelled berth.test=1) are
# removed before and after.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/bootstrap.sh
# The cluster tests (issue 16) need PostgreSQL: Debian's postgresql on 127.0.0.1:5432, role and database berth.
bash scripts/postgres.sh
# The web dashboard's assets and its browser test's needs (Node.js, npm, Debian's chromium).
bash scripts/dashboard.sh

# Removes everything a test run left on the engine; images too once the run is over.
cleanup() {
  docker ps -aq --filter label=berth.test=1 | xargs -r docker rm -f >/dev/null 2>&1 || true
  docker network ls -q --filter label=berth.test=1 | xargs -r docker network rm >/dev/null 2>&1 || true
  if [ "${1:-}" = images ]; then
    docker images -q --filter label=berth.test=1 | sort -u | xargs -r docker rmi -f >/dev/null 2>&1 || true
  fi
}
cleanup
trap "cleanup images" EXIT

dotnet build Berth.slnx -c Release -nologo -clp:ErrorsOnly
log=$(mktemp)
set +e
# A hung test assembly fails the run after 10 minutes instead of using up the CI budget.
dotnet test Berth.slnx -c Release --no-build -nologo --blame-hang-timeout 10m --blame-hang-dump-type none "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# One closing line over all test assemblies, in the form CI reads.
passed=$(grep -Eo 'Passed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -Eo 'Failed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
skipped=$(grep -Eo 'Skipped: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
rm -f "$log"
echo
echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
