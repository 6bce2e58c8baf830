#!/usr/bin/env bash
# Starts a local skiff-control in the background (make up) unless it already runs, waits until
# it is ready and prints the KUBECONFIG line. Usage: tools/control-up.sh BINDIR
set -euo pipefail

BINDIR=${1:?usage: tools/control-up.sh BINDIR}
DATA_DIR=${SKIFF_DATA_DIR:-/var/lib/skiff/control}
LOG_DIR=${SKIFF_LOG_DIR:-/var/log/skiff}
RUN_DIR=${SKIFF_RUN_DIR:-/run/skiff}
LISTEN=${SKIFF_LISTEN:-127.0.0.1:6443}
BIN=$BINDIR/skiff-control
PIDFILE=$RUN_DIR/control.pid
LOG=$LOG_DIR/control.log

[ -x "$BIN" ] || { echo "control-up: $BIN missing (run make first)" >&2; exit 1; }
BIN=$(cd "$BINDIR" && pwd)/skiff-control

running_pid() {
	local pid
	[ -r "$PIDFILE" ] || return 1
	pid=$(cat "$PIDFILE")
	[[ "$pid" =~ ^[0-9]+$ ]] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" == skiff-control ] || return 1
	echo "$pid"
}

ready() {
	[ -r "$DATA_DIR/ca.crt" ] &&
		[ "$(curl -fsS --max-time 2 --cacert "$DATA_DIR/ca.crt" "https://$LISTEN/readyz" 2>/dev/null)" == ok ]
}

mkdir -p "$DATA_DIR" "$LOG_DIR" "$RUN_DIR"
chmod 700 "$DATA_DIR"

if pid=$(running_pid); then
	echo "control-up: skiff-control already running (pid $pid)" >&2
else
	setsid nohup "$BIN" --listen "$LISTEN" --data-dir "$DATA_DIR" >>"$LOG" 2>&1 </dev/null &
	pid=$!
	echo "$pid" >"$PIDFILE"
	echo "control-up: started skiff-control (pid $pid), log $LOG" >&2
fi

for _ in $(seq 150); do
	ready && break
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "control-up: skiff-control exited; last lines of $LOG:" >&2
		tail -n 20 "$LOG" >&2
		rm -f "$PIDFILE"
		exit 1
	fi
	sleep 0.2
done
if ! ready; then
	echo "control-up: skiff-control (pid $pid) not ready after 30 s; last lines of $LOG:" >&2
	tail -n 20 "$LOG" >&2
	exit 1
fi
echo "export KUBECONFIG=$DATA_DIR/admin.kubeconfig"
