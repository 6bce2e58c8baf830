# Service routing in both proxy modes: the agents' current mode (Node annotation
# skiff.io/proxy-mode), then the other one after switching every agent (state.json's proxyMode +
# restart-agent). Backends: an RC of busybox httpd pods answering their own name (TCP 8080, the
# named port "web") and a UDP echo of their name. Clients: pods on the last node running a small
# static probe from a hostPath, writing results to that hostPath. Checks: 300 requests reach all
# three backends (>= 15% each), getpeername and UDP replies show the VIP, ClientIP affinity
# sticks, a VIP without endpoints is refused and an unknown VIP fails at once, scaling to 5 puts
# the new pods in rotation within 1 s of their Endpoints, a deleted pod gets no new connection
# while its process still runs, and a NodePort answers from the control namespace on the fabric.
# shellcheck shell=bash

SCENARIOS+=(services)

SVC_DIR="" # set by scenario_services (svc_build_probe runs in check's subshell)
SVC_UNKNOWN_VIP=10.111.222.1 # in 10.96.0.0/12, never allocated by these tests
SVC_NODEPORT=30080

# The probe: "tcp ADDR PORT N" (an HTTP GET each; prints the body's last line or
# "error <reason> <ms>ms"), "peer ADDR PORT" (getpeername after connect), "udp ADDR PORT"
# (unconnected sendto/recvfrom: prints "<reply> from <source>"), "udp-serve PORT NAME".
svc_build_probe() {
	mkdir -p "$SVC_DIR/probe"
	cat >"$SVC_DIR/probe.c" <<'EOF'
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static struct sockaddr_in addr_of(const char *ip, const char *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(atoi(port)) };
	inet_pton(AF_INET, ip, &sa.sin_addr);
	return sa;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static int dial(const char *ip, const char *port)
{
	struct sockaddr_in sa = addr_of(ip, port);
	struct timeval tv = { 5, 0 };
	struct timespec t0;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		printf("error %s %ldms\n", strerror(errno), ms_since(&t0));
		close(fd);
		return -1;
	}
	return fd;
}

static void get(const char *ip, const char *port)
{
	char buf[4096], *last, *end;
	size_t n = 0;
	ssize_t r;
	int fd = dial(ip, port);
	if (fd < 0)
		return;
	if (write(fd, "GET /index.html HTTP/1.0\r\n\r\n", 28) != 28) {
		printf("error write %s\n", strerror(errno));
		close(fd);
		return;
	}
	while (n < sizeof(buf) - 1 && (r = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
		n += r;
	buf[n] = 0;
	close(fd);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = 0;
	last = strrchr(buf, '\n');
	last = last ? last + 1 : buf;
	end = last + strcspn(last, "\r");
	*end = 0;
	printf("%s\n", *last ? last : "error empty");
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "tcp")) {
		for (int i = 0; i < atoi(argv[4]); i++)
			get(argv[2], argv[3]);
	} else if (argc == 4 && !strcmp(argv[1], "peer")) {
		struct sockaddr_in p;
		socklen_t len = sizeof(p);
		int fd = dial(argv[2], argv[3]);
		if (fd >= 0 && getpeername(fd, (struct sockaddr *)&p, &len) == 0)
			printf("%s:%u\n", inet_ntoa(p.sin_addr), ntohs(p.sin_port));
	} else if (argc == 4 && !strcmp(argv[1], "udp")) {
		struct sockaddr_in sa = addr_of(argv[2], argv[3]), from;
		socklen_t len = sizeof(from);
		struct timeval tv = { 3, 0 };
		char buf[256];
		int fd = socket(AF_INET, SOCK_DGRAM, 0);
		ssize_t n;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (sendto(fd, "q", 1, 0, (struct sockaddr *)&sa, sizeof(sa)) != 1 ||
		    (n = recvfrom(fd, buf, sizeof(buf) - 1, 0, (struct sockaddr *)&from, &len)) < 0) {
			printf("error %s\n", strerror(errno));
			return 0;
		}
		buf[n] = 0;
		printf("%s from %s:%u\n", buf, inet_ntoa(from.sin_addr), ntohs(from.sin_port));
	} else if (argc == 4 && !strcmp(argv[1], "udp-serve")) {
		struct sockaddr_in sa = addr_of("0.0.0.0", argv[2]), from;
		int fd = socket(AF_INET, SOCK_DGRAM, 0);
		char buf[256];
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			return 1;
		for (;;) {
			socklen_t len = sizeof(from);
			if (recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len) >= 0)
				sendto(fd, argv[3], strlen(argv[3]), 0, (struct sockaddr *)&from, len);
		}
	} else {
		fprintf(stderr, "usage: svc-probe tcp ADDR PORT N | peer ADDR PORT | udp ADDR PORT | udp-serve PORT NAME\n");
		return 2;
	}
	return 0;
}
EOF
	cc -static -O2 -o "$SVC_DIR/probe/svc-probe" "$SVC_DIR/probe.c"
}

