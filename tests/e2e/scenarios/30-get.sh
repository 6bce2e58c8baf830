# get in all its output forms, over the server-side Table and plain JSON.
# shellcheck shell=bash

SCENARIOS+=(get)

scenario_get() {
	local json
	check_ok "get: create fixtures" k apply -f "$(fixture get.yaml)" || return
	check_ok "get pods" k get pods
	check_match "get pods: header" '^NAME +READY +STATUS +RESTARTS +AGE' "$OUT"
	check_match "get pods: row" 'get-pod +0/1 +Pending +0 +[0-9]+s' "$OUT"
	check_ok "get pods -o wide" k get pods -o wide
	check_match "get pods -o wide: IP and NODE columns" '^NAME +READY +STATUS +RESTARTS +AGE +IP +NODE' "$OUT"
	check_ok "get svc" k get svc get-svc
	check_match "get svc: row" 'get-svc +ClusterIP +10\.[0-9.]+ +<none> +80/TCP' "$OUT"
	check_ok "get rc" k get rc get-rc
	check_match "get rc: header" '^NAME +DESIRED +CURRENT +READY +AGE' "$OUT"

	check_ok "get pod -o json" k get pod get-pod -o json
	json=$OUT
	check_eq "get -o json: kind/apiVersion/name" "Pod v1 get-pod" \
		"$(jq -r '"\(.kind) \(.apiVersion) \(.metadata.name)"' <<<"$json" 2>&1)"
	check_match "get -o json: uid, resourceVersion, creationTimestamp" '^[0-9a-f-]{36} [0-9]+ [0-9T:-]+Z$' \
		"$(jq -r '"\(.metadata.uid) \(.metadata.resourceVersion) \(.metadata.creationTimestamp)"' <<<"$json" 2>&1)"
	check_eq "get -o json: defaults applied" "Always ClusterFirst Pending" \
		"$(jq -r '"\(.spec.restartPolicy) \(.spec.dnsPolicy) \(.status.phase)"' <<<"$json" 2>&1)"
	check_ok "get pod -o yaml" k get pod get-pod -o yaml
	check_match "get -o yaml: kind and name" '^kind: Pod' "$OUT"
	check_contains "get -o yaml: name" "  name: get-pod" "$OUT"
	check_eq "get -o name" "pod/get-pod" "$(k get pod get-pod -o name 2>&1)"
	check_eq "get -o jsonpath" "get main" \
		"$(k get pod get-pod -o jsonpath='{.metadata.labels.app} {.spec.containers[0].name}' 2>&1)"
	check_eq "get list -o json: one item by label" "List 1" \
		"$(k get pods -l e2e=get -o json 2>&1 | jq -r '"\(.kind) \(.items | length)"' 2>&1)"
	check_ok "get --show-labels" k get pods -l e2e=get --show-labels
	check_match "get --show-labels: LABELS column" 'LABELS' "$OUT"
	check_match "get --show-labels: labels shown" 'get-pod .* (app=get,e2e=get|e2e=get,app=get)' "$OUT"
	check_ok "get -L app" k get pods -l e2e=get -L app
	check_match "get -L app: column" '^NAME .* APP' "$OUT"
	check_ok "get -A" k get pods -A
	check_match "get -A: NAMESPACE column" '^NAMESPACE +NAME +READY' "$OUT"
	check_match "get -A: row" 'default +get-pod +0/1' "$OUT"
	check_ok "get all" k get all
	check_contains "get all: pod" "pod/get-pod" "$OUT"
	check_contains "get all: service" "service/get-svc" "$OUT"
	check_contains "get all: rc" "replicationcontroller/get-rc" "$OUT"
	k delete -f "$(fixture get.yaml)" >/dev/null 2>&1
}
