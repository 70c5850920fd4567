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
# The MPI rows run that whole command end to end on demo data (50 offers)
# loaded into a private redis-server: as one process, then under
# mpirun -np 1 and -np 2 (when pacer is built with MPI), each column one
# phase of the run as rank 0 logs it: scores_s (scores read, since the
# start), redis_s (state read), solve_s, folder_s (run folder:
# assignments), report_s (summary and report.html, on a thread while the
# plan is written), plan_s (plan entries and run hash to Redis), total_s;
# rss_MiB is the largest process's peak.
# Prints a table; never fails for being slow.
#   BENCH_SIZES ("2000 20000 200000 1000000")  BENCH_SEED (1)
#   BENCH_BIG (0; 1 adds 4000000 and 10000000: about 1.9 and 4.5 GiB, 1.5
#     and 3.5-4 minutes on the 2-core machine; never in CI)
#   BENCH_TIES ("20000 200000"; "" for none)
#   BENCH_EXACT_MAX (20000)  BENCH_EXACT_LIMIT (1800 seconds per exact solve)
#   BENCH_MPI ("200000"; customers of each end-to-end run, "" for none)
set -eu
cd "$(dirname "$0")/.."
. scripts/deps.sh
pacer_install_deps time
SIZES=${BENCH_SIZES-"2000 20000 200000 1000000"}
[ "${BENCH_BIG:-0}" = 1 ] && SIZES="$SIZES 4000000 10000000"
TIES=${BENCH_TIES-"20000 200000"}
MPI_SIZES=${BENCH_MPI-"200000"}
SEED=${BENCH_SEED:-1}
EXACT_MAX=${BENCH_EXACT_MAX:-20000}
EXACT_LIMIT=${BENCH_EXACT_LIMIT:-1800}
W=$(mktemp -d /tmp/pacer-bench-solver.XXXXXX)
REDIS_PID=
trap '[ -n "$REDIS_PID" ] && kill "$REDIS_PID"; rm -rf "$W"' EXIT INT TERM

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

# The end-to-end runs: pacer optimize as one process and over MPI ranks.
[ -n "$MPI_SIZES" ] || exit 0
cmake --build build-bench -j "$(nproc)" --target pacer >/dev/null
P=build-bench/solver/pacer
MPI=0
grep -q "PACER_WITH_MPI:INTERNAL=ON" build-bench/CMakeCache.txt &&
	command -v mpirun >/dev/null && MPI=1
PORT=$((20000 + $$ % 20000))
redis-server --port "$PORT" --save '' --appendonly no --dir "$W" \
	>"$W/redis.log" 2>&1 &
REDIS_PID=$!
sed -e "s/^port = .*/port = $PORT/" -e 's/^gap = .*/gap = 0.0001/' \
	-e 's/^time_limit_s = .*/time_limit_s = 1800/' conf/pacer.conf >"$W/p.conf"
# Open MPI as root in a container: see tests/integration/test_mpi.py.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# --bind-to none: mpirun binds each rank to one core by default, which
# would put -np 1's solver threads on one core.
MPIRUN="mpirun --oversubscribe --allow-run-as-root --mca btl self,tcp \
--bind-to none"
# e2e N HOW: one pacer optimize run (HOW: one, or the ranks); its row
e2e() {
	n=$1
	how=$2
	log=$W/e2e-$n-$how.log
	redis-cli -p "$PORT" DEL pacer:plan:candidate pacer:plan:live >/dev/null
	cmd="$P optimize -c $W/p.conf --offers $W/d$n/offers.csv \
--scores $W/d$n/scores.csv --out $W/out --now $NOW"
	[ "$how" = one ] || cmd="$MPIRUN -np $how $cmd"
	# shellcheck disable=SC2086
	/usr/bin/time -v $cmd >/dev/null 2>"$log" || true
	since() { sed -n "s/.*$1.* in \([0-9][0-9.]*\)s.*/\1/p" "$log" | head -n 1; }
	sc=$(since "customers, [0-9]* pairs")
	rd=$(since "redis: state of")
	so=$(since "solved: status=")
	fo=$(since "run folder:")
	re=$(since "report: summary.json")
	pl=$(since "plan: ")
	to=$(sed -n 's/.*done in \([0-9.]*\)s.*/\1/p' "$log")
	st=$(sed -n 's/.*solved: status=\([a-z_]*\) objective=\([0-9.]*\) bound=\([0-9.]*\).*/\1 \2 \3/p' "$log")
	# shellcheck disable=SC2086
	printf "$efmt" "$n" "$how" "$(wall "$log")" "$(rss "$log")" \
		"${sc:--}" "${rd:--}" "${so:--}" "${fo:--}" "${re:--}" "${pl:--}" \
		"${to:--}" \
		${st:-- - -}
}
efmt='%-9s %-5s %8s %7s %8s %8s %8s %8s %8s %8s %8s %-11s %16s %16s\n'
echo
printf "$efmt" customers ranks wall_s rss_MiB scores_s redis_s solve_s \
	folder_s report_s plan_s total_s status objective bound
for n in $MPI_SIZES; do
	redis-cli -p "$PORT" FLUSHALL >/dev/null 2>&1 || sleep 1
	redis-cli -p "$PORT" FLUSHALL >/dev/null
	"$P" demo-data --customers "$n" --offers 50 --seed "$SEED" \
		--out "$W/d$n" >/dev/null 2>&1
	"$P" load -c "$W/p.conf" --profiles "$W/d$n/profiles.csv" \
		--contacts "$W/d$n/contacts.csv" >/dev/null 2>&1
	# One time for every run of a size: the same rooms, comparable plans.
	NOW=$(date +%s)
	e2e "$n" one
	if [ "$MPI" = 1 ]; then
		e2e "$n" 1
		e2e "$n" 2
	else
		echo "$n: pacer built without MPI (or no mpirun): no MPI rows" >&2
	fi
	rm -rf "$W/d$n" "$W/out"
done
