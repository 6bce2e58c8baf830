# Node identities: `skiffctl token create` makes a bootstrap token, `skiff-agent --join` trades it
# once for the node's own credential (stored 0600) after checking the CA hash; the node may
# touch only what is its own (403 in Kubernetes' words otherwise); used, expired and unknown
# bootstrap tokens and a wrong CA hash are refused. The agent runs with no pod network, its own
# temp dirs and cgroup parent skiff-e2e-join-<pid>, all removed at the end.
# shellcheck shell=bash

SCENARIOS+=(nodeauth)

NA_NODE=e2e-join
NA_PID=""

na_cleanup() {
	local mnt
	if [ -n "$NA_PID" ]; then
		kill -KILL "$NA_PID" 2>/dev/null
		wait "$NA_PID" 2>/dev/null
	fi
	NA_PID=""
	k delete node "$NA_NODE" e2e-join-other --wait=false >/dev/null 2>&1
	k delete lease -n kube-node-lease "$NA_NODE" --wait=false >/dev/null 2>&1
	k delete pod nodeauth-other --grace-period=0 --force --wait=false >/dev/null 2>&1
	mnt=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
	# Pods the agent started outlive its kill -9: end them first.
	[ -n "$mnt" ] && [ -d "$mnt/$NA_CGROUP" ] &&
		find "$mnt/$NA_CGROUP" -mindepth 1 -maxdepth 1 -type d -exec sh -c 'echo 1 > "$1/cgroup.kill"' _ {} \; 2>/dev/null
	# A cgroup whose last task is still being released answers EBUSY for a moment: retry.
	na_cgroup_gone() {
		[ -z "$mnt" ] || [ ! -d "$mnt/$NA_CGROUP" ] && return 0
		find "$mnt/$NA_CGROUP" -depth -type d -exec rmdir {} + 2>/dev/null
		[ ! -d "$mnt/$NA_CGROUP" ]
	}
	until_ok 50 na_cgroup_gone || fail "nodeauth: cgroup $mnt/$NA_CGROUP removed"
	rm -rf --one-file-system "$NA_DIR"
}

# na_join_post TOKEN: what the join endpoint answers TOKEN.
na_join_post() {
	curl -sS --max-time 10 --cacert "$DATA/ca.crt" -X POST -H "Authorization: Bearer $1" \
		-d "{\"nodeName\":\"$NA_NODE\"}" "https://127.0.0.1:$PORT/skiff/v1/join" 2>&1
}

na_ready() {
	[ "$(k get node "$NA_NODE" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>&1)" == True ]
}

# The agent's flags; pod networking off where the agent has the flag (this agent shares the host's
# network namespace, which a test must not change).
na_agent_flags() {
	printf '%s\n' --node-name "$NA_NODE" --root-dir "$NA_DIR/root" --run-dir "$NA_DIR/run" \
		--cgroup-parent "$NA_CGROUP" --gpu-devices "" --heartbeat-seconds 1 --register-with-taints e2e=join:NoSchedule
	"$1" --help 2>&1 | grep -q -- '--network' && printf '%s\n' --network none
}

