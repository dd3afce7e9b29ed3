/*
 * db_findings.c - the SQL of reconcile: the TEMP context, rule evaluation
 * and the findings ledger; see db_findings.h.
 *
 * The rule queries themselves are data (src/rules/, compiled in);
 * this file only prepares them, checks that each is a single read-only
 * statement with known result columns, and stores their rows with bound
 * values.  Everything runs inside the caller's transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_findings.h"

static const char *const sev_names[SEV_COUNT] = { "info", "medium", "high", "critical" };

int db_severity_parse(const char *s)
{
	int i;

	for (i = 0; s && i < SEV_COUNT; i++)
		if (strcmp(s, sev_names[i]) == 0)
			return i;
	return -1;
}

const char *db_severity_name(int rank)
{
	return rank >= 0 && rank < SEV_COUNT ? sev_names[rank] : "?";
}

/* --- the TEMP context ------------------------------------------------------ */

static const char context_ddl[] =
	"DROP TABLE IF EXISTS temp.catalogue_plans;"
	"DROP TABLE IF EXISTS temp.catalogue_plan_features;"
	"DROP TABLE IF EXISTS temp.catalogue_price_map;"
	"DROP TABLE IF EXISTS temp.policy;"
	"CREATE TEMP TABLE catalogue_plans (plan TEXT PRIMARY KEY, role TEXT, free INTEGER NOT NULL);"
	"CREATE TEMP TABLE catalogue_plan_features (plan TEXT NOT NULL, feature TEXT NOT NULL,"
	"  kind TEXT NOT NULL CHECK (kind IN ('bool','limit','unlimited')), value INTEGER,"
	"  PRIMARY KEY (plan, feature));"
	"CREATE TEMP TABLE catalogue_price_map (price_id TEXT UNIQUE, lookup_key TEXT UNIQUE,"
	"  target TEXT NOT NULL CHECK (target IN ('plan','course_program')), value TEXT NOT NULL);"
	"CREATE TEMP TABLE policy (key TEXT PRIMARY KEY, value);";

/* Step a prepared insert once and reset it; 0 or an exit code. */
static int step_reset(struct db *db, sqlite3_stmt *st, struct err *e, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE)
		return db_fail(db, e, what);
	return 0;
}

static int load_plans(struct db *db, const struct catalogue *cat, struct err *e)
{
	sqlite3_stmt *p = NULL, *f = NULL;
	size_t i, j;
	int rc;

	if ((rc = db_prepare(db, "INSERT INTO temp.catalogue_plans VALUES (?1, ?2, ?3)", &p, e)) ||
	    (rc = db_prepare(db, "INSERT INTO temp.catalogue_plan_features VALUES (?1, ?2, ?3, ?4)",
			     &f, e)))
		goto out;
	for (i = 0; i < cat->nplans; i++) {
		const struct plan *pl = &cat->plans[i];

		sqlite3_bind_text(p, 1, pl->id, -1, SQLITE_STATIC);
		if (pl->role)
			sqlite3_bind_text(p, 2, pl->role, -1, SQLITE_STATIC);
		sqlite3_bind_int(p, 3, pl->free ? 1 : 0);
		if ((rc = step_reset(db, p, e, "catalogue plans")) != 0)
			goto out;
		for (j = 0; j < cat->nfeatures; j++) {
			const struct feature_value *v = &pl->enforced[j];

			if (v->kind == FV_UNSET)
				continue;
			sqlite3_bind_text(f, 1, pl->id, -1, SQLITE_STATIC);
			sqlite3_bind_text(f, 2, cat->features[j].code, -1, SQLITE_STATIC);
			sqlite3_bind_text(f, 3, v->kind == FV_BOOL ? "bool" :
					  v->kind == FV_LIMIT ? "limit" : "unlimited", -1, SQLITE_STATIC);
			if (v->kind != FV_UNLIMITED)
				sqlite3_bind_int64(f, 4, v->n);
			if ((rc = step_reset(db, f, e, "catalogue features")) != 0)
				goto out;
		}
	}
out:
	sqlite3_finalize(p);
	sqlite3_finalize(f);
	return rc;
}

