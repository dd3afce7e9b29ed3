/*
 * test_property.c - the property test of `trueup reconcile` (issue 4):
 * random platforms with random drift injected at known places
 * (bench/gen_platform.c) give exactly the injected findings, no more, no
 * fewer; a clean platform gives only G1 for its admin grants.
 *
 * Each platform: a fresh database (every migration), the generator's units
 * and snapshot, then every rule at the generator's time with
 * config/trueup.json (events/LMS catalogue, 7 days of past_due grace).
 * The open findings, as (rule, subject), must equal the generator's list;
 * a difference is printed with the drift kind that caused it.  Across the
 * platforms every drift kind is injected and every rule code found at
 * least once, so the test cannot pass by generating nothing.  The
 * generated rows must also satisfy every foreign key.
 *
 * check_converges() is where what must hold after the first reconcile
 * goes; see the hook there.
 *
 * Run from the top of the repository (config/ is found relative to it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "harness.h"
#include "reconcile.h"
#include "repair.h"

/* The generator is a bench tool, not part of libtrueup: compiled in here. */
#include "../../bench/gen_platform.c"

#define NOW 1777680000LL   /* 2026-05-02T00:00:00Z */
#define CONFIG "config/trueup.json"

static char tmpdir[64];
static char dbpath[128];
static struct config *cfg;

static void remove_db(void)
{
	char p[160];

	unlink(dbpath);
	snprintf(p, sizeof p, "%s-wal", dbpath);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", dbpath);
	unlink(p);
}

static struct db *fresh_db(void)
{
	struct db *db = NULL;
	struct err e = { 0 };

	snprintf(dbpath, sizeof dbpath, "%s/p.db", tmpdir);
	remove_db();
	if (db_open(dbpath, DB_OPEN_CREATE, &db, &e) != 0)
		printf("  db_open: %s\n", e.msg);
	return db;
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

static int reconcile_all(struct db *db, struct reconcile_result *res)
{
	struct reconcile_opts o;
	struct err e = { 0 };
	int rc;

	memset(&o, 0, sizeof o);
	o.now = NOW;
	if ((rc = reconcile_run(db, cfg, &o, res, &e)) != 0)
		printf("  reconcile: %s\n", e.msg);
	return rc;
}

/*
 * Compare the open findings with the expected list (both sorted by rule,
 * subject); print up to 12 differences.  Returns how many there are, and
 * marks in *rules_seen[i] the contract rule codes found.
 */
static long long compare_open(struct db *db, const struct gen_result *gr, int *rules_seen)
{
	sqlite3_stmt *st;
	long long diffs = 0;
	size_t i = 0;
	int rc;

	if (sqlite3_prepare_v2(db->h, "SELECT rule, subject FROM findings WHERE status = 'open' "
			       "ORDER BY rule, subject", -1, &st, NULL) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(st);
	while (rc == SQLITE_ROW || i < gr->n) {
		const char *rule = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
		const char *subject = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 1) : NULL;
		int c;

		if (!rule)
			c = 1;
		else if (i == gr->n)
			c = -1;
		else if ((c = strcmp(rule, gr->v[i].rule)) == 0)
			c = strcmp(subject, gr->v[i].subject);
		if (c == 0) {
			size_t k;

			for (k = 0; k < RECONCILE_NRULES; k++)
				if (strcmp(reconcile_rule_code(k), rule) == 0)
					rules_seen[k] = 1;
		} else if (diffs++ < 12) {
			if (c < 0)
				printf("  unexpected: %s %s\n", rule, subject);
			else
				printf("  missing:    %s %s (%s)\n", gr->v[i].rule, gr->v[i].subject,
				       gr->v[i].cause);
		}
		if (c <= 0)
			rc = sqlite3_step(st);
		if (c >= 0)
			i++;
	}
	sqlite3_finalize(st);
	return diffs;
}

static int repair_all(struct db *db, int apply, struct repair_result *rr)
{
	struct repair_opts o;
	struct err e = { 0 };
	int rc;

	memset(&o, 0, sizeof o);
	o.apply = apply;
	o.now = NOW + 60;
	if ((rc = repair_run(db, cfg, &o, rr, &e)) != 0)
		printf("  repair: %s\n", e.msg);
	return rc;
}

/* Open findings repair would still apply (repairable, rule in auto_apply). */
static long long open_auto(struct db *db)
{
	sqlite3_stmt *st;
	long long n = 0;

	if (sqlite3_prepare_v2(db->h, "SELECT rule, action, subject || ' (' || COALESCE(actual, '') "
			       "|| ')' FROM findings "
			       "WHERE status = 'open'", -1, &st, NULL) != SQLITE_OK)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *rule = (const char *)sqlite3_column_text(st, 0);
		char **r;

		if (!db_repair_can_apply(rule, (const char *)sqlite3_column_text(st, 1)))
			continue;
		for (r = cfg->repair.auto_rules; r && *r; r++)
			if (strcmp(*r, rule) == 0 && n++ < 8)
				printf("  still open after repair: %s %s\n", rule,
				       sqlite3_column_text(st, 2));
	}
	sqlite3_finalize(st);
	return n;
}

