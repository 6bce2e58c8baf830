# Every error kind kubectl users meet, checked against Kubernetes' exact wording.
# shellcheck shell=bash

SCENARIOS+=(not_found conflict invalid strict_decoding unauthorized too_large)

# curl_api METHOD PATH [curl args...]: prints "<http code> <body>" using the admin token.
curl_api() {
	local method=$1 path=$2
	shift 2
	curl -sS --max-time 30 --cacert "$DATA/ca.crt" -X "$method" -o "$WORK/curl.body" -w '%{http_code}' \
		-H "Authorization: Bearer $(tr -d '\n' <"$DATA/admin.token")" "$@" "https://127.0.0.1:$PORT$path" 2>&1
	printf ' %s' "$(cat "$WORK/curl.body" 2>/dev/null)"
}

scenario_not_found() {
	check_fails "get missing pod fails" k get pod nope
	check_eq "NotFound message" 'Error from server (NotFound): pods "nope" not found' "$OUT"
	check_fails "delete missing service fails" k delete svc nope
	check_eq "NotFound on delete" 'Error from server (NotFound): services "nope" not found' "$OUT"
}

scenario_conflict() {
	local stale=$WORK/stale.json fresh=$WORK/fresh.json
	check_ok "conflict: create pod" k create -f "$(fixture conflict.yaml)" || return
	k get pod conf-pod -o json >"$stale" 2>&1
	check_ok "conflict: label moves resourceVersion on" k label pod conf-pod step=1
	check_fails "replace with stale resourceVersion fails" k replace -f "$stale"
	check_contains "Conflict message" \
		'Error from server (Conflict): error when replacing "'"$stale"'": Operation cannot be fulfilled on pods "conf-pod": the object has been modified; please apply your changes to the latest version and try again' \
		"$OUT"
	k get pod conf-pod -o json 2>/dev/null | jq '.metadata.labels.step = "2"' >"$fresh"
	check_ok "replace with current resourceVersion" k replace -f "$fresh"
	check_eq "replace: output" "pod/conf-pod replaced" "$OUT"
	check_eq "replace: stored" "2" "$(k get pod conf-pod -o jsonpath='{.metadata.labels.step}' 2>&1)"
	k delete pod conf-pod >/dev/null 2>&1
}

scenario_invalid() {
	check_fails "invalid name rejected" k create -f "$(fixture bad-name.yaml)"
	check_contains "Invalid message" 'The Pod "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": ' "$OUT"
}

scenario_strict_decoding() {
	check_fails "unknown field rejected" k create -f "$(fixture unknown-field.yaml)"
	check_contains "BadRequest prefix" 'Error from server (BadRequest): error when creating "'"$(fixture unknown-field.yaml)"'"' "$OUT"
	check_contains "strict decoding message" 'strict decoding error: unknown field "spec.bogus"' "$OUT"
	check_fails "unknown-field pod was not created" k get pod strict-pod
}

scenario_unauthorized() {
	check_fails "wrong token rejected" k --token=not-the-admin-token get pods
	check_eq "Unauthorized message" "error: You must be logged in to the server (Unauthorized)" \
		"$(grep -v '^E[0-9]' <<<"$OUT" | tail -n 1)"
	local got
	got=$(curl -sS --max-time 10 --cacert "$DATA/ca.crt" -o /dev/null -w '%{http_code}' \
		"https://127.0.0.1:$PORT/api/v1/namespaces/default/pods" 2>&1)
	check_eq "no token: 401" "401" "$got"
}

scenario_too_large() {
	local body=$WORK/big.json got
	# A 4 MiB JSON string: well-formed, so only its size can be the reason for refusing it.
	{ printf '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"big","annotations":{"x":"'
	  head -c 4194304 /dev/zero | tr '\0' 'a'
	  printf '"}},"spec":{"containers":[{"name":"c","image":"busybox"}]}}'; } >"$body"
	got=$(curl_api POST /api/v1/namespaces/default/pods -H 'Content-Type: application/json' --data-binary "@$body")
	check_eq "4 MiB body: HTTP 413" "413" "${got%% *}"
	check_eq "4 MiB body: Status reason" "Status 413 RequestEntityTooLarge" \
		"$(jq -r '"\(.kind) \(.code) \(.reason)"' <<<"${got#* }" 2>&1)"
	check_fails "4 MiB body: nothing created" k get pod big
}
