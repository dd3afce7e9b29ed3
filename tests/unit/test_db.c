/*
 * test_db.c - the database layer: migrations (fresh, repeated, refusal of
 * a newer schema), open errors, transactions, constraints, run rows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "harness.h"

static char dir[64];
static char path[128];

static void fresh_path(const char *name)
{
	snprintf(path, sizeof path, "%s/%s", dir, name);
	unlink(path);
}

static int scalar_int(struct db *db, const char *sql)
{
	sqlite3_stmt *st;
	int v = -1;

	if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK)
		return -2;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void test_fresh_and_repeat(void)
{
	struct db *db = NULL;
	struct err e = { 0 };
	int v = 0;

	fresh_path("a.db");
	CHECK_INT(db_open(path, DB_OPEN_CREATE, &db, &e), 0);
	CHECK(db != NULL);
	if (!db)
		return;
	CHECK_INT(db->created, 1);
	CHECK_INT(db->opened_version, 0);
	CHECK_INT(db_schema_version(db, &v, &e), 0);
	CHECK_INT(v, db_latest_version());
	CHECK(db_latest_version() >= 1);
	CHECK_INT(scalar_int(db, "SELECT count(*) FROM sqlite_master WHERE name IN "
				 "('users','tenants','entitlements','step_progress','runs')"), 5);
	CHECK_INT(scalar_int(db, "PRAGMA foreign_keys"), 1);
	db_close(db);

	db = NULL;
	CHECK_INT(db_open(path, DB_OPEN_EXISTING, &db, &e), 0);
	if (!db)
		return;
	CHECK_INT(db->created, 0);
	CHECK_INT(db->opened_version, db_latest_version());
	CHECK_INT(scalar_int(db, "SELECT count(*) FROM sqlite_master WHERE name = 'users'"), 1);
	db_close(db);
}

static void test_wal_mode(void)
{
	struct db *db = NULL;
	struct err e = { 0 };
	sqlite3_stmt *st;

	fresh_path("wal.db");
	CHECK_INT(db_open(path, DB_OPEN_CREATE, &db, &e), 0);
	if (!db)
		return;
	CHECK_INT(sqlite3_prepare_v2(db->h, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
	CHECK_INT(sqlite3_step(st), SQLITE_ROW);
	CHECK_STR((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	db_close(db);
}

static void test_newer_schema_refused(void)
{
	struct db *db = NULL;
	struct err e = { 0 };
	char sql[64], want[256];
	sqlite3 *h;

	fresh_path("newer.db");
	CHECK_INT(db_open(path, DB_OPEN_CREATE, &db, &e), 0);
	db_close(db);
	CHECK_INT(sqlite3_open(path, &h), SQLITE_OK);
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d", db_latest_version() + 5);
	CHECK_INT(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	db = NULL;
	CHECK_INT(db_open(path, DB_OPEN_EXISTING, &db, &e), EXIT_CONFIG);
	CHECK(db == NULL);
	snprintf(want, sizeof want, "database '%s' has schema version %d, newer than this "
		 "trueup understands (%d); use a newer trueup", path, db_latest_version() + 5,
		 db_latest_version());
	CHECK_STR(e.msg, want);
}

static void test_open_errors(void)
{
	struct db *db = NULL;
	struct err e = { 0 };
	char want[256];
	FILE *f;

	fresh_path("missing.db");
	CHECK_INT(db_open(path, DB_OPEN_EXISTING, &db, &e), EXIT_NOINPUT);
	snprintf(want, sizeof want, "database '%s': No such file or directory "
		 "(run 'trueup init' first)", path);
	CHECK_STR(e.msg, want);
	CHECK(access(path, F_OK) != 0);  /* not created */

	fresh_path("garbage.db");
	f = fopen(path, "w");
	fputs("this is not a database, just some text that is long enough............"
	      "................................................................", f);
	fclose(f);
	CHECK_INT(db_open(path, DB_OPEN_EXISTING, &db, &e), EXIT_IOERR);
	CHECK_CONTAINS(e.msg, "file is not a database");

	CHECK_INT(db_open(dir, DB_OPEN_CREATE, &db, &e), EXIT_IOERR);
	CHECK_CONTAINS(e.msg, "not a regular file");
	CHECK_INT(db_open("", DB_OPEN_CREATE, &db, &e), EXIT_CONFIG);
	CHECK(db == NULL);
}

