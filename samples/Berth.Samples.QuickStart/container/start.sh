#!/bin/sh
# PID 1: busybox httpd as a child, so this shell turns SIGTERM (sleep, stop) into a quick, clean exit.
trap 'kill "$pid" 2>/dev/null; exit 0' TERM INT
httpd -f -p "${PORT:-8080}" -h /www &
pid=$!
echo "container ${BERTH_OBJECT_ID:-?} listening on ${PORT:-8080}"
wait "$pid"
