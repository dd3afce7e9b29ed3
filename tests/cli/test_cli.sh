#!/usr/bin/env bash
# test_cli.sh - the command line itself: global options, usage errors, exit
# codes, config and database resolution, --help of every command.
. "$(dirname "$0")/lib.sh"

t_begin "--version prints the version"
run_raw --version
expect_status 0
expect_stdout_matches '^trueup [0-9]+\.[0-9]+\.[0-9]+$'
expect_stderr_empty
t_end

t_begin "--help lists the commands and exit codes"
run_raw --help
expect_status 0
for c in init import status config next; do expect_stdout_contains "  $c "; done
expect_stdout_contains "78 config"
t_end

t_begin "no command is a usage error"
run_raw
expect_status 2
expect_stderr_contains "error: no command given"
expect_stderr_contains "usage: trueup"
t_end

t_begin "unknown command is a usage error"
run_raw frobnicate
expect_status 2
expect_stderr_contains "error: 'frobnicate' is not a trueup command; see 'trueup --help'"
expect_stderr_lines 1
t_end

t_begin "unknown global option is a usage error"
run_raw --frob init
expect_status 2
expect_stderr_contains "error: unknown option '--frob'"
t_end

t_begin "--log-format must be text or json"
run_raw --log-format xml status
expect_status 2
expect_stderr_contains "error: --log-format: 'xml' is not text or json"
t_end

t_begin "every command has --help"
run_raw --help
cmds=$(sed -n 's/^  \([a-z]*\)  .*/\1/p' "$T_OUT")
[ -n "$cmds" ] || t_fail "no commands in --help"
for c in $cmds; do
	run_raw "$c" --help
	[ "$T_STATUS" -eq 0 ] || t_fail "$c --help exited $T_STATUS"
	grep -q "^usage: trueup $c" "$T_OUT" || t_fail "$c --help has no usage line"
done
t_end

t_begin "--help needs neither config nor database"
run_raw --config /nonexistent/x.json --db /nonexistent/x.db import --help
expect_status 0
expect_stdout_contains "usage: trueup import"
t_end

t_begin "missing config file: exit 66 naming the file"
run_raw --config "$T_TMP/nope.json" --db "$DB" status
expect_status 66
expect_stderr_contains "$T_TMP/nope.json"
expect_stderr_lines 1
t_end

t_begin "invalid config: exit 78 naming file and path"
sed -e 's|"database": *"[^"]*"|"database": 42|' \
    -e "s|\"catalogues/|\"$T_TOP/config/catalogues/|" "$T_TOP/config/trueup.json" >"$T_TMP/bad.json"
run_raw --config "$T_TMP/bad.json" --db "$DB" status
expect_status 78
expect_stderr_contains "$T_TMP/bad.json"
expect_stderr_contains "\$.database"
expect_stderr_lines 1
t_end

t_begin "config that is not JSON: exit 78"
printf '{ "database": ' >"$T_TMP/trunc.json"
run_raw --config "$T_TMP/trunc.json" --db "$DB" status
expect_status 78
expect_stderr_contains "$T_TMP/trunc.json"
t_end

t_begin "status before init: exit 66 with a hint"
run status
expect_status 66
expect_stderr_contains "database '$DB': No such file or directory (run 'trueup init' first)"
[ ! -e "$DB" ] || t_fail "status created the database"
t_end

t_begin "init creates the database"
run init
expect_status 0
expect_stdout_matches "^created database .*trueup.db at schema version [0-9]+$"
[ -f "$DB" ] || t_fail "no database file"
t_end

t_begin "init again is harmless"
sum1=$(db_checksum "$DB")
run init
expect_status 0
expect_stdout_matches "is up to date \(schema version [0-9]+\)$"
[ "$(db_checksum "$DB")" = "$sum1" ] || t_fail "second init changed the database"
t_end

t_begin "status shows tables and the recorded runs"
run status
expect_status 0
expect_stdout_contains "platform tables:"
expect_stdout_matches "^  users +0$"
expect_stdout_matches "init +ok"
[ "$(sqlite3 "$DB" "SELECT count(*) FROM runs WHERE command='init' AND status='ok'")" = 2 ] \
	|| t_fail "expected two recorded init runs"
t_end

t_begin "status -n must be a number"
run status -n x
expect_status 2
expect_stderr_contains "status: -n: 'x' is not a number from 1 to 1000"
t_end

t_begin "init takes no arguments"
run init extra
expect_status 2
expect_stderr_contains "init: takes no arguments"
t_end

t_begin "a file that is not a database: exit 74"
head -c 4096 /dev/urandom >"$T_TMP/garbage.db"
run_raw --config "$CFG" --db "$T_TMP/garbage.db" status
expect_status 74
expect_stderr_contains "garbage.db"
expect_stderr_lines 1
t_end

t_begin "a directory as database: exit 74"
mkdir -p "$T_TMP/dir.db"
run_raw --config "$CFG" --db "$T_TMP/dir.db" init
expect_status 74
expect_stderr_contains "dir.db': not a regular file"
t_end

t_begin "a database from a newer trueup is refused: exit 78"
cp "$DB" "$T_TMP/newer.db"
sqlite3 "$T_TMP/newer.db" "PRAGMA user_version = 999"
run_raw --config "$CFG" --db "$T_TMP/newer.db" status
expect_status 78
expect_stderr_contains "has schema version 999, newer than this trueup understands"
t_end

t_begin "TRUEUP_DB and TRUEUP_CONFIG are used; --db wins over TRUEUP_DB"
TRUEUP_DB="$T_TMP/env.db" TRUEUP_CONFIG="$CFG" "$TRUEUP" init >"$T_OUT" 2>"$T_ERR"
T_STATUS=$?
expect_status 0
[ -f "$T_TMP/env.db" ] || t_fail "TRUEUP_DB not used"
TRUEUP_DB="$T_TMP/env2.db" TRUEUP_CONFIG="$CFG" "$TRUEUP" --db "$T_TMP/flag.db" init >"$T_OUT" 2>"$T_ERR"
[ -f "$T_TMP/flag.db" ] && [ ! -e "$T_TMP/env2.db" ] || t_fail "--db did not win"
TRUEUP_CONFIG="$T_TMP/nope.json" "$TRUEUP" --db "$DB" status >"$T_OUT" 2>"$T_ERR"
T_STATUS=$?
expect_status 66
t_end

t_begin "--log-format json writes JSON lines"
run_raw --log-format json --config "$CFG" --db "$T_TMP/absent.db" status
expect_status 66
expect_stderr_matches '^\{"ts":"[0-9T:Z-]+","level":"error","msg":"database .*run .trueup init. first\)"\}$'
t_end

t_begin "-q silences warnings but not errors"
run_raw -q --config "$CFG" --db "$T_TMP/absent.db" status
expect_status 66
expect_stderr_contains "error:"
t_end

t_done
