# Service address allocation: ClusterIPs in 10.96.0.0/12 and unique, NodePorts in 30000-32767.
# shellcheck shell=bash

SCENARIOS+=(services)

# 10.96.0.0/12 is 10.96.0.0 - 10.111.255.255.
in_service_cidr() {
	local a b c d
	IFS=. read -r a b c d <<<"$1"
	[[ "$a" == 10 && "$b" =~ ^[0-9]+$ && "$c" =~ ^[0-9]+$ && "$d" =~ ^[0-9]+$ ]] || return 1
	[ $((b & 240)) -eq 96 ] && [ "$c" -le 255 ] && [ "$d" -le 255 ]
}

scenario_services() {
	local ip ips np
	check_ok "services: create" k create -f "$(fixture services.yaml)" || return
	ips=$(k get svc svc-a svc-b svc-np -o jsonpath='{range .items[*]}{.spec.clusterIP}{"\n"}{end}' 2>&1)
	for ip in $ips; do
		if in_service_cidr "$ip"; then pass "services: $ip in 10.96.0.0/12"; else fail "services: ClusterIP in 10.96.0.0/12" "got: $ip"; fi
	done
	check_eq "services: three ClusterIPs, all distinct" "3" "$(sort -u <<<"$ips" | grep -c .)"
	np=$(k get svc svc-np -o jsonpath='{.spec.ports[0].nodePort}' 2>&1)
	if [[ "$np" =~ ^[0-9]+$ ]] && [ "$np" -ge 30000 ] && [ "$np" -le 32767 ]; then
		pass "services: nodePort $np in 30000-32767"
	else
		fail "services: nodePort in 30000-32767" "got: $np"
	fi
	check_eq "services: ClusterIP kept on update" "$(k get svc svc-a -o jsonpath='{.spec.clusterIP}' 2>&1)" \
		"$(k label svc svc-a touched=yes >/dev/null 2>&1; k get svc svc-a -o jsonpath='{.spec.clusterIP}' 2>&1)"
	k delete -f "$(fixture services.yaml)" >/dev/null 2>&1
}
