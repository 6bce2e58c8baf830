# get -w: the list, then a watch from its resourceVersion that sees ADDED/MODIFIED/DELETED.
# shellcheck shell=bash

SCENARIOS+=(watch)

scenario_watch() {
	local out=$WORK/watch.out wpid seen
	check_ok "watch: kubectl run watch-1" k run watch-1 --image=busybox:1.36 --restart=Never --labels=e2e=watch
	timeout 60 kubectl get pods -l e2e=watch -w --output-watch-events >"$out" 2>&1 &
	wpid=$!
	seen=$(wait_for_output "watch-1" 50 cat "$out")
	check_match "watch: initial list shows watch-1" 'ADDED +watch-1' "$seen"

	k run watch-2 --image=busybox:1.36 --restart=Never --labels=e2e=watch >/dev/null 2>&1
	seen=$(wait_for_output "watch-2" 50 cat "$out")
	check_match "watch: create seen as ADDED" 'ADDED +watch-2' "$seen"
	k label pod watch-2 seen=yes >/dev/null 2>&1
	seen=$(wait_for_output "MODIFIED" 50 cat "$out")
	check_match "watch: label seen as MODIFIED" 'MODIFIED +watch-2' "$seen"
	k delete pod watch-2 --wait=false >/dev/null 2>&1
	seen=$(wait_for_output "DELETED" 50 cat "$out")
	check_match "watch: delete seen as DELETED" 'DELETED +watch-2' "$seen"
	if kill -0 "$wpid" 2>/dev/null; then
		pass "watch: stream stays open"
	else
		fail "watch: stream stays open" "kubectl get -w exited early: $(cat "$out")"
	fi
	kill "$wpid" 2>/dev/null
	wait "$wpid" 2>/dev/null
	k delete pods -l e2e=watch >/dev/null 2>&1
}
