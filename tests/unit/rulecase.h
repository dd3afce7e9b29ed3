/*
 * rulecase.h - shared by the tests that run the data-driven drift cases of
 * fixtures/rules/ (test_reconcile.c, test_repair.c): a fresh database in
 * tmpdir, the clean base platform and snapshot plus a case's own files,
 * the configuration, reconcile at the cases' time, and small queries.
 * Include after harness.h; the includer creates tmpdir (mkdtemp).
 */
#ifndef TRUEUP_RULECASE_H
#define TRUEUP_RULECASE_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "import.h"
#include "reconcile.h"

#define RULES_DIR "fixtures/rules"
#define NOW 1777680000LL   /* 2026-05-02T00:00:00Z */

static char tmpdir[64];
static char dbpath[128];

static inline char *slurp(const char *path)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	long n;

	if (!fp)
		return NULL;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	if (buf)
		buf[n] = '\0';
	fclose(fp);
	return buf;
}

static inline int is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static inline int exec_file(struct db *db, const char *path)
{
	char *sql = slurp(path), *msg = NULL;
	int rc;

	if (!sql)
		return 0;   /* optional */
	rc = sqlite3_exec(db->h, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK)
		printf("  %s: %s\n", path, msg ? msg : "?");
	sqlite3_free(msg);
	free(sql);
	return rc == SQLITE_OK ? 0 : -1;
}

static inline int exec_sql(struct db *db, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db->h, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK)
		printf("  sql: %s\n", msg ? msg : "?");
	sqlite3_free(msg);
	return rc == SQLITE_OK ? 0 : -1;
}

static inline struct db *fresh_db(void)
{
	struct db *db = NULL;
	struct err e = { 0 };

	snprintf(dbpath, sizeof dbpath, "%s/t.db", tmpdir);
	unlink(dbpath);
	if (db_open(dbpath, DB_OPEN_CREATE, &db, &e) != 0)
		printf("  db_open: %s\n", e.msg);
	return db;
}

static inline int import(struct db *db, const char *dir)
{
	struct import_result res;
	struct err e = { 0 };

	if (import_dir(db, dir, &res, &e) != 0) {
		printf("  import %s: %s\n", dir, e.msg);
		return -1;
	}
	return 0;
}

/* The base platform and snapshot, then the case's own files (dir may be NULL). */
static inline struct db *load_case(const char *dir)
{
	struct db *db = fresh_db();
	char path[512];

	if (!db || import(db, RULES_DIR "/base/platform") != 0 ||
	    exec_file(db, RULES_DIR "/base/stripe.sql") != 0)
		goto fail;
	if (dir) {
		snprintf(path, sizeof path, "%s/platform", dir);
		if (is_dir(path) && import(db, path) != 0)
			goto fail;
		snprintf(path, sizeof path, "%s/setup.sql", dir);
		if (exec_file(db, path) != 0)
			goto fail;
	}
	return db;
fail:
	db_close(db);
	return NULL;
}

static inline struct config *load_config(const char *path)
{
	struct config_problems probs = { 0 };
	struct config *cfg = NULL;
	struct err e = { 0 };

	if (config_load(path, &cfg, &probs, &e) != 0)
		printf("  config %s: %s\n", path, e.msg);
	config_problems_free(&probs);
	return cfg;
}

/* Run the rules in list ("" = all) at NOW. */
static inline int reconcile(struct db *db, struct config *cfg, const char *list,
		     struct reconcile_result *res, struct err *e)
{
	const char *codes[RECONCILE_NRULES];
	struct reconcile_opts o;
	size_t n = 0;

	memset(&o, 0, sizeof o);
	if (list && *list && reconcile_parse_rules(list, codes, &n, e) != 0)
		return e->code;
	o.rules = n ? codes : NULL;
	o.nrules = n;
	o.now = NOW;
	return reconcile_run(db, cfg, &o, res, e);
}

