#!/usr/bin/env bash
# tests/cli/test_report.sh - `trueup report` as a user runs it, on the
# fixture of fixtures/reports/ (platform CSVs through `trueup import`, the
# Stripe account served by the fake Stripe with --shape asis so both
# invoice shapes arrive as stored, then pull and reconcile).  Expected
# values are computed here from the fixture files themselves (jq over the
# Stripe JSON, awk over the platform CSVs), never by running the reports'
# SQL; every CSV is read back with sqlite3's RFC 4180 importer.  Also: the
# manifest (rows and sha256 per file), refusal on an unfinished pull, exit
# codes, periods, time zones and ranges, both catalogues, injection cases,
# header-only files, a run killed midway, config check of definitions and
# a job's report step.
. "$(dirname "$0")/lib.sh"
FAKESTRIPE=${FAKESTRIPE:-build/default/fakestripe}
case "$FAKESTRIPE" in /*) ;; *) FAKESTRIPE=$T_TOP/$FAKESTRIPE ;; esac
FX=$T_TOP/fixtures/reports
S=$FX/stripe
KEY=sk_test_cliReport${$}x0123456789
FAKE_PID=
trap '[ -n "$FAKE_PID" ] && { kill "$FAKE_PID"; wait "$FAKE_PID"; } 2>/dev/null; rm -rf "$T_TMP"' EXIT
export TRUEUP_NOW=2026-05-02T00:00:00Z
OUT=$T_TMP/out
D=$OUT/2026-05-02
q() { sqlite3 "$DB" "$1"; }

FAKESTRIPE_KEY=$KEY "$FAKESTRIPE" --port 0 --data "$S" --shape asis --now 1777680000 \
	>"$T_TMP/fake.out" 2>"$T_TMP/fake.err" &
FAKE_PID=$!
for i in $(seq 1 100); do
	PORT=$(sed -n '1s/^listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$T_TMP/fake.out")
	[ -n "$PORT" ] && break
	sleep 0.05
done

# csvq FILE SQL: load FILE (RFC 4180, header row) as table t in sqlite3, run SQL.
csvq() {
	sqlite3 -batch -noheader :memory: ".import --csv '$1' t" "$2"
}
# manifest_get FILE KEY: a field of FILE's entry in $D/manifest.json.
manifest_get() { jq -r --arg f "$1" --arg k "$2" '.files[] | select(.file == $f) | .[$k]' "$D/manifest.json"; }

t_begin "report --help and trueup --help"
run report --help
expect_status 0
expect_stdout_contains "usage: trueup report [NAME ...] [--out DIR] [--period month|day] [--from DATE]"
run_raw --help
expect_stdout_matches '^  report +write the CSV reports'
t_end

t_begin "no pull yet: exit 66, nothing written"
run init
run report --out "$OUT"
expect_status 66
expect_stderr_contains "error: report: no stripe snapshot yet: run 'trueup pull' first"
[ ! -e "$OUT" ] || t_fail "the output directory was created"
t_end

t_begin "import, pull from the fake, reconcile"
run import "$FX/platform"
expect_status 0
TRUEUP_STRIPE_API_BASE=http://127.0.0.1:$PORT STRIPE_API_KEY=$KEY run pull
expect_status 0
run reconcile
expect_status 0
t_end

t_begin "bad command lines are usage errors"
run report nosuch --out "$OUT"
expect_status 2
expect_stderr_contains 'unknown report "nosuch" (reports: completion drift enrolments'
run report --period week
expect_status 2
expect_stderr_contains "--period: 'week' is not month or day"
run report --from 2026-02-30
expect_status 2
expect_stderr_contains '--from: "2026-02-30" is not a date'
run report --from 2026-04-01 --to 2026-03-01
expect_status 2
expect_stderr_contains 'is not before --to'
run report --timezone Mars/Base
expect_status 78
[ ! -e "$OUT" ] || t_fail "a refused run created the output directory"
t_end

t_begin "all reports: files, summary and manifest with rows and sha256"
run report --out "$OUT"
expect_status 0
PULL=$(q "SELECT MAX(id) FROM stripe_pull_runs")
expect_stdout_contains "wrote 10 files and manifest.json to $D (time zone UTC, period month, snapshot of pull $PULL)"
for f in enrolments enrolments_summary completion revenue revenue_itemized pricing_mismatches \
	drift repairs plan_audit; do
	[ -f "$D/$f.csv" ] || t_fail "$f.csv missing"
	rows=$(csvq "$D/$f.csv" "SELECT COUNT(*) FROM t")
	[ "$rows" = "$(manifest_get "$f.csv" rows)" ] || t_fail "$f.csv: $rows rows, manifest says $(manifest_get "$f.csv" rows)"
	sum=$(sha256sum "$D/$f.csv" | cut -d' ' -f1)
	[ "$sum" = "$(manifest_get "$f.csv" sha256)" ] || t_fail "$f.csv: sha256 differs from the manifest"
	[ "$(stat -c %s "$D/$f.csv")" = "$(manifest_get "$f.csv" bytes)" ] || t_fail "$f.csv: bytes"
done
[ "$(sha256sum "$D/summary.html" | cut -d' ' -f1)" = "$(manifest_get summary.html sha256)" ] || t_fail "summary.html sha256"
[ "$(jq -r .run_id "$D/manifest.json")" = "$(q "SELECT MAX(id) FROM runs WHERE command = 'report'")" ] || t_fail "manifest run_id"
[ "$(jq -r .snapshot.pulled_at "$D/manifest.json")" = "$(q "SELECT finished_at FROM stripe_pull_runs WHERE id = $PULL")" ] || t_fail "manifest pulled_at"
[ "$(jq -r .snapshot.pull_run_id "$D/manifest.json")" = "$PULL" ] || t_fail "manifest pull_run_id"
ls -a "$D" | grep -q '\.tmp$' && t_fail "a temporary file was left behind"
[ "$(q "SELECT status || ' ' || exit_code FROM runs WHERE command = 'report' ORDER BY id DESC LIMIT 1")" = "ok 0" ] || t_fail "run row"
head -c 3 "$D/revenue.csv" | od -c | grep -q '357 273 277' && t_fail "a BOM was written"
head -n 1 "$D/revenue.csv" | grep -q $'\r$' || t_fail "records do not end in CRLF"
t_end

t_begin "revenue ties out to the Stripe objects per month and currency, to the minor unit"
# Independently, with jq over the fixture: paid invoices (2023 shape: paid;
# 2026 shape: status paid) by paid_at, paid one-time sessions by created,
# refunds that moved money (succeeded/pending) by their own created.
jq -r -n --slurpfile inv "$S/invoices.json" --slurpfile cs "$S/checkout_sessions.json" \
	--slurpfile re "$S/refunds.json" -f "$T_TOP/tests/cli/stripe_revenue.jq" \
	| sort >"$T_TMP/want_rev"
csvq "$D/revenue.csv" "SELECT period || ' ' || currency || ' ' || SUM(gross_minor) || ' ' || SUM(refunds_minor) || ' ' || SUM(net_minor) FROM t GROUP BY period, currency" \
	| sort >"$T_TMP/got_rev"
[ -s "$T_TMP/want_rev" ] || t_fail "jq computed nothing"
diff "$T_TMP/want_rev" "$T_TMP/got_rev" >"$T_TMP/rev.diff" || t_fail "revenue by month x currency differs: $(cat "$T_TMP/rev.diff")"
# the same totals from the itemized report, object by object
jq -r '[.[] | select((.paid == true or .status == "paid") and .amount_paid > 0) | .id] | sort[]' "$S/invoices.json" >"$T_TMP/want_inv"
csvq "$D/revenue_itemized.csv" "SELECT source_id FROM t WHERE source_type = 'invoice' ORDER BY 1" >"$T_TMP/got_inv"
diff -q "$T_TMP/want_inv" "$T_TMP/got_inv" >/dev/null || t_fail "paid invoices differ"
t_end

t_begin "revenue: decimals by exponent, partial and later-month refunds, both shapes, no double count"
# JPY: zero decimals; BHD: three; USD: two
grep -q '^2026-02,2026-02-01T00:00:00Z,2026-03-01T00:00:00Z,UTC,jpy,course_program,photo101,1,5000,0,0,5000,5000,0,5000,0' "$D/revenue.csv" || t_fail "JPY row"
grep -q '^2026-02,[^,]*,[^,]*,UTC,bhd,plan,organization,1,42.000,0,0.000,42.000,42000,0,42000,3' "$D/revenue.csv" || t_fail "BHD invoice (2023 shape) row"
grep -q '^2026-04,[^,]*,[^,]*,UTC,bhd,course_program,photo101,0,0.000,1,2.750,-2.750,0,2750,-2750,3' "$D/revenue.csv" || t_fail "BHD partial refund a month later"
# the partial refund (one of two seats) in the payment's own month
grep -q '^2026-02,[^,]*,[^,]*,UTC,usd,course_program,photo101,1,98.00,1,49.00,49.00,9800,4900,4900,2' "$D/revenue.csv" || t_fail "USD partial refund row"
# the full JPY refund dated by the refund: March, not February
grep -q '^2026-03,[^,]*,[^,]*,UTC,jpy,course_program,photo101,0,0,1,5000,-5000,0,5000,-5000,0' "$D/revenue.csv" || t_fail "JPY refund in the later month"
# 2026-shape invoices reach their subscription through parent.subscription_details
grep -q '^in_TuAlicePaid2026a,charge,invoice,2026-04-11T00:01:00Z,.*,usd,495.00,49500,plan,organization,' "$D/revenue_itemized.csv" || t_fail "2026-shape invoice"
grep -q '^in_TuCarolPaid2023c,charge,invoice,.*,bhd,42.000,42000,plan,organization,' "$D/revenue_itemized.csv" || t_fail "2023-shape invoice"
# the subscription-mode session is counted once, as its first invoice
grep -q '^in_TuAliceFirst2026,charge,invoice,' "$D/revenue_itemized.csv" || t_fail "first invoice missing"
grep -q 'cs_test_a1TuAliceSubComplete01' "$D/revenue_itemized.csv" && t_fail "subscription-mode session counted too"
grep -q 're_TuCarolFailed0004' "$D/revenue_itemized.csv" && t_fail "a failed refund was counted"
# negative amounts stay numbers: unquoted, no apostrophe
grep -q ',usd,-49.00,-4900,' "$D/revenue_itemized.csv" || t_fail "negative amount not written as a number"
grep -q "'-" "$D/revenue.csv" "$D/revenue_itemized.csv" && t_fail "a negative amount was neutralised"
t_end

t_begin "enrolments, summary and completion against the platform CSVs"
want=$(($(wc -l <"$FX/platform/enrolments.csv") - 1))
[ "$(csvq "$D/enrolments.csv" "SELECT COUNT(*) FROM t")" = "$want" ] || t_fail "enrolments rows"
[ "$(csvq "$D/enrolments.csv" "SELECT group_concat(enrolment_id || ':' || status, ' ') FROM t")" = \
  "$(awk -F, 'NR > 1 { printf "%s%s:%s", (NR > 2 ? " " : ""), $1, $5 }' "$FX/platform/enrolments.csv")" ] || t_fail "enrolment ids and statuses"
# en_1 completed its 3 steps; en_3 booked SFZ-2 with SFZ-1 unbooked; en_5 booked P-3 before P-2
[ "$(csvq "$D/enrolments.csv" "SELECT steps || '/' || steps_completed || '/' || steps_booked_out_of_order FROM t WHERE enrolment_id = 'en_1'")" = "3/3/0" ] || t_fail "en_1 progress"
[ "$(csvq "$D/enrolments.csv" "SELECT steps_booked || '/' || steps_booked_out_of_order FROM t WHERE enrolment_id = 'en_3'")" = "1/1" ] || t_fail "en_3 out of order"
steps=$(awk -F, '$2 == "cp_photo"' "$FX/platform/course_steps.csv" | wc -l)
active=$(awk -F, '$3 == "cp_photo" && $5 == "active"' "$FX/platform/enrolments.csv" | wc -l)
done_=$(awk -F, 'NR == FNR { if ($5 == "active") a[$1] = 1; next } ($2 in a) && $4 == "COMPLETED" && $3 ~ /^st_p/' \
	"$FX/platform/enrolments.csv" "$FX/platform/step_progress.csv" | wc -l)
rate=$(awk -v d="$done_" -v s="$((active * steps))" 'BEGIN { printf "%.4f", d / s }')
[ "$(csvq "$D/completion.csv" "SELECT enrolled || ' ' || steps || ' ' || steps_completed || ' ' || completion_rate || ' ' || students_completed_all || ' ' || steps_booked_out_of_order FROM t WHERE program_code = 'photo101'")" = \
  "$active $steps $done_ $rate 1 1" ] || t_fail "photo101 completion: $(grep photo101 "$D/completion.csv")"
# photo101: Feb en_1, en_2 new; Mar en_4 + en_5 new, en_2 refunded (its refund is 2026-03-06)
[ "$(csvq "$D/enrolments_summary.csv" "SELECT group_concat(period || ':' || new || '/' || refunded || '/' || active_at_period_end, ' ') FROM t WHERE program_code = 'photo101'")" = \
  "2026-02:2/0/2 2026-03:2/1/2 2026-04:0/0/2 2026-05:0/0/2" ] || t_fail "photo101 summary: $(grep photo101 "$D/enrolments_summary.csv" | tr '\n' ' ')"
t_end

t_begin "formula injection is neutralised in text cells"
grep -q "^en_1,usr_stu1,stu1@example.test,cp_photo,photo101,\"'=HYPERLINK(\"\"http://evil.example/\"\",\"\"Photography 101\"\")\",active," "$D/enrolments.csv" || t_fail "=HYPERLINK"
grep -q ",'+1@example.test," "$D/enrolments.csv" || t_fail "+1"
grep -q ",'@SUM(1+1) Sound Foundations," "$D/completion.csv" || t_fail "@SUM"
# and read back, the cell is the text with one apostrophe in front
[ "$(csvq "$D/enrolments.csv" "SELECT program_title FROM t WHERE enrolment_id = 'en_1'")" = "'=HYPERLINK(\"http://evil.example/\",\"Photography 101\")" ] || t_fail "round trip"
t_end

t_begin "pricing mismatches and plan audit (events/LMS catalogue)"
grep -q '^organizer,certificates,boolean,Issue course certificates,true,false,promise_not_enforced,critical,0,'$'\r' "$D/pricing_mismatches.csv" || t_fail "organizer certificates"
grep -q '^lms,courses_per_month,limit,New courses per calendar month,unlimited,10,value_differs,critical,0,'$'\r' "$D/pricing_mismatches.csv" || t_fail "lms courses_per_month"
# ten_bob (LMS) owns an event and has audience 1200 > 1000: two leaks
grep -q '^lms,events,boolean,Create and manage events,false,false,enforcement_leak,high,1,ten_bob'$'\r' "$D/pricing_mismatches.csv" || t_fail "LMS events leak"
grep -q '^lms,audience,limit,Learners and attendees reached,1000,1000,enforcement_leak,high,1,ten_bob'$'\r' "$D/pricing_mismatches.csv" || t_fail "LMS audience leak"
pa() { csvq "$D/plan_audit.csv" "SELECT $2 FROM t WHERE plan = '$1'"; }
[ "$(pa lms "tenants || ' ' || check_lms_courses_not_events || ' ' || check_data_respects_plan || ' ' || pricing_mismatches_critical")" = "1 fail fail 1" ] || t_fail "lms audit: $(grep '^lms' "$D/plan_audit.csv")"
[ "$(pa organizer "check_organizer_events_not_courses || ' ' || check_lms_courses_not_events")" = "pass n/a" ] || t_fail "organizer audit"
# co_2 has neither organization nor owner and was created by Carol (organization)
[ "$(pa organization "tenants || ' ' || check_organization_both || ' ' || check_courses_have_owner")" = "2 pass fail" ] || t_fail "organization audit"
open_db=$(q "SELECT COUNT(*) FROM findings f JOIN tenants t ON t.id = f.tenant_id WHERE f.status = 'open' AND t.plan = 'lms'")
[ "$(pa lms open_findings)" = "$open_db" ] || t_fail "lms open findings"
[ "$(pa lms open_L2)" = "$(q "SELECT COUNT(*) FROM findings WHERE rule = 'L2' AND status = 'open' AND tenant_id = 'ten_bob'")" ] || t_fail "lms open_L2"
live=$(jq '[.[] | select(.status == "active" or .status == "trialing")] | length' "$S/subscriptions.json")
[ "$(csvq "$D/plan_audit.csv" "SELECT SUM(live_subscriptions) FROM t")" -ge "$live" ] || t_fail "live subscriptions"
t_end

t_begin "drift lists every open or repaired finding; repairs is header-only with no ledger"
[ "$(csvq "$D/drift.csv" "SELECT COUNT(*) FROM t")" = "$(q "SELECT COUNT(*) FROM findings WHERE status IN ('open', 'repaired')")" ] || t_fail "drift rows"
[ "$(wc -l <"$D/repairs.csv")" = 1 ] || t_fail "repairs.csv is not header-only"
head -n 1 "$D/repairs.csv" | grep -q '^entry_id,idempotency_key,action_key,applied_at,run_id,' || t_fail "repairs header"
[ "$(manifest_get repairs.csv rows)" = 0 ] || t_fail "repairs rows in the manifest"
t_end

t_begin "repairs.csv is the journal of the ledger"
q "INSERT INTO repair_ledger (idempotency_key, action_key, run_id, rule, subject, tenant_id, action, table_name, row_id, op, before, after, applied_at) VALUES
 ('E3:entitlement:ent_x#0/entitlements/ent_x', 'E3:entitlement:ent_x#0', 7, 'E3', 'entitlement:ent_x', 'ten_bob', 'set', 'entitlements', 'ent_x', 'update', '{\"quantity_seats\":3}', '{\"quantity_seats\":5}', '2026-05-01T02:30:00Z'),
 ('C2:enrolment:en_3#0/step_progress/sp_new', 'C2:enrolment:en_3#0', 7, 'C2', 'enrolment:en_3', NULL, 'seed_progress', 'step_progress', 'sp_new', 'insert', NULL, '{\"id\":\"sp_new\",\"status\":\"UNBOOKED\"}', '2026-05-01T02:30:01Z')"
run report repairs --out "$OUT"
expect_status 0
expect_stdout_contains "repairs.csv"
[ "$(csvq "$D/repairs.csv" "SELECT COUNT(*) FROM t")" = 2 ] || t_fail "repairs rows"
[ "$(csvq "$D/repairs.csv" "SELECT after FROM t WHERE row_id = 'ent_x'")" = '{"quantity_seats":5}' ] || t_fail "after JSON"
[ "$(csvq "$D/repairs.csv" "SELECT op || ' ' || table_name || ' ' || idempotency_key FROM t WHERE row_id = 'sp_new'")" = "insert step_progress C2:enrolment:en_3#0/step_progress/sp_new" ] || t_fail "insert row"
# the manifest keeps the other files' entries and updates this one
[ "$(jq '.files | length' "$D/manifest.json")" = 10 ] || t_fail "manifest entries"
[ "$(manifest_get repairs.csv rows)" = 2 ] || t_fail "manifest rows of repairs"
t_end

t_begin "day periods in a time zone; a date range"
run report revenue --out "$T_TMP/la" --period day --timezone America/Los_Angeles
expect_status 0
# the first invoice, paid 2026-01-11T00:01:00Z, is still 2026-01-10 in Los Angeles
grep -q '^2026-01-10,2026-01-10T08:00:00Z,2026-01-11T08:00:00Z,America/Los_Angeles,usd,plan,organization,1,495.00,' "$T_TMP/la/2026-05-01/revenue.csv" || t_fail "LA day row: $(head -3 "$T_TMP/la/2026-05-01/revenue.csv")"
[ "$(jq -r '.timezone + " " + .period' "$T_TMP/la/2026-05-01/manifest.json")" = "America/Los_Angeles day" ] || t_fail "manifest parameters"
run report revenue --out "$T_TMP/mar" --from 2026-03-01 --to 2026-04-01
expect_status 0
[ "$(csvq "$T_TMP/mar/2026-05-02/revenue.csv" "SELECT group_concat(DISTINCT period) FROM t")" = "2026-03" ] || t_fail "range not applied"
[ "$(csvq "$T_TMP/mar/2026-05-02/revenue.csv" "SELECT COUNT(*) FROM t")" = 2 ] || t_fail "March rows"
t_end

t_begin "the three-tier catalogue: its promises, no critical mismatch"
run_raw --config "$T_TOP/fixtures/config/tiers.json" --db "$DB" report pricing_mismatches plan_audit --out "$T_TMP/tiers"
expect_status 0
grep -q '^EARLY_ADOPTER,custom_domain,boolean,Custom domain management,false,true,enforced_not_promised,medium,' "$T_TMP/tiers/2026-05-02/pricing_mismatches.csv" || t_fail "custom_domain"
grep -q '^ENTERPRISE,scim,boolean,SCIM lifecycle provisioning,,true,enforced_not_promised,medium,' "$T_TMP/tiers/2026-05-02/pricing_mismatches.csv" || t_fail "scim"
grep -q ',critical,' "$T_TMP/tiers/2026-05-02/pricing_mismatches.csv" && t_fail "a critical mismatch in the tiers catalogue"
grep -q '^BASIC,' "$T_TMP/tiers/2026-05-02/plan_audit.csv" || t_fail "tiers plan audit"
t_end

t_begin "summary.html: self-contained, charts, everything escaped"
q "UPDATE tenants SET plan = '<b>x</b>' WHERE id = 'ten_dave'"
run report summary --out "$OUT"
expect_status 0
grep -q '<svg' "$D/summary.html" || t_fail "no inline SVG"
grep -q '<h3>bhd</h3>' "$D/summary.html" || t_fail "no BHD chart"
grep -q '&lt;b&gt;x&lt;/b&gt;' "$D/summary.html" || t_fail "plan not escaped"
grep -q '<b>x</b>' "$D/summary.html" && t_fail "raw markup from data"
grep -Eiq '<script|src=|href=|@import|url\(' "$D/summary.html" && t_fail "the page loads something"
grep -q '<td>M1</td>' "$D/summary.html" || t_fail "drift table"
q "UPDATE tenants SET plan = 'organizer' WHERE id = 'ten_dave'"
t_end

t_begin "a run killed midway leaves every final name as it was"
run report --out "$OUT"
old_rev=$(sha256sum "$D/revenue.csv" | cut -d' ' -f1)
old_man=$(sha256sum "$D/manifest.json" | cut -d' ' -f1)
q "UPDATE stripe_invoices SET amount_paid = amount_paid + 1 WHERE id = 'in_TuAlicePaid2026a'"
TRUEUP_TEST_REPORT_STALL=revenue "$TRUEUP" --config "$CFG" --db "$DB" report --out "$OUT" >/dev/null 2>&1 &
pid=$!
for i in $(seq 1 100); do
	ls -a "$D" | grep -q '^\.revenue\.csv\..*\.tmp$' && break
	sleep 0.05
done
ls -a "$D" | grep -q '^\.revenue\.csv\..*\.tmp$' || t_fail "the run did not reach revenue"
kill -9 "$pid"; wait "$pid" 2>/dev/null
[ "$(sha256sum "$D/revenue.csv" | cut -d' ' -f1)" = "$old_rev" ] || t_fail "revenue.csv changed"
[ "$(sha256sum "$D/manifest.json" | cut -d' ' -f1)" = "$old_man" ] || t_fail "manifest.json changed"
[ "$(sha256sum "$D/revenue.csv" | cut -d' ' -f1)" = "$(manifest_get revenue.csv sha256)" ] || t_fail "manifest and file disagree"
run report --out "$OUT"
expect_status 0
ls -a "$D" | grep -q '\.tmp$' && t_fail "the dead run's temporary file was not removed"
[ "$(sha256sum "$D/revenue.csv" | cut -d' ' -f1)" != "$old_rev" ] || t_fail "revenue.csv not rewritten"
q "UPDATE stripe_invoices SET amount_paid = amount_paid - 1 WHERE id = 'in_TuAlicePaid2026a'"
t_end

t_begin "an output directory that cannot be created: 73"
: >"$T_TMP/afile"
run report --out "$T_TMP/afile"
expect_status 73
expect_stderr_contains "output directory"
t_end

t_begin "unfinished pull: 75, or written anyway with --allow-unfinished"
q "INSERT INTO stripe_pull_runs (mode, started_at, status) VALUES ('incremental', '2026-05-01T00:00:00Z', 'running')"
run report revenue --out "$T_TMP/unf"
expect_status 75
expect_stderr_contains "has not finished: run 'trueup pull' to complete it"
[ ! -e "$T_TMP/unf" ] || t_fail "written on an unfinished pull"
run report revenue --out "$T_TMP/unf" --allow-unfinished
expect_status 0
expect_stderr_contains "wrote the reports anyway (--allow-unfinished)"
[ "$(jq .snapshot.finished "$T_TMP/unf/2026-05-02/manifest.json")" = false ] || t_fail "manifest finished flag"
q "DELETE FROM stripe_pull_runs WHERE status = 'running'"
t_end

# A config whose report definitions are a directory of our own.
mkdir -p "$T_TMP/cfg" "$T_TMP/defs" "$T_TMP/jobs"
jq --arg d "$T_TMP/defs" --arg j "$T_TMP/jobs" --arg c "$T_TOP/config/catalogues/events_lms" \
	'.reports.definitions = $d | .jobs_dir = $j | .catalogue = $c | .database = "x.db"' \
	"$T_TOP/config/trueup.json" >"$T_TMP/cfg/trueup.json"
cp "$T_TOP/reports/"*.sql "$T_TMP/defs/"

t_begin "a user adds a report by adding a file"
printf -- '-- Tenants per plan.\nSELECT plan, COUNT(*) AS tenants FROM main.tenants GROUP BY plan ORDER BY plan\n' >"$T_TMP/defs/tenants_per_plan.sql"
run_raw --config "$T_TMP/cfg/trueup.json" --db "$DB" report tenants_per_plan --out "$T_TMP/user"
expect_status 0
[ "$(cat "$T_TMP/user/2026-05-02/tenants_per_plan.csv" | tr -d '\r')" = "$(printf 'plan,tenants\nlms,1\norganization,2\norganizer,1')" ] || t_fail "user report: $(cat "$T_TMP/user/2026-05-02/tenants_per_plan.csv")"
t_end

t_begin "a broken definition: config check names the file, report exits 78 and writes nothing"
printf 'SELEC 1\n' >"$T_TMP/defs/broken.sql"
printf -- '-- numeric: nope\nSELECT 1 AS one\n' >"$T_TMP/defs/badnum.sql"
printf 'DELETE FROM users\n' >"$T_TMP/defs/writer.sql"
run_raw --config "$T_TMP/cfg/trueup.json" config check
expect_status 78
expect_stderr_contains "$T_TMP/defs/broken.sql: report \"broken\": near \"SELEC\": syntax error"
expect_stderr_contains "$T_TMP/defs/badnum.sql: numeric column \"nope\" is not a column of the query"
expect_stderr_contains "$T_TMP/defs/writer.sql: report \"writer\": not a read-only query"
run_raw --config "$T_TMP/cfg/trueup.json" --db "$DB" report --out "$T_TMP/broken"
expect_status 78
expect_stderr_lines 1
[ -z "$(ls -A "$T_TMP/broken/2026-05-02" 2>/dev/null)" ] || t_fail "files written by a refused run"
rm -f "$T_TMP/defs/broken.sql" "$T_TMP/defs/badnum.sql" "$T_TMP/defs/writer.sql"
t_end

t_begin "reports.period and reports.timezone are checked and used"
jq '.reports.period = "week" | .reports.timezone = "Nowhere/City"' "$T_TMP/cfg/trueup.json" >"$T_TMP/cfg/bad.json"
run_raw --config "$T_TMP/cfg/bad.json" config check
expect_status 78
expect_stderr_contains '$.reports.period: must be "month" or "day", got "week"'
expect_stderr_contains '$.reports.timezone:'
jq '.reports.period = "day" | .reports.timezone = "Asia/Tokyo"' "$T_TMP/cfg/trueup.json" >"$T_TMP/cfg/day.json"
run_raw --config "$T_TMP/cfg/day.json" --db "$DB" report revenue --out "$T_TMP/tokyo"
expect_status 0
expect_stdout_contains "(time zone Asia/Tokyo, period day,"
# 2026-05-02T00:00:00Z is 09:00 in Tokyo: same date; Emi's session (2026-02-10T00:00Z) is 2026-02-10 there
grep -q '^2026-02-10,2026-02-09T15:00:00Z,2026-02-10T15:00:00Z,Asia/Tokyo,jpy,' "$T_TMP/tokyo/2026-05-02/revenue.csv" || t_fail "Tokyo day row"
t_end

t_begin "a job's report step runs the report command"
printf '{"name": "rep", "schedule": "@daily", "steps": ["report revenue --out %s"], "timeout_seconds": 60}\n' "$T_TMP/job" >"$T_TMP/jobs/rep.json"
run_raw --config "$T_TMP/cfg/trueup.json" --db "$DB" run rep
expect_status 0
[ -f "$T_TMP/job/2026-05-02/revenue.csv" ] || t_fail "the job wrote no report"
t_end

t_done
