#!/bin/sh
# Optimizer benchmark (shared/BENCH.md section 2), on the solver library
# alone: bench_solver generates a demo-data-shaped instance (50 offers,
# about half the pairs eligible, skewed propensities, budgets that bind) in
# memory and solves it with gap 0.0001. For N <= 20,000 the same instance is
# also solved as one monolithic GLPK MIP for the comparison: bench_solver -m
# glpk, glp_intopt with presolve on and mip_gap 0 (not the library's exact
# mode, which solves the LP first and branches with presolve off).
# Prints a table; never fails for being slow.
#   BENCH_SIZES ("2000 20000 200000 1000000")  BENCH_SEED (1)
#   BENCH_EXACT_MAX (20000)  BENCH_EXACT_LIMIT (1800 seconds per exact solve)
set -eu
cd "$(dirname "$0")/.."
. scripts/deps.sh
pacer_install_deps time
SIZES=${BENCH_SIZES:-"2000 20000 200000 1000000"}
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

printf '%-9s %-10s %8s %8s %7s %16s %16s %9s %-11s %9s %16s %-10s %8s\n' \
	customers pairs wall_s solve_s rss_MiB objective bound gap status \
	exact_s exact_objective exact_st speedup
for n in $SIZES; do
	run scale-$n -n "$n" -s "$SEED" -g 0.0001
	o=$W/scale-$n.out
	if [ ! -s "$o" ]; then
		echo "$n: bench_solver failed: $(tail -n 3 "$W/scale-$n.time")" >&2
		continue
	fi
	ex_s=- ex_obj=- ex_st=- ratio=-
	if [ "$n" -le "$EXACT_MAX" ]; then
		run exact-$n -n "$n" -s "$SEED" -m glpk -g 0 -T "$EXACT_LIMIT"
		e=$W/exact-$n.out
		if [ -s "$e" ]; then
			ex_s=$(field "$e" seconds)
			ex_obj=$(field "$e" objective)
			ex_st=$(field "$e" status)
			ratio=$(awk -v a="$ex_s" -v b="$(field "$o" seconds)" \
				'BEGIN { printf "%.0fx", a / (b > 0 ? b : 1e-9) }')
		fi
	fi
	printf '%-9s %-10s %8s %8s %7s %16s %16s %9s %-11s %9s %16s %-10s %8s\n' \
		"$n" "$(field "$o" pairs)" "$(wall "$W/scale-$n.time")" \
		"$(field "$o" seconds)" "$(rss "$W/scale-$n.time")" \
		"$(field "$o" objective)" "$(field "$o" bound)" \
		"$(field "$o" gap)" "$(field "$o" status)" \
		"$ex_s" "$ex_obj" "$ex_st" "$ratio"
	if [ "$ex_obj" != - ]; then
		awk -v a="$(field "$o" objective)" -v b="$ex_obj" 'BEGIN {
			printf "          scale vs exact: %.6f%% below\n",
			    (b > 0 ? (b - a) / b * 100 : 0) }'
	fi
	[ "$(field "$o" feasible)" = 1 ] ||
		echo "$n: WARNING: plan failed the feasibility check" >&2
done
