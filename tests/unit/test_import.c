/*
 * test_import.c - unit tests of `trueup import` (src/import.c,
 * src/db_import.c): the two good fixtures under fixtures/import/ with
 * their row counts, re-import reporting everything unchanged with the
 * database content identical, upsert semantics, timestamp normalisation,
 * and a table of bad inputs, each with its exact message, exit code and a
 * database left exactly as before (same content checksum).
 *
 * Run from the top of the repository (fixtures are found relative to it).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "harness.h"
#include "import.h"

static const char *const tables[] = {
	"users", "tenants", "memberships", "purchase_intents", "subscriptions",
	"entitlements", "seat_assignments", "courses", "events", "course_programs",
	"course_steps", "enrolments", "step_progress", "usage"
};
#define NTABLES (sizeof tables / sizeof tables[0])

static char top_tmp[256];

static void make_tmp(char *buf, size_t sz)
{
	snprintf(buf, sz, "%s/XXXXXX", top_tmp);
	if (!mkdtemp(buf))
		abort();
}

static void write_filen(const char *dir, const char *name, const char *data, size_t len)
{
	char path[512];
	FILE *fp;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	fp = fopen(path, "wb");
	if (!fp)
		abort();
	fwrite(data, 1, len, fp);
	fclose(fp);
}

static void write_file(const char *dir, const char *name, const char *data)
{
	write_filen(dir, name, data, strlen(data));
}

static struct db *open_db(const char *dir)
{
	char path[512];
	struct db *db = NULL;
	struct err e = { 0 };

	snprintf(path, sizeof path, "%s/test.db", dir);
	if (db_open(path, DB_OPEN_CREATE, &db, &e) != 0) {
		printf("db_open: %s\n", e.msg);
		abort();
	}
	return db;
}

/* FNV-1a over every platform table's rows (rowid order), types and values. */
static uint64_t checksum(struct db *db)
{
	uint64_t h = 1469598103934665603ULL;
	char sql[128];

	for (size_t t = 0; t < NTABLES; t++) {
		sqlite3_stmt *st;

		snprintf(sql, sizeof sql, "SELECT rowid, * FROM \"%s\" ORDER BY rowid", tables[t]);
		if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK)
			abort();
		for (const char *p = tables[t]; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ULL;
		while (sqlite3_step(st) == SQLITE_ROW) {
			for (int c = 0; c < sqlite3_column_count(st); c++) {
				const unsigned char *v = sqlite3_column_text(st, c);
				int n = sqlite3_column_bytes(st, c);

				h = (h ^ (unsigned)sqlite3_column_type(st, c)) * 1099511628211ULL;
				for (int i = 0; v && i < n; i++)
					h = (h ^ v[i]) * 1099511628211ULL;
				h = (h ^ 0xff) * 1099511628211ULL;
			}
		}
		sqlite3_finalize(st);
	}
	return h;
}

static long long count_rows(struct db *db, const char *table)
{
	char sql[128];
	sqlite3_stmt *st;
	long long n = -1;

	snprintf(sql, sizeof sql, "SELECT count(*) FROM \"%s\"", table);
	if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* First column of the first row of sql as text into buf ("NULL" if NULL). */
static const char *query1(struct db *db, const char *sql, char *buf, size_t sz)
{
	sqlite3_stmt *st;

	snprintf(buf, sz, "(no row)");
	if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK) {
		snprintf(buf, sz, "(bad sql)");
		return buf;
	}
	if (sqlite3_step(st) == SQLITE_ROW) {
		const unsigned char *v = sqlite3_column_text(st, 0);

		snprintf(buf, sz, "%s", v ? (const char *)v : "NULL");
	}
	sqlite3_finalize(st);
	return buf;
}

static const struct import_file_result *file_result(const struct import_result *r,
						     const char *file)
{
	for (int i = 0; i < IMPORT_NFILES; i++)
		if (strcmp(r->files[i].file, file) == 0)
			return &r->files[i];
	return NULL;
}

struct expect_count {
	const char *file;
	long long rows;
};

