#!/usr/bin/env bash
# bench/parse_commit.sh - the parse + commit micro-benchmark (TASK A of the
# pull's performance work): saves pages of the fake once (bench/out/pages,
# --generate 100000, 2026 shape, up to 200 pages of 100 per resource),
# builds bench/parse_commit.c and runs it three times; the figure is the
# median of the insert pass in objects per CPU second.  No ratio goal: it
# tracks the cost of stripe_rows.c + db_snapshot.c per object.
. "$(dirname "$0")/lib.sh"
OUT=$BENCH_OUT/parse_commit.txt
PAGES=$BENCH_OUT/pages
[ -d "$PAGES/subscriptions" ] || bash "$BENCH_TOP/bench/save_pages.sh" "$PAGES" 100000 200 2026
bash "$BENCH_TOP/bench/build_parse_commit.sh" || exit 1
: >"$OUT"
for i in 1 2 3; do
	"$BENCH_TOP/$BUILD/bench/parse_commit" "$PAGES" | tee -a "$OUT" | tail -1
done
med=$(grep '^TOTAL' "$OUT" | sed 's/.*insert_objs_per_s=\([0-9]*\).*/\1/' | sort -n | sed -n 2p)
umed=$(grep '^TOTAL' "$OUT" | sed 's/.*unchanged_objs_per_s=\([0-9]*\).*/\1/' | sort -n | sed -n 2p)
result parse_commit "insert $med objs/CPU-s, unchanged $umed objs/CPU-s (median of 3)" "-" "-" INFO
