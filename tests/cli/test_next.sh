#!/usr/bin/env bash
# test_next.sh - `trueup next --schedule`: fire times, DST, errors.
. "$(dirname "$0")/lib.sh"
T_NO_DEFAULTS=1

t_begin "nightly 02:30 Berlin across spring-forward runs once, right after the gap"
run next --schedule '30 2 * * *' --timezone Europe/Berlin --from 2026-03-28T12:00:00Z -n 3
expect_status 0
[ "$(cat "$T_OUT")" = "2026-03-29T03:00:00+02:00
2026-03-30T02:30:00+02:00
2026-03-31T02:30:00+02:00" ] || t_fail "wrong fire times: $(tr '\n' ' ' <"$T_OUT")"
expect_stderr_empty
t_end

t_begin "fixed-time job runs once in New York's repeated hour"
run next --schedule '30 1 * * *' --timezone America/New_York --from 2026-11-01T00:00:00-04:00 -n 2
expect_status 0
[ "$(cat "$T_OUT")" = "2026-11-01T01:30:00-04:00
2026-11-02T01:30:00-05:00" ] || t_fail "wrong fire times: $(tr '\n' ' ' <"$T_OUT")"
t_end

t_begin "interval job fires in both passes of the repeated hour"
run next --schedule '*/30 * * * *' --timezone America/New_York --from 2026-11-01T00:45:00-04:00 -n 4
expect_status 0
[ "$(cat "$T_OUT")" = "2026-11-01T01:00:00-04:00
2026-11-01T01:30:00-04:00
2026-11-01T01:00:00-05:00
2026-11-01T01:30:00-05:00" ] || t_fail "wrong fire times: $(tr '\n' ' ' <"$T_OUT")"
t_end

t_begin "day-of-month OR day-of-week when both are restricted"
run next --schedule '0 0 13 * FRI' --from 2026-11-01T00:00:00Z -n 3
expect_status 0
[ "$(cat "$T_OUT")" = "2026-11-06T00:00:00+00:00
2026-11-13T00:00:00+00:00
2026-11-20T00:00:00+00:00" ] || t_fail "wrong fire times: $(tr '\n' ' ' <"$T_OUT")"
t_end

t_begin "a bad field is named with its value; exit 78"
run next --schedule '0 24 * * *'
expect_status 78
expect_stderr_contains "error: next: schedule: field 2 (hour): 24 is out of range 0-23"
expect_stderr_lines 1
expect_stdout_empty
t_end

t_begin "wrong number of fields"
run next --schedule '0 0 * *'
expect_status 78
expect_stderr_contains "expected 5 fields, got 4"
t_end

t_begin "@reboot is refused with a reason"
run next --schedule '@reboot'
expect_status 78
expect_stderr_contains "@reboot"
t_end

t_begin "an impossible date never fires: exit 78"
run next --schedule '0 0 30 2 *'
expect_status 78
expect_stderr_contains "never"
t_end

t_begin "unknown time zone"
run next --schedule '@daily' --timezone Mars/Olympus
expect_status 78
expect_stderr_contains "Mars/Olympus"
t_end

t_begin "--from must be ISO 8601 with an offset"
run next --schedule '@daily' --from yesterday
expect_status 2
expect_stderr_contains "yesterday"
t_end

t_begin "-n out of range and a stray argument are usage errors"
run next --schedule '@daily' -n 0
expect_status 2
run next --schedule '@daily' nightly
expect_status 2
run next
expect_status 2
t_end

t_done
