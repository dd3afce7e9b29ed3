#!/usr/bin/env bash
# tests/cli/test_demo.sh - the demo platform (fixtures/demo/) end to end:
# the generator reproduces the committed files byte for byte; the fake
# Stripe serves fixtures/demo/stripe; init, import, pull and reconcile at
# the demo's fixed time find exactly fixtures/demo/expected_findings.csv
# (a failure shows the diff: extra and missing findings); every rule code
# is planted; a second pull and reconcile change nothing.  When this build
# has `trueup repair`, the repair contract on the demo too: the plan
# changes nothing, --apply leaves only report-only findings open, and a
# second --apply changes nothing.
. "$(dirname "$0")/lib.sh"
FAKESTRIPE=${FAKESTRIPE:-build/default/fakestripe}
case "$FAKESTRIPE" in /*) ;; *) FAKESTRIPE=$T_TOP/$FAKESTRIPE ;; esac
DEMO=$T_TOP/fixtures/demo
. "$DEMO/fake.sh"
CFG=$DEMO/config/trueup.json
export TRUEUP_NOW=$DEMO_NOW_ISO
KEY=sk_test_cliDemo${$}x0123456789
DEMO_FAKE_PID=""
trap '[ -n "$DEMO_FAKE_PID" ] && kill "$DEMO_FAKE_PID" 2>/dev/null; rm -rf "$T_TMP"' EXIT
q() { sqlite3 "$DB" "$1"; }

# The open findings in the columns and order of expected_findings.csv.
open_findings() {
	sqlite3 -csv -header "$DB" "SELECT rule, subject, severity, tenant_id, stripe_object, action
		FROM findings WHERE status = 'open' ORDER BY rule, subject" | tr -d '\r'
}

# A digest of the platform tables (what repair changes).
platform_sum() {
	local t
	for t in users tenants memberships purchase_intents subscriptions entitlements \
		seat_assignments courses events course_programs course_steps enrolments \
		step_progress usage; do
		echo "== $t"
		sqlite3 "$DB" "SELECT * FROM $t ORDER BY 1, 2, 3"
	done | sha256sum | cut -d' ' -f1
}

t_begin "the generator reproduces the committed demo byte for byte"
if python3 "$DEMO/generate.py" --out "$T_TMP/gen" >"$T_OUT" 2>"$T_ERR"; then
	for f in stripe import expected_findings.csv; do
		diff -r "$DEMO/$f" "$T_TMP/gen/$f" >"$T_TMP/gen.diff" ||
			t_fail "$f differs from a fresh run: $(head -c 400 "$T_TMP/gen.diff")"
	done
else
	t_fail "generate.py failed: $(head -c 400 "$T_ERR")"
fi
t_end

t_begin "expected_findings.csv plants every rule code, sorted by rule then subject"
[ "$(head -n 1 "$DEMO/expected_findings.csv")" = "rule,subject,severity,tenant_id,stripe_object,action" ] ||
	t_fail "header: $(head -n 1 "$DEMO/expected_findings.csv")"
codes=$(tail -n +2 "$DEMO/expected_findings.csv" | cut -d, -f1 | sort -u | tr '\n' ' ')
[ "$codes" = "C1 C2 C3 C4 E1 E2 E3 E4 E5 E6 E7 G1 L1 L2 L3 M1 P1 P2 P3 R1 " ] ||
	t_fail "rule codes planted: $codes"
tail -n +2 "$DEMO/expected_findings.csv" | LC_ALL=C sort -t, -k1,1 -k2,2 -c ||
	t_fail "not sorted by rule then subject"
t_end

# The fake Stripe on the demo account, its clock at the demo's "now".
demo_fake_start "$FAKESTRIPE" "$KEY" "$T_TMP"
export TRUEUP_STRIPE_API_BASE=http://127.0.0.1:$DEMO_FAKE_PORT STRIPE_API_KEY=$KEY

t_begin "the demo config passes config check"
[ -n "$DEMO_FAKE_PORT" ] || t_fail "the fake Stripe did not start: $(cat "$T_TMP/fakestripe.err")"
run config check
expect_status 0
expect_stdout_contains "config ok: 4 plans, 7 features"
t_end

t_begin "init, import and pull the demo platform"
run init
expect_status 0
run import "$DEMO/import"
expect_status 0
expect_stdout_matches '^users\.csv +[0-9]{3} rows'
expect_stdout_matches '^total +[0-9]+ rows +\([0-9]+ new, 0 changed, 0 unchanged\)$'
run pull
expect_status 0
expect_stdout_matches '^subscriptions +[0-9]+ objects'
[ "$(q "SELECT status FROM stripe_pull_runs ORDER BY id DESC LIMIT 1")" = ok ] || t_fail "pull not ok"
t_end

t_begin "the snapshot has both shapes, five currencies and every invoice state"
[ "$(q "SELECT group_concat(period_source, ',') FROM (SELECT DISTINCT period_source FROM stripe_subscriptions ORDER BY 1)")" = "items,subscription" ] ||
	t_fail "subscription shapes: $(q "SELECT DISTINCT period_source FROM stripe_subscriptions")"
[ "$(q "SELECT COUNT(*) FROM stripe_invoices WHERE json_extract(raw_json, '\$.parent.subscription_details.subscription') = subscription")" -gt 0 ] ||
	t_fail "no invoice reaches its subscription through parent.subscription_details"
[ "$(q "SELECT COUNT(*) FROM stripe_invoices WHERE json_type(raw_json, '\$.subscription') = 'text' AND json_extract(raw_json, '\$.subscription') = subscription")" -gt 0 ] ||
	t_fail "no invoice with a top-level subscription"
[ "$(q "SELECT group_concat(currency, ',') FROM (SELECT DISTINCT currency FROM stripe_invoices ORDER BY 1)")" = "bhd,eur,gbp,jpy,usd" ] ||
	t_fail "invoice currencies: $(q "SELECT DISTINCT currency FROM stripe_invoices")"
[ "$(q "SELECT group_concat(status, ',') FROM (SELECT DISTINCT status FROM stripe_invoices ORDER BY 1)")" = "open,paid,void" ] ||
	t_fail "invoice states: $(q "SELECT DISTINCT status FROM stripe_invoices")"
[ "$(q "SELECT COUNT(DISTINCT strftime('%Y-%m', created, 'unixepoch')) FROM stripe_invoices WHERE status = 'paid'")" -ge 6 ] ||
	t_fail "paid invoices span too few months"
t_end

t_begin "reconcile at the demo's time finds exactly expected_findings.csv"
run reconcile
expect_status 0
expect_stdout_contains "at 2026-11-20T12:00:00Z"
open_findings >"$T_TMP/found.csv"
if ! diff "$DEMO/expected_findings.csv" "$T_TMP/found.csv" >"$T_TMP/found.diff"; then
	t_fail "findings differ from expected_findings.csv ('<' missing, '>' extra):"
	cat "$T_TMP/found.diff"
fi
t_end

t_begin "a second pull and reconcile change nothing"
run pull
expect_status 0
expect_stdout_matches '^total +0 objects'
run reconcile
expect_status 0
expect_stdout_matches 'this run: [0-9]+ found, 0 new, 0 reopened, 0 resolved$'
open_findings | diff -q "$DEMO/expected_findings.csv" - >/dev/null || t_fail "findings changed"
t_end

if "$TRUEUP" report --help >/dev/null 2>&1; then
	t_begin "report on the demo: revenue ties out to the Stripe objects, rows match the platform"
	R=$T_TMP/rep/2026-11-20
	run report --out "$T_TMP/rep"
	expect_status 0
	expect_stdout_contains "wrote 10 files and manifest.json to $R"
	csvq() { sqlite3 -batch -noheader :memory: ".import --csv '$1' t" "$2"; }
	# revenue per month and currency, computed by jq from the demo's Stripe JSON
	jq -r -n --slurpfile inv "$DEMO/stripe/invoices.json" \
		--slurpfile cs "$DEMO/stripe/checkout_sessions.json" \
		--slurpfile re "$DEMO/stripe/refunds.json" -f "$T_TOP/tests/cli/stripe_revenue.jq" |
		sort >"$T_TMP/want_rev"
	csvq "$R/revenue.csv" "SELECT period || ' ' || currency || ' ' || SUM(gross_minor) || ' ' ||
		SUM(refunds_minor) || ' ' || SUM(net_minor) FROM t GROUP BY period, currency" |
		sort >"$T_TMP/got_rev"
	[ "$(cut -d' ' -f2 "$T_TMP/want_rev" | sort -u | tr '\n' ' ')" = "bhd eur gbp jpy usd " ] ||
		t_fail "the demo's revenue lacks a currency: $(cut -d' ' -f2 "$T_TMP/want_rev" | sort -u)"
	diff "$T_TMP/want_rev" "$T_TMP/got_rev" >"$T_TMP/rev.diff" ||
		t_fail "revenue by month x currency differs from the Stripe objects: $(head -c 600 "$T_TMP/rev.diff")"
	# amounts as decimals by the currency's exponent
	[ "$(csvq "$R/revenue.csv" "SELECT COUNT(*) FROM t WHERE currency = 'jpy' AND (currency_exponent <> '0' OR gross LIKE '%.%')")" = 0 ] ||
		t_fail "JPY amounts are not zero-decimal"
	[ "$(csvq "$R/revenue.csv" "SELECT COUNT(*) FROM t WHERE currency = 'bhd' AND (currency_exponent <> '3' OR gross NOT GLOB '*.[0-9][0-9][0-9]')")" = 0 ] ||
		t_fail "BHD amounts do not have three decimals"
	# one enrolments.csv row per enrolment of the import, same ids and statuses
	tail -n +2 "$DEMO/import/enrolments.csv" | tr -d '\r' | cut -d, -f1 | sort >"$T_TMP/want_en"
	csvq "$R/enrolments.csv" "SELECT enrolment_id FROM t ORDER BY 1" >"$T_TMP/got_en"
	diff -q "$T_TMP/want_en" "$T_TMP/got_en" >/dev/null || t_fail "enrolments.csv ids differ from the import"
	# drift.csv: the open findings are exactly the planted ones
	tail -n +2 "$DEMO/expected_findings.csv" | cut -d, -f1,2 | sort >"$T_TMP/want_drift"
	csvq "$R/drift.csv" "SELECT rule || ',' || subject_type || ':' || subject_id FROM t WHERE status = 'open'" |
		sort >"$T_TMP/got_drift"
	diff -q "$T_TMP/want_drift" "$T_TMP/got_drift" >/dev/null || t_fail "drift.csv open findings differ from the planted ones"
	# plan_audit: one row per plan of the catalogue
	[ "$(csvq "$R/plan_audit.csv" "SELECT group_concat(plan, ' ') FROM (SELECT plan FROM t ORDER BY plan)")" = "attendee lms organization organizer" ] ||
		t_fail "plan_audit.csv plans"
	# the manifest's rows and sha256 match the files
	for f in enrolments.csv revenue.csv drift.csv plan_audit.csv; do
		[ "$(jq -r --arg f "$f" '.files[] | select(.file == $f) | .sha256' "$R/manifest.json")" = \
			"$(sha256sum "$R/$f" | cut -d' ' -f1)" ] || t_fail "manifest sha256 of $f"
	done
	t_end
fi

if "$TRUEUP" repair --help >/dev/null 2>&1; then
	t_begin "repair: the plan changes nothing; --apply leaves only report-only findings"
	before=$(platform_sum)
	run repair
	expect_status 0
	[ "$(platform_sum)" = "$before" ] || t_fail "the repair plan changed the platform"
	run repair --apply
	expect_status 0
	[ "$(q "SELECT COUNT(*) FROM repair_ledger")" -gt 0 ] || t_fail "nothing in the ledger"
	run reconcile
	expect_status 0
	left=$(q "SELECT rule || ' ' || subject || ' ' || action FROM findings
		WHERE status = 'open' AND action NOT IN ('report', 'none') ORDER BY 1")
	[ -z "$left" ] || t_fail "repairable findings still open: $left"
	t_end

	t_begin "repair: a second --apply changes nothing"
	before=$(platform_sum)
	n=$(q "SELECT COUNT(*) FROM repair_ledger")
	run repair --apply
	expect_status 0
	[ "$(platform_sum)" = "$before" ] || t_fail "the second apply changed the platform"
	[ "$(q "SELECT COUNT(*) FROM repair_ledger")" = "$n" ] || t_fail "the second apply added ledger rows"
	t_end
fi

t_done
