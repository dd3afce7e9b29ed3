/*
 * db_report.c - the SQL of `trueup report`: the TEMP context, preludes and
 * running report queries; see db_report.h.
 *
 * The report queries are data (reports/NAME.sql, read at run time so that a
 * user adds a report by adding a file); this file prepares them, checks
 * that each is a single read-only statement, and hands out rows.  The
 * context reuses reconcile's (db_findings_context_load) so the link
 * prelude of the rules maps Stripe objects to plans exactly as reconcile
 * does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db_findings.h"
#include "db_report.h"

static const char report_ddl[] =
	"DROP TABLE IF EXISTS temp.catalogue_features;"
	"DROP TABLE IF EXISTS temp.catalogue_promises;"
	"DROP TABLE IF EXISTS temp.catalogue_plan_info;"
	"DROP TABLE IF EXISTS temp.rules;"
	"DROP TABLE IF EXISTS temp.report_params;"
	"CREATE TEMP TABLE catalogue_features (feature TEXT PRIMARY KEY,"
	"  type TEXT NOT NULL CHECK (type IN ('boolean','limit')), label TEXT,"
	"  position INTEGER NOT NULL);"
	"CREATE TEMP TABLE catalogue_promises (plan TEXT NOT NULL, feature TEXT NOT NULL,"
	"  kind TEXT NOT NULL CHECK (kind IN ('bool','limit','unlimited')), value INTEGER,"
	"  PRIMARY KEY (plan, feature));"
	"CREATE TEMP TABLE catalogue_plan_info (plan TEXT PRIMARY KEY, name TEXT,"
	"  position INTEGER NOT NULL);"
	"CREATE TEMP TABLE rules (code TEXT PRIMARY KEY, name TEXT, position INTEGER NOT NULL);"
	"CREATE TEMP TABLE report_params (now INTEGER NOT NULL, now_utc TEXT NOT NULL,"
	"  run_date TEXT NOT NULL, timezone TEXT NOT NULL, period TEXT NOT NULL,"
	"  from_epoch INTEGER, to_epoch INTEGER, from_utc TEXT, to_utc TEXT);";

static void iso(long long t, char *buf, size_t sz)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, sz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int step_done(struct db *db, sqlite3_stmt *st, struct err *e, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : db_fail(db, e, what);
}

static int load_catalogue(struct db *db, const struct catalogue *cat, struct err *e)
{
	sqlite3_stmt *f = NULL, *p = NULL, *pi = NULL;
	size_t i, j;
	int rc;

	if ((rc = db_prepare(db, "INSERT INTO temp.catalogue_features VALUES (?1, ?2, ?3, ?4)",
			     &f, e)) != 0 ||
	    (rc = db_prepare(db, "INSERT INTO temp.catalogue_plan_info VALUES (?1, ?2, ?3)",
			     &pi, e)) != 0 ||
	    (rc = db_prepare(db, "INSERT INTO temp.catalogue_promises VALUES (?1, ?2, ?3, ?4)",
			     &p, e)) != 0)
		goto out;
	for (j = 0; j < cat->nfeatures; j++) {
		const struct feature *ft = &cat->features[j];

		sqlite3_bind_text(f, 1, ft->code, -1, SQLITE_STATIC);
		sqlite3_bind_text(f, 2, ft->type == FEATURE_LIMIT ? "limit" : "boolean", -1,
				  SQLITE_STATIC);
		if (ft->label)
			sqlite3_bind_text(f, 3, ft->label, -1, SQLITE_STATIC);
		sqlite3_bind_int64(f, 4, (long long)j);
		if ((rc = step_done(db, f, e, "catalogue features")) != 0)
			goto out;
	}
	for (i = 0; i < cat->nplans; i++) {
		sqlite3_bind_text(pi, 1, cat->plans[i].id, -1, SQLITE_STATIC);
		if (cat->plans[i].name)
			sqlite3_bind_text(pi, 2, cat->plans[i].name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(pi, 3, (long long)i);
		if ((rc = step_done(db, pi, e, "catalogue plans")) != 0)
			goto out;
		for (j = 0; j < cat->nfeatures; j++) {
			const struct feature_value *v = &cat->plans[i].promised[j];

			if (v->kind == FV_UNSET)
				continue;
			sqlite3_bind_text(p, 1, cat->plans[i].id, -1, SQLITE_STATIC);
			sqlite3_bind_text(p, 2, cat->features[j].code, -1, SQLITE_STATIC);
			sqlite3_bind_text(p, 3, v->kind == FV_BOOL ? "bool" :
					  v->kind == FV_LIMIT ? "limit" : "unlimited", -1, SQLITE_STATIC);
			if (v->kind != FV_UNLIMITED)
				sqlite3_bind_int64(p, 4, v->n);
			if ((rc = step_done(db, p, e, "pricing page")) != 0)
				goto out;
		}
	}
out:
	sqlite3_finalize(f);
	sqlite3_finalize(p);
	sqlite3_finalize(pi);
	return rc;
}

static int load_rules(struct db *db, const struct db_report_rule *rules, size_t n,
		      struct err *e)
{
	sqlite3_stmt *st;
	size_t i;
	int rc;

	if ((rc = db_prepare(db, "INSERT INTO temp.rules VALUES (?1, ?2, ?3)", &st, e)) != 0)
		return rc;
	for (i = 0; i < n && rc == 0; i++) {
		sqlite3_bind_text(st, 1, rules[i].code, -1, SQLITE_STATIC);
		if (rules[i].name)
			sqlite3_bind_text(st, 2, rules[i].name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, (long long)i);
		rc = step_done(db, st, e, "rules");
	}
	sqlite3_finalize(st);
	return rc;
}

static int load_params(struct db *db, const struct db_report_params *p, struct err *e)
{
	sqlite3_stmt *st;
	char now[32], from[32], to[32];
	int rc;

	if ((rc = db_prepare(db, "INSERT INTO temp.report_params VALUES (?1, ?2, ?3, ?4, ?5, "
			     "?6, ?7, ?8, ?9)", &st, e)) != 0)
		return rc;
	iso(p->now, now, sizeof now);
	sqlite3_bind_int64(st, 1, p->now);
	sqlite3_bind_text(st, 2, now, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, p->run_date, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, p->tz->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, p->period_day ? "day" : "month", -1, SQLITE_STATIC);
	if (p->has_from) {
		iso(p->from, from, sizeof from);
		sqlite3_bind_int64(st, 6, p->from);
		sqlite3_bind_text(st, 8, from, -1, SQLITE_STATIC);
	}
	if (p->has_to) {
		iso(p->to, to, sizeof to);
		sqlite3_bind_int64(st, 7, p->to);
		sqlite3_bind_text(st, 9, to, -1, SQLITE_STATIC);
	}
	rc = step_done(db, st, e, "report parameters");
	sqlite3_finalize(st);
	return rc;
}

int db_report_begin(struct db *db, const struct config *cfg,
		    const struct db_report_rule *rules, size_t nrules,
		    const struct db_report_params *p, struct err *e)
{
	struct db_findings_policy pol;
	long long ms, me;
	int rc;

	/* A report reads much and writes nothing but TEMP tables: a larger page
	 * cache for the database (64 MiB, bounded; it also sizes the sorter's
	 * in-memory runs) and the same for the TEMP database, so the link
	 * prelude's tables of a large account stay in memory instead of being
	 * written to and read back from a temporary file (10,000 preads at 300k
	 * invoices).  Both are bounded: memory does not grow with the data
	 * beyond them.  No memory-mapped reads: measured at 300k and 1M rows
	 * they cost more CPU than the reads they save. */
	if ((rc = db_exec(db, "PRAGMA cache_size = -65536; PRAGMA temp.cache_size = -65536",
			  e)) != 0 ||
	    (rc = db_exec(db, "BEGIN", e)) != 0)
		return err_prefix(e, "report");
	if (db_report_functions(db->h, p) != SQLITE_OK)
		return db_fail(db, e, "report functions");
	memset(&pol, 0, sizeof pol);
	pol.now = p->now;
	iso(p->now, pol.now_iso, sizeof pol.now_iso);
	pol.past_due_grace_days = cfg->repair.past_due_grace_days;
	pol.release_overallocated_seats = cfg->repair.release_overallocated_seats;
	pol.timezone = p->tz->name;
	db_report_period(p, p->now, 0, pol.month, sizeof pol.month, &ms, &me);
	iso(ms, pol.month_start, sizeof pol.month_start);
	iso(me, pol.month_end, sizeof pol.month_end);
	if ((rc = db_findings_context_load(db, &cfg->cat, &pol, e)) != 0)
		return rc;
	if ((rc = db_exec(db, report_ddl, e)) != 0 || (rc = load_catalogue(db, &cfg->cat, e)) != 0 ||
	    (rc = load_rules(db, rules, nrules, e)) != 0 || (rc = load_params(db, p, e)) != 0)
		return err_prefix(e, "report context");
	return 0;
}

