# Durability: a restart on the same data dir (E2E_STORE=etcd: against the same etcd) keeps every
# object and resourceVersion.
# shellcheck shell=bash

SCENARIOS+=(durability)

snapshot() {
	k get pods,services,replicationcontrollers,namespaces -A -o json 2>&1 |
		jq -cS '[.items[] | {kind, ns: .metadata.namespace, name: .metadata.name,
			rv: .metadata.resourceVersion, uid: .metadata.uid}] | sort_by(.kind, .ns, .name)' 2>&1
}

scenario_durability() {
	local before after rv_before rv_after
	check_ok "durability: create objects" k apply -f "$(fixture durable.yaml)" -f "$(fixture app.yaml)" || return
	before=$(snapshot)
	check_match "durability: snapshot has the pod" '"name":"dur-pod"' "$before"
	rv_before=$(k get pod dur-pod -o jsonpath='{.metadata.resourceVersion}' 2>&1)
	# On etcd the restart reads the objects back from etcd, not from the data dir.
	[ "$E2E_STORE" == etcd ] && check_eq "durability: the pod is in etcd" 1 \
		"$(etcd_count /skiff/registry/pods/default/dur-pod)"
	if server_restart; then pass "durability: server restarts"; else fail "durability: server restarts" "$(tail -n 20 "$LOG")"; return; fi
	after=$(snapshot)
	check_eq "durability: same objects, uids and resourceVersions" "$before" "$after"
	k label pod dur-pod after=restart >/dev/null 2>&1
	rv_after=$(k get pod dur-pod -o jsonpath='{.metadata.resourceVersion}' 2>&1)
	if [[ "$rv_before" =~ ^[0-9]+$ && "$rv_after" =~ ^[0-9]+$ ]] && [ "$rv_after" -gt "$rv_before" ]; then
		pass "durability: revisions keep growing after restart ($rv_before -> $rv_after)"
	else
		fail "durability: revisions keep growing after restart" "before: $rv_before" "after:  $rv_after"
	fi
	k delete -f "$(fixture durable.yaml)" -f "$(fixture app.yaml)" >/dev/null 2>&1
}