# The pod spec part shared by backends and clients: busybox with the probe dir at /probe.
svc_spec() {
	local node=$1 restart=$2 grace=$3 cmd=$4
	jq -n --arg node "$node" --arg restart "$restart" --argjson grace "$grace" --arg cmd "$cmd" \
		--arg dir "$SVC_DIR/probe" '{
		restartPolicy: $restart, terminationGracePeriodSeconds: $grace,
		volumes: [{name: "probe", hostPath: {path: $dir, type: "Directory"}}],
		containers: [{name: "c", image: "busybox", imagePullPolicy: "Never", command: ["sh", "-c", $cmd],
		              ports: [{name: "web", containerPort: 8080}, {name: "echo", containerPort: 5353, protocol: "UDP"}],
		              volumeMounts: [{name: "probe", mountPath: "/probe"}]}]}
		| if $node == "" then . else . + {nodeName: $node} end'
}

# Backends ignore SIGTERM (inherited by httpd), so a deleted one lives through its grace period.
svc_create_objects() {
	# shellcheck disable=SC2016 # expanded in the pod
	local cmd='trap "" TERM; mkdir -p /tmp/www; hostname > /tmp/www/index.html; /probe/svc-probe udp-serve 5353 "$(hostname)" & exec httpd -f -p 8080 -h /tmp/www'
	svc_spec "" Always 60 "$cmd" | jq '{apiVersion: "v1", kind: "ReplicationController",
		metadata: {name: "svc-web", labels: {"cluster-test": "1"}},
		spec: {replicas: 3, selector: {app: "svc-web"},
		       template: {metadata: {labels: {app: "svc-web", "cluster-test": "1"}}, spec: .}}}' | k create -f - >/dev/null
	jq -n --argjson np "$SVC_NODEPORT" '{apiVersion: "v1", kind: "Service", metadata: {name: "svc-web"},
		spec: {type: "NodePort", selector: {app: "svc-web"},
		       ports: [{name: "http", port: 80, targetPort: "web", nodePort: $np},
		               {name: "echo", protocol: "UDP", port: 53, targetPort: "echo"}]}}' | k create -f - >/dev/null
	jq -n '{apiVersion: "v1", kind: "Service", metadata: {name: "svc-aff"},
		spec: {selector: {app: "svc-web"}, sessionAffinity: "ClientIP", ports: [{port: 80, targetPort: 8080}]}}' |
		k create -f - >/dev/null
	jq -n '{apiVersion: "v1", kind: "Service", metadata: {name: "svc-hp"},
		spec: {selector: {hp: "1"}, ports: [{port: 80, targetPort: 8080}]}}' | k create -f - >/dev/null
	jq -n '{apiVersion: "v1", kind: "Service", metadata: {name: "svc-empty"},
		spec: {selector: {app: "svc-nobody"}, ports: [{port: 80, targetPort: 8080}]}}' | k create -f - >/dev/null
}

svc_ready_ips() {
	k get endpoints svc-web -o json 2>/dev/null | jq -r '[.subsets[]?.addresses[]?.ip] | sort | .[]'
}

svc_has_ready() {
	[ "$(svc_ready_ips | wc -l)" -eq "$1" ]
}

