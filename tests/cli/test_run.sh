#!/usr/bin/env bash
# test_run.sh - `trueup run JOB`, `next JOB` and the jobs part of `status`:
# steps as child processes, run rows, a missing step, the per-job lock,
# the job timeout, SIGTERM, health-check pings (against a small loopback
# HTTP listener in perl, which every Debian has), `config check` of jobs.
# Slow steps use the hidden test-only command `test-sleep N`.
. "$(dirname "$0")/lib.sh"

# A config in $T_TMP/cfg with its own jobs directory $T_TMP/jobs.
mkdir -p "$T_TMP/cfg" "$T_TMP/jobs"
cp -R "$T_TOP/config/catalogues/events_lms" "$T_TMP/cfg/cat"
printf '%s\n' '{"database": "../default.db", "catalogue": "cat", "timezone": "Europe/Berlin",' \
	'"stripe": {"api_version": "2025-08-27.basil"}, "jobs_dir": "../jobs"}' >"$T_TMP/cfg/trueup.json"
CFG=$T_TMP/cfg/trueup.json
JOBS=$T_TMP/jobs

job() {  # job NAME JSON-BODY (without name): write jobs/NAME.json
	printf '{"name": "%s", %s}\n' "$1" "$2" >"$JOBS/$1.json"
}
q() { sqlite3 "$DB" "$1"; }

