#!/usr/bin/env bash
# bench/incremental.sh - benchmark 3 of issue 3: requests of an incremental
# pull after 1 % of the objects changed, divided by the requests of the full
# pull that preceded it (both counted by the fake's /_fake/stats).
#
# Fake --generate $N (default 100000), no latency, no limits; full pull;
# POST /_fake/mutate {"fraction":0.01} (changes, cancellations, additions,
# deletions, each with its events); `trueup pull` again (incremental: the
# last full relist is recent).  Goal: ratio < 0.05.  The ratio also shows
# the incremental pull costs requests in proportion to the change: with
# 100 objects a page, 1 % changed objects re-fetched one by one would be
# about 1 request per changed object against 1 per 100 objects for the
# full relist, i.e. about 1 %/1 % = 1; events pages and batched re-fetches
# bring it far lower.
. "$(dirname "$0")/lib.sh"
N=${BENCH_N:-100000}
OUT=$BENCH_OUT/incremental.txt
: >"$OUT"
have_pull || { result incremental "trueup pull not built" "-" "< 0.05" SKIP; exit 0; }

start_fake inc --generate "$N" --seed 7 || exit 1
PULL_PORT=$inc_PORT
CFG=$BENCH_TOP/bench/config/nolatency.json
"$TRUEUP" --config "$CFG" --db "$BENCH_WORK/t.db" -q init
log "full pull: $N objects"
run_pull "$BENCH_WORK/t.db" "$CFG"
[ $PULL_RC -eq 0 ] || { cat "$BENCH_WORK/pull.err" >&2
	result incremental "full pull failed (exit $PULL_RC)" "-" "< 0.05" FAIL; exit 1; }
full_ms=$PULL_MS
full=$(v1_requests "$(fake_get "$inc_PORT" /_fake/stats)")
cp "$BENCH_WORK/pull.out" "$BENCH_WORK/full.out"
fake_post "$inc_PORT" /_fake/stats/reset '{}' >/dev/null
mut=$(fake_post "$inc_PORT" /_fake/mutate '{"fraction":0.01,"seed":11}' | jq .count)
log "mutated $mut objects; incremental pull"
run_pull "$BENCH_WORK/t.db" "$CFG"
[ $PULL_RC -eq 0 ] || { cat "$BENCH_WORK/pull.err" >&2
	result incremental "incremental pull failed (exit $PULL_RC)" "-" "< 0.05" FAIL; exit 1; }
stats=$(fake_get "$inc_PORT" /_fake/stats)
incr=$(v1_requests "$stats")
byp=$(jq -c '.by_path | with_entries(select(.key | test(" /v1/")))' <<<"$stats")
stop_pid "$inc_PID"
r=$(ratio "$incr" "$full" 4)
{
	echo "full pull: $full requests, $full_ms ms"
	echo "mutations: $mut (1 % of $N objects)"
	echo "incremental pull: $incr requests, $PULL_MS ms: $byp"
	echo "ratio incremental/full: $r (goal < 0.05)"
	echo "--- full"; cat "$BENCH_WORK/full.out"
	echo "--- incremental"; cat "$BENCH_WORK/pull.out"
} | tee -a "$OUT"
st=FAIL; lt "$r" 0.05 && st=PASS
result incremental "$incr of $full requests ($mut changed)" "$r" "< 0.05" "$st"
