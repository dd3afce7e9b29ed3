/*
 * test_reconcile.c - the drift engine (src/reconcile.c, src/db_findings.c,
 * src/rules/): every case under fixtures/rules/<CODE>/<case>/ (the clean
 * base platform and snapshot of fixtures/rules/base/, plus the case's
 * platform CSVs and setup.sql) gives exactly the open findings of its
 * expected.tsv, and no finding ever proposes changing an admin grant; the
 * base itself is clean under every rule; every contract code has one rule
 * file; re-running is idempotent (no duplicates, last_seen moves,
 * first_seen stays), drift that goes away is resolved and drift that
 * comes back re-opened; --rule subsets leave other rules' findings alone;
 * an unfinished or missing pull is refused; structured actions.
 *
 * Run from the top of the repository (fixtures are found relative to it).
 */
#include "harness.h"
#include "rulecase.h"

/* One case directory; returns 1 when it passed. */
static int run_case(const char *dir)
{
	char path[512], rules[128], cfgpath[256];
	struct reconcile_result *res = calloc(1, sizeof *res);
	struct config *cfg = NULL;
	struct db *db = NULL;
	struct err e = { 0 };
	char *spec, *expected = NULL, *got = NULL;
	int ok = 0;

	snprintf(path, sizeof path, "%s/case.txt", dir);
	if (!(spec = slurp(path))) {
		printf("  %s: no case.txt\n", dir);
		goto out;
	}
	case_get(spec, "rules", rules, sizeof rules);
	case_get(spec, "config", cfgpath, sizeof cfgpath);
	if (!cfgpath[0])
		snprintf(cfgpath, sizeof cfgpath, "config/trueup.json");
	snprintf(path, sizeof path, "%s/expected.tsv", dir);
	if (!(expected = slurp(path))) {
		printf("  %s: no expected.tsv\n", dir);
		goto out;
	}
	if (!(cfg = load_config(cfgpath)) || !(db = load_case(dir)))
		goto out;
	if (reconcile(db, cfg, rules, res, &e) != 0) {
		printf("  %s: reconcile: %s\n", dir, e.msg);
		goto out;
	}
	got = dump_open(db);
	ok = strcmp(got, expected) == 0;
	if (!ok)
		printf("  %s: findings differ\n--- expected\n%s--- got\n%s---\n", dir, expected, got);
	if (admin_grant_violations(db) != 0 || res->total.guarded != 0) {
		printf("  %s: a finding proposes changing an admin grant\n", dir);
		ok = 0;
	}
	/* a second run on unchanged data changes no finding's identity or status */
	if (ok) {
		long long before = scalar(db, "SELECT COUNT(*) FROM findings");
		char *again;

		if (reconcile(db, cfg, rules, res, &e) != 0) {
			printf("  %s: second reconcile: %s\n", dir, e.msg);
			ok = 0;
		} else {
			again = dump_open(db);
			if (strcmp(again, got) != 0 || res->total.created != 0 ||
			    res->total.resolved != 0 ||
			    scalar(db, "SELECT COUNT(*) FROM findings") != before) {
				printf("  %s: second reconcile is not idempotent\n", dir);
				ok = 0;
			}
			free(again);
		}
	}
out:
	free(spec);
	free(expected);
	free(got);
	free(res);
	db_close(db);
	config_free(cfg);
	return ok;
}

/* Each fixtures/rules/<CODE>/<case>/ is one test. */
static void run_fixture_cases(void)
{
	char *cases[256];
	size_t n, i;
	int seen_codes[RECONCILE_NRULES] = { 0 };

	if ((n = list_cases(cases, 256)) == 0) {
		printf("FAIL fixtures: no cases under %s\n", RULES_DIR);
		harness_failed++;
		return;
	}
	for (i = 0; i < n; i++) {
		const char *code = cases[i] + strlen(RULES_DIR) + 1;
		size_t k;

		harness_cur_failed = !run_case(cases[i]);
		for (k = 0; k < RECONCILE_NRULES; k++)
			if (strncmp(code, reconcile_rule_code(k), 2) == 0 && code[2] == '/')
				seen_codes[k] |= strstr(code, "/clean") ? 2 : 1;
		if (harness_cur_failed) {
			harness_failed++;
			printf("FAIL case %s\n", code);
		} else {
			harness_passed++;
			printf("ok   case %s\n", code);
		}
		free(cases[i]);
	}
	/* every rule has a drift case and a clean control */
	harness_cur_failed = 0;
	for (i = 0; i < RECONCILE_NRULES; i++)
		if (seen_codes[i] != 3) {
			printf("  rule %s lacks a drift case or a clean control\n",
			       reconcile_rule_code(i));
			harness_cur_failed = 1;
		}
	if (harness_cur_failed) {
		harness_failed++;
		printf("FAIL every rule has fixtures\n");
	} else {
		harness_passed++;
		printf("ok   every rule has fixtures\n");
	}
}

