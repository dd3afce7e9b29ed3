/*
 * db.c - connection, pragmas, transactions and migrations; see db.h.
 *
 * Crash safety: WAL mode with synchronous=NORMAL survives a killed process
 * (kill -9) without corruption or loss of committed transactions; every
 * write in trueup goes through db_tx_begin/commit, so a killed process
 * leaves the database as of its last commit.  Each migration commits
 * together with its user_version bump, so a half-applied migration cannot
 * exist.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "db.h"
#include "sql_embed.h"

#define DB_BUSY_TIMEOUT_MS 10000

int db_latest_version(void)
{
	return embedded_sql_count;
}

void db_now(char *buf, size_t sz)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, sz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int db_fail(struct db *db, struct err *e, const char *what)
{
	int rc = db && db->h ? sqlite3_extended_errcode(db->h) : SQLITE_ERROR;
	int code;

	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		code = EXIT_TEMPFAIL;
		break;
	case SQLITE_CONSTRAINT:
	case SQLITE_MISMATCH:
	case SQLITE_TOOBIG:
		code = EXIT_DATAERR;
		break;
	case SQLITE_CANTOPEN:
	case SQLITE_IOERR:
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
	case SQLITE_FULL:
	case SQLITE_READONLY:
	case SQLITE_PERM:
		code = EXIT_IOERR;
		break;
	default:
		code = EXIT_SOFTWARE;
	}
	return err_set(e, code, "%s: %s", what,
		       db && db->h ? sqlite3_errmsg(db->h) : "no database");
}

int db_exec(struct db *db, const char *sql, struct err *e)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db->h, sql, NULL, NULL, &msg);

	sqlite3_free(msg);
	if (rc != SQLITE_OK)
		return db_fail(db, e, "database");
	return 0;
}

int db_prepare(struct db *db, const char *sql, sqlite3_stmt **stmt, struct err *e)
{
	if (sqlite3_prepare_v2(db->h, sql, -1, stmt, NULL) != SQLITE_OK) {
		*stmt = NULL;
		return db_fail(db, e, "database");
	}
	return 0;
}

int db_tx_begin(struct db *db, struct err *e)
{
	int rc = db_exec(db, "BEGIN IMMEDIATE", e);

	if (rc == 0)
		db->in_tx = 1;
	return rc;
}

int db_tx_commit(struct db *db, struct err *e)
{
	int rc = db_exec(db, "COMMIT", e);

	if (rc == 0)
		db->in_tx = 0;
	else
		db_tx_rollback(db);
	return rc;
}

void db_tx_rollback(struct db *db)
{
	if (db && db->h && !sqlite3_get_autocommit(db->h))
		sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
	if (db)
		db->in_tx = 0;
}

int db_schema_version(struct db *db, int *version, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_prepare(db, "PRAGMA user_version", &st, e)) != 0)
		return rc;
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return db_fail(db, e, "database");
	}
	*version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return 0;
}

/* Apply migrations after `from`, each in its own transaction. */
static int migrate(struct db *db, int from, struct err *e)
{
	char bump[64];
	int v, rc;

	for (v = from; v < embedded_sql_count; v++) {
		if ((rc = db_tx_begin(db, e)) != 0)
			return err_prefix(e, "migration %s", embedded_sql[v].name);
		snprintf(bump, sizeof bump, "PRAGMA user_version = %d", v + 1);
		if ((rc = db_exec(db, embedded_sql[v].text, e)) != 0 ||
		    (rc = db_exec(db, bump, e)) != 0) {
			db_tx_rollback(db);
			return err_prefix(e, "migration %s", embedded_sql[v].name);
		}
		if ((rc = db_tx_commit(db, e)) != 0)
			return err_prefix(e, "migration %s", embedded_sql[v].name);
	}
	return 0;
}

/*
 * The journal of a connection: WAL with synchronous = NORMAL, a commit is
 * atomic and survives kill -9 (the WAL is synced at each checkpoint; an OS
 * crash may lose the last commits, never consistency).  A pull that
 * bulk-loads writes through a rollback journal instead and switches back
 * when it ends (db_snapshot_group_bulk).  A connection opened meanwhile
 * cannot switch (SQLITE_BUSY, at once: the pull holds the database) and
 * works in the rollback journal, synced in full, which that journal needs
 * to keep consistency through an OS crash; the first open after the pull
 * (after a killed one too) switches the database back to WAL.
 */
