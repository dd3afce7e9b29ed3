/*
 * db_repair.c - the SQL of `trueup repair`; see db_repair.h.
 *
 * Each repairable (rule, action) pair of the rules in src/rules/ has one
 * function here (the table `actions` at the end).  They share a few
 * helpers that keep the guarantees in one place:
 *   set_field   UPDATE one column guarded by its old value, plus a ledger row
 *   insert_row  INSERT a row that must not exist yet, plus a ledger row
 *   ledger      the ledger row, whose UNIQUE key stops a second application
 * Table and column names in SQL text come only from the string literals of
 * this file; every value is a bound parameter.
 *
 * Rows a repair creates get ids derived from the action (prefix "tu_"),
 * so replaying the journal elsewhere creates the same ids.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "db_repair.h"

/* --- small SQL helpers ------------------------------------------------------ */

/* Bind the n text parameters p (NULL binds NULL) to ?1..?n. */
static void bind_texts(sqlite3_stmt *st, const char *const *p, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (p[i])
			sqlite3_bind_text(st, i + 1, p[i], -1, SQLITE_TRANSIENT);
		else
			sqlite3_bind_null(st, i + 1);
}

/*
 * Run a statement without results.  *changes gets the rows changed.
 * *constraint (may be NULL) is set to 1 instead of failing when a UNIQUE or
 * PRIMARY KEY constraint stopped it.
 */
static int run(struct db *db, const char *sql, const char *const *p, int n, int *changes,
	       int *constraint, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	if (constraint)
		*constraint = 0;
	if ((rc = db_prepare(db, sql, &st, e)) != 0)
		return rc;
	bind_texts(st, p, n);
	rc = sqlite3_step(st);
	if ((rc & 0xff) == SQLITE_CONSTRAINT && constraint &&
	    (sqlite3_extended_errcode(db->h) == SQLITE_CONSTRAINT_UNIQUE ||
	     sqlite3_extended_errcode(db->h) == SQLITE_CONSTRAINT_PRIMARYKEY)) {
		sqlite3_finalize(st);
		*constraint = 1;
		if (changes)
			*changes = 0;
		return 0;
	}
	if (rc != SQLITE_DONE) {
		rc = db_fail(db, e, "repair");
		sqlite3_finalize(st);
		return rc;
	}
	if (changes)
		*changes = sqlite3_changes(db->h);
	sqlite3_finalize(st);
	return 0;
}

/* The first column of the first row as a new string in *out (NULL: no row or NULL). */
static int query1(struct db *db, const char *sql, const char *const *p, int n, char **out,
		  int *found, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	if (found)
		*found = 0;
	if ((rc = db_prepare(db, sql, &st, e)) != 0)
		return rc;
	bind_texts(st, p, n);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *v = sqlite3_column_text(st, 0);

		if (found)
			*found = 1;
		if (v && !(*out = strdup((const char *)v))) {
			sqlite3_finalize(st);
			return err_set(e, EXIT_SOFTWARE, "repair: out of memory");
		}
	} else if (rc != SQLITE_DONE) {
		rc = db_fail(db, e, "repair");
		sqlite3_finalize(st);
		return rc;
	}
	sqlite3_finalize(st);
	return 0;
}

/* 1 if the query yields a row. */
static int exists(struct db *db, const char *sql, const char *const *p, int n, int *found,
		  struct err *e)
{
	char *v;
	int rc = query1(db, sql, p, n, &v, found, e);

	free(v);
	return rc;
}

/* --- the action context ----------------------------------------------------- */

struct ctx {
	struct db *db;
	struct db_repair_apply *a;
	const struct db_repair_finding *f;
	json_t *after;          /* f->action_after parsed, when it is a JSON value */
	struct err *e;
};

/* Mark the action stale (nothing applies) with a reason; returns 0. */
static int stale(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int stale(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->a->reason, sizeof c->a->reason, fmt, ap);
	va_end(ap);
	c->a->outcome = DB_REPAIR_STALE;
	return 0;
}

/* Go on only while no error and the action still applies. */
#define TRY(c, x)                                                    \
	do {                                                         \
		int rc_ = (x);                                       \
		if (rc_ != 0 || (c)->a->outcome != DB_REPAIR_APPLIED) \
			return rc_;                                  \
	} while (0)

/* Columns whose values are integers in the ledger's JSON. */
static json_t *json_value(const char *column, const char *v)
{
	char *end;
	long long n;

	if (!v)
		return json_null();
	if (strcmp(column, "quantity_seats") == 0) {
		n = strtoll(v, &end, 10);
		if (*v && !*end)
			return json_integer(n);
	}
	return json_string(v);
}

/* A string member of the action's JSON (integers as text in buf), or NULL. */
static const char *after_text(struct ctx *c, const char *key, char *buf, size_t sz)
{
	json_t *v = c->after ? json_object_get(c->after, key) : NULL;

	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v)) {
		snprintf(buf, sz, "%lld", (long long)json_integer_value(v));
		return buf;
	}
	return NULL;
}

/*
 * An id for a row the repair creates: "tu_" prefix, the parts joined by
 * '_' with '/' and ':' turned into '_', and "_r<n>" when the finding is a
 * returning drift (so a re-grant does not collide with the first grant).
 */
