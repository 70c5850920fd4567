#!/bin/sh
# pacer end to end on this machine: install what is missing, build, start a
# private redis-server and pacerd, load demo data, show real decisions, run
# and publish an optimization, and print where its report is.
#   scripts/run.sh            run the story (servers stay up afterwards)
#   scripts/run.sh --cluster  the same on a local Redis Cluster: 3 masters +
#                             3 replicas (scripts/cluster.sh), [redis] nodes =
#   scripts/run.sh --stop     stop the servers it started
# PACER_CUSTOMERS (default 20000) sets the demo's size.
set -eu
cd "$(dirname "$0")/.."
ROOT=$PWD
RUN=$ROOT/run
. scripts/cluster.sh

stop() {
	for f in "$RUN/pacerd.pid" "$RUN/redis.pid"; do
		[ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
		rm -f "$f"
	done
	cluster_stop "$RUN/cluster"
	rm -rf "$RUN/cluster"
}
CLUSTER=0
[ "${1:-}" = "--cluster" ] && CLUSTER=1
if [ "${1:-}" = "--stop" ]; then
	stop
	echo "pacer: stopped"
	exit 0
fi

. scripts/deps.sh
pacer_install_deps
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "build"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" >/dev/null
PACER=$ROOT/build/solver/pacer
PACERD=$ROOT/build/daemon/pacerd

stop
mkdir -p "$RUN/data" "$RUN/reports"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
RPORT=$(free_port)
HPORT=8425
python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', $HPORT))" 2>/dev/null || HPORT=$(free_port)

if [ "$CLUSTER" = 1 ]; then
	say "Redis Cluster: 3 masters + 3 replicas (private, no persistence)"
	cluster_start "$RUN/cluster" 3 1
	STORE="Redis Cluster $CLUSTER_NODES"
	echo "nodes = $CLUSTER_NODES"
else
	say "redis-server on 127.0.0.1:$RPORT (private, no persistence)"
	redis-server --port "$RPORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$RUN" \
		--hash-max-listpack-value 1024 \
		--logfile "$RUN/redis.log" --pidfile "$RUN/redis.pid" --daemonize yes
	for _ in 1 2 3 4 5 6 7 8 9 10; do redis-cli -p "$RPORT" ping >/dev/null 2>&1 && break; sleep 0.2; done
	STORE="Redis on 127.0.0.1:$RPORT"
	CLUSTER_NODES=""
fi

say "demo data: ${PACER_CUSTOMERS:-20000} customers, 20 offers"
"$PACER" demo-data --customers "${PACER_CUSTOMERS:-20000}" --offers 20 --seed 1 --out "$RUN/data"
sed -e "s/^listen = .*/listen = 127.0.0.1:$HPORT/" -e "s/^port = 6379/port = $RPORT/" \
	-e "s|^offers = .*|offers = $RUN/data/offers.csv|" \
	-e "s|^scores = .*|scores = $RUN/data/scores.csv|" \
	-e "s|^out_dir = .*|out_dir = $RUN/reports|" \
	-e "s/^allow_client_time = false/allow_client_time = true/" \
	-e "s/^time_limit_s = .*/time_limit_s = 60/" \
	-e "${CLUSTER_NODES:+s/^;nodes = .*/nodes = $CLUSTER_NODES/}" \
	conf/pacer.conf > "$RUN/pacer.conf"
"$PACERD" -t -c "$RUN/pacer.conf"

say "load profiles and past contacts into Redis"
"$PACER" load -c "$RUN/pacer.conf" --profiles "$RUN/data/profiles.csv" \
	--contacts "$RUN/data/contacts.csv"

say "pacerd on http://127.0.0.1:$HPORT"
"$PACERD" -c "$RUN/pacer.conf" >"$RUN/pacerd.log" 2>&1 </dev/null &
echo $! > "$RUN/pacerd.pid"
for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
	curl -sf "http://127.0.0.1:$HPORT/readyz" >/dev/null 2>&1 && break; sleep 0.25
done
H=http://127.0.0.1:$HPORT
show() {	# title, method, path, body
	printf '\n\033[36m%s\033[0m\n$ curl -X %s %s%s -d '\''%s'\''\n' "$1" "$2" "$H" "$3" "$4"
	curl -s -X "$2" "$H$3" -d "$4"; echo
}
# A fixed instant: 10:00 in Paris on 2026-11-23 (09:00 UTC), then 23:00.
DAY=1795424400
NIGHT=$((DAY + 13 * 3600))

say "decisions"
show "A customer opts in to email and sms, in Paris" PUT /v1/customers/demo-ana \
	'{"consent":{"email":true,"sms":true,"push":false},"tz":"Europe/Paris","segments":[]}'
show "First email of the day: allowed, and reserved" POST /v1/decide \
	"{\"customer\":\"demo-ana\",\"channel\":\"email\",\"time\":$DAY}"
show "A second email an hour later: denied by the daily cap" POST /v1/decide \
	"{\"customer\":\"demo-ana\",\"channel\":\"email\",\"time\":$((DAY + 3600))}"
show "An sms at 23:00 Paris time: quiet hours" POST /v1/decide \
	"{\"customer\":\"demo-ana\",\"channel\":\"sms\",\"time\":$NIGHT}"
show "A push: she never consented" POST /v1/decide \
	"{\"customer\":\"demo-ana\",\"channel\":\"push\",\"time\":$DAY}"
show "A customer in the vulnerable segment is never sent credit offers" PUT \
	/v1/customers/demo-ben '{"consent":{"email":true,"sms":true},"segments":["vulnerable"]}'
credit=$(awk -F, '$4 == "credit" && $2 == "email" { print $1; exit }' "$RUN/data/offers.csv")
show "... so an email with a credit offer is suppressed" POST /v1/decide \
	"{\"customer\":\"demo-ben\",\"channel\":\"email\",\"offer\":\"$credit\",\"time\":$DAY}"
show "Held, not dropped: the same email with schedule=true is reserved when every rule allows" \
	POST /v1/decide "{\"customer\":\"demo-ana\",\"channel\":\"email\",\"schedule\":true,\"send_id\":\"held-1\",\"time\":$((DAY + 3600))}"
show "Her preference centre: at most one sms a week, and her own cap is named" PUT \
	/v1/customers/demo-ana '{"caps":["sms 1/7d"]}'
show "An sms at noon: allowed" POST /v1/decide \
	"{\"customer\":\"demo-ana\",\"channel\":\"sms\",\"time\":$((DAY + 3 * 3600))}"
show "Two days later sms 1/1d has room, her own sms 1/7d does not" POST /v1/decide \
	"{\"customer\":\"demo-ana\",\"channel\":\"sms\",\"time\":$((DAY + 2 * 86400 + 3 * 3600))}"
say "priorities: marketing ops keeps the last slot of every cap for priority high"
cp "$RUN/pacer.conf" "$RUN/pacer.conf.base"
printf '\n[priority]\nreserve = 1\n' >> "$RUN/pacer.conf"
show "Reload the config with [priority] reserve = 1" POST /v1/admin/reload ''
show "A customer opts in to push (push 2/1d)" PUT /v1/customers/demo-carl '{"consent":{"push":true}}'
show "A normal push: allowed" POST /v1/decide \
	"{\"customer\":\"demo-carl\",\"channel\":\"push\",\"time\":$DAY}"
show "A second normal push: the last slot is reserved for high" POST /v1/decide \
	"{\"customer\":\"demo-carl\",\"channel\":\"push\",\"time\":$((DAY + 60))}"
show "A high-priority push takes it" POST /v1/decide \
	"{\"customer\":\"demo-carl\",\"channel\":\"push\",\"priority\":\"high\",\"time\":$((DAY + 120))}"
mv "$RUN/pacer.conf.base" "$RUN/pacer.conf"
show "Reload the original config" POST /v1/admin/reload ''
printf '\n\033[36mWhy? Every decision can be explained:\033[0m\n$ curl %s/v1/customers/demo-ana\n' "$H"
curl -s "$H/v1/customers/demo-ana?time=$((DAY + 3600))" | python3 -c '
import json, sys
e = json.load(sys.stdin)
for ch, a in e["channels"].items():
    print("  %-6s %-12s %s" % (ch, a["reason"], "; ".join(a.get("would_change", []))))'

say "nightly optimization (candidate plan, then human approval)"
RUN_ID=demo-$(date -u +%Y%m%dT%H%M%SZ)
"$PACER" optimize -c "$RUN/pacer.conf" --run-id "$RUN_ID"
"$PACER" plan show -c "$RUN/pacer.conf"
"$PACER" plan publish "$RUN_ID" -c "$RUN/pacer.conf"
sleep 1.2	# pacerd reads the live plan id every second

say "pacerd enforces the published plan"
line=$(awk -F, 'NR > 1 { print; exit }' "$RUN/reports/$RUN_ID/assignments.csv")
cust=$(echo "$line" | cut -d, -f1); offer=$(echo "$line" | cut -d, -f2)
chan=$(echo "$line" | cut -d, -f3)
other=$(awk -F, -v o="$offer" -v c="$chan" 'NR > 1 && $2 == c && $1 != o { print $1; exit }' "$RUN/data/offers.csv")
show "A planned offer" POST /v1/decide \
	"{\"customer\":\"$cust\",\"channel\":\"$chan\",\"offer\":\"$offer\",\"dry_run\":true}"
[ -n "$other" ] && show "An offer the plan did not choose for this customer" POST /v1/decide \
	"{\"customer\":\"$cust\",\"channel\":\"$chan\",\"offer\":\"$other\",\"dry_run\":true}"

say "done"
echo "report:  $RUN/reports/$RUN_ID/report.html"
"$PACER" report "$RUN/reports/$RUN_ID" | head -20 || true
echo
echo "pacerd is serving on $H (log: $RUN/pacerd.log), $STORE"
echo "stop both with: scripts/run.sh --stop"
