#!/usr/bin/env bash
# bench/reconcile_scale.sh - the reconcile benchmark of issue 4: synthetic
# platforms of 10k, 100k and 1M tenants with matching Stripe snapshots and
# 1 % drift (bench/gen_platform.c); wall time, CPU time and peak RSS of
# `trueup reconcile` (every rule), and of `trueup repair` (the plan, no
# --apply) when this trueup has it (`trueup repair --help` exits 0).
#
#     ratio = time(1M) / time(100k)        goal <= 12 (linear: 10)
#     and peak RSS at 1M < 512 MB
#
# time is the wall clock of reconcile (+ repair plan when present); the
# ratio of CPU seconds (user + system) is printed beside it, as it moves
# less when other jobs share the machine.  Each
# size is checked too: the open findings must be exactly the generator's
# expected list (the 1 % drift and G1 for admin grants), else FAIL.
#
# Environment: BENCH_RECONCILE_SIZES (default "10000 100000 1000000"; the
# last two give the ratio), BENCH_RECONCILE_SEED (7).  1M tenants take
# about 4 GB of disk under $TMPDIR and some minutes on 2 cores; each
# database is removed after its size is measured.
. "$(dirname "$0")/lib.sh"
SIZES=(${BENCH_RECONCILE_SIZES:-10000 100000 1000000})
SEED=${BENCH_RECONCILE_SEED:-7}
NOW=2026-05-02T00:00:00Z
CFG=$BENCH_TOP/config/trueup.json
GEN=$BENCH_TOP/$BUILD/bench/gen_platform
OUT=$BENCH_OUT/reconcile_scale.txt
GOAL="<= 12, RSS < 512 MB"
: >"$OUT"

# Build the generator against the library of the current build.
build_gen() {
	local pkgs="sqlite3 libcurl jansson libuv"
	[ -f "$BENCH_TOP/$BUILD/libtrueup.a" ] || { echo "no $BUILD/libtrueup.a: run make" >&2; return 1; }
	mkdir -p "$(dirname "$GEN")"
	(cd "$BENCH_TOP" && ${CC:-cc} -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -Werror -Wshadow \
		-Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral -Wvla \
		-Wpointer-arith -O2 -g $(pkg-config --cflags $pkgs) -Isrc -I"$BUILD" -o "$GEN" \
		bench/gen_platform_main.c bench/gen_platform.c "$BUILD/libtrueup.a" \
		$(pkg-config --libs $pkgs) -lcsv -lm)
}

# timed NAME CMD...: run CMD under /usr/bin/time; sets T_WALL (s), T_CPU (s), T_KB.
timed() {
	local name=$1 f=$BENCH_WORK/time.$1; shift
	TRUEUP_NOW=$NOW /usr/bin/time -f '%e %U %S %M' -o "$f" "$@" \
		>"$BENCH_WORK/$name.out" 2>"$BENCH_WORK/$name.err"
	local rc=$?
	read -r T_WALL u s T_KB <"$f"
	T_CPU=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
	return $rc
}

have_repair() { "$TRUEUP" repair --help >/dev/null 2>&1; }