static int set_journal(struct db *db, struct err *e)
{
	int rc = sqlite3_exec(db->h, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);

	if (rc == SQLITE_OK)
		return db_exec(db, "PRAGMA synchronous = NORMAL", e);
	if ((rc & 0xff) != SQLITE_BUSY)
		return db_fail(db, e, "database");
	return db_exec(db, "PRAGMA synchronous = FULL", e);
}

/*
 * Pragmas of every connection: the journal (set_journal).  journal_mode
 * needs a step to take effect.  A new database gets 16 KiB pages: the
 * snapshot's rows carry 1-4 KB of raw JSON each, which on 4 KiB pages
 * took a page apiece with a quarter of it empty, and every page costs two
 * writes in the WAL and one at the checkpoint (a pull wrote 23% less CPU
 * time and 12% fewer bytes).  TEMP tables and sorts stay on disk
 * (temp_store FILE) so reconcile's and the pull's memory stays flat.  A
 * 16 MiB page cache keeps the index pages a pull touches: it fills on any
 * snapshot worth the name, so memory stays flat with the account's size.
 */
static int set_pragmas(struct db *db, struct err *e)
{
	int rc;

	sqlite3_busy_timeout(db->h, DB_BUSY_TIMEOUT_MS);
	/* a new database only (an existing one keeps its page size) */
	if ((rc = db_exec(db, "PRAGMA page_size = 16384", e)) != 0 ||
	    (rc = set_journal(db, e)) != 0 ||
	    (rc = db_exec(db, "PRAGMA cache_size = -16384", e)) != 0)
		return rc;
	return db_exec(db, "PRAGMA foreign_keys = ON", e);
}

/*
 * SQLite's process-wide settings, once, before its first use.  Its memory
 * statistics take a global mutex around every allocation and free (1.16
 * million pairs in bench/parse_commit's 24,000 upserts of 120 pages);
 * trueup never reads them.
 */
static void sqlite_setup(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int db_open(const char *path, enum db_open_mode mode, struct db **out, struct err *e)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct db *db;
	struct stat st;
	int version = 0, rc, flags = SQLITE_OPEN_READWRITE;

	*out = NULL;
	pthread_once(&once, sqlite_setup);
	if (!path || !*path)
		return err_set(e, EXIT_CONFIG, "no database path configured");
	if (stat(path, &st) != 0) {
		if (errno != ENOENT || mode != DB_OPEN_CREATE)
			return err_set(e, errno == ENOENT ? EXIT_NOINPUT : EXIT_IOERR,
				       "database '%s': %s%s", path, strerror(errno),
				       errno == ENOENT ? " (run 'trueup init' first)" : "");
		flags |= SQLITE_OPEN_CREATE;
	} else if (!S_ISREG(st.st_mode)) {
		return err_set(e, EXIT_IOERR, "database '%s': not a regular file", path);
	}
	db = calloc(1, sizeof *db);
	if (!db || !(db->path = strdup(path))) {
		free(db);
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	}
	if (sqlite3_open_v2(path, &db->h, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		rc = err_set(e, EXIT_IOERR, "database '%s': %s", path,
			     db->h ? sqlite3_errmsg(db->h) : "cannot open");
		db_close(db);
		return rc;
	}
	sqlite3_extended_result_codes(db->h, 1);
	if ((rc = set_pragmas(db, e)) != 0 || (rc = db_schema_version(db, &version, e)) != 0) {
		err_prefix(e, "database '%s'", path);
		db_close(db);
		return rc;
	}
	if (version > embedded_sql_count) {
		rc = err_set(e, EXIT_CONFIG,
			     "database '%s' has schema version %d, newer than this trueup "
			     "understands (%d); use a newer trueup", path, version,
			     embedded_sql_count);
		db_close(db);
		return rc;
	}
	db->opened_version = version;
	db->created = (flags & SQLITE_OPEN_CREATE) != 0;
	if (version < embedded_sql_count && (rc = migrate(db, version, e)) != 0) {
		err_prefix(e, "database '%s'", path);
		db_close(db);
		return rc;
	}
	*out = db;
	return 0;
}

void db_close(struct db *db)
{
	if (!db)
		return;
	if (db->h) {
		db_tx_rollback(db);
		sqlite3_close(db->h);
	}
	free(db->path);
	free(db);
}
