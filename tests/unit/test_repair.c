/*
 * test_repair.c - the repair engine (src/repair.c, src/db_repair.c) on the
 * data-driven drift cases of fixtures/rules/:
 *   - every case: the plan changes nothing; --apply repairs every
 *     auto-repairable finding (a reconcile afterwards has none open),
 *     leaves admin grants byte for byte as they were, keeps integrity and
 *     foreign keys; a second apply applies nothing;
 *   - P1 provisions once per checkout session, ever (the drift coming back
 *     is refused by the ledger);
 *   - the ledger's UNIQUE key stops an action whose row change is already
 *     recorded, even when everything else says "apply";
 *   - a finding the platform outgrew since reconcile is skipped as stale;
 *   - refusals: no reconcile, findings older than the pull, unfinished
 *     pull, unknown rule; --rule subsets;
 *   - the journal: one JSON line per ledger row, in order, written whole.
 *
 * Run from the top of the repository (fixtures are found relative to it).
 */
#include <jansson.h>

#include "harness.h"
#include "repair.h"
#include "rulecase.h"

#define REPAIR_NOW (NOW + 3600)

static int do_repair(struct db *db, struct config *cfg, int apply, const char *list,
		     struct repair_result *res, struct err *e)
{
	const char *codes[RECONCILE_NRULES];
	struct repair_opts o;
	size_t n = 0;

	memset(&o, 0, sizeof o);
	if (list && *list && reconcile_parse_rules(list, codes, &n, e) != 0)
		return e->code;
	o.rules = n ? codes : NULL;
	o.nrules = n;
	o.apply = apply;
	o.run_id = 42;
	o.now = REPAIR_NOW;
	return repair_run(db, cfg, &o, res, e);
}

/* Every row of the platform tables (and optionally the ledger) as text. */
static char *dump_tables(struct db *db, int with_ledger)
{
	static const char *const q[] = {
		"SELECT * FROM users ORDER BY id",
		"SELECT * FROM tenants ORDER BY id",
		"SELECT * FROM memberships ORDER BY tenant_id, user_id",
		"SELECT * FROM purchase_intents ORDER BY id",
		"SELECT * FROM subscriptions ORDER BY id",
		"SELECT * FROM entitlements ORDER BY id",
		"SELECT * FROM seat_assignments ORDER BY entitlement_id, user_id, assigned_at",
		"SELECT * FROM courses ORDER BY id",
		"SELECT * FROM enrolments ORDER BY id",
		"SELECT * FROM step_progress ORDER BY id",
		"SELECT idempotency_key, action_key, rule, subject, table_name, row_id, op, before,"
		" after FROM repair_ledger ORDER BY idempotency_key",
	};
	size_t cap = 1 << 16, len = 0, i, nq = sizeof q / sizeof q[0] - (with_ledger ? 0 : 1);
	char *out = malloc(cap);

	out[0] = '\0';
	for (i = 0; i < nq; i++) {
		sqlite3_stmt *st;

		if (sqlite3_prepare_v2(db->h, q[i], -1, &st, NULL) != SQLITE_OK)
			continue;
		while (sqlite3_step(st) == SQLITE_ROW) {
			int c, nc = sqlite3_column_count(st);

			for (c = 0; c < nc; c++) {
				const char *v = (const char *)sqlite3_column_text(st, c);
				size_t k = strlen(v ? v : "\\N") + 2;

				if (len + k + 1 > cap) {
					cap = (len + k + 1) * 2;
					out = realloc(out, cap);
				}
				len += (size_t)snprintf(out + len, cap - len, "%s%c", v ? v : "\\N",
							c + 1 < nc ? '|' : '\n');
			}
		}
		sqlite3_finalize(st);
	}
	return out;
}

