#!/usr/bin/env bash
# tools/demo.sh - the main job on the embedded demo (`make demo`).
#
# Starts from an empty demo database under var/demo/, starts the project's
# fake Stripe on loopback serving the demo Stripe account
# (fixtures/stripe/basic), and runs what the nightly job runs, as far as
# trueup has it today: init, import of the demo platform
# (fixtures/import/events_lms), pull from the fake Stripe, then status.
# The key is a throwaway test key that exists only between this script and
# the fake.  Re-running it gives the same result.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
trueup=${TRUEUP:-./trueup}
fake=${FAKESTRIPE:-build/default/fakestripe}
demo=var/demo
mkdir -p "$demo"
rm -f "$demo"/trueup.db "$demo"/trueup.db-wal "$demo"/trueup.db-shm "$demo"/trueup.db.*
export TRUEUP_DB=$demo/trueup.db
export TRUEUP_CONFIG=config/trueup.json
export STRIPE_API_KEY="sk_test_demo_$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"

# The fake Stripe on 127.0.0.1, port picked by the kernel; its clock is
# pinned to the fixtures' "now" so their events are inside the 30 days.
FAKESTRIPE_KEY=$STRIPE_API_KEY "$fake" --port 0 --data fixtures/stripe/basic \
	--shape asis --now 1777680000 >"$demo/fakestripe.out" 2>"$demo/fakestripe.err" &
fake_pid=$!
trap 'kill "$fake_pid" 2>/dev/null; wait "$fake_pid" 2>/dev/null || true' EXIT
port=""
for _ in $(seq 1 100); do
	port=$(sed -n '1s/^listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$demo/fakestripe.out")
	[ -n "$port" ] && break
	sleep 0.05
done
[ -n "$port" ] || { echo "demo: the fake Stripe did not start:" >&2; cat "$demo/fakestripe.err" >&2; exit 1; }
export TRUEUP_STRIPE_API_BASE=http://127.0.0.1:$port
echo "(fake Stripe serving fixtures/stripe/basic on $TRUEUP_STRIPE_API_BASE)"

echo "+ trueup init"
"$trueup" init
echo "+ trueup import fixtures/import/events_lms"
"$trueup" import fixtures/import/events_lms
echo "+ trueup import fixtures/import/events_lms   (again: nothing changes)"
"$trueup" import fixtures/import/events_lms
echo "+ trueup pull"
"$trueup" pull
echo "+ trueup pull   (again: incremental, nothing changed)"
"$trueup" pull
echo "+ trueup status"
"$trueup" status
