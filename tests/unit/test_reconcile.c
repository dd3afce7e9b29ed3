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
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "harness.h"
#include "import.h"
#include "reconcile.h"

#define RULES_DIR "fixtures/rules"
#define NOW 1777680000LL   /* 2026-05-02T00:00:00Z */

static char tmpdir[64];
static char dbpath[128];

static char *slurp(const char *path)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	long n;

	if (!fp)
		return NULL;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	if (buf)
		buf[n] = '\0';
	fclose(fp);
	return buf;
}

static int is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int exec_file(struct db *db, const char *path)
{
	char *sql = slurp(path), *msg = NULL;
	int rc;

	if (!sql)
		return 0;   /* optional */
	rc = sqlite3_exec(db->h, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK)
		printf("  %s: %s\n", path, msg ? msg : "?");
	sqlite3_free(msg);
	free(sql);
	return rc == SQLITE_OK ? 0 : -1;
}

static int exec_sql(struct db *db, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db->h, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK)
		printf("  sql: %s\n", msg ? msg : "?");
	sqlite3_free(msg);
	return rc == SQLITE_OK ? 0 : -1;
}

static struct db *fresh_db(void)
{
	struct db *db = NULL;
	struct err e = { 0 };

	snprintf(dbpath, sizeof dbpath, "%s/t.db", tmpdir);
	unlink(dbpath);
	if (db_open(dbpath, DB_OPEN_CREATE, &db, &e) != 0)
		printf("  db_open: %s\n", e.msg);
	return db;
}

static int import(struct db *db, const char *dir)
{
	struct import_result res;
	struct err e = { 0 };

	if (import_dir(db, dir, &res, &e) != 0) {
		printf("  import %s: %s\n", dir, e.msg);
		return -1;
	}
	return 0;
}

/* The base platform and snapshot, then the case's own files (dir may be NULL). */
static struct db *load_case(const char *dir)
{
	struct db *db = fresh_db();
	char path[512];

	if (!db || import(db, RULES_DIR "/base/platform") != 0 ||
	    exec_file(db, RULES_DIR "/base/stripe.sql") != 0)
		goto fail;
	if (dir) {
		snprintf(path, sizeof path, "%s/platform", dir);
		if (is_dir(path) && import(db, path) != 0)
			goto fail;
		snprintf(path, sizeof path, "%s/setup.sql", dir);
		if (exec_file(db, path) != 0)
			goto fail;
	}
	return db;
fail:
	db_close(db);
	return NULL;
}

static struct config *load_config(const char *path)
{
	struct config_problems probs = { 0 };
	struct config *cfg = NULL;
	struct err e = { 0 };

	if (config_load(path, &cfg, &probs, &e) != 0)
		printf("  config %s: %s\n", path, e.msg);
	config_problems_free(&probs);
	return cfg;
}

/* Run the rules in list ("" = all) at NOW. */
static int reconcile(struct db *db, struct config *cfg, const char *list,
		     struct reconcile_result *res, struct err *e)
{
	const char *codes[RECONCILE_NRULES];
	struct reconcile_opts o;
	size_t n = 0;

	memset(&o, 0, sizeof o);
	if (list && *list && reconcile_parse_rules(list, codes, &n, e) != 0)
		return e->code;
	o.rules = n ? codes : NULL;
	o.nrules = n;
	o.now = NOW;
	return reconcile_run(db, cfg, &o, res, e);
}

