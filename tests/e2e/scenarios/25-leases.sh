# Leases (coordination.k8s.io/v1): discovery, apply, get with the Holder column, patch,
# validation, watch and delete, all through kubectl.
# shellcheck shell=bash

SCENARIOS+=(leases)

lease_holder() {
	k get lease e2e-lease -o jsonpath='{.spec.holderIdentity}' 2>&1
}

scenario_leases() {
	local wlog=$WORK/lease-watch.out wpid
	check_ok "leases: kubectl api-resources" k api-resources || return
	check_match "leases: listed in coordination.k8s.io/v1" '^leases +coordination\.k8s\.io/v1 +true +Lease' "$OUT"
	check_ok "leases: kubectl api-versions" k api-versions
	check_contains "leases: coordination.k8s.io/v1 is an API version" "coordination.k8s.io/v1" "$OUT"
	check_ok "leases: kubectl apply creates" k apply -f "$(fixture lease.yaml)"
	check_contains "leases: apply names the group" "lease.coordination.k8s.io/e2e-lease created" "$OUT"
	check_ok "leases: kubectl get leases -A" k get leases -A
	check_match "leases: Holder column" 'NAMESPACE +NAME +HOLDER +AGE' "$OUT"
	check_match "leases: the row" 'default +e2e-lease +holder-a +[0-9]+s' "$OUT"
	check_eq "leases: apiVersion" "coordination.k8s.io/v1" "$(k get lease e2e-lease -o jsonpath='{.apiVersion}' 2>&1)"
	check_eq "leases: MicroTime kept as sent" "2026-11-28T10:00:00.000000Z" \
		"$(k get lease e2e-lease -o jsonpath='{.spec.renewTime}' 2>&1)"

	timeout 20 kubectl get leases -w --output-watch-events >"$wlog" 2>&1 &
	wpid=$!
	sed 's/holder-a/holder-b/' "$(fixture lease.yaml)" | k apply -f - >/dev/null 2>&1
	check_eq "leases: apply of a change updates the holder" "holder-b" "$(lease_holder)"
	check_ok "leases: merge patch" k patch lease e2e-lease --type merge -p '{"spec":{"renewTime":"2026-11-28T10:00:05.000000Z"}}'
	check_ok "leases: strategic merge patch" k patch lease e2e-lease -p '{"spec":{"leaseTransitions":1}}'
	check_eq "leases: both patches applied" "2026-11-28T10:00:05.000000Z 1" \
		"$(k get lease e2e-lease -o jsonpath='{.spec.renewTime} {.spec.leaseTransitions}' 2>&1)"
	check_fails "leases: a zero duration is invalid" k patch lease e2e-lease --type merge -p '{"spec":{"leaseDurationSeconds":0}}'
	check_contains "leases: with Kubernetes' message" "spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0" "$OUT"
	check_fails "leases: unknown fields are rejected" eval "sed 's/holderIdentity/holder/' '$(fixture lease.yaml)' | k create -f -"
	check_contains "leases: strict decoding" 'unknown field "spec.holder"' "$OUT"
	check_ok "leases: kubectl delete" k delete -f "$(fixture lease.yaml)"
	check_fails "leases: gone after delete" k get lease e2e-lease
	check_contains "leases: NotFound names the group" 'leases.coordination.k8s.io "e2e-lease" not found' "$OUT"
	wait_for_output "DELETED" 100 cat "$wlog" >/dev/null
	kill "$wpid" 2>/dev/null
	wait "$wpid" 2>/dev/null
	check_match "leases: watch sees the changes" 'MODIFIED +e2e-lease +holder-b' "$(cat "$wlog")"
	check_match "leases: watch sees the delete" 'DELETED +e2e-lease' "$(cat "$wlog")"
}
