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
	svc_create_commands
}

# kubectl create service sends protobuf bodies: each kind of it lands as the JSON one would.
svc_create_commands() {
	check_ok "services: kubectl create service nodeport" k create service nodeport cs-web --tcp=80:8080
	check_eq "services: ... its port, targetPort, selector and type" "80 8080 cs-web NodePort" \
		"$(k get svc cs-web -o jsonpath='{.spec.ports[0].port} {.spec.ports[0].targetPort} {.spec.selector.app} {.spec.type}' 2>&1)"
	check_ok "services: kubectl create service clusterip --clusterip=None" k create service clusterip cs-headless --clusterip=None
	check_eq "services: ... headless" "None" "$(k get svc cs-headless -o jsonpath='{.spec.clusterIP}' 2>&1)"
	check_ok "services: kubectl create service clusterip with two ports" k create service clusterip cs-multi --tcp=53:53 --tcp=443:8443
	check_eq "services: ... both ports" "53 443" "$(k get svc cs-multi -o jsonpath='{.spec.ports[*].port}' 2>&1)"
	check_ok "services: kubectl create service externalname" k create service externalname cs-ext --external-name=example.com
	check_eq "services: ... its externalName" "ExternalName example.com" \
		"$(k get svc cs-ext -o jsonpath='{.spec.type} {.spec.externalName}' 2>&1)"
	k delete svc cs-web cs-headless cs-multi cs-ext >/dev/null 2>&1
}