static const struct expect_count events_lms_counts[] = {
	{ "users.csv", 25 }, { "tenants.csv", 6 }, { "purchase_intents.csv", 9 },
	{ "memberships.csv", 15 }, { "subscriptions.csv", 5 }, { "entitlements.csv", 7 },
	{ "seat_assignments.csv", 11 }, { "courses.csv", 7 }, { "events.csv", 5 },
	{ "course_programs.csv", 2 }, { "course_steps.csv", 7 }, { "enrolments.csv", 6 },
	{ "step_progress.csv", 14 }, { "usage.csv", 9 },
};

static const struct expect_count classroom_counts[] = {
	{ "users.csv", 6 }, { "tenants.csv", 4 }, { "memberships.csv", 6 },
	{ "subscriptions.csv", 2 }, { "entitlements.csv", 2 }, { "courses.csv", 4 },
	{ "usage.csv", 4 },
};

static void check_fixture(const char *fixture, const struct expect_count *want, size_t nwant,
			  long long total)
{
	char dir[512], path[512], buf[128];
	struct import_result res;
	struct err e = { 0 };
	struct db *db;
	uint64_t sum1;

	make_tmp(dir, sizeof dir);
	db = open_db(dir);
	snprintf(path, sizeof path, "fixtures/import/%s", fixture);
	CHECK_INT(import_dir(db, path, &res, &e), 0);
	CHECK_STR(e.msg, "");
	CHECK_INT(res.nfiles_present, nwant);
	CHECK_INT(res.total.rows, total);
	CHECK_INT(res.total.inserted, total);
	for (size_t i = 0; i < nwant; i++) {
		const struct import_file_result *fr = file_result(&res, want[i].file);

		CHECK(fr && fr->present);
		if (!fr)
			continue;
		CHECK_INT(fr->n.rows, want[i].rows);
		CHECK_INT(fr->n.inserted, want[i].rows);
		CHECK_INT(fr->n.updated, 0);
		CHECK_INT(count_rows(db, fr->table), want[i].rows);
	}
	sum1 = checksum(db);
	/* second import: everything unchanged, content identical */
	CHECK_INT(import_dir(db, path, &res, &e), 0);
	CHECK_INT(res.total.rows, total);
	CHECK_INT(res.total.unchanged, total);
	CHECK_INT(res.total.inserted, 0);
	CHECK_INT(res.total.updated, 0);
	CHECK(checksum(db) == sum1);
	/* no helper table left behind, no transaction open */
	CHECK_STR(query1(db, "SELECT count(*) FROM sqlite_temp_master", buf, sizeof buf), "0");
	CHECK_INT(sqlite3_get_autocommit(db->h), 1);
	db_close(db);
}

static void test_fixture_events_lms(void)
{
	check_fixture("events_lms", events_lms_counts,
		      sizeof events_lms_counts / sizeof events_lms_counts[0], 128);
}

static void test_fixture_classroom_tiers(void)
{
	check_fixture("classroom_tiers", classroom_counts,
		      sizeof classroom_counts / sizeof classroom_counts[0], 28);
}

