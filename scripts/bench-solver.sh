#!/bin/sh
# Optimizer benchmark (shared/BENCH.md section 2), on the solver library
# alone: bench_solver generates a demo-data-shaped instance (50 offers,
# about half the pairs eligible, skewed propensities, budgets that bind) in
# memory and solves it with gap 0.0001. For N <= 20,000 the same instance is
# also solved as one monolithic GLPK MIP for the comparison: bench_solver -m
# glpk, glp_intopt with presolve on and mip_gap 0 (not the library's exact
# mode, which solves the LP first and branches with presolve off).
# The ties rows solve the ties-heavy instance (bench_solver -t: most
# propensities from four values, offer values from three, one offer per
# customer, every budget and capacity binding), with the same GLPK
# comparison for N <= BENCH_EXACT_MAX; fb=1 says scale mode stalled above
# the gap and the library's exact fallback (instances up to 1M pairs) ran.
#
# Where the wall time goes, per row: build_s (generating the instance in
# memory; it stands for reading scores.csv), solve_s, check_s (feasibility
# check and objective recount) and free_s; wall_s is the whole process
# under /usr/bin/time, rss_MiB its peak. The Redis read of the customers'
# state and the plan write are not in bench_solver (the solver library has
# no Redis): `pacer optimize` logs those phases itself, as
#   "<scores.csv>: N customers, P pairs in Xs" (since start),
#   "redis: state of N customers read in Xs",
#   "solved: status=... in Xs",
#   "plan: ... written to redis in Xs (R assignments/s)" and "done in Xs".
# Prints a table; never fails for being slow.
#   BENCH_SIZES ("2000 20000 200000 1000000")  BENCH_SEED (1)
#   BENCH_BIG (0; 1 adds 4000000 and 10000000: about 1.9 and 4.5 GiB, 1.5
#     and 3.5-4 minutes on the 2-core machine; never in CI)
#   BENCH_TIES ("20000 200000"; "" for none)
#   BENCH_EXACT_MAX (20000)  BENCH_EXACT_LIMIT (1800 seconds per exact solve)
set -eu
cd "$(dirname "$0")/.."
. scripts/deps.sh
pacer_install_deps time
SIZES=${BENCH_SIZES-"2000 20000 200000 1000000"}
[ "${BENCH_BIG:-0}" = 1 ] && SIZES="$SIZES 4000000 10000000"
TIES=${BENCH_TIES-"20000 200000"}
SEED=${BENCH_SEED:-1}
EXACT_MAX=${BENCH_EXACT_MAX:-20000}
EXACT_LIMIT=${BENCH_EXACT_LIMIT:-1800}
W=$(mktemp -d /tmp/pacer-bench-solver.XXXXXX)
trap 'rm -rf "$W"' EXIT INT TERM

echo "== build (-O2 -DNDEBUG)" >&2
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DPACER_BENCH=ON \
	-DCMAKE_C_FLAGS_RELEASE="-O2 -DNDEBUG" >/dev/null
cmake --build build-bench -j "$(nproc)" --target bench_solver >/dev/null
B=build-bench/solver/opt_bench/bench_solver

# run NAME ARGS...: one solve under /usr/bin/time; leaves $W/NAME.out/.time
run() {
	name=$1
	shift
	/usr/bin/time -v "$B" "$@" >"$W/$name.out" 2>"$W/$name.time" || true
}
# field FILE KEY: a key=value field of bench_solver's result line
field() { tr ' ' '\n' <"$1" | sed -n "s/^$2=//p" | head -n 1; }
wall() {
	sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$1" |
		awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.2f", s }'
}
rss() {
	sed -n 's/.*Maximum resident set size (kbytes): //p' "$1" |
		awk '{ printf "%.0f", $1 / 1024 }'
}

fmt='%-8s %-9s %-10s %8s %8s %7s %16s %16s %9s %-11s %2s %7s %7s %6s %9s %16s %-10s %8s\n'
# row KIND N [FLAGS...]: solve instance KIND (demo or ties) of N customers
# in scale mode, and exactly with GLPK when N <= EXACT_MAX; print its row
row() {
	kind=$1
	n=$2
	shift 2
	run $kind-$n -n "$n" -s "$SEED" -g 0.0001 "$@"
	o=$W/$kind-$n.out
	if [ ! -s "$o" ]; then
		echo "$kind $n: bench_solver failed: $(tail -n 3 "$W/$kind-$n.time")" >&2
		return 0
	fi
	ex_s=- ex_obj=- ex_st=- ratio=-
	if [ "$n" -le "$EXACT_MAX" ]; then
		run exact-$kind-$n -n "$n" -s "$SEED" -m glpk -g 0 \
			-T "$EXACT_LIMIT" "$@"
		e=$W/exact-$kind-$n.out
		if [ -s "$e" ]; then
			ex_s=$(field "$e" seconds)
			ex_obj=$(field "$e" objective)
			ex_st=$(field "$e" status)
			ratio=$(awk -v a="$ex_s" -v b="$(field "$o" seconds)" \
				'BEGIN { printf "%.0fx", a / (b > 0 ? b : 1e-9) }')
		fi
	fi
	printf "$fmt" "$kind" "$n" "$(field "$o" pairs)" \
		"$(wall "$W/$kind-$n.time")" "$(field "$o" solve_s)" \
		"$(rss "$W/$kind-$n.time")" \
		"$(field "$o" objective)" "$(field "$o" bound)" \
		"$(field "$o" gap)" "$(field "$o" status)" "$(field "$o" fallback)" \
		"$(field "$o" build_s)" "$(field "$o" check_s)" \
		"$(field "$o" free_s)" "$ex_s" "$ex_obj" "$ex_st" "$ratio"
	if [ "$ex_obj" != - ]; then
		awk -v a="$(field "$o" objective)" -v b="$ex_obj" 'BEGIN {
			printf "                   scale vs exact: %.6f%% below\n",
			    (b > 0 ? (b - a) / b * 100 : 0) }'
	fi
	[ "$(field "$o" feasible)" = 1 ] ||
		echo "$kind $n: WARNING: plan failed the feasibility check" >&2
}

printf "$fmt" instance customers pairs wall_s solve_s rss_MiB objective \
	bound gap status fb build_s check_s free_s exact_s exact_objective \
	exact_st speedup
for n in $SIZES; do
	row demo "$n"
done
for n in $TIES; do
	row ties "$n" -t
done