svc_vip() {
	k get service "$1" -o jsonpath='{.spec.clusterIP}'
}

# svc_client NAME SCRIPT: runs SCRIPT in a client pod on the last node; prints its output file.
svc_client() {
	local name=$1 script=$2 phase
	rm -f "$SVC_DIR/probe/$name.out"
	svc_spec "${NODE_NAME[$NODES]}" Never 1 "($script) > /probe/$name.out 2>&1" |
		jq --arg name "$name" '{apiVersion: "v1", kind: "Pod", metadata: {name: $name, labels: {"cluster-test": "1"}},
			spec: .}' | k create -f - >/dev/null
	phase=$(wait_done "$name")
	[ "$phase" == Succeeded ] || fail "services: client $name finished" "phase: $phase"
	k delete pod "$name" --wait=false >/dev/null 2>&1
	cat "$SVC_DIR/probe/$name.out" 2>/dev/null
}

# svc_spread MODE LABEL N PCT OUT NAMES...: every backend NAME got at least PCT% of N answers.
svc_spread() {
	local mode=$1 label=$2 n=$3 pct=$4 out=$5 name got bad=""
	shift 5
	for name in "$@"; do
		got=$(printf '%s\n' "$out" | grep -cx "spread $name")
		[ "$got" -ge $((n * pct / 100)) ] || bad="$bad $name:$got"
	done
	check_eq "services ($mode): $label" "" "$bad"
}

