/*
 * report.c - the report runner: definitions, parameters, atomic output and
 * the manifest; see report.h.
 *
 * No SQL here: the queries are the definition files, run through
 * db_report.h.  The order of a run:
 *   1. names, parameters and the snapshot check (nothing touched yet);
 *   2. the output directory <out>/<date> (created), stale temporaries of
 *      dead runs removed;
 *   3. one read transaction: the context, the preludes, every chosen
 *      query prepared (a broken definition stops the run before any file
 *      is written), then each file written to its temporary name;
 *   4. all temporaries renamed to their names, the directory fsynced;
 *   5. manifest.json rewritten (entries of files this run did not write
 *      are kept when the file is still there) the same way.
 * TRUEUP_TEST_REPORT_STALL=NAME (tests only) makes the run stop for 30 s
 * after the first data row of NAME reached its temporary file, so a test
 * can kill it there.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "csv.h"
#include "db_report.h"
#include "db_snapshot.h"
#include "reconcile.h"
#include "report.h"
#include "report_html.h"
#include "sha256.h"
#include "sql_embed.h"

extern const struct embedded_sql embedded_rules[];
extern const int embedded_rules_count;

#define REPORT_FILE_MAX (1024 * 1024)
#define SUMMARY "summary"

/* --- definitions ------------------------------------------------------------ */

static int name_ok(const char *s, size_t n)
{
	size_t i;

	if (n < 1 || n > REPORT_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) && s[i] != '_' &&
		    s[i] != '-')
			return 0;
	return 1;
}

static int read_file(const char *path, char **out, struct err *e)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	size_t n;

	*out = NULL;
	if (!fp)
		return err_set(e, EXIT_CONFIG, "%s", strerror(errno));
	if (!(buf = malloc(REPORT_FILE_MAX + 1))) {
		fclose(fp);
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	}
	n = fread(buf, 1, REPORT_FILE_MAX + 1, fp);
	if (ferror(fp) || n > REPORT_FILE_MAX) {
		int bad = ferror(fp);

		fclose(fp);
		free(buf);
		return err_set(e, EXIT_CONFIG, bad ? "read error" : "larger than 1 MiB");
	}
	fclose(fp);
	buf[n] = '\0';
	if (strlen(buf) != n) {
		free(buf);
		return err_set(e, EXIT_CONFIG, "holds a NUL byte");
	}
	*out = buf;
	return 0;
}

static char *trimmed(const char *s, size_t n)
{
	char *d;

	while (n && isspace((unsigned char)*s))
		s++, n--;
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	if (!(d = malloc(n + 1)))
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

/* Parse the leading comment lines of def->sql: description and numeric list. */
static int parse_meta(struct report_def *def, struct err *e)
{
	const char *p = def->sql;
	size_t nnum = 0;

	while (*p) {
		const char *eol = strchr(p, '\n'), *text;
		size_t len;

		if (!eol)
			eol = p + strlen(p);
		while (p < eol && (*p == ' ' || *p == '\t'))
			p++;
		if (eol - p < 2 || p[0] != '-' || p[1] != '-')
			break;
		text = p + 2;
		len = (size_t)(eol - text);
		if (len >= 8 && strncmp(text, " numeric:", 9) == 0) {
			const char *q = text + 9, *end = eol;

			while (q < end) {
				const char *c = memchr(q, ',', (size_t)(end - q));
				char **grown;

				if (!c)
					c = end;
				grown = realloc(def->numeric, (nnum + 2) * sizeof *grown);
				if (!grown)
					return err_set(e, EXIT_SOFTWARE, "out of memory");
				def->numeric = grown;
				if (!(def->numeric[nnum] = trimmed(q, (size_t)(c - q))))
					return err_set(e, EXIT_SOFTWARE, "out of memory");
				if (def->numeric[nnum][0])
					nnum++;
				else
					free(def->numeric[nnum]);
				def->numeric[nnum] = NULL;
				q = c + 1;
			}
		} else if (!def->description) {
			if (!(def->description = trimmed(text, len)))
				return err_set(e, EXIT_SOFTWARE, "out of memory");
		}
		p = *eol ? eol + 1 : eol;
	}
	return 0;
}

static void def_release(struct report_def *d)
{
	char **n;

	free(d->path);
	free(d->sql);
	free(d->description);
	for (n = d->numeric; n && *n; n++)
		free(*n);
	free(d->numeric);
}

void report_defs_free(struct report_defs *defs)
{
	size_t i;

	if (!defs)
		return;
	for (i = 0; i < defs->count; i++)
		def_release(&defs->items[i]);
	free(defs->items);
	defs->items = NULL;
	defs->count = 0;
}

static int def_cmp(const void *a, const void *b)
{
	const struct report_def *x = a, *y = b;

	if (x->prelude != y->prelude)
		return x->prelude - y->prelude;
	return strcmp(x->name, y->name);
}

/* A problem with file path: to probs, or returned. */
static int def_problem(struct config_problems *probs, const char *path, struct err *e,
		       const char *why)
{
	if (probs) {
		if (config_problem_add(probs, path, "", "%s", why) != 0)
			return err_set(e, EXIT_SOFTWARE, "out of memory");
		return 0;
	}
	return err_set(e, EXIT_CONFIG, "report definition \"%s\": %s", path, why);
}

static int load_one(const char *dir, const char *fname, struct report_defs *defs,
		    struct config_problems *probs, struct err *e)
{
	size_t n = strlen(fname), base = n - 4;
	int prelude = fname[0] == '_';
	struct report_def d, *grown;
	struct err fe = { 0 };
	int rc;

	memset(&d, 0, sizeof d);
	if (!(d.path = malloc(strlen(dir) + n + 2)))
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	snprintf(d.path, strlen(dir) + n + 2, "%s/%s", dir, fname);
	if (!name_ok(fname + prelude, base - (size_t)prelude) ||
	    (!prelude && strcmp(fname, SUMMARY ".sql") == 0)) {
		rc = def_problem(probs, d.path, e, "a report name is 1-64 characters of a-z 0-9 _ - "
				 "(\"summary\" is taken by summary.html)");
		free(d.path);
		return rc;
	}
	d.prelude = prelude;
	snprintf(d.name, sizeof d.name, "%.*s", (int)(base - (size_t)prelude), fname + prelude);
	if ((rc = read_file(d.path, &d.sql, &fe)) != 0 || (rc = parse_meta(&d, &fe)) != 0) {
		if (rc != EXIT_SOFTWARE)
			rc = def_problem(probs, d.path, e, fe.msg);
		else
			err_set(e, rc, "%s", fe.msg);
		def_release(&d);
		return rc;
	}
	if (!(grown = realloc(defs->items, (defs->count + 1) * sizeof *grown))) {
		def_release(&d);
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	}
	defs->items = grown;
	defs->items[defs->count++] = d;
	return 0;
}

int report_defs_load(const char *dir, struct report_defs *defs, struct config_problems *probs,
		     struct err *e)
{
	struct dirent *de;
	DIR *d;
	int rc = 0;

	memset(defs, 0, sizeof *defs);
	if (!dir || !(d = opendir(dir)))
		return err_set(e, EXIT_CONFIG, "report definitions \"%s\": %s", dir ? dir : "",
			       dir ? strerror(errno) : "not configured");
	while (rc == 0 && (de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);

		if (n > 4 && strcmp(de->d_name + n - 4, ".sql") == 0 && de->d_name[0] != '.')
			rc = load_one(dir, de->d_name, defs, probs, e);
	}
	closedir(d);
	if (rc != 0) {
		report_defs_free(defs);
		return rc;
	}
	qsort(defs->items, defs->count, sizeof *defs->items, def_cmp);
	return 0;
}

static const struct report_def *find_def(const struct report_defs *defs, const char *name)
{
	size_t i;

	for (i = 0; i < defs->count; i++)
		if (!defs->items[i].prelude && strcmp(defs->items[i].name, name) == 0)
			return &defs->items[i];
	return NULL;
}

/* --- the context -------------------------------------------------------------- */

/* strcasestr without _GNU_SOURCE. */
static const char *find_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return hay;
	return NULL;
}

