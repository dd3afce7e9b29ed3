#!/usr/bin/env bash
# test_config.sh - `trueup config check`: the shipped configurations pass,
# every problem of a bad one is listed on its own line (file, JSON path,
# reason) with exit 78, usage errors exit 2.
. "$(dirname "$0")/lib.sh"

# bad_config NAME JSON: a config file in $T_TMP/NAME/ next to a copy of the
# events/LMS catalogue (at cat/), so single files can be broken.
bad_config() {
	local d=$T_TMP/$1
	mkdir -p "$d"
	rm -rf "$d/cat"
	cp -R "$T_TOP/config/catalogues/events_lms" "$d/cat"
	printf '%s\n' "$2" >"$d/trueup.json"
}
STRIPE_OK='"stripe": {"api_version": "2025-08-27.basil"}'

# Job steps this build does not have yet (pull, reconcile, ...) are
# warnings, not problems: stderr may hold them, never an error.
t_begin "the shipped config passes"
run config check
expect_status 0
expect_stdout_contains "config ok: 4 plans, 7 features, 15 price mappings, 2 jobs, 9 reports (catalogue "
expect_stdout_contains "config/catalogues/events_lms)"
expect_stderr_lacks "error:"
t_end

t_begin "the tiers catalogue passes"
run_raw --config "$T_TOP/fixtures/config/tiers.json" config check
expect_status 0
expect_stdout_contains "config ok: 3 plans, 12 features, 8 price mappings, 2 jobs, 9 reports (catalogue "
expect_stdout_contains "config/catalogues/classroom_tiers)"
expect_stderr_lacks "error:"
t_end

t_begin "config check needs no database"
run_raw --config "$CFG" --db "$T_TMP/no/such/dir/x.db" config check
expect_status 0
expect_stdout_contains "config ok:"
[ ! -e "$T_TMP/no" ] || t_fail "config check created a database directory"
t_end

t_begin "config --help and config check --help print usage"
run config --help
expect_status 0
expect_stdout_contains "usage: trueup config check"
expect_stderr_empty
run config check -h
expect_status 0
expect_stdout_contains "usage: trueup config check"
t_end

t_begin "config without a subcommand is a usage error"
run config
expect_status 2
expect_stderr_contains "error: config: no subcommand given; see 'trueup config --help'"
expect_stderr_lines 1
expect_stdout_empty
t_end

t_begin "unknown config subcommand is a usage error"
run config chek
expect_status 2
expect_stderr_contains "error: config: 'chek' is not a config subcommand; see 'trueup config --help'"
expect_stderr_lines 1
t_end

t_begin "extra argument to config check is a usage error"
run config check now
expect_status 2
expect_stderr_contains "error: config check: unexpected argument 'now'"
expect_stderr_lines 1
t_end

t_begin "missing config file: exit 66 naming it"
run_raw --config "$T_TMP/absent.json" config check
expect_status 66
expect_stderr_contains "error: $T_TMP/absent.json: cannot open: No such file or directory"
expect_stdout_empty
t_end

t_begin "invalid JSON names line and column"
bad_config json '{
  "database": "x.db",
  "catalogue": "cat"
  "stripe": {}
}'
run_raw --config "$T_TMP/json/trueup.json" config check
expect_status 78
expect_stderr_contains "error: $T_TMP/json/trueup.json: invalid JSON at line 4, column 10: '}' expected near '\"stripe\"'"
expect_stdout_empty
t_end

t_begin "every problem is listed, one per line, with a count"
bad_config many "{\"databse\": \"x.db\", \"catalogue\": \"cat\", \"timezone\": \"Mars/Olympus\",
 \"stripe\": {\"api_version\": \"2025-08-27.basil\", \"api_base\": \"http://example.com\",
   \"rate_limit\": {\"global_per_second\": 0}}}"