static int load_mappings(struct db *db, const struct catalogue *cat, struct err *e)
{
	sqlite3_stmt *st;
	size_t i;
	int rc;

	if ((rc = db_prepare(db, "INSERT INTO temp.catalogue_price_map VALUES (?1, ?2, ?3, ?4)",
			     &st, e)) != 0)
		return rc;
	for (i = 0; i < cat->nmappings && rc == 0; i++) {
		const struct price_mapping *m = &cat->mappings[i];

		if (m->price_id)
			sqlite3_bind_text(st, 1, m->price_id, -1, SQLITE_STATIC);
		if (m->lookup_key)
			sqlite3_bind_text(st, 2, m->lookup_key, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, m->target == MAP_PLAN ? "plan" : "course_program", -1,
				  SQLITE_STATIC);
		sqlite3_bind_text(st, 4, m->value, -1, SQLITE_STATIC);
		rc = step_reset(db, st, e, "catalogue price mappings");
	}
	sqlite3_finalize(st);
	return rc;
}

static int policy_put(struct db *db, sqlite3_stmt *st, const char *key, const char *text,
		      long long num, struct err *e)
{
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (text)
		sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
	else
		sqlite3_bind_int64(st, 2, num);
	return step_reset(db, st, e, "policy");
}

static int load_policy(struct db *db, const struct db_findings_policy *pol, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_prepare(db, "INSERT INTO temp.policy VALUES (?1, ?2)", &st, e)) != 0)
		return rc;
	if ((rc = policy_put(db, st, "now", NULL, pol->now, e)) == 0 &&
	    (rc = policy_put(db, st, "now_iso", pol->now_iso, 0, e)) == 0 &&
	    (rc = policy_put(db, st, "past_due_grace_days", NULL, pol->past_due_grace_days, e)) == 0 &&
	    (rc = policy_put(db, st, "release_overallocated_seats", NULL,
			     pol->release_overallocated_seats ? 1 : 0, e)) == 0 &&
	    (rc = policy_put(db, st, "timezone", pol->timezone ? pol->timezone : "UTC", 0, e)) == 0 &&
	    (rc = policy_put(db, st, "month", pol->month, 0, e)) == 0 &&
	    (rc = policy_put(db, st, "month_start", pol->month_start, 0, e)) == 0)
		rc = policy_put(db, st, "month_end", pol->month_end, 0, e);
	sqlite3_finalize(st);
	return rc;
}

int db_findings_context_load(struct db *db, const struct catalogue *cat,
			     const struct db_findings_policy *pol, struct err *e)
{
	int rc;

	if ((rc = db_exec(db, context_ddl, e)) != 0)
		return err_prefix(e, "reconcile context");
	if ((rc = load_plans(db, cat, e)) != 0 || (rc = load_mappings(db, cat, e)) != 0 ||
	    (rc = load_policy(db, pol, e)) != 0)
		return err_prefix(e, "reconcile context");
	return 0;
}

void db_findings_context_drop(struct db *db)
{
	sqlite3_stmt *st;
	char **names = NULL;
	size_t n = 0, i;

	if (!db || sqlite3_prepare_v2(db->h, "SELECT name FROM temp.sqlite_master "
				      "WHERE type = 'table'", -1, &st, NULL) != SQLITE_OK)
		return;
	while (sqlite3_step(st) == SQLITE_ROW) {
		char **grown = realloc(names, (n + 1) * sizeof *names);
		const char *s = (const char *)sqlite3_column_text(st, 0);

		if (!grown)
			break;
		names = grown;
		if ((names[n] = s ? strdup(s) : NULL) != NULL)
			n++;
	}
	sqlite3_finalize(st);
	for (i = 0; i < n; i++) {
		char *sql = sqlite3_mprintf("DROP TABLE IF EXISTS temp.\"%w\"", names[i]);

		if (sql)
			sqlite3_exec(db->h, sql, NULL, NULL, NULL);
		sqlite3_free(sql);
		free(names[i]);
	}
	free(names);
}