static const char *const link_tables[] = { "item_target", "sub_state", "session_state" };

/* 1 when sql mentions word as a whole identifier (case-insensitive). */
static int mentions(const char *sql, const char *word)
{
	size_t n = strlen(word);
	const char *p = sql;

	while ((p = find_ci(p, word)) != NULL) {
		int before = p > sql && (isalnum((unsigned char)p[-1]) || p[-1] == '_');
		int after = isalnum((unsigned char)p[n]) || p[n] == '_';

		if (!before && !after)
			return 1;
		p += n;
	}
	return 0;
}

static int mentions_link(const char *sql)
{
	size_t i;

	for (i = 0; i < sizeof link_tables / sizeof link_tables[0]; i++)
		if (mentions(sql, link_tables[i]))
			return 1;
	return 0;
}

/*
 * Does sql need the link prelude, directly or through the TEMP objects a
 * prelude creates ("CREATE TEMP VIEW|TABLE [IF NOT EXISTS] [temp.]name")?
 */
static int needs_link(const struct report_defs *defs, const char *sql)
{
	size_t i;

	if (mentions_link(sql))
		return 1;
	for (i = 0; i < defs->count; i++) {
		const struct report_def *p = &defs->items[i];
		const char *s = p->sql;

		if (!p->prelude || !mentions_link(p->sql))
			continue;
		while ((s = find_ci(s, "create temp")) != NULL) {
			char name[128];
			size_t k = 0;

			s += 11;
			s += strncasecmp(s, "orary", 5) == 0 ? 5 : 0;
			while (isspace((unsigned char)*s))
				s++;
			while (isalpha((unsigned char)*s))
				s++;          /* VIEW or TABLE */
			while (isspace((unsigned char)*s))
				s++;
			if (strncasecmp(s, "if not exists", 13) == 0)
				for (s += 13; isspace((unsigned char)*s); s++)
					;
			if (strncasecmp(s, "temp.", 5) == 0)
				s += 5;
			while (k + 1 < sizeof name && (isalnum((unsigned char)*s) || *s == '_'))
				name[k++] = *s++;
			name[k] = '\0';
			if (k && mentions(sql, name))
				return 1;
		}
	}
	return 0;
}

static int run_link(struct db *db, struct err *e)
{
	int k, rc;

	for (k = 0; k < embedded_rules_count; k++) {
		const struct embedded_sql *f = &embedded_rules[k];

		if (f->name && f->name[0] == '_' &&
		    (rc = db_report_exec_script(db, f->name, f->text, e)) != 0)
			return rc;
	}
	return 0;
}

