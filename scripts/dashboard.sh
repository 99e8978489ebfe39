#!/usr/bin/env bash
# Builds the web dashboard's assets (dashboard/ -> dashboard/dist, embedded into Berth.Hosting by its project file).
#   bash scripts/dashboard.sh          installs what the dashboard and its browser tests need (Node.js and npm, Debian's
#                                      chromium), then `npm ci` and the build; scripts/test.sh calls this.
#   bash scripts/dashboard.sh build    only Node.js and npm when missing, `npm ci` when the lockfile changed, and the build;
#                                      the MSBuild target of Berth.Hosting calls this when the dashboard's sources changed.
# Never downloads a browser: Playwright drives the system's chromium (PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1).
set -euo pipefail
cd "$(dirname "$0")/../dashboard"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

apt_install() {
  if [ "$(id -u)" != 0 ]; then
    echo "dashboard.sh: $* missing; install it (apt-get install -y $*) and run again" >&2
    exit 1
  fi
  # Another build may be installing at the same moment: wait for apt's lock rather than fail.
  apt-get update -qq -o DPkg::Lock::Timeout=300 >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=300 "$@" >/dev/null
}

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  apt_install nodejs npm
fi

if [ "${1:-}" != build ] && ! command -v chromium >/dev/null; then
  apt_install chromium
fi

# npm ci only when node_modules is missing or older than the lockfile; serialized, as two builds may start at once.
exec 9>".build.lock"
flock 9
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npm run --silent build
