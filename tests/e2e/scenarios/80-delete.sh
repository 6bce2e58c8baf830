# delete by name, by file and --all; namespaces that take their content with them; generateName.
# shellcheck shell=bash

SCENARIOS+=(delete namespace create_namespace_cmd generate_name)

scenario_delete() {
	k run del-1 --image=busybox:1.36 --restart=Never >/dev/null 2>&1
	check_ok "delete pod by name" k delete pod del-1 --timeout=30s
	check_eq "delete by name: output" 'pod "del-1" deleted' "$OUT"
	check_fails "delete by name: gone" k get pod del-1
	k create -f "$(fixture delete-f.yaml)" >/dev/null 2>&1
	check_ok "delete -f" k delete -f "$(fixture delete-f.yaml)" --timeout=30s
	check_eq "delete -f: output" 'pod "del-f" deleted' "$OUT"
	check_ok "delete: create namespace e2e-all" k create -f "$(fixture ns-e2e-all.yaml)" || return
	check_ok "delete --all: create pods" k create -n e2e-all -f "$(fixture delete-all.yaml)"
	check_ok "delete pods --all" k delete pods --all -n e2e-all --timeout=30s
	check_eq "delete --all: output" 'pod "all-1" deleted pod "all-2" deleted pod "all-3" deleted' \
		"$(sort <<<"$OUT" | tr '\n' ' ' | sed 's/ $//')"
	check_eq "delete --all: namespace empty" "" "$(k get pods -n e2e-all -o name 2>&1)"
	k delete namespace e2e-all --timeout=30s >/dev/null 2>&1
}

scenario_namespace() {
	check_ok "namespace create -f" k create -f "$(fixture ns-e2e-ns.yaml)" || return
	check_eq "namespace create: phase" "Active" "$(k get ns e2e-ns -o jsonpath='{.status.phase}' 2>&1)"
	check_ok "namespace: pod inside" k run inside --image=busybox:1.36 --restart=Never -n e2e-ns
	check_eq "namespace: pod listed in it" "pod/inside" "$(names pods -n e2e-ns)"
	check_eq "namespace: not listed in default" "" "$(k get pods -n default --field-selector metadata.name=inside -o name 2>&1)"
	check_ok "namespace delete" k delete namespace e2e-ns --timeout=60s
	check_eq "namespace delete: output" 'namespace "e2e-ns" deleted' "$OUT"
	check_fails "namespace delete: namespace gone" k get namespace e2e-ns
	check_fails "namespace delete: its pod gone" k get pod inside -n e2e-ns
	check_fails "create in a missing namespace fails" k run late --image=busybox:1.36 --restart=Never -n e2e-ns
	check_contains "create in a missing namespace: NotFound" 'namespaces "e2e-ns" not found' "$OUT"
}

# `kubectl create namespace` sends its body as protobuf (application/vnd.kubernetes.protobuf).
scenario_create_namespace_cmd() {
	check_ok "kubectl create namespace" k create namespace e2e-cmd || return
	check_eq "kubectl create namespace: output" "namespace/e2e-cmd created" "$OUT"
	k delete namespace e2e-cmd --timeout=60s >/dev/null 2>&1
}

scenario_generate_name() {
	local first second
	check_ok "generateName: create" k create -f "$(fixture generate-name.yaml)"
	first=$OUT
	check_match "generateName: name gen-xxxxx" '^pod/gen-[a-z0-9]{5} created$' "$first"
	check_ok "generateName: create again" k create -f "$(fixture generate-name.yaml)"
	second=$OUT
	if [ "$first" != "$second" ]; then pass "generateName: names differ"; else fail "generateName: names differ" "both: $first"; fi
	check_eq "generateName: both listed" "2" "$(k get pods -l e2e=gen -o name 2>&1 | grep -c '^pod/gen-')"
	k delete pods -l e2e=gen >/dev/null 2>&1
}
