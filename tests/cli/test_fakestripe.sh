#!/usr/bin/env bash
# tests/cli/test_fakestripe.sh - proves the fake Stripe behaves like Stripe's
# v1 list/retrieve API, with curl(1) and jq(1) against the real binary.
#
# Starts fakestripe on port 0 (fixture data, generated data, a rate-limited
# instance), checks auth, pagination, cursors, created filters, subscription
# status filtering, line-item expansion, subscription items and invoice lines
# beyond the 10 embedded, events, both object shapes, injected
# faults, latency, rate limiting, mutation + events, the request log and
# stats, then stops every instance with SIGTERM and checks a clean exit.
# Last line: "N passed, N failed"; exit status 1 on any failure.
#
# Binary: $FAKESTRIPE (default build/default/fakestripe).  Needs curl and jq.
. "$(dirname "$0")/lib.sh"
FAKESTRIPE=${FAKESTRIPE:-build/default/fakestripe}
case "$FAKESTRIPE" in /*) ;; *) FAKESTRIPE=$T_TOP/$FAKESTRIPE ;; esac
FIX=$T_TOP/fixtures/stripe/basic
KIDS=$T_TOP/fixtures/stripe/children
KEY=sk_test_selftest_$$
NOW=1777680000
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$T_TMP"' EXIT

# start_fake NAME ARGS...: start an instance, set ${NAME}_PORT and ${NAME}_PID.
start_fake() {
	local name=$1 i port=""; shift
	FAKESTRIPE_KEY=$KEY "$FAKESTRIPE" --port 0 "$@" >"$T_TMP/$name.out" 2>"$T_TMP/$name.err" &
	local pid=$!
	PIDS+=("$pid")
	for i in $(seq 1 100); do
		port=$(sed -n '1s/^listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$T_TMP/$name.out")
		[ -n "$port" ] && break
		sleep 0.05
	done
	printf -v "${name}_PORT" '%s' "$port"
	printf -v "${name}_PID" '%s' "$pid"
}

# get PORT PATH [curl args...]: body in $T_OUT, headers in $T_TMP/h,
# HTTP status in $T_STATUS, curl's exit code in $CURL_RC.
get() {
	local port=$1 path=$2; shift 2
	set +e
	local auth=(-H "Authorization: Bearer $KEY")
	[ "${NOAUTH:-0}" = 1 ] && auth=()
	T_STATUS=$(curl -sS -o "$T_OUT" -D "$T_TMP/h" -w '%{http_code}' \
		"${auth[@]}" "$@" "http://127.0.0.1:$port$path" 2>"$T_ERR")
	CURL_RC=$?
	set +e
}

ctl() {  # ctl PORT PATH JSON: POST to the control API
	curl -sS -o "$T_OUT" -w '%{http_code}' -H 'Content-Type: application/json' \
		--data "$3" "http://127.0.0.1:$1$2" >"$T_TMP/ctl_status" 2>"$T_ERR"
}

jqo() { jq -r "$@" "$T_OUT" 2>/dev/null; }

expect_eq() {  # expect_eq WHAT GOT WANT
	[ "$2" = "$3" ] || t_fail "$1: got '$2', want '$3'"
}

expect_error() {  # expect_error STATUS PARAM|- CODE|-
	expect_status "$1"
	expect_eq "error.type" "$(jqo '.error.type')" "$([ "$1" -ge 500 ] && echo api_error || echo invalid_request_error)"
	[ "$2" = - ] || expect_eq "error.param" "$(jqo '.error.param')" "$2"
	[ "$3" = - ] || expect_eq "error.code" "$(jqo '.error.code')" "$3"
	grep -qi '^request-id: req_' "$T_TMP/h" || t_fail "no Request-Id header"
}

# walk PORT PATH QUERY: follow starting_after through every page (limit 7);
# the ids in order land in $T_TMP/walk, page count in $PAGES.
walk() {
	local port=$1 path=$2 query=$3 after="" more=true
	: >"$T_TMP/walk"
	PAGES=0
	while [ "$more" = true ]; do
		get "$port" "$path?limit=7$query${after:+&starting_after=$after}"
		[ "$T_STATUS" = 200 ] || { t_fail "walk $path: HTTP $T_STATUS"; return; }
		jqo '.data[] | "\(.id) \(.created) \(.status // "-")"' >>"$T_TMP/walk"
		more=$(jqo '.has_more')
		after=$(jqo '.data[-1].id')
		PAGES=$((PAGES + 1))
		[ "$PAGES" -lt 2000 ] || { t_fail "walk $path: too many pages"; return; }
	done
}

# sorted_desc FILE: created descending, ties by id descending.
sorted_desc() {
	sort -k2,2nr -k1,1r -c "$1" 2>/dev/null || sort -s -t' ' -k2,2nr -k1,1r "$1" | cmp -s - "$1"
}

start_fake A --data "$FIX" --now $NOW --log "$T_TMP/a.log"
start_fake B --generate 3000 --seed 42 --log "$T_TMP/b.log"
start_fake O --data "$FIX" --now $NOW --shape 2023
start_fake G --generate 400 --seed 5 --shape 2023
start_fake R --generate 200 --seed 1 --rate-global 1000 --rate-endpoint 3
start_fake K --data "$KIDS" --now $NOW --shape asis --log "$T_TMP/k.log"

t_begin "each instance prints its port first"
for n in A B O G R K; do
	v=${n}_PORT
	[ -n "${!v}" ] || t_fail "instance $n did not print 'listening on' ($(head -c 300 "$T_TMP/$n.err"))"
done
t_end

t_begin "no key: 401 with Stripe's error object"
NOAUTH=1 get "$A_PORT" /v1/customers
expect_error 401 - -
t_end

t_begin "wrong key: 401, and no key appears in the message"
NOAUTH=1 get "$A_PORT" /v1/customers -H 'Authorization: Bearer sk_test_WRONGKEY123'
expect_error 401 - -
expect_stdout_lacks WRONGKEY123
expect_stdout_lacks "$KEY"
t_end

t_begin "right key: 200 list object, Request-Id and Stripe-Version echoed"
get "$A_PORT" /v1/customers -H 'Stripe-Version: 2024-06-20'
expect_status 200
expect_eq object "$(jqo .object)" list
expect_eq url "$(jqo .url)" /v1/customers
expect_eq count "$(jqo '.data | length')" 5
grep -qi '^stripe-version: 2024-06-20' "$T_TMP/h" || t_fail "Stripe-Version not echoed"
grep -qi '^request-id: req_' "$T_TMP/h" || t_fail "no Request-Id"
t_end

t_begin "limit outside 1..100 and non-integers: 400 param limit"
for l in 0 101 abc -3; do
	get "$A_PORT" "/v1/customers?limit=$l"
	expect_error 400 limit -
done
get "$A_PORT" "/v1/customers?limit=100"
expect_status 200
t_end

t_begin "unknown cursor: 400 resource_missing; unknown parameter: 400"
get "$A_PORT" "/v1/customers?starting_after=cus_doesnotexist"
expect_error 400 starting_after resource_missing
get "$A_PORT" "/v1/customers?ending_before=cus_doesnotexist"
expect_error 400 ending_before resource_missing
get "$A_PORT" "/v1/customers?colour=blue"
expect_error 400 colour parameter_unknown
t_end

t_begin "retrieve by id; missing id is a Stripe 404; writes are 405; unknown URL 404"
get "$A_PORT" /v1/customers/cus_TuBasicAlice01
expect_status 200
expect_eq id "$(jqo .id)" cus_TuBasicAlice01
get "$A_PORT" /v1/subscriptions/sub_nope
expect_error 404 id resource_missing
get "$A_PORT" /v1/customers -X POST -d email=x@example.test
expect_status 405
get "$A_PORT" /v1/charges
expect_error 404 - -
t_end

t_begin "generated data: walking every page (limit 7) sees every object once, newest first"
get "$B_PORT" /_fake/health
ncus=$(jqo '.counts.customers')
walk "$B_PORT" /v1/customers ""
expect_eq "customers walked" "$(wc -l <"$T_TMP/walk")" "$ncus"
expect_eq "distinct ids" "$(cut -d' ' -f1 "$T_TMP/walk" | sort -u | wc -l)" "$ncus"
expect_eq pages "$PAGES" $(((ncus + 6) / 7))
sorted_desc "$T_TMP/walk" || t_fail "not in (created, id) descending order"
t_end

t_begin "fixture data: walking with limit 7 matches the file's count"
for r in customers:customers prices:prices refunds:refunds checkout/sessions:checkout_sessions invoices:invoices; do
	want=$(jq length "$FIX/${r#*:}.json")
	walk "$A_PORT" "/v1/${r%%:*}" ""
	expect_eq "${r%%:*}" "$(wc -l <"$T_TMP/walk")" "$want"
done
t_end

t_begin "ending_before returns the previous page"
get "$B_PORT" "/v1/invoices?limit=5"
first_page=$(jqo '[.data[].id] | join(",")')
get "$B_PORT" "/v1/invoices?limit=5&starting_after=$(jqo '.data[-1].id')"
get "$B_PORT" "/v1/invoices?limit=5&ending_before=$(jqo '.data[0].id')"
expect_eq "page" "$(jqo '[.data[].id] | join(",")')" "$first_page"
expect_eq has_more "$(jqo .has_more)" false
t_end

t_begin "created[gte]/[lt] (URL-encoded) and created=N select exactly the range"
walk "$B_PORT" /v1/checkout/sessions ""
cp "$T_TMP/walk" "$T_TMP/all_sessions"
lo=$(sed -n '50p' "$T_TMP/all_sessions" | cut -d' ' -f2)
hi=$(sed -n '20p' "$T_TMP/all_sessions" | cut -d' ' -f2)
want=$(awk -v lo="$lo" -v hi="$hi" '$2 >= lo && $2 < hi' "$T_TMP/all_sessions" | wc -l)
walk "$B_PORT" /v1/checkout/sessions "&created%5Bgte%5D=$lo&created%5Blt%5D=$hi"
expect_eq "in range" "$(wc -l <"$T_TMP/walk")" "$want"
awk -v lo="$lo" -v hi="$hi" '$2 < lo || $2 >= hi {bad=1} END {exit bad}' "$T_TMP/walk" ||
	t_fail "object outside the created range"
want=$(awk -v t="$lo" '$2 == t' "$T_TMP/all_sessions" | wc -l)
walk "$B_PORT" /v1/checkout/sessions "&created=$lo"
expect_eq "created=N" "$(wc -l <"$T_TMP/walk")" "$want"
get "$B_PORT" "/v1/checkout/sessions?created%5Bgt%5D=abc"
expect_error 400 'created[gt]' -
t_end

t_begin "subscriptions: canceled omitted unless status=all (or asked for)"
walk "$A_PORT" /v1/subscriptions ""
grep -q sub_TuDaveCanceled04 "$T_TMP/walk" && t_fail "default list shows a canceled subscription"
expect_eq default "$(wc -l <"$T_TMP/walk")" 4
walk "$A_PORT" /v1/subscriptions "&status=all"
expect_eq all "$(wc -l <"$T_TMP/walk")" 5
get "$A_PORT" "/v1/subscriptions?status=canceled"
expect_eq canceled "$(jqo '[.data[].id] | join(",")')" sub_TuDaveCanceled04
get "$A_PORT" "/v1/subscriptions?status=bogus"
expect_error 400 status -
walk "$B_PORT" /v1/subscriptions "&status=all"
all=$(wc -l <"$T_TMP/walk")
ended=$(grep -cE ' (canceled|incomplete_expired)$' "$T_TMP/walk")
[ "$ended" -gt 0 ] || t_fail "generated data has no canceled subscriptions"
walk "$B_PORT" /v1/subscriptions ""
expect_eq "default = all - ended" "$(wc -l <"$T_TMP/walk")" $((all - ended))
t_end

t_begin "expand[]=data.line_items embeds 10 items with has_more; line_items endpoint pages the rest"
get "$A_PORT" "/v1/checkout/sessions?limit=100&expand%5B%5D=data.line_items"
expect_status 200
expect_eq embedded "$(jqo '.data[] | select(.id == "cs_test_a1TuCarolBulkSeats00006") | "\(.line_items.data | length) \(.line_items.has_more)"')" "10 true"
get "$A_PORT" "/v1/checkout/sessions?expand%5B0%5D=data.customer"
expect_error 400 expand -
s=cs_test_a1TuCarolBulkSeats00006
get "$A_PORT" "/v1/checkout/sessions/$s/line_items?limit=100"
expect_eq all "$(jqo '.data | length')" 12
get "$A_PORT" "/v1/checkout/sessions/$s/line_items?limit=5"
n1=$(jqo '.data | length'); more=$(jqo .has_more)
get "$A_PORT" "/v1/checkout/sessions/$s/line_items?limit=5&starting_after=$(jqo '.data[-1].id')"
get "$A_PORT" "/v1/checkout/sessions/$s/line_items?limit=5&starting_after=$(jqo '.data[-1].id')"
expect_eq "pages" "$n1 $more $(jqo '.data | length') $(jqo .has_more)" "5 true 2 false"
get "$A_PORT" "/v1/checkout/sessions/$s?expand%5B%5D=line_items"
expect_eq retrieve "$(jqo '.line_items.data | length')" 10
get "$B_PORT" "/v1/checkout/sessions?limit=100&expand%5B%5D=data.line_items"
[ "$(jqo '[.data[] | select(.line_items.has_more)] | length')" -gt 0 ] ||
	t_fail "generated data has no session with more than 10 line items"
t_end

# children ID PATH QUERY LIST: walk (limit 7) the children endpoint PATH
# with QUERY; the ids in order land in $T_TMP/kids, page count in $PAGES;
# the fixture's own list (LIST: items or lines of object ID) in $T_TMP/want.
children() {
	local id=$1 path=$2 query=$3 list=$4 file
	file=$([ "$list" = items ] && echo subscriptions || echo invoices)
	jq -r --arg id "$id" --arg l "$list" '.[] | select(.id == $id) | .[$l].data[].id' \
		"$KIDS/$file.json" >"$T_TMP/want"
	walk "$K_PORT" "$path" "$query"
	cut -d' ' -f1 "$T_TMP/walk" >"$T_TMP/kids"
}

t_begin "subscriptions and invoices embed 10 children with has_more; their endpoints page them all"
get "$K_PORT" "/v1/subscriptions?limit=100"
expect_eq embedded "$(jqo '[.data[] | "\(.id) \(.items.data | length) \(.items.has_more) \(.items.total_count)"] | join(",")')" \
	"sub_TuKidsSmall2Itms 2 false 2,sub_TuKidsOld12Items 10 true 12,sub_TuKidsBig23Items 10 true 23"
expect_eq url "$(jqo '.data[-1].items.url')" "/v1/subscription_items?subscription=sub_TuKidsBig23Items"
get "$K_PORT" "/v1/invoices/in_TuKidsNew31Lines"
expect_eq retrieve "$(jqo '"\(.lines.data | length) \(.lines.has_more) \(.lines.url)"')" \
	"10 true /v1/invoices/in_TuKidsNew31Lines/lines"
children sub_TuKidsBig23Items /v1/subscription_items "&subscription=sub_TuKidsBig23Items" items
expect_eq "23 items in 4 pages, the fixture's order" "$(wc -l <"$T_TMP/kids") $PAGES" "23 4"
cmp -s "$T_TMP/kids" "$T_TMP/want" || t_fail "subscription items differ from the fixture"
expect_eq "items name their subscription" "$(jqo '[.data[].subscription] | unique | join(",")')" \
	sub_TuKidsBig23Items
children in_TuKidsNew31Lines /v1/invoices/in_TuKidsNew31Lines/lines "" lines
expect_eq "31 lines in 5 pages, the fixture's order" "$(wc -l <"$T_TMP/kids") $PAGES" "31 5"
cmp -s "$T_TMP/kids" "$T_TMP/want" || t_fail "invoice lines differ from the fixture"
expect_eq "2026 lines" "$(jqo '.data[0] | "\(.object) \(.invoice) \(.pricing.price_details.price != null)"')" \
	"line_item in_TuKidsNew31Lines true"
children in_TuKidsOld14Lines /v1/invoices/in_TuKidsOld14Lines/lines "" lines
expect_eq "14 lines (2023 shape)" "$(wc -l <"$T_TMP/kids") $(jqo '.data[0].price.object')" "14 price"
get "$K_PORT" "/v1/invoices/in_TuKidsOld14Lines/lines?limit=3&ending_before=$(sed -n 10p "$T_TMP/want")"
expect_eq ending_before "$(jqo '[.data[].id] | join(" ")')" "$(sed -n 7,9p "$T_TMP/want" | tr '\n' ' ' | sed 's/ $//')"
get "$K_PORT" "/v1/invoices/in_TuKidsNew31Lines/lines?limit=31"
expect_eq "limit = the whole list" "$(jqo '"\(.data | length) \(.has_more)"')" "31 false"
t_end

t_begin "children endpoints: auth, limit, unknown parameter or cursor, missing or unknown parent"
NOAUTH=1 get "$K_PORT" "/v1/subscription_items?subscription=sub_TuKidsBig23Items"
expect_error 401 - -
NOAUTH=1 get "$K_PORT" /v1/invoices/in_TuKidsNew31Lines/lines
expect_error 401 - -
for l in 0 101 x; do
	get "$K_PORT" "/v1/subscription_items?subscription=sub_TuKidsBig23Items&limit=$l"
	expect_error 400 limit -
	get "$K_PORT" "/v1/invoices/in_TuKidsNew31Lines/lines?limit=$l"
	expect_error 400 limit -
done
get "$K_PORT" "/v1/subscription_items?subscription=sub_TuKidsBig23Items&price=price_x"
expect_error 400 price parameter_unknown
get "$K_PORT" "/v1/invoices/in_TuKidsNew31Lines/lines?expand%5B%5D=data.price"
expect_error 400 expand -
get "$K_PORT" "/v1/subscription_items?limit=3"
expect_error 400 subscription parameter_missing
get "$K_PORT" "/v1/subscription_items?subscription=sub_nope"
expect_error 404 subscription resource_missing
get "$K_PORT" /v1/invoices/in_nope/lines
expect_error 404 invoice resource_missing
get "$K_PORT" "/v1/subscription_items?subscription=sub_TuKidsBig23Items&starting_after=si_nope"
expect_error 400 starting_after resource_missing
get "$K_PORT" /v1/invoices/in_TuKidsNew31Lines/items
expect_error 404 - -
t_end

t_begin "generated data: about 1 in 200 subscriptions and invoices have more than 10 children"
get "$B_PORT" /_fake/children
nitems=$(jqo .subscription_items); nlines=$(jqo .invoice_lines)
big=0; after=""
for i in $(seq 1 8); do
	get "$B_PORT" "/v1/subscriptions?status=all&limit=100${after:+&starting_after=$after}"
	big=$((big + $(jqo '[.data[] | select(.items.has_more)] | length')))
	[ "$(jqo .has_more)" = true ] || break
	after=$(jqo '.data[-1].id')
done
get "$B_PORT" /_fake/health
nsubs=$(jqo .counts.subscriptions)
expect_eq "big subscriptions (1 in 200 of $nsubs)" "$big" $((nsubs / 200))
[ "$nitems" -gt "$nsubs" ] || t_fail "$nitems items for $nsubs subscriptions"
[ "$nlines" -gt 0 ] || t_fail "no invoice lines"
bigi=0; after=""
for i in $(seq 1 8); do
	get "$B_PORT" "/v1/invoices?limit=100${after:+&starting_after=$after}"
	bigi=$((bigi + $(jqo '[.data[] | select(.lines.has_more)] | length')))
	[ "$(jqo .has_more)" = true ] || break
	after=$(jqo '.data[-1].id')
done
[ "$bigi" -ge 3 ] || t_fail "$bigi invoices with more than 10 lines, want 3 or more"
t_end

t_begin "children endpoints: faults, stats and the request log"
ctl "$K_PORT" /_fake/faults '{"clear":true,"faults":[{"kind":"500","every":1,"path":"/v1/subscription_items","retry":true},{"kind":"truncate","every":1,"path":"/v1/invoices/in_TuKidsNew31Lines/lines"}]}'
get "$K_PORT" "/v1/subscription_items?subscription=sub_TuKidsBig23Items"
expect_error 500 - -
grep -qi '^stripe-should-retry: true' "$T_TMP/h" || t_fail "no Stripe-Should-Retry"
get "$K_PORT" /v1/invoices/in_TuKidsNew31Lines/lines
[ "$CURL_RC" != 0 ] || t_fail "truncated body read whole"
ctl "$K_PORT" /_fake/faults '{"clear":true}'
get "$K_PORT" /_fake/stats
expect_eq "stats by route" "$(jqo '"\(.by_path["GET /v1/subscription_items"] > 0) \(.by_path["GET /v1/invoices/{id}/lines"] > 0)"')" "true true"
awk -F'\t' '$7 == "GET /v1/subscription_items" && $8 == "500" {f=1} END {exit !f}' "$T_TMP/k.log" ||
	t_fail "no logged 500 on GET /v1/subscription_items"
awk -F'\t' '$7 == "GET /v1/invoices/{id}/lines" && $8 == "truncate" {f=1} END {exit !f}' "$T_TMP/k.log" ||
	t_fail "no logged truncate on GET /v1/invoices/{id}/lines"
t_end

t_begin "mutation: an update of a big subscription changes its last item; the event embeds 10"
ctl "$K_PORT" /_fake/mutate '{"resource":"subscriptions","action":"update","id":"sub_TuKidsBig23Items"}'
eid=$(jqo '.mutations[0].events[0]')
get "$K_PORT" "/v1/events?limit=1"
expect_eq event "$(jqo '.data[0] | "\(.id) \(.data.object.items.data | length) \(.data.object.items.has_more)"')" "$eid 10 true"
get "$K_PORT" "/v1/subscription_items?subscription=sub_TuKidsBig23Items&limit=100"
want=$(jq '.[] | select(.id == "sub_TuKidsBig23Items") | .items.data[22].quantity' "$KIDS/subscriptions.json")
[ "$(jqo '.data[22].quantity')" -gt "$want" ] || t_fail "item 23's quantity did not grow"
t_end

t_begin "events: types[] filter, 30-day window, type wildcard"
get "$A_PORT" "/v1/events?types%5B%5D=invoice.paid&types%5B%5D=invoice.finalized"
expect_eq types "$(jqo '[.data[].type] | sort | join(",")')" "invoice.finalized,invoice.paid"
get "$A_PORT" /v1/events/evt_TuOldEventGone006
expect_error 404 id resource_missing
get "$A_PORT" "/v1/events?type=customer.subscription.*"
expect_eq wildcard "$(jqo '[.data[].type] | unique | join(",")')" \
	"customer.subscription.created,customer.subscription.updated"
walk "$B_PORT" /v1/events "&types%5B%5D=refund.created"
[ "$(wc -l <"$T_TMP/walk")" -gt 7 ] || t_fail "too few generated refund.created events"
get "$B_PORT" "/v1/events?limit=100&created%5Blt%5D=$(($(date +%s) - 31 * 86400))"
expect_eq "older than 30 days" "$(jqo '.data | length')" 0
t_end

t_begin "shape 2026: current_period_* on items, invoice -> parent.subscription_details"
get "$A_PORT" /v1/subscriptions/sub_TuCarolPastDue3
expect_eq top "$(jqo '.current_period_end')" null
[ "$(jqo '.items.data[0].current_period_end')" != null ] || t_fail "item lacks current_period_end"
get "$A_PORT" /v1/invoices/in_TuEmiPaid2023Shp
expect_eq parent "$(jqo '.parent.subscription_details.subscription')" sub_TuEmiTwoItems05
expect_eq paid "$(jqo 'has("paid")')" false
get "$B_PORT" "/v1/invoices?limit=3"
expect_eq gen "$(jqo '[.data[] | .parent.subscription_details.subscription | startswith("sub_")] | all')" true
t_end

t_begin "shape 2023: top-level current_period_end and invoice.subscription"
get "$O_PORT" /v1/subscriptions/sub_TuAliceActive01
[ "$(jqo '.current_period_end')" != null ] || t_fail "no top-level current_period_end"
expect_eq item "$(jqo '.items.data[0] | has("current_period_end")')" false
get "$O_PORT" /v1/invoices/in_TuAlicePaid2026a
expect_eq subscription "$(jqo .subscription)" sub_TuAliceActive01
expect_eq paid "$(jqo .paid)" true
expect_eq parent "$(jqo 'has("parent")')" false
get "$G_PORT" "/v1/subscriptions?limit=5&status=all"
expect_eq gen "$(jqo '[.data[] | .current_period_end | type] | unique | join(",")')" number
get "$G_PORT" "/v1/invoices?limit=5"
expect_eq gen "$(jqo '[.data[] | .subscription | startswith("sub_")] | all')" true
t_end

t_begin "faults: 500/503 with Stripe-Should-Retry, 429 rate_limit and lock_timeout"
ctl "$A_PORT" /_fake/faults '{"faults":[{"kind":"500","every":1,"path":"/v1/products","retry":true}]}'
get "$A_PORT" /v1/products
expect_error 500 - -
grep -qi '^stripe-should-retry: true' "$T_TMP/h" || t_fail "no Stripe-Should-Retry: true"
get "$A_PORT" /v1/prices
expect_status 200
ctl "$A_PORT" /_fake/faults '{"clear":true,"faults":[{"kind":"503","every":2,"retry":false}]}'
get "$A_PORT" /v1/prices; s1=$T_STATUS
get "$A_PORT" /v1/prices; s2=$T_STATUS
expect_eq "every 2nd" "$s1 $s2" "200 503"
grep -qi '^stripe-should-retry: false' "$T_TMP/h" || t_fail "no Stripe-Should-Retry: false"
ctl "$A_PORT" /_fake/faults '{"clear":true,"faults":[{"kind":"429","every":1}]}'
get "$A_PORT" /v1/prices
expect_error 429 - rate_limit
ctl "$A_PORT" /_fake/faults '{"clear":true,"faults":[{"kind":"lock_timeout","every":1}]}'
get "$A_PORT" /v1/prices
expect_error 429 - lock_timeout
t_end

t_begin "faults: truncated body, connection reset, invalid JSON with 200"
ctl "$A_PORT" /_fake/faults '{"clear":true,"faults":[{"kind":"truncate","every":1}]}'
get "$A_PORT" "/v1/customers?limit=5"
expect_eq "curl exit (partial file)" "$CURL_RC" 18
ctl "$A_PORT" /_fake/faults '{"clear":true,"faults":[{"kind":"reset","every":1}]}'
get "$A_PORT" "/v1/customers?limit=5"
case "$CURL_RC" in 18|52|56) ;; *) t_fail "reset: curl exit $CURL_RC" ;; esac
ctl "$A_PORT" /_fake/faults '{"clear":true,"faults":[{"kind":"badjson","every":1}]}'
get "$A_PORT" "/v1/customers?limit=5"
expect_status 200
jq . "$T_OUT" >/dev/null 2>&1 && t_fail "body is valid JSON"
ctl "$A_PORT" /_fake/faults '{"clear":true}'
get "$A_PORT" "/v1/customers?limit=5"
expect_status 200
t_end

t_begin "faults from the command line, by probability, are reproducible with --fault-seed"
start_fake F1 --generate 100 --fault '500:p0.3' --fault-seed 9
start_fake F2 --generate 100 --fault '500:p0.3' --fault-seed 9
seq1=""; seq2=""
for i in $(seq 1 30); do
	get "$F1_PORT" "/v1/products?limit=1"; seq1="$seq1$T_STATUS "
	get "$F2_PORT" "/v1/products?limit=1"; seq2="$seq2$T_STATUS "
done
expect_eq "same sequence" "$seq1" "$seq2"
case "$seq1" in *500*) ;; *) t_fail "no 500 in 30 requests at p=0.3" ;; esac
case "$seq1" in *200*) ;; *) t_fail "no 200 in 30 requests at p=0.3" ;; esac
t_end

t_begin "latency: 300 ms per request without blocking other connections"
ctl "$A_PORT" /_fake/faults '{"latency_ms":300}'
t0=$(date +%s%N)
lat_pids=()
for p in products prices customers; do
	curl -s -o /dev/null -H "Authorization: Bearer $KEY" "http://127.0.0.1:$A_PORT/v1/$p" &
	lat_pids+=($!)
done
wait "${lat_pids[@]}"
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ms" -ge 290 ] || t_fail "3 requests took $ms ms, want >= 300"
[ "$ms" -lt 850 ] || t_fail "3 parallel requests took $ms ms: latency blocks the loop"
ctl "$A_PORT" /_fake/faults '{"latency_ms":0}'
t_end

t_begin "rate limit: per-endpoint bucket answers 429 rate_limit beyond the limit"
codes=""
for i in 1 2 3 4 5 6; do get "$R_PORT" "/v1/prices?limit=1"; codes="$codes$T_STATUS "; done
expect_eq "burst of 6" "$codes" "200 200 200 429 429 429 "
expect_eq code "$(jqo .error.code)" rate_limit
get "$R_PORT" "/v1/products?limit=1"
expect_status 200
sleep 0.4
get "$R_PORT" "/v1/prices?limit=1"
expect_status 200
t_end

t_begin "mutation: cancel a subscription, then find it through /v1/events"
ctl "$B_PORT" /_fake/mutate '{"resource":"subscriptions","action":"cancel","count":1,"seed":3}'
sid=$(jqo '.mutations[0].id'); eid=$(jqo '.mutations[0].events[0]')
expect_eq count "$(jqo .count)" 1
get "$B_PORT" "/v1/events?types%5B%5D=customer.subscription.deleted&limit=1"
expect_eq event "$(jqo '.data[0].id') $(jqo '.data[0].data.object.id')" "$eid $sid"
get "$B_PORT" "/v1/subscriptions/$sid"
expect_eq status "$(jqo .status)" canceled
ctl "$B_PORT" /_fake/mutate '{"resource":"customers","action":"delete","count":1}'
cid=$(jqo '.mutations[0].id')
get "$B_PORT" "/v1/customers/$cid"
expect_eq deleted "$(jqo '"\(.id) \(.deleted)"')" "$cid true"
walk "$B_PORT" /v1/customers ""
grep -q "^$cid " "$T_TMP/walk" && t_fail "deleted customer still listed"
expect_eq "one fewer" "$(wc -l <"$T_TMP/walk")" $((ncus - 1))
ctl "$B_PORT" /_fake/mutate '{"fraction":0.01,"seed":11}'
n=$(jqo .count)
[ "$n" -ge 25 ] || t_fail "fraction 0.01 of 3000 made $n mutations"
get "$B_PORT" "/v1/events?limit=100&created%5Bgte%5D=$(($(date +%s) - 60))"
[ "$(jqo '.data | length')" -ge "$n" ] || t_fail "fewer new events than mutations"
t_end

t_begin "request log and /_fake/stats count requests per endpoint, never the key"
get "$A_PORT" /_fake/stats
st=$(jqo '.by_path["GET /v1/customers"]')
logn=$(awk -F'\t' '$7 == "GET /v1/customers"' "$T_TMP/a.log" | wc -l)
expect_eq "log lines = stats" "$logn" "$st"
[ "$(jqo '.by_status["401"]')" -ge 2 ] || t_fail "401s not counted"
[ "$(jqo '.by_status["429"]')" -ge 2 ] || t_fail "429s not counted"
grep -q "$KEY" "$T_TMP"/*.log "$T_TMP"/*.out "$T_TMP"/*.err && t_fail "the key was written somewhere"
awk -F'\t' 'NF != 8 {bad=1} END {exit bad}' "$T_TMP/a.log" || t_fail "log line without 8 fields"
t_end

t_begin "keep-alive: one connection serves several requests"
set +e
curl -sS -o /dev/null -o /dev/null -o /dev/null -w '%{num_connects}\n' -H "Authorization: Bearer $KEY" \
	"http://127.0.0.1:$A_PORT/v1/customers" "http://127.0.0.1:$A_PORT/v1/prices" \
	"http://127.0.0.1:$A_PORT/v1/products" >"$T_OUT" 2>"$T_ERR"
set +e
expect_eq "connects" "$(tr '\n' ' ' <"$T_OUT")" "1 0 0 "
t_end

t_begin "a request split across writes and an oversized request"
exec 3<>"/dev/tcp/127.0.0.1/$A_PORT"
printf 'GET /v1/prod' >&3; sleep 0.1
printf 'ucts HTTP/1.1\r\nHost: x\r\nAuthori' >&3; sleep 0.1
printf 'zation: Bearer %s\r\nConnection: close\r\n\r\n' "$KEY" >&3
head -c 12 <&3 >"$T_OUT"; exec 3<&-
expect_eq split "$(cat "$T_OUT")" "HTTP/1.1 200"
set +e
curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $KEY" \
	-H "X-Big: $(head -c 20000 /dev/zero | tr '\0' b)" "http://127.0.0.1:$A_PORT/v1/products" \
	>"$T_OUT" 2>/dev/null
set +e
expect_eq oversize "$(cat "$T_OUT")" 431
t_end

t_begin "--prerender serves the same bytes as rendering per request; a mutation drops it"
start_fake plain --generate 3000 --seed 5 --now $NOW
start_fake pre --generate 3000 --seed 5 --now $NOW --prerender
start_fake pre23 --generate 3000 --seed 5 --now $NOW --shape 2023 --prerender
start_fake plain23 --generate 3000 --seed 5 --now $NOW --shape 2023
[ -n "$pre_PORT" ] && [ -n "$pre23_PORT" ] || t_fail "a --prerender instance did not start"
same=0
for q in "/v1/customers?limit=100" "/v1/subscriptions?limit=100&status=all" \
	"/v1/checkout/sessions?limit=100&expand%5B%5D=data.line_items" "/v1/checkout/sessions?limit=7" \
	"/v1/invoices?limit=100" "/v1/refunds?limit=3&created%5Blt%5D=$NOW" "/v1/prices?limit=100" \
	"/v1/products?limit=1"; do
	for pair in "plain pre" "plain23 pre23"; do
		set -- $pair
		a=${1}_PORT b=${2}_PORT
		get "${!a}" "$q"; cp "$T_OUT" "$T_TMP/a.json"
		last=$(jq -r '.data[-1].id' "$T_TMP/a.json")
		get "${!b}" "$q"
		cmp -s "$T_OUT" "$T_TMP/a.json" && same=$((same + 1)) || t_fail "$2 differs on $q"
		# and the next page, after the last id
		get "${!a}" "$q&starting_after=$last"; cp "$T_OUT" "$T_TMP/a.json"
		get "${!b}" "$q&starting_after=$last"
		cmp -s "$T_OUT" "$T_TMP/a.json" && same=$((same + 1)) || t_fail "$2 differs on $q after $last"
	done
done
expect_eq "identical pages" "$same" 32
ctl "$pre_PORT" /_fake/mutate '{"fraction":0.05,"seed":3}'
ctl "$plain_PORT" /_fake/mutate '{"fraction":0.05,"seed":3}'
get "$plain_PORT" "/v1/subscriptions?limit=100&status=all"; cp "$T_OUT" "$T_TMP/a.json"
get "$pre_PORT" "/v1/subscriptions?limit=100&status=all"
cmp -s "$T_OUT" "$T_TMP/a.json" || t_fail "--prerender serves stale objects after a mutation"
t_end

t_begin "SIGTERM stops every instance cleanly (exit 0)"
for n in A B O G R K F1 F2; do
	v=${n}_PID
	kill -TERM "${!v}"
	wait "${!v}"; rc=$?
	[ "$rc" = 0 ] || t_fail "$n exit $rc: $(tail -c 400 "$T_TMP/$n.err")"
done
PIDS=()
t_end

t_done
