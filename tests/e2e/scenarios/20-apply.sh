# apply (create, in-place update, no-op) and create -f with its AlreadyExists error.
# shellcheck shell=bash

SCENARIOS+=(apply create)

scenario_apply() {
	local rc_uid svc_uid svc_ip json
	check_ok "apply -f multi-document file" k apply -f "$(fixture app.yaml)"
	check_contains "apply: pod created" "pod/web-pod created" "$OUT"
	check_contains "apply: service created" "service/web-svc created" "$OUT"
	check_contains "apply: rc created" "replicationcontroller/web-rc created" "$OUT"
	rc_uid=$(k get rc web-rc -o jsonpath='{.metadata.uid}' 2>&1)
	svc_uid=$(k get svc web-svc -o jsonpath='{.metadata.uid}' 2>&1)
	svc_ip=$(k get svc web-svc -o jsonpath='{.spec.clusterIP}' 2>&1)

	check_ok "apply -f changed file" k apply -f "$(fixture app-v2.yaml)"
	check_contains "apply: rc configured" "replicationcontroller/web-rc configured" "$OUT"
	check_contains "apply: service configured" "service/web-svc configured" "$OUT"
	check_contains "apply: untouched pod unchanged" "pod/web-pod unchanged" "$OUT"
	json=$(k get rc web-rc -o json 2>&1)
	check_eq "apply: rc keeps its uid (in-place update)" "$rc_uid" "$(jq -r .metadata.uid <<<"$json" 2>&1)"
	check_eq "apply: rc gained label tier=frontend" "frontend" "$(jq -r .metadata.labels.tier <<<"$json" 2>&1)"
	check_eq "apply: rc image changed" "nginx:1.26" \
		"$(jq -r '.spec.template.spec.containers[0].image' <<<"$json" 2>&1)"
	json=$(k get svc web-svc -o json 2>&1)
	check_eq "apply: service keeps its uid" "$svc_uid" "$(jq -r .metadata.uid <<<"$json" 2>&1)"
	check_eq "apply: service keeps its clusterIP" "$svc_ip" "$(jq -r .spec.clusterIP <<<"$json" 2>&1)"
	check_eq "apply: service ports now 80,443" "80,443" \
		"$(jq -r '[.spec.ports[].port] | map(tostring) | join(",")' <<<"$json" 2>&1)"

	check_ok "apply -f same file again" k apply -f "$(fixture app-v2.yaml)"
	check_eq "apply: everything unchanged" \
		"pod/web-pod unchanged service/web-svc unchanged replicationcontroller/web-rc unchanged" \
		"$(tr '\n' ' ' <<<"$OUT" | sed 's/ $//')"
	k delete -f "$(fixture app-v2.yaml)" >/dev/null 2>&1
}

scenario_create() {
	check_ok "create -f" k create -f "$(fixture create.yaml)"
	check_eq "create: output" "pod/made created" "$OUT"
	check_fails "create -f again fails" k create -f "$(fixture create.yaml)"
	check_eq "create: AlreadyExists message" \
		"Error from server (AlreadyExists): error when creating \"$(fixture create.yaml)\": pods \"made\" already exists" \
		"$OUT"
	k delete pod made >/dev/null 2>&1
}
