/*
 * db_import.c - the SQL of `trueup import`; see the import section of db.h.
 *
 * import.c validates the CSV files and decides; this file only runs the
 * statements: reference lookups, the helper TEMP tables that remember the
 * keys seen in each file (to name the line of the first occurrence of a
 * duplicate) and the references checked at the end (the tenant <->
 * purchase intent cycle), and the generic upsert.
 *
 * Statements are built from table and column names of the import module's
 * fixed specs.  Those are trusted, but each is still checked to be a plain
 * lowercase identifier and double-quoted; values are always bound.
 *
 * The helper tables live in the connection's temp schema: they never touch
 * the database file, and since they are created inside the import's
 * transaction a rollback removes them too.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

#define DB_IMPORT_SQL_MAX 4096
#define DB_IMPORT_CACHE 64

enum db_import_kind { DBI_EXISTS, DBI_UNIQUE };

struct db_import_cached {
	enum db_import_kind kind;
	char table[48], column[48], key_column[48];
	sqlite3_stmt *st;
};

struct db_import {
	struct db *db;
	sqlite3_stmt *seen_insert, *seen_lookup, *defer_insert;
	struct db_import_cached cache[DB_IMPORT_CACHE];
	size_t ncache;
};

struct db_import_upsert {
	struct db_import *s;
	char table[48];
	size_t ncols, nkeys;
	sqlite3_stmt *exists;     /* SELECT 1 ... WHERE keys */
	sqlite3_stmt *upsert;
};

/* A bounded SQL text builder; overflow is remembered, not silent. */
struct sqlbuf {
	char s[DB_IMPORT_SQL_MAX];
	size_t len;
	int overflow;
};

static void sb_add(struct sqlbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void sb_add(struct sqlbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->s + b->len, sizeof b->s - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof b->s - b->len)
		b->overflow = 1;
	else
		b->len += (size_t)n;
}

/* Names must be plain identifiers: [a-z_][a-z0-9_]*, shorter than 48. */
static int db_import_ident_ok(const char *name)
{
	size_t i;

	if (!name || !*name || strlen(name) >= 48 || (name[0] >= '0' && name[0] <= '9'))
		return 0;
	for (i = 0; name[i]; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
		      name[i] == '_'))
			return 0;
	return 1;
}

static int db_import_bad_name(struct err *e, const char *name)
{
	return err_set(e, EXIT_SOFTWARE, "import: bad identifier \"%s\"", name ? name : "");
}

static int db_import_prepare_sb(struct db *db, struct sqlbuf *b, sqlite3_stmt **st,
				struct err *e)
{
	if (b->overflow)
		return err_set(e, EXIT_SOFTWARE, "import: statement too long");
	return db_prepare(db, b->s, st, e);
}

int db_import_start(struct db *db, struct db_import **out, struct err *e)
{
	struct db_import *s;
	int rc;

	*out = NULL;
	if (!db->in_tx)
		return err_set(e, EXIT_SOFTWARE, "import: no transaction open");
	if (!(s = calloc(1, sizeof *s)))
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	s->db = db;
	if ((rc = db_exec(db,
			  "CREATE TEMP TABLE IF NOT EXISTS trueup_import_seen ("
			  " file TEXT NOT NULL, key TEXT NOT NULL, line INTEGER NOT NULL,"
			  " PRIMARY KEY (file, key)) WITHOUT ROWID;"
			  "CREATE TEMP TABLE IF NOT EXISTS trueup_import_deferred ("
			  " seq INTEGER PRIMARY KEY, file TEXT NOT NULL, line INTEGER NOT NULL,"
			  " col INTEGER NOT NULL, tag INTEGER NOT NULL, value TEXT NOT NULL);"
			  "DELETE FROM temp.trueup_import_seen;"
			  "DELETE FROM temp.trueup_import_deferred;", e)) != 0 ||
	    (rc = db_prepare(db, "INSERT OR IGNORE INTO temp.trueup_import_seen (file, key, line) "
				 "VALUES (?1, ?2, ?3)", &s->seen_insert, e)) != 0 ||
	    (rc = db_prepare(db, "SELECT line FROM temp.trueup_import_seen "
				 "WHERE file = ?1 AND key = ?2", &s->seen_lookup, e)) != 0 ||
	    (rc = db_prepare(db, "INSERT INTO temp.trueup_import_deferred "
				 "(file, line, col, tag, value) VALUES (?1, ?2, ?3, ?4, ?5)",
			     &s->defer_insert, e)) != 0) {
		db_import_end(s, 0);
		return err_prefix(e, "import");
	}
	*out = s;
	return 0;
}

