/*
 * db.h - the database layer: the one place that talks SQL.
 *
 * trueup keeps everything in one SQLite file, opened in WAL mode with a
 * busy timeout and foreign keys on.  The schema is a list of migrations
 * (src/sql/NNN_*.sql, compiled in) keyed on PRAGMA user_version; opening a
 * database applies the missing ones, each in its own transaction, and
 * refuses a database whose version is newer than this binary knows.
 *
 * The db_*.c files hold all of trueup's SQL: db.c the connection,
 * transactions and migrations; the others the queries of one concern each.
 * Every function returns 0 or an exit code and fills struct err.
 */
#ifndef TRUEUP_DB_H
#define TRUEUP_DB_H

#include <sqlite3.h>

#include "err.h"

struct db {
	sqlite3 *h;
	char *path;
	int in_tx;
	int opened_version; /* user_version found at open (0 = new file) */
	int created;        /* 1 if db_open created the file */
};

enum db_open_mode {
	DB_OPEN_EXISTING = 0,   /* fail with EXIT_NOINPUT if the file is missing */
	DB_OPEN_CREATE = 1      /* create the file if missing (trueup init) */
};

/*
 * Open the database at path, set the connection pragmas and apply pending
 * migrations.  On success *out is a new handle the caller frees with
 * db_close().  On failure *out is NULL and e says why: EXIT_NOINPUT (missing
 * file), EXIT_IOERR (not a database, unreadable, I/O), EXIT_CONFIG (schema
 * newer than this binary), EXIT_TEMPFAIL (locked past the busy timeout).
 */
int db_open(const char *path, enum db_open_mode mode, struct db **out, struct err *e);

/* Close and free; NULL is fine.  An open transaction is rolled back. */
void db_close(struct db *db);

/* The schema version this binary migrates to (the number of migrations). */
int db_latest_version(void);

/* Current PRAGMA user_version into *version. */
int db_schema_version(struct db *db, int *version, struct err *e);

/* Run one or more statements without results. */
int db_exec(struct db *db, const char *sql, struct err *e);

/*
 * Transactions.  db_tx_begin takes the write lock at once (BEGIN
 * IMMEDIATE) so a writer never fails half-way on a lock; commit and
 * rollback end it.  Rollback is safe to call when no transaction is open.
 */
int db_tx_begin(struct db *db, struct err *e);
int db_tx_commit(struct db *db, struct err *e);
void db_tx_rollback(struct db *db);

/*
 * Prepare sql on db into *stmt (caller finalizes with sqlite3_finalize).
 * For the db_*.c files only: SQL stays in the db layer.
 */
int db_prepare(struct db *db, const char *sql, sqlite3_stmt **stmt, struct err *e);

/* Map the sqlite error of db to an exit code and fill e with "what: msg". */
int db_fail(struct db *db, struct err *e, const char *what);

/* Current UTC time as 'YYYY-MM-DDTHH:MM:SSZ' into buf (at least 21 bytes). */
void db_now(char *buf, size_t sz);

/* --- runs (db_runs.c) --------------------------------------------------- */

/*
 * Record the start of a command run: a row with status 'running'.  args is
 * a JSON array text or NULL (never holds a secret: argv never does).
 */
int db_run_begin(struct db *db, const char *command, const char *args,
		 long long *run_id, struct err *e);

/*
 * Finish run_id: status "ok", "failed" or "skipped", the exit code, counts
 * (JSON object text or NULL) and error (NULL on success).
 */
int db_run_end(struct db *db, long long run_id, const char *status, int exit_code,
	       const char *counts, const char *error, struct err *e);

/* One row of the run history, for `trueup status`. */
struct db_run_row {
	long long id;
	char command[32];
	char status[16];
	char started_at[32];
	char ended_at[32];
	int exit_code;          /* -1 when NULL */
	char counts[512];
	char error[256];
};

/*
 * Call fn for each of the last `limit` runs, newest first.  fn returns 0 to
 * go on.  Returns 0 or an exit code.
 */
int db_runs_recent(struct db *db, int limit,
		   int (*fn)(const struct db_run_row *row, void *arg), void *arg,
		   struct err *e);

/* Row count of each platform table, for `trueup status`. */
int db_table_counts(struct db *db,
		    int (*fn)(const char *table, long long rows, void *arg), void *arg,
		    struct err *e);

#endif