static void make_id(char *buf, size_t sz, const struct db_repair_finding *f, const char *kind,
		    const char *a, const char *b)
{
	char *p;
	int n;

	n = snprintf(buf, sz, "tu_%s_%s%s%s", kind, a, b ? "_" : "", b ? b : "");
	if (f->reopened > 0 && n > 0 && (size_t)n < sz)
		snprintf(buf + n, sz - (size_t)n, "_r%lld", f->reopened);
	for (p = buf; *p; p++)
		if (*p == '/' || *p == ':')
			*p = '_';
}

/* The ledger row of one changed platform row; DUPLICATE when its key exists. */
static int ledger(struct ctx *c, const char *table, const char *row_id, const char *op,
		  json_t *before, json_t *after)
{
	char key[1024], *bj = NULL, *aj = NULL, runbuf[32];
	const char *p[13];
	int rc, dup = 0;

	snprintf(key, sizeof key, "%s/%s/%s", c->a->action_key, table, row_id);
	snprintf(runbuf, sizeof runbuf, "%lld", c->a->run_id);
	if (before)
		bj = json_dumps(before, JSON_COMPACT);
	aj = json_dumps(after, JSON_COMPACT);
	json_decref(before);
	json_decref(after);
	if ((before && !bj) || !aj) {
		free(bj);
		free(aj);
		return err_set(c->e, EXIT_SOFTWARE, "repair: out of memory");
	}
	p[0] = key;
	p[1] = c->a->action_key;
	p[2] = c->a->run_id ? runbuf : NULL;
	p[3] = c->f->rule;
	p[4] = c->f->subject;
	p[5] = c->f->tenant_id;
	p[6] = c->f->stripe_object;
	p[7] = c->f->action;
	p[8] = table;
	p[9] = row_id;
	p[10] = op;
	p[11] = bj;
	p[12] = aj;
	rc = run(c->db,
		 "INSERT INTO repair_ledger (idempotency_key, action_key, run_id, finding_id, rule,"
		 " subject, tenant_id, stripe_object, action, table_name, row_id, op, before, after,"
		 " applied_at) VALUES (?1, ?2, CAST(?3 AS INTEGER),"
		 " (SELECT id FROM findings WHERE rule = ?4 AND subject = ?5),"
		 " ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
		 (const char *const[]){ p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8],
					p[9], p[10], p[11], p[12], c->a->now },
		 14, NULL, &dup, c->e);
	free(bj);
	free(aj);
	if (rc != 0)
		return rc;
	if (dup) {
		snprintf(c->a->reason, sizeof c->a->reason, "the ledger already holds %.200s", key);
		c->a->outcome = DB_REPAIR_DUPLICATE;
		return 0;
	}
	c->a->entries++;
	return 0;
}

/*
 * UPDATE table SET column = after WHERE id = row_id AND column IS before
 * (plus guard, a literal condition), and its ledger row.  Stale when no row
 * matches: the row is gone or changed since reconcile.
 */
static int set_field(struct ctx *c, const char *table, const char *row_id, const char *column,
		     const char *before, const char *after, const char *guard)
{
	char sql[512];
	json_t *jb, *ja;
	int rc, n;

	snprintf(sql, sizeof sql, "UPDATE %s SET %s = ?1 WHERE id = ?2 AND %s IS ?3%s", table,
		 column, column, guard);
	if ((rc = run(c->db, sql, (const char *const[]){ after, row_id, before }, 3, &n, NULL,
		      c->e)) != 0)
		return rc;
	if (n != 1)
		return stale(c, "%s %s: %s is no longer %s", table, row_id, column,
			     before ? before : "NULL");
	jb = json_object();
	ja = json_object();
	json_object_set_new(jb, column, json_value(column, before));
	json_object_set_new(ja, column, json_value(column, after));
	return ledger(c, table, row_id, "update", jb, ja);
}

/* INSERT a new row (columns and values in parallel) and its ledger row. */
static int insert_row(struct ctx *c, const char *table, const char *row_id,
		      const char *const *cols, const char *const *vals, int n)
{
	char sql[1024];
	size_t off;
	json_t *ja;
	int i, rc, dup;

	off = (size_t)snprintf(sql, sizeof sql, "INSERT INTO %s (", table);
	for (i = 0; i < n; i++)
		off += (size_t)snprintf(sql + off, sizeof sql - off, "%s%s", i ? ", " : "", cols[i]);
	off += (size_t)snprintf(sql + off, sizeof sql - off, ") VALUES (");
	for (i = 0; i < n; i++)
		off += (size_t)snprintf(sql + off, sizeof sql - off, "%s?%d", i ? ", " : "", i + 1);
	snprintf(sql + off, sizeof sql - off, ")");
	if ((rc = run(c->db, sql, vals, n, NULL, &dup, c->e)) != 0)
		return rc;
	if (dup)
		return stale(c, "%s %s already exists", table, row_id);
	ja = json_object();
	for (i = 0; i < n; i++)
		json_object_set_new(ja, cols[i], json_value(cols[i], vals[i]));
	return ledger(c, table, row_id, "insert", NULL, ja);
}

/* The row id of a seat assignment: its key as a JSON array. */
static void seat_row_id(char *buf, size_t sz, const char *ent, const char *user, const char *at)
{
	json_t *k = json_pack("[sss]", ent, user, at);
	char *s = k ? json_dumps(k, JSON_COMPACT) : NULL;

	snprintf(buf, sz, "%s", s ? s : "");
	free(s);
	json_decref(k);
}