int db_report_exec_script(struct db *db, const char *name, const char *sql, struct err *e)
{
	char *msg = NULL;

	if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int rc = db_fail(db, e, "database");

		if (rc == EXIT_SOFTWARE)
			rc = EXIT_CONFIG;
		err_set(e, rc, "report prelude \"%s\": %s", name, msg ? msg : sqlite3_errmsg(db->h));
		sqlite3_free(msg);
		return rc;
	}
	return 0;
}

void db_report_end(struct db *db)
{
	sqlite3_stmt *st;
	char *names[256];
	size_t n = 0, i;

	if (!db || !db->h)
		return;
	if (sqlite3_prepare_v2(db->h, "SELECT name FROM temp.sqlite_master WHERE type = 'view'",
			       -1, &st, NULL) == SQLITE_OK) {
		while (n < sizeof names / sizeof names[0] && sqlite3_step(st) == SQLITE_ROW) {
			const char *s = (const char *)sqlite3_column_text(st, 0);

			if (s && (names[n] = strdup(s)) != NULL)
				n++;
		}
		sqlite3_finalize(st);
	}
	for (i = 0; i < n; i++) {
		char *sql = sqlite3_mprintf("DROP VIEW IF EXISTS temp.\"%w\"", names[i]);

		if (sql)
			sqlite3_exec(db->h, sql, NULL, NULL, NULL);
		sqlite3_free(sql);
		free(names[i]);
	}
	db_findings_context_drop(db);
	sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
}

