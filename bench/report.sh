#!/usr/bin/env bash
# bench/report.sh - issue 5's benchmark: `trueup report` writing
# enrolments.csv and revenue.csv from 1M enrolments and 1M invoice rows,
# against the sqlite3 shell exporting the same query (`.mode csv`) from the
# same database, in one run.
#
# The database is generated straight into SQLite (no import, no pull):
# 1M enrolments (with students and programs), 100k Stripe subscriptions
# and 1M paid invoices of them with one line each, plus a finished pull
# row.  The sqlite3 side gets the same context trueup builds (the report
# parameters row, the catalogue TEMP tables, src/rules/_link.sql and the
# report preludes) and the same query text, the SQL functions coming from
# bench/report_ext.c, the same C code as a loadable extension; each side's
# time includes its context.  Each report is run BENCH_REPORT_RUNS times
# (default 5), trueup and sqlite3 alternating, on the same database; the
# figures are the medians (with the fastest and slowest run): rows per
# second (enrolments: rows written; revenue: invoice rows read, as its
# output is a few summary rows), and the ratio of sqlite3's median time to
# trueup's (goal >= 1.0: trueup at least as fast).  BENCH_REPORT_N sets the
# size (default 1000000).
. "$(dirname "$0")/lib.sh"
N=${BENCH_REPORT_N:-1000000}
RUNS=${BENCH_REPORT_RUNS:-5}
SUBS=$((N / 10))
BENCH_WORK=$(mktemp -d "${TMPDIR:-/tmp}/trueup-bench-report.XXXXXX")
trap 'bench_cleanup; [ -n "${BENCH_KEEP:-}" ] || rm -rf "$BENCH_WORK"' EXIT
OUT=$BENCH_OUT/report.txt
: >"$OUT"
DB=$BENCH_WORK/report.db
EXT=$BENCH_WORK/report_ext.so
CFG=$BENCH_TOP/config/trueup.json
export TRUEUP_NOW=2026-05-02T00:00:00Z

"$TRUEUP" report --help >/dev/null 2>&1 || { result report "trueup report not built" - ">= 1.0" SKIP; exit 0; }
cc -O2 -shared -fPIC -std=c11 -D_DEFAULT_SOURCE -I"$BENCH_TOP/src" -o "$EXT" \
	"$BENCH_TOP/bench/report_ext.c" "$BENCH_TOP/src/db_report_fn.c" \
	"$BENCH_TOP/src/report_money.c" "$BENCH_TOP/src/tz.c" "$BENCH_TOP/src/err.c" -lsqlite3 \
	|| { result report "cannot build the extension" - ">= 1.0" SKIP; exit 0; }

log "generating $N enrolments, $SUBS subscriptions, $N invoices"
"$TRUEUP" --config "$CFG" --db "$DB" -q init
sqlite3 "$DB" <<SQL
PRAGMA journal_mode = WAL;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20)
INSERT INTO course_programs SELECT 'cp_' || i, 'P' || i, 'Program ' || i FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100)
INSERT INTO course_steps SELECT 'st_' || i, 'cp_' || (1 + i % 20), i / 20, 'S-' || i, 'Step ' || i FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $N / 4)
INSERT INTO users SELECT 'u_' || i, 'student' || i || '@example.test', 'Student ' || i, 'attendee',
  '2025-01-01T00:00:00Z' FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $N)
INSERT INTO enrolments SELECT printf('en_%07d', i), 'u_' || (1 + i % ($N / 4)), 'cp_' || (1 + i % 20),
  'cs_test_bench' || i, CASE i % 10 WHEN 0 THEN 'refunded' WHEN 1 THEN 'revoked' ELSE 'active' END,
  strftime('%Y-%m-%dT%H:%M:%SZ', 1704067200 + i * 60, 'unixepoch') FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $SUBS)
INSERT INTO stripe_subscriptions (id, created, customer, status, currency, tenant_id, raw_json, pulled_at)
SELECT printf('sub_b%07d', i), 1704067200 + i, printf('cus_b%07d', i), 'active',
  CASE i % 4 WHEN 0 THEN 'eur' WHEN 1 THEN 'jpy' WHEN 2 THEN 'bhd' ELSE 'usd' END, NULL, '{}',
  '2026-05-01T00:00:00Z' FROM n;
INSERT INTO stripe_subscription_items (subscription_id, id, created, quantity, price_id, lookup_key,
  currency, raw_json, pulled_at)
SELECT id, 'si_' || substr(id, 5), created, 1, 'price_bench', CASE rowid % 3 WHEN 0 THEN 'lms_monthly'
  WHEN 1 THEN 'organizer_monthly' ELSE 'organization_monthly' END, currency, '{}', pulled_at
