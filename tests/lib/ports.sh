# Loopback ports for the test and bench servers, sourced by tests/e2e, tests/ha and tests/bench.
# shellcheck shell=bash

# Below the kernel's ephemeral range: a port there can be taken by any outgoing connection (the
# many to etcd) between the pick and the bind.
EPHEMERAL_LOW=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null)
[[ "$EPHEMERAL_LOW" =~ ^[0-9]+$ ]] && [ "$EPHEMERAL_LOW" -gt 22000 ] || EPHEMERAL_LOW=60000

# port_busy PORT: some socket uses PORT, in any state (a client's connection lingering in
# TIME-WAIT on it fails a listener's bind as surely as another listener does).
port_busy() {
	ss -Htan "sport = :$1" 2>/dev/null | grep -q .
}

# pick_port: prints a port below the ephemeral range that no socket uses.
pick_port() {
	local p
	for _ in $(seq 50); do
		p=$((20000 + RANDOM % (EPHEMERAL_LOW - 20000)))
		port_busy "$p" || { echo "$p"; return 0; }
	done
	return 1
}
