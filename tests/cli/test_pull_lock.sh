#!/usr/bin/env bash
# tests/cli/test_pull_lock.sh - one pull at a time per database: while the
# pull lock (DB.lock.pull, flock(2)) is held, a second `trueup pull` exits 75
# at once, names the lock, and changes nothing; once the holder is gone
# (even killed: the kernel drops the lock) the next pull may take it.  No
# Stripe is needed: the lock is taken before the key is read.
. "$(dirname "$0")/lib.sh"

t_begin "a second pull while one holds the lock: exit 75, naming the lock"
run init
before=$(db_checksum "$DB")
# the holder is one process (sleep, holding fd 9), so killing it frees the lock
( exec 9>"$DB.lock.pull"; flock 9; exec sleep 30 ) &
holder=$!
for i in $(seq 1 50); do
	flock -n "$DB.lock.pull" true 2>/dev/null || break
	sleep 0.05
done
run pull
expect_status 75
expect_stderr_contains "error: pull: lock \"$DB.lock.pull\" is held by"
expect_stdout_empty
[ "$(db_checksum "$DB")" = "$before" ] || t_fail "the refused pull changed the database"
[ "$(sqlite3 "$DB" "SELECT COUNT(*) FROM stripe_pull_runs")" = 0 ] || t_fail "a pull run was recorded"
kill -9 "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
t_end

t_begin "after the holder died, the lock is free (the next pull gets past it)"
unset STRIPE_API_KEY
run pull
# no key in the environment: it fails later, at the key, not at the lock
expect_stderr_lacks "is held by"
expect_stderr_contains "STRIPE_API_KEY"
t_end

t_done