static void test_rule_files(void)
{
	size_t i;

	for (i = 0; i < RECONCILE_NRULES; i++) {
		const char *code = reconcile_rule_code(i);

		CHECK(reconcile_rule_sql(code) != NULL);
		CHECK(reconcile_rule_name(code) != NULL);
	}
	CHECK(reconcile_rule_code(RECONCILE_NRULES) == NULL);
	CHECK_STR(reconcile_rule_name("E1"), "missing_entitlement");
	CHECK_STR(reconcile_rule_name("P2"), "unpaid_tenant");
	CHECK_STR(reconcile_rule_name("M1"), "unmapped_stripe_object");
	CHECK(reconcile_rule_sql("X9") == NULL);
	CHECK(reconcile_rule_name("_link") == NULL);
}

static void test_parse_rules(void)
{
	const char *codes[RECONCILE_NRULES];
	struct err e = { 0 };
	size_t n = 0;

	CHECK_INT(reconcile_parse_rules("e1, p2,E1", codes, &n, &e), 0);
	CHECK_INT(n, 2);
	CHECK_STR(codes[0], "E1");
	CHECK_STR(codes[1], "P2");
	CHECK_INT(reconcile_parse_rules("E1,X9", codes, &n, &e), EXIT_USAGE);
	CHECK_CONTAINS(e.msg, "\"X9\"");
	CHECK_INT(reconcile_parse_rules(",", codes, &n, &e), EXIT_USAGE);
	CHECK_INT(db_severity_parse("critical"), SEV_CRITICAL);
	CHECK_INT(db_severity_parse("info"), SEV_INFO);
	CHECK_INT(db_severity_parse("low"), -1);
}

static void test_base_is_clean(void)
{
	struct reconcile_result *res = calloc(1, sizeof *res);
	struct config *cfg = load_config("config/trueup.json");
	struct db *db = load_case(NULL);
	struct err e = { 0 };

	CHECK(cfg && db);
	if (cfg && db) {
		CHECK_INT(reconcile(db, cfg, "", res, &e), 0);
		CHECK_INT(res->nrules, RECONCILE_NRULES);
		CHECK_INT(res->total.found, 0);
		CHECK_INT(reconcile_max_open_severity(res), -1);
		CHECK_STR(res->month, "2026-05");
		CHECK_INT(scalar(db, "SELECT COUNT(*) FROM reconcile_runs WHERE finished_at IS NOT NULL "
				 "AND rules LIKE 'E1,E2,%,G1,M1' AND pull_status = 'ok'"), 1);
		/* no TEMP table is left behind */
		CHECK_INT(scalar(db, "SELECT COUNT(*) FROM temp.sqlite_master"), 0);
	}
	db_close(db);
	config_free(cfg);
	free(res);
}