/*
 * Give user a seat on entitlement ent now, unless the user already holds
 * one there or no seat is free.  *added says whether it did.
 */
static int seat_for(struct ctx *c, const char *ent, const char *user, int *added)
{
	char row[512];
	int found, rc;

	*added = 0;
	if ((rc = exists(c->db,
			 "SELECT 1 FROM seat_assignments WHERE entitlement_id = ?1 AND user_id = ?2"
			 " AND released_at IS NULL",
			 (const char *const[]){ ent, user }, 2, &found, c->e)) != 0 || found)
		return rc;
	if ((rc = exists(c->db,
			 "SELECT 1 FROM entitlements e WHERE e.id = ?1 AND e.status = 'active'"
			 " AND e.source <> 'admin_grant' AND e.quantity_seats >"
			 " (SELECT COUNT(*) FROM seat_assignments a WHERE a.entitlement_id = e.id"
			 "  AND a.released_at IS NULL)",
			 (const char *const[]){ ent }, 1, &found, c->e)) != 0 || !found)
		return rc;
	seat_row_id(row, sizeof row, ent, user, c->a->now);
	rc = insert_row(c, "seat_assignments", row,
			(const char *const[]){ "entitlement_id", "user_id", "assigned_at" },
			(const char *const[]){ ent, user, c->a->now }, 3);
	*added = rc == 0 && c->a->outcome == DB_REPAIR_APPLIED;
	return rc;
}

/* Does row id exist in table (a literal)? */
static int row_exists(struct ctx *c, const char *table, const char *id, int *found)
{
	char sql[128];

	snprintf(sql, sizeof sql, "SELECT 1 FROM %s WHERE id = ?1", table);
	return exists(c->db, sql, (const char *const[]){ id }, 1, found, c->e);
}

/* --- the actions ---------------------------------------------------------------- */

/*
 * E1 grant: a stripe-sourced entitlement for the subscription's plan, and
 * the owner's seat on it (seed 003: the purchaser holds a seat), unless
 * an active entitlement for the plan or subscription appeared meanwhile.
 */
static int act_grant(struct ctx *c)
{
	char qbuf[32], id[512], *owner = NULL;
	const char *tenant = after_text(c, "tenant_id", NULL, 0);
	const char *user = after_text(c, "user_id", NULL, 0);
	const char *product = after_text(c, "product", NULL, 0);
	const char *sub = after_text(c, "stripe_subscription_id", NULL, 0);
	const char *qty = after_text(c, "quantity_seats", qbuf, sizeof qbuf);
	int found, rc, added;

	if (!tenant || !product || !sub)
		return err_set(c->e, EXIT_SOFTWARE, "repair %s %s: grant without tenant, product "
			       "or subscription", c->f->rule, c->f->subject);
	if ((rc = row_exists(c, "tenants", tenant, &found)) != 0)
		return rc;
	if (!found)
		return stale(c, "tenant %s does not exist", tenant);
	if ((rc = exists(c->db,
			 "SELECT 1 FROM entitlements WHERE tenant_id = ?1 AND status = 'active'"
			 " AND (stripe_subscription_id = ?2 OR product = ?3)",
			 (const char *const[]){ tenant, sub, product }, 3, &found, c->e)) != 0)
		return rc;
	if (found)
		return stale(c, "tenant %s has an active %s entitlement now", tenant, product);
	make_id(id, sizeof id, c->f, "ent", sub, NULL);
	TRY(c, insert_row(c, "entitlements", id,
			  (const char *const[]){ "id", "tenant_id", "user_id", "product",
						 "quantity_seats", "status", "source",
						 "stripe_subscription_id", "valid_from" },
			  (const char *const[]){ id, tenant, user, product, qty, "active", "stripe",
						 sub, c->a->now },
			  9));
	if ((rc = query1(c->db, "SELECT owner_user_id FROM tenants WHERE id = ?1",
			 (const char *const[]){ tenant }, 1, &owner, NULL, c->e)) != 0)
		return rc;
	rc = owner ? seat_for(c, id, owner, &added) : 0;
	free(owner);
	return rc;
}