/* Begin the context: rules, catalogue, params, the link prelude if needed, preludes. */
static int context_begin(struct db *db, const struct config *cfg, const struct report_defs *defs,
			 const struct db_report_params *p, int link, struct err *e)
{
	struct db_report_rule rules[RECONCILE_NRULES];
	size_t i;
	int rc;

	for (i = 0; i < RECONCILE_NRULES; i++) {
		rules[i].code = reconcile_rule_code(i);
		rules[i].name = reconcile_rule_name(rules[i].code);
	}
	if ((rc = db_report_begin(db, cfg, rules, RECONCILE_NRULES, p, e)) != 0)
		return rc;
	if (link && (rc = run_link(db, e)) != 0)
		return rc;
	for (i = 0; i < defs->count; i++)
		if (defs->items[i].prelude &&
		    (rc = db_report_exec_script(db, defs->items[i].path, defs->items[i].sql, e)) != 0)
			return rc;
	return 0;
}

/* Check the numeric list of def against the columns of q. */
static int numeric_problem(const struct report_def *def, const struct db_report_query *q,
			   char *why, size_t sz)
{
	char **n;
	size_t i;

	for (n = def->numeric; n && *n; n++) {
		for (i = 0; i < db_report_ncols(q) && strcmp(db_report_col_name(q, i), *n) != 0; i++)
			;
		if (i == db_report_ncols(q)) {
			snprintf(why, sz, "numeric column \"%s\" is not a column of the query", *n);
			return 1;
		}
	}
	return 0;
}

/* --- config check ---------------------------------------------------------------- */

int report_check(const struct config *cfg, struct config_problems *probs,
		 struct config_problems *warnings, char *summary, size_t summarysz, struct err *e)
{
	struct report_defs defs;
	struct db_report_params p;
	struct db *db = NULL;
	struct tz tz;
	char dir[] = "/tmp/trueup-check.XXXXXX", path[64], why[256];
	size_t i, nreports = 0;
	int rc;

	if ((rc = report_defs_load(cfg->reports_dir, &defs, probs, e)) != 0) {
		struct stat st;
		int missing = cfg->reports_dir && stat(cfg->reports_dir, &st) != 0 && errno == ENOENT;

		if (rc == EXIT_SOFTWARE)
			return rc;
		if (config_problem_add(missing && warnings ? warnings : probs,
				       cfg->reports_dir ? cfg->reports_dir : "(reports)", "", "%s%s",
				       e->msg, missing ? " ('trueup report' fails until it exists)" : "")
		    != 0)
			return err_set(e, EXIT_SOFTWARE, "out of memory");
		err_clear(e);
		return 0;
	}
	memset(&p, 0, sizeof p);
	tz_init_utc(&tz);
	p.tz = &tz;
	p.now = (long long)time(NULL);
	snprintf(p.run_date, sizeof p.run_date, "1970-01-01");
	if (!mkdtemp(dir)) {
		report_defs_free(&defs);
		return err_set(e, EXIT_CANTCREAT, "report check: temporary directory: %s",
			       strerror(errno));
	}
	snprintf(path, sizeof path, "%s/check.db", dir);
	if ((rc = db_open(path, DB_OPEN_CREATE, &db, e)) != 0)
		goto out;
	/* a prelude's failure is a problem of its file */
	if ((rc = context_begin(db, cfg, &defs, &p, 1, e)) != 0) {
		rc = rc == EXIT_CONFIG ? (config_problem_add(probs, "(report preludes)", "", "%s",
							     e->msg) ? EXIT_SOFTWARE : 0) : rc;
		err_clear(e);
		goto out;
	}
	for (i = 0; i < defs.count; i++) {
		const struct report_def *d = &defs.items[i];
		struct db_report_query *q = NULL;
		struct err qe = { 0 };

		if (d->prelude)
			continue;
		nreports++;
		if (db_report_prepare(db, d->name, d->sql, &q, &qe) != 0) {
			if (config_problem_add(probs, d->path, "", "%s", qe.msg) != 0)
				rc = EXIT_SOFTWARE;
		} else if (numeric_problem(d, q, why, sizeof why) &&
			   config_problem_add(probs, d->path, "", "%s", why) != 0) {
			rc = EXIT_SOFTWARE;
		}
		db_report_query_free(q);
	}
	snprintf(summary, summarysz, "%zu report%s", nreports, nreports == 1 ? "" : "s");
out:
	db_report_end(db);
	db_close(db);
	unlink(path);
	snprintf(path, sizeof path, "%s/check.db-wal", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/check.db-shm", dir);
	unlink(path);
	rmdir(dir);
	report_defs_free(&defs);
	if (rc == EXIT_SOFTWARE)
		return err_set(e, rc, "out of memory");
	return rc;
}

/* --- parameters ------------------------------------------------------------------ */

/* "YYYY-MM-DD" (midnight in tz) or ISO 8601 with time and offset. */
static int parse_bound(const char *opt, const char *s, const struct tz *tz, long long *out,
		       struct err *e)
{
	int y, m, d, n = 0;
	int64_t t;

	if (strlen(s) == 10 && sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) == 3 && n == 10) {
		long long l;

		if (m < 1 || m > 12 || d < 1 || d > tz_days_in_month(y, m))
			return err_set(e, EXIT_USAGE, "%s: \"%s\" is not a date", opt, s);
		l = (long long)tz_days_from_civil(y, m, d) * 86400;
		t = l - tz_utoff_at(tz, l);
		*out = l - tz_utoff_at(tz, t);
		return 0;
	}
	if (tz_parse_iso(s, &t, e) != 0)
		return err_prefix(e, "%s (YYYY-MM-DD or ISO 8601)", opt);
	*out = (long long)t;
	return 0;
}

