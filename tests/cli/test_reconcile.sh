#!/usr/bin/env bash
# tests/cli/test_reconcile.sh - `trueup reconcile` as a user runs it: the
# summary by rule and severity, --rule, --fail-on exit codes, the run row,
# refusal without a pull or on an unfinished one (and --allow-unfinished),
# idempotent re-runs, and the three-tier catalogue.  The database is built
# from the data-driven cases of fixtures/rules/ (platform CSVs through
# `trueup import`, the Stripe snapshot rows with sqlite3); the per-rule
# proofs are in tests/unit/test_reconcile.c.
. "$(dirname "$0")/lib.sh"
R=$T_TOP/fixtures/rules
export TRUEUP_NOW=2026-05-02T00:00:00Z
q() { sqlite3 "$DB" "$1"; }

# load_base [SETUP.sql...]: a fresh database with the clean base plus setups.
load_base() {
	rm -f "$DB" "$DB-wal" "$DB-shm"
	run init >/dev/null
	run import "$R/base/platform"
	[ "$T_STATUS" -eq 0 ] || t_fail "import failed: $(cat "$T_ERR")"
	sqlite3 "$DB" <"$R/base/stripe.sql" || t_fail "base stripe.sql failed"
	local f
	for f in "$@"; do
		sqlite3 "$DB" <"$f" || t_fail "$f failed"
	done
}

t_begin "reconcile --help"
run reconcile --help
expect_status 0
expect_stdout_contains "usage: trueup reconcile [--rule CODE,...] [--fail-on SEVERITY] [--allow-unfinished]"
t_end

t_begin "reconcile is listed by trueup --help"
run_raw --help
expect_stdout_matches '^  reconcile +compute drift findings'
t_end

t_begin "no pull yet: exit 66 with a clear message"
run init
run reconcile
expect_status 66
expect_stderr_contains "error: reconcile: no stripe snapshot yet: run 'trueup pull' first"
expect_stdout_empty
run reconcile --allow-unfinished
expect_status 66
t_end

t_begin "bad command lines are usage errors"
run reconcile --rule E1,X9
expect_status 2
expect_stderr_contains 'unknown rule "X9"'
run reconcile --fail-on severe
expect_status 2
expect_stderr_contains "--fail-on: 'severe' is not critical, high, medium or info"
run reconcile extra
expect_status 2
run reconcile --rule
expect_status 2
t_end

t_begin "clean platform: every rule, nothing open"
load_base
run reconcile --fail-on info
expect_status 0
expect_stdout_matches '^reconcile run 1: 20 rules against pull 1 \(ok\) at 2026-05-02T00:00:00Z$'
expect_stdout_matches '^rule +name +critical +high +medium +info +found +new +resolved$'
expect_stdout_matches '^E1 +missing_entitlement +0 +0 +0 +0 +0 +0 +0$'
expect_stdout_matches '^M1 +unmapped_stripe_object +0'
expect_stdout_contains "open: 0 (critical 0, high 0, medium 0, info 0); this run: 0 found, 0 new, 0 reopened, 0 resolved"
expect_stderr_empty
t_end

t_begin "drift: summary by rule and severity"
load_base "$R/E3/drift/setup.sql" "$R/P2/drift/setup.sql" "$R/G1/drift/setup.sql"
run reconcile
expect_status 0
expect_stdout_matches '^E3 +seat_quantity_drift +0 +0 +1 +0 +1 +1 +0$'
expect_stdout_matches '^P2 +unpaid_tenant +2 +0 +0 +0 +2 +2 +0$'
expect_stdout_matches '^G1 +admin_grant +0 +0 +0 +1 +1 +1 +0$'
expect_stdout_contains "open: 4 (critical 2, high 0, medium 1, info 1); this run: 4 found, 4 new, 0 reopened, 0 resolved"
[ "$(q "SELECT status, exit_code, json_extract(counts, '\$.new') FROM runs WHERE command='reconcile' ORDER BY id DESC LIMIT 1")" = "ok|0|4" ] \
	|| t_fail "run row: $(q "SELECT * FROM runs WHERE command='reconcile'")"