static void test_fixture_values(void)
{
	char dir[512], buf[256];
	struct import_result res;
	struct err e = { 0 };
	struct db *db;

	make_tmp(dir, sizeof dir);
	db = open_db(dir);
	CHECK_INT(import_dir(db, "fixtures/import/events_lms", &res, &e), 0);
	/* BOM stripped from the first header name, UTF-8 kept */
	CHECK_STR(query1(db, "SELECT name FROM users WHERE id = 'u_01'", buf, sizeof buf),
		  "Ana Müller");
	CHECK_STR(query1(db, "SELECT name FROM users WHERE id = 'u_04'", buf, sizeof buf),
		  "Okafor, Chidi");
	/* +02:00 and date-only normalised to UTC */
	CHECK_STR(query1(db, "SELECT created_at FROM users WHERE id = 'u_04'", buf, sizeof buf),
		  "2024-05-06T10:30:00Z");
	CHECK_STR(query1(db, "SELECT created_at FROM users WHERE id = 'u_05'", buf, sizeof buf),
		  "2024-06-01T00:00:00Z");
	CHECK_STR(query1(db, "SELECT title FROM courses WHERE id = 'c_02'", buf, sizeof buf),
		  "Event Safety:\nCrowd Management Basics");
	CHECK_STR(query1(db, "SELECT title FROM courses WHERE id = 'c_05'", buf, sizeof buf),
		  "Ikebana 201 – \"Seasonal\" Arrangements");
	CHECK_STR(query1(db, "SELECT role FROM memberships WHERE user_id = 'u_20'", buf,
			 sizeof buf), "member");     /* CRLF file: no stray CR */
	CHECK_STR(query1(db, "SELECT purchase_intent_id FROM tenants WHERE id = 't_att1'", buf,
			 sizeof buf), "NULL");
	CHECK_STR(query1(db, "SELECT typeof(quantity) || quantity FROM subscriptions "
			 "WHERE id = 's_04'", buf, sizeof buf), "integer10");
	db_close(db);
}

static void test_upsert_semantics(void)
{
	char dir[512], data[512], buf[256];
	struct import_result res;
	struct err e = { 0 };
	struct db *db;

	make_tmp(dir, sizeof dir);
	db = open_db(dir);
	make_tmp(data, sizeof data);
	write_file(data, "users.csv", "id,email,name,role\n"
		   "u_1,a@x.example,Alice,admin\nu_2,b@x.example,Bob,\n");
	CHECK_INT(import_dir(db, data, &res, &e), 0);
	CHECK_INT(res.files[0].n.inserted, 2);
	/* u_2 changes; u_1 is identical; name column absent -> kept; u_3 new */
	write_file(data, "users.csv", "id,email,role\n"
		   "u_1,a@x.example,admin\nu_2,b@x.example,owner\nu_3,c@x.example,\n");
	CHECK_INT(import_dir(db, data, &res, &e), 0);
	CHECK_INT(res.files[0].n.rows, 3);
	CHECK_INT(res.files[0].n.inserted, 1);
	CHECK_INT(res.files[0].n.updated, 1);
	CHECK_INT(res.files[0].n.unchanged, 1);
	CHECK_STR(query1(db, "SELECT name FROM users WHERE id = 'u_1'", buf, sizeof buf), "Alice");
	CHECK_STR(query1(db, "SELECT role FROM users WHERE id = 'u_2'", buf, sizeof buf), "owner");
	CHECK_STR(query1(db, "SELECT name FROM users WHERE id = 'u_3'", buf, sizeof buf), "NULL");
	/* a file without u_1..u_3: they are kept (no deletes) */
	write_file(data, "users.csv", "id,email\nu_4,d@x.example\n");
	CHECK_INT(import_dir(db, data, &res, &e), 0);
	CHECK_INT(count_rows(db, "users"), 4);
	/* "" is NULL, like an empty field; an empty cell clears a value */
	write_file(data, "users.csv", "id,email,name,role\nu_1,a@x.example,\"\",\n");
	CHECK_INT(import_dir(db, data, &res, &e), 0);
	CHECK_INT(res.files[0].n.updated, 1);
	CHECK_STR(query1(db, "SELECT coalesce(name, 'NULL') || '/' || coalesce(role, 'NULL') "
			 "FROM users WHERE id = 'u_1'", buf, sizeof buf), "NULL/NULL");
	/* header only: fine, zero rows */
	write_file(data, "users.csv", "id,email,name\n");
	CHECK_INT(import_dir(db, data, &res, &e), 0);
	CHECK_INT(res.files[0].present, 1);
	CHECK_INT(res.files[0].n.rows, 0);
	/* BOM + CRLF + quoted fields + key-only rows */
	write_file(data, "users.csv", "\xEF\xBB\xBFid,email,name\r\n"
		   "u_5,e@x.example,\"Ng, \"\"Eve\"\"\"\r\n");
	write_file(data, "tenants.csv", "id,owner_user_id\r\nt_1,u_5\r\n");
	write_file(data, "memberships.csv", "tenant_id,user_id\r\nt_1,u_5\r\n");
	CHECK_INT(import_dir(db, data, &res, &e), 0);
	CHECK_STR(e.msg, "");
	CHECK_STR(query1(db, "SELECT name FROM users WHERE id = 'u_5'", buf, sizeof buf),
		  "Ng, \"Eve\"");
	CHECK_INT(count_rows(db, "memberships"), 1);
	CHECK_INT(import_dir(db, data, &res, &e), 0);
	CHECK_INT(res.total.unchanged, 3);
	/* other files are ignored unless they end in .csv */
	write_file(data, "README.txt", "not csv");
	write_file(data, ".hidden.csv", "x");
	CHECK_INT(import_dir(db, data, &res, &e), 0);
	db_close(db);
}