/* Admin grants and their seats, as text: they must never change. */
static char *dump_admin(struct db *db)
{
	sqlite3_stmt *st;
	char *out = calloc(1, 1 << 16);
	size_t len = 0;

	if (sqlite3_prepare_v2(db->h,
			       "SELECT e.id || '|' || e.status || '|' || COALESCE(e.quantity_seats, '') "
			       "|| '|' || COALESCE(e.revoked_at, '') || '|' || COALESCE((SELECT "
			       "group_concat(a.user_id || '@' || COALESCE(a.released_at, '-')) FROM "
			       "seat_assignments a WHERE a.entitlement_id = e.id), '') FROM entitlements e "
			       "WHERE e.source = 'admin_grant' ORDER BY e.id", -1, &st, NULL) != SQLITE_OK)
		return out;
	while (sqlite3_step(st) == SQLITE_ROW && len < (1 << 16) - 600)
		len += (size_t)snprintf(out + len, (1 << 16) - len, "%.500s\n",
					sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return out;
}

/* Open findings whose action would be applied (repairable and auto). */
static long long open_repairable(struct db *db, const struct config *cfg)
{
	sqlite3_stmt *st;
	long long n = 0;

	if (sqlite3_prepare_v2(db->h, "SELECT rule, action FROM findings WHERE status = 'open'", -1,
			       &st, NULL) != SQLITE_OK)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *rule = (const char *)sqlite3_column_text(st, 0);
		const char *act = (const char *)sqlite3_column_text(st, 1);
		char **r;

		if (!db_repair_can_apply(rule, act))
			continue;
		for (r = cfg->repair.auto_rules; r && *r; r++)
			if (strcmp(*r, rule) == 0) {
				printf("  still open: %s %s\n", rule, act);
				n++;
			}
	}
	sqlite3_finalize(st);
	return n;
}

/* One case: plan, apply, reconcile, apply again.  Returns 1 when it passed. */
static int repair_case(const char *dir)
{
	char path[512], rules[128], cfgpath[256];
	struct reconcile_result *rr = calloc(1, sizeof *rr);
	struct repair_result *res = calloc(1, sizeof *res);
	struct config *cfg = NULL;
	struct db *db = NULL;
	struct err e = { 0 };
	char *spec = NULL, *before = NULL, *after = NULL, *admin0 = NULL, *admin1 = NULL;
	long long planned, ledger_rows;
	int ok = 0;

	snprintf(path, sizeof path, "%s/case.txt", dir);
	if (!(spec = slurp(path)))
		goto out;
	case_get(spec, "rules", rules, sizeof rules);
	case_get(spec, "config", cfgpath, sizeof cfgpath);
	if (!cfgpath[0])
		snprintf(cfgpath, sizeof cfgpath, "config/trueup.json");
	if (!(cfg = load_config(cfgpath)) || !(db = load_case(dir)))
		goto out;
	if (reconcile(db, cfg, rules, rr, &e) != 0) {
		printf("  reconcile: %s\n", e.msg);
		goto out;
	}
	/* the plan changes nothing */
	before = dump_tables(db, 1);
	admin0 = dump_admin(db);
	if (do_repair(db, cfg, 0, NULL, res, &e) != 0) {
		printf("  plan: %s\n", e.msg);
		goto out;
	}
	planned = res->total.planned;
	after = dump_tables(db, 1);
	if (strcmp(before, after) != 0) {
		printf("  the plan changed the database\n");
		goto out;
	}
	/* apply: every planned action applied or (overlaps) stale, nothing left open */
	if (do_repair(db, cfg, 1, NULL, res, &e) != 0) {
		printf("  apply: %s\n", e.msg);
		goto out;
	}
	if (res->total.applied + res->total.stale != planned || res->total.already != 0) {
		printf("  planned %lld, applied %lld, stale %lld, already %lld\n", planned,
		       res->total.applied, res->total.stale, res->total.already);
		goto out;
	}
	if (res->total.applied > 0 && res->total.entries < res->total.applied) {
		printf("  applied actions without ledger rows\n");
		goto out;
	}
	ledger_rows = scalar(db, "SELECT COUNT(*) FROM repair_ledger");
	if (ledger_rows != res->total.entries ||
	    scalar(db, "SELECT COUNT(*) FROM repair_ledger WHERE run_id <> 42") != 0) {
		printf("  ledger rows %lld, entries %lld\n", ledger_rows, res->total.entries);
		goto out;
	}
	if (reconcile(db, cfg, rules, rr, &e) != 0) {
		printf("  reconcile after apply: %s\n", e.msg);
		goto out;
	}
	if (open_repairable(db, cfg) != 0)
		goto out;
	admin1 = dump_admin(db);
	if (strcmp(admin0, admin1) != 0) {
		printf("  an admin grant changed:\n%s---\n%s", admin0, admin1);
		goto out;
	}
	if (strcmp(scalar_text(db, "PRAGMA integrity_check"), "ok") != 0 ||
	    scalar(db, "SELECT COUNT(*) FROM pragma_foreign_key_check") != 0) {
		printf("  integrity or foreign keys broken\n");
		goto out;
	}
	/* a second apply applies nothing */
	free(before);
	before = dump_tables(db, 1);
	if (do_repair(db, cfg, 1, NULL, res, &e) != 0 || res->total.applied != 0 ||
	    scalar(db, "SELECT COUNT(*) FROM repair_ledger") != ledger_rows) {
		printf("  second apply: rc %d, applied %lld\n", e.code, res->total.applied);
		goto out;
	}
	free(after);
	after = dump_tables(db, 1);
	ok = strcmp(before, after) == 0;
	if (!ok)
		printf("  the second apply changed the database\n");
out:
	free(spec);
	free(before);
	free(after);
	free(admin0);
	free(admin1);
	free(rr);
	free(res);
	db_close(db);
	config_free(cfg);
	return ok;
}

