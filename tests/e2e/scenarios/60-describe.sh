# describe: kubectl's client-side describers over the typed objects and the events query.
# shellcheck shell=bash

SCENARIOS+=(describe)

scenario_describe() {
	check_ok "describe: create fixtures" k apply -f "$(fixture describe.yaml)" || return
	check_ok "describe pod" k describe pod desc-pod
	check_match "describe pod: Name" '^Name: +desc-pod$' "$OUT"
	check_match "describe pod: Namespace" '^Namespace: +default$' "$OUT"
	check_match "describe pod: Status" '^Status: +Pending$' "$OUT"
	check_match "describe pod: container image" '^ +Image: +busybox:1\.36$' "$OUT"
	check_ok "describe svc" k describe svc desc-svc
	check_match "describe svc: Selector" '^Selector: +app=desc$' "$OUT"
	check_match "describe svc: Type" '^Type: +ClusterIP$' "$OUT"
	check_match "describe svc: IP" '^IP: +10\.[0-9.]+$' "$OUT"
	check_match "describe svc: TargetPort" '^TargetPort: +8080/TCP$' "$OUT"
	k delete -f "$(fixture describe.yaml)" >/dev/null 2>&1
}