/* --- queries ---------------------------------------------------------------- */

struct db_report_query {
	struct db *db;
	char *name;
	sqlite3_stmt *st;
	size_t ncols;
	struct db_report_cell *cells;
};

void db_report_query_free(struct db_report_query *q)
{
	if (!q)
		return;
	sqlite3_finalize(q->st);
	free(q->name);
	free(q->cells);
	free(q);
}

int db_report_prepare(struct db *db, const char *name, const char *sql,
		      struct db_report_query **out, struct err *e)
{
	struct db_report_query *q = calloc(1, sizeof *q);
	const char *tail = NULL;
	sqlite3_stmt *more = NULL;
	int rc;

	*out = NULL;
	if (!q || !(q->name = strdup(name))) {
		free(q);
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	}
	q->db = db;
	if (sqlite3_prepare_v2(db->h, sql, -1, &q->st, &tail) != SQLITE_OK) {
		rc = err_set(e, EXIT_CONFIG, "report \"%s\": %s", name, sqlite3_errmsg(db->h));
		goto fail;
	}
	if (!q->st) {
		rc = err_set(e, EXIT_CONFIG, "report \"%s\": no query", name);
		goto fail;
	}
	if (tail && *tail) {
		int prc = sqlite3_prepare_v2(db->h, tail, -1, &more, NULL);

		sqlite3_finalize(more);
		if (prc != SQLITE_OK || more) {
			rc = err_set(e, EXIT_CONFIG, "report \"%s\": more than one statement", name);
			goto fail;
		}
	}
	if (!sqlite3_stmt_readonly(q->st)) {
		rc = err_set(e, EXIT_CONFIG, "report \"%s\": not a read-only query", name);
		goto fail;
	}
	q->ncols = (size_t)sqlite3_column_count(q->st);
	if (q->ncols == 0) {
		rc = err_set(e, EXIT_CONFIG, "report \"%s\": the query yields no column", name);
		goto fail;
	}
	if (!(q->cells = calloc(q->ncols, sizeof *q->cells))) {
		rc = err_set(e, EXIT_SOFTWARE, "out of memory");
		goto fail;
	}
	*out = q;
	return 0;
fail:
	db_report_query_free(q);
	return rc;
}