/* E2, E7, R1 revoke: an entitlement (soft), or an enrolment refunded with its UNBOOKED steps. */
static int act_revoke(struct ctx *c)
{
	const char *id = c->f->action_row_id;
	char reason[512];
	sqlite3_stmt *st;
	int rc, n;

	if (!id || !c->f->action_table)
		return err_set(c->e, EXIT_SOFTWARE, "repair %s %s: revoke without a row",
			       c->f->rule, c->f->subject);
	if (strcmp(c->f->action_table, "entitlements") == 0) {
		json_t *jb, *ja;

		snprintf(reason, sizeof reason, "%s: %s", c->f->rule,
			 c->f->actual ? c->f->actual : c->f->subject);
		if ((rc = run(c->db,
			      "UPDATE entitlements SET status = 'revoked', revoked_reason = ?1,"
			      " revoked_at = ?2 WHERE id = ?3 AND status = 'active'"
			      " AND source <> 'admin_grant'",
			      (const char *const[]){ reason, c->a->now, id }, 3, &n, NULL, c->e)) != 0)
			return rc;
		if (n != 1)
			return stale(c, "entitlement %s is no longer active (or is an admin grant)", id);
		jb = json_pack("{s:s,s:n,s:n}", "status", "active", "revoked_reason", "revoked_at");
		ja = json_pack("{s:s,s:s,s:s}", "status", "revoked", "revoked_reason", reason,
			       "revoked_at", c->a->now);
		return ledger(c, "entitlements", id, "update", jb, ja);
	}
	if (strcmp(c->f->action_table, "enrolments") != 0)
		return err_set(c->e, EXIT_SOFTWARE, "repair %s %s: cannot revoke a row of %s",
			       c->f->rule, c->f->subject, c->f->action_table);
	TRY(c, set_field(c, "enrolments", id, "status", "active", "refunded", ""));
	if ((rc = db_prepare(c->db,
			     "SELECT id FROM step_progress WHERE enrolment_id = ?1"
			     " AND status = 'UNBOOKED' ORDER BY id", &st, c->e)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	/* Collect first: updating while stepping the same table is avoided. */
	{
		char **ids = NULL;
		size_t nids = 0, i;

		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			char **t = realloc(ids, (nids + 1) * sizeof *ids);

			if (!t || !(t[nids] = strdup((const char *)sqlite3_column_text(st, 0)))) {
				free(t ? t : ids);
				ids = NULL;
				rc = SQLITE_NOMEM;
				break;
			}
			ids = t;
			nids++;
		}
		if (rc != SQLITE_DONE)
			rc = rc == SQLITE_NOMEM ? err_set(c->e, EXIT_SOFTWARE, "repair: out of memory")
						: db_fail(c->db, c->e, "repair");
		else
			rc = 0;
		sqlite3_finalize(st);
		for (i = 0; i < nids; i++) {
			if (rc == 0 && c->a->outcome == DB_REPAIR_APPLIED)
				rc = set_field(c, "step_progress", ids[i], "status", "UNBOOKED",
					       "CANCELLED", "");
			free(ids[i]);
		}
		free(ids);
	}
	return rc;
}

/* The columns a `set` action may change, with the guard each update carries. */
static const struct settable {
	const char *rule, *table, *column, *guard;
} settable[] = {
	{ "E3", "entitlements", "quantity_seats", " AND source <> 'admin_grant'" },
	{ "E5", "tenants", "plan", "" },
	{ "P3", "purchase_intents", "status", "" },
	{ "C4", "courses", "owner_user_id", " AND organization_id IS NULL" },
};

/* E3, E5, P3, C4 set: one column from its old value to the new one. */
static int act_set(struct ctx *c)
{
	size_t i;

	for (i = 0; i < sizeof settable / sizeof settable[0]; i++) {
		const struct settable *s = &settable[i];

		if (strcmp(s->rule, c->f->rule) == 0 && c->f->action_table && c->f->action_field &&
		    strcmp(s->table, c->f->action_table) == 0 &&
		    strcmp(s->column, c->f->action_field) == 0 && c->f->action_row_id)
			return set_field(c, s->table, c->f->action_row_id, s->column,
					 c->f->action_before, c->f->action_after, s->guard);
	}
	return err_set(c->e, EXIT_SOFTWARE, "repair %s %s: cannot set %s.%s", c->f->rule,
		       c->f->subject, c->f->action_table ? c->f->action_table : "?",
		       c->f->action_field ? c->f->action_field : "?");
}

/* E4 release_seats: release the listed (newest) assignments of a non-admin entitlement. */
static int act_release(struct ctx *c)
{
	const char *ent = c->f->action_row_id;
	size_t i;
	json_t *x;
	int rc, n, found;

	if (!ent || !json_is_array(c->after))
		return err_set(c->e, EXIT_SOFTWARE, "repair %s %s: release_seats without a list",
			       c->f->rule, c->f->subject);
	if ((rc = exists(c->db,
			 "SELECT 1 FROM entitlements WHERE id = ?1 AND source <> 'admin_grant'",
			 (const char *const[]){ ent }, 1, &found, c->e)) != 0)
		return rc;
	if (!found)
		return stale(c, "entitlement %s is gone or an admin grant", ent);
	json_array_foreach(c->after, i, x) {
		const char *user = json_string_value(json_object_get(x, "user_id"));
		const char *at = json_string_value(json_object_get(x, "assigned_at"));
		char row[512];

		if (!user || !at)
			return err_set(c->e, EXIT_SOFTWARE, "repair %s %s: bad seat in the list",
				       c->f->rule, c->f->subject);
		if ((rc = run(c->db,
			      "UPDATE seat_assignments SET released_at = ?1 WHERE entitlement_id = ?2"
			      " AND user_id = ?3 AND assigned_at = ?4 AND released_at IS NULL",
			      (const char *const[]){ c->a->now, ent, user, at }, 4, &n, NULL,
			      c->e)) != 0)
			return rc;
		if (n != 1)
			return stale(c, "seat of %s on %s is no longer held", user, ent);
		seat_row_id(row, sizeof row, ent, user, at);
		TRY(c, ledger(c, "seat_assignments", row, "update",
			      json_pack("{s:n}", "released_at"),
			      json_pack("{s:s}", "released_at", c->a->now)));
	}
	return 0;
}

/* E6 assign_seat: a seat for the tenant owner while one is free. */
static int act_assign(struct ctx *c)
{
	int added, rc;

	if (!c->f->action_row_id || !c->f->action_after)
		return err_set(c->e, EXIT_SOFTWARE, "repair %s %s: assign_seat without a seat",
			       c->f->rule, c->f->subject);
	if ((rc = seat_for(c, c->f->action_row_id, c->f->action_after, &added)) != 0)
		return rc;
	if (!added && c->a->outcome == DB_REPAIR_APPLIED)
		return stale(c, "owner %s holds a seat on %s now, or none is free",
			     c->f->action_after, c->f->action_row_id);
	return 0;
}

/*
 * P1 provision, once per checkout session (the caller's key has no
 * occurrence): the tenant (unless it exists), the owner membership, the
 * entitlement and the owner's seat (each unless present), and the purchase
 * intent set to provisioned with its tenant.
 */
static int act_provision(struct ctx *c)
{
	char qbuf[32], tid[512], eid[512], *tenant_name = NULL, *intent_tenant = NULL;
	const char *intent = after_text(c, "purchase_intent_id", NULL, 0);
	const char *user = after_text(c, "user_id", NULL, 0);
	const char *tenant = after_text(c, "tenant_id", NULL, 0);
	const char *plan = after_text(c, "plan", NULL, 0);
	const char *session = after_text(c, "stripe_checkout_session_id", NULL, 0);
	const char *sub = after_text(c, "stripe_subscription_id", NULL, 0);
	const char *qty = after_text(c, "quantity_seats", qbuf, sizeof qbuf);
	int found, rc, added;

	if (!user || !plan || !session)
		return err_set(c->e, EXIT_SOFTWARE, "repair %s %s: provision without user, plan "
			       "or session", c->f->rule, c->f->subject);
	if (!qty)
		qty = "1";
	if ((rc = row_exists(c, "users", user, &found)) != 0)
		return rc;
	if (!found)
		return stale(c, "user %s does not exist", user);
	if (intent) {
		if ((rc = query1(c->db, "SELECT status FROM purchase_intents WHERE id = ?1",
				 (const char *const[]){ intent }, 1, &intent_tenant, &found,
				 c->e)) != 0)
			return rc;
		found = found && intent_tenant && strcmp(intent_tenant, "provisioned") != 0;
		free(intent_tenant);
		intent_tenant = NULL;
		if (!found)
			return stale(c, "purchase intent %s is gone or provisioned now", intent);
		if ((rc = query1(c->db, "SELECT tenant_id FROM purchase_intents WHERE id = ?1",
				 (const char *const[]){ intent }, 1, &intent_tenant, NULL, c->e)) != 0)
			return rc;
	}
	/* The tenant: the existing one, else the intent's reserved id, else a new id. */
	if (tenant)
		snprintf(tid, sizeof tid, "%s", tenant);
	else if (intent_tenant)
		snprintf(tid, sizeof tid, "%s", intent_tenant);
	else
		make_id(tid, sizeof tid, c->f, "tenant", session, NULL);
	free(intent_tenant);
	if ((rc = row_exists(c, "tenants", tid, &found)) != 0)
		return rc;
	if (!found) {
		if ((rc = query1(c->db, "SELECT COALESCE(name, email) FROM users WHERE id = ?1",
				 (const char *const[]){ user }, 1, &tenant_name, NULL, c->e)) != 0)
			return rc;
		rc = insert_row(c, "tenants", tid,
				(const char *const[]){ "id", "name", "owner_user_id", "plan",
						       "status", "purchase_intent_id", "created_at" },
				(const char *const[]){ tid, tenant_name, user, plan, "active", intent,
						       c->a->now }, 7);
		free(tenant_name);
		TRY(c, rc);
	}
	if ((rc = exists(c->db, "SELECT 1 FROM memberships WHERE tenant_id = ?1 AND user_id = ?2",
			 (const char *const[]){ tid, user }, 2, &found, c->e)) != 0)
		return rc;
	if (!found) {
		char row[512];
		json_t *k = json_pack("[ss]", tid, user);
		char *s = k ? json_dumps(k, JSON_COMPACT) : NULL;

		snprintf(row, sizeof row, "%s", s ? s : "");
		free(s);
		json_decref(k);
		TRY(c, insert_row(c, "memberships", row,
				  (const char *const[]){ "tenant_id", "user_id", "role" },
				  (const char *const[]){ tid, user, "owner" }, 3));
	}
	/* The entitlement: an active one for the plan counts, else a new one. */
	{
		char *have = NULL;

		if ((rc = query1(c->db,
				 "SELECT id FROM entitlements WHERE tenant_id = ?1 AND status = 'active'"
				 " AND product = ?2 ORDER BY id LIMIT 1",
				 (const char *const[]){ tid, plan }, 2, &have, NULL, c->e)) != 0)
			return rc;
		if (have) {
			snprintf(eid, sizeof eid, "%s", have);
			free(have);
		} else {
			make_id(eid, sizeof eid, c->f, "ent", session, NULL);
			TRY(c, insert_row(c, "entitlements", eid,
					  (const char *const[]){ "id", "tenant_id", "user_id", "product",
								 "quantity_seats", "status", "source",
								 "stripe_subscription_id",
								 "stripe_checkout_session_id", "valid_from" },
					  (const char *const[]){ eid, tid, user, plan, qty, "active",
								 "stripe", sub, session, c->a->now },
					  10));
		}
	}
	TRY(c, seat_for(c, eid, user, &added));
	if (intent) {
		json_t *jb, *ja;
		int n;

		if ((rc = run(c->db,
			      "UPDATE purchase_intents SET status = 'provisioned', tenant_id = ?1"
			      " WHERE id = ?2 AND status IS ?3",
			      (const char *const[]){ tid, intent, c->f->action_before }, 3, &n, NULL,
			      c->e)) != 0)
			return rc;
		if (n != 1)
			return stale(c, "purchase intent %s changed status", intent);
		jb = json_pack("{s:s?}", "status", c->f->action_before);
		ja = json_pack("{s:s,s:s}", "status", "provisioned", "tenant_id", tid);
		TRY(c, ledger(c, "purchase_intents", intent, "update", jb, ja));
	}
	return 0;
}

/* Seed an UNBOOKED progress row of enrolment en for step (unless it has one). */
static int seed_step(struct ctx *c, const char *en, const char *step)
{
	char id[512];
	int found, rc;

	if ((rc = exists(c->db, "SELECT 1 FROM step_progress WHERE enrolment_id = ?1 AND step_id = ?2",
			 (const char *const[]){ en, step }, 2, &found, c->e)) != 0)
		return rc;
	if (found)
		return stale(c, "enrolment %s has progress for step %s now", en, step);
	snprintf(id, sizeof id, "tu_sp_%s_%s", en, step);
	return insert_row(c, "step_progress", id,
			  (const char *const[]){ "id", "enrolment_id", "step_id", "status" },
			  (const char *const[]){ id, en, step, "UNBOOKED" }, 4);
}

/* C1 enrol: an active enrolment dated by the session, and UNBOOKED progress for every step. */
static int act_enrol(struct ctx *c)
{
	const char *user = after_text(c, "student_user_id", NULL, 0);
	const char *program = after_text(c, "program_id", NULL, 0);
	const char *session = after_text(c, "stripe_checkout_session_id", NULL, 0);
	char id[512], *when = NULL, **steps = NULL;
	size_t nsteps = 0, i;
	sqlite3_stmt *st;
	int found, rc;

	if (!user || !program || !session)
		return err_set(c->e, EXIT_SOFTWARE, "repair %s %s: enrol without student, program "
			       "or session", c->f->rule, c->f->subject);
	if ((rc = exists(c->db,
			 "SELECT 1 FROM enrolments WHERE stripe_checkout_session_id = ?1"
			 " AND program_id = ?2", (const char *const[]){ session, program }, 2, &found,
			 c->e)) != 0)
		return rc;
	if (found)
		return stale(c, "session %s has an enrolment in %s now", session, program);
	if ((rc = query1(c->db,
			 "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', created, 'unixepoch')"
			 " FROM stripe_checkout_sessions WHERE id = ?1",
			 (const char *const[]){ session }, 1, &when, NULL, c->e)) != 0)
		return rc;
	make_id(id, sizeof id, c->f, "enr", session, program);
	rc = insert_row(c, "enrolments", id,
			(const char *const[]){ "id", "student_user_id", "program_id",
					       "stripe_checkout_session_id", "status", "enrolled_at" },
			(const char *const[]){ id, user, program, session, "active",
					       when ? when : c->a->now }, 6);
	free(when);
	TRY(c, rc);
	if ((rc = db_prepare(c->db, "SELECT id FROM course_steps WHERE program_id = ?1"
			     " ORDER BY step_order, id", &st, c->e)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, program, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char **t = realloc(steps, (nsteps + 1) * sizeof *steps);

		if (!t)
			break;
		steps = t;
		if (!(steps[nsteps] = strdup((const char *)sqlite3_column_text(st, 0))))
			break;
		nsteps++;
	}
	if (rc == SQLITE_DONE)
		rc = 0;
	else if (rc == SQLITE_ROW)
		rc = err_set(c->e, EXIT_SOFTWARE, "repair: out of memory");
	else
		rc = db_fail(c->db, c->e, "repair");
	sqlite3_finalize(st);
	for (i = 0; i < nsteps; i++) {
		if (rc == 0 && c->a->outcome == DB_REPAIR_APPLIED)
			rc = seed_step(c, id, steps[i]);
		free(steps[i]);
	}
	free(steps);
	return rc;
}

/* C2 seed_progress: one UNBOOKED row for an active enrolment. */
static int act_seed(struct ctx *c)
{
	const char *en = after_text(c, "enrolment_id", NULL, 0);
	const char *step = after_text(c, "step_id", NULL, 0);
	int found, rc;

	if (!en || !step)
		return err_set(c->e, EXIT_SOFTWARE, "repair %s %s: seed_progress without enrolment "
			       "or step", c->f->rule, c->f->subject);
	if ((rc = exists(c->db, "SELECT 1 FROM enrolments WHERE id = ?1 AND status = 'active'",
			 (const char *const[]){ en }, 1, &found, c->e)) != 0)
		return rc;
	if (!found)
		return stale(c, "enrolment %s is no longer active", en);
	return seed_step(c, en, step);
}

static const struct action {
	const char *rule, *verb;
	int (*fn)(struct ctx *c);
} actions[] = {
	{ "E1", "grant", act_grant },
	{ "E2", "revoke", act_revoke },
	{ "E3", "set", act_set },
	{ "E4", "release_seats", act_release },
	{ "E5", "set", act_set },
	{ "E6", "assign_seat", act_assign },
	{ "E7", "revoke", act_revoke },
	{ "P1", "provision", act_provision },
	{ "P3", "set", act_set },
	{ "R1", "revoke", act_revoke },
	{ "C1", "enrol", act_enrol },
	{ "C2", "seed_progress", act_seed },
	{ "C4", "set", act_set },
};

static const struct action *find_action(const char *rule, const char *verb)
{
	size_t i;

	for (i = 0; rule && verb && i < sizeof actions / sizeof actions[0]; i++)
		if (strcmp(actions[i].rule, rule) == 0 && strcmp(actions[i].verb, verb) == 0)
			return &actions[i];
	return NULL;
}

int db_repair_savepoint(struct db *db, struct err *e)
{
	return db_exec(db, "SAVEPOINT repair_action", e);
}

int db_repair_release(struct db *db, struct err *e)
{
	return db_exec(db, "RELEASE repair_action", e);
}

void db_repair_rollback_to(struct db *db)
{
	struct err ignored = { 0 };

	db_exec(db, "ROLLBACK TO repair_action; RELEASE repair_action", &ignored);
}

int db_repair_can_apply(const char *rule, const char *action)
{
	return find_action(rule, action) != NULL;
}

int db_repair_apply_one(struct db *db, struct db_repair_apply *a, struct err *e)
{
	const struct action *act = find_action(a->f->rule, a->f->action);
	struct ctx c = { db, a, a->f, NULL, e };
	int rc, n, found;

	a->outcome = DB_REPAIR_APPLIED;
	a->entries = 0;
	a->reason[0] = '\0';
	if (!act)
		return err_set(e, EXIT_SOFTWARE, "repair %s %s: no repair for action '%s'",
			       a->f->rule, a->f->subject, a->f->action);
	/* Another process may have repaired it since we read it. */
	{
		char idbuf[32];

		snprintf(idbuf, sizeof idbuf, "%lld", a->f->id);
		if ((rc = run(db, "UPDATE findings SET status = 'repaired', repaired_at = ?1"
			      " WHERE id = CAST(?2 AS INTEGER) AND status = 'open'",
			      (const char *const[]){ a->now, idbuf }, 2, &n, NULL, e)) != 0)
			return rc;
	}
	if (n != 1) {
		snprintf(a->reason, sizeof a->reason, "finding %lld is no longer open", a->f->id);
		a->outcome = DB_REPAIR_DUPLICATE;
		return 0;
	}
	if ((rc = exists(db, "SELECT 1 FROM repair_ledger WHERE action_key = ?1",
			 (const char *const[]){ a->action_key }, 1, &found, e)) != 0)
		return rc;
	if (found) {
		snprintf(a->reason, sizeof a->reason, "the ledger already holds action %s",
			 a->action_key);
		a->outcome = DB_REPAIR_DUPLICATE;
		return 0;
	}
	if (a->f->action_after && (a->f->action_after[0] == '{' || a->f->action_after[0] == '['))
		c.after = json_loads(a->f->action_after, 0, NULL);
	rc = act->fn(&c);
	json_decref(c.after);
	if (rc == 0 && a->outcome == DB_REPAIR_APPLIED && a->entries == 0) {
		snprintf(a->reason, sizeof a->reason, "nothing left to change");
		a->outcome = DB_REPAIR_STALE;
	}
	return rc;
}

/* --- reading ------------------------------------------------------------------ */

static char *col_dup(sqlite3_stmt *st, int i, int *oom)
{
	const unsigned char *v = sqlite3_column_text(st, i);
	char *s;

	if (!v)
		return NULL;
	if (!(s = strdup((const char *)v)))
		*oom = 1;
	return s;
}

void db_repair_findings_free(struct db_repair_finding *f, size_t n)
{
	size_t i;

	for (i = 0; f && i < n; i++) {
		struct db_repair_finding *x = &f[i];

		free(x->rule); free(x->subject); free(x->subject_type); free(x->subject_id);
		free(x->severity); free(x->tenant_id); free(x->stripe_object); free(x->expected);
		free(x->actual); free(x->action); free(x->action_text); free(x->action_table);
		free(x->action_row_id); free(x->action_field); free(x->action_before);
		free(x->action_after);
	}
	free(f);
}

int db_repair_load_open(struct db *db, struct db_repair_finding **out, size_t *n, struct err *e)
{
	struct db_repair_finding *v = NULL;
	size_t cap = 0, len = 0;
	sqlite3_stmt *st;
	int rc, oom = 0;

	*out = NULL;
	*n = 0;
	if ((rc = db_prepare(db,
			     "SELECT id, reopened, last_run_id, rule, subject, subject_type, subject_id,"
			     " severity, tenant_id, stripe_object, expected, actual, action, action_text,"
			     " action_table, action_row_id, action_field, action_before, action_after"
			     " FROM findings WHERE status = 'open' ORDER BY rule, subject",
			     &st, e)) != 0)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct db_repair_finding *x;

		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct db_repair_finding *t = realloc(v, ncap * sizeof *v);

			if (!t) {
				oom = 1;
				break;
			}
			v = t;
			cap = ncap;
		}
		x = &v[len++];
		memset(x, 0, sizeof *x);
		x->id = sqlite3_column_int64(st, 0);
		x->reopened = sqlite3_column_int64(st, 1);
		x->last_run_id = sqlite3_column_int64(st, 2);
		x->rule = col_dup(st, 3, &oom);
		x->subject = col_dup(st, 4, &oom);
		x->subject_type = col_dup(st, 5, &oom);
		x->subject_id = col_dup(st, 6, &oom);
		x->severity = col_dup(st, 7, &oom);
		x->tenant_id = col_dup(st, 8, &oom);
		x->stripe_object = col_dup(st, 9, &oom);
		x->expected = col_dup(st, 10, &oom);
		x->actual = col_dup(st, 11, &oom);
		x->action = col_dup(st, 12, &oom);
		x->action_text = col_dup(st, 13, &oom);
		x->action_table = col_dup(st, 14, &oom);
		x->action_row_id = col_dup(st, 15, &oom);
		x->action_field = col_dup(st, 16, &oom);
		x->action_before = col_dup(st, 17, &oom);
		x->action_after = col_dup(st, 18, &oom);
		if (oom)
			break;
	}
	if (oom || (rc != SQLITE_DONE && rc != SQLITE_ROW)) {
		rc = oom ? err_set(e, EXIT_SOFTWARE, "repair: out of memory")
			 : db_fail(db, e, "reading findings");
		sqlite3_finalize(st);
		db_repair_findings_free(v, len);
		return rc;
	}
	sqlite3_finalize(st);
	*out = v;
	*n = len;
	return 0;
}