static int make_params(const struct config *cfg, const struct report_opts *o, struct tz *tz,
		       struct db_report_params *p, struct report_result *res, struct err *e)
{
	const char *zone = o->timezone ? o->timezone
			   : cfg->report_timezone ? cfg->report_timezone
			   : cfg->timezone ? cfg->timezone : "UTC";
	struct tz_civil c;
	int rc;

	memset(p, 0, sizeof *p);
	if ((rc = tz_load(tz, zone, e)) != 0)
		return err_prefix(e, "report: timezone");
	p->tz = tz;
	p->now = o->now > 0 ? o->now : (long long)time(NULL);
	p->period_day = o->period >= 0 ? o->period : cfg->report_period_day;
	if (o->from && (rc = parse_bound("--from", o->from, tz, &p->from, e)) != 0)
		return rc;
	if (o->to && (rc = parse_bound("--to", o->to, tz, &p->to, e)) != 0)
		return rc;
	p->has_from = o->from != NULL;
	p->has_to = o->to != NULL;
	if (p->has_from && p->has_to && p->from >= p->to)
		return err_set(e, EXIT_USAGE, "--from \"%s\" is not before --to \"%s\" (the range is "
			       "[from, to))", o->from, o->to);
	tz_civil_from_secs(p->now + tz_utoff_at(tz, p->now), &c);
	snprintf(p->run_date, sizeof p->run_date, "%04d-%02d-%02d", (int)(c.year % 10000),
		 c.month, c.day);
	snprintf(res->date, sizeof res->date, "%s", p->run_date);
	snprintf(res->timezone, sizeof res->timezone, "%s", tz->name);
	snprintf(res->period, sizeof res->period, "%s", p->period_day ? "day" : "month");
	return 0;
}

/* --- files -------------------------------------------------------------------- */

static int mkdir_p(const char *path, struct err *e)
{
	char buf[4096];
	size_t i, n = strlen(path);

	if (n >= sizeof buf)
		return err_set(e, EXIT_CANTCREAT, "output directory \"%s\": path too long", path);
	memcpy(buf, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			return err_set(e, EXIT_CANTCREAT, "output directory \"%s\": %s", buf,
				       strerror(errno));
		buf[i] = path[i];
	}
	return 0;
}

static int fsync_dir(const char *dir, struct err *e)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY), rc = 0;

	if (fd < 0)
		return err_set(e, EXIT_IOERR, "\"%s\": %s", dir, strerror(errno));
	if (fsync(fd) != 0 && errno != EINVAL)
		rc = err_set(e, EXIT_IOERR, "fsync \"%s\": %s", dir, strerror(errno));
	close(fd);
	return rc;
}

/* Remove ".NAME.<pid>.tmp" files of processes that no longer exist. */
static void remove_stale(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d)) != NULL) {
		const char *s = de->d_name, *dot;
		size_t n = strlen(s);
		char path[4096 + 256], *end;
		long pid;

		if (s[0] != '.' || n < 6 || strcmp(s + n - 4, ".tmp") != 0)
			continue;
		for (dot = s + n - 5; dot > s && *dot != '.'; dot--)
			;
		pid = strtol(dot + 1, &end, 10);
		if (dot == s || end != s + n - 4 || pid <= 0)
			continue;
		if (pid == (long)getpid() || (kill((pid_t)pid, 0) != 0 && errno == ESRCH)) {
			snprintf(path, sizeof path, "%s/%s", dir, s);
			unlink(path);
		}
	}
	closedir(d);
}

/* One output being written: its temporary and final paths. */
struct out_file {
	char tmp[4096 + 128];
	char final[4096 + 128];
	int fd;
	int done;           /* written, closed, awaiting rename */
};

static int out_open(struct out_file *f, const char *dir, const char *file, struct err *e)
{
	snprintf(f->tmp, sizeof f->tmp, "%s/.%s.%ld.tmp", dir, file, (long)getpid());
	snprintf(f->final, sizeof f->final, "%s/%s", dir, file);
	f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	f->done = 0;
	if (f->fd < 0)
		return err_set(e, EXIT_CANTCREAT, "\"%s\": %s", f->tmp, strerror(errno));
	return 0;
}

static int out_close(struct out_file *f, struct err *e)
{
	int rc = 0;

	if (fsync(f->fd) != 0)
		rc = err_set(e, EXIT_IOERR, "fsync \"%s\": %s", f->tmp, strerror(errno));
	if (close(f->fd) != 0 && rc == 0)
		rc = err_set(e, EXIT_IOERR, "close \"%s\": %s", f->tmp, strerror(errno));
	f->fd = -1;
	f->done = rc == 0;
	return rc;
}

static void out_discard(struct out_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	unlink(f->tmp);
	f->done = 0;
}

/* --- writing one report --------------------------------------------------------- */

static int is_numeric_col(const struct report_def *d, const char *col)
{
	char **n;

	for (n = d->numeric; n && *n; n++)
		if (strcmp(*n, col) == 0)
			return 1;
	return 0;
}

