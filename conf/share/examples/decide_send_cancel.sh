#!/bin/sh
# A pacerd client in sh and curl: decide -> send -> cancel, the way every
# client should (see decide_send_cancel.py for the same in Python).
#
#   decide_send_cancel.sh CUSTOMER CHANNEL
#
# Environment: PACER_URL (http://127.0.0.1:8425), PACER_TOKEN, TIMEOUT
# (seconds per request, 2), ATTEMPTS (tries per request, 5), MAX_WAIT
# (seconds a denial may be waited out, 0), SEND_ID (default: a fresh one),
# SEND_FAILS=1 (simulate a failed send: it is then cancelled).
#
# One send_id per send, repeated on every retry of it (pacerd answers a
# retry with the first answer, never counting twice); timeouts and 503
# retried after a growing pause or Retry-After; 409 send_id_conflict is a
# bug, never retried; a denial with retry_after asked again after it with a
# NEW send_id; a failed send cancelled.
# Exit status: 0 sent, 4 denied, 5 send failed (cancelled), 1 bad request,
# 2 pacerd unreachable, 3 send_id conflict.
set -u
[ $# -eq 2 ] || { echo "usage: $0 CUSTOMER CHANNEL" >&2; exit 1; }
customer=$1 channel=$2
url=${PACER_URL:-http://127.0.0.1:8425}
timeout=${TIMEOUT:-2} attempts=${ATTEMPTS:-5} max_wait=${MAX_WAIT:-0}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

new_send_id() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }

# call PATH JSON: POST with retries; sets $status and leaves the body in
# $tmp/body. Returns 1 when pacerd never answered.
call() {
	attempt=1 pause=0.1
	while :; do
		status=$(curl -s -o "$tmp/body" -D "$tmp/head" -w '%{http_code}' \
		    --max-time "$timeout" -X POST -H 'Content-Type: application/json' \
		    ${PACER_TOKEN:+-H "Authorization: Bearer $PACER_TOKEN"} \
		    --data "$2" "$url$1")
		case $status in
		000) echo "POST $1 attempt=$attempt error=timeout-or-connection" ;;
		503) echo "POST $1 attempt=$attempt status=503" ;;
		*) return 0 ;;
		esac
		[ "$attempt" -ge "$attempts" ] && return 1
		wait=$pause
		ra=$(sed -n 's/^[Rr]etry-[Aa]fter: *\([0-9]*\).*/\1/p' "$tmp/head" 2>/dev/null)
		[ "$status" = 503 ] && [ -n "$ra" ] && wait=$ra
		sleep "$wait"
		pause=$(awk "BEGIN { p = $pause * 2; print (p > 2 ? 2 : p) }")
		attempt=$((attempt + 1))
	done
}

# field NAME: a scalar of the (compact) JSON answer.
field() { sed -n "s/.*\"$1\":\"\{0,1\}\([^\",}]*\).*/\1/p" "$tmp/body"; }

send_id=${SEND_ID:-$(new_send_id)}
start=$(date +%s)
while :; do
	if ! call /v1/decide "{\"customer\":\"$customer\",\"channel\":\"$channel\",\"send_id\":\"$send_id\"}"; then
		echo "pacerd unreachable after $attempts attempts"
		exit 2
	fi
	if [ "$status" = 409 ] && [ "$(field code)" = send_id_conflict ]; then
		echo "bug: send_id $send_id already names another send: $(field error)"
		exit 3
	fi
	if [ "$status" != 200 ]; then
		echo "refused status=$status code=$(field code) error=\"$(field error)\""
		exit 1
	fi
	allow=$(field allow) retry_after=$(field retry_after)
	echo "decide send_id=$send_id allow=$allow reason=$(field reason) retry_after=$retry_after"
	[ "$allow" = true ] && break
	[ -n "$retry_after" ] || exit 4
	[ $(($(date +%s) + retry_after - start)) -le "${max_wait%.*}" ] || exit 4
	sleep $((retry_after + 1))
	send_id=$(new_send_id)		# the old id keeps its denial
done

if [ "${SEND_FAILS:-0}" != 1 ]; then
	echo "send send_id=$send_id ok=True"
	exit 0
fi
echo "send send_id=$send_id ok=False"
if ! call /v1/cancel "{\"customer\":\"$customer\",\"send_id\":\"$send_id\"}"; then
	echo "pacerd unreachable after $attempts attempts"
	exit 2
fi
echo "cancel send_id=$send_id status=$status released=$(field released)"
exit 5
