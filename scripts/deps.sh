#!/bin/sh
# Install pacer's build and test dependencies from Debian's packages when any
# is missing. Sourced by scripts/test.sh, scripts/run.sh and the benchmarks.
PACER_DEPS="build-essential cmake pkg-config libevent-dev libhiredis-dev \
libglpk-dev libjansson-dev libinih-dev libhttp-parser-dev libcmocka-dev \
redis-server redis-tools python3 curl tzdata faketime clang mandoc libsystemd-dev \
python3-jsonschema python3-yaml prometheus libssl-dev libopenmpi-dev openmpi-bin"
pacer_install_deps() {
	missing=""
	for p in $PACER_DEPS "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
			missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	echo "pacer: installing$missing" >&2
	SUDO=""
	[ "$(id -u)" -ne 0 ] && SUDO="sudo"
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -q >/dev/null
	# shellcheck disable=SC2086
	$SUDO apt-get install -y -q $missing >/dev/null
}