static void test_stall(const char *name, long long rows)
{
	const char *s = getenv("TRUEUP_TEST_REPORT_STALL");
	int i;

	if (rows == 1 && s && strcmp(s, name) == 0)
		for (i = 0; i < 30; i++)
			sleep(1);
}

/* Keep the rows of plan_audit for summary.html. */
static int table_add(struct report_html_table *t, const struct db_report_cell *row)
{
	char **grown;
	size_t i;

	grown = realloc(t->cells, (t->nrows + 1) * t->ncols * sizeof *grown);
	if (!grown)
		return -1;
	t->cells = grown;
	for (i = 0; i < t->ncols; i++) {
		char **c = &t->cells[t->nrows * t->ncols + i];

		*c = row[i].text ? strndup(row[i].text, row[i].len) : NULL;
		if (row[i].text && !*c)
			return -1;
	}
	t->nrows++;
	return 0;
}

static void table_free(struct report_html_table *t)
{
	size_t i;

	for (i = 0; i < t->ncols; i++)
		free(t->cols[i]);
	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cols);
	free(t->cells);
	memset(t, 0, sizeof *t);
}

static int table_start(struct report_html_table *t, struct db_report_query *q)
{
	size_t i;

	memset(t, 0, sizeof *t);
	if (!(t->cols = calloc(db_report_ncols(q), sizeof *t->cols)))
		return -1;
	t->ncols = db_report_ncols(q);
	for (i = 0; i < t->ncols; i++)
		if (!(t->cols[i] = strdup(db_report_col_name(q, i))))
			return -1;
	return 0;
}

static int write_report(const struct report_def *d, struct db_report_query *q, int fd,
			struct report_file *rf, struct report_html_table *keep, struct err *e)
{
	size_t n = db_report_ncols(q), i;
	struct csv_cell *cells = calloc(n, sizeof *cells);
	int *numeric = calloc(n, sizeof *numeric);
	const struct db_report_cell *row;
	struct csv_writer *w = NULL;
	int rc;

	if (!cells || !numeric) {
		rc = err_set(e, EXIT_SOFTWARE, "out of memory");
		goto out;
	}
	if ((rc = csv_writer_open_fd(fd, rf->file, &w, e)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		cells[i].value = db_report_col_name(q, i);
		cells[i].len = strlen(cells[i].value);
		cells[i].kind = CSV_TEXT;
		numeric[i] = is_numeric_col(d, cells[i].value);
	}
	if ((rc = csv_writer_row(w, cells, n, e)) != 0)
		goto out;
	if (keep && table_start(keep, q) != 0) {
		rc = err_set(e, EXIT_SOFTWARE, "out of memory");
		goto out;
	}
	while ((rc = db_report_next(q, &row, e)) == 0 && row) {
		for (i = 0; i < n; i++) {
			cells[i].value = row[i].text;
			cells[i].len = row[i].len;
			cells[i].kind = row[i].is_number ? CSV_NUMBER
					: numeric[i] ? CSV_NUMERIC : CSV_TEXT;
		}
		if ((rc = csv_writer_row(w, cells, n, e)) != 0)
			goto out;
		if (keep && table_add(keep, row) != 0) {
			rc = err_set(e, EXIT_SOFTWARE, "out of memory");
			goto out;
		}
		rf->rows++;
		if (rf->rows == 1 && getenv("TRUEUP_TEST_REPORT_STALL")) {
			if ((rc = csv_writer_flush(w, e)) != 0)
				goto out;
			test_stall(d->name, rf->rows);
		}
	}
	if (rc != 0)
		goto out;
	rf->bytes = csv_writer_bytes(w);
	rc = csv_writer_finish(w, rf->sha256, e);
out:
	csv_writer_free(w);
	free(cells);
	free(numeric);
	return rc;
}

/* --- summary.html ----------------------------------------------------------------- */

struct summary_acc {
	struct report_html_revenue *rev;
	size_t nrev;
	struct report_html_drift *drift;
	size_t ndrift;
	int nomem;
};

static int acc_revenue(const char *month, const char *cur, long long gross, long long refunds,
		       void *arg)
{
	struct summary_acc *a = arg;
	struct report_html_revenue *g = realloc(a->rev, (a->nrev + 1) * sizeof *g);

	if (!g) {
		a->nomem = 1;
		return 1;
	}
	a->rev = g;
	memset(&g[a->nrev], 0, sizeof *g);
	snprintf(g[a->nrev].month, sizeof g->month, "%s", month ? month : "");
	snprintf(g[a->nrev].currency, sizeof g->currency, "%s", cur ? cur : "");
	g[a->nrev].gross = gross;
	g[a->nrev].refunds = refunds;
	a->nrev++;
	return 0;
}

static int acc_drift(const char *code, const char *name, const long long open[4], void *arg)
{
	struct summary_acc *a = arg;
	struct report_html_drift *g = realloc(a->drift, (a->ndrift + 1) * sizeof *g);

	if (!g) {
		a->nomem = 1;
		return 1;
	}
	a->drift = g;
	memset(&g[a->ndrift], 0, sizeof *g);
	snprintf(g[a->ndrift].rule, sizeof g->rule, "%s", code ? code : "");
	snprintf(g[a->ndrift].name, sizeof g->name, "%s", name ? name : "");
	memcpy(g[a->ndrift].open, open, sizeof g->open);
	a->ndrift++;
	return 0;
}

static int write_summary(struct db *db, const struct report_result *res,
			 const struct report_html_table *audit, int fd, struct report_file *rf,
			 struct err *e)
{
	struct summary_acc a;
	struct report_html_data d;
	char snapshot[128], gen[32], *buf = NULL;
	size_t len = 0;
	FILE *fp;
	int rc;

