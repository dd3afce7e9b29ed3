#!/usr/bin/env bash
# tests/cli/test_repair.sh - `trueup repair` as ops run it: the plan (and
# that it changes nothing), --apply and its summary, a second --apply that
# applies nothing, --rule, the journal (--export FILE and -), refusals with
# their exit codes, the run row, kill -9 during --apply (nothing half
# applied; the next --apply ends where an uninterrupted one ends), and two
# --apply processes at once (every action applied exactly once).  The
# database is the clean base of fixtures/rules/ plus several drift cases;
# the per-rule proofs are in tests/unit/test_repair.c.
. "$(dirname "$0")/lib.sh"
R=$T_TOP/fixtures/rules
export TRUEUP_NOW=2026-05-02T00:00:00Z
q() { sqlite3 "$DB" "$1"; }

# load [DB]: a fresh database with drift of many rules, reconciled.
load() {
	local db=${1:-$DB} c
	rm -f "$db" "$db-wal" "$db-shm"
	"$TRUEUP" --config "$CFG" --db "$db" init >/dev/null || t_fail "init"
	"$TRUEUP" --config "$CFG" --db "$db" import "$R/base/platform" >/dev/null || t_fail "import"
	sqlite3 "$db" <"$R/base/stripe.sql" || t_fail "base stripe.sql"
	for c in E2 P1 P3 R1 C1 C2 C4 E6; do
		if [ -d "$R/$c/drift/platform" ]; then
			"$TRUEUP" --config "$CFG" --db "$db" import "$R/$c/drift/platform" >/dev/null ||
				t_fail "import $c"
		fi
		if [ -f "$R/$c/drift/setup.sql" ]; then
			sqlite3 "$db" <"$R/$c/drift/setup.sql" || t_fail "$c setup.sql"
		fi
	done
	"$TRUEUP" --config "$CFG" --db "$db" reconcile >/dev/null || t_fail "reconcile"
}

# state DB: what a repair decides, without run ids.
state() {
	local db=$1 t
	for t in tenants memberships purchase_intents entitlements seat_assignments courses \
		enrolments step_progress; do
		echo "== $t"
		sqlite3 "$db" "SELECT * FROM $t ORDER BY 1,2"
	done
	echo "== ledger"
	sqlite3 "$db" "SELECT idempotency_key, action_key, rule, subject, table_name, row_id, op,
		before, after, applied_at FROM repair_ledger ORDER BY idempotency_key"
	echo "== findings"
	sqlite3 "$db" "SELECT rule, subject, status, repaired_at FROM findings ORDER BY 1,2"
}

t_begin "repair --help and the command list"
run repair --help
expect_status 0
expect_stdout_contains "usage: trueup repair [--apply] [--rule CODE,...] [--export FILE]"
run_raw --help
expect_stdout_matches '^  repair +show \(default\) or apply the repairs'
t_end

t_begin "bad command lines are usage errors (exit 2)"
run init
run repair --rule E1,X9
expect_status 2
expect_stderr_contains 'unknown rule "X9"'
run repair extra
expect_status 2
expect_stderr_contains "unexpected argument 'extra'"
run repair --frobnicate
expect_status 2
run repair --export ''
expect_status 2
expect_stderr_contains "--export needs a file name"
t_end

t_begin "no pull: exit 66; no reconcile: exit 66 naming the next step"
rm -f "$DB"
run init
run repair
expect_status 66
expect_stderr_contains "trueup pull"
sqlite3 "$DB" <"$R/base/stripe.sql"
run repair
expect_status 66
expect_stderr_contains "error: repair: there are no findings yet: run 'trueup reconcile' first"
t_end

t_begin "the plan lists every action and changes nothing"
load
before=$(db_checksum "$DB")
run repair
expect_status 0
expect_stdout_matches '^rule +status +action +subject +change$'
expect_stdout_matches '^P1 +auto +provision +checkout_session:cs_new '
expect_stdout_matches '^E2 +auto +revoke +entitlement:ent_gone +entitlements ent_gone status: active -> revoked$'
expect_stdout_matches '^C4 +auto +set +course:c_orph +courses c_orph owner_user_id: NULL -> u_own2$'
expect_stdout_matches '^plan: [0-9]+ actions to apply, 0 manual \(not in repair.auto_apply\), [0-9]+ report-only; nothing changed \(use --apply\)$'
expect_stdout_contains "(G1: admin grants, never changed)"
[ "$(db_checksum "$DB")" = "$before" ] || t_fail "the plan changed the database"
t_end