static void run_fixture_cases(void)
{
	char *cases[256];
	size_t n = list_cases(cases, 256), i;

	if (n == 0) {
		printf("FAIL fixtures: no cases under %s\n", RULES_DIR);
		harness_failed++;
	}
	for (i = 0; i < n; i++) {
		const char *name = cases[i] + strlen(RULES_DIR) + 1;

		harness_cur_failed = !repair_case(cases[i]);
		if (harness_cur_failed)
			harness_failed++;
		else
			harness_passed++;
		printf("%s repair case %s\n", harness_cur_failed ? "FAIL" : "ok  ", name);
		free(cases[i]);
	}
}

/* A case loaded and reconciled with its own rules; NULL on failure. */
static struct db *reconciled(const char *dir, const char *rules, struct config *cfg)
{
	struct reconcile_result *rr = calloc(1, sizeof *rr);
	struct db *db = load_case(dir);
	struct err e = { 0 };

	if (db && reconcile(db, cfg, rules, rr, &e) != 0) {
		printf("  reconcile: %s\n", e.msg);
		db_close(db);
		db = NULL;
	}
	free(rr);
	return db;
}

static void test_p1_once_ever(void)
{
	struct config *cfg = load_config("config/trueup.json");
	struct repair_result *res = calloc(1, sizeof *res);
	struct reconcile_result *rr = calloc(1, sizeof *rr);
	struct db *db = cfg ? reconciled(RULES_DIR "/P1/drift", "P1", cfg) : NULL;
	struct err e = { 0 };
	long long tenants;

	CHECK(db != NULL);
	if (!db)
		goto out;
	CHECK_INT(do_repair(db, cfg, 1, "P1", res, &e), 0);
	CHECK_INT(res->total.applied, 2);
	CHECK_INT(scalar(db, "SELECT COUNT(*) FROM tenants WHERE id = 'tu_tenant_cs_new'"), 1);
	CHECK_INT(scalar(db, "SELECT COUNT(*) FROM repair_ledger "
			 "WHERE action_key = 'P1:checkout_session:cs_new'"), 5);
	CHECK_STR(scalar_text(db, "SELECT status || '/' || tenant_id FROM purchase_intents "
			      "WHERE id = 'pint_new'"), "provisioned/tu_tenant_cs_new");
	/* the owner holds the one seat of the new entitlement */
	CHECK_INT(scalar(db, "SELECT COUNT(*) FROM seat_assignments WHERE entitlement_id = "
			 "'tu_ent_cs_new' AND user_id = 'u_stu1' AND released_at IS NULL"), 1);
	/* the drift comes back (say a platform import reset the intent) */
	tenants = scalar(db, "SELECT COUNT(*) FROM tenants");
	CHECK_INT(exec_sql(db, "UPDATE purchase_intents SET status = 'paid' WHERE id = 'pint_new'"), 0);
	CHECK_INT(reconcile(db, cfg, "P1", rr, &e), 0);
	CHECK_INT(scalar(db, "SELECT reopened FROM findings WHERE rule = 'P1' "
			 "AND subject = 'checkout_session:cs_new' AND status = 'open'"), 1);
	CHECK_INT(do_repair(db, cfg, 1, "P1", res, &e), 0);
	CHECK_INT(res->total.applied, 0);
	CHECK_INT(res->total.already, 1);
	CHECK_INT(scalar(db, "SELECT COUNT(*) FROM tenants"), tenants);
	CHECK_STR(scalar_text(db, "SELECT status FROM purchase_intents WHERE id = 'pint_new'"),
		  "paid");
	CHECK_INT(scalar(db, "SELECT COUNT(*) FROM findings WHERE rule = 'P1' AND status = 'open'"),
		  1);
out:
	free(res);
	free(rr);
	db_close(db);
	config_free(cfg);
}