t_end

t_begin "re-running changes no identity: no duplicates, last_seen moves"
run reconcile
expect_status 0
expect_stdout_contains "this run: 4 found, 0 new, 0 reopened, 0 resolved"
[ "$(q "SELECT COUNT(*), COUNT(DISTINCT rule || subject), MIN(last_run_id) FROM findings")" = "4|4|2" ] \
	|| t_fail "findings: $(q "SELECT rule, subject, first_run_id, last_run_id FROM findings")"
t_end

t_begin "--fail-on: exit 1 at or above the severity, 0 below"
run reconcile --fail-on critical
expect_status 1
expect_stdout_contains "fail-on critical: open findings at critical or above (exit 1)"
expect_stderr_empty
run reconcile --fail-on info
expect_status 1
run reconcile --rule E3 --fail-on high
expect_status 0
expect_stdout_matches '^reconcile run [0-9]+: 1 rules'
expect_stdout_lacks "P2 "
run reconcile --rule e3,g1 --fail-on medium
expect_status 1
[ "$(q "SELECT status, exit_code FROM runs WHERE command='reconcile' ORDER BY id DESC LIMIT 1")" = "ok|1" ] \
	|| t_fail "a --fail-on exit is recorded as ok with exit code 1"
t_end

t_begin "drift that goes away is resolved"
sqlite3 "$DB" "UPDATE entitlements SET quantity_seats = 3 WHERE id = 'ent_org'"
run reconcile --rule E3
expect_status 0
expect_stdout_matches '^E3 +seat_quantity_drift +0 +0 +0 +0 +0 +0 +1$'
[ "$(q "SELECT status FROM findings WHERE rule = 'E3'")" = resolved ] || t_fail "E3 not resolved"
[ "$(q "SELECT status FROM findings WHERE rule = 'P2' LIMIT 1")" = open ] || t_fail "P2 touched by --rule E3"
t_end

t_begin "unfinished pull: refused (75) unless --allow-unfinished"
sqlite3 "$DB" "INSERT INTO stripe_pull_runs (mode, started_at, status) VALUES ('incremental', '2026-05-01T23:30:00Z', 'running')"
before=$(db_checksum "$DB")
run reconcile
expect_status 75
expect_stderr_contains "error: reconcile: the last stripe pull (run 2, started 2026-05-01T23:30:00Z) has not finished: run 'trueup pull' to complete it"
[ "$(db_checksum "$DB")" = "$before" ] || t_fail "a refused reconcile changed the database"
run reconcile --allow-unfinished
expect_status 0
expect_stderr_contains "warning: reconcile: the last stripe pull (run 2"
expect_stderr_contains "reconciled anyway (--allow-unfinished)"
expect_stdout_matches 'against pull 2 \(running\)'
t_end

t_begin "three-tier catalogue: audience 20 / 10,000 / unlimited"
rm -f "$DB" "$DB-wal" "$DB-shm"
run_raw --config "$T_TOP/fixtures/config/tiers.json" --db "$DB" init
run_raw --config "$T_TOP/fixtures/config/tiers.json" --db "$DB" import "$R/base/platform"
run_raw --config "$T_TOP/fixtures/config/tiers.json" --db "$DB" import "$R/L2/tiers_drift/platform"
sqlite3 "$DB" <"$R/base/stripe.sql"
run_raw --config "$T_TOP/fixtures/config/tiers.json" --db "$DB" reconcile --rule L2 --fail-on medium
expect_status 1
expect_stdout_matches '^L2 +over_limit_audience +0 +0 +2 +0 +2 +2 +0$'
[ "$(q "SELECT group_concat(subject, ' ') FROM (SELECT subject FROM findings ORDER BY subject)")" = "tenant:t_basic tenant:t_ea" ] \
	|| t_fail "L2 subjects: $(q "SELECT subject FROM findings")"
t_end

t_done
