#!/usr/bin/env bash
# bench/run.sh - run the benchmarks of issue 3 (and the parse + commit
# micro-benchmark) and of issue 5 (report) and print a summary table; `make bench` runs it.
#
#   bash bench/run.sh [parse_commit|pull_vs_node|pull_latency|incremental|rss|report ...]
#
# No argument: all of them, in that order.  Each writes bench/out/NAME.txt
# (details) and bench/out/NAME.result (its summary line); the table at the
# end is bench/out/summary.txt.  Needs ./trueup and the fake Stripe built
# (make all build/default/fakestripe), curl, jq, sqlite3; pull_vs_node
# also node and npm.  Not part of `make test`: the figures depend on the
# machine.  Each benchmark is bounded (a few minutes on 2 cores; rss with
# 1M subscriptions is the longest) and stops every process it started.
set -u
cd "$(dirname "$0")/.."
ALL=(parse_commit pull_vs_node pull_latency incremental rss report)
ALL+=(reconcile_scale)   # issue 4: bench/reconcile_scale.sh
[ $# -gt 0 ] && ALL=("$@")
mkdir -p bench/out
rc=0
for b in "${ALL[@]}"; do
	case $b in
	parse_commit) bash bench/parse_commit.sh || rc=1 ;;
	pull_vs_node|pull_latency|incremental|rss|report) bash "bench/$b.sh" || rc=1 ;;
	reconcile_scale) bash bench/reconcile_scale.sh || rc=1 ;;
	*) echo "run.sh: unknown benchmark '$b'" >&2; exit 2 ;;
	esac
done
{
	printf '%-14s %-9s %-24s %s\n' benchmark ratio goal figures
	for b in "${ALL[@]}"; do
		f=bench/out/$b.result
		[ -f "$f" ] || { printf '%-14s %-9s %-24s %s\n' "$b" - - "(no result)"; continue; }
		IFS=$'\t' read -r name fig r goal st <"$f"
		printf '%-14s %-9s %-24s %s [%s]\n' "$name" "$r" "$goal" "$fig" "$st"
	done
} | tee bench/out/summary.txt
exit $rc
