#!/usr/bin/env bash
# tests/cli/test_pull.sh - `trueup pull` as a user runs it, against the fake
# Stripe (tests/fakestripe/) started here on port 0.
#
# Checks the command line (--only, a missing key), the summary and the run
# row, a wrong key (exit 77 with the request id, snapshot untouched),
# SIGTERM (exit 75, then a second pull resumes), kill -9 at random points
# of a slow pull followed by a pull that completes (integrity_check ok and
# the same snapshot as a clean pull; the same while a slow pull pages
# subscription items and invoice lines beyond the first 10, one per page),
# and that the key never reaches
# stderr, the JSON log, stdout or the database files.  The equality,
# fault and incremental proofs are in tests/unit/test_pull.c.
. "$(dirname "$0")/lib.sh"
FAKESTRIPE=${FAKESTRIPE:-build/default/fakestripe}
case "$FAKESTRIPE" in /*) ;; *) FAKESTRIPE=$T_TOP/$FAKESTRIPE ;; esac
KEY=sk_test_cliPull${$}x0123456789
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$T_TMP"' EXIT

# start_fake NAME ARGS...: start an instance, set ${NAME}_PORT and ${NAME}_PID.
start_fake() {
	local name=$1 i port=""; shift
	FAKESTRIPE_KEY=$KEY "$FAKESTRIPE" --port 0 "$@" >"$T_TMP/$name.out" 2>"$T_TMP/$name.err" &
	local pid=$!
	PIDS+=("$pid")
	for i in $(seq 1 100); do
		port=$(sed -n '1s/^listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$T_TMP/$name.out" 2>/dev/null)
		[ -n "$port" ] && break
		sleep 0.05
	done
	printf -v "${name}_PORT" '%s' "$port"
	printf -v "${name}_PID" '%s' "$pid"
}

# snap_sum DB: a digest of every snapshot table's typed columns (not the
# raw JSON, Stripe-Version or times), tombstones as a flag.
snap_sum() {
	local db=$1 t cols
	for t in stripe_customers stripe_products stripe_prices stripe_subscriptions \
		stripe_subscription_items stripe_checkout_sessions stripe_checkout_line_items \
		stripe_refunds stripe_invoices stripe_invoice_lines; do
		cols=$(sqlite3 "$db" "SELECT group_concat(name, ',') FROM pragma_table_info('$t') WHERE name NOT IN ('raw_json','stripe_version','pulled_at','deleted_at')")
		echo "== $t"
		if sqlite3 "$db" "SELECT 1 FROM pragma_table_info('$t') WHERE name = 'deleted_at'" | grep -q 1; then
			sqlite3 "$db" "SELECT $cols, deleted_at IS NULL FROM $t ORDER BY 1, 2"
		else
			sqlite3 "$db" "SELECT $cols FROM $t ORDER BY 1, 2"
		fi
	done | sha256sum | cut -d' ' -f1
}

pull_env() {  # pull_env PORT: the environment of a pull against that fake
	export TRUEUP_STRIPE_API_BASE=http://127.0.0.1:$1 STRIPE_API_KEY=$KEY TRUEUP_PULL_BACKOFF_MS=5
}

# kill_pulls DB TIMES MIN FROM SPAN PAGE: TIMES pulls into a new DB (page
# size PAGE), each killed with -9 after 0.FROM0 .. 0.(FROM+SPAN-1)9 s; the
# database passes integrity_check after each; at least MIN were killed
# before they finished.  HOT counts the kills that left a hot rollback
# journal (a first relist bulk-loads through one), which the next open
# rolls back.
kill_pulls() {
	local db=$1 times=$2 min=$3 from=$4 span=$5 page=$6 i pid killed=0
	HOT=0
	run_raw --config "$CFG" --db "$db" init
	for i in $(seq 1 "$times"); do
		"$TRUEUP" --config "$CFG" --db "$db" pull --page-size "$page" >/dev/null 2>&1 &
		pid=$!
		sleep "0.$((RANDOM % span + from))$((RANDOM % 10))"
		kill -9 "$pid" 2>/dev/null && killed=$((killed + 1))
		wait "$pid" 2>/dev/null
		[ -s "$db-journal" ] && HOT=$((HOT + 1))
		[ "$(sqlite3 "$db" 'PRAGMA integrity_check')" = ok ] || t_fail "integrity_check after kill $i"
	done
	[ "$killed" -ge "$min" ] || t_fail "only $killed pulls were killed before they finished"
}

start_fake fx --data "$T_TOP/fixtures/stripe/basic" --now 1777680000
start_fake slow --generate 4000 --seed 11 --latency 40
start_fake kids --data "$T_TOP/fixtures/stripe/children" --now 1777680000 --shape asis --latency 25

# A pull into empty tables builds their secondary indexes at the end of
# each relist (007_pull_bulk.sql): whatever happens, the indexes a pull
# leaves are those of a fresh database, and none stays deferred.
indexes_of() {
	sqlite3 "$1" "SELECT (SELECT count(*) FROM stripe_deferred_indexes) || ' deferred'; \
		SELECT name || ': ' || sql FROM sqlite_master WHERE type = 'index' ORDER BY name"
}

t_begin "pull: an unknown resource is a usage error naming it"
pull_env "$fx_PORT"
run init
FRESH_INDEXES=$(indexes_of "$DB")
run pull --only customers,charges
expect_status 2
expect_stderr_contains '"charges"'
t_end

t_begin "pull: no key is a config error naming the variable"
unset STRIPE_API_KEY
run pull
expect_status 78
expect_stderr_contains "STRIPE_API_KEY"
pull_env "$fx_PORT"
t_end

t_begin "pull: fixture data, summary on stdout, run row with counts"
run pull
expect_status 0
expect_stdout_matches '^customers +[0-9]+ objects +\([0-9]+ new'
expect_stdout_matches '^subscriptions +[0-9]+ objects'
expect_stdout_matches '^total +[0-9]+ objects in [0-9.]+ s \([0-9]+ objects/s\)'
[ "$(sqlite3 "$DB" "SELECT status FROM runs WHERE command = 'pull' ORDER BY id DESC LIMIT 1")" = ok ] ||
	t_fail "run row not ok"
sqlite3 "$DB" "SELECT counts FROM runs WHERE command = 'pull' ORDER BY id DESC LIMIT 1" |
	grep -q '"subscriptions":{"objects":[1-9]' || t_fail "run counts lack subscriptions"
n=$(sqlite3 "$DB" "SELECT count(*) FROM stripe_subscriptions")
want=$(curl -s "http://127.0.0.1:$fx_PORT/_fake/health" | jq '.counts.subscriptions')
[ "$n" = "$want" ] || t_fail "subscriptions: $n in the snapshot, $want at the fake"
# the first pull bulk-loaded through a rollback journal: WAL again after it
[ "$(sqlite3 "$DB" 'PRAGMA journal_mode')" = wal ] || t_fail "not in WAL mode after the pull"
[ ! -e "$DB-journal" ] || t_fail "a rollback journal was left behind"
t_end

t_begin "pull: a second pull is incremental and changes nothing"
before=$(snap_sum "$DB")
run pull
expect_status 0
expect_stdout_matches '^events +'
expect_stdout_lacks "(full)"
[ "$(snap_sum "$DB")" = "$before" ] || t_fail "snapshot changed"
t_end

t_begin "pull: a wrong key exits 77 naming the request, snapshot untouched"
before=$(snap_sum "$DB")
STRIPE_API_KEY=sk_test_wrongWrongWrong123 run pull --full
expect_status 77
expect_stderr_matches 'pull: [a-z_]+: GET /v1/[a-z/_]+.*401.*\(request req_'
expect_stderr_lacks "sk_test_wrongWrongWrong123"
expect_stderr_lines 1
[ "$(snap_sum "$DB")" = "$before" ] || t_fail "snapshot changed"
[ "$(sqlite3 "$DB" "SELECT status FROM stripe_pull_runs ORDER BY id DESC LIMIT 1")" = failed ] ||
	t_fail "pull run not marked failed"
t_end

t_begin "pull: a first pull that fails leaves the indexes of a fresh database"
F=$T_TMP/failfirst.db
run_raw --config "$CFG" --db "$F" init
STRIPE_API_KEY=sk_test_wrongWrongWrong123 run_raw --config "$CFG" --db "$F" pull
expect_status 77
[ "$(indexes_of "$F")" = "$FRESH_INDEXES" ] || t_fail "indexes differ after a failed first pull"
t_end

t_begin "pull: the key never reaches stderr, the JSON log, stdout or the database"
run --log-format json -v pull --full
expect_status 0
expect_stderr_contains '"level":"debug"'
for f in "$T_ERR" "$T_OUT" "$DB" "$DB-wal" "$DB-journal" "$T_TMP/fx.out" "$T_TMP/fx.err"; do
	[ -f "$f" ] || continue
	! grep -qaF -- "$KEY" "$f" || t_fail "key found in $f"
done
t_end

# A clean pull of the slow fake, the reference for the interrupted ones.
pull_env "$slow_PORT"
CLEAN=$T_TMP/clean.db
T_NO_DEFAULTS=1 run_raw --config "$CFG" --db "$CLEAN" init
T_NO_DEFAULTS=1 run_raw --config "$CFG" --db "$CLEAN" pull --page-size 10
CLEAN_SUM=$(snap_sum "$CLEAN")

t_begin "pull: SIGTERM exits 75 and the next pull resumes"
K=$T_TMP/term.db
run_raw --config "$CFG" --db "$K" init
"$TRUEUP" --config "$CFG" --db "$K" pull --page-size 10 >"$T_OUT" 2>"$T_ERR" &
pid=$!
sleep 0.4
kill -TERM "$pid"
wait "$pid"; st=$?
[ "$st" = 75 ] || t_fail "exit $st after SIGTERM, expected 75 (or the pull was too fast)"
grep -q "interrupted; run 'trueup pull' again to resume" "$T_ERR" || t_fail "no resume hint"
run_raw --config "$CFG" --db "$K" pull --page-size 10
expect_status 0
[ "$(snap_sum "$K")" = "$CLEAN_SUM" ] || t_fail "resumed snapshot differs from a clean one"
[ "$(indexes_of "$K")" = "$FRESH_INDEXES" ] || t_fail "indexes differ after a resumed pull"
t_end

# A fake with no latency keeps the writer of a first pull in a transaction
# nearly all the time: a command opened meanwhile cannot switch the database
# back to WAL, and must read in the rollback journal instead of failing.
t_begin "pull: status answers while a first pull bulk-loads through a rollback journal"
start_fake fast --generate 30000 --seed 5
pull_env "$fast_PORT"
S=$T_TMP/status.db
run_raw --config "$CFG" --db "$S" init
"$TRUEUP" --config "$CFG" --db "$S" pull >/dev/null 2>"$T_TMP/status-pull.err" &
pid=$!
for i in $(seq 1 500); do
	[ -e "$S-journal" ] && break
	sleep 0.01
done
[ -e "$S-journal" ] || t_fail "the first pull wrote no rollback journal"
n=0
while kill -0 "$pid" 2>/dev/null && [ "$n" -lt 10 ]; do
	run_raw --config "$CFG" --db "$S" status
	expect_status 0
	n=$((n + 1))
done
wait "$pid"; st=$?
[ "$st" = 0 ] || t_fail "the pull exited $st: $(cat "$T_TMP/status-pull.err")"
[ "$n" -ge 3 ] || t_fail "the pull ended after $n status calls"
[ "$(sqlite3 "$S" 'PRAGMA journal_mode')" = wal ] || t_fail "not in WAL mode after the pull"
[ "$(sqlite3 "$S" 'PRAGMA integrity_check')" = ok ] || t_fail "integrity_check"
n=$(sqlite3 "$S" "SELECT count(*) FROM stripe_invoices")
want=$(curl -s "http://127.0.0.1:$fast_PORT/_fake/health" | jq '.counts.invoices')
[ "$n" = "$want" ] || t_fail "invoices: $n in the snapshot, $want at the fake"
pull_env "$slow_PORT"
t_end

t_begin "pull: kill -9 at 10 random points, then pull: integrity ok, same snapshot"
K=$T_TMP/kill.db
kill_pulls "$K" 10 5 1 4 10
[ "$HOT" -ge 1 ] || t_fail "no kill left a hot journal: the bulk load's recovery went untested"
run_raw --config "$CFG" --db "$K" pull --page-size 10
expect_status 0
[ "$(sqlite3 "$K" 'PRAGMA integrity_check')" = ok ] || t_fail "integrity_check"
[ "$(snap_sum "$K")" = "$CLEAN_SUM" ] || t_fail "snapshot after kills differs from a clean one"
[ "$(indexes_of "$K")" = "$FRESH_INDEXES" ] || t_fail "indexes differ after the kills"
t_end

t_begin "pull: kill -9 while paging children (page size 1), then pull: same snapshot"
pull_env "$kids_PORT"
KC=$T_TMP/kids-clean.db
T_NO_DEFAULTS=1 run_raw --config "$CFG" --db "$KC" init
T_NO_DEFAULTS=1 run_raw --config "$CFG" --db "$KC" pull --page-size 1
expect_status 0
[ "$(sqlite3 "$KC" 'SELECT count(*) FROM stripe_subscription_items')" = 37 ] ||
	t_fail "clean pull: $(sqlite3 "$KC" 'SELECT count(*) FROM stripe_subscription_items') items, want 37"
[ "$(sqlite3 "$KC" 'SELECT count(*) FROM stripe_invoice_lines')" = 46 ] ||
	t_fail "clean pull: $(sqlite3 "$KC" 'SELECT count(*) FROM stripe_invoice_lines') lines, want 46"
K=$T_TMP/kids-kill.db
kill_pulls "$K" 6 3 2 5 1
run_raw --config "$CFG" --db "$K" pull --page-size 1
expect_status 0
[ "$(snap_sum "$K")" = "$(snap_sum "$KC")" ] || t_fail "snapshot after kills differs from a clean one"
[ "$(sqlite3 "$K" 'SELECT count(*) FROM stripe_pull_seen')" = 0 ] || t_fail "seen rows left over"
t_end

for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
PIDS=()
t_done