# measure N: generate, reconcile (and plan repairs), check; sets the W_/C_/K_ figures.
measure() {
	local n=$1 db=$BENCH_WORK/platform$1.db exp=$BENCH_WORK/expected$1.tsv
	rm -f "$db" "$db-wal" "$db-shm"
	"$TRUEUP" --config "$CFG" --db "$db" -q init >/dev/null || return 1
	log "generating $n tenants (1 % drift, seed $SEED)"
	"$GEN" --db "$db" --tenants "$n" --drift 0.01 --seed "$SEED" --now "$NOW" \
		--expected "$exp" >"$BENCH_WORK/gen.out" || return 1
	GEN_LINE=$(cat "$BENCH_WORK/gen.out")
	DB_MB=$(( $(stat -c %s "$db") / 1048576 ))
	log "reconcile of $n tenants"
	timed reconcile "$TRUEUP" --config "$CFG" --db "$db" -q reconcile ||
		{ cat "$BENCH_WORK/reconcile.err" >&2; return 1; }
	W_REC=$T_WALL C_REC=$T_CPU K_REC=$T_KB
	W_REP=0 C_REP=0 K_REP=0
	if have_repair; then
		log "repair plan of $n tenants"
		timed repair "$TRUEUP" --config "$CFG" --db "$db" -q repair ||
			{ cat "$BENCH_WORK/repair.err" >&2; return 1; }
		W_REP=$T_WALL C_REP=$T_CPU K_REP=$T_KB
	fi
	sqlite3 "$db" "SELECT rule || char(9) || subject FROM findings WHERE status = 'open'
		ORDER BY rule, subject" >"$BENCH_WORK/got.tsv"
	cut -f1,2 "$exp" >"$BENCH_WORK/want.tsv"
	if cmp -s "$BENCH_WORK/got.tsv" "$BENCH_WORK/want.tsv"; then
		EXACT=yes
	else
		EXACT=no
		diff "$BENCH_WORK/want.tsv" "$BENCH_WORK/got.tsv" | head -5 >&2
	fi
	FOUND=$(wc -l <"$BENCH_WORK/got.tsv")
	rm -f "$db" "$db-wal" "$db-shm"
}

[ -x /usr/bin/time ] || { result reconcile_scale "/usr/bin/time missing" - "$GOAL" SKIP; exit 0; }
build_gen || { result reconcile_scale "generator did not build" - "$GOAL" FAIL; exit 1; }
REPAIR=no; have_repair && REPAIR=yes
{
	echo "reconcile (every rule) on generated platforms, 1 % drift, seed $SEED, at $NOW"
	echo "repair plan included: $REPAIR"
	printf '%9s %8s %10s %10s %9s %10s %10s %9s %8s %6s\n' tenants db_MB rec_wall_s rec_cpu_s \
		rec_MB rep_wall_s rep_cpu_s rep_MB findings exact
} | tee -a "$OUT"
st=PASS
declare -A WALL CPU KB
for n in "${SIZES[@]}"; do
	measure "$n" || { result reconcile_scale "failed at $n tenants" - "$GOAL" FAIL; exit 1; }
	echo "  $GEN_LINE" >>"$OUT"
	printf '%9s %8s %10s %10s %9s %10s %10s %9s %8s %6s\n' "$n" "$DB_MB" "$W_REC" "$C_REC" \
		$((K_REC / 1024)) "$W_REP" "$C_REP" $((K_REP / 1024)) "$FOUND" "$EXACT" | tee -a "$OUT"
	[ "$EXACT" = yes ] || st=FAIL
	WALL[$n]=$(awk -v a="$W_REC" -v b="$W_REP" 'BEGIN { printf "%.2f", a + b }')
	CPU[$n]=$(awk -v a="$C_REC" -v b="$C_REP" 'BEGIN { printf "%.2f", a + b }')
	KB[$n]=$((K_REC > K_REP ? K_REC : K_REP))
done
k=${#SIZES[@]}
big=${SIZES[$((k - 1))]} mid=${SIZES[$((k > 1 ? k - 2 : 0))]}
r=$(ratio "${WALL[$big]}" "${WALL[$mid]}")
rc=$(ratio "${CPU[$big]}" "${CPU[$mid]}")
mb=$((KB[$big] / 1024))
{
	echo "time($big) / time($mid) = ${WALL[$big]} s / ${WALL[$mid]} s = $r (goal <= $((big / mid * 12 / 10)))"
	echo "CPU time($big) / CPU time($mid) = ${CPU[$big]} s / ${CPU[$mid]} s = $rc"
	echo "peak RSS at $big tenants: $mb MB (goal < 512 MB)"
} | tee -a "$OUT"
awk -v r="$r" -v lim="$((big / mid * 12 / 10))" 'BEGIN { exit !(r <= lim) }' || st=FAIL
[ "$mb" -lt 512 ] || st=FAIL
result reconcile_scale "$(for n in "${SIZES[@]}"; do printf '%s: %ss ' "$n" "${WALL[$n]}"; done)(CPU ratio $rc) peak $mb MB" \
	"$r" "$GOAL" "$st"
[ "$st" = PASS ]
