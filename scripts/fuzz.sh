#!/bin/sh
# Build the libFuzzer targets with clang and run each for SECONDS (default 60).
#   scripts/fuzz.sh [SECONDS] [TARGET...]
# Corpora live in build-fuzz/corpus/TARGET (seeded from conf/); crashes are
# written to build-fuzz/crashes/. Exit 1 when a target finds a crash.
set -eu

cd "$(dirname "$0")/.."
root=$(pwd)
seconds=${1:-60}
[ $# -gt 0 ] && shift
targets=${*:-fuzz_conf fuzz_csv fuzz_tz_decode}
build="$root/build-fuzz"

if ! command -v clang >/dev/null 2>&1; then
	echo "fuzz.sh: installing clang" >&2
	sudo apt-get install -y clang >/dev/null || apt-get install -y clang >/dev/null
fi

CC=clang cmake -S "$root" -B "$build" -DPACER_FUZZ=ON \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
# Only the fuzz targets: the rest of the tree is built by scripts/test.sh.
# shellcheck disable=SC2086
cmake --build "$build" -j"$(nproc)" --target $targets

# Seed corpora from the files the parsers really read.
mkdir -p "$build/corpus/fuzz_conf" "$build/corpus/fuzz_csv" \
    "$build/corpus/fuzz_tz_decode" "$build/crashes"
cp conf/pacer.conf "$build/corpus/fuzz_conf/seed-pacer.conf"
cp conf/offers.csv "$build/corpus/fuzz_csv/seed-offers.csv"
printf 'a,"b ""q""",c\r\n1,"x\ny",3\n\n4,5,6' >"$build/corpus/fuzz_csv/seed-quotes.csv"
printf '3600@1767225600;7200@1774746000;3600@1792890000' \
    >"$build/corpus/fuzz_tz_decode/seed-paris"
printf '0@0' >"$build/corpus/fuzz_tz_decode/seed-utc"

status=0
for t in $targets; do
	echo "fuzz.sh: $t for ${seconds}s" >&2
	if ! "$build/tests/fuzz/$t" -max_total_time="$seconds" -timeout=10 \
	    -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix="$build/crashes/$t-" "$build/corpus/$t" \
	    >"$build/$t.log" 2>&1; then
		echo "fuzz.sh: $t FAILED, see $build/$t.log and $build/crashes/" >&2
		tail -n 40 "$build/$t.log" >&2
		status=1
	else
		grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' \
		    "$build/$t.log" | sed "s/^/fuzz.sh: $t /" >&2
		echo "fuzz.sh: $t ok, $(ls "$build/corpus/$t" | wc -l) corpus entries" >&2
	fi
done
exit $status