static void test_tenant_intent_cycle(void)
{
	char dir[512], data[512];
	struct import_result res;
	struct err e = { 0 };
	struct db *db;

	make_tmp(dir, sizeof dir);
	db = open_db(dir);
	make_tmp(data, sizeof data);
	/* the tenant names its intent, the intent names its tenant: both new */
	write_file(data, "users.csv", "id,email\nu_1,a@x.example\n");
	write_file(data, "tenants.csv", "id,owner_user_id,purchase_intent_id\nt_1,u_1,pi_1\n");
	write_file(data, "purchase_intents.csv", "id,user_id,tenant_id,status\n"
		   "pi_1,u_1,t_1,provisioned\n");
	CHECK_INT(import_dir(db, data, &res, &e), 0);
	CHECK_STR(e.msg, "");
	CHECK_INT(count_rows(db, "tenants"), 1);
	db_close(db);
}

static void test_timestamps(void)
{
	static const struct { const char *in, *out; } ok[] = {
		{ "2024-02-29", "2024-02-29T00:00:00Z" },
		{ "2000-02-29T12:00Z", "2000-02-29T12:00:00Z" },
		{ "2024-02-29T23:30:00-01:00", "2024-03-01T00:30:00Z" },
		{ "2024-01-01T00:30+01:00", "2023-12-31T23:30:00Z" },
		{ "2024-06-30 12:00:00.123+02:00", "2024-06-30T10:00:00Z" },
		{ "2024-12-31T23:59:59", "2024-12-31T23:59:59Z" },
		{ "2024-12-31T23:59:59.999999Z", "2024-12-31T23:59:59Z" },
		{ "2024-12-31T22:00:00-05:30", "2025-01-01T03:30:00Z" },
	};
	char dir[512], data[512], csv[2048], buf[128], sql[128];
	struct import_result res;
	struct err e = { 0 };
	struct db *db;
	size_t len, i;

	make_tmp(dir, sizeof dir);
	db = open_db(dir);
	make_tmp(data, sizeof data);
	len = (size_t)snprintf(csv, sizeof csv, "id,email,created_at\n");
	for (i = 0; i < sizeof ok / sizeof ok[0]; i++)
		len += (size_t)snprintf(csv + len, sizeof csv - len, "u_%zu,u%zu@x.example,%s\n",
					i, i, ok[i].in);
	write_file(data, "users.csv", csv);
	CHECK_INT(import_dir(db, data, &res, &e), 0);
	CHECK_STR(e.msg, "");
	for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		snprintf(sql, sizeof sql, "SELECT created_at FROM users WHERE id = 'u_%zu'", i);
		CHECK_STR(query1(db, sql, buf, sizeof buf), ok[i].out);
	}
	db_close(db);
}

/* One bad input: files to write, the exact message and exit code. */
struct bad_case {
	const char *name;
	const char *file;
	const char *data;
	size_t len;                 /* 0: strlen(data) */
	const char *msg;
	int code;
	const char *file2, *data2;  /* an optional second file */
};

#define BAD(n, f, d, m) { n, f, d, 0, m, EXIT_DATAERR, NULL, NULL }

