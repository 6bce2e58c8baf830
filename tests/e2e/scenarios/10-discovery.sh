# Discovery: what kubectl needs before any other command works.
# shellcheck shell=bash

SCENARIOS+=(version api_resources)

scenario_version() {
	check_ok "kubectl version reaches the server" k version -o json || return
	check_eq "server minor version" "32" "$(jq -r .serverVersion.minor <<<"$OUT")"
	check_match "server gitVersion v1.32" '^v1\.32\.' "$(jq -r .serverVersion.gitVersion <<<"$OUT")"
}

scenario_api_resources() {
	local pair res short
	check_ok "kubectl api-resources" k api-resources || return
	for pair in pods:po services:svc replicationcontrollers:rc endpoints:ep nodes:no namespaces:ns events:ev; do
		res=${pair%%:*}
		short=${pair#*:}
		check_match "api-resources: $res has shortname $short" "^$res +$short +v1 " "$OUT"
	done
}
