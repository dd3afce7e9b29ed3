#!/usr/bin/env bash
# bench/rss.sh - benchmark 4 of issue 3: peak resident memory of a full pull
# at about 10k and 300k (or 1M) subscriptions (goal: flat, ratio <= 1.3).
#
# Subscriptions are 25 % of the fake's generated objects, so --generate
# 40000 and 4000000 give 10k and 1M subscriptions; the pull is
# `--only subscriptions` (the resource that grows with the account; the
# other resources go through the same code), no latency, no limits
# (bench/config/nolatency.json).  Peak RSS is /usr/bin/time's "Maximum
# resident set size" (else VmHWM from /proc).  BENCH_RSS_BIG sets the
# large size: default 300000, because 1M takes about 10 minutes on 2 cores
# (BENCH_RSS_BIG=1000000 for the full figure).
#     ratio = peak RSS at the large size / peak RSS at 10k
. "$(dirname "$0")/lib.sh"
SMALL=10000
BIG=${BENCH_RSS_BIG:-300000}
OUT=$BENCH_OUT/rss.txt
: >"$OUT"
have_pull || { result rss "trueup pull not built" "-" "<= 1.3" SKIP; exit 0; }
CFG=$BENCH_TOP/bench/config/nolatency.json

# peak_rss SUBS: full pull of SUBS subscriptions; sets KB, MS, OBJS.
peak_rss() {
	local subs=$1 db=$BENCH_WORK/rss$1.db pid t0 hwm=0 v
	start_fake rss --generate $((subs * 4)) --seed 7 || return 1
	PULL_PORT=$rss_PORT
	"$TRUEUP" --config "$CFG" --db "$db" -q init
	log "full pull of $subs subscriptions"
	t0=$(now_ms)
	if [ -x /usr/bin/time ]; then
		STRIPE_API_KEY=$BENCH_KEY TRUEUP_STRIPE_API_BASE=http://127.0.0.1:$PULL_PORT \
			/usr/bin/time -f '%M' -o "$BENCH_WORK/time.$subs" \
			"$TRUEUP" --config "$CFG" --db "$db" -q pull --only subscriptions \
			>"$BENCH_WORK/pull.out" 2>>"$BENCH_WORK/pull.err"
		PULL_RC=$?
		KB=$(tail -1 "$BENCH_WORK/time.$subs")
	else
		STRIPE_API_KEY=$BENCH_KEY TRUEUP_STRIPE_API_BASE=http://127.0.0.1:$PULL_PORT \
			"$TRUEUP" --config "$CFG" --db "$db" -q pull --only subscriptions \
			>"$BENCH_WORK/pull.out" 2>>"$BENCH_WORK/pull.err" &
		pid=$!
		BENCH_PIDS+=("$pid")
		while kill -0 "$pid" 2>/dev/null; do
			v=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
			[ -n "$v" ] && [ "$v" -gt "$hwm" ] && hwm=$v
			sleep 0.2
		done
		wait "$pid"; PULL_RC=$?
		KB=$hwm
	fi
	MS=$(($(now_ms) - t0))
	stop_pid "$rss_PID"
	[ $PULL_RC -eq 0 ] || { cat "$BENCH_WORK/pull.err" >&2; return 1; }
	OBJS=$(sqlite3 "$db" "SELECT count(*) FROM stripe_subscriptions")
	rm -f "$db" "$db-wal" "$db-shm"
}

peak_rss $SMALL || { result rss "pull failed" "-" "<= 1.3" FAIL; exit 1; }
s_kb=$KB s_ms=$MS s_objs=$OBJS
peak_rss "$BIG" || { result rss "pull failed" "-" "<= 1.3" FAIL; exit 1; }
b_kb=$KB b_ms=$MS b_objs=$OBJS
r=$(ratio "$b_kb" "$s_kb")
{
	echo "$s_objs subscriptions: peak RSS $s_kb KB ($s_ms ms)"
	echo "$b_objs subscriptions: peak RSS $b_kb KB ($b_ms ms)"
	echo "ratio: $r (goal <= 1.3)"
} | tee -a "$OUT"
st=FAIL; awk -v r="$r" 'BEGIN { exit !(r <= 1.3) }' && st=PASS
result rss "$((s_kb / 1024)) MB at $s_objs subs, $((b_kb / 1024)) MB at $b_objs subs" "$r" "<= 1.3" "$st"