	memset(&a, 0, sizeof a);
	if ((rc = db_report_summary_revenue(db, acc_revenue, &a, e)) != 0 ||
	    (rc = db_report_summary_drift(db, acc_drift, &a, e)) != 0)
		goto out;
	if (a.nomem) {
		rc = err_set(e, EXIT_SOFTWARE, "out of memory");
		goto out;
	}
	db_now(gen, sizeof gen);
	snprintf(snapshot, sizeof snapshot, "pull %lld at %s", res->pull_run_id, res->pulled_at);
	memset(&d, 0, sizeof d);
	d.generated_at = gen;
	d.timezone = res->timezone;
	d.snapshot = snapshot;
	d.revenue = a.rev;
	d.nrevenue = a.nrev;
	d.drift = a.drift;
	d.ndrift = a.ndrift;
	d.audit = audit;
	if (!(fp = open_memstream(&buf, &len))) {
		rc = err_set(e, EXIT_SOFTWARE, "out of memory");
		goto out;
	}
	rc = report_html_write(fp, &d, e);
	if (fclose(fp) != 0 && rc == 0)
		rc = err_set(e, EXIT_SOFTWARE, "out of memory");
	if (rc != 0)
		goto out;
	{
		struct sha256 h;
		size_t off = 0;
		ssize_t n;

		while (off < len) {
			n = write(fd, buf + off, len - off);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				rc = err_set(e, EXIT_IOERR, "summary.html: write: %s",
					     n < 0 ? strerror(errno) : "no progress");
				goto out;
			}
			off += (size_t)n;
		}
		sha256_init(&h);
		sha256_update(&h, buf, len);
		sha256_final_hex(&h, rf->sha256);
	}
	rf->bytes = (long long)len;
	rf->rows = (long long)a.nrev;
out:
	free(buf);
	free(a.rev);
	free(a.drift);
	return rc;
}

/* --- the manifest ---------------------------------------------------------------- */

static json_t *file_entry(const struct report_file *f, const struct report_result *res,
			  long long run_id, const char *generated)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	json_object_set_new(o, "name", json_string(f->name));
	json_object_set_new(o, "file", json_string(f->file));
	json_object_set_new(o, "rows", json_integer(f->rows));
	json_object_set_new(o, "bytes", json_integer(f->bytes));
	json_object_set_new(o, "sha256", json_string(f->sha256));
	json_object_set_new(o, "run_id", run_id > 0 ? json_integer(run_id) : json_null());
	json_object_set_new(o, "generated_at", json_string(generated));
	json_object_set_new(o, "pull_run_id", json_integer(res->pull_run_id));
	json_object_set_new(o, "pulled_at", json_string(res->pulled_at));
	return o;
}

static int written_now(const struct report_result *res, const char *file)
{
	size_t i;

	for (i = 0; i < res->nfiles; i++)
		if (strcmp(res->files[i].file, file) == 0)
			return 1;
	return 0;
}

static int entry_cmp(const void *a, const void *b)
{
	json_t *const *x = a, *const *y = b;

	return strcmp(json_string_value(json_object_get(*x, "file")),
		      json_string_value(json_object_get(*y, "file")));
}

/* Build the manifest text: this run's files plus the earlier ones still there. */
static char *manifest_text(const struct report_result *res, const struct db_report_params *p,
			   const struct report_opts *o, const char *generated)
{
	char path[4096 + 32];
	json_t *root = json_object(), *files = json_array(), *old, *entries[512];
	size_t i, n = 0;
	char *text = NULL;
	char from[32] = "", to[32] = "";

	if (!root || !files)
		goto out;
	snprintf(path, sizeof path, "%s/manifest.json", res->dir);
	if ((old = json_load_file(path, 0, NULL)) != NULL) {
		json_t *arr = json_object_get(old, "files"), *v;
		size_t k;

		json_array_foreach(arr, k, v) {
			const char *file = json_string_value(json_object_get(v, "file"));
			char fpath[4096 + 128];
			struct stat st;

			if (!file || written_now(res, file) || strchr(file, '/') || n >= 256)
				continue;
			snprintf(fpath, sizeof fpath, "%s/%s", res->dir, file);
			if (stat(fpath, &st) == 0)
				entries[n++] = json_incref(v);
		}
		json_decref(old);
	}
	for (i = 0; i < res->nfiles && n < sizeof entries / sizeof entries[0]; i++)
		if ((entries[n] = file_entry(&res->files[i], res, o->command_run_id, generated)))
			n++;
	qsort(entries, n, sizeof entries[0], entry_cmp);
	for (i = 0; i < n; i++)
		json_array_append_new(files, entries[i]);
	if (p->has_from)
		strftime(from, sizeof from, "%Y-%m-%dT%H:%M:%SZ",
			 gmtime(&(time_t){ (time_t)p->from }));
	if (p->has_to)
		strftime(to, sizeof to, "%Y-%m-%dT%H:%M:%SZ", gmtime(&(time_t){ (time_t)p->to }));
	json_object_set_new(root, "generator", json_string("trueup report"));
	json_object_set_new(root, "run_id", o->command_run_id > 0 ? json_integer(o->command_run_id)
								  : json_null());
	json_object_set_new(root, "generated_at", json_string(generated));
	json_object_set_new(root, "date", json_string(res->date));
	json_object_set_new(root, "timezone", json_string(res->timezone));
	json_object_set_new(root, "period", json_string(res->period));
	json_object_set_new(root, "from_utc", p->has_from ? json_string(from) : json_null());
	json_object_set_new(root, "to_utc", p->has_to ? json_string(to) : json_null());
	json_object_set_new(root, "snapshot", json_pack("{s:I, s:s, s:b}", "pull_run_id",
						       (json_int_t)res->pull_run_id, "pulled_at",
						       res->pulled_at, "finished",
						       res->unfinished_msg[0] == '\0'));
	json_object_set_new(root, "files", files);
	files = NULL;
	text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
out:
	json_decref(files);
	json_decref(root);
	return text;
}

