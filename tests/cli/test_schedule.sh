#!/usr/bin/env bash
# test_schedule.sh - a real-time smoke test of `trueup schedule`.
#
# It uses the documented test-only time scale TRUEUP_SCHED_TEST_SPEEDUP=60
# (one real second is one scheduled minute; see src/cmd_schedule.c), so an
# every-minute job fires about once a second.  Nothing here depends on
# tight timing: every wait polls the database for up to 30 s.  Checked:
# runs recorded with their slots and no slot twice, missed runs at start-up
# (run_once fires once, skip records a skipped row), no overlap (a slot due
# while the job's run goes on is recorded skipped), SIGHUP with an invalid
# file (old definition kept, logged) and a new file (added), SIGTERM while a
# run goes on (it finishes, exit 0), every lock released.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T_TMP/cfg" "$T_TMP/jobs"
cp -R "$T_TOP/config/catalogues/events_lms" "$T_TMP/cfg/cat"
printf '%s\n' '{"database": "../default.db", "catalogue": "cat",' \
	'"stripe": {"api_version": "2025-08-27.basil"}, "jobs_dir": "../jobs"}' >"$T_TMP/cfg/trueup.json"
CFG=$T_TMP/cfg/trueup.json
JOBS=$T_TMP/jobs
job() { printf '{"name": "%s", %s}\n' "$1" "$2" >"$JOBS/$1.json"; }
q() { sqlite3 "$DB" "$1"; }
wait_for() {  # up to 30 s
	local i
	for i in $(seq 1 300); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}
count_at_least() { [ "$(q "$1")" -ge "$2" ]; }

run init >/dev/null
job tick '"schedule": "* * * * *", "steps": ["status -n 1"]'
job long '"schedule": "* * * * *", "steps": ["test-sleep 5"]'
job off '"schedule": "* * * * *", "steps": ["status"], "enabled": false'
# m1 and m2 fire daily at the time it was 2 hours ago (so never again during
# this test, even with the clock sped up) and were last dealt with 5 hours
# ago: that slot was missed while "the scheduler was down".
daily="$(date -u -d '2 hours ago' '+%-M %-H') * * *"
job m1 "\"schedule\": \"$daily\", \"steps\": [\"status -n 1\"], \"missed\": \"run_once\", \"max_age_seconds\": 86400"
job m2 "\"schedule\": \"$daily\", \"steps\": [\"status -n 1\"], \"missed\": \"skip\""
old=$(date -u -d '5 hours ago' +%Y-%m-%dT%H:%M:%SZ)
q "INSERT INTO job_slots VALUES ('m1', '$old', '$old'), ('m2', '$old', '$old')"

TRUEUP_SCHED_TEST_SPEEDUP=60 "$TRUEUP" --config "$CFG" --db "$DB" schedule --grace 20 \
	>"$T_OUT" 2>"$T_ERR" </dev/null &
SPID=$!

t_begin "schedule fires an every-minute job repeatedly, one run per slot"
wait_for count_at_least "SELECT count(*) FROM runs WHERE job='tick' AND status='ok'" 3 \
	|| t_fail "fewer than 3 runs of tick"
expect_stderr_contains "warning: schedule: TRUEUP_SCHED_TEST_SPEEDUP=60"
expect_stderr_contains "info: schedule: started with 5 jobs from "
expect_stderr_contains 'info: schedule: job "off" is disabled'
[ "$(q "SELECT count(*) FROM runs WHERE job='tick' AND (scheduled_for IS NULL OR attempt IS NOT 1)")" = 0 ] \
	|| t_fail "a run without its slot or attempt"
[ "$(q "SELECT count(*) - count(DISTINCT scheduled_for) FROM runs WHERE job='tick'")" = 0 ] \
	|| t_fail "a slot ran twice"
[ "$(q "SELECT count(*) FROM runs WHERE job='off'")" = 0 ] || t_fail "a disabled job ran"
[ -n "$(q "SELECT last_slot FROM job_slots WHERE job='tick'")" ] || t_fail "no stored slot"
t_end

t_begin "missed runs at start-up: run_once runs the newest once, skip records it"
wait_for count_at_least "SELECT count(*) FROM runs WHERE job='m1' AND status='ok'" 1 \
	|| t_fail "m1 did not run"