int db_findings_exec_script(struct db *db, const char *name, const char *sql, struct err *e)
{
	char *msg = NULL;

	if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int rc = db_fail(db, e, "database");

		err_set(e, rc, "reconcile prelude %s: %s", name, msg ? msg : sqlite3_errmsg(db->h));
		sqlite3_free(msg);
		return rc;
	}
	return 0;
}

/* --- runs -------------------------------------------------------------------- */

int db_findings_run_begin(struct db *db, long long command_run_id, long long pull_run_id,
			  const char *pull_status, const char *rules, const char *now_iso,
			  long long *id, struct err *e)
{
	sqlite3_stmt *st;
	char started[32];
	int rc;

	db_now(started, sizeof started);
	if ((rc = db_prepare(db, "INSERT INTO reconcile_runs (command_run_id, pull_run_id, "
			     "pull_status, rules, now, started_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
			     &st, e)) != 0)
		return rc;
	if (command_run_id > 0)
		sqlite3_bind_int64(st, 1, command_run_id);
	if (pull_run_id > 0)
		sqlite3_bind_int64(st, 2, pull_run_id);
	if (pull_status)
		sqlite3_bind_text(st, 3, pull_status, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, rules, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, now_iso, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, started, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_fail(db, e, "reconcile run");
	*id = sqlite3_last_insert_rowid(db->h);
	return 0;
}

int db_findings_run_end(struct db *db, long long id, const struct db_findings_counts *total,
			struct err *e)
{
	sqlite3_stmt *st;
	char ended[32];
	int rc;

	db_now(ended, sizeof ended);
	if ((rc = db_prepare(db, "UPDATE reconcile_runs SET finished_at = ?2, found = ?3, "
			     "created = ?4, reopened = ?5, resolved = ?6 WHERE id = ?1",
			     &st, e)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, ended, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, total->found);
	sqlite3_bind_int64(st, 4, total->created);
	sqlite3_bind_int64(st, 5, total->reopened);
	sqlite3_bind_int64(st, 6, total->resolved);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_fail(db, e, "reconcile run");
}

/* --- rules -------------------------------------------------------------------- */

/*
 * The result columns a rule may name, in the order of the parameters ?3..?16
 * of the insert and update below (rule and subject are ?1 and ?2).
 */
enum col {
	C_SUBJECT_TYPE, C_SUBJECT_ID, C_SEVERITY, C_TENANT_ID, C_STRIPE_OBJECT, C_EXPECTED,
	C_ACTUAL, C_ACTION, C_ACTION_TEXT, C_ACTION_TABLE, C_ACTION_ROW_ID, C_ACTION_FIELD,
	C_ACTION_BEFORE, C_ACTION_AFTER, NCOLS
};
static const char *const col_names[NCOLS] = {
	"subject_type", "subject_id", "severity", "tenant_id", "stripe_object", "expected",
	"actual", "action", "action_text", "action_table", "action_row_id", "action_field",
	"action_before", "action_after"
};

#define P_NOW 17
#define P_RUN 18
#define P_ID 19

static const char sql_select[] =
	"SELECT id, last_run_id, status <> 'open' FROM findings WHERE rule = ?1 AND subject = ?2";
static const char sql_insert[] =
	"INSERT INTO findings (rule, subject, subject_type, subject_id, severity, tenant_id, "
	"stripe_object, expected, actual, action, action_text, action_table, action_row_id, "
	"action_field, action_before, action_after, status, first_seen, last_seen, "
	"first_run_id, last_run_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
	"?13, ?14, ?15, ?16, 'open', ?17, ?17, ?18, ?18)";
static const char sql_update[] =
	"UPDATE findings SET subject_type = ?3, subject_id = ?4, severity = ?5, tenant_id = ?6, "
	"stripe_object = ?7, expected = ?8, actual = ?9, action = ?10, action_text = ?11, "
	"action_table = ?12, action_row_id = ?13, action_field = ?14, action_before = ?15, "
	"action_after = ?16, last_seen = ?17, last_run_id = ?18, "
	"reopened = reopened + (status <> 'open'), status = 'open', resolved_at = NULL, "
	"resolved_run_id = NULL WHERE id = ?19 AND rule = ?1 AND subject = ?2";
static const char sql_guard[] =
	"SELECT 1 FROM entitlements WHERE source = 'admin_grant' AND id IN (?1, ?2) LIMIT 1";
static const char sql_resolve[] =
	"UPDATE findings SET status = 'resolved', resolved_at = ?3, resolved_run_id = ?2 "
	"WHERE rule = ?1 AND status = 'open' AND last_run_id <> ?2";
static const char sql_open_counts[] =
	"SELECT severity, COUNT(*) FROM findings WHERE rule = ?1 AND status = 'open' "
	"GROUP BY severity";

struct applier {
	struct db *db;
	const char *code;
	long long run_id;
	const char *now;
	sqlite3_stmt *rule, *sel, *ins, *upd, *guard;
	int idx[NCOLS];            /* result column of each known column, -1 if absent */
	struct db_findings_counts *c;
	struct err *e;
};

static void applier_release(struct applier *a)
{
	sqlite3_finalize(a->rule);
	sqlite3_finalize(a->sel);
	sqlite3_finalize(a->ins);
	sqlite3_finalize(a->upd);
	sqlite3_finalize(a->guard);
}

/* Prepare the rule: one statement, read-only, known columns, required ones present. */
static int prepare_rule(struct applier *a, const char *sql)
{
	const char *tail = NULL;
	sqlite3_stmt *more = NULL;
	int i, j, n;

	if (sqlite3_prepare_v2(a->db->h, sql, -1, &a->rule, &tail) != SQLITE_OK)
		return err_set(a->e, EXIT_SOFTWARE, "rule %s: %s", a->code,
			       sqlite3_errmsg(a->db->h));
	if (!a->rule)
		return err_set(a->e, EXIT_SOFTWARE, "rule %s: no statement", a->code);
	if (tail && *tail) {
		int rc = sqlite3_prepare_v2(a->db->h, tail, -1, &more, NULL);

		sqlite3_finalize(more);
		if (rc != SQLITE_OK || more)
			return err_set(a->e, EXIT_SOFTWARE, "rule %s: more than one statement",
				       a->code);
	}
	if (!sqlite3_stmt_readonly(a->rule))
		return err_set(a->e, EXIT_SOFTWARE, "rule %s: not a read-only query", a->code);
	for (j = 0; j < NCOLS; j++)
		a->idx[j] = -1;
	n = sqlite3_column_count(a->rule);
	for (i = 0; i < n; i++) {
		const char *name = sqlite3_column_name(a->rule, i);

		for (j = 0; j < NCOLS && strcmp(name, col_names[j]) != 0; j++)
			;
		if (j == NCOLS)
			return err_set(a->e, EXIT_SOFTWARE, "rule %s: unknown result column \"%s\"",
				       a->code, name);
		if (a->idx[j] >= 0)
			return err_set(a->e, EXIT_SOFTWARE, "rule %s: result column \"%s\" twice",
				       a->code, name);
		a->idx[j] = i;
	}
	if (a->idx[C_SUBJECT_TYPE] < 0 || a->idx[C_SUBJECT_ID] < 0 || a->idx[C_SEVERITY] < 0 ||
	    a->idx[C_ACTION] < 0)
		return err_set(a->e, EXIT_SOFTWARE, "rule %s: the query must name subject_type, "
			       "subject_id, severity and action", a->code);
	return 0;
}

static const char *col_text(struct applier *a, enum col c)
{
	const unsigned char *s;

	if (a->idx[c] < 0)
		return NULL;
	s = sqlite3_column_text(a->rule, a->idx[c]);
	return (const char *)s;
}

/* Bind the row's fields as ?3..?16 of st (absent columns stay NULL). */
static void bind_fields(struct applier *a, sqlite3_stmt *st, int guarded)
{
	int j;

	for (j = 0; j < NCOLS; j++) {
		if (guarded && j == C_ACTION) {
			sqlite3_bind_text(st, 3 + j, "none", -1, SQLITE_STATIC);
			continue;
		}
		if (guarded && j == C_ACTION_TEXT) {
			sqlite3_bind_text(st, 3 + j, "none: admin grants are never changed "
					  "by reconciliation (G1)", -1, SQLITE_STATIC);
			continue;
		}
		if (a->idx[j] >= 0)
			sqlite3_bind_value(st, 3 + j, sqlite3_column_value(a->rule, a->idx[j]));
	}
}

/* Would this row's action change an admin grant?  *hit = 1 if so. */
static int guard_check(struct applier *a, int *hit)
{
	const char *type = col_text(a, C_SUBJECT_TYPE), *action = col_text(a, C_ACTION);
	const char *table = col_text(a, C_ACTION_TABLE);
	int rc;

	*hit = 0;
	if (strcmp(a->code, "G1") == 0 || !action || strcmp(action, "report") == 0 ||
	    strcmp(action, "none") == 0)
		return 0;
	if (type && strcmp(type, "entitlement") == 0)
		sqlite3_bind_value(a->guard, 1, sqlite3_column_value(a->rule, a->idx[C_SUBJECT_ID]));
	if (table && (strcmp(table, "entitlements") == 0 || strcmp(table, "seat_assignments") == 0) &&
	    a->idx[C_ACTION_ROW_ID] >= 0)
		sqlite3_bind_value(a->guard, 2,
				   sqlite3_column_value(a->rule, a->idx[C_ACTION_ROW_ID]));
	rc = sqlite3_step(a->guard);
	*hit = rc == SQLITE_ROW;
	sqlite3_reset(a->guard);
	sqlite3_clear_bindings(a->guard);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(a->db, a->e, "admin grant check");
	return 0;
}

/* Store the current row of the rule. */
static int store_row(struct applier *a)
{
	const char *type = col_text(a, C_SUBJECT_TYPE);
	const char *id = col_text(a, C_SUBJECT_ID);
	const char *sev = col_text(a, C_SEVERITY);
	const char *action = col_text(a, C_ACTION);
	char subject[1024];
	sqlite3_stmt *w;
	long long fid = 0, last = 0;
	int rc, n, guarded, found, closed = 0;

	if (!type || !*type || !id || !*id)
		return err_set(a->e, EXIT_SOFTWARE, "rule %s: a row without subject", a->code);
	if (db_severity_parse(sev) < 0)
		return err_set(a->e, EXIT_SOFTWARE, "rule %s: subject %s:%s: bad severity \"%s\"",
			       a->code, type, id, sev ? sev : "NULL");
	if (!action || !*action)
		return err_set(a->e, EXIT_SOFTWARE, "rule %s: subject %s:%s: no action", a->code,
			       type, id);
	n = snprintf(subject, sizeof subject, "%s:%s", type, id);
	if (n < 0 || (size_t)n >= sizeof subject)
		return err_set(a->e, EXIT_SOFTWARE, "rule %s: subject too long", a->code);
	if ((rc = guard_check(a, &guarded)) != 0)
		return rc;
	a->c->guarded += guarded;

	sqlite3_bind_text(a->sel, 1, a->code, -1, SQLITE_STATIC);
	sqlite3_bind_text(a->sel, 2, subject, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(a->sel);
	found = rc == SQLITE_ROW;
	if (found) {
		fid = sqlite3_column_int64(a->sel, 0);
		last = sqlite3_column_int64(a->sel, 1);
		closed = sqlite3_column_int(a->sel, 2);
	}
	sqlite3_reset(a->sel);
	sqlite3_clear_bindings(a->sel);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(a->db, a->e, "findings");
	if (found && last == a->run_id)
		return err_set(a->e, EXIT_SOFTWARE, "rule %s: subject \"%s\" yielded twice",
			       a->code, subject);

	w = found ? a->upd : a->ins;
	sqlite3_bind_text(w, 1, a->code, -1, SQLITE_STATIC);
	sqlite3_bind_text(w, 2, subject, -1, SQLITE_TRANSIENT);
	bind_fields(a, w, guarded);
	sqlite3_bind_text(w, P_NOW, a->now, -1, SQLITE_STATIC);
	sqlite3_bind_int64(w, P_RUN, a->run_id);
	if (found)
		sqlite3_bind_int64(w, P_ID, fid);
	rc = sqlite3_step(w);
	if (rc != SQLITE_DONE) {
		rc = db_fail(a->db, a->e, "findings");
		sqlite3_reset(w);
		sqlite3_clear_bindings(w);
		return err_prefix(a->e, "rule %s: subject \"%s\"", a->code, subject);
	}
	sqlite3_reset(w);
	sqlite3_clear_bindings(w);
	a->c->found++;
	a->c->created += !found;
	a->c->reopened += closed;
	return 0;
}

int db_findings_apply_rule(struct db *db, const char *code, const char *sql, long long run_id,
			   const char *now_iso, struct db_findings_counts *c, struct err *e)
{
	struct applier a;
	sqlite3_stmt *st = NULL;
	int rc;

	memset(c, 0, sizeof *c);
	memset(&a, 0, sizeof a);
	a.db = db;
	a.code = code;
	a.run_id = run_id;
	a.now = now_iso;
	a.c = c;
	a.e = e;
	if ((rc = prepare_rule(&a, sql)) != 0 ||
	    (rc = db_prepare(db, sql_select, &a.sel, e)) != 0 ||
	    (rc = db_prepare(db, sql_insert, &a.ins, e)) != 0 ||
	    (rc = db_prepare(db, sql_update, &a.upd, e)) != 0 ||
	    (rc = db_prepare(db, sql_guard, &a.guard, e)) != 0)
		goto out;

	while ((rc = sqlite3_step(a.rule)) == SQLITE_ROW)
		if ((rc = store_row(&a)) != 0)
			goto out;
	if (rc != SQLITE_DONE) {
		rc = db_fail(db, e, "database");
		err_prefix(e, "rule %s", code);
		goto out;
	}
	rc = 0;

	/* resolve what the rule no longer yields */
	if ((rc = db_prepare(db, sql_resolve, &st, e)) != 0)
		goto out;
	sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, run_id);
	sqlite3_bind_text(st, 3, now_iso, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = db_fail(db, e, "findings");
		goto out;
	}
	c->resolved = sqlite3_changes(db->h);
	sqlite3_finalize(st);
	st = NULL;

	/* open findings of the rule by severity */
	if ((rc = db_prepare(db, sql_open_counts, &st, e)) != 0)
		goto out;
	sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int s = db_severity_parse((const char *)sqlite3_column_text(st, 0));

		if (s >= 0)
			c->open[s] += sqlite3_column_int64(st, 1);
	}
	rc = rc == SQLITE_DONE ? 0 : db_fail(db, e, "findings");
out:
	sqlite3_finalize(st);
	applier_release(&a);
	return rc;
}

/* --- listing ---------------------------------------------------------------------- */

static void copy_text(sqlite3_stmt *st, int col, char *dst, size_t sz)
{
	const unsigned char *s = sqlite3_column_text(st, col);

	snprintf(dst, sz, "%s", s ? (const char *)s : "");
}

int db_findings_each(struct db *db, const char *status,
		     int (*fn)(const struct db_finding *f, void *arg), void *arg, struct err *e)
{
	sqlite3_stmt *st;
	struct db_finding *f;
	int rc;

	if (!(f = malloc(sizeof *f)))
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	if ((rc = db_prepare(db, "SELECT id, rule, subject, severity, status, tenant_id, "
			     "stripe_object, expected, actual, action, action_text, action_table, "
			     "action_row_id, action_field, action_before, action_after, first_seen, "
			     "last_seen, first_run_id, last_run_id, reopened FROM findings "
			     "WHERE ?1 IS NULL OR status = ?1 ORDER BY rule, subject", &st, e)) != 0) {
		free(f);
		return rc;
	}
	if (status)
		sqlite3_bind_text(st, 1, status, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(f, 0, sizeof *f);
		f->id = sqlite3_column_int64(st, 0);
		copy_text(st, 1, f->rule, sizeof f->rule);
		copy_text(st, 2, f->subject, sizeof f->subject);
		copy_text(st, 3, f->severity, sizeof f->severity);
		copy_text(st, 4, f->status, sizeof f->status);
		copy_text(st, 5, f->tenant_id, sizeof f->tenant_id);
		copy_text(st, 6, f->stripe_object, sizeof f->stripe_object);
		copy_text(st, 7, f->expected, sizeof f->expected);
		copy_text(st, 8, f->actual, sizeof f->actual);
		copy_text(st, 9, f->action, sizeof f->action);
		copy_text(st, 10, f->action_text, sizeof f->action_text);
		copy_text(st, 11, f->action_table, sizeof f->action_table);
		copy_text(st, 12, f->action_row_id, sizeof f->action_row_id);
		copy_text(st, 13, f->action_field, sizeof f->action_field);
		copy_text(st, 14, f->action_before, sizeof f->action_before);
		copy_text(st, 15, f->action_after, sizeof f->action_after);
		copy_text(st, 16, f->first_seen, sizeof f->first_seen);
		copy_text(st, 17, f->last_seen, sizeof f->last_seen);
		f->first_run_id = sqlite3_column_int64(st, 18);
		f->last_run_id = sqlite3_column_int64(st, 19);
		f->reopened = sqlite3_column_int64(st, 20);
		if (fn(f, arg) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	rc = rc == SQLITE_DONE ? 0 : db_fail(db, e, "findings");
	sqlite3_finalize(st);
	free(f);
	return rc;
}

int db_findings_summary(struct db *db,
			int (*fn)(const struct db_findings_rule_summary *s, void *arg), void *arg,
			struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_prepare(db,
			     "SELECT rule,"
			     " SUM(status = 'open' AND severity = 'info'),"
			     " SUM(status = 'open' AND severity = 'medium'),"
			     " SUM(status = 'open' AND severity = 'high'),"
			     " SUM(status = 'open' AND severity = 'critical'),"
			     " SUM(status = 'repaired'), MAX(last_seen)"
			     " FROM findings WHERE status IN ('open', 'repaired')"
			     " GROUP BY rule ORDER BY rule", &st, e)) != 0)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct db_findings_rule_summary x;
		int s;

		x.rule = (const char *)sqlite3_column_text(st, 0);
		for (s = 0; s < SEV_COUNT; s++)
			x.open[s] = sqlite3_column_int64(st, 1 + s);
		x.repaired = sqlite3_column_int64(st, 5);
		x.last_seen = (const char *)sqlite3_column_text(st, 6);
		if ((rc = fn(&x, arg)) != 0) {
			sqlite3_finalize(st);
			return rc;
		}
	}
	if (rc != SQLITE_DONE) {
		rc = db_fail(db, e, "reading findings");
		sqlite3_finalize(st);
		return rc;
	}
	sqlite3_finalize(st);
	return 0;
}