static void test_constraints(void)
{
	struct db *db = NULL;
	struct err e = { 0 };

	fresh_path("c.db");
	CHECK_INT(db_open(path, DB_OPEN_CREATE, &db, &e), 0);
	if (!db)
		return;
	CHECK_INT(db_exec(db, "INSERT INTO users(id,email) VALUES ('u1','a@b.c')", &e), 0);
	/* enumerations are CHECK constraints */
	CHECK_INT(db_exec(db, "INSERT INTO entitlements(id,product,status,source) "
			      "VALUES ('e1','lms','expired','stripe')", &e), EXIT_DATAERR);
	CHECK_CONTAINS(e.msg, "CHECK constraint failed");
	CHECK_INT(db_exec(db, "INSERT INTO entitlements(id,product,status,source) "
			      "VALUES ('e1','lms','active','gift')", &e), EXIT_DATAERR);
	CHECK_INT(db_exec(db, "INSERT INTO step_progress(id,enrolment_id,step_id,status) "
			      "VALUES ('p','x','y','booked')", &e), EXIT_DATAERR);
	CHECK_INT(db_exec(db, "INSERT INTO purchase_intents(id,status) VALUES ('pi','done')", &e),
		  EXIT_DATAERR);
	CHECK_INT(db_exec(db, "INSERT INTO entitlements(id,product,status,source,quantity_seats) "
			      "VALUES ('e2','lms','active','stripe',-1)", &e), EXIT_DATAERR);
	/* deferred foreign keys: checked at commit, which fails and rolls back */
	CHECK_INT(db_tx_begin(db, &e), 0);
	CHECK_INT(db_exec(db, "INSERT INTO seat_assignments(entitlement_id,user_id,assigned_at) "
			      "VALUES ('nope','u1','2026-01-01T00:00:00Z')", &e), 0);
	CHECK_INT(db_tx_commit(db, &e), EXIT_DATAERR);
	CHECK_CONTAINS(e.msg, "FOREIGN KEY constraint failed");
	CHECK_INT(scalar_int(db, "SELECT count(*) FROM seat_assignments"), 0);
	CHECK_INT(db->in_tx, 0);
	db_close(db);
}

static void test_rollback(void)
{
	struct db *db = NULL;
	struct err e = { 0 };

	fresh_path("r.db");
	CHECK_INT(db_open(path, DB_OPEN_CREATE, &db, &e), 0);
	if (!db)
		return;
	CHECK_INT(db_tx_begin(db, &e), 0);
	CHECK_INT(db_exec(db, "INSERT INTO users(id,email) VALUES ('u1','a@b.c')", &e), 0);
	db_tx_rollback(db);
	CHECK_INT(scalar_int(db, "SELECT count(*) FROM users"), 0);
	db_tx_rollback(db);   /* harmless without a transaction */
	CHECK_INT(db_tx_begin(db, &e), 0);
	CHECK_INT(db_exec(db, "INSERT INTO users(id,email) VALUES ('u1','a@b.c')", &e), 0);
	CHECK_INT(db_tx_commit(db, &e), 0);
	CHECK_INT(scalar_int(db, "SELECT count(*) FROM users"), 1);
	db_close(db);
}

static int count_runs(const struct db_run_row *r, void *arg)
{
	int *n = arg;

	if (*n == 0) {   /* newest first */
		CHECK_STR(r->command, "import");
		CHECK_STR(r->status, "failed");
		CHECK_INT(r->exit_code, 65);
		CHECK_STR(r->error, "users.csv:2:1: bad");
		CHECK_STR(r->counts, "{\"users\":1}");
		CHECK(r->ended_at[0] != '\0');
	} else {
		CHECK_STR(r->command, "init");
		CHECK_STR(r->status, "running");
		CHECK_INT(r->exit_code, -1);
		CHECK_STR(r->ended_at, "");
	}
	(*n)++;
	return 0;
}

static void test_runs(void)
{
	struct db *db = NULL;
	struct err e = { 0 };
	long long id1 = 0, id2 = 0;
	int n = 0;

	fresh_path("runs.db");
	CHECK_INT(db_open(path, DB_OPEN_CREATE, &db, &e), 0);
	if (!db)
		return;
	CHECK_INT(db_run_begin(db, "init", "[]", &id1, &e), 0);
	CHECK_INT(db_run_begin(db, "import", "[\"import\",\"x\"]", &id2, &e), 0);
	CHECK(id2 > id1);
	CHECK_INT(db_run_end(db, id2, "failed", 65, "{\"users\":1}", "users.csv:2:1: bad", &e), 0);
	CHECK_INT(db_runs_recent(db, 10, count_runs, &n, &e), 0);
	CHECK_INT(n, 2);
	CHECK_INT(db_run_end(db, id1, "bogus", 0, NULL, NULL, &e), EXIT_DATAERR);
	db_close(db);
}

int main(void)
{
	char tmpl[] = "/tmp/trueup-test-db.XXXXXX";

	if (!mkdtemp(tmpl)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(dir, sizeof dir, "%s", tmpl);
	RUN(test_fresh_and_repeat);
	RUN(test_wal_mode);
	RUN(test_newer_schema_refused);
	RUN(test_open_errors);
	RUN(test_constraints);
	RUN(test_rollback);
	RUN(test_runs);
	{
		char cmd[128];

		snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", dir);
	}
	return harness_done();
}