static void test_ledger_key_backstop(void)
{
	struct config *cfg = load_config("config/trueup.json");
	struct repair_result *res = calloc(1, sizeof *res);
	struct db *db = cfg ? reconciled(RULES_DIR "/E3/drift", "E3", cfg) : NULL;
	struct err e = { 0 };
	char *before;

	CHECK(db != NULL);
	if (!db)
		goto out;
	/*
	 * Another process recorded this very row change (same entry key) under a
	 * different action key: the finding is still open and the action key is
	 * unknown, so only the UNIQUE entry key can stop the second application.
	 */
	CHECK_INT(exec_sql(db, "INSERT INTO repair_ledger (idempotency_key, action_key, rule, "
			   "subject, action, table_name, row_id, op, after, applied_at) VALUES "
			   "('E3:entitlement:ent_org#0/entitlements/ent_org', 'other', 'E3', "
			   "'entitlement:ent_org', 'set', 'entitlements', 'ent_org', 'update', '{}', "
			   "'2026-05-02T00:00:00Z')"), 0);
	before = dump_tables(db, 1);
	CHECK_INT(do_repair(db, cfg, 1, "E3", res, &e), 0);
	if (e.code)
		printf("  %s\n", e.msg);
	CHECK_INT(res->total.applied, 0);
	CHECK_INT(res->total.already, 1);
	{
		char *after = dump_tables(db, 1);

		CHECK_STR(after, before);
		free(after);
	}
	free(before);
	CHECK_STR(scalar_text(db, "SELECT status FROM findings WHERE rule = 'E3'"), "open");
out:
	free(res);
	db_close(db);
	config_free(cfg);
}

static void test_stale(void)
{
	struct config *cfg = load_config("config/trueup.json");
	struct repair_result *res = calloc(1, sizeof *res);
	struct db *db = cfg ? reconciled(RULES_DIR "/E3/drift", "E3", cfg) : NULL;
	struct err e = { 0 };

	CHECK(db != NULL);
	if (!db)
		goto out;
	/* someone changed the seats after reconcile: the repair must not overwrite it */
	CHECK_INT(exec_sql(db, "UPDATE entitlements SET quantity_seats = 7 WHERE id = 'ent_org'"), 0);
	CHECK_INT(do_repair(db, cfg, 1, NULL, res, &e), 0);
	CHECK_INT(res->total.applied, 0);
	CHECK_INT(res->total.stale, 1);
	CHECK_INT(scalar(db, "SELECT quantity_seats FROM entitlements WHERE id = 'ent_org'"), 7);
	CHECK_INT(scalar(db, "SELECT COUNT(*) FROM repair_ledger"), 0);
	CHECK_STR(scalar_text(db, "SELECT status FROM findings WHERE rule = 'E3'"), "open");
out:
	free(res);
	db_close(db);
	config_free(cfg);
}

static void test_refusals(void)
{
	struct config *cfg = load_config("config/trueup.json");
	struct repair_result *res = calloc(1, sizeof *res);
	struct reconcile_result *rr = calloc(1, sizeof *rr);
	struct db *db = load_case(RULES_DIR "/E3/drift");
	struct err e = { 0 };

	CHECK(cfg && db);
	if (!cfg || !db)
		goto out;
	CHECK_INT(do_repair(db, cfg, 0, NULL, res, &e), EXIT_NOINPUT);
	CHECK_CONTAINS(e.msg, "run 'trueup reconcile' first");
	CHECK_INT(reconcile(db, cfg, "", rr, &e), 0);
	CHECK_INT(do_repair(db, cfg, 0, "E3,Q9", res, &e), EXIT_USAGE);
	/* a newer finished pull: the findings are stale as a whole */
	CHECK_INT(exec_sql(db, "INSERT INTO stripe_pull_runs (mode, started_at, finished_at, status)"
			   " VALUES ('incremental', '2026-05-02T00:10:00Z', '2026-05-02T00:11:00Z',"
			   " 'ok')"), 0);
	CHECK_INT(do_repair(db, cfg, 1, NULL, res, &e), EXIT_TEMPFAIL);
	CHECK_CONTAINS(e.msg, "predate stripe pull");
	CHECK_INT(scalar(db, "SELECT COUNT(*) FROM repair_ledger"), 0);
	/* an unfinished pull: refused before anything else */
	CHECK_INT(exec_sql(db, "INSERT INTO stripe_pull_runs (mode, started_at, status)"
			   " VALUES ('incremental', '2026-05-02T00:20:00Z', 'running')"), 0);
	CHECK_INT(do_repair(db, cfg, 1, NULL, res, &e), EXIT_TEMPFAIL);
	CHECK_CONTAINS(e.msg, "has not finished");
out:
	free(res);
	free(rr);
	db_close(db);
	config_free(cfg);
}