FROM stripe_subscriptions;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $N)
INSERT INTO stripe_invoices (id, created, customer, subscription, status, paid, currency, amount_due,
  amount_paid, total, paid_at, raw_json, pulled_at)
SELECT printf('in_b%08d', i), 1704067200 + i * 60, printf('cus_b%07d', 1 + i % $SUBS),
  printf('sub_b%07d', 1 + i % $SUBS), 'paid', 1,
  CASE (1 + i % $SUBS) % 4 WHEN 0 THEN 'eur' WHEN 1 THEN 'jpy' WHEN 2 THEN 'bhd' ELSE 'usd' END,
  1000 + i % 9000, 1000 + i % 9000, 1000 + i % 9000, 1704067200 + i * 60 + 30, '{}',
  '2026-05-01T00:00:00Z' FROM n;
INSERT INTO stripe_invoice_lines (invoice_id, id, amount, currency, quantity, price_id, subscription,
  raw_json, pulled_at)
SELECT id, 'il_' || substr(id, 4), amount_paid, currency, 1, 'price_bench', subscription, '{}', pulled_at
FROM stripe_invoices;
INSERT INTO stripe_pull_runs (mode, started_at, finished_at, status)
VALUES ('full', '2026-05-01T00:00:00Z', '2026-05-01T00:10:00Z', 'ok');
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
SQL
# warm the page cache for both sides alike
cat "$DB" >/dev/null

# The sqlite3 side's context: what db_report_begin and the preludes make.
{
	echo ".load $EXT sqlite3_reportext_init"
	echo "CREATE TEMP TABLE report_params (now INTEGER NOT NULL, now_utc TEXT NOT NULL, run_date TEXT NOT NULL, timezone TEXT NOT NULL, period TEXT NOT NULL, from_epoch INTEGER, to_epoch INTEGER, from_utc TEXT, to_utc TEXT);"
	echo "INSERT INTO temp.report_params VALUES (1777680000, '2026-05-02T00:00:00Z', '2026-05-02', 'UTC', 'month', NULL, NULL, NULL, NULL);"
	echo "CREATE TEMP TABLE catalogue_plans (plan TEXT PRIMARY KEY, role TEXT, free INTEGER NOT NULL);"
	echo "CREATE TEMP TABLE catalogue_plan_features (plan TEXT NOT NULL, feature TEXT NOT NULL, kind TEXT NOT NULL, value INTEGER, PRIMARY KEY (plan, feature));"
	echo "CREATE TEMP TABLE catalogue_price_map (price_id TEXT UNIQUE, lookup_key TEXT UNIQUE, target TEXT NOT NULL, value TEXT NOT NULL);"
	echo "CREATE TEMP TABLE policy (key TEXT PRIMARY KEY, value);"
	jq -r '.plans | to_entries[] | "INSERT INTO temp.catalogue_plans VALUES (\(.key | @json | gsub("\"";"'"'"'")), \(.value.role // "" | @json | gsub("\"";"'"'"'")), \(if .value.free then 1 else 0 end));"' \
		"$BENCH_TOP/config/catalogues/events_lms/plans.json"
	jq -r '.plans | to_entries[] | .key as $p | .value.features | to_entries[] | "INSERT INTO temp.catalogue_plan_features VALUES (\u0027\($p)\u0027, \u0027\(.key)\u0027, \u0027\(if .value == "unlimited" then "unlimited" elif (.value | type) == "boolean" then "bool" else "limit" end)\u0027, \(if .value == "unlimited" then "NULL" elif .value == true then 1 elif .value == false then 0 else .value end));"' \
		"$BENCH_TOP/config/catalogues/events_lms/plans.json"
	jq -r '.prices[] | "INSERT INTO temp.catalogue_price_map VALUES (\(if .price then "\u0027" + .price + "\u0027" else "NULL" end), \(if .lookup_key then "\u0027" + .lookup_key + "\u0027" else "NULL" end), \u0027\(if .plan then "plan" else "course_program" end)\u0027, \u0027\(.plan // .course_program)\u0027);"' \
		"$BENCH_TOP/config/catalogues/events_lms/stripe_mapping.json"
	echo "INSERT INTO temp.policy VALUES ('now', 1777680000), ('now_iso', '2026-05-02T00:00:00Z'), ('past_due_grace_days', 7), ('release_overallocated_seats', 0), ('timezone', 'UTC'), ('month', '2026-05'), ('month_start', '2026-05-01T00:00:00Z'), ('month_end', '2026-06-01T00:00:00Z');"
} >"$BENCH_WORK/context.sql"