t_begin "--apply repairs, records a run row, and a second --apply applies nothing"
load
run repair --apply
expect_status 0
expect_stdout_matches '^P1 +applied +provision +checkout_session:cs_new '
expect_stdout_matches '^applied [1-9][0-9]* actions \([0-9]+ ledger rows\); '
applied=$(sed -n 's/^applied \([0-9]*\) actions.*/\1/p' "$T_OUT")
rows=$(q "SELECT COUNT(*) FROM repair_ledger")
grep -q "($rows ledger rows)" "$T_OUT" || t_fail "summary does not say $rows ledger rows"
[ "$(q "SELECT status || ' ' || exit_code FROM runs WHERE command = 'repair' ORDER BY id DESC LIMIT 1")" = "ok 0" ] ||
	t_fail "no ok run row"
q "SELECT counts FROM runs WHERE command = 'repair' ORDER BY id DESC LIMIT 1" | grep -q "\"applied\":$applied" ||
	t_fail "run counts lack applied $applied"
[ "$(q "SELECT COUNT(DISTINCT run_id) FROM repair_ledger")" = 1 ] || t_fail "ledger run ids"
[ "$(q "SELECT status FROM entitlements WHERE id = 'ent_gone'")" = revoked ] || t_fail "ent_gone not revoked"
[ "$(q "SELECT revoked_reason IS NOT NULL AND revoked_at = '2026-05-02T00:00:00Z' FROM entitlements WHERE id = 'ent_gone'")" = 1 ] ||
	t_fail "revocation is not soft with reason and time"
before=$(db_checksum "$DB")
run repair --apply
expect_status 0
expect_stdout_matches '^applied 0 actions \(0 ledger rows\); '
[ "$(q "SELECT COUNT(*) FROM repair_ledger")" = "$rows" ] || t_fail "second apply wrote ledger rows"
t_end

t_begin "reconcile after --apply: nothing repairable is left open"
run reconcile
expect_status 0
run repair
expect_stdout_matches '^plan: 0 actions to apply, '
t_end

t_begin "status shows the snapshot and open drift by rule"
run status
expect_status 0
expect_stdout_matches '^stripe snapshot: pull 1 \(full\) ok, started '
expect_stdout_matches '^  rule +name +critical +high +medium +info +repaired$'
expect_stdout_matches '^  G1 +admin_grant +0 +0 +0 +1 +0$'
expect_stdout_matches '^  P1 +unprovisioned_payment +0 +0 +0 +0 +2$'
t_end

t_begin "--rule applies only those rules"
load
run repair --apply --rule C4
expect_status 0
[ "$(q "SELECT COUNT(*) FROM repair_ledger WHERE rule <> 'C4'")" = 0 ] || t_fail "other rules applied"
[ "$(q "SELECT COUNT(*) FROM repair_ledger WHERE rule = 'C4'")" -ge 1 ] || t_fail "C4 not applied"
t_end

t_begin "--export writes the journal as JSON lines, to a file or stdout"
load
run repair --apply --export "$T_TMP/journal.jsonl"
expect_status 0
rows=$(q "SELECT COUNT(*) FROM repair_ledger")
expect_stdout_contains "exported $rows applied repairs to $T_TMP/journal.jsonl"
[ "$(wc -l <"$T_TMP/journal.jsonl")" = "$rows" ] || t_fail "journal lines != ledger rows"
jq -e -s 'all(.[]; has("idempotency_key") and has("table") and has("row_id") and has("op") and has("fields"))' \
	"$T_TMP/journal.jsonl" >/dev/null || t_fail "journal lines lack keys"
