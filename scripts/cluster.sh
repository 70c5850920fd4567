# A local Redis Cluster for scripts/run.sh --cluster and scripts/bench.sh
# (sourced). cluster_start DIR MASTERS REPLICAS starts MASTERS * (1 +
# REPLICAS) redis-server processes with cluster-enabled yes on free ports
# (each with its bus port, + 10000, free too), joins them with
# redis-cli --cluster create, waits for cluster_state:ok on every node and
# for the replicas' first sync (REPLICAS 0: any number of masters, joined
# by CLUSTER ADDSLOTSRANGE and MEET; each node announces 127.0.0.1, or a
# lone master, which met no other, names no endpoint), and sets CLUSTER_NODES (host:port,...: the
# [redis] nodes line). Each node's pid is DIR/node-PORT.pid; cluster_stop
# DIR stops them. Needs python3 and redis-cli.

cluster_ports() {	# N: N ports p whose p + 10000 is free too (clusterkit's)
	PYTHONPATH=tests/integration python3 -c '
import sys
from clusterkit import cluster_free_port
out = set()
while len(out) < int(sys.argv[1]):
    out.add(cluster_free_port())
print(" ".join(map(str, out)))' "$1"
}

cluster_start() {	# DIR MASTERS REPLICAS
	_dir=$1; _n=$(($2 * (1 + $3)))
	mkdir -p "$_dir"
	CLUSTER_NODES=""
	for _p in $(cluster_ports "$_n"); do
		mkdir -p "$_dir/$_p"
		redis-server --port "$_p" --bind 127.0.0.1 --save "" --appendonly no \
			--hash-max-listpack-value 1024 --dir "$_dir/$_p" \
			--cluster-enabled yes --cluster-config-file nodes.conf \
			--cluster-node-timeout 1000 --repl-diskless-sync-delay 0 \
			--cluster-announce-ip 127.0.0.1 \
			--logfile "$_dir/$_p/redis.log" --pidfile "$_dir/node-$_p.pid" \
			--daemonize yes
		CLUSTER_NODES="${CLUSTER_NODES:+$CLUSTER_NODES,}127.0.0.1:$_p"
	done
	for _a in $(echo "$CLUSTER_NODES" | tr ',' ' '); do
		for _ in $(seq 50); do
			redis-cli -p "${_a#*:}" ping >/dev/null 2>&1 && break; sleep 0.1
		done
	done
	if [ "$3" -gt 0 ]; then
		# shellcheck disable=SC2046
		redis-cli --cluster create $(echo "$CLUSTER_NODES" | tr ',' ' ') \
			--cluster-replicas "$3" --cluster-yes >"$_dir/create.log" 2>&1 || {
			cat "$_dir/create.log" >&2; return 1; }
	else
		# Masters only (create wants 3 at least): an equal share of the
		# slots each, then every node meets the first.
		_i=0; _first=""
		for _a in $(echo "$CLUSTER_NODES" | tr ',' ' '); do
			_lo=$((16384 * _i / $2)); _hi=$((16384 * (_i + 1) / $2 - 1))
			redis-cli -p "${_a#*:}" cluster addslotsrange "$_lo" "$_hi" >/dev/null
			[ -n "$_first" ] && redis-cli -p "${_a#*:}" cluster meet 127.0.0.1 "$_first" >/dev/null
			[ -z "$_first" ] && _first=${_a#*:}
			_i=$((_i + 1))
		done
	fi
	for _ in $(seq 300); do
		_ok=1
		for _a in $(echo "$CLUSTER_NODES" | tr ',' ' '); do
			redis-cli -p "${_a#*:}" cluster info 2>/dev/null |
				grep -q '^cluster_state:ok' || _ok=0
			# A master's replicas synced (WAIT counts only those).
			_r=$(redis-cli -p "${_a#*:}" info replication 2>/dev/null | tr -d '\r')
			echo "$_r" | grep -q '^role:master' &&
				[ "$(echo "$_r" | grep -c '^slave[0-9]*:.*state=online')" -lt "$3" ] && _ok=0
		done
		[ "$_ok" = 1 ] && return 0
		sleep 0.1
	done
	echo "cluster: not ok within 30 s" >&2
	return 1
}

cluster_stop() {	# DIR
	for _f in "$1"/node-*.pid; do
		[ -f "$_f" ] || continue
		kill "$(cat "$_f")" 2>/dev/null || true
		rm -f "$_f"
	done
}