# svc_line_like NAME REGEX OUT: a line of OUT matches; else the lines with the same first word.
svc_line_like() {
	local word=${2#^}
	word=${word%% *}
	if grep -qE "$2" <<<"$3"; then pass "$1"; else
		fail "$1" "want a line like: $2" "got: $(grep "^$word " <<<"$3" | head -n 3 | tr '\n' '|')"
	fi
}

svc_backends() {
	k get pods -l app=svc-web -o json | jq -r '.items[] | select(.metadata.deletionTimestamp == null) | .metadata.name' | sort
}

svc_checks() {
	local mode=$1 vip aff empty out names nodeport victim victim_ip t0 left_after got
	vip=$(svc_vip svc-web)
	aff=$(svc_vip svc-aff)
	empty=$(svc_vip svc-empty)
	until_ok 300 svc_has_ready 3 || fail "services ($mode): 3 ready endpoints" "$(svc_ready_ips)"
	mapfile -t names < <(svc_backends)
	out=$(svc_client "svc-c1-$mode" "P=/probe/svc-probe; \$P tcp $vip 80 300 | sed 's/^/spread /'; \
		\$P peer $vip 80 | sed 's/^/peer /'; \$P udp $vip 53 | sed 's/^/udp /'; \
		\$P tcp $aff 80 30 | sed 's/^/aff /'; \$P tcp $empty 80 1 | sed 's/^/empty /'; \
		\$P tcp $SVC_UNKNOWN_VIP 80 1 | sed 's/^/unknown /'")
	svc_spread "$mode" "300 requests reach all 3 backends (>= 15% each)" 300 15 "$out" "${names[@]}"
	check_eq "services ($mode): getpeername shows the VIP" "peer $vip:80" "$(printf '%s\n' "$out" | grep '^peer ')"
	svc_line_like "services ($mode): UDP answers, from the VIP" "^udp svc-web-[a-z0-9]+ from $vip:53\$" "$out"
	check_eq "services ($mode): ClientIP affinity sticks (30 requests, 1 backend)" 1 \
		"$(printf '%s\n' "$out" | grep '^aff ' | sort -u | grep -vc '^aff error')"
	svc_line_like "services ($mode): a VIP without endpoints is refused at once" \
		'^empty error Connection refused [0-9]{1,3}ms$' "$out"
	svc_line_like "services ($mode): an unknown VIP fails at once" '^unknown error .* [0-9]{1,3}ms$' "$out"

	nodeport=$(ip netns exec "$CLUSTER-control" timeout 5 busybox wget -q -O- \
		"http://${NODE_IP[1]}:$SVC_NODEPORT/index.html" 2>&1)
	check "services ($mode): NodePort answers from the control namespace on the fabric" \
		grep -qE '^svc-web-[a-z0-9]+$' <<<"$nodeport"

	k patch rc svc-web --type=merge -p '{"spec":{"replicas":5}}' >/dev/null
	until_ok 300 svc_has_ready 5 || fail "services ($mode): 5 ready endpoints after scaling" "$(svc_ready_ips)"
	sleep 1 # the budget: 1 s from the Endpoints to every node's data path
	mapfile -t names < <(svc_backends)
	out=$(svc_client "svc-c2-$mode" "/probe/svc-probe tcp $vip 80 200 | sed 's/^/spread /'")
	# 5% of 200: far below the 40 each expects (15% would fail by chance about once in five runs).
	svc_spread "$mode" "after scaling to 5 every backend takes traffic (200 requests, >= 5% each)" 200 5 "$out" \
		"${names[@]}"

	# The newest backend: one started by the agent now running, not adopted from an earlier one.
	victim=$(k get pods -l app=svc-web --sort-by=.metadata.creationTimestamp -o jsonpath='{.items[*].metadata.name}' |
		tr ' ' '\n' | tail -n 1)
	victim_ip=$(k get pod "$victim" -o jsonpath='{.status.podIP}')
	t0=$SECONDS
	k delete pod "$victim" --wait=false >/dev/null
	# shellcheck disable=SC2317 # called through until_ok
	_svc_gone() { ! svc_ready_ips | grep -qx "$victim_ip"; }
	until_ok 150 _svc_gone || fail "services ($mode): $victim leaves the Endpoints when deleted"
	left_after=$((SECONDS - t0))
	sleep 1
	out=$(svc_client "svc-c3-$mode" "/probe/svc-probe tcp $vip 80 100 | sed 's/^/spread /'")
	check_eq "services ($mode): the deleted $victim gets no new connection" 0 \
		"$(printf '%s\n' "$out" | grep -cx "spread $victim")"
	# Fails when the Endpoints kept the pod until it was gone (terminating pods must leave them).
	got=$(k get pod "$victim" -o jsonpath='{.metadata.name}' 2>&1)
	if [ "$got" == "$victim" ]; then pass "services ($mode): ... while its process still runs (Terminating)"; else
		fail "services ($mode): ... while its process still runs (Terminating)" "got: $got" \
			"it left the Endpoints ${left_after}s after the delete; its grace period is 60 s"
	fi
	k delete pod "$victim" --grace-period=0 --force >/dev/null 2>&1
	k patch rc svc-web --type=merge -p '{"spec":{"replicas":3}}' >/dev/null
	svc_hairpin "$mode"
}

# The only backend of Service svc-hp asks it, once its Endpoints have it, 20 times: the hairpin
# path (nftables: DNAT back to the sender, masqueraded so the reply comes back the same way).
svc_hairpin() {
	local mode=$1 vip name="svc-hp-$1" phase got
	vip=$(svc_vip svc-hp)
	# shellcheck disable=SC2016 # expanded in the pod
	local cmd='mkdir -p /tmp/www; hostname > /tmp/www/index.html; httpd -p 8080 -h /tmp/www; P=/probe/svc-probe;
		for i in $(seq 150); do [ "$($P tcp '"$vip"' 80 1)" = "$(hostname)" ] && break; sleep 0.2; done;
		$P tcp '"$vip"' 80 20 | sort | uniq -c > /probe/'"$name"'.out'
	rm -f "$SVC_DIR/probe/$name.out"
	svc_spec "${NODE_NAME[1]}" Never 1 "$cmd" | jq --arg name "$name" '{apiVersion: "v1", kind: "Pod",
		metadata: {name: $name, labels: {hp: "1", "cluster-test": "1"}}, spec: .}' | k create -f - >/dev/null
	phase=$(wait_done "$name")
	got="$phase $(tr -s ' \n' ' ' <"$SVC_DIR/probe/$name.out" 2>/dev/null | sed 's/^ //; s/ $//')"
	if [ "$got" == "Succeeded 20 $name" ]; then
		pass "services ($mode): a pod asking its own Service reaches itself 20 times (hairpin)"
	else
		# With br_netfilter (bridge-nf-call-iptables=1) a frame DNATed back to its sender must leave
		# by the bridge port it came in on: that port needs hairpin_mode (kubelet's hairpin-veth).
		fail "services ($mode): a pod asking its own Service reaches itself 20 times (hairpin)" \
			"expected: Succeeded 20 $name" "got:      $got" \
			"bridge-nf-call-iptables in node 1: $(in_node 1 cat /proc/sys/net/bridge/bridge-nf-call-iptables 2>&1)"
	fi
	k delete pod "$name" --grace-period=0 --force >/dev/null 2>&1
}