# side_sqlite NAME LINK: the sqlite3 shell exporting reports/NAME.sql; prints ms.
side_sqlite() {
	local name=$1 link=$2 t0 t1
	{
		cat "$BENCH_WORK/context.sql"
		[ "$link" = 1 ] && cat "$BENCH_TOP/src/rules/_link.sql"
		cat "$BENCH_TOP/reports/"_*.sql
		echo ".headers on"
		echo ".mode csv"
		echo ".once $BENCH_WORK/sqlite_$name.csv"
		cat "$BENCH_TOP/reports/$name.sql"
		echo ";"
	} >"$BENCH_WORK/$name.sqlite.sql"
	t0=$(now_ms)
	sqlite3 "$DB" <"$BENCH_WORK/$name.sqlite.sql" >/dev/null || return 1
	t1=$(now_ms)
	echo $((t1 - t0))
}

# side_trueup NAME: `trueup report NAME`; prints ms.
side_trueup() {
	local name=$1 t0 t1
	t0=$(now_ms)
	"$TRUEUP" --config "$CFG" --db "$DB" -q report "$name" --out "$BENCH_WORK/out" >/dev/null || return 1
	t1=$(now_ms)
	echo $((t1 - t0))
}

# median / min / max of a list of ms
stats() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)], a[1], a[NR] }'; }
rate() { awk -v n="$N" -v t="$1" 'BEGIN { printf "%.0f", n / (t / 1000) }'; }

te_all=() se_all=() tr_all=() sr_all=()
for run in $(seq 1 "$RUNS"); do
	log "run $run/$RUNS: enrolments.csv (trueup, sqlite3 -csv), revenue.csv (trueup, sqlite3 -csv)"
	t=$(side_trueup enrolments) || exit 1; te_all+=("$t")
	t=$(side_sqlite enrolments 0) || exit 1; se_all+=("$t")
	t=$(side_trueup revenue) || exit 1; tr_all+=("$t")
	t=$(side_sqlite revenue 1) || exit 1; sr_all+=("$t")
done
read -r te te_min te_max < <(stats "${te_all[@]}")
read -r se se_min se_max < <(stats "${se_all[@]}")
read -r tr tr_min tr_max < <(stats "${tr_all[@]}")
read -r sr sr_min sr_max < <(stats "${sr_all[@]}")

# the same rows both ways (sqlite3 quotes fewer cells and does not neutralise)
rows_t=$(($(wc -l <"$BENCH_WORK/out/2026-05-02/enrolments.csv") - 1))
rows_s=$(($(wc -l <"$BENCH_WORK/sqlite_enrolments.csv") - 1))
same_rev=no
cmp -s <(tr -d '\r' <"$BENCH_WORK/out/2026-05-02/revenue.csv") <(tr -d '\r' <"$BENCH_WORK/sqlite_revenue.csv") && same_rev=yes
re=$(ratio "$se" "$te")
rr=$(ratio "$sr" "$tr")
rmin=$(awk -v a="$re" -v b="$rr" 'BEGIN { print (a < b ? a : b) }')
{
	echo "rows: $N enrolments, $N invoices ($SUBS subscriptions); $RUNS runs each, median [fastest-slowest]"
	printf 'enrolments.csv  trueup %6d ms [%d-%d] (%s rows/s, %d rows)   sqlite3 -csv %6d ms [%d-%d] (%s rows/s, %d rows)   ratio %s\n' \
		"$te" "$te_min" "$te_max" "$(rate "$te")" "$rows_t" "$se" "$se_min" "$se_max" "$(rate "$se")" "$rows_s" "$re"
	printf 'revenue.csv     trueup %6d ms [%d-%d] (%s invoice rows/s)   sqlite3 -csv %6d ms [%d-%d] (%s invoice rows/s)   ratio %s; same output: %s\n' \
		"$tr" "$tr_min" "$tr_max" "$(rate "$tr")" "$sr" "$sr_min" "$sr_max" "$(rate "$sr")" "$rr" "$same_rev"
	echo "all runs (ms): enrolments trueup ${te_all[*]}; sqlite3 ${se_all[*]}; revenue trueup ${tr_all[*]}; sqlite3 ${sr_all[*]}"
} | tee "$OUT"
st=FAIL
ge "$rmin" 1.0 && st=PASS
result report "enrolments $re, revenue $rr (sqlite3 time / trueup time, medians of $RUNS)" "$rmin" ">= 1.0" "$st"