void db_import_end(struct db_import *s, int ok)
{
	size_t i;

	if (!s)
		return;
	sqlite3_finalize(s->seen_insert);
	sqlite3_finalize(s->seen_lookup);
	sqlite3_finalize(s->defer_insert);
	for (i = 0; i < s->ncache; i++)
		sqlite3_finalize(s->cache[i].st);
	if (ok)
		sqlite3_exec(s->db->h, "DROP TABLE IF EXISTS temp.trueup_import_seen;"
			     "DROP TABLE IF EXISTS temp.trueup_import_deferred;", NULL, NULL, NULL);
	free(s);
}

/* Find or prepare the cached lookup statement of kind on table.column. */
static int db_import_cached(struct db_import *s, enum db_import_kind kind, const char *table,
			    const char *column, const char *key_column, sqlite3_stmt **st,
			    struct err *e)
{
	struct db_import_cached *c;
	struct sqlbuf b = { .len = 0 };
	size_t i;
	int rc;

	for (i = 0; i < s->ncache; i++) {
		c = &s->cache[i];
		if (c->kind == kind && strcmp(c->table, table) == 0 &&
		    strcmp(c->column, column) == 0 &&
		    strcmp(c->key_column, key_column ? key_column : "") == 0) {
			sqlite3_reset(c->st);
			sqlite3_clear_bindings(c->st);
			*st = c->st;
			return 0;
		}
	}
	if (!db_import_ident_ok(table))
		return db_import_bad_name(e, table);
	if (!db_import_ident_ok(column))
		return db_import_bad_name(e, column);
	if (kind == DBI_UNIQUE && !db_import_ident_ok(key_column))
		return db_import_bad_name(e, key_column);
	if (s->ncache == DB_IMPORT_CACHE)
		return err_set(e, EXIT_SOFTWARE, "import: too many lookups");
	if (kind == DBI_EXISTS)
		sb_add(&b, "SELECT 1 FROM \"%s\" WHERE \"%s\" = ?1 LIMIT 1", table, column);
	else
		sb_add(&b, "SELECT \"%s\" FROM \"%s\" WHERE \"%s\" = ?1 AND \"%s\" IS NOT ?2 "
		       "LIMIT 1", key_column, table, column, key_column);
	c = &s->cache[s->ncache];
	if ((rc = db_import_prepare_sb(s->db, &b, &c->st, e)) != 0)
		return rc;
	c->kind = kind;
	snprintf(c->table, sizeof c->table, "%s", table);
	snprintf(c->column, sizeof c->column, "%s", column);
	snprintf(c->key_column, sizeof c->key_column, "%s", key_column ? key_column : "");
	s->ncache++;
	*st = c->st;
	return 0;
}

