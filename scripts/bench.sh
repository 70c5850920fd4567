#!/bin/sh
# Decision benchmark (shared/BENCH.md section 1). Prints one summary line per
# figure; never fails for being slow.
#   BENCH_CUSTOMERS (1000000)  BENCH_SECONDS (20)  BENCH_CONTACTS_PER (2)
#   scripts/bench.sh --cluster (or BENCH_CLUSTER=1): on a local Redis
#   Cluster of 1, 2 and 3 masters instead (scripts/bench-cluster.sh)
set -eu
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--cluster" ] || [ "${BENCH_CLUSTER:-0}" = 1 ]; then
	exec scripts/bench-cluster.sh
fi
. scripts/deps.sh
pacer_install_deps wrk time
N=${BENCH_CUSTOMERS:-1000000}
SECS=${BENCH_SECONDS:-20}
PER=${BENCH_CONTACTS_PER:-2}
W=$(mktemp -d /tmp/pacer-bench.XXXXXX)
PIDS=""
cleanup() { for p in $PIDS; do kill "$p" 2>/dev/null || true; done; sleep 0.3; rm -rf "$W"; }
trap cleanup EXIT INT TERM

echo "== build (-O2 -DNDEBUG)" >&2
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release \
	-DCMAKE_C_FLAGS_RELEASE="-O2 -DNDEBUG" >/dev/null
cmake --build build-bench -j "$(nproc)" --target pacerd pacer >/dev/null
cc -O2 -o "$W/bare" scripts/bench/bare_evhttp.c $(pkg-config --cflags --libs libevent)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
RPORT=$(free_port); HPORT=$(free_port); BPORT=$(free_port); TPORT=$(free_port)
# hash-max-listpack-value 1024: the Redis setting the README recommends (a
# customer's hash stays one compact listpack: about half the memory).
redis-server --port "$RPORT" --bind 127.0.0.1 --save "" --appendonly no \
	--hash-max-listpack-value 1024 \
	--dir "$W" --daemonize no --logfile "$W/redis.log" &
PIDS="$PIDS $!"
"$W/bare" "$BPORT" & PIDS="$PIDS $!"
sleep 0.5

echo "== data: $N customers with consent, $PER contacts each" >&2
NOW=$(date +%s)
awk -v n="$N" 'BEGIN { print "customer,tz,segments,email,sms,push";
	split("UTC Europe/Paris America/New_York Asia/Tokyo", z, " ");
	for (i = 0; i < n; i++) printf "b%012d,%s,,1,1,1\n", i, z[i % 4 + 1] }' > "$W/profiles.csv"
awk -v n="$N" -v per="$PER" -v now="$NOW" 'BEGIN { print "time,customer,channel,campaign,offer";
	split("email sms push", c, " ");
	for (i = 0; i < n; i++) for (k = 0; k < per; k++)
		printf "%d,b%012d,%s,,\n", now - 86400 * (k + 1) - i % 3600, i, c[(i + k) % 3 + 1] }' > "$W/contacts.csv"
sed -e "s/^listen = .*/listen = 127.0.0.1:$HPORT/" -e "s/^port = 6379/port = $RPORT/" \
	-e "s|^offers = .*|offers = $PWD/conf/offers.csv|" \
	-e "s/^max_connections = .*/max_connections = 10000/" conf/pacer.conf > "$W/pacer.conf"
./build-bench/solver/pacer load -c "$W/pacer.conf" --profiles "$W/profiles.csv" 2>/dev/null
mem0=$(redis-cli -p "$RPORT" info memory | awk -F: '/^used_memory:/ { print $2+0 }')
t0=$(date +%s.%N)
echo "customer,tz,segments,email,sms,push" > "$W/none.csv"
./build-bench/solver/pacer load -c "$W/pacer.conf" --profiles "$W/none.csv" --contacts "$W/contacts.csv" 2>/dev/null
t1=$(date +%s.%N)
mem1=$(redis-cli -p "$RPORT" info memory | awk -F: '/^used_memory:/ { print $2+0 }')
mem_line=$(awk -v a="$mem0" -v b="$mem1" -v n="$((N * PER))" -v t0="$t0" -v t1="$t1" \
	'BEGIN { printf "redis memory per stored contact: %.0f bytes (%d contacts loaded at %.0f/s)", (b - a) / n, n, n / (t1 - t0) }')

./build-bench/daemon/pacerd -c "$W/pacer.conf" 2>"$W/pacerd.log" & PIDS="$PIDS $!"
PLAIN_PID=$!
# The same daemon behind TLS ([server] tls_cert, tls_key), same store.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$W/tls.key" -out "$W/tls.pem" \
	-days 2 -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 2>/dev/null