[ "$(jq -r .idempotency_key "$T_TMP/journal.jsonl" | sort -u | wc -l)" = "$rows" ] || t_fail "keys not unique"
jq -e -s 'map(select(.table == "entitlements" and .row_id == "ent_gone"))[0].fields.status == "revoked"' \
	"$T_TMP/journal.jsonl" >/dev/null || t_fail "ent_gone revocation not in the journal"
ls "$T_TMP"/journal.jsonl.tmp.* >/dev/null 2>&1 && t_fail "temporary file left behind"
run repair --export -
expect_status 0
cmp -s "$T_OUT" "$T_TMP/journal.jsonl" || t_fail "--export - differs from the file"
run repair --export "$T_TMP/no/such/dir/j.jsonl"
expect_status 73
expect_stderr_contains "$T_TMP/no/such/dir/j.jsonl: cannot create"
t_end

t_begin "findings older than the newest pull: exit 75, nothing applied"
load
q "INSERT INTO stripe_pull_runs (mode, started_at, finished_at, status) VALUES ('incremental', '2026-05-02T01:00:00Z', '2026-05-02T01:01:00Z', 'ok')"
run repair --apply
expect_status 75
expect_stderr_contains "predate stripe pull"
expect_stderr_contains "nothing was applied"
[ "$(q "SELECT COUNT(*) FROM repair_ledger")" = 0 ] || t_fail "something was applied"
t_end

# The uninterrupted result to compare against.
CLEAN=$T_TMP/clean.db
load "$CLEAN"
"$TRUEUP" --config "$CFG" --db "$CLEAN" repair --apply >/dev/null 2>&1 || t_fail "clean apply"
CLEAN_STATE=$(state "$CLEAN")
NACT=$(sqlite3 "$CLEAN" "SELECT COUNT(DISTINCT action_key) FROM repair_ledger")

t_begin "kill -9 during --apply: nothing half applied; --apply again ends where a clean apply ends"
K=$T_TMP/kill.db
load "$K"
before=$(db_checksum "$K")
killed=0
for i in 1 2 3 4 5; do
	TRUEUP_REPAIR_TEST_DELAY_MS=120 "$TRUEUP" --config "$CFG" --db "$K" repair --apply >/dev/null 2>&1 &
	pid=$!
	sleep "0.$((RANDOM % 8 + 1))"
	kill -9 "$pid" 2>/dev/null && killed=$((killed + 1))
	wait "$pid" 2>/dev/null
	[ "$(sqlite3 "$K" 'PRAGMA integrity_check')" = ok ] || t_fail "integrity_check after kill $i"
	[ "$(db_checksum "$K")" = "$before" ] || t_fail "kill $i left a partial repair"
done
[ "$killed" -ge 3 ] || t_fail "only $killed applies were killed before they finished"
"$TRUEUP" --config "$CFG" --db "$K" repair --apply >/dev/null 2>&1 || t_fail "apply after kills"
[ "$(state "$K")" = "$CLEAN_STATE" ] || t_fail "state after kills differs from a clean apply"
t_end

t_begin "two --apply at once: every action applied exactly once"
C2=$T_TMP/conc.db
load "$C2"
TRUEUP_REPAIR_TEST_DELAY_MS=40 "$TRUEUP" --config "$CFG" --db "$C2" repair --apply >"$T_TMP/a.out" 2>&1 &
p1=$!
TRUEUP_REPAIR_TEST_DELAY_MS=40 "$TRUEUP" --config "$CFG" --db "$C2" repair --apply >"$T_TMP/b.out" 2>&1 &
p2=$!
wait "$p1" || t_fail "first apply failed: $(cat "$T_TMP/a.out")"
wait "$p2" || t_fail "second apply failed: $(cat "$T_TMP/b.out")"
a=$(sed -n 's/^applied \([0-9]*\) actions.*/\1/p' "$T_TMP/a.out")
b=$(sed -n 's/^applied \([0-9]*\) actions.*/\1/p' "$T_TMP/b.out")
[ $((a + b)) = "$NACT" ] || t_fail "applied $a + $b, expected $NACT in all"
[ "$(state "$C2")" = "$CLEAN_STATE" ] || t_fail "state differs from one clean apply"
t_end

t_done
