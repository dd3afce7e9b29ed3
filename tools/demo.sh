#!/usr/bin/env bash
# tools/demo.sh - the main job on the embedded demo (`make demo`).
#
# Starts from an empty demo database under var/demo/ and runs what the
# nightly job runs, as far as trueup has it today: init, import of the
# demo platform (fixtures/import/events_lms), status.  Re-running it gives
# the same result.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
trueup=${TRUEUP:-./trueup}
demo=var/demo
mkdir -p "$demo"
rm -f "$demo"/trueup.db "$demo"/trueup.db-wal "$demo"/trueup.db-shm
export TRUEUP_DB=$demo/trueup.db
export TRUEUP_CONFIG=config/trueup.json

echo "+ trueup init"
"$trueup" init
echo "+ trueup import fixtures/import/events_lms"
"$trueup" import fixtures/import/events_lms
echo "+ trueup import fixtures/import/events_lms   (again: nothing changes)"
"$trueup" import fixtures/import/events_lms
echo "+ trueup status"
"$trueup" status