# wait_for CMD...: retry a condition for up to 20 s (generous on a busy box)
wait_for() {
	local i
	for i in $(seq 1 200); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

run init >/dev/null

t_begin "a job runs its steps as child processes and is recorded"
job ok '"schedule": "@daily", "steps": ["status -n 1", "init"]'
run run ok
expect_status 0
expect_stdout_contains "last runs:"
expect_stderr_contains 'info: run: job "ok" step 1/2: status -n 1'
expect_stderr_contains 'info: run: job "ok" ok (2 steps)'
expect_stderr_lacks "error:"
[ "$(q "SELECT command, job, status, exit_code, scheduled_for IS NULL, ended_at IS NOT NULL FROM runs WHERE job='ok'")" = "run|ok|ok|0|1|1" ] \
	|| t_fail "run row: $(q "SELECT * FROM runs WHERE job='ok'")"
[ "$(q "SELECT json_array_length(steps), json_extract(steps,'\$[1].step'), json_extract(steps,'\$[1].status'), json_extract(steps,'\$[1].counts.to_version') IS NOT NULL FROM runs WHERE job='ok'")" = "2|init|ok|1" ] \
	|| t_fail "steps: $(q "SELECT steps FROM runs WHERE job='ok'")"
# the init step recorded its own run row, linked by id
child=$(q "SELECT json_extract(steps,'\$[1].run_id') FROM runs WHERE job='ok'")
[ "$(q "SELECT command FROM runs WHERE id=$child")" = "init" ] || t_fail "step run row $child"
t_end

t_begin "the scheduler's slot and attempt are recorded"
run run ok --slot 2026-03-29T01:00:00Z --attempt 2
expect_status 0
[ "$(q "SELECT scheduled_for, attempt FROM runs WHERE job='ok' ORDER BY id DESC LIMIT 1")" = "2026-03-29T01:00:00Z|2" ] \
	|| t_fail "slot row: $(q "SELECT scheduled_for, attempt FROM runs WHERE job='ok' ORDER BY id DESC LIMIT 1")"
t_end

# A step command this build does not have yet (the first of these the
# --help list lacks); when all exist the test checks the import failure.
missing=""
for c in pull reconcile repair report; do
	"$TRUEUP" --help | grep -q "^  $c " || { missing=$c; break; }
done
t_begin "a step this build does not have fails clearly, with a run row"
if [ -n "$missing" ]; then
	job miss "\"schedule\": \"@daily\", \"steps\": [\"status -n 1\", \"$missing --x\", \"init\"]"
	run run miss
	expect_status 78
	expect_stderr_contains "error: run: step 2 \"$missing --x\": '$missing' is not available in this build"
	[ "$(grep -c 'error:' "$T_ERR")" -eq 1 ] || t_fail "more than one error line"
	[ "$(q "SELECT status, exit_code, json_extract(steps,'\$[1].status'), json_array_length(steps) FROM runs WHERE job='miss'")" = "failed|78|unavailable|2" ] \
		|| t_fail "row: $(q "SELECT status, exit_code, steps FROM runs WHERE job='miss'")"
	[ "$(q "SELECT error FROM runs WHERE job='miss'")" = "run: step 2 \"$missing --x\": '$missing' is not available in this build" ] \
		|| t_fail "error column"
else
	echo "  (every step command exists in this build; nothing to check)"
fi
t_end

t_begin "a failing step stops the job with its exit status"
job fails '"schedule": "@daily", "steps": ["import no-such-dir", "status"]'
run run fails
expect_status 66
expect_stderr_contains 'error: run: job "fails" failed at step 1 "import no-such-dir" (exit 66)'
expect_stdout_lacks "last runs:"
[ "$(q "SELECT status, exit_code, json_array_length(steps) FROM runs WHERE job='fails'")" = "failed|66|1" ] \
	|| t_fail "row: $(q "SELECT * FROM runs WHERE job='fails'")"
t_end

t_begin "relative step paths are relative to the jobs directory"
mkdir -p "$JOBS/data"
printf 'id,email,name,role,created_at\nu1,a@example.com,A,organizer,2026-01-01T00:00:00Z\n' >"$JOBS/data/users.csv"
job imp '"schedule": "@daily", "steps": ["import data"]'
(cd / && "$TRUEUP" --config "$CFG" --db "$DB" run imp >"$T_OUT" 2>"$T_ERR" </dev/null); T_STATUS=$?
expect_status 0
[ "$(q "SELECT count(*) FROM users")" = "1" ] || t_fail "users not imported"
t_end

t_begin "a held lock: the run is skipped, recorded, exit 75"
exec 9>"$DB.lock.ok"
flock -n 9 || t_fail "could not take the lock in the test"
run run ok
expect_status 75
expect_stderr_contains "warning: run: job \"ok\" is already running: lock \"$DB.lock.ok\" is held by another process; this run is skipped"
[ "$(q "SELECT status, exit_code, ended_at IS NOT NULL FROM runs WHERE job='ok' ORDER BY id DESC LIMIT 1")" = "skipped|75|1" ] \
	|| t_fail "row: $(q "SELECT * FROM runs WHERE job='ok' ORDER BY id DESC LIMIT 1")"
exec 9>&-
run run ok
expect_status 0
t_end

t_begin "the job timeout stops the step's process group; the lock is released"
job slow '"schedule": "@daily", "steps": ["test-sleep 60", "status"], "timeout_seconds": 1'
start=$(date +%s)
run run slow
expect_status 75
[ $(( $(date +%s) - start )) -lt 30 ] || t_fail "took $(( $(date +%s) - start )) s"
expect_stderr_contains 'error: run: job "slow" timed out after 1 s in step 1 "test-sleep 60" (stopped with SIGTERM)'
[ "$(q "SELECT status, exit_code, signal, json_array_length(steps), json_extract(steps, '\$[0].signal') FROM runs WHERE job='slow'")" = "failed|75|15|1|15" ] \
	|| t_fail "row: $(q "SELECT * FROM runs WHERE job='slow'")"
flock -n "$DB.lock.slow" true || t_fail "lock still held"
pgrep -f -- "--db $DB .*test-sleep 60" >/dev/null && t_fail "the step is still running"
t_end

t_begin "SIGTERM to the runner stops the step and is recorded"
job stop '"schedule": "@daily", "steps": ["test-sleep 60"], "timeout_seconds": 600'
"$TRUEUP" --config "$CFG" --db "$DB" run stop >"$T_OUT" 2>"$T_ERR" </dev/null &
pid=$!
wait_for grep -q 'step 1/1: test-sleep 60' "$T_ERR" || t_fail "the step never started"
sleep 0.3
kill -TERM $pid
wait $pid; T_STATUS=$?
expect_status 75
expect_stderr_contains 'error: run: job "stop" stopped by SIGTERM during step 1 "test-sleep 60"'
[ "$(q "SELECT status, signal FROM runs WHERE job='stop'")" = "failed|15" ] \
	|| t_fail "row: $(q "SELECT * FROM runs WHERE job='stop'")"
flock -n "$DB.lock.stop" true || t_fail "lock still held"
t_end

# A loopback HTTP listener: logs each request's target, answers 200.
SINK_LOG=$T_TMP/sink.log
SINK_PORT=$T_TMP/sink.port
perl -MIO::Socket::INET -e '
	my ($log, $portf) = @ARGV;
	my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => 0, Listen => 5,
	                              ReuseAddr => 1) or die "listen: $!";
	open(my $pf, ">", "$portf.tmp") or die; print $pf $s->sockport, "\n"; close $pf;
	rename("$portf.tmp", $portf);
	$SIG{ALRM} = sub { exit 0 }; alarm 120;
	while (my $c = $s->accept) {
		my $line = <$c> // ""; my ($m, $t) = split / /, $line;
		while (my $h = <$c>) { last if $h =~ /^\r?\n$/ }
		open(my $lf, ">>", $log) or die; print $lf "$m $t\n"; close $lf;
		print $c "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nOK"; close $c;
	}' "$SINK_LOG" "$SINK_PORT" &
