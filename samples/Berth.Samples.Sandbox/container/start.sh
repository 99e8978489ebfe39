#!/bin/sh
# PID 1 of the sandbox: busybox httpd serving /www (CGI scripts in /www/cgi-bin) on port 8080.
# httpd runs as a child so this shell can turn SIGTERM (the sleep signal) into a quick, clean exit.
mkdir -p /tmp/files
trap 'echo "sandbox stopping"; kill "$pid" 2>/dev/null; exit 0' TERM INT
httpd -f -v -p "${PORT:-8080}" -h /www &
pid=$!
echo "sandbox ${BERTH_OBJECT_ID:-?} listening on ${PORT:-8080}"
wait "$pid"
