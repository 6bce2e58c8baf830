#!/usr/bin/env bash
# The guest is what the suite needs: a pure cgroup v2 hierarchy with cpu, memory and pids.
set -eu
uname -r
m=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
[ "$m" = /sys/fs/cgroup ] || { echo "cgroup2 not at /sys/fs/cgroup: '$m'"; exit 1; }
for c in cpu memory pids; do
	grep -qw "$c" "$m/cgroup.subtree_control" || { echo "controller $c not enabled"; exit 1; }
done
echo "controllers: $(cat "$m/cgroup.subtree_control")"