SINK_PID=$!
wait_for test -s "$SINK_PORT"
port=$(cat "$SINK_PORT" 2>/dev/null)

t_begin "health check: /start then the bare URL on success"
: >"$SINK_LOG"
job hc "\"schedule\": \"@daily\", \"steps\": [\"status -n 1\"], \"healthcheck_url\": \"http://127.0.0.1:$port/ping/abc-123/\""
run run hc
expect_status 0
[ "$(cat "$SINK_LOG")" = "GET /ping/abc-123/start
GET /ping/abc-123" ] || t_fail "pings: $(tr '\n' ' ' <"$SINK_LOG")"
expect_stderr_lacks "warning"
t_end

t_begin "health check: /start then /fail when the job fails"
: >"$SINK_LOG"
job hcf "\"schedule\": \"@daily\", \"steps\": [\"import no-such-dir\"], \"healthcheck_url\": \"http://127.0.0.1:$port/ping/xyz\""
run run hcf
expect_status 66
[ "$(cat "$SINK_LOG")" = "GET /ping/xyz/start
GET /ping/xyz/fail" ] || t_fail "pings: $(tr '\n' ' ' <"$SINK_LOG")"
t_end
kill "$SINK_PID" 2>/dev/null
wait "$SINK_PID" 2>/dev/null

t_begin "health check: a ping that fails only warns; the job succeeds"
job hcdown '"schedule": "@daily", "steps": ["status -n 1"], "healthcheck_url": "http://127.0.0.1:9/ping/down"'
run run hcdown
expect_status 0
expect_stderr_contains 'warning: run: job "hcdown": health-check ping /start failed (the job is not affected): '
expect_stderr_contains 'warning: run: job "hcdown": health-check ping failed (the job is not affected): '
[ "$(q "SELECT status FROM runs WHERE job='hcdown'")" = "ok" ] || t_fail "row not ok"
t_end

t_begin "run: unknown job, invalid job, usage"
run run nosuch
expect_status 66
expect_stderr_contains "error: run: no job \"nosuch\" in \"$T_TMP/cfg/../jobs\" (no file nosuch.json)"
job broken '"schedule": "61 * * * *", "steps": ["status"]'
run run broken
expect_status 78
expect_stderr_contains "error: run: $T_TMP/cfg/../jobs/broken.json: \$.schedule: field 1 (minute): 61 is out of range 0-59"
run run
expect_status 2
expect_stderr_contains "error: run: no job given"
run run ok extra
expect_status 2
run run ok --slot yesterday
expect_status 2
run run --help
expect_status 0
expect_stdout_contains "usage: trueup run JOB"
t_end

t_begin "config check lists job problems with file and JSON path"
run config check
expect_status 78
expect_stderr_contains "error: $T_TMP/cfg/../jobs/broken.json: \$.schedule: field 1 (minute): 61 is out of range 0-59"
rm -f "$JOBS/broken.json"
run config check
expect_status 0
expect_stdout_contains " jobs (catalogue "
t_end

t_begin "next JOB prints the job's fire times in its zone"
job berlin '"schedule": "30 2 * * *", "steps": ["status"]'
T_NO_DEFAULTS=1 run_raw --config "$CFG" next berlin --from 2026-03-27T12:00:00Z -n 3
expect_status 0
[ "$(cat "$T_OUT")" = "2026-03-28T02:30:00+01:00
2026-03-29T03:00:00+02:00
2026-03-30T02:30:00+02:00" ] || t_fail "times: $(tr '\n' ' ' <"$T_OUT")"
run_raw --config "$T_TOP/config/trueup.json" next nightly -n 2 --from 2026-10-24T12:00:00Z
expect_status 0
[ "$(cat "$T_OUT")" = "2026-10-25T02:30:00+02:00
2026-10-26T02:30:00+01:00" ] || t_fail "nightly: $(tr '\n' ' ' <"$T_OUT")"
run_raw --config "$CFG" next berlin --timezone UTC
expect_status 2
run_raw --config "$CFG" next nosuch
expect_status 66
run_raw next --schedule '0 0 * * *' --timezone UTC --from 2026-01-01T00:00:00Z -n 1
expect_status 0
expect_stdout_contains "2026-01-02T00:00:00+00:00"
t_end

t_begin "status shows each job's next fire time and the last job runs"
run status -n 3
expect_status 0
expect_stdout_contains "jobs ($T_TMP/cfg/../jobs):"
expect_stdout_matches '^  berlin +30 2 \* \* \* +Europe/Berlin +next 20[0-9-]+T02:30:00\+0[12]:00'
expect_stdout_matches '^  ok +@daily .* last ok '
expect_stdout_contains "last job runs:"
expect_stdout_matches '^  #[0-9]+ +hcdown +ok +\(manual\)'
t_end

t_done