[ "$(q "SELECT count(*) FROM runs WHERE job='m1'")" = 1 ] || t_fail "m1 ran more than once"
[ "$(q "SELECT status, exit_code FROM runs WHERE job='m2'")" = "skipped|75" ] \
	|| t_fail "m2: $(q "SELECT * FROM runs WHERE job='m2'")"
[ "$(q "SELECT error FROM runs WHERE job='m2'")" = "1 missed run skipped (policy skip)" ] \
	|| t_fail "m2 error: $(q "SELECT error FROM runs WHERE job='m2'")"
t_end

t_begin "no overlap: a slot due while the job runs is recorded skipped"
wait_for count_at_least "SELECT count(*) FROM runs WHERE job='long' AND status='skipped'" 1 \
	|| t_fail "no skipped slot for long"
q "SELECT error FROM runs WHERE job='long' AND status='skipped' LIMIT 1" \
	| grep -qF 'the previous run of job "long" is still going' || t_fail "skip reason"
[ "$(q "SELECT count(*) FROM runs WHERE job='long' AND status='running'")" -le 1 ] \
	|| t_fail "two runs of long at once"
t_end

t_begin "SIGHUP: an invalid file keeps the old definition, a new file is added"
job tick '"schedule": "61 * * * *", "steps": ["status -n 1"]'
job added '"schedule": "* * * * *", "steps": ["status -n 1"]'
before=$(q "SELECT count(*) FROM runs WHERE job='tick' AND status='ok'")
kill -HUP $SPID
wait_for grep -q 'reload done' "$T_ERR" || t_fail "no reload"
expect_stderr_contains "warning: schedule: reload: $T_TMP/cfg/../jobs/tick.json: \$.schedule: field 1 (minute): 61 is out of range 0-59"
expect_stderr_contains 'warning: schedule: reload: job "tick" keeps its old definition (its file has problems)'
expect_stderr_contains "1 added"
wait_for count_at_least "SELECT count(*) FROM runs WHERE job='tick' AND status='ok'" $((before + 2)) \
	|| t_fail "tick stopped firing after the reload"
wait_for count_at_least "SELECT count(*) FROM runs WHERE job='added' AND status='ok'" 1 \
	|| t_fail "the added job never ran"
kill -0 $SPID 2>/dev/null || t_fail "the scheduler died"
t_end

t_begin "SIGTERM: the run going on finishes, the scheduler exits 0, locks released"
wait_for count_at_least "SELECT count(*) FROM runs WHERE job='long' AND status='running'" 1 \
	|| t_fail "long is not running"
kill -TERM $SPID
wait $SPID; T_STATUS=$?
expect_status 0
expect_stderr_contains "info: schedule: SIGTERM: no more runs will start; waiting for the runs still going"
expect_stderr_contains "info: schedule: stopped"
expect_stderr_lacks "error:"
[ "$(q "SELECT count(*) FROM runs WHERE status='running'")" = 0 ] \
	|| t_fail "runs left running: $(q "SELECT id, job FROM runs WHERE status='running'")"
[ "$(q "SELECT status FROM runs WHERE job='long' AND status!='skipped' ORDER BY id DESC LIMIT 1")" = ok ] \
	|| t_fail "the last long run did not finish ok"
for l in "$DB.scheduler.lock" "$DB.lock.long" "$DB.lock.tick"; do
	flock -n "$l" true || t_fail "lock $l still held"
done
t_end

t_begin "a second scheduler on the same database is refused"
exec 9>"$DB.scheduler.lock"
flock -n 9
run schedule
expect_status 75
expect_stderr_contains "error: schedule: another scheduler uses this database: "
exec 9>&-
t_end

t_begin "schedule refuses invalid jobs at start-up; usage errors"
run schedule
expect_status 78
expect_stderr_contains "error: schedule: $T_TMP/cfg/../jobs/tick.json: \$.schedule: field 1 (minute): 61 is out of range 0-59"
run schedule --grace x
expect_status 2
run schedule --help
expect_status 0
expect_stdout_contains "usage: trueup schedule"
t_end

t_done
