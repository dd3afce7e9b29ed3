#!/usr/bin/env bash
# test_import.sh - `trueup import DIR` end to end: the good fixtures and
# their summary, re-import (all unchanged, database identical), a bad file
# (exit 65, FILE:LINE:COLUMN on stderr, database unchanged), unknown files,
# a missing directory (66) and usage errors (2).
. "$(dirname "$0")/lib.sh"

FIX=$T_TOP/fixtures/import

t_begin "init the database"
run init
expect_status 0
t_end

t_begin "import the events/LMS fixture"
run import "$FIX/events_lms"
expect_status 0
expect_stdout_matches '^users\.csv +25 rows  \(25 new, 0 changed, 0 unchanged\)$'
expect_stdout_matches '^memberships\.csv +15 rows  \(15 new, 0 changed, 0 unchanged\)$'
expect_stdout_matches '^step_progress\.csv +14 rows  \(14 new, 0 changed, 0 unchanged\)$'
expect_stdout_matches '^total +128 rows  \(128 new, 0 changed, 0 unchanged\)$'
expect_stderr_empty
[ "$(sqlite3 "$DB" "SELECT count(*) FROM users")" = 25 ] || t_fail "users not loaded"
[ "$(sqlite3 "$DB" "SELECT name FROM users WHERE id='u_02'")" = "Kaito Ōkubo" ] ||
	t_fail "UTF-8 name not loaded"
t_end

t_begin "the run is recorded with its counts"
counts=$(sqlite3 "$DB" "SELECT counts FROM runs WHERE command='import' ORDER BY id DESC LIMIT 1")
case "$counts" in
*'"users":{"rows":25,"new":25,"changed":0}'*'"total":{"rows":128,"new":128,"changed":0}'*) ;;
*) t_fail "run counts: $counts" ;;
esac
t_end

sum_before=$(db_checksum "$DB")

t_begin "re-import reports every row unchanged and changes nothing"
run import "$FIX/events_lms"
expect_status 0
expect_stdout_matches '^total +128 rows  \(0 new, 0 changed, 128 unchanged\)$'
[ "$(db_checksum "$DB")" = "$sum_before" ] || t_fail "database changed on re-import"
t_end

t_begin "a bad file: exit 65, file:line:column, database unchanged"
bad=$T_TMP/bad
mkdir -p "$bad"
cp "$FIX/events_lms/users.csv" "$bad/"
printf 'id,email,name\nu_90,ok@x.example,Ok\nu_91,bob,Bob\n' >"$bad/users.csv"
run import "$bad"
expect_status 65
expect_stderr_contains 'error: import: users.csv:3:2: email "bob" is not an email address'
expect_stderr_lines 1
expect_stdout_empty
[ "$(db_checksum "$DB")" = "$sum_before" ] || t_fail "database changed by a failed import"
t_end

t_begin "a reference to a missing row in a later file rolls back the earlier files"
printf 'id,email\nu_92,new@x.example\n' >"$bad/users.csv"
printf 'entitlement_id,user_id,assigned_at\nent_03,u_92,2025-01-01\nent_9,u_92,2025-01-01\n' \
	>"$bad/seat_assignments.csv"
run import "$bad"
expect_status 65
expect_stderr_contains 'import: seat_assignments.csv:3:1: entitlement "ent_9" does not exist'
[ "$(db_checksum "$DB")" = "$sum_before" ] || t_fail "database changed by a failed import"
t_end

t_begin "a failed import is recorded as failed"
row=$(sqlite3 "$DB" "SELECT status || ' ' || exit_code FROM runs WHERE command='import' ORDER BY id DESC LIMIT 1")
[ "$row" = "failed 65" ] || t_fail "last import run: $row"
t_end

t_begin "an unknown *.csv file is an error"
unk=$T_TMP/unknown
mkdir -p "$unk"
printf 'id,email\nu_93,z@x.example\n' >"$unk/users.csv"
printf 'id,email\n' >"$unk/userz.csv"
run import "$unk"
expect_status 65
expect_stderr_contains 'import: userz.csv: not a file of the import contract (expected users.csv, '
[ "$(db_checksum "$DB")" = "$sum_before" ] || t_fail "database changed"
t_end

t_begin "the second catalogue imports alongside"
run import "$FIX/classroom_tiers"
expect_status 0
expect_stdout_matches '^usage\.csv +4 rows  \(4 new, 0 changed, 0 unchanged\)$'
expect_stdout_matches '^total +28 rows  \(28 new, 0 changed, 0 unchanged\)$'
t_end

t_begin "missing directory: exit 66"
run import "$T_TMP/nope"
expect_status 66
expect_stderr_contains "import: directory \"$T_TMP/nope\": No such file or directory"
t_end

t_begin "not a directory: exit 66"
run import "$FIX/README.md"
expect_status 66
expect_stderr_contains 'is not a directory'
t_end

t_begin "a directory without platform files: exit 66"
mkdir -p "$T_TMP/empty"
run import "$T_TMP/empty"
expect_status 66
expect_stderr_contains "import: no platform files in \"$T_TMP/empty\" (expected users.csv,"
t_end

t_begin "no directory: usage error"
run import
expect_status 2
expect_stderr_contains 'usage: trueup import DIR'
t_end

t_begin "two directories: usage error"
run import "$FIX/events_lms" "$FIX/classroom_tiers"
expect_status 2
expect_stderr_contains 'usage: trueup import DIR'
t_end

t_begin "unknown option: usage error"
run import --frob "$FIX/events_lms"
expect_status 2
run import --frob
expect_status 2
expect_stderr_contains "import: unknown option '--frob'"
t_end

t_begin "import --help"
run import --help
expect_status 0
expect_stdout_contains 'usage: trueup import DIR'
expect_stderr_empty
t_end

t_done
