#!/bin/sh
# Decision benchmark on a local Redis Cluster (scripts/bench.sh --cluster,
# or BENCH_CLUSTER=1): for 1, 2 and 3 masters (no replicas; scripts/cluster.sh)
# the decisions/s of 64 connections and of batches of 1000 (2 connections),
# the Redis CPU per decision (used_cpu_sys + used_cpu_user of every master
# from INFO cpu, before and after a run, over the decisions pacerd counted)
# and the Redis memory per customer (INFO memory after pacer load, over the
# customers). Prints one line per figure; never fails for being slow.
#   BENCH_CUSTOMERS (50000)  BENCH_SECONDS (10)  BENCH_CONTACTS_PER (2)
#   BENCH_MASTERS ("1 2 3")  BENCH_TIMEOUT_MS (1000: [redis] timeout_ms)
set -eu
cd "$(dirname "$0")/.."
. scripts/deps.sh
pacer_install_deps wrk
. scripts/cluster.sh
N=${BENCH_CUSTOMERS:-50000}
SECS=${BENCH_SECONDS:-10}
PER=${BENCH_CONTACTS_PER:-2}
# A batch of 1000 is split by master into calls of 64: at the example's
# 50 ms most would time out on a shared 2-core box; this measures capacity.
TIMEOUT_MS=${BENCH_TIMEOUT_MS:-1000}
W=$(mktemp -d /tmp/pacer-bench-cluster.XXXXXX)
PACERD_PID=""
cleanup() {
	[ -n "$PACERD_PID" ] && kill "$PACERD_PID" 2>/dev/null || true
	for d in "$W"/c*; do cluster_stop "$d"; done
	sleep 0.3; rm -rf "$W"
}
trap cleanup EXIT INT TERM

echo "== build (-O2 -DNDEBUG)" >&2
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release \
	-DCMAKE_C_FLAGS_RELEASE="-O2 -DNDEBUG" >/dev/null
cmake --build build-bench -j "$(nproc)" --target pacerd pacer >/dev/null

echo "== data: $N customers with consent, $PER contacts each" >&2
NOW=$(date +%s)
awk -v n="$N" 'BEGIN { print "customer,tz,segments,email,sms,push";
	for (i = 0; i < n; i++) printf "b%012d,UTC,,1,1,1\n", i }' > "$W/profiles.csv"
awk -v n="$N" -v per="$PER" -v now="$NOW" 'BEGIN { print "time,customer,channel,campaign,offer";
	split("email sms push", c, " ");
	for (i = 0; i < n; i++) for (k = 0; k < per; k++)
		printf "%d,b%012d,%s,,\n", now - 86400 * (k + 1) - i % 3600, i, c[(i + k) % 3 + 1] }' > "$W/contacts.csv"

# The sum over the cluster's masters of an INFO field: masters_sum SECTION FIELD
masters_sum() {
	for a in $(echo "$CLUSTER_NODES" | tr ',' ' '); do
		redis-cli -p "${a#*:}" info "$1" | tr -d '\r' | awk -F: -v f="$2" '$1 == f { print $2 }'
	done | awk '{ s += $1 } END { printf "%.6f", s }'
}
redis_cpu() { echo "$(masters_sum cpu used_cpu_sys) $(masters_sum cpu used_cpu_user)" | awk '{ printf "%.6f", $1 + $2 }'; }
# Decisions pacerd answered so far (store_unavailable too: it is counted apart).
answers() {
	curl -sf "http://127.0.0.1:$HPORT/metrics" | awk '/^pacer_decisions_total/ {
		t += $2; if ($1 ~ /store_unavailable/) u += $2 } END { print t + 0, u + 0 }'
}
# One wrk run: prints "decisions/s redis_us_per_decision unavailable%"
# (decisions: answers that are not store_unavailable).
run() {	# conns [env...]
	conns=$1; shift
	a0=$(answers); c0=$(redis_cpu)
	env BENCH_N="$N" "$@" wrk -t2 -c"$conns" -d"${SECS}s" --timeout 5s \
		-s scripts/bench/decide.lua "http://127.0.0.1:$HPORT" >/dev/null 2>&1
	a1=$(answers); c1=$(redis_cpu)
	echo "$a0 $a1 $c0 $c1" | awk -v s="$SECS" '{ d = $3 - $1 - ($4 - $2);
		printf "%.0f %.1f %.1f", d / s, (d > 0 ? ($6 - $5) * 1e6 / d : 0),
		($3 > $1 ? 100 * ($4 - $2) / ($3 - $1) : 0) }'
}

echo
echo "pacer decision benchmark on Redis Cluster: $N customers ($PER contacts each), wrk -t2, ${SECS}s per run, $(nproc) cores for everything, timeout_ms $TIMEOUT_MS"
for M in ${BENCH_MASTERS:-1 2 3}; do
	cluster_start "$W/c$M" "$M" 0
	HPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	sed -e "s/^listen = .*/listen = 127.0.0.1:$HPORT/" \
		-e "s/^;nodes = .*/nodes = $CLUSTER_NODES/" \
		-e "s|^offers = .*|offers = $PWD/conf/offers.csv|" \
		-e "s/^timeout_ms = .*/timeout_ms = $TIMEOUT_MS/" \
		-e "s/^max_connections = .*/max_connections = 10000/" conf/pacer.conf > "$W/pacer$M.conf"
	m0=$(masters_sum memory used_memory)
	./build-bench/solver/pacer load -c "$W/pacer$M.conf" --profiles "$W/profiles.csv" \
		--contacts "$W/contacts.csv" 2>/dev/null
	m1=$(masters_sum memory used_memory)
	./build-bench/daemon/pacerd -c "$W/pacer$M.conf" 2>"$W/pacerd$M.log" &
	PACERD_PID=$!
	for _ in $(seq 50); do curl -sf "http://127.0.0.1:$HPORT/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
	uni=$(run 64)
	batch=$(run 2 BENCH_BATCH=1000)
	kill "$PACERD_PID"; wait "$PACERD_PID" 2>/dev/null || true; PACERD_PID=""
	cluster_stop "$W/c$M"
	set -- $uni; u_rps=$1; u_cpu=$2; u_un=$3
	set -- $batch; b_rps=$1; b_cpu=$2; b_un=$3
	printf "%d master(s): decide (64 conns) %7s decisions/s, redis CPU %5s us/decision (%s decisions/s per redis core), store_unavailable %s%%; batch of 1000 (2 conns) %7s decisions/s, redis CPU %5s us/decision (%s per core), store_unavailable %s%%; redis memory %s bytes/customer\n" \
		"$M" "$u_rps" "$u_cpu" "$(awk -v c="$u_cpu" 'BEGIN { printf "%.0f", (c > 0 ? 1e6 / c : 0) }')" "$u_un" \
		"$b_rps" "$b_cpu" "$(awk -v c="$b_cpu" 'BEGIN { printf "%.0f", (c > 0 ? 1e6 / c : 0) }')" "$b_un" \
		"$(awk -v a="$m0" -v b="$m1" -v n="$N" 'BEGIN { printf "%.0f", (b - a) / n }')"
done