int db_repair_check_fresh(struct db *db, long long *reconcile_run_id, long long *pull_run_id,
			  struct err *e)
{
	sqlite3_stmt *st;
	long long rid, pid, newest;
	int rc;

	*reconcile_run_id = *pull_run_id = 0;
	if ((rc = db_prepare(db,
			     "SELECT r.id, COALESCE(r.pull_run_id, 0),"
			     " COALESCE((SELECT MAX(id) FROM stripe_pull_runs WHERE status = 'ok'), 0)"
			     " FROM reconcile_runs r WHERE r.finished_at IS NOT NULL"
			     " ORDER BY r.id DESC LIMIT 1", &st, e)) != 0)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_finalize(st);
		return err_set(e, EXIT_NOINPUT, "there are no findings yet: run 'trueup reconcile' "
			       "first");
	}
	if (rc != SQLITE_ROW) {
		rc = db_fail(db, e, "reading reconcile runs");
		sqlite3_finalize(st);
		return rc;
	}
	rid = sqlite3_column_int64(st, 0);
	pid = sqlite3_column_int64(st, 1);
	newest = sqlite3_column_int64(st, 2);
	sqlite3_finalize(st);
	*reconcile_run_id = rid;
	*pull_run_id = pid;
	if (newest > pid)
		return err_set(e, EXIT_TEMPFAIL, "the findings (reconcile run %lld) predate stripe "
			       "pull %lld: run 'trueup reconcile' first", rid, newest);
	return 0;
}