static const struct bad_case bad_cases[] = {
	BAD("unknown column", "tenants.csv",
	    "id,name,owner_user_id,plan,status,purchase_intent_id,created_at,planx\n",
	    "tenants.csv:1:8: unknown column \"planx\""),
	BAD("missing required column", "subscriptions.csv", "tenant_id,plan\nt_org1,lms\n",
	    "subscriptions.csv:1: missing required column \"id\""),
	BAD("missing required not-null column", "entitlements.csv", "id,product,status\n",
	    "entitlements.csv:1: missing required column \"source\""),
	BAD("duplicate header column", "users.csv", "id,email,name,email\n",
	    "users.csv:1:4: duplicate column \"email\" (first at column 2)"),
	BAD("empty column name", "users.csv", "id,,email\n", "users.csv:1:2: empty column name"),
	BAD("bad enum status", "entitlements.csv",
	    "id,product,status,source\nent_x1,lms,active,stripe\nent_x2,lms,expired,stripe\n",
	    "entitlements.csv:3:3: status \"expired\" is not one of active, revoked"),
	BAD("bad enum source", "entitlements.csv", "id,product,status,source\nent_x,lms,active,gift\n",
	    "entitlements.csv:2:4: source \"gift\" is not one of stripe, admin_grant, migration"),
	BAD("bad enum case", "step_progress.csv",
	    "id,enrolment_id,step_id,status\nsp_x,en_01,cs_sfz_1,booked\n",
	    "step_progress.csv:2:4: status \"booked\" is not one of UNBOOKED, BOOKED, COMPLETED, "
	    "MISSED, CANCELLED"),
	BAD("timestamp 2024-02-30", "users.csv", "id,email,created_at\nu_x,x@y.example,2024-02-30\n",
	    "users.csv:2:3: created_at \"2024-02-30\" is not an ISO 8601 timestamp"),
	BAD("timestamp 2023-02-29", "users.csv", "id,email,created_at\nu_x,x@y.example,2023-02-29\n",
	    "users.csv:2:3: created_at \"2023-02-29\" is not an ISO 8601 timestamp"),
	BAD("timestamp month 13", "users.csv",
	    "id,email,name,role,created_at\nu_a,a@y.example,A,,2024-01-01\n"
	    "u_b,b@y.example,B,,2024-13-01\n",
	    "users.csv:3:5: created_at \"2024-13-01\" is not an ISO 8601 timestamp"),
	BAD("timestamp 25:00", "users.csv",
	    "id,email,created_at\nu_x,x@y.example,2024-01-01T25:00\n",
	    "users.csv:2:3: created_at \"2024-01-01T25:00\" is not an ISO 8601 timestamp"),
	BAD("timestamp garbage", "subscriptions.csv", "id,current_period_end\ns_x,next tuesday\n",
	    "subscriptions.csv:2:2: current_period_end \"next tuesday\" is not an ISO 8601 "
	    "timestamp"),
	BAD("timestamp bad offset", "users.csv",
	    "id,email,created_at\nu_x,x@y.example,2024-01-01T10:00+24:00\n",
	    "users.csv:2:3: created_at \"2024-01-01T10:00+24:00\" is not an ISO 8601 timestamp"),
	BAD("timestamp trailing junk", "users.csv",
	    "id,email,created_at\nu_x,x@y.example,2024-01-01T10:00:00Zx\n",
	    "users.csv:2:3: created_at \"2024-01-01T10:00:00Zx\" is not an ISO 8601 timestamp"),
	BAD("negative integer", "subscriptions.csv", "id,quantity\ns_x,-1\n",
	    "subscriptions.csv:2:2: quantity \"-1\" must not be negative"),
	BAD("non-integer", "subscriptions.csv", "id,quantity\ns_x,3.5\n",
	    "subscriptions.csv:2:2: quantity \"3.5\" is not an integer"),
	BAD("integer with space", "usage.csv", "tenant_id,metric,value,measured_at\n"
	    "t_org1,audience, 12,2025-01-01\n",
	    "usage.csv:2:3: value \" 12\" is not an integer"),
	BAD("integer overflow", "entitlements.csv",
	    "id,product,status,source,quantity_seats\nent_x,lms,active,stripe,99999999999999999999\n",
	    "entitlements.csv:2:5: quantity_seats \"99999999999999999999\" is out of range"),
	BAD("empty required value", "users.csv", "id,email\nu_x,\n",
	    "users.csv:2:2: email must not be empty"),
	BAD("quoted empty required value", "users.csv", "id,email\nu_x,\"\"\n",
	    "users.csv:2:2: email must not be empty"),
	BAD("empty key", "course_steps.csv", "id,program_id,step_order\n,cp_sfz,1\n",
	    "course_steps.csv:2:1: id must not be empty"),
	BAD("bad email", "users.csv", "id,email\nu_x,bob\n",
	    "users.csv:2:2: email \"bob\" is not an email address"),
	BAD("bad email two at", "users.csv", "id,email\nu_x,a@b@c.example\n",
	    "users.csv:2:2: email \"a@b@c.example\" is not an email address"),
	BAD("bad id", "users.csv", "id,email\nu x,x@y.example\n",
	    "users.csv:2:1: id \"u x\" is not a valid id"),
	BAD("duplicate id", "users.csv",
	    "id,email\nu_1x,a@x.example\nu_2x,b@x.example\nu_3,c@x.example\nu_4x,d@x.example\n"
	    "u_5x,e@x.example\nu_6x,f@x.example\nu_7x,g@x.example\nu_3,h@x.example\n",
	    "users.csv:9:1: duplicate id \"u_3\" (first on line 4)"),
	BAD("duplicate composite key", "memberships.csv",
	    "role,tenant_id,user_id\nowner,t_org1,u_01\nmember,t_org1,u_01\n",
	    "memberships.csv:3:2: duplicate tenant_id \"t_org1\", user_id \"u_01\" (first on line 2)"),
	BAD("duplicate key after timestamp normalisation", "seat_assignments.csv",
	    "entitlement_id,user_id,assigned_at\nent_03,u_12,2025-01-01\n"
	    "ent_03,u_12,2025-01-01T01:00+01:00\n",
	    "seat_assignments.csv:3:1: duplicate entitlement_id \"ent_03\", user_id \"u_12\", "
	    "assigned_at \"2025-01-01T00:00:00Z\" (first on line 2)"),
	BAD("seat -> missing entitlement", "seat_assignments.csv",
	    "entitlement_id,user_id,assigned_at\nent_03,u_12,2025-01-01\nent_9,u_12,2025-01-01\n",
	    "seat_assignments.csv:3:1: entitlement \"ent_9\" does not exist"),
	BAD("step -> missing program", "course_steps.csv",
	    "id,program_id,step_order\ncs_x,cp_nope,1\n",
	    "course_steps.csv:2:2: program \"cp_nope\" does not exist"),
	BAD("progress -> missing enrolment", "step_progress.csv",
	    "id,enrolment_id,step_id,status\nsp_x,en_99,cs_sfz_1,BOOKED\n",
	    "step_progress.csv:2:2: enrolment \"en_99\" does not exist"),
	BAD("membership -> missing tenant", "memberships.csv", "tenant_id,user_id\nt_nope,u_01\n",
	    "memberships.csv:2:1: tenant \"t_nope\" does not exist"),
	BAD("course -> missing owner", "courses.csv", "id,owner_user_id\nc_x,u_404\n",
	    "courses.csv:2:2: user \"u_404\" does not exist"),
	BAD("tenant -> missing purchase intent (deferred)", "tenants.csv",
	    "id,purchase_intent_id\nt_ok,pi_01\nt_new,pi_nope\n",
	    "tenants.csv:3:2: purchase intent \"pi_nope\" does not exist"),
	BAD("unique code clash", "course_programs.csv", "id,code\ncp_new,SFZ\n",
	    "course_programs.csv:2:2: duplicate code \"SFZ\" (already used by id \"cp_sfz\")"),
	BAD("invalid UTF-8", "users.csv", "id,email,name\nu_x,x@y.example,Bad\xff name\n",
	    "users.csv:2:3: invalid UTF-8 (byte 0xff)"),
	BAD("overlong UTF-8", "users.csv", "id,email,name\nu_x,x@y.example,\xc0\xaf\n",
	    "users.csv:2:3: invalid UTF-8 (byte 0xc0)"),
	BAD("surrogate UTF-8", "users.csv", "id,email,name\nu_x,x@y.example,\xed\xa0\x80\n",
	    "users.csv:2:3: invalid UTF-8 (byte 0xed)"),
	BAD("UTF-8 above U+10FFFF", "users.csv",
	    "id,email,name\nu_x,x@y.example,\xf4\x90\x80\x80\n",
	    "users.csv:2:3: invalid UTF-8 (byte 0xf4)"),
	{ "NUL byte", "users.csv", "id,email,name\nu_x,x@y.example,a\0b\n", 33,
	  "users.csv:2:3: NUL byte in field", EXIT_DATAERR, NULL, NULL },
	BAD("unterminated quote", "users.csv", "id,email,name\nu_x,x@y.example,\"Open\nstill open\n",
	    "users.csv:2:3: unterminated quoted field"),
	BAD("stray quote in unquoted field", "users.csv",
	    "id,email,name\nu_x,x@y.example,Bob \"the\" Builder\n",
	    "users.csv:2:3: quote in unquoted field"),
	BAD("junk after closing quote", "users.csv", "id,email,name\nu_x,x@y.example,\"Bob\"x\n",
	    "users.csv:2:3: unexpected character after closing quote"),
	BAD("too many fields", "users.csv", "id,email\nu_x,x@y.example,extra\n",
	    "users.csv:2:3: too many fields (3, expected 2)"),
	BAD("too few fields", "users.csv", "id,email,name\nu_x,x@y.example\n",
	    "users.csv:2:3: too few fields (2, expected 3)"),
	BAD("empty file", "users.csv", "", "users.csv: empty file (no header row)"),
	BAD("BOM only", "users.csv", "\xEF\xBB\xBF", "users.csv: empty file (no header row)"),
	BAD("embedded newline shifts lines", "courses.csv",
	    "id,title,created_at\nc_x,\"Two\nlines\",2025-01-01\nc_y,ok,2025-13-01\n",
	    "courses.csv:4:3: created_at \"2025-13-01\" is not an ISO 8601 timestamp"),
	BAD("error in a multi-line record names its first line", "courses.csv",
	    "id,title,created_at\nc_x,\"Two\nlines\nthree\",never\n",
	    "courses.csv:2:3: created_at \"never\" is not an ISO 8601 timestamp"),
	BAD("CRLF file with an error", "memberships.csv",
	    "tenant_id,user_id,role\r\nt_org1,u_02,member\r\nt_org1,u_x9,member\r\n",
	    "memberships.csv:3:2: user \"u_x9\" does not exist"),
	{ "unknown file", "userz.csv", "id,email\n",  0,
	  "userz.csv: not a file of the import contract (expected users.csv, tenants.csv, "
	  "purchase_intents.csv, memberships.csv, subscriptions.csv, entitlements.csv, "
	  "seat_assignments.csv, courses.csv, events.csv, course_programs.csv, course_steps.csv, "
	  "enrolments.csv, step_progress.csv, usage.csv)", EXIT_DATAERR, NULL, NULL },
	{ "good first file, bad second file", "users.csv", "id,email\nu_new,new@x.example\n", 0,
	  "events.csv:2:3: user \"u_nobody\" does not exist", EXIT_DATAERR,
	  "events.csv", "id,organization_id,owner_user_id\ne_new,t_org1,u_nobody\n" },
	{ "update then fail", "users.csv", "id,email,name\nu_01,changed@x.example,Changed\n", 0,
	  "usage.csv:2:3: value \"-5\" must not be negative", EXIT_DATAERR,
	  "usage.csv", "tenant_id,metric,value,measured_at\nt_org1,audience,-5,2025-02-01\n" },
};