/* Open findings as "rule\tsubject\tseverity\taction\ttenant\tstripe\n" lines. */
static inline char *dump_open(struct db *db)
{
	sqlite3_stmt *st;
	size_t cap = 4096, len = 0;
	char *out = malloc(cap);

	out[0] = '\0';
	if (sqlite3_prepare_v2(db->h, "SELECT rule, subject, severity, action, "
			       "COALESCE(tenant_id, '-'), COALESCE(stripe_object, '-') FROM findings "
			       "WHERE status = 'open' ORDER BY rule, subject", -1, &st, NULL) != SQLITE_OK)
		return out;
	while (sqlite3_step(st) == SQLITE_ROW) {
		char line[1024];
		int n = snprintf(line, sizeof line, "%s\t%s\t%s\t%s\t%s\t%s\n",
				 sqlite3_column_text(st, 0), sqlite3_column_text(st, 1),
				 sqlite3_column_text(st, 2), sqlite3_column_text(st, 3),
				 sqlite3_column_text(st, 4), sqlite3_column_text(st, 5));

		if (len + (size_t)n + 1 > cap) {
			cap = (len + (size_t)n + 1) * 2;
			out = realloc(out, cap);
		}
		memcpy(out + len, line, (size_t)n + 1);
		len += (size_t)n;
	}
	sqlite3_finalize(st);
	return out;
}

static inline long long scalar(struct db *db, const char *sql)
{
	sqlite3_stmt *st;
	long long v = -1;

	if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK)
		return -2;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static inline const char *scalar_text(struct db *db, const char *sql)
{
	static char text_buf[1024];
	sqlite3_stmt *st;

	snprintf(text_buf, sizeof text_buf, "(none)");
	if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK)
		return "(error)";
	if (sqlite3_step(st) == SQLITE_ROW)
		snprintf(text_buf, sizeof text_buf, "%s", sqlite3_column_type(st, 0) == SQLITE_NULL
			 ? "(null)" : (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return text_buf;
}

/* No stored finding of any rule but G1 proposes changing an admin grant. */
static inline long long admin_grant_violations(struct db *db)
{
	return scalar(db, "SELECT COUNT(*) FROM findings f WHERE f.rule <> 'G1' "
		      "AND f.action NOT IN ('report', 'none') AND EXISTS (SELECT 1 FROM entitlements e "
		      "WHERE e.source = 'admin_grant' AND ((f.subject_type = 'entitlement' AND "
		      "e.id = f.subject_id) OR (f.action_table IN ('entitlements', 'seat_assignments') "
		      "AND e.id = f.action_row_id)))");
}

/* Read key=value lines of case.txt. */
static inline void case_get(const char *text, const char *key, char *out, size_t sz)
{
	const char *p = text;
	size_t k = strlen(key);

	out[0] = '\0';
	while (p && *p) {
		if (strncmp(p, key, k) == 0 && p[k] == '=') {
			size_t n = strcspn(p + k + 1, "\n");

			snprintf(out, sz, "%.*s", (int)n, p + k + 1);
			return;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
}

static inline int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The case directories fixtures/rules/<CODE>/<case>, sorted, into cases (strdup'ed). */
static inline size_t list_cases(char **cases, size_t max)
{
	DIR *top = opendir(RULES_DIR), *sub;
	struct dirent *d, *c;
	size_t n = 0;

	if (!top)
		return 0;
	while ((d = readdir(top))) {
		char p[300];

		if (d->d_name[0] == '.' || strcmp(d->d_name, "base") == 0)
			continue;
		snprintf(p, sizeof p, "%s/%s", RULES_DIR, d->d_name);
		if (!is_dir(p) || !(sub = opendir(p)))
			continue;
		while ((c = readdir(sub)) && n < max) {
			char q[600];

			snprintf(q, sizeof q, "%s/%s", p, c->d_name);
			if (c->d_name[0] != '.' && is_dir(q))
				cases[n++] = strdup(q);
		}
		closedir(sub);
	}
	closedir(top);
	qsort(cases, n, sizeof cases[0], cmp_str);
	return n;
}

/* Remove the database files and tmpdir (end of main). */
static inline void cleanup_tmpdir(void)
{
	char p[160];

	unlink(dbpath);
	snprintf(p, sizeof p, "%s/t.db-wal", tmpdir);
	unlink(p);
	snprintf(p, sizeof p, "%s/t.db-shm", tmpdir);
	unlink(p);
	rmdir(tmpdir);
}

#endif