sed -e "s/^listen = .*/listen = 127.0.0.1:$TPORT/" \
	-e "s|^\[server\]|[server]\ntls_cert = tls.pem\ntls_key = tls.key|" \
	"$W/pacer.conf" > "$W/tls.conf"
./build-bench/daemon/pacerd -c "$W/tls.conf" 2>"$W/pacerd-tls.log" & PIDS="$PIDS $!"
TLS_PID=$!
sleep 0.5
curl -sf "http://127.0.0.1:$HPORT/readyz" >/dev/null || { echo "pacerd not ready" >&2; cat "$W/pacerd.log" >&2; exit 1; }

# Answers by reason so far, from pacerd's metrics: "total unavailable".
answers() {
	curl -sf "http://127.0.0.1:$HPORT/metrics" | awk '/^pacer_decisions_total/ {
		t += $2; if ($1 ~ /store_unavailable/) u += $2 } END { print t + 0, u + 0 }'
}
# One wrk run; a run on pacerd also gives the share of its answers that
# were store_unavailable (a timeout is an answer, not a decision).
run_wrk() {	# name conns url [env...]
	name=$1; conns=$2; url=$3; shift 3
	a0=$(answers || echo "0 0")
	r=$(env BENCH_N="$N" "$@" wrk -t2 -c"$conns" -d"${SECS}s" --timeout 5s \
		-s scripts/bench/decide.lua "$url" 2>&1 | awk -v n="$name" '/^RESULT/ { $1 = n; print }')
	a1=$(answers || echo "0 0")
	echo "$r $(echo "$a0 $a1" | awk '{ t = $3 - $1; printf "unavailable=%.1f", (t > 0 ? 100 * ($4 - $2) / t : 0) }')"
}
get() { echo "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1 == k { print $2 }'; }
# CPU seconds (user + system) a process has used so far.
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$1/stat"; }
# One wrk run on pacerd with its CPU microseconds per answer: run_cpu pid name conns url
run_cpu() {
	pid=$1; shift
	c0=$(cpu_s "$pid")
	r=$(run_wrk "$@")
	c1=$(cpu_s "$pid")
	echo "$r $(echo "$r" | tr ' ' '\n' | awk -F= -v a="$c0" -v b="$c1" -v s="$SECS" \
		'$1 == "rps" { printf "cpu_us=%.1f", (b - a) * 1e6 / ($2 * s) }')"
}

echo "== wrk runs, ${SECS}s each" >&2
bare=$(run_wrk bare 64 "http://127.0.0.1:$BPORT/v1/decide")
uni=$(run_cpu "$PLAIN_PID" uniform 64 "http://127.0.0.1:$HPORT")
# TLS on keep-alive connections: the handshake once per connection, then
# what encryption costs per decision (pacerd's CPU per answer, both runs).
tls=$(run_cpu "$TLS_PID" tls 64 "https://127.0.0.1:$TPORT")
hot=$(run_wrk hot 64 "http://127.0.0.1:$HPORT" BENCH_HOT=0.01)
c8=$(run_wrk c8 8 "http://127.0.0.1:$HPORT")
# Two clients keep a batch always waiting on Redis while the other is
# answered; more would only queue past timeout_ms (their answers then
# store_unavailable, which the line below would show).
batch=$(run_wrk batch 2 "http://127.0.0.1:$HPORT" BENCH_BATCH=1000)

# The store's ceiling: the same function, one decision per call as pacerd
# sends a lone decision (daemon/decide.lua documents the arguments; the
# program is what decide_program_build makes of conf/pacer.conf for email),
# pipelined 16 deep from 64 clients. __rand_int__ draws a new number at each
# place, so the customer named in the argument is not the key's: the script
# only copies it into the record. The decision argument is MessagePack: the
# time as a 10-byte string (0xaa), program 1, flags 2, two 13-byte strings
# (0xad) and five empty ones (0xa0: campaign, offer, plan, suppress,
# category).
LIB=build-bench/daemon/pacer-library.lua
redis-cli -p "$RPORT" -x FUNCTION LOAD REPLACE <"$LIB" >/dev/null
DECIDE=pacer_decide_$(sed -n '1s/^#!lua name=pacer_//p' "$LIB")
ARG=$(printf '\252%s\001\002\255s__rand_int__\255b__rand_int__\240\240\240\240\240' "$(date +%s)")
calls=$((N < 2000000 ? 2000000 : N))
ref=$(redis-benchmark -p "$RPORT" -c 64 -P 16 -n "$calls" -r "$N" --csv \
	FCALL "$DECIDE" 2 pacer:audit "pacer:{b__rand_int__}:p" 99999999999999 1 \
	"email 0 75600 28800 0 604800 604800 100000 0|c:1:86400::0;a:1:604800:vulnerable:0;c:2:604800::1;c:3:604800::0;a:5:604800::0" \
	"$ARG" \
	2>/dev/null | tail -1 | awk -F, '{ gsub(/"/, "", $2); print $2 + 0 }')

# The floor under any decision script: per customer one HMGET, one HSET
# and one XADD (what decide.lua must do at least), no rule logic, 32
# random customers per call. One Redis core cannot decide faster than this.
FLOOR_SHA=$(redis-cli -p "$RPORT" script load "for i = 1, #KEYS do
  redis.call('HMGET', KEYS[i], 'c:email', 'seg', 'h', 'pv', 'n')
  redis.call('HSET', KEYS[i], 'd:floor', 'ok|-1|||email||0||', 'n', '1 0')
  redis.call('XADD', 'pacer:floor', 'MAXLEN', '~', '1000', '*', 'customer', 'b', 'decision', 'ok')
end
return 1")
fkeys=""
for i in $(seq 1 32); do fkeys="$fkeys pacer:{b__rand_int__}:p"; done
floor=$(redis-benchmark -p "$RPORT" -c 16 -P 2 -n 20000 -r "$N" --csv \
	EVALSHA "$FLOOR_SHA" 32 $fkeys 2>/dev/null | tail -1 |
	awk -F, '{ gsub(/"/, "", $2); printf "%.0f", $2 * 32 }')

echo
echo "pacer decision benchmark: $N customers, wrk -t2, ${SECS}s per run, $(nproc) cores"
printf "bare evhttp (64 conns):        %8s req/s\n" "$(get "$bare" rps)"
printf "decide uniform (64 conns):     %8s decisions/s  p50 %s ms  p99 %s ms  p99.9 %s ms  ratio to bare %s  errors %s non2xx %s  store_unavailable %s%%\n" \
	"$(get "$uni" rps)" "$(get "$uni" p50_ms)" "$(get "$uni" p99_ms)" "$(get "$uni" p999_ms)" \
	"$(awk -v a="$(get "$uni" rps)" -v b="$(get "$bare" rps)" 'BEGIN { printf "%.2f", a / b }')" \
	"$(get "$uni" errors)" "$(get "$uni" non2xx)" "$(get "$uni" unavailable)"
printf "tls (64 keep-alive conns):     %8s decisions/s  p50 %s ms  p99 %s ms  pacerd CPU %s us/decision against %s us plain (+%s us)  errors %s\n" \
	"$(get "$tls" rps)" "$(get "$tls" p50_ms)" "$(get "$tls" p99_ms)" "$(get "$tls" cpu_us)" \
	"$(get "$uni" cpu_us)" "$(awk -v a="$(get "$tls" cpu_us)" -v b="$(get "$uni" cpu_us)" 'BEGIN { printf "%.1f", a - b }')" \
	"$(get "$tls" errors)"
printf "decide 1%% hot (64 conns):      %8s decisions/s  p50 %s ms  p99 %s ms  p99.9 %s ms  store_unavailable %s%%\n" \
	"$(get "$hot" rps)" "$(get "$hot" p50_ms)" "$(get "$hot" p99_ms)" "$(get "$hot" p999_ms)" \
	"$(get "$hot" unavailable)"
printf "decide (8 conns):              %8s decisions/s  p50 %s ms  p99 %s ms  p99.9 %s ms  store_unavailable %s%%\n" \
	"$(get "$c8" rps)" "$(get "$c8" p50_ms)" "$(get "$c8" p99_ms)" "$(get "$c8" p999_ms)" \
	"$(get "$c8" unavailable)"
brps=$(get "$batch" rps)
printf "batch of 1000 (2 conns):       %8s decisions/s  store_unavailable %s%%  ratio to pipelined Lua %s\n" \
	"$(awk -v r="$brps" 'BEGIN { printf "%.0f", r * 1000 }')" "$(get "$batch" unavailable)" \
	"$(awk -v r="$brps" -v l="$ref" 'BEGIN { if (l > 0) printf "%.2f", r * 1000 / l; else print "n/a" }')"
printf "redis-benchmark same script -P16 -c64: %8s calls/s\n" "$ref"
printf "store floor (HMGET+HSET+XADD, no rules): %8s decisions/s\n" "$floor"
echo "$mem_line"
