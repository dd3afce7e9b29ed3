/*
 * db_jobs.c - job run rows and the scheduler's last slots; see db_jobs.h.
 *
 * Each write is one statement in autocommit mode (SQLite makes it its own
 * transaction), so a run killed between two of them leaves the row as of
 * the last one: 'running' with no end, as for any command.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db_jobs.h"
#include "tz.h"

static void fmt_utc(int64_t t, char *buf, size_t sz)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm)) {
		snprintf(buf, sz, "1970-01-01T00:00:00Z");
		return;
	}
	strftime(buf, sz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int step_done(struct db *db, sqlite3_stmt *st, struct err *e)
{
	int rc = 0;

	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(db, e, "runs");
	sqlite3_finalize(st);
	return rc;
}

static void bind_run(sqlite3_stmt *st, const struct db_job_run *r, const char *now)
{
	char slot[32];

	sqlite3_bind_text(st, 1, r->job, -1, SQLITE_TRANSIENT);
	if (r->args)
		sqlite3_bind_text(st, 2, r->args, -1, SQLITE_TRANSIENT);
	if (r->has_slot) {
		fmt_utc(r->slot, slot, sizeof slot);
		sqlite3_bind_text(st, 3, slot, -1, SQLITE_TRANSIENT);
	}
	if (r->attempt > 0)
		sqlite3_bind_int(st, 4, r->attempt);
	sqlite3_bind_text(st, 5, now, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)getpid());
}

int db_job_run_begin(struct db *db, const struct db_job_run *r, long long *run_id,
		     struct err *e)
{
	sqlite3_stmt *st;
	char now[32];
	int rc;

	db_now(now, sizeof now);
	if ((rc = db_prepare(db, "INSERT INTO runs (command, job, args, scheduled_for, attempt, "
				 "started_at, pid, status) VALUES ('run', ?1, ?2, ?3, ?4, ?5, ?6, "
				 "'running')", &st, e)) != 0)
		return rc;
	bind_run(st, r, now);
	if ((rc = step_done(db, st, e)) != 0)
		return rc;
	*run_id = (long long)sqlite3_last_insert_rowid(db->h);
	return 0;
}

int db_job_run_end(struct db *db, long long run_id, const char *status, int exit_code,
		   int signo, const char *steps, const char *error, struct err *e)
{
	sqlite3_stmt *st;
	char now[32];
	int rc;

	db_now(now, sizeof now);
	if ((rc = db_prepare(db, "UPDATE runs SET ended_at = ?1, status = ?2, exit_code = ?3, "
				 "signal = ?4, steps = ?5, error = ?6 WHERE id = ?7", &st, e)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, now, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, status, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 3, exit_code);
	if (signo > 0)
		sqlite3_bind_int(st, 4, signo);
	if (steps && *steps)
		sqlite3_bind_text(st, 5, steps, -1, SQLITE_TRANSIENT);
	if (error && *error)
		sqlite3_bind_text(st, 6, error, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)run_id);
	return step_done(db, st, e);
}

int db_job_run_skipped(struct db *db, const struct db_job_run *r, const char *why,
		       struct err *e)
{
	sqlite3_stmt *st;
	char now[32];
	int rc;

	db_now(now, sizeof now);
	if ((rc = db_prepare(db, "INSERT INTO runs (command, job, args, scheduled_for, attempt, "
				 "started_at, pid, status, ended_at, exit_code, error) VALUES "
				 "('run', ?1, ?2, ?3, ?4, ?5, ?6, 'skipped', ?5, 75, ?7)",
			     &st, e)) != 0)
		return rc;
	bind_run(st, r, now);
	sqlite3_bind_text(st, 7, why, -1, SQLITE_TRANSIENT);
	return step_done(db, st, e);
}

static void col_copy(sqlite3_stmt *st, int col, char *dst, size_t sz)
{
	const unsigned char *s = sqlite3_column_text(st, col);

	snprintf(dst, sz, "%s", s ? (const char *)s : "");
}

int db_job_step_run(struct db *db, long long pid, long long after_id, int *found,
		    long long *child_id, char *counts, size_t countssz, struct err *e)
{
	sqlite3_stmt *st;
	int rc, step;

	*found = 0;
	if ((rc = db_prepare(db, "SELECT id, counts FROM runs WHERE pid = ?1 AND id > ?2 "
				 "ORDER BY id DESC LIMIT 1", &st, e)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)pid);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)after_id);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		*found = 1;
		*child_id = (long long)sqlite3_column_int64(st, 0);
		col_copy(st, 1, counts, countssz);
	}
	rc = (step == SQLITE_ROW || step == SQLITE_DONE) ? 0 : db_fail(db, e, "runs");
	sqlite3_finalize(st);
	return rc;
}

int db_job_slot_get(struct db *db, const char *job, int64_t *slot, int *found,
		    struct err *e)
{
	struct err pe = { 0 };
	sqlite3_stmt *st;
	char text[32];
	int rc, step;

	*found = 0;
	if ((rc = db_prepare(db, "SELECT last_slot FROM job_slots WHERE job = ?1", &st, e)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, job, -1, SQLITE_TRANSIENT);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		col_copy(st, 0, text, sizeof text);
		if (tz_parse_iso(text, slot, &pe) == 0)
			*found = 1;
	}
	rc = (step == SQLITE_ROW || step == SQLITE_DONE) ? 0 : db_fail(db, e, "job_slots");
	sqlite3_finalize(st);
	return rc;
}

int db_job_slot_set(struct db *db, const char *job, int64_t slot, struct err *e)
{
	sqlite3_stmt *st;
	char text[32], now[32];
	int rc;

	fmt_utc(slot, text, sizeof text);
	db_now(now, sizeof now);
	if ((rc = db_prepare(db, "INSERT INTO job_slots (job, last_slot, updated_at) "
				 "VALUES (?1, ?2, ?3) ON CONFLICT (job) DO UPDATE SET "
				 "last_slot = excluded.last_slot, updated_at = excluded.updated_at",
			     &st, e)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, job, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, text, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, now, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = db_fail(db, e, "job_slots");
		sqlite3_finalize(st);
		return rc;
	}
	sqlite3_finalize(st);
	return 0;
}

int db_job_runs_recent(struct db *db, const char *job, int limit,
		       int (*fn)(const struct db_job_run_row *row, void *arg), void *arg,
		       struct err *e)
{
	struct db_job_run_row row;
	sqlite3_stmt *st;
	int rc, step;

	if ((rc = db_prepare(db, "SELECT id, job, scheduled_for, attempt, status, started_at, "
				 "ended_at, exit_code, signal, error FROM runs WHERE job IS NOT NULL "
				 "AND (?1 IS NULL OR job = ?1) ORDER BY id DESC LIMIT ?2",
			     &st, e)) != 0)
		return rc;
	if (job)
		sqlite3_bind_text(st, 1, job, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 2, limit);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&row, 0, sizeof row);
		row.id = (long long)sqlite3_column_int64(st, 0);
		col_copy(st, 1, row.job, sizeof row.job);
		col_copy(st, 2, row.scheduled_for, sizeof row.scheduled_for);
		row.attempt = sqlite3_column_int(st, 3);
		col_copy(st, 4, row.status, sizeof row.status);
		col_copy(st, 5, row.started_at, sizeof row.started_at);
		col_copy(st, 6, row.ended_at, sizeof row.ended_at);
		row.exit_code = sqlite3_column_type(st, 7) == SQLITE_NULL ? -1
			      : sqlite3_column_int(st, 7);
		row.signo = sqlite3_column_int(st, 8);
		col_copy(st, 9, row.error, sizeof row.error);
		if (fn(&row, arg) != 0)
			break;
	}
	rc = (step == SQLITE_ROW || step == SQLITE_DONE) ? 0 : db_fail(db, e, "runs");
	sqlite3_finalize(st);
	return rc;
}