static void test_rule_subset_and_policy(void)
{
	struct config *cfg = load_config("config/trueup.json");
	struct repair_result *res = calloc(1, sizeof *res);
	struct db *db = NULL;
	struct reconcile_result *rr = calloc(1, sizeof *rr);
	struct err e = { 0 };

	CHECK(cfg != NULL);
	if (!cfg)
		goto out;
	db = load_case(RULES_DIR "/E3/drift");
	CHECK(db && exec_file(db, RULES_DIR "/C4/drift/setup.sql") == 0);
	CHECK(db && import(db, RULES_DIR "/C4/drift/platform") == 0);
	if (!db)
		goto out;
	CHECK_INT(reconcile(db, cfg, "E3,C4", rr, &e), 0);
	CHECK_INT(do_repair(db, cfg, 1, "C4", res, &e), 0);
	CHECK(res->total.applied >= 1);
	CHECK_INT(scalar(db, "SELECT COUNT(*) FROM repair_ledger WHERE rule <> 'C4'"), 0);
	CHECK_STR(scalar_text(db, "SELECT status FROM findings WHERE rule = 'E3'"), "open");
	/* a rule outside repair.auto_apply is planned as manual and never applied */
	{
		char **r;

		for (r = cfg->repair.auto_rules; r && *r; r++)
			if (strcmp(*r, "E3") == 0)
				(*r)[0] = 'X';   /* "X3": E3 no longer auto */
	}
	CHECK_INT(do_repair(db, cfg, 1, NULL, res, &e), 0);
	CHECK_INT(res->total.manual, 1);
	CHECK_INT(res->total.applied, 0);
	CHECK_STR(scalar_text(db, "SELECT status FROM findings WHERE rule = 'E3'"), "open");
out:
	free(res);
	free(rr);
	db_close(db);
	config_free(cfg);
}

static void test_export(void)
{
	struct config *cfg = load_config("config/trueup.json");
	struct repair_result *res = calloc(1, sizeof *res);
	struct db *db = cfg ? reconciled(RULES_DIR "/P1/drift", "P1", cfg) : NULL;
	struct err e = { 0 };
	char path[160], line[8192];
	long long n = -1, lines = 0;
	FILE *fp;

	CHECK(db != NULL);
	if (!db)
		goto out;
	CHECK_INT(do_repair(db, cfg, 1, NULL, res, &e), 0);
	snprintf(path, sizeof path, "%s/journal.jsonl", tmpdir);
	CHECK_INT(repair_export_file(db, NULL, 0, path, &n, &e), 0);
	CHECK_INT(n, scalar(db, "SELECT COUNT(*) FROM repair_ledger"));
	CHECK(n > 0);
	fp = fopen(path, "r");
	CHECK(fp != NULL);
	while (fp && fgets(line, sizeof line, fp)) {
		json_t *o = json_loads(line, 0, NULL);
		const char *op;

		CHECK(o != NULL);
		if (!o)
			continue;
		lines++;
		op = json_string_value(json_object_get(o, "op"));
		CHECK(json_is_string(json_object_get(o, "idempotency_key")));
		CHECK(json_is_string(json_object_get(o, "table")));
		CHECK(json_is_string(json_object_get(o, "row_id")) ||
		      json_is_array(json_object_get(o, "row_id")));
		CHECK(json_is_object(json_object_get(o, "fields")));
		CHECK(op && (strcmp(op, "insert") == 0 || strcmp(op, "update") == 0));
		CHECK(op && (strcmp(op, "insert") == 0) == json_is_null(json_object_get(o, "before")));
		json_decref(o);
	}
	if (fp)
		fclose(fp);
	CHECK_INT(lines, n);
	unlink(path);
	/* a directory that does not exist: refused, no file */
	CHECK_INT(repair_export_file(db, NULL, 0, "/nonexistent-dir/j.jsonl", &n, &e),
		  EXIT_CANTCREAT);
	CHECK_CONTAINS(e.msg, "/nonexistent-dir/j.jsonl");
out:
	free(res);
	db_close(db);
	config_free(cfg);
}

int main(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/trueup-repair.XXXXXX");
	if (!mkdtemp(tmpdir))
		return 1;
	run_fixture_cases();
	RUN(test_p1_once_ever);
	RUN(test_ledger_key_backstop);
	RUN(test_stale);
	RUN(test_refusals);
	RUN(test_rule_subset_and_policy);
	RUN(test_export);
	cleanup_tmpdir();
	return harness_done();
}
