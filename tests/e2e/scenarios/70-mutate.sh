# label, annotate, the three patch types, and scale through the Scale subresource.
# shellcheck shell=bash

SCENARIOS+=(label annotate patch scale)

pod_jq() {
	k get pod mut-pod -o json 2>&1 | jq -r "$1" 2>&1
}

scenario_label() {
	check_ok "label: create fixtures" k apply -f "$(fixture mutate.yaml)" || return
	check_ok "label add" k label pod mut-pod color=red
	check_eq "label add: output" "pod/mut-pod labeled" "$OUT"
	check_eq "label add: stored" "red" "$(pod_jq .metadata.labels.color)"
	check_fails "label change without --overwrite fails" k label pod mut-pod color=blue
	check_contains "label without --overwrite: message" "already has a value (red)" "$OUT"
	check_ok "label --overwrite" k label pod mut-pod color=blue --overwrite
	check_eq "label --overwrite: stored" "blue" "$(pod_jq .metadata.labels.color)"
	check_ok "label remove (color-)" k label pod mut-pod color-
	check_eq "label remove: gone, others kept" "false mut" \
		"$(pod_jq '"\(.metadata.labels | has("color")) \(.metadata.labels.e2e)"')"
}

scenario_annotate() {
	check_ok "annotate" k annotate pod mut-pod note=hello
	check_eq "annotate: output" "pod/mut-pod annotated" "$OUT"
	check_eq "annotate: stored" "hello" "$(pod_jq .metadata.annotations.note)"
}

scenario_patch() {
	check_ok "patch --type merge" k patch pod mut-pod --type merge -p '{"metadata":{"labels":{"m":"1"}}}'
	check_eq "patch merge: output" "pod/mut-pod patched" "$OUT"
	check_eq "patch merge: stored" "1" "$(pod_jq .metadata.labels.m)"
	check_ok "patch --type json" k patch pod mut-pod --type json \
		-p '[{"op":"replace","path":"/metadata/labels/m","value":"2"},{"op":"add","path":"/metadata/labels/j","value":"x"}]'
	check_eq "patch json: stored" "2 x" "$(pod_jq '"\(.metadata.labels.m) \(.metadata.labels.j)"')"
	check_fails "patch json: failing test op is rejected" k patch pod mut-pod --type json \
		-p '[{"op":"test","path":"/metadata/labels/m","value":"nope"}]'
	check_ok "patch strategic (default)" k patch pod mut-pod \
		-p '{"spec":{"containers":[{"name":"b","image":"busybox:1.36"}]}}'
	check_eq "patch strategic: containers merged by name" "a=busybox:1.35 b=busybox:1.36" \
		"$(pod_jq '[.spec.containers[] | "\(.name)=\(.image)"] | join(" ")')"
}

scenario_scale() {
	local scale
	check_ok "scale rc --replicas=3" k scale rc mut-rc --replicas=3
	check_eq "scale: output" "replicationcontroller/mut-rc scaled" "$OUT"
	check_eq "scale: spec.replicas" "3" "$(k get rc mut-rc -o jsonpath='{.spec.replicas}' 2>&1)"
	scale=$(k get --raw /api/v1/namespaces/default/replicationcontrollers/mut-rc/scale 2>&1)
	check_eq "scale subresource: kind and replicas" "Scale autoscaling/v1 3" \
		"$(jq -r '"\(.kind) \(.apiVersion) \(.spec.replicas)"' <<<"$scale" 2>&1)"
	check_ok "scale --current-replicas (GET+PUT scale)" k scale rc mut-rc --current-replicas=3 --replicas=2
	check_eq "scale PUT: spec.replicas" "2" "$(k get rc mut-rc -o jsonpath='{.spec.replicas}' 2>&1)"
	check_fails "scale with wrong --current-replicas fails" k scale rc mut-rc --current-replicas=5 --replicas=1
	k delete -f "$(fixture mutate.yaml)" >/dev/null 2>&1
}