static void check_repair_converges(struct db *db)
{
	struct repair_result *rr = calloc(1, sizeof *rr);
	struct reconcile_result *res = calloc(1, sizeof *res);
	long long planned, rows;

	CHECK(rr != NULL && res != NULL);
	if (!rr || !res)
		goto out;
	CHECK_INT(repair_all(db, 0, rr), 0);
	planned = rr->total.planned;
	CHECK_INT(repair_all(db, 1, rr), 0);
	CHECK_INT(rr->total.applied + rr->total.stale, planned);
	CHECK_INT(rr->total.already, 0);
	CHECK_INT(scalar(db, "SELECT COUNT(*) FROM pragma_foreign_key_check"), 0);
	CHECK_INT(reconcile_all(db, res), 0);
	CHECK_INT(open_auto(db), 0);
	rows = scalar(db, "SELECT COUNT(*) FROM repair_ledger");
	CHECK_INT(repair_all(db, 1, rr), 0);
	CHECK_INT(rr->total.applied, 0);
	CHECK_INT(scalar(db, "SELECT COUNT(*) FROM repair_ledger"), rows);
out:
	free(rr);
	free(res);
}

/*
 * What must hold after the first reconcile of a generated platform, besides
 * "exactly the injected drift": a second reconcile yields the same
 * findings and changes nothing (no new, re-opened or resolved finding).
 *
 * Then repair must converge: `repair --apply` (every auto rule of the
 * config), a reconcile, and no open finding is left that repair would
 * apply (only report-only rules, manual rules and G1 remain); every
 * planned action was applied or found stale by an earlier overlapping
 * repair; a second apply applies nothing and writes no ledger row; the
 * database still satisfies every foreign key.
 */
static void check_converges(struct db *db, const struct gen_result *gr)
{
	struct reconcile_result *res = calloc(1, sizeof *res);
	long long open = scalar(db, "SELECT COUNT(*) FROM findings WHERE status = 'open'");

	CHECK(res != NULL);
	if (!res)
		return;
	CHECK_INT(reconcile_all(db, res), 0);
	CHECK_INT(res->total.found, (long long)gr->n);
	CHECK_INT(res->total.created, 0);
	CHECK_INT(res->total.reopened, 0);
	CHECK_INT(res->total.resolved, 0);
	CHECK_INT(scalar(db, "SELECT COUNT(*) FROM findings WHERE status = 'open'"), open);
	free(res);
	check_repair_converges(db);
}

/*
 * Generate one platform, reconcile, compare.  Adds the kinds it injected
 * to kinds_seen and the rule codes it found to rules_seen (either may be
 * NULL).  Returns the expected list's length (-1 on a setup failure).
 */
static long long check_platform(long long units, double drift, unsigned long long seed,
				long long *kinds_seen, int *rules_seen)
{
	struct gen_opts o = { .units = units, .drift = drift, .seed = seed, .now = NOW };
	struct reconcile_result *res = calloc(1, sizeof *res);
	struct db *db = fresh_db();
	struct gen_result gr;
	int dummy[RECONCILE_NRULES];
	char msg[256];
	long long diffs, n = -1;
	int k;

	memset(&gr, 0, sizeof gr);
	CHECK(db != NULL && res != NULL);
	if (!db || !res)
		goto out;
	if (gen_platform(db->h, &o, &gr, msg, sizeof msg) != 0) {
		printf("  gen_platform(%lld, %.2f, %llu): %s\n", units, drift, seed, msg);
		CHECK(!"the generator failed");
		goto out;
	}
	CHECK_INT(scalar(db, "SELECT COUNT(*) FROM pragma_foreign_key_check"), 0);
	CHECK_INT(reconcile_all(db, res), 0);
	diffs = compare_open(db, &gr, rules_seen ? rules_seen : dummy);
	if (diffs != 0)
		printf("  platform of %lld units, drift %.2f, seed %llu: %lld differences\n", units,
		       drift, seed, diffs);
	CHECK_INT(diffs, 0);
	CHECK_INT(gr.drifted, (long long)(units * drift + 0.5));
	check_converges(db, &gr);
	for (k = 0; kinds_seen && k < GEN_NKINDS; k++)
		kinds_seen[k] += gr.per_kind[k];
	n = (long long)gr.n;
out:
	gen_result_free(&gr);
	free(res);
	db_close(db);
	remove_db();
	return n;
}

