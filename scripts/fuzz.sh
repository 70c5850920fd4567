#!/bin/sh
# Build the libFuzzer targets with clang (ASan + UBSan) and run each for
# SECONDS (default 60), one after the other.
#   scripts/fuzz.sh [SECONDS] [TARGET...]
# Seeds are tests/fuzz/corpus/TARGET (committed; only read). What a run
# learns goes to $FUZZ_BUILD/corpus/TARGET and crashes to
# $FUZZ_BUILD/crashes/. Prints executions and crashes per target; exit 1
# when a target finds a crash (or fails to run).
# Environment: FUZZ_BUILD (build folder, default build-fuzz), FUZZ_JOBS
# (build jobs, default nproc), FUZZ_FORK=N (N fuzzing processes per target).
set -eu

cd "$(dirname "$0")/.."
root=$(pwd)
seconds=${1:-60}
[ $# -gt 0 ] && shift
all="fuzz_conf fuzz_csv fuzz_tz_decode fuzz_http fuzz_decide fuzz_batch
fuzz_cancel fuzz_profile fuzz_query fuzz_tokens fuzz_scores"
targets=${*:-$all}
build=${FUZZ_BUILD:-$root/build-fuzz}
jobs=${FUZZ_JOBS:-$(nproc)}

if ! command -v clang >/dev/null 2>&1; then
	echo "fuzz.sh: installing clang" >&2
	sudo apt-get install -y clang >/dev/null || apt-get install -y clang >/dev/null
fi

CC=clang cmake -S "$root" -B "$build" -DPACER_FUZZ=ON \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
# Only the fuzz targets: the rest of the tree is built by scripts/test.sh.
# shellcheck disable=SC2086
cmake --build "$build" -j"$jobs" --target $targets >/dev/null

mkdir -p "$build/crashes"
status=0
summary=""
for t in $targets; do
	mkdir -p "$build/corpus/$t"
	log="$build/$t.log"
	echo "fuzz.sh: $t for ${seconds}s" >&2
	# The learned corpus first: new inputs are written there, the seeds
	# are only read.
	if "$build/tests/fuzz/$t" -max_total_time="$seconds" -timeout=10 \
	    -rss_limit_mb=2048 -print_final_stats=1 ${FUZZ_FORK:+-fork=$FUZZ_FORK} \
	    -artifact_prefix="$build/crashes/$t-" "$build/corpus/$t" \
	    "$root/tests/fuzz/corpus/$t" >"$log" 2>&1; then
		result=ok
	else
		result=CRASH
		status=1
		echo "fuzz.sh: $t FAILED, see $log and $build/crashes/" >&2
		grep -E '^(==|SUMMARY|    #[0-9])' "$log" | head -n 30 >&2 || true
	fi
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	crashes=$(ls "$build/crashes" | grep -c "^$t-" || true)
	summary="$summary$(printf '%-16s %12s executions  %3s crash files  %s' \
	    "$t" "${execs:-?}" "$crashes" "$result")
"
done
printf 'fuzz.sh: %ss per target\n%s' "$seconds" "$summary" >&2
exit $status