size_t db_report_ncols(const struct db_report_query *q)
{
	return q->ncols;
}

const char *db_report_col_name(const struct db_report_query *q, size_t i)
{
	return sqlite3_column_name(q->st, (int)i);
}

int db_report_next(struct db_report_query *q, const struct db_report_cell **row,
		   struct err *e)
{
	size_t i;
	int rc = sqlite3_step(q->st);

	*row = NULL;
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW) {
		rc = db_fail(q->db, e, "database");
		return err_prefix(e, "report \"%s\"", q->name);
	}
	/* One API call a cell into the statement: sqlite3_column_value takes
	 * the connection's mutex once, the value_* calls on its (unprotected)
	 * result none, which is safe as this thread alone uses the connection
	 * until the next step.  Three column_* calls a cell cost ~5 % more. */
	for (i = 0; i < q->ncols; i++) {
		sqlite3_value *v = sqlite3_column_value(q->st, (int)i);
		int type = sqlite3_value_type(v);
		struct db_report_cell *c = &q->cells[i];

		c->is_number = type == SQLITE_INTEGER || type == SQLITE_FLOAT;
		c->text = type == SQLITE_NULL ? NULL : (const char *)sqlite3_value_text(v);
		c->len = c->text ? (size_t)sqlite3_value_bytes(v) : 0;
	}
	*row = q->cells;
	return 0;
}

void db_report_rewind(struct db_report_query *q)
{
	sqlite3_reset(q->st);
}

/* --- summary.html ------------------------------------------------------------- */

int db_report_summary_revenue(struct db *db,
			      int (*fn)(const char *month, const char *currency, long long gross,
					long long refunds, void *arg),
			      void *arg, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db->h,
			       "SELECT month_of(effective_at) AS month, currency,"
			       " SUM(CASE WHEN reporting_category = 'charge' THEN amount ELSE 0 END),"
			       " SUM(CASE WHEN reporting_category = 'refund' THEN amount ELSE 0 END)"
			       " FROM temp.revenue_lines WHERE in_range(effective_at)"
			       " GROUP BY 1, 2 ORDER BY 2, 1", -1, &st, NULL) != SQLITE_OK)
		return err_set(e, EXIT_CONFIG, "summary.html: revenue: %s (the prelude "
			       "reports/_revenue.sql makes temp.revenue_lines)", sqlite3_errmsg(db->h));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (fn((const char *)sqlite3_column_text(st, 0),
		       (const char *)sqlite3_column_text(st, 1), sqlite3_column_int64(st, 2),
		       sqlite3_column_int64(st, 3), arg) != 0)
			break;
	rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_fail(db, e, "summary revenue");
	sqlite3_finalize(st);
	return rc;
}

int db_report_summary_drift(struct db *db,
			    int (*fn)(const char *code, const char *name, const long long open[4],
				      void *arg),
			    void *arg, struct err *e)
{
	sqlite3_stmt *st;
	long long open[4];
	int rc, i;

	if ((rc = db_prepare(db, "SELECT r.code, r.name,"
			     " COUNT(f.id) FILTER (WHERE f.severity = 'critical'),"
			     " COUNT(f.id) FILTER (WHERE f.severity = 'high'),"
			     " COUNT(f.id) FILTER (WHERE f.severity = 'medium'),"
			     " COUNT(f.id) FILTER (WHERE f.severity = 'info')"
			     " FROM temp.rules r LEFT JOIN main.findings f"
			     "   ON f.rule = r.code AND f.status = 'open'"
			     " GROUP BY r.code ORDER BY r.position", &st, e)) != 0)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (i = 0; i < 4; i++)
			open[i] = sqlite3_column_int64(st, 2 + i);
		if (fn((const char *)sqlite3_column_text(st, 0),
		       (const char *)sqlite3_column_text(st, 1), open, arg) != 0)
			break;
	}
	rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_fail(db, e, "summary drift");
	sqlite3_finalize(st);
	return rc;
}