static int write_manifest(const struct report_result *res, const struct db_report_params *p,
			  const struct report_opts *o, struct err *e)
{
	struct out_file f;
	char generated[32], *text;
	size_t len, off = 0;
	int rc;

	db_now(generated, sizeof generated);
	if (!(text = manifest_text(res, p, o, generated)))
		return err_set(e, EXIT_SOFTWARE, "manifest: out of memory");
	len = strlen(text);
	if ((rc = out_open(&f, res->dir, "manifest.json", e)) != 0) {
		free(text);
		return rc;
	}
	while (off < len && rc == 0) {
		ssize_t n = write(f.fd, text + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			rc = err_set(e, EXIT_IOERR, "\"%s\": %s", f.tmp, strerror(errno));
		else
			off += (size_t)n;
	}
	if (rc == 0 && write(f.fd, "\n", 1) != 1)
		rc = err_set(e, EXIT_IOERR, "\"%s\": %s", f.tmp, strerror(errno));
	free(text);
	if (rc == 0)
		rc = out_close(&f, e);
	if (rc == 0 && rename(f.tmp, f.final) != 0)
		rc = err_set(e, EXIT_CANTCREAT, "\"%s\": %s", f.final, strerror(errno));
	if (rc != 0)
		out_discard(&f);
	return rc == 0 ? fsync_dir(res->dir, e) : rc;
}

/* --- the run ----------------------------------------------------------------------- */

void report_result_free(struct report_result *res)
{
	if (!res)
		return;
	free(res->files);
	res->files = NULL;
	res->nfiles = 0;
}

/* Resolve the chosen names into defs pointers (NULL entry = summary). */
static int choose(const struct report_defs *defs, const struct report_opts *o,
		  const struct report_def ***chosen, size_t *n, int *summary, struct err *e)
{
	size_t i, j, cap = defs->count + 1;
	const struct report_def **c = calloc(cap, sizeof *c);

	*chosen = c;
	*n = 0;
	*summary = 0;
	if (!c)
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	if (!o->names || o->nnames == 0) {
		for (i = 0; i < defs->count; i++)
			if (!defs->items[i].prelude)
				c[(*n)++] = &defs->items[i];
		*summary = 1;
		return 0;
	}
	for (i = 0; i < o->nnames; i++) {
		const struct report_def *d;
		char known[1024];
		size_t off = 0;

		if (strcmp(o->names[i], SUMMARY) == 0) {
			*summary = 1;
			continue;
		}
		if (!(d = find_def(defs, o->names[i]))) {
			known[0] = '\0';
			for (j = 0; j < defs->count; j++)
				if (!defs->items[j].prelude && off < sizeof known)
					off += (size_t)snprintf(known + off, sizeof known - off, "%s ",
								defs->items[j].name);
			return err_set(e, EXIT_USAGE, "unknown report \"%s\" (reports: %ssummary)",
				       o->names[i], known);
		}
		for (j = 0; j < *n && c[j] != d; j++)
			;
		if (j == *n)
			c[(*n)++] = d;
	}
	return 0;
}

static int check_pull(struct db *db, const struct report_opts *o, struct report_result *res,
		      struct err *e)
{
	struct db_snapshot_pull_info pi;
	int rc = db_snapshot_check_usable(db, o->allow_unfinished, &pi, res->unfinished_msg,
					  sizeof res->unfinished_msg, e);

	if (rc != 0)
		return rc;
	res->pull_run_id = pi.id;
	snprintf(res->pulled_at, sizeof res->pulled_at, "%s",
		 pi.finished_at[0] ? pi.finished_at : pi.started_at);
	return 0;
}

struct run_state {
	const struct report_def **chosen;
	size_t nchosen;
	int summary;
	struct db_report_query **queries;
	struct out_file *outs;      /* nchosen + 1 (summary) */
	struct report_html_table audit;
	int have_audit;
};

static int write_all(struct db *db, const struct config *cfg, const struct report_defs *defs,
		     const struct db_report_params *p, struct run_state *s,
		     struct report_result *res, struct err *e)
{
	struct db_report_query *audit_q = NULL;
	size_t i;
	int rc, link = s->summary;

	for (i = 0; i < s->nchosen; i++)
		link |= needs_link(defs, s->chosen[i]->sql);
	if ((rc = context_begin(db, cfg, defs, p, link, e)) != 0)
		return rc;
	for (i = 0; i < s->nchosen; i++) {
		char why[256];

		if ((rc = db_report_prepare(db, s->chosen[i]->path, s->chosen[i]->sql,
					    &s->queries[i], e)) != 0)
			return rc;
		if (numeric_problem(s->chosen[i], s->queries[i], why, sizeof why))
			return err_set(e, EXIT_CONFIG, "report \"%s\": %s", s->chosen[i]->path, why);
	}
	for (i = 0; i < s->nchosen; i++) {
		const struct report_def *d = s->chosen[i];
		struct report_file *rf = &res->files[res->nfiles];
		int keep = s->summary && strcmp(d->name, "plan_audit") == 0;

		memset(rf, 0, sizeof *rf);
		snprintf(rf->name, sizeof rf->name, "%s", d->name);
		snprintf(rf->file, sizeof rf->file, "%s.csv", d->name);
		if ((rc = out_open(&s->outs[i], res->dir, rf->file, e)) != 0)
			return rc;
		if ((rc = write_report(d, s->queries[i], s->outs[i].fd, rf,
				       keep ? &s->audit : NULL, e)) != 0 ||
		    (rc = out_close(&s->outs[i], e)) != 0)
			return rc;
		s->have_audit |= keep;
		res->nfiles++;
	}
	if (!s->summary)
		return 0;
	if (!s->have_audit && find_def(defs, "plan_audit")) {
		/* plan_audit was not chosen: run it for the page only */
		const struct report_def *d = find_def(defs, "plan_audit");
		const struct db_report_cell *row;

		if ((rc = db_report_prepare(db, d->path, d->sql, &audit_q, e)) != 0)
			return rc;
		if (table_start(&s->audit, audit_q) != 0)
			rc = err_set(e, EXIT_SOFTWARE, "out of memory");
		while (rc == 0 && (rc = db_report_next(audit_q, &row, e)) == 0 && row)
			if (table_add(&s->audit, row) != 0)
				rc = err_set(e, EXIT_SOFTWARE, "out of memory");
		db_report_query_free(audit_q);
		if (rc != 0)
			return rc;
		s->have_audit = 1;
	}
	{
		struct report_file *rf = &res->files[res->nfiles];
		struct out_file *f = &s->outs[s->nchosen];

		memset(rf, 0, sizeof *rf);
		snprintf(rf->name, sizeof rf->name, SUMMARY);
		snprintf(rf->file, sizeof rf->file, SUMMARY ".html");
		if ((rc = out_open(f, res->dir, rf->file, e)) != 0 ||
		    (rc = write_summary(db, res, s->have_audit ? &s->audit : NULL, f->fd, rf, e)) != 0 ||
		    (rc = out_close(f, e)) != 0)
			return rc;
		res->nfiles++;
	}
	return 0;
}

int report_run(struct db *db, const struct config *cfg, const struct report_opts *o,
	       struct report_result *res, struct err *e)
{
	struct report_defs defs;
	struct db_report_params p;
	struct run_state s;
	struct tz tz;
	size_t i, nouts = 0;
	int rc;

	memset(res, 0, sizeof *res);
	memset(&s, 0, sizeof s);
	tz_init_utc(&tz);
	if ((rc = report_defs_load(cfg->reports_dir, &defs, NULL, e)) != 0)
		return rc;
	if ((rc = choose(&defs, o, &s.chosen, &s.nchosen, &s.summary, e)) != 0 ||
	    (rc = make_params(cfg, o, &tz, &p, res, e)) != 0 ||
	    (rc = check_pull(db, o, res, e)) != 0)
		goto out;
	snprintf(res->dir, sizeof res->dir, "%s/%s", o->out_dir ? o->out_dir : cfg->report_out_dir,
		 res->date);
	if ((rc = mkdir_p(res->dir, e)) != 0)
		goto out;
	if (access(res->dir, W_OK) != 0) {
		rc = err_set(e, EXIT_CANTCREAT, "output directory \"%s\": %s", res->dir,
			     strerror(errno));
		goto out;
	}
	remove_stale(res->dir);
	nouts = s.nchosen + 1;
	s.queries = calloc(s.nchosen + 1, sizeof *s.queries);
	s.outs = calloc(nouts, sizeof *s.outs);
	res->files = calloc(nouts, sizeof *res->files);
	if (!s.queries || !s.outs || !res->files) {
		rc = err_set(e, EXIT_SOFTWARE, "out of memory");
		goto out;
	}
	for (i = 0; i < nouts; i++)
		s.outs[i].fd = -1;
	rc = write_all(db, cfg, &defs, &p, &s, res, e);
	for (i = 0; i < s.nchosen; i++)
		db_report_query_free(s.queries[i]);
	db_report_end(db);
	if (rc != 0)
		goto out;
	for (i = 0; i < nouts && rc == 0; i++)
		if (s.outs[i].done && rename(s.outs[i].tmp, s.outs[i].final) != 0)
			rc = err_set(e, EXIT_CANTCREAT, "\"%s\": %s", s.outs[i].final, strerror(errno));
		else
			s.outs[i].done = 0;
	if (rc == 0)
		rc = fsync_dir(res->dir, e);
	if (rc == 0)
		rc = write_manifest(res, &p, o, e);
out:
	for (i = 0; s.outs && i < nouts; i++)
		if (s.outs[i].fd >= 0 || s.outs[i].done)
			out_discard(&s.outs[i]);
	if (s.have_audit || s.audit.cols)
		table_free(&s.audit);
	free(s.queries);
	free(s.outs);
	free(s.chosen);
	report_defs_free(&defs);
	tz_free(&tz);
	if (rc != 0)
		report_result_free(res);
	return rc;
}
