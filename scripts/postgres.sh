#!/usr/bin/env bash
# Installs and starts the PostgreSQL that Berth's cluster mode uses (Debian's `postgresql`), on
# 127.0.0.1:${BERTH_PG_PORT:-5432}, with a login role and database both named `berth` (password `berth`).
# Safe to run again: every step is skipped when already done. Prints nothing but progress lines on stderr;
# the connection string for Npgsql is in scripts/postgres.env afterwards (BERTH_POSTGRES=...).
set -euo pipefail
cd "$(dirname "$0")"

log() { printf '[postgres] %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

port="${BERTH_PG_PORT:-5432}"

if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  log "installing Debian's postgresql"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi

version="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"
if ! pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main"' | grep -q .; then
  log "creating cluster $version/main"
  as_root pg_createcluster "$version" main >/dev/null
fi

conf="/etc/postgresql/$version/main/postgresql.conf"
if ! grep -q '^# berth$' "$conf"; then
  # Loopback only; enough connections for 3 nodes' pools plus the tests; a fast local fsync-less commit is not
  # wanted: the durable store must really be durable, so synchronous_commit stays on (the default).
  as_root tee -a "$conf" >/dev/null <<EOF
# berth
listen_addresses = '127.0.0.1'
port = $port
max_connections = 300
EOF
fi

if ! pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" && $4 == "online"' | grep -q .; then
  log "starting PostgreSQL $version on 127.0.0.1:$port"
  # No systemd in containers/CI: pg_ctlcluster starts the server directly.
  as_root pg_ctlcluster "$version" main start
fi

for _ in $(seq 1 30); do
  pg_isready -q -h 127.0.0.1 -p "$port" && break
  sleep 1
done
pg_isready -q -h 127.0.0.1 -p "$port" || { log "PostgreSQL did not come up; last log lines:"; tail -n 20 "/var/log/postgresql/postgresql-$version-main.log" >&2; exit 1; }

psql_root() { as_root runuser -u postgres -- psql -q -p "$port" -v ON_ERROR_STOP=1 "$@"; }
if [ "$(psql_root -tAc "SELECT 1 FROM pg_roles WHERE rolname = 'berth'")" != 1 ]; then
  log "creating role berth"
  # CREATEDB: tests create one database per test cluster and drop it afterwards.
  psql_root -c "CREATE ROLE berth LOGIN CREATEDB PASSWORD 'berth'"
fi
if [ "$(psql_root -tAc "SELECT 1 FROM pg_database WHERE datname = 'berth'")" != 1 ]; then
  log "creating database berth"
  psql_root -c "CREATE DATABASE berth OWNER berth"
fi

echo "BERTH_POSTGRES=Host=127.0.0.1;Port=$port;Username=berth;Password=berth;Database=berth" > postgres.env
log "ready: Host=127.0.0.1;Port=$port;Username=berth;Password=berth;Database=berth"