sed -i 's/"courses_per_month": 10,/"courses_per_month": -10,/' "$T_TMP/many/cat/plans.json"
sed -i 's/"plan": "lms" }/"plan": "lmss" }/' "$T_TMP/many/cat/stripe_mapping.json"
run_raw --config "$T_TMP/many/trueup.json" config check
expect_status 78
f=$T_TMP/many/trueup.json
expect_stderr_contains "error: $f: \$.databse: unknown key (did you mean \"database\"?)"
expect_stderr_contains "error: $f: \$.database: missing required key"
expect_stderr_contains "error: $f: \$.timezone: unknown time zone \"Mars/Olympus\""
expect_stderr_contains "error: $f: \$.stripe.api_base: plain http is allowed only to 127.0.0.1, localhost or [::1], not \"example.com\""
expect_stderr_contains "error: $f: \$.stripe.rate_limit.global_per_second: must be greater than 0, got 0"
expect_stderr_contains "error: $T_TMP/many/cat/plans.json: \$.plans.lms.features.courses_per_month: feature \"courses_per_month\" is a limit: must not be negative, got -10"
expect_stderr_contains "error: $T_TMP/many/cat/stripe_mapping.json: \$.prices[8].plan: unknown plan \"lmss\" (not in plans.json) (did you mean \"lms\"?)"
expect_stderr_contains "error: $T_TMP/many/cat/stripe_mapping.json: \$.prices[9].plan: unknown plan \"lmss\" (not in plans.json) (did you mean \"lms\"?)"
expect_stderr_contains "error: config check: 8 problems found in \"$f\""
expect_stderr_lines 9
expect_stdout_empty
t_end

t_begin "other commands stop at the first problem, naming file and path"
run_raw --config "$T_TMP/many/trueup.json" --db "$DB" status
expect_status 78
expect_stderr_contains "error: $f: \$.databse: unknown key (did you mean \"database\"?) (and 7 more problems)"
expect_stderr_lines 1
t_end

t_begin "a missing catalogue directory is reported"
bad_config nocat "{\"database\": \"x.db\", \"catalogue\": \"catalogues/nope\", $STRIPE_OK}"
run_raw --config "$T_TMP/nocat/trueup.json" config check
expect_status 78
expect_stderr_contains "error: $T_TMP/nocat/trueup.json: \$.catalogue: catalogue directory \"$T_TMP/nocat/catalogues/nope\": No such file or directory"
expect_stderr_lines 2
t_end

t_begin "a duplicate price id in the mapping is reported"
bad_config dup "{\"database\": \"x.db\", \"catalogue\": \"cat\", $STRIPE_OK}"
sed -i 's/price_1QKdNnFRIBXuDL7DxtpYlSXp/price_1QisAjIhKtJ0RlgLKOmxgJTe/' "$T_TMP/dup/cat/stripe_mapping.json"
run_raw --config "$T_TMP/dup/trueup.json" config check
expect_status 78
expect_stderr_contains "error: $T_TMP/dup/cat/stripe_mapping.json: \$.prices[3].price: price \"price_1QisAjIhKtJ0RlgLKOmxgJTe\" is already mapped at \$.prices[2]"
expect_stderr_lines 2
t_end

t_begin "TRUEUP_STRIPE_API_BASE is checked: loopback http only"
TRUEUP_STRIPE_API_BASE=http://127.0.0.1:12111 "$TRUEUP" --config "$CFG" config check >"$T_OUT" 2>"$T_ERR"
T_STATUS=$?
expect_status 0
TRUEUP_STRIPE_API_BASE=http://stripe.example.com "$TRUEUP" --config "$CFG" config check >"$T_OUT" 2>"$T_ERR"
T_STATUS=$?
expect_status 78
expect_stderr_contains "error: TRUEUP_STRIPE_API_BASE (environment): plain http is allowed only to 127.0.0.1, localhost or [::1], not \"stripe.example.com\""
t_end

t_begin "a key pasted into api_key_env never reaches the output"
bad_config key "{\"database\": \"x.db\", \"catalogue\": \"cat\",
 \"stripe\": {\"api_version\": \"2025-08-27.basil\", \"api_key_env\": \"sk_live_51Hsecretsecret\"}}"
run_raw --config "$T_TMP/key/trueup.json" config check
expect_status 78
expect_stderr_contains "\$.stripe.api_key_env: must name an environment variable that holds the key, not the key itself"
expect_stderr_lacks "51Hsecretsecret"
t_end

t_begin "--log-format json gives one JSON object per problem"
run_raw --log-format json --config "$T_TMP/nocat/trueup.json" config check
expect_status 78
expect_stderr_matches '^\{"ts":"[0-9T:Z-]+","level":"error","msg":".*\$\.catalogue: catalogue directory .*"\}$'
expect_stderr_lines 2
t_end

t_done
