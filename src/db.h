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

/* --- import (db_import.c) --------------------------------------------- */

/*
 * One import session, inside the caller's transaction (db_tx_begin): it
 * owns two TEMP helper tables (keys seen per file, references whose check
 * is deferred to the end) and a cache of prepared lookups.  All names
 * passed to these functions (tables, columns) come from the import
 * module's fixed file specs, never from input; they are checked to be
 * plain identifiers and quoted.  Values always go through bound parameters.
 */
struct db_import;
struct db_import_upsert;

/* A value to bind: NULL, text or integer. */
struct db_import_value {
	int is_null;
	int is_int;
	const char *text;       /* when !is_null && !is_int */
	long long num;          /* when is_int */
};

enum db_import_outcome {
	DB_IMPORT_INSERTED = 0,
	DB_IMPORT_UPDATED = 1,
	DB_IMPORT_UNCHANGED = 2
};

/*
 * Start a session on db, which must be inside a transaction.  On success
 * *out is freed by db_import_end().  Returns 0 or an exit code (e filled).
 */
int db_import_start(struct db *db, struct db_import **out, struct err *e);

/*
 * Drop the helper tables (when ok is true) and free the session; NULL is
 * fine.  Call before committing or rolling back the transaction.
 */
void db_import_end(struct db_import *s, int ok);

/* *found = 1 when a row of table has column = value.  Returns 0 or a code. */
int db_import_exists(struct db_import *s, const char *table, const char *column,
		     const char *value, int *found, struct err *e);

/*
 * Remember key (the row key of file, in one string) as seen on line.  If
 * it was already seen, *first_line is the line it was first seen on, else
 * 0.  Returns 0 or an exit code.
 */
int db_import_seen(struct db_import *s, const char *file, const char *key, long line,
		   long *first_line, struct err *e);

/*
 * Look for another row of table whose column = value and whose key_column
 * is not key_value (a UNIQUE clash).  *found = 1 and its key copied into
 * other (size othersz) when there is one.  Returns 0 or an exit code.
 */
int db_import_unique_clash(struct db_import *s, const char *table, const char *column,
			   const char *value, const char *key_column, const char *key_value,
			   char *other, size_t othersz, int *found, struct err *e);

/*
 * Queue a reference check for the end of the import: file, line and
 * column name the place, tag says which spec column it is (the caller's
 * own number), value the referenced key.  Returns 0 or an exit code.
 */
int db_import_defer(struct db_import *s, const char *file, long line, int column, int tag,
		    const char *value, struct err *e);

/*
 * Call fn for each queued reference in the order queued; fn returns 0 to go
 * on, or an exit code that stops the walk and is returned.
 */
int db_import_deferred_each(struct db_import *s,
			    int (*fn)(void *arg, const char *file, long line, int column,
				      int tag, const char *value),
			    void *arg, struct err *e);

/*
 * Prepare an upsert into table of the ncols columns cols (the first nkeys
 * are the primary key, in order): INSERT ... ON CONFLICT (keys) DO UPDATE
 * SET every other column, only WHERE one of them differs, so identical rows
 * are not written.  Columns not listed are left alone on update (NULL or
 * their default on insert).  *out is freed with db_import_upsert_free().
 */
int db_import_upsert_prepare(struct db_import *s, const char *table,
			     const char *const *cols, size_t ncols, size_t nkeys,
			     struct db_import_upsert **out, struct err *e);

/*
 * Upsert one row: vals holds ncols values in the order of cols.  *outcome
 * says whether the row was inserted, updated or already identical.  A
 * constraint failure returns EXIT_DATAERR with SQLite's message.
 */
int db_import_upsert_row(struct db_import_upsert *u, const struct db_import_value *vals,
			 enum db_import_outcome *outcome, struct err *e);

void db_import_upsert_free(struct db_import_upsert *u);

#endif