/* First seen stays, last seen moves, resolved when fixed, re-opened when back. */
static void test_lifecycle(void)
{
	struct reconcile_result *res = calloc(1, sizeof *res);
	struct config *cfg = load_config("config/trueup.json");
	struct db *db = load_case(NULL);
	struct err e = { 0 };
	long long id;

	CHECK(cfg && db);
	if (!cfg || !db)
		goto out;
	CHECK_INT(exec_sql(db, "UPDATE entitlements SET quantity_seats = 5 WHERE id = 'ent_org'"), 0);
	CHECK_INT(reconcile(db, cfg, "E3", res, &e), 0);
	CHECK_INT(res->total.created, 1);
	CHECK_INT(res->rules[0].n.open[SEV_MEDIUM], 1);
	id = scalar(db, "SELECT id FROM findings WHERE rule = 'E3'");
	CHECK_STR(scalar_text(db, "SELECT subject FROM findings"), "entitlement:ent_org");
	CHECK_STR(scalar_text(db, "SELECT action_table || ' ' || action_row_id || ' ' || "
			      "action_field || ' ' || action_before || ' -> ' || action_after "
			      "FROM findings"), "entitlements ent_org quantity_seats 5 -> 3");
	CHECK_STR(scalar_text(db, "SELECT expected || ' / ' || actual FROM findings"),
		  "quantity_seats 3 (item si_org) / quantity_seats 5");
	/* make the first sighting look older, then reconcile again */
	CHECK_INT(exec_sql(db, "UPDATE findings SET first_seen = '2026-01-01T00:00:00Z', "
			   "last_seen = '2026-01-01T00:00:00Z'"), 0);
	CHECK_INT(reconcile(db, cfg, "E3", res, &e), 0);
	CHECK_INT(res->total.found, 1);
	CHECK_INT(res->total.created, 0);
	CHECK_INT(scalar(db, "SELECT COUNT(*) FROM findings"), 1);
	CHECK_INT(scalar(db, "SELECT id FROM findings"), id);
	CHECK_STR(scalar_text(db, "SELECT first_seen FROM findings"), "2026-01-01T00:00:00Z");
	CHECK(strcmp(scalar_text(db, "SELECT last_seen FROM findings"), "2026-01-01T00:00:00Z") != 0);
	CHECK_INT(scalar(db, "SELECT last_run_id - first_run_id FROM findings"), 1);
	/* the drift goes away by itself: resolved */
	CHECK_INT(exec_sql(db, "UPDATE entitlements SET quantity_seats = 3 WHERE id = 'ent_org'"), 0);
	CHECK_INT(reconcile(db, cfg, "E3", res, &e), 0);
	CHECK_INT(res->total.resolved, 1);
	CHECK_INT(res->total.open[SEV_MEDIUM], 0);
	CHECK_STR(scalar_text(db, "SELECT status FROM findings"), "resolved");
	CHECK(strcmp(scalar_text(db, "SELECT resolved_at FROM findings"), "(null)") != 0);
	/* still gone: nothing changes */
	CHECK_INT(reconcile(db, cfg, "E3", res, &e), 0);
	CHECK_INT(res->total.resolved, 0);
	/* it comes back: the same row, open again */
	CHECK_INT(exec_sql(db, "UPDATE entitlements SET quantity_seats = 7 WHERE id = 'ent_org'"), 0);
	CHECK_INT(reconcile(db, cfg, "E3", res, &e), 0);
	CHECK_INT(res->total.reopened, 1);
	CHECK_INT(res->total.created, 0);
	CHECK_INT(scalar(db, "SELECT COUNT(*) FROM findings"), 1);
	CHECK_STR(scalar_text(db, "SELECT status || ' ' || reopened || ' ' || action_before || ' ' "
			      "|| COALESCE(resolved_at, '-') FROM findings"), "open 1 7 -");
	/* repaired findings stay repaired while the drift is gone */
	CHECK_INT(exec_sql(db, "UPDATE findings SET status = 'repaired'; "
			   "UPDATE entitlements SET quantity_seats = 3 WHERE id = 'ent_org'"), 0);
	CHECK_INT(reconcile(db, cfg, "E3", res, &e), 0);
	CHECK_STR(scalar_text(db, "SELECT status FROM findings"), "repaired");
out:
	db_close(db);
	config_free(cfg);
	free(res);
}

/* --rule evaluates and resolves only the rules it names. */
static void test_subset(void)
{
	struct reconcile_result *res = calloc(1, sizeof *res);
	struct config *cfg = load_config("config/trueup.json");
	struct db *db = load_case(NULL);
	struct err e = { 0 };

	CHECK(cfg && db);
	if (!cfg || !db)
		goto out;
	CHECK_INT(exec_sql(db, "UPDATE entitlements SET quantity_seats = 5 WHERE id = 'ent_org';"
			   "INSERT INTO tenants (id, owner_user_id, plan, status) "
			   "VALUES ('t_free', 'u_x1', 'organizer', 'active')"), 0);
	CHECK_INT(reconcile(db, cfg, "P2", res, &e), 0);
	CHECK_INT(res->nrules, 1);
	CHECK_STR(res->rules[0].code, "P2");
	CHECK_INT(scalar(db, "SELECT COUNT(*) FROM findings"), 1);
	CHECK_INT(reconcile_max_open_severity(res), SEV_CRITICAL);
	CHECK_INT(reconcile(db, cfg, "", res, &e), 0);
	CHECK_INT(scalar(db, "SELECT COUNT(*) FROM findings WHERE status = 'open'"), 2);
	/* E3 alone: P2's finding is neither refreshed nor resolved */
	CHECK_INT(exec_sql(db, "UPDATE tenants SET status = 'closed' WHERE id = 't_free'"), 0);
	CHECK_INT(reconcile(db, cfg, "E3", res, &e), 0);
	CHECK_INT(res->total.resolved, 0);
	CHECK_INT(reconcile_max_open_severity(res), SEV_MEDIUM);
	CHECK_STR(scalar_text(db, "SELECT status FROM findings WHERE rule = 'P2'"), "open");
	CHECK_INT(reconcile(db, cfg, "P2,E3", res, &e), 0);
	CHECK_STR(scalar_text(db, "SELECT status FROM findings WHERE rule = 'P2'"), "resolved");
	CHECK_STR(res->rules[0].code, "E3");   /* contract order, not the order given */
out:
	db_close(db);
	config_free(cfg);
	free(res);
}