svc_mode_of() {
	k get node "${NODE_NAME[$1]}" -o jsonpath='{.metadata.annotations.skiff\.io/proxy-mode}'
}

svc_all_nodes_in() {
	local i
	for i in $(seq "$NODES"); do [ "$(svc_mode_of "$i")" == "$1" ] || return 1; done
}

# Every agent restarted in mode MODE (the state file carries --proxy-mode to restart-agent).
svc_switch() {
	local mode=$1 i tmp=$WORK/state.json.new
	jq --arg m "$mode" '.proxyMode = $m' "$STATE/state.json" >"$tmp" && cat "$tmp" >"$STATE/state.json"
	for i in $(seq "$NODES"); do
		k annotate node "${NODE_NAME[i]}" skiff.io/proxy-mode- >/dev/null 2>&1
		check "services: restart node $i's agent with --proxy-mode $mode" \
			"$SKIFFCTL" cluster restart-agent --name "$CLUSTER" --node "$i"
	done
	until_ok 300 svc_all_nodes_in "$mode"
	check "services: every Node says skiff.io/proxy-mode=$mode" svc_all_nodes_in "$mode"
}

_svc_np_only() {
	grep -q "tcp . $SVC_NODEPORT : goto" <<<"$1" && ! grep -q 'hook output' <<<"$1"
}

# The table as the agent has it once the Service's endpoints are synced (right after the mode
# shows on the Node they may not be yet): re-read until it holds, bounded.
_svc_table_np_only() { _svc_np_only "$(in_node 1 nft list table ip skiff 2>&1)"; }
_svc_table_output() { grep -q 'hook output' <<<"$(in_node 1 nft list table ip skiff 2>&1)"; }

svc_table_check() {
	local mode=$1
	if [ "$mode" == nftables ]; then
		check "services (nftables): node 1's table ip skiff routes ClusterIPs (output hook)" until_ok 100 _svc_table_output
		check "services (nftables): no BPF pins left on node 1" test ! -e "/sys/fs/bpf/skiff/$CLUSTER/node-1"
	else
		check "services (bpf): node 1's table ip skiff has only the NodePort DNAT" until_ok 100 _svc_table_np_only
	fi
}

scenario_services() {
	local first second
	SVC_DIR=$WORK/services
	check "services: static probe builds (cc -static)" svc_build_probe || return
	svc_create_objects
	# shellcheck disable=SC2317 # called through until_ok
	_svc_annotated() { [ -n "$(svc_mode_of 1)" ] && svc_all_nodes_in "$(svc_mode_of 1)"; }
	until_ok 150 _svc_annotated
	first=$(svc_mode_of 1)
	case "$first" in
	bpf) second=nftables ;;
	nftables) second=bpf ;;
	*)
		fail "services: Nodes carry skiff.io/proxy-mode" "node 1: '$first'"
		return
		;;
	esac
	svc_table_check "$first"
	svc_checks "$first"
	# SVC_ONE_MODE=1: the agents' mode only (make vmtest under TCG has no time for both).
	if [ -z "${SVC_ONE_MODE:-}" ]; then
		svc_switch "$second"
		svc_table_check "$second"
		svc_checks "$second"
	fi
	k delete rc svc-web --wait=false >/dev/null 2>&1
	k delete service svc-web svc-aff svc-hp svc-empty --wait=false >/dev/null 2>&1
	k delete pods -l app=svc-web --grace-period=0 --force >/dev/null 2>&1
}
