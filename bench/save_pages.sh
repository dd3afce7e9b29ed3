#!/usr/bin/env bash
# bench/save_pages.sh - save list pages of the fake Stripe for the parse +
# commit micro-benchmark (bench/parse_commit.c).
#
#   bash bench/save_pages.sh DIR [GENERATE] [PAGES] [SHAPE]
#
# Starts a fake with --generate GENERATE (default 100000) --seed 7 --shape
# SHAPE (default 2026) and saves, per resource, up to PAGES (default 200)
# consecutive pages of 100 as DIR/RESOURCE/NNNN.json (sessions with
# expand[]=data.line_items, subscriptions with status=all), exactly as a
# pull reads them.  Needs curl and jq.
. "$(dirname "$0")/lib.sh"
DIR=${1:?usage: save_pages.sh DIR [GENERATE] [PAGES] [SHAPE]}
GEN=${2:-100000}
PAGES=${3:-200}
SHAPE=${4:-2026}

start_fake sp --generate "$GEN" --seed 7 --shape "$SHAPE" || exit 1
for res in customers products prices subscriptions checkout_sessions invoices refunds; do
	case $res in
	checkout_sessions) path=/v1/checkout/sessions; extra='&expand[]=data.line_items' ;;
	subscriptions) path=/v1/subscriptions; extra='&status=all' ;;
	*) path=/v1/$res; extra='' ;;
	esac
	mkdir -p "$DIR/$res"
	after=""
	for ((i = 0; i < PAGES; i++)); do
		f=$(printf '%s/%s/%04d.json' "$DIR" "$res" "$i")
		curl -sS -g -H "Authorization: Bearer $BENCH_KEY" \
			"http://127.0.0.1:$sp_PORT$path?limit=100$extra${after:+&starting_after=$after}" >"$f"
		after=$(jq -r '.data[-1].id // empty' "$f")
		[ "$(jq -r .has_more "$f")" = true ] || break
	done
	log "saved $(ls "$DIR/$res" | wc -l) pages of $res"
done
