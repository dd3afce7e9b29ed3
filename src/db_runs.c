/*
 * db_runs.c - the run history (table runs) and table counts; see db.h.
 *
 * A run row is written in its own short transaction when a command starts
 * ('running') and updated when it ends, so a run killed half-way is still
 * visible afterwards as 'running' with no end time.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "db.h"

int db_run_begin(struct db *db, const char *command, const char *args,
		 long long *run_id, struct err *e)
{
	sqlite3_stmt *st;
	char now[32];
	int rc;

	db_now(now, sizeof now);
	if ((rc = db_prepare(db, "INSERT INTO runs (command, args, started_at, status, pid) "
				 "VALUES (?1, ?2, ?3, 'running', ?4)", &st, e)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, command, -1, SQLITE_TRANSIENT);
	if (args)
		sqlite3_bind_text(st, 2, args, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, now, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)getpid());
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = db_fail(db, e, "runs");
		sqlite3_finalize(st);
		return rc;
	}
	sqlite3_finalize(st);
	*run_id = (long long)sqlite3_last_insert_rowid(db->h);
	return 0;
}

int db_run_end(struct db *db, long long run_id, const char *status, int exit_code,
	       const char *counts, const char *error, struct err *e)
{
	sqlite3_stmt *st;
	char now[32];
	int rc;

	db_now(now, sizeof now);
	if ((rc = db_prepare(db, "UPDATE runs SET ended_at = ?1, status = ?2, exit_code = ?3, "
				 "counts = ?4, error = ?5 WHERE id = ?6", &st, e)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, now, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, status, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 3, exit_code);
	if (counts && *counts)
		sqlite3_bind_text(st, 4, counts, -1, SQLITE_TRANSIENT);
	if (error)
		sqlite3_bind_text(st, 5, error, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)run_id);
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = db_fail(db, e, "runs");
		sqlite3_finalize(st);
		return rc;
	}
	sqlite3_finalize(st);
	return 0;
}

static void col_copy(sqlite3_stmt *st, int col, char *dst, size_t sz)
{
	const unsigned char *s = sqlite3_column_text(st, col);

	snprintf(dst, sz, "%s", s ? (const char *)s : "");
}

int db_runs_recent(struct db *db, int limit,
		   int (*fn)(const struct db_run_row *row, void *arg), void *arg,
		   struct err *e)
{
	sqlite3_stmt *st;
	struct db_run_row row;
	int rc, step;

	if ((rc = db_prepare(db, "SELECT id, command, status, started_at, ended_at, exit_code, "
				 "counts, error FROM runs ORDER BY id DESC LIMIT ?1", &st, e)) != 0)
		return rc;
	sqlite3_bind_int(st, 1, limit);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&row, 0, sizeof row);
		row.id = sqlite3_column_int64(st, 0);
		col_copy(st, 1, row.command, sizeof row.command);
		col_copy(st, 2, row.status, sizeof row.status);
		col_copy(st, 3, row.started_at, sizeof row.started_at);
		col_copy(st, 4, row.ended_at, sizeof row.ended_at);
		row.exit_code = sqlite3_column_type(st, 5) == SQLITE_NULL ? -1
			      : sqlite3_column_int(st, 5);
		col_copy(st, 6, row.counts, sizeof row.counts);
		col_copy(st, 7, row.error, sizeof row.error);
		if (fn(&row, arg) != 0)
			break;
	}
	rc = (step == SQLITE_ROW || step == SQLITE_DONE) ? 0 : db_fail(db, e, "runs");
	sqlite3_finalize(st);
	return rc;
}

int db_table_counts(struct db *db,
		    int (*fn)(const char *table, long long rows, void *arg), void *arg,
		    struct err *e)
{
	/* Fixed names, not input: the table list of the import contract. */
	static const char *const tables[] = {
		"users", "tenants", "memberships", "purchase_intents", "subscriptions",
		"entitlements", "seat_assignments", "courses", "events", "course_programs",
		"course_steps", "enrolments", "step_progress", "usage"
	};
	char sql[128];
	size_t i;
	int rc;

	for (i = 0; i < sizeof tables / sizeof tables[0]; i++) {
		sqlite3_stmt *st;

		snprintf(sql, sizeof sql, "SELECT count(*) FROM \"%s\"", tables[i]);
		if ((rc = db_prepare(db, sql, &st, e)) != 0)
			return rc;
		if (sqlite3_step(st) != SQLITE_ROW) {
			rc = db_fail(db, e, tables[i]);
			sqlite3_finalize(st);
			return rc;
		}
		rc = fn(tables[i], sqlite3_column_int64(st, 0), arg);
		sqlite3_finalize(st);
		if (rc)
			break;
	}
	return 0;
}
