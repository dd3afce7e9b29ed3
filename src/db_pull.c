/*
 * db_pull.c - the SQL behind db_pull.h: objects in a non-final state whose
 * deadline passed in a window, the newest event of an object and whether
 * a session's line items are known.  Read-only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_pull.h"

/* One statement per kind: ?1 = from, ?2 = to, ?3 = limit. */
static const struct {
	enum stripe_kind kind;
	const char *sql;
} recheck_sql[] = {
	{ STRIPE_CHECKOUT_SESSION,
	  "SELECT id FROM stripe_checkout_sessions WHERE deleted_at IS NULL AND status = 'open' "
	  "AND expires_at >= ?1 AND expires_at < ?2 ORDER BY id LIMIT ?3" },
	{ STRIPE_SUBSCRIPTION,
	  "SELECT id FROM stripe_subscriptions WHERE deleted_at IS NULL AND "
	  "((status = 'trialing' AND trial_end >= ?1 AND trial_end < ?2) OR "
	  "(status = 'incomplete' AND created + 82800 >= ?1 AND created + 82800 < ?2)) "
	  "ORDER BY id LIMIT ?3" },
	{ STRIPE_REFUND,
	  "SELECT id FROM stripe_refunds WHERE deleted_at IS NULL AND "
	  "status IN ('pending', 'requires_action') AND created + 86400 >= ?1 AND "
	  "created + 86400 < ?2 ORDER BY id LIMIT ?3" },
};

int db_pull_recheck_each(struct db *db, unsigned mask, long long from, long long to,
			 long long limit,
			 int (*fn)(enum stripe_kind kind, const char *id, void *arg), void *arg,
			 struct err *e)
{
	long long left = limit > 0 ? limit : -1;
	size_t i;
	int rc, stop = 0;

	for (i = 0; i < sizeof recheck_sql / sizeof recheck_sql[0] && !stop && left != 0; i++) {
		sqlite3_stmt *st;

		if (!(mask & (1u << (unsigned)recheck_sql[i].kind)))
			continue;
		if ((rc = db_prepare(db, recheck_sql[i].sql, &st, e)) != 0)
			return rc;
		sqlite3_bind_int64(st, 1, from);
		sqlite3_bind_int64(st, 2, to);
		sqlite3_bind_int64(st, 3, left);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			const unsigned char *id = sqlite3_column_text(st, 0);

			if (left > 0)
				left--;
			if (id && fn(recheck_sql[i].kind, (const char *)id, arg) != 0) {
				stop = 1;
				break;
			}
		}
		sqlite3_finalize(st);
		if (!stop && rc != SQLITE_DONE)
			return db_fail(db, e, "stripe snapshot re-check");
	}
	return 0;
}

int db_pull_newest_event(struct db *db, const char *object_id, struct db_pull_event *out,
			 int *found, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	memset(out, 0, sizeof *out);
	*found = 0;
	if ((rc = db_prepare(db, "SELECT id, type, created, processed, raw_json FROM stripe_events "
			     "WHERE object_id = ?1 ORDER BY created DESC, id DESC LIMIT 1", &st,
			     e)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, object_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *id = sqlite3_column_text(st, 0);
		const unsigned char *type = sqlite3_column_text(st, 1);
		const unsigned char *raw = sqlite3_column_text(st, 4);

		snprintf(out->id, sizeof out->id, "%s", id ? (const char *)id : "");
		snprintf(out->type, sizeof out->type, "%s", type ? (const char *)type : "");
		out->created = sqlite3_column_int64(st, 2);
		out->processed = sqlite3_column_int(st, 3) != 0;
		if (!(out->raw_json = strdup(raw ? (const char *)raw : "{}"))) {
			sqlite3_finalize(st);
			return err_set(e, EXIT_SOFTWARE, "out of memory");
		}
		*found = 1;
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		rc = 0;
	} else {
		rc = db_fail(db, e, "stripe_events");
	}
	sqlite3_finalize(st);
	return rc;
}

int db_pull_line_items_known(struct db *db, const char *id, int *known, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	*known = 0;
	if ((rc = db_prepare(db, "SELECT 1 FROM stripe_checkout_sessions WHERE id = ?1 AND "
			     "line_items_has_more IS NOT NULL", &st, e)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*known = rc == SQLITE_ROW;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(db, e, "stripe_checkout_sessions");
	return 0;
}