static void test_bad_inputs(void)
{
	char dir[512];
	struct import_result res;
	struct err e = { 0 };
	struct db *db;
	uint64_t before;

	make_tmp(dir, sizeof dir);
	db = open_db(dir);
	if (import_dir(db, "fixtures/import/events_lms", &res, &e) != 0) {
		printf("  base import failed: %s\n", e.msg);
		CHECK(0);
		db_close(db);
		return;
	}
	before = checksum(db);
	for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
		const struct bad_case *c = &bad_cases[i];
		char data[512];
		int rc;

		make_tmp(data, sizeof data);
		write_filen(data, c->file, c->data, c->len ? c->len : strlen(c->data));
		if (c->file2)
			write_file(data, c->file2, c->data2);
		err_clear(&e);
		rc = import_dir(db, data, &res, &e);
		if (rc != c->code || strcmp(e.msg, c->msg) != 0)
			printf("  case \"%s\":\n", c->name);
		CHECK_INT(rc, c->code);
		CHECK_STR(e.msg, c->msg);
		CHECK(checksum(db) == before);
		CHECK_INT(sqlite3_get_autocommit(db->h), 1);
	}
	printf("  %zu bad inputs checked\n", sizeof bad_cases / sizeof bad_cases[0]);
	db_close(db);
}