na_body() {
	local ctl agent out token hash nk mode flags
	ctl=$(dirname "$BIN")/skiffctl
	agent=$(dirname "$BIN")/skiff-agent
	[ -x "$ctl" ] && [ -x "$agent" ] || { fail "nodeauth: skiffctl and skiff-agent are built" "$ctl $agent"; return; }
	mapfile -t flags < <(na_agent_flags "$agent")
	check_ok "nodeauth: skiffctl token create" "$ctl" token create --data-dir "$DATA" --ttl 10m \
		--server "https://127.0.0.1:$PORT" || return
	out=$OUT
	token=$(awk '$1 == "token:" { print $2 }' <<<"$out")
	hash=$(awk '$1 == "ca-cert-hash:" { print $2 }' <<<"$out")
	check_match "nodeauth: the token reads id.secret" '^[a-z0-9]{6}\.[a-z0-9]{16}$' "$token"
	check_match "nodeauth: the CA hash is sha256:HEX" '^sha256:[0-9a-f]{64}$' "$hash"
	check_contains "nodeauth: the join command is printed" \
		"skiff-agent --join https://127.0.0.1:$PORT --token $token --ca-cert-hash $hash" "$out"
	check_fails "nodeauth: skiffctl token create refuses a bad --ttl" "$ctl" token create --data-dir "$DATA" --ttl soon

	check_fails "nodeauth: an agent given the wrong CA hash refuses to join" timeout 30 "$agent" \
		--join "https://127.0.0.1:$PORT" --token "$token" --ca-cert-hash "sha256:$(printf '0%.0s' $(seq 64))" "${flags[@]}"
	check_contains "nodeauth: ... and says why" "refusing to trust" "$OUT"
	if [ -e "$NA_DIR/root/node.kubeconfig" ]; then fail "nodeauth: no credential after a refused join" "$NA_DIR/root/node.kubeconfig"; else
		pass "nodeauth: no credential after a refused join"
	fi

	"$agent" --join "https://127.0.0.1:$PORT" --token "$token" --ca-cert-hash "$hash" "${flags[@]}" \
		>>"$NA_DIR/agent.log" 2>&1 &
	NA_PID=$!
	if until_ok 150 na_ready; then pass "nodeauth: the joined node registers and is Ready"; else
		fail "nodeauth: the joined node registers and is Ready" "$(tail -n 5 "$NA_DIR/agent.log")"
		return
	fi
	nk=$NA_DIR/root/node.kubeconfig
	mode=$(stat -c %a "$nk" 2>&1)
	check_eq "nodeauth: the node credential is stored with mode 0600" 600 "$mode"
	check_not_contains "nodeauth: the stored credential is not the bootstrap token" "$token" "$(cat "$nk")"
	check_contains "nodeauth: a used bootstrap token is refused" "was used already" "$(na_join_post "$token")"
	check_ok "nodeauth: a 1 s token" "$ctl" token create --data-dir "$DATA" --ttl 1s
	token=$(awk '$1 == "token:" { print $2 }' <<<"$OUT")
	sleep 1.2
	check_contains "nodeauth: an expired bootstrap token is refused" "has expired" "$(na_join_post "$token")"
	check_contains "nodeauth: an unknown bootstrap token is refused" "unknown bootstrap token" \
		"$(na_join_post abcdef.0123456789abcdef)"
	na_authz "$nk"
}

# What the node identity may and may not do.
na_authz() {
	local nk=$1
	nkc() { timeout 60 kubectl --kubeconfig "$nk" --request-timeout=30s "$@"; }
	k create -f - >/dev/null 2>&1 <<EOF
{"apiVersion":"v1","kind":"Node","metadata":{"name":"e2e-join-other"}}
EOF
	k create -f - >/dev/null 2>&1 <<EOF
{"apiVersion":"v1","kind":"Pod","metadata":{"name":"nodeauth-other"},
 "spec":{"nodeName":"e2e-join-other","containers":[{"name":"c","image":"busybox"}]}}
EOF
	check_ok "nodeauth: the node lists pods" nkc get pods -A
	check_ok "nodeauth: the node reads Services and Endpoints" nkc get services,endpoints -A
	check_ok "nodeauth: the node labels its own Node" nkc label node "$NA_NODE" e2e=joined --overwrite
	check_fails "nodeauth: the node may not patch another Node" nkc label node e2e-join-other e2e=stolen
	check_contains "nodeauth: ... 403 in Kubernetes' words" \
		"nodes \"e2e-join-other\" is forbidden: User \"system:node:$NA_NODE\" cannot patch resource \"nodes\" in API group \"\" at the cluster scope" "$OUT"
	check_fails "nodeauth: the node may not delete another node's pod" nkc delete pod nodeauth-other --wait=false
	check_contains "nodeauth: ... forbidden" 'cannot delete resource "pods"' "$OUT"
	check_fails "nodeauth: the node may not create a Service" nkc create -f - \
		<<<'{"apiVersion":"v1","kind":"Service","metadata":{"name":"nodeauth-svc"},"spec":{"ports":[{"port":80}]}}'
	check_contains "nodeauth: ... forbidden in the namespace" \
		'cannot create resource "services" in API group "" in the namespace "default"' "$OUT"
	check_fails "nodeauth: the node may not read ReplicationControllers" nkc get rc
	check_fails "nodeauth: the node may not delete Nodes" nkc delete node "$NA_NODE" --wait=false
	check_contains "nodeauth: unauthenticated requests get 401" '"code":401' \
		"$(curl -sS --max-time 10 --cacert "$DATA/ca.crt" "https://127.0.0.1:$PORT/api/v1/pods" 2>&1)"
}

scenario_nodeauth() {
	NA_DIR=$(mktemp -d /tmp/skiff-e2e-join.XXXXXX)
	NA_CGROUP=skiff-e2e-join-$$
	na_body
	na_cleanup
	if [ -e "$NA_DIR" ]; then fail "nodeauth: temp dir removed" "$NA_DIR"; fi
}