static void test_unfinished_pull(void)
{
	struct reconcile_result *res = calloc(1, sizeof *res);
	struct config *cfg = load_config("config/trueup.json");
	struct reconcile_opts o;
	struct db *db = fresh_db();
	struct err e = { 0 };

	memset(&o, 0, sizeof o);
	o.now = NOW;
	CHECK(cfg && db);
	if (!cfg || !db)
		goto out;
	/* never pulled: refused, even when unfinished pulls are allowed */
	CHECK_INT(reconcile_run(db, cfg, &o, res, &e), EXIT_NOINPUT);
	CHECK_CONTAINS(e.msg, "trueup pull");
	o.allow_unfinished = 1;
	CHECK_INT(reconcile_run(db, cfg, &o, res, &e), EXIT_NOINPUT);
	o.allow_unfinished = 0;
	/* an interrupted pull: refused with the pull's message; nothing stored */
	CHECK_INT(exec_sql(db, "INSERT INTO stripe_pull_runs (mode, started_at, status) "
			   "VALUES ('full', '2026-05-01T23:00:00Z', 'running')"), 0);
	CHECK_INT(reconcile_run(db, cfg, &o, res, &e), EXIT_TEMPFAIL);
	CHECK_CONTAINS(e.msg, "has not finished");
	CHECK_INT(scalar(db, "SELECT COUNT(*) FROM reconcile_runs"), 0);
	/* allowed: it runs and says so */
	o.allow_unfinished = 1;
	CHECK_INT(reconcile_run(db, cfg, &o, res, &e), 0);
	CHECK_STR(res->pull_status, "running");
	CHECK_CONTAINS(res->unfinished_msg, "has not finished");
	CHECK_STR(scalar_text(db, "SELECT pull_status FROM reconcile_runs"), "running");
	/* a failed pull is refused too */
	o.allow_unfinished = 0;
	CHECK_INT(exec_sql(db, "UPDATE stripe_pull_runs SET status = 'failed', error = 'boom'"), 0);
	CHECK_INT(reconcile_run(db, cfg, &o, res, &e), EXIT_TEMPFAIL);
	CHECK_CONTAINS(e.msg, "failed");
	/* an unknown rule is a usage error */
	{
		const char *bad[] = { "Z1" };

		o.rules = bad;
		o.nrules = 1;
		CHECK_INT(reconcile_run(db, cfg, &o, res, &e), EXIT_USAGE);
	}
out:
	db_close(db);
	config_free(cfg);
	free(res);
}

/* The structured proposals repair will act on. */
static void test_actions(void)
{
	struct reconcile_result *res = calloc(1, sizeof *res);
	struct config *cfg = load_config("config/trueup.json");
	struct db *db = load_case(RULES_DIR "/E1/drift");
	struct err e = { 0 };

	CHECK(cfg && db);
	if (!cfg || !db)
		goto out;
	CHECK_INT(reconcile(db, cfg, "E1", res, &e), 0);
	CHECK_STR(scalar_text(db, "SELECT json_extract(action_after, '$.product') || ' ' || "
			      "json_extract(action_after, '$.quantity_seats') || ' ' || "
			      "json_extract(action_after, '$.source') || ' ' || action_table "
			      "FROM findings WHERE subject = 'subscription:sub_org'"),
		  "organization 3 stripe entitlements");
	CHECK_INT(exec_sql(db, "UPDATE entitlements SET status = 'active' WHERE id = 'ent_org';"
			   "INSERT INTO seat_assignments (entitlement_id, user_id, assigned_at) VALUES "
			   "('ent_org', 'u_x1', '2026-04-01T00:00:00Z'),"
			   "('ent_org', 'u_x2', '2026-04-02T00:00:00Z')"), 0);
	config_free(cfg);
	cfg = load_config(RULES_DIR "/E4/release/trueup.json");
	CHECK(cfg != NULL);
	if (!cfg)
		goto out;
	CHECK_INT(reconcile(db, cfg, "E4", res, &e), 0);
	CHECK_STR(scalar_text(db, "SELECT action || ' ' || action_after FROM findings "
			      "WHERE rule = 'E4'"),
		  "release_seats [{\"user_id\":\"u_x2\",\"assigned_at\":\"2026-04-02T00:00:00Z\"}]");
out:
	db_close(db);
	config_free(cfg);
	free(res);
}

int main(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/trueup-reconcile.XXXXXX");
	if (!mkdtemp(tmpdir))
		return 1;
	RUN(test_rule_files);
	RUN(test_parse_rules);
	RUN(test_base_is_clean);
	run_fixture_cases();
	RUN(test_lifecycle);
	RUN(test_subset);
	RUN(test_unfinished_pull);
	RUN(test_actions);
	cleanup_tmpdir();
	return harness_done();
}