static void test_directory_errors(void)
{
	char dir[256], data[256], file[300], msg[ERR_MSG_MAX];
	struct import_result res;
	struct err e = { 0 };
	struct db *db;
	uint64_t before;

	make_tmp(dir, sizeof dir);
	db = open_db(dir);
	before = checksum(db);
	CHECK_INT(import_dir(db, "/nonexistent/trueup-import", &res, &e), EXIT_NOINPUT);
	CHECK_STR(e.msg, "directory \"/nonexistent/trueup-import\": No such file or directory");
	make_tmp(data, sizeof data);
	write_file(data, "users.txt", "id,email\n");
	snprintf(file, sizeof file, "%s/users.txt", data);
	CHECK_INT(import_dir(db, file, &res, &e), EXIT_NOINPUT);
	snprintf(msg, sizeof msg, "\"%s\" is not a directory", file);
	CHECK_STR(e.msg, msg);
	CHECK_INT(import_dir(db, data, &res, &e), EXIT_NOINPUT);
	CHECK_CONTAINS(e.msg, "no platform files in \"");
	CHECK_CONTAINS(e.msg, "(expected users.csv, tenants.csv, ");
	CHECK_INT(res.nfiles_present, 0);
	/* a directory named like a contract file */
	snprintf(file, sizeof file, "%s/users.csv", data);
	mkdir(file, 0700);
	CHECK_INT(import_dir(db, data, &res, &e), EXIT_NOINPUT);
	CHECK_STR(e.msg, "users.csv: not a regular file");
	CHECK(checksum(db) == before);
	db_close(db);
}

