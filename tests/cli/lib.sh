# tests/cli/lib.sh - helpers for the CLI tests (sourced by tests/cli/test_*.sh).
#
# A CLI test runs the real binary ($TRUEUP) and asserts its exit status,
# stdout and stderr.  Pattern:
#
#   . "$(dirname "$0")/lib.sh"
#   t_begin "init twice is harmless"
#   run init                      # runs: $TRUEUP --config $CFG --db $DB init
#   expect_status 0
#   expect_stdout_contains "schema version"
#   expect_stderr_empty
#   t_end
#   ...
#   t_done                        # prints "N passed, N failed"; exit 1 on failure
#
# run() adds --config "$CFG" --db "$DB" (a fresh database path under a
# per-script temp dir) unless T_NO_DEFAULTS=1; run_raw() adds nothing.
# Output lands in $T_OUT / $T_ERR (files) and $T_STATUS.  Each assertion
# that fails prints what it expected and what it got, marks the current
# test failed, and the script goes on to the next test.

set -u
T_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TRUEUP=${TRUEUP:-$T_TOP/trueup}
case "$TRUEUP" in /*) ;; *) TRUEUP=$T_TOP/$TRUEUP ;; esac
T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/trueup-cli.XXXXXX")
trap 'rm -rf "$T_TMP"' EXIT
CFG=${CFG:-$T_TOP/config/trueup.json}
DB=$T_TMP/trueup.db
T_OUT=$T_TMP/stdout
T_ERR=$T_TMP/stderr
T_STATUS=0
T_PASSED=0
T_FAILED=0
T_NAME=""
T_CUR_FAILED=0
# Tests must not see a developer's real key or overrides.
unset STRIPE_API_KEY TRUEUP_DB TRUEUP_CONFIG TRUEUP_STRIPE_API_BASE

t_begin() { T_NAME=$1; T_CUR_FAILED=0; }

t_fail() {
	T_CUR_FAILED=1
	printf '  FAIL %s: %s\n' "$T_NAME" "$*"
}

t_end() {
	if [ "$T_CUR_FAILED" -eq 0 ]; then
		T_PASSED=$((T_PASSED + 1)); printf 'ok   %s\n' "$T_NAME"
	else
		T_FAILED=$((T_FAILED + 1)); printf 'FAIL %s\n' "$T_NAME"
		printf '    stdout: %s\n' "$(head -c 600 "$T_OUT")"
		printf '    stderr: %s\n' "$(head -c 600 "$T_ERR")"
	fi
}

t_done() {
	printf '%d passed, %d failed\n' "$T_PASSED" "$T_FAILED"
	[ "$T_FAILED" -eq 0 ]
}

run_raw() {
	set +e
	"$TRUEUP" "$@" >"$T_OUT" 2>"$T_ERR" </dev/null
	T_STATUS=$?
	set -e
	set +e
}

run() {
	if [ "${T_NO_DEFAULTS:-0}" = 1 ]; then
		run_raw "$@"
	else
		run_raw --config "$CFG" --db "$DB" "$@"
	fi
}

expect_status() {
	[ "$T_STATUS" -eq "$1" ] || t_fail "exit status $T_STATUS, expected $1"
}

expect_stdout_contains() {
	grep -qF -- "$1" "$T_OUT" || t_fail "stdout lacks: $1"
}

expect_stderr_contains() {
	grep -qF -- "$1" "$T_ERR" || t_fail "stderr lacks: $1"
}

expect_stdout_matches() {
	grep -qE -- "$1" "$T_OUT" || t_fail "stdout does not match /$1/"
}

expect_stderr_matches() {
	grep -qE -- "$1" "$T_ERR" || t_fail "stderr does not match /$1/"
}

expect_stdout_lacks() {
	! grep -qF -- "$1" "$T_OUT" || t_fail "stdout should not contain: $1"
}

expect_stderr_lacks() {
	! grep -qF -- "$1" "$T_ERR" || t_fail "stderr should not contain: $1"
}

expect_stdout_empty() {
	[ ! -s "$T_OUT" ] || t_fail "stdout should be empty"
}

expect_stderr_empty() {
	[ ! -s "$T_ERR" ] || t_fail "stderr should be empty"
}

# expect_stderr_lines N: stderr has exactly N lines (one-line errors).
expect_stderr_lines() {
	local n
	n=$(wc -l <"$T_ERR")
	[ "$n" -eq "$1" ] || t_fail "stderr has $n lines, expected $1"
}

# db_checksum FILE: a digest of every table's content, to show a failed
# command left the database exactly as it was.
db_checksum() {
	local f=$1 t
	for t in $(sqlite3 "$f" "SELECT name FROM sqlite_master WHERE type='table' AND name NOT IN ('runs','sqlite_sequence') ORDER BY name"); do
		echo "== $t"
		sqlite3 "$f" "SELECT * FROM \"$t\" ORDER BY 1,2"
	done | sha256sum | cut -d' ' -f1
}