int db_import_exists(struct db_import *s, const char *table, const char *column,
		     const char *value, int *found, struct err *e)
{
	sqlite3_stmt *st;
	int rc, step;

	*found = 0;
	if ((rc = db_import_cached(s, DBI_EXISTS, table, column, NULL, &st, e)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, value, -1, SQLITE_TRANSIENT);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		*found = 1;
	else if (step != SQLITE_DONE)
		rc = db_fail(s->db, e, table);
	sqlite3_reset(st);
	return rc;
}

int db_import_unique_clash(struct db_import *s, const char *table, const char *column,
			   const char *value, const char *key_column, const char *key_value,
			   char *other, size_t othersz, int *found, struct err *e)
{
	sqlite3_stmt *st;
	int rc, step;

	*found = 0;
	if ((rc = db_import_cached(s, DBI_UNIQUE, table, column, key_column, &st, e)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, value, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, key_value, -1, SQLITE_TRANSIENT);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);

		*found = 1;
		snprintf(other, othersz, "%s", t ? (const char *)t : "");
	} else if (step != SQLITE_DONE) {
		rc = db_fail(s->db, e, table);
	}
	sqlite3_reset(st);
	return rc;
}

int db_import_seen(struct db_import *s, const char *file, const char *key, long line,
		   long *first_line, struct err *e)
{
	int rc = 0;

	*first_line = 0;
	sqlite3_reset(s->seen_insert);
	sqlite3_bind_text(s->seen_insert, 1, file, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s->seen_insert, 2, key, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s->seen_insert, 3, line);
	if (sqlite3_step(s->seen_insert) != SQLITE_DONE)
		rc = db_fail(s->db, e, "import");
	sqlite3_reset(s->seen_insert);
	if (rc || sqlite3_changes(s->db->h) == 1)
		return rc;
	sqlite3_bind_text(s->seen_lookup, 1, file, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s->seen_lookup, 2, key, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(s->seen_lookup) == SQLITE_ROW)
		*first_line = (long)sqlite3_column_int64(s->seen_lookup, 0);
	else
		rc = db_fail(s->db, e, "import");
	sqlite3_reset(s->seen_lookup);
	return rc;
}

int db_import_defer(struct db_import *s, const char *file, long line, int column, int tag,
		    const char *value, struct err *e)
{
	int rc = 0;

	sqlite3_bind_text(s->defer_insert, 1, file, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s->defer_insert, 2, line);
	sqlite3_bind_int(s->defer_insert, 3, column);
	sqlite3_bind_int(s->defer_insert, 4, tag);
	sqlite3_bind_text(s->defer_insert, 5, value, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(s->defer_insert) != SQLITE_DONE)
		rc = db_fail(s->db, e, "import");
	sqlite3_reset(s->defer_insert);
	return rc;
}

int db_import_deferred_each(struct db_import *s,
			    int (*fn)(void *arg, const char *file, long line, int column,
				      int tag, const char *value),
			    void *arg, struct err *e)
{
	sqlite3_stmt *st;
	int rc, step;

	if ((rc = db_prepare(s->db, "SELECT file, line, col, tag, value FROM "
				    "temp.trueup_import_deferred ORDER BY seq", &st, e)) != 0)
		return rc;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		rc = fn(arg, (const char *)sqlite3_column_text(st, 0),
			(long)sqlite3_column_int64(st, 1), sqlite3_column_int(st, 2),
			sqlite3_column_int(st, 3), (const char *)sqlite3_column_text(st, 4));
		if (rc)
			break;
	}
	if (!rc && step != SQLITE_DONE)
		rc = db_fail(s->db, e, "import");
	sqlite3_finalize(st);
	return rc;
}

int db_import_upsert_prepare(struct db_import *s, const char *table,
			     const char *const *cols, size_t ncols, size_t nkeys,
			     struct db_import_upsert **out, struct err *e)
{
	struct db_import_upsert *u;
	struct sqlbuf b = { .len = 0 }, x = { .len = 0 };
	size_t i;
	int rc;

	*out = NULL;
	if (!db_import_ident_ok(table))
		return db_import_bad_name(e, table);
	if (nkeys == 0 || nkeys > ncols)
		return err_set(e, EXIT_SOFTWARE, "import: %s: bad key", table);
	for (i = 0; i < ncols; i++)
		if (!db_import_ident_ok(cols[i]))
			return db_import_bad_name(e, cols[i]);