static void test_file_names(void)
{
	CHECK_STR(import_file_name(0), "users.csv");
	CHECK_STR(import_file_name(IMPORT_NFILES - 1), "usage.csv");
	CHECK(import_file_name(IMPORT_NFILES) == NULL);
	CHECK(import_file_name(-1) == NULL);
}

static void rm_rf(const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	char sub[1024];

	if (lstat(path, &st) != 0)
		return;
	if (S_ISDIR(st.st_mode) && (d = opendir(path))) {
		while ((de = readdir(d)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
				snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
				rm_rf(sub);
			}
		closedir(d);
		rmdir(path);
	} else {
		unlink(path);
	}
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	int rc;

	snprintf(top_tmp, sizeof top_tmp, "%s/trueup-test-import-XXXXXX", tmp ? tmp : "/tmp");
	if (!mkdtemp(top_tmp))
		return 2;
	RUN(test_file_names);
	RUN(test_fixture_events_lms);
	RUN(test_fixture_classroom_tiers);
	RUN(test_fixture_values);
	RUN(test_upsert_semantics);
	RUN(test_tenant_intent_cycle);
	RUN(test_timestamps);
	RUN(test_bad_inputs);
	RUN(test_directory_errors);
	rc = harness_done();
	rm_rf(top_tmp);
	return rc;
}
