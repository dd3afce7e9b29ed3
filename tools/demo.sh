#!/usr/bin/env bash
# tools/demo.sh - the main job on the demo platform (`make demo`).
#
# Starts from an empty database under var/demo/, starts the project's fake
# Stripe on loopback serving the demo's Stripe account (fixtures/demo/stripe,
# both API shapes, its clock at the demo's fixed "now"), and runs what the
# nightly job runs: init, import of the demo platform (fixtures/demo/import),
# pull (a full relist, then an incremental pull that finds nothing new),
# reconcile (the summary, then the open findings one per line); then, when
# this build has them, repair (the plan), repair --apply and reconcile again,
# and the reports.  The story of what is planted where is
# fixtures/demo/README.md; what reconcile must find is
# fixtures/demo/expected_findings.csv.  The key is a throwaway test key that
# exists only between this script and the fake.  Re-running it gives the
# same result.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
trueup=${TRUEUP:-./trueup}
fake=${FAKESTRIPE:-build/default/fakestripe}
demo=var/demo
. fixtures/demo/fake.sh
mkdir -p "$demo"
rm -rf "$demo"/trueup.db "$demo"/trueup.db-wal "$demo"/trueup.db-shm "$demo"/reports
export TRUEUP_CONFIG=fixtures/demo/config/trueup.json
export TRUEUP_DB=$demo/trueup.db
export TRUEUP_NOW=$DEMO_NOW_ISO           # the rules' clock: the demo is dated
export STRIPE_API_KEY="sk_test_demo_$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"

DEMO_FAKE_PID=""
trap '[ -n "$DEMO_FAKE_PID" ] && { kill "$DEMO_FAKE_PID" 2>/dev/null; wait "$DEMO_FAKE_PID" 2>/dev/null; } || true' EXIT
demo_fake_start "$fake" "$STRIPE_API_KEY" "$demo"
[ -n "$DEMO_FAKE_PORT" ] ||
	{ echo "demo: the fake Stripe did not start:" >&2; cat "$demo/fakestripe.err" >&2; exit 1; }
export TRUEUP_STRIPE_API_BASE=http://127.0.0.1:$DEMO_FAKE_PORT
echo "(fake Stripe serving fixtures/demo/stripe on $TRUEUP_STRIPE_API_BASE; now is $DEMO_NOW_ISO)"

step() {
	echo
	echo "+ trueup $*"
	"$trueup" "$@"
}

# The open findings, one per line, as an operator reads them.
open_findings() {
	sqlite3 -separator '  ' "$TRUEUP_DB" "SELECT rule, severity, subject, action_text
		FROM findings WHERE status = 'open' ORDER BY rule, subject"
}

has() { "$trueup" "$1" --help >/dev/null 2>&1; }

step init
step import fixtures/demo/import
step pull
echo "(again: incremental, nothing changed)"
step pull
step reconcile
echo
echo "open findings:"
open_findings
expected=$(($(wc -l <fixtures/demo/expected_findings.csv) - 1))
found=$(sqlite3 "$TRUEUP_DB" "SELECT COUNT(*) FROM findings WHERE status = 'open'")
echo "($found open; fixtures/demo/expected_findings.csv plants $expected)"

if has repair; then
	step repair
	step repair --apply
	step reconcile
	echo
	echo "still open (report-only rules are never repaired):"
	open_findings
else
	echo
	echo "(trueup repair is not in this build yet: skipping repair, repair --apply and the second reconcile)"
fi

step status

if has report; then
	step report
	echo
	if [ -d "$demo/reports" ]; then
		latest=$(find "$demo/reports" -mindepth 1 -maxdepth 1 -type d | sort | tail -n 1)
		echo "The reports are in $latest/:"
		find "$latest" -type f | sort | sed 's/^/  /'
		echo "Open $latest/summary.html in a browser, or the CSV files in a spreadsheet."
	fi
else
	echo
	echo "(trueup report is not in this build yet: skipping the reports)"
fi
