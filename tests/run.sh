#!/usr/bin/env bash
# tests/run.sh - run every test of trueup and add up the results.
#
# Runs each unit-test binary in $BUILD/tests/, then each CLI test script
# tests/cli/test_*.sh (against $TRUEUP).  Each prints its own
# "N passed, N failed" line; this script sums them and ends with the
# total line "N passed, N failed".  Exit status 1 if any test failed or any
# test program crashed.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
BUILD=${BUILD:-build/default}
export TRUEUP=${TRUEUP:-$BUILD/trueup}
passed=0 failed=0 crashed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

tally() {  # tally NAME STATUS: read the program's summary from $log
	local name=$1 status=$2 line p f
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	if [ -z "$line" ]; then
		echo "CRASH $name (exit $status, no summary line)"
		crashed=$((crashed + 1))
		return
	fi
	p=${line%% passed*}
	f=${line#*passed, }; f=${f%% failed*}
	passed=$((passed + p)); failed=$((failed + f))
	if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "CRASH $name (exit $status after '$line')"
		crashed=$((crashed + 1))
	fi
}

for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	echo "== unit $(basename "$t")"
	"$t" >"$log" 2>&1; st=$?
	grep -vE '^ok ' "$log"
	tally "$(basename "$t")" "$st"
done
for t in tests/cli/test_*.sh; do
	[ -f "$t" ] || continue
	echo "== cli $(basename "$t")"
	bash "$t" >"$log" 2>&1; st=$?
	grep -vE '^ok ' "$log"
	tally "$(basename "$t")" "$st"
done
echo
failed=$((failed + crashed))
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