/* Clean platforms: only G1, one per admin grant, and at least one. */
static void test_clean_platform_only_g1(void)
{
	static const unsigned long long seeds[] = { 11, 12 };
	size_t s;

	for (s = 0; s < sizeof seeds / sizeof seeds[0]; s++) {
		struct gen_opts o = { .units = 250, .drift = 0, .seed = seeds[s], .now = NOW };
		struct db *db = fresh_db();
		struct reconcile_result *res = calloc(1, sizeof *res);
		struct gen_result gr;
		char msg[256];
		size_t i, g1 = 0;

		CHECK(db != NULL && res != NULL);
		if (!db || !res || gen_platform(db->h, &o, &gr, msg, sizeof msg) != 0) {
			CHECK(!"setup");
			free(res);
			db_close(db);
			continue;
		}
		for (i = 0; i < gr.n; i++)
			g1 += strcmp(gr.v[i].rule, "G1") == 0;
		CHECK(gr.n > 0);
		CHECK_INT(g1, gr.n);
		CHECK_INT(gr.n, scalar(db, "SELECT COUNT(*) FROM entitlements "
				       "WHERE source = 'admin_grant'"));
		CHECK_INT(reconcile_all(db, res), 0);
		CHECK_INT(scalar(db, "SELECT COUNT(*) FROM findings WHERE status = 'open' "
				 "AND rule <> 'G1'"), 0);
		CHECK_INT(scalar(db, "SELECT COUNT(*) FROM findings WHERE status = 'open' "
				 "AND rule = 'G1'"), (long long)g1);
		gen_result_free(&gr);
		free(res);
		db_close(db);
		remove_db();
	}
}

/*
 * Random platforms, random drift: exactly the injected findings.  Together
 * the platforms inject every drift kind and find every rule code.
 */
static void test_random_drift_found_exactly(void)
{
	static const struct { long long units; double drift; unsigned long long seed; } p[] = {
		{ 50, 0.6, 1 }, { 120, 0.3, 2 }, { 200, 0.25, 3 }, { 300, 0.2, 4 },
		{ 250, 0.5, 5 }, { 80, 1.0, 6 }, { 300, 0.1, 7 }, { 150, 0.4, 8 },
	};
	long long kinds_seen[GEN_NKINDS] = { 0 };
	int rules_seen[RECONCILE_NRULES] = { 0 };
	size_t i;
	int k;

	for (i = 0; i < sizeof p / sizeof p[0]; i++)
		CHECK(check_platform(p[i].units, p[i].drift, p[i].seed, kinds_seen, rules_seen) > 0);
	for (k = 0; k < GEN_NKINDS; k++)
		if (kinds_seen[k] == 0) {
			printf("  drift kind %s never injected\n", gen_kind_name(k));
			CHECK(kinds_seen[k] > 0);
		}
	for (k = 0; k < RECONCILE_NRULES; k++)
		if (!rules_seen[k]) {
			printf("  rule %s never found\n", reconcile_rule_code((size_t)k));
			CHECK(rules_seen[k]);
		}
}

/* Same seed, same list; another seed, another; a used database is refused. */
static void test_generator(void)
{
	struct gen_opts o = { .units = 60, .drift = 0.5, .seed = 9, .now = NOW };
	struct gen_result a, b, c;
	struct db *db;
	char msg[256];
	size_t i;
	int same = 1;

	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	memset(&c, 0, sizeof c);
	db = fresh_db();
	CHECK(db && gen_platform(db->h, &o, &a, msg, sizeof msg) == 0);
	CHECK(db && gen_platform(db->h, &o, &c, msg, sizeof msg) == -1);
	CHECK_CONTAINS(msg, "not empty");
	db_close(db);
	db = fresh_db();
	CHECK(db && gen_platform(db->h, &o, &b, msg, sizeof msg) == 0);
	CHECK_INT(a.n, b.n);
	for (i = 0; i < a.n && i < b.n; i++)
		same &= strcmp(a.v[i].subject, b.v[i].subject) == 0 &&
			strcmp(a.v[i].rule, b.v[i].rule) == 0;
	CHECK(same);
	db_close(db);
	gen_result_free(&b);
	o.seed = 10;
	db = fresh_db();
	CHECK(db && gen_platform(db->h, &o, &b, msg, sizeof msg) == 0);
	same = a.n == b.n;
	for (i = 0; same && i < a.n; i++)
		same = strcmp(a.v[i].subject, b.v[i].subject) == 0;
	CHECK(!same);
	o.units = 0;
	CHECK(gen_platform(db ? db->h : NULL, &o, &c, msg, sizeof msg) == -1);
	db_close(db);
	remove_db();
	gen_result_free(&a);
	gen_result_free(&b);
	gen_result_free(&c);
}

int main(void)
{
	struct config_problems probs = { 0 };
	struct err e = { 0 };

	snprintf(tmpdir, sizeof tmpdir, "/tmp/trueup-property.XXXXXX");
	if (!mkdtemp(tmpdir))
		return 1;
	if (config_load(CONFIG, &cfg, &probs, &e) != 0)
		printf("  config %s: %s\n", CONFIG, e.msg);
	config_problems_free(&probs);
	if (!cfg) {
		printf("FAIL config %s\n", CONFIG);
		harness_failed++;
		rmdir(tmpdir);
		return harness_done();
	}
	RUN(test_clean_platform_only_g1);
	RUN(test_random_drift_found_exactly);
	RUN(test_generator);
	config_free(cfg);
	rmdir(tmpdir);
	return harness_done();
}
