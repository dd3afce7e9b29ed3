#!/usr/bin/env bash
# bench/pull_vs_node.sh - benchmark 1 of issue 3: trueup pull against the
# script a user would otherwise write (bench/node-baseline/pull.js: the
# `stripe` npm package's auto-pagination into better-sqlite3), on the same
# fake Stripe with the same data, in the same run, no latency.
#
# Fake: --generate $N (default 200000) --seed 7, 2026 shape, no rate limits.
# trueup: bench/config/nolatency.json (client-side rate limit raised to
# 10000/s: the fake enforces none and the Node script has none either).
# Ratio = trueup objects/s / Node objects/s (goal >= 2).  Objects are the
# top-level objects of the seven resources (200k); trueup also fetches the
# line items of sessions with more than 10 and the events cursor, which
# the baseline does not; their requests cost trueup time and are not
# counted as objects.
# Also reports the fake's own CPU time per run: the fake is single
# threaded and shares the 2 cores, so it caps what any client can reach.
# BENCH_PRERENDER=1 starts both fakes with --prerender: every object is
# serialised once before the fake listens, so serving a page is copying
# bytes (Stripe's own CPU is not on the client's machine; by default the
# fake spends 4.7-5.6 CPU-s of the two cores serving either client).  The
# default (0) renders every page per request, the figure in the README.
. "$(dirname "$0")/lib.sh"
N=${BENCH_N:-200000}
OUT=$BENCH_OUT/pull_vs_node.txt
: >"$OUT"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	result pull_vs_node "node/npm missing" "-" ">= 2" SKIP; exit 0
fi
( cd "$BENCH_TOP/bench/node-baseline" && npm ci --no-audit --no-fund --loglevel=error ) \
	>"$BENCH_WORK/npm.log" 2>&1 || { cat "$BENCH_WORK/npm.log" >&2
	result pull_vs_node "npm ci failed" "-" ">= 2" SKIP; exit 0; }

FAKE_EXTRA=()
[ "${BENCH_PRERENDER:-0}" = 1 ] && FAKE_EXTRA=(--prerender)

fake_cpu() { awk '{ printf "%.2f\n", ($14 + $15) / 100 }' "/proc/$1/stat"; }

# Each client starts with no dirty pages left from what ran before (npm,
# the other client's database): the kernel's writeback of them would
# otherwise run on the shared cores during the timed run.
sync

# Node baseline
start_fake node --generate "$N" --seed 7 "${FAKE_EXTRA[@]}" || exit 1
log "node baseline: $N objects"
c0=$(fake_cpu "$node_PID")
STRIPE_API_KEY=$BENCH_KEY timeout 600 node "$BENCH_TOP/bench/node-baseline/pull.js" \
	"$node_PORT" "$BENCH_WORK/node.db" >"$BENCH_WORK/node.json" 2>"$BENCH_WORK/node.err"
nrc=$?
node_fake_cpu=$(awk -v a="$c0" -v b="$(fake_cpu "$node_PID")" 'BEGIN { printf "%.2f", b - a }')
node_reqs=$(v1_requests "$(fake_get "$node_PORT" /_fake/stats)")
stop_pid "$node_PID"
if [ $nrc -ne 0 ]; then
	cat "$BENCH_WORK/node.err" >&2
	result pull_vs_node "node baseline failed" "-" ">= 2" FAIL; exit 1
fi
node_objs=$(jq .objects "$BENCH_WORK/node.json")
node_ms=$(jq .ms "$BENCH_WORK/node.json")
node_rate=$(jq .objs_per_s "$BENCH_WORK/node.json")

if ! have_pull; then
	echo "node: $node_objs objects in $node_ms ms = $node_rate/s" | tee -a "$OUT"
	result pull_vs_node "node $node_rate/s, trueup pull not built" "-" ">= 2" SKIP; exit 0
fi

# trueup
sync
start_fake tu --generate "$N" --seed 7 "${FAKE_EXTRA[@]}" || exit 1
PULL_PORT=$tu_PORT
"$TRUEUP" --config "$BENCH_TOP/bench/config/nolatency.json" --db "$BENCH_WORK/t.db" -q init
log "trueup pull: $N objects"
c0=$(fake_cpu "$tu_PID")
run_pull "$BENCH_WORK/t.db" "$BENCH_TOP/bench/config/nolatency.json"
tu_fake_cpu=$(awk -v a="$c0" -v b="$(fake_cpu "$tu_PID")" 'BEGIN { printf "%.2f", b - a }')
tu_reqs=$(v1_requests "$(fake_get "$tu_PORT" /_fake/stats)")
stop_pid "$tu_PID"
if [ $PULL_RC -ne 0 ]; then
	cat "$BENCH_WORK/pull.err" >&2
	result pull_vs_node "trueup pull failed (exit $PULL_RC)" "-" ">= 2" FAIL; exit 1
fi
tu_objs=$(snapshot_objects "$BENCH_WORK/t.db")
tu_rate=$(awk -v n="$tu_objs" -v ms="$PULL_MS" 'BEGIN { printf "%.0f", n / (ms / 1000) }')
r=$(ratio "$tu_rate" "$node_rate")
{
	echo "objects: node $node_objs, trueup $tu_objs (fake --generate $N --seed 7 ${FAKE_EXTRA[*]})"
	echo "node:   $node_ms ms, $node_rate objects/s, $node_reqs requests, fake cpu ${node_fake_cpu}s"
	echo "trueup: $PULL_MS ms, $tu_rate objects/s, $tu_reqs requests, fake cpu ${tu_fake_cpu}s"
	echo "ratio trueup/node: $r (goal >= 2)"
	cat "$BENCH_WORK/pull.out"
} | tee -a "$OUT"
st=FAIL; ge "$r" 2 && st=PASS
[ "$tu_objs" = "$node_objs" ] || st=FAIL
result pull_vs_node "trueup $tu_rate/s vs node $node_rate/s" "$r" ">= 2" "$st"