int db_repair_ledger_each(struct db *db, const char *const *rules, size_t nrules,
			  long long run_id, int (*fn)(const struct db_repair_entry *x, void *arg),
			  void *arg, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_prepare(db,
			     "SELECT id, COALESCE(run_id, 0), COALESCE(finding_id, 0), idempotency_key,"
			     " action_key, rule, subject, tenant_id, stripe_object, action, table_name,"
			     " row_id, op, before, after, applied_at FROM repair_ledger"
			     " WHERE (?1 = 0 OR run_id = ?1) ORDER BY id", &st, e)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, run_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct db_repair_entry x;
		size_t i;

		x.rule = (const char *)sqlite3_column_text(st, 5);
		for (i = 0; i < nrules && strcmp(rules[i], x.rule) != 0; i++)
			;
		if (nrules && i == nrules)
			continue;
		x.id = sqlite3_column_int64(st, 0);
		x.run_id = sqlite3_column_int64(st, 1);
		x.finding_id = sqlite3_column_int64(st, 2);
		x.idempotency_key = (const char *)sqlite3_column_text(st, 3);
		x.action_key = (const char *)sqlite3_column_text(st, 4);
		x.subject = (const char *)sqlite3_column_text(st, 6);
		x.tenant_id = (const char *)sqlite3_column_text(st, 7);
		x.stripe_object = (const char *)sqlite3_column_text(st, 8);
		x.action = (const char *)sqlite3_column_text(st, 9);
		x.table_name = (const char *)sqlite3_column_text(st, 10);
		x.row_id = (const char *)sqlite3_column_text(st, 11);
		x.op = (const char *)sqlite3_column_text(st, 12);
		x.before = (const char *)sqlite3_column_text(st, 13);
		x.after = (const char *)sqlite3_column_text(st, 14);
		x.applied_at = (const char *)sqlite3_column_text(st, 15);
		if ((rc = fn(&x, arg)) != 0) {
			sqlite3_finalize(st);
			return rc;
		}
	}
	if (rc != SQLITE_DONE) {
		rc = db_fail(db, e, "reading the repair ledger");
		sqlite3_finalize(st);
		return rc;
	}
	sqlite3_finalize(st);
	return 0;
}
