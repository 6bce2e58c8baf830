#!/usr/bin/env bash
# Stops the skiff-control that make up started (SIGTERM, then waits); its data stays.
set -euo pipefail

RUN_DIR=${SKIFF_RUN_DIR:-/run/skiff}
PIDFILE=$RUN_DIR/control.pid

if [ ! -r "$PIDFILE" ]; then
	echo "control-down: not running (no $PIDFILE)" >&2
	exit 0
fi
pid=$(cat "$PIDFILE")
# Only a skiff-control: a stale pidfile may name a pid the kernel has handed to something else.
if ! [[ "$pid" =~ ^[0-9]+$ ]] || [ "$(cat "/proc/$pid/comm" 2>/dev/null)" != skiff-control ]; then
	echo "control-down: not running (stale $PIDFILE)" >&2
	rm -f "$PIDFILE"
	exit 0
fi
kill -TERM "$pid"
for _ in $(seq 100); do
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$pid" 2>/dev/null; then
	echo "control-down: skiff-control (pid $pid) still running 10 s after SIGTERM" >&2
	exit 1
fi
rm -f "$PIDFILE"
echo "control-down: stopped skiff-control (pid $pid); data kept" >&2