	sb_add(&x, "SELECT 1 FROM \"%s\" WHERE ", table);
	for (i = 0; i < nkeys; i++)
		sb_add(&x, "%s\"%s\" = ?%zu", i ? " AND " : "", cols[i], i + 1);

	sb_add(&b, "INSERT INTO \"%s\" (", table);
	for (i = 0; i < ncols; i++)
		sb_add(&b, "%s\"%s\"", i ? ", " : "", cols[i]);
	sb_add(&b, ") VALUES (");
	for (i = 0; i < ncols; i++)
		sb_add(&b, "%s?%zu", i ? ", " : "", i + 1);
	sb_add(&b, ") ON CONFLICT (");
	for (i = 0; i < nkeys; i++)
		sb_add(&b, "%s\"%s\"", i ? ", " : "", cols[i]);
	if (nkeys == ncols) {
		sb_add(&b, ") DO NOTHING");
	} else {
		sb_add(&b, ") DO UPDATE SET ");
		for (i = nkeys; i < ncols; i++)
			sb_add(&b, "%s\"%s\" = excluded.\"%s\"", i > nkeys ? ", " : "",
			       cols[i], cols[i]);
		sb_add(&b, " WHERE ");
		for (i = nkeys; i < ncols; i++)
			sb_add(&b, "%s\"%s\".\"%s\" IS NOT excluded.\"%s\"", i > nkeys ? " OR " : "",
			       table, cols[i], cols[i]);
	}

	if (!(u = calloc(1, sizeof *u)))
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	u->s = s;
	u->ncols = ncols;
	u->nkeys = nkeys;
	snprintf(u->table, sizeof u->table, "%s", table);
	if ((rc = db_import_prepare_sb(s->db, &x, &u->exists, e)) != 0 ||
	    (rc = db_import_prepare_sb(s->db, &b, &u->upsert, e)) != 0) {
		db_import_upsert_free(u);
		return rc;
	}
	*out = u;
	return 0;
}

static void db_import_bind(sqlite3_stmt *st, int idx, const struct db_import_value *v)
{
	if (v->is_null)
		sqlite3_bind_null(st, idx);
	else if (v->is_int)
		sqlite3_bind_int64(st, idx, (sqlite3_int64)v->num);
	else
		sqlite3_bind_text(st, idx, v->text, -1, SQLITE_TRANSIENT);
}

int db_import_upsert_row(struct db_import_upsert *u, const struct db_import_value *vals,
			 enum db_import_outcome *outcome, struct err *e)
{
	struct db *db = u->s->db;
	int existed, step, rc = 0;
	size_t i;

	sqlite3_reset(u->exists);
	for (i = 0; i < u->nkeys; i++)
		db_import_bind(u->exists, (int)i + 1, &vals[i]);
	step = sqlite3_step(u->exists);
	sqlite3_reset(u->exists);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		return db_fail(db, e, u->table);
	existed = step == SQLITE_ROW;

	sqlite3_reset(u->upsert);
	for (i = 0; i < u->ncols; i++)
		db_import_bind(u->upsert, (int)i + 1, &vals[i]);
	if (sqlite3_step(u->upsert) != SQLITE_DONE)
		rc = db_fail(db, e, u->table);
	sqlite3_reset(u->upsert);
	if (rc)
		return rc;
	if (!existed)
		*outcome = DB_IMPORT_INSERTED;
	else if (sqlite3_changes(db->h) > 0)
		*outcome = DB_IMPORT_UPDATED;
	else
		*outcome = DB_IMPORT_UNCHANGED;
	return 0;
}

void db_import_upsert_free(struct db_import_upsert *u)
{
	if (!u)
		return;
	sqlite3_finalize(u->exists);
	sqlite3_finalize(u->upsert);
	free(u);
}