/* Open findings as "rule\tsubject\tseverity\taction\ttenant\tstripe\n" lines. */
static char *dump_open(struct db *db)
{
	sqlite3_stmt *st;
	size_t cap = 4096, len = 0;
	char *out = malloc(cap);

	out[0] = '\0';
	if (sqlite3_prepare_v2(db->h, "SELECT rule, subject, severity, action, "
			       "COALESCE(tenant_id, '-'), COALESCE(stripe_object, '-') FROM findings "
			       "WHERE status = 'open' ORDER BY rule, subject", -1, &st, NULL) != SQLITE_OK)
		return out;
	while (sqlite3_step(st) == SQLITE_ROW) {
		char line[1024];
		int n = snprintf(line, sizeof line, "%s\t%s\t%s\t%s\t%s\t%s\n",
				 sqlite3_column_text(st, 0), sqlite3_column_text(st, 1),
				 sqlite3_column_text(st, 2), sqlite3_column_text(st, 3),
				 sqlite3_column_text(st, 4), sqlite3_column_text(st, 5));

		if (len + (size_t)n + 1 > cap) {
			cap = (len + (size_t)n + 1) * 2;
			out = realloc(out, cap);
		}
		memcpy(out + len, line, (size_t)n + 1);
		len += (size_t)n;
	}
	sqlite3_finalize(st);
	return out;
}

static long long scalar(struct db *db, const char *sql)
{
	sqlite3_stmt *st;
	long long v = -1;

	if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK)
		return -2;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static char text_buf[1024];

static const char *scalar_text(struct db *db, const char *sql)
{
	sqlite3_stmt *st;

	snprintf(text_buf, sizeof text_buf, "(none)");
	if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK)
		return "(error)";
	if (sqlite3_step(st) == SQLITE_ROW)
		snprintf(text_buf, sizeof text_buf, "%s", sqlite3_column_type(st, 0) == SQLITE_NULL
			 ? "(null)" : (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return text_buf;
}

/* No stored finding of any rule but G1 proposes changing an admin grant. */
static long long admin_grant_violations(struct db *db)
{
	return scalar(db, "SELECT COUNT(*) FROM findings f WHERE f.rule <> 'G1' "
		      "AND f.action NOT IN ('report', 'none') AND EXISTS (SELECT 1 FROM entitlements e "
		      "WHERE e.source = 'admin_grant' AND ((f.subject_type = 'entitlement' AND "
		      "e.id = f.subject_id) OR (f.action_table IN ('entitlements', 'seat_assignments') "
		      "AND e.id = f.action_row_id)))");
}

/* Read key=value lines of case.txt. */
static void case_get(const char *text, const char *key, char *out, size_t sz)
{
	const char *p = text;
	size_t k = strlen(key);

	out[0] = '\0';
	while (p && *p) {
		if (strncmp(p, key, k) == 0 && p[k] == '=') {
			size_t n = strcspn(p + k + 1, "\n");

			snprintf(out, sz, "%.*s", (int)n, p + k + 1);
			return;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
}

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

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Each fixtures/rules/<CODE>/<case>/ is one test. */
static void run_fixture_cases(void)
{
	char *cases[256];
	size_t n = 0, i;
	DIR *top = opendir(RULES_DIR), *sub;
	struct dirent *d, *c;
	int seen_codes[RECONCILE_NRULES] = { 0 };

	if (!top) {
		printf("FAIL fixtures: cannot open %s\n", RULES_DIR);
		harness_failed++;
		return;
	}
	while ((d = readdir(top))) {
		char p[300];

		if (d->d_name[0] == '.' || strcmp(d->d_name, "base") == 0)
			continue;
		snprintf(p, sizeof p, "%s/%s", RULES_DIR, d->d_name);
		if (!is_dir(p) || !(sub = opendir(p)))
			continue;
		while ((c = readdir(sub)) && n < 256) {
			char q[600];

			snprintf(q, sizeof q, "%s/%s", p, c->d_name);
			if (c->d_name[0] != '.' && is_dir(q))
				cases[n++] = strdup(q);
		}
		closedir(sub);
	}
	closedir(top);
	qsort(cases, n, sizeof cases[0], cmp_str);
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
	unlink(dbpath);
	{
		char p[160];

		snprintf(p, sizeof p, "%s/t.db-wal", tmpdir);
		unlink(p);
		snprintf(p, sizeof p, "%s/t.db-shm", tmpdir);
		unlink(p);
	}
	rmdir(tmpdir);
	return harness_done();
}
