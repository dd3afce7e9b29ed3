# bench/lib.sh - helpers shared by the benchmark scripts (sourced, not run).
#
# Every benchmark starts its own fake Stripe on port 0, remembers the pid of
# each process it starts in BENCH_PIDS and kills exactly those (by pid) on
# exit, so an interrupted benchmark leaves nothing running.  Results go to
# bench/out/ (git-ignored): one NAME.txt per benchmark (human readable) and
# one NAME.result line for the summary table of bench/run.sh:
#   NAME<TAB>FIGURES<TAB>RATIO<TAB>GOAL<TAB>PASS|FAIL|SKIP
#
# Environment (all optional):
#   BUILD       build directory (default build/default)
#   TRUEUP      trueup binary (default ./trueup)
#   FAKESTRIPE  fake Stripe binary (default $BUILD/fakestripe)
#   BENCH_OUT   output directory (default bench/out)

set -u
BENCH_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-build/default}
TRUEUP=${TRUEUP:-$BENCH_TOP/trueup}
FAKESTRIPE=${FAKESTRIPE:-$BENCH_TOP/$BUILD/fakestripe}
case "$TRUEUP" in /*) ;; *) TRUEUP=$BENCH_TOP/$TRUEUP ;; esac
case "$FAKESTRIPE" in /*) ;; *) FAKESTRIPE=$BENCH_TOP/$FAKESTRIPE ;; esac
BENCH_OUT=${BENCH_OUT:-$BENCH_TOP/bench/out}
BENCH_KEY=sk_test_benchmarkkey$$
BENCH_PIDS=()
mkdir -p "$BENCH_OUT"

bench_cleanup() {
	local p
	for p in "${BENCH_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${BENCH_PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	BENCH_PIDS=()
}
trap bench_cleanup EXIT
trap 'bench_cleanup; exit 130' INT TERM

log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# start_fake NAME ARGS...: start a fake on port 0; sets ${NAME}_PORT, ${NAME}_PID.
start_fake() {
	local name=$1 i port=""; shift
	FAKESTRIPE_KEY=$BENCH_KEY "$FAKESTRIPE" --port 0 "$@" \
		>"$BENCH_WORK/$name.out" 2>"$BENCH_WORK/$name.err" &
	local pid=$!
	BENCH_PIDS+=("$pid")
	# up to 2 minutes: --prerender renders every object before it listens
	for i in $(seq 1 2400); do
		port=$(sed -n '1s/^listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' \
			"$BENCH_WORK/$name.out")
		[ -n "$port" ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	if [ -z "$port" ]; then
		echo "fake stripe did not start: $(cat "$BENCH_WORK/$name.err")" >&2
		return 1
	fi
	printf -v "${name}_PORT" '%s' "$port"
	printf -v "${name}_PID" '%s' "$pid"
}

# stop_pid PID: terminate one process we started and forget it.
stop_pid() {
	local p=$1 keep=() q
	kill -TERM "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	for q in "${BENCH_PIDS[@]}"; do [ "$q" = "$p" ] || keep+=("$q"); done
	BENCH_PIDS=("${keep[@]}")
}

# fake_get PORT PATH: GET a control URL of the fake (stdout).
fake_get() { curl -sS "http://127.0.0.1:$1$2"; }
# fake_post PORT PATH JSON
fake_post() { curl -sS -H 'Content-Type: application/json' --data "$3" "http://127.0.0.1:$1$2"; }

# v1_requests STATS_JSON: requests to the Stripe API (/v1/...), control requests left out.
v1_requests() { jq '[.by_path | to_entries[] | select(.key | test(" /v1/")) | .value] | add // 0' <<<"$1"; }

# now_ms: wall clock in milliseconds.
now_ms() { date +%s%3N; }

# run_pull DB CONFIG ARGS...: time one `trueup pull` against the fake at
# $PULL_PORT; sets PULL_MS and PULL_RC; stderr to $BENCH_WORK/pull.err.
run_pull() {
	local db=$1 cfg=$2; shift 2
	local t0 t1
	t0=$(now_ms)
	STRIPE_API_KEY=$BENCH_KEY TRUEUP_STRIPE_API_BASE=http://127.0.0.1:$PULL_PORT \
		"$TRUEUP" --config "$cfg" --db "$db" -q pull "$@" \
		>"$BENCH_WORK/pull.out" 2>>"$BENCH_WORK/pull.err"
	PULL_RC=$?
	t1=$(now_ms)
	PULL_MS=$((t1 - t0))
}

# snapshot_objects DB: top-level objects in the snapshot (all resources).
snapshot_objects() {
	sqlite3 "$1" "SELECT (SELECT count(*) FROM stripe_customers) +
		(SELECT count(*) FROM stripe_products) + (SELECT count(*) FROM stripe_prices) +
		(SELECT count(*) FROM stripe_subscriptions) +
		(SELECT count(*) FROM stripe_checkout_sessions) +
		(SELECT count(*) FROM stripe_invoices) + (SELECT count(*) FROM stripe_refunds)"
}

# have_pull: does this trueup have the pull command?
have_pull() { "$TRUEUP" pull --help >/dev/null 2>&1; }

# result NAME FIGURES RATIO GOAL STATUS: record the summary line.
result() {
	printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" >"$BENCH_OUT/$1.result"
	printf '%-15s %s  ratio %s  (goal %s)  %s\n' "$1" "$2" "$3" "$4" "$5"
}

# ratio A B [DIGITS]: A / B as a decimal.
ratio() { awk -v a="$1" -v b="$2" -v d="${3:-2}" 'BEGIN { if (b == 0) print "inf"; else printf "%.*f\n", d, a / b }'; }
# ge A B: is A >= B (decimals)?
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 < b + 0) }'; }

BENCH_WORK=$(mktemp -d "${TMPDIR:-/tmp}/trueup-bench.XXXXXX")
trap 'bench_cleanup; rm -rf "$BENCH_WORK"' EXIT
