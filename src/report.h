/*
 * report.h - the report runner behind `trueup report`.
 *
 * Report definitions are files of the configured directory
 * (reports.definitions, shipped: reports/):
 *   NAME.sql    one read-only SELECT; its result columns are the CSV's
 *               columns, in order.  The leading "--" comment lines are its
 *               metadata: the first is the description; a line
 *               "-- numeric: col, col" names the text columns that hold
 *               decimal amounts (written unneutralised when they are plain
 *               numbers: csv.h CSV_NUMERIC; integer-typed cells always are).
 *   _NAME.sql   a prelude: statements creating TEMP views or tables that
 *               several reports share; all run, in name order, before the
 *               reports.
 * NAME is 1-64 characters of a-z 0-9 _ -.  A user adds a report by adding
 * a file.  "summary" is not a file: it is summary.html (report_html.h).
 *
 * A run writes <out>/<YYYY-MM-DD>/NAME.csv (the date of the run in the
 * reporting time zone): every file to a temporary name in that directory
 * (".NAME.csv.<pid>.tmp"), fsynced; only when all are written are they
 * renamed to their names, then manifest.json (rows, bytes and sha256 per
 * file, the run id, the snapshot's pull) is written the same way.  A run
 * that fails or is killed leaves every final name as it was.  The whole
 * run reads one consistent snapshot of the database (one read
 * transaction).
 *
 * Modules never print: the caller prints the result.
 */
#ifndef TRUEUP_REPORT_H
#define TRUEUP_REPORT_H

#include <stddef.h>

#include "config.h"
#include "db.h"

#define REPORT_NAME_MAX 64

struct report_def {
	char name[REPORT_NAME_MAX + 1];
	char *path;                 /* the file */
	char *sql;
	char *description;          /* first comment line, or NULL */
	char **numeric;             /* column names of "-- numeric:", NULL-terminated */
	int prelude;                /* _NAME.sql */
};

struct report_defs {
	struct report_def *items;   /* reports sorted by name, then preludes by name */
	size_t count;
};

/*
 * Read the definitions of dir.  Problems with a file (bad name, unreadable,
 * empty) are appended to probs when it is not NULL, else the first is
 * returned as EXIT_CONFIG.  A missing directory is EXIT_CONFIG.  Free with
 * report_defs_free().
 */
int report_defs_load(const char *dir, struct report_defs *defs, struct config_problems *probs,
		     struct err *e);

void report_defs_free(struct report_defs *defs);

/*
 * `config check` for the report definitions: load them and prepare every
 * query against an empty database of the current schema (in a temporary
 * directory) with the full context, so a query that does not prepare, is
 * not read-only or names a numeric column it lacks is a problem naming its
 * file.  A definitions directory that does not exist is a warning (a
 * deployment may not write reports; `trueup report` then fails).  summary
 * gets "N reports".  Returns 0 (problems or not), or an
 * exit code for a failure to check at all.
 */
int report_check(const struct config *cfg, struct config_problems *probs,
		 struct config_problems *warnings, char *summary, size_t summarysz, struct err *e);

struct report_opts {
	const char *const *names;   /* reports to write; NULL/0 = all, summary included */
	size_t nnames;
	const char *out_dir;        /* NULL: the configured one */
	const char *timezone;       /* NULL: the configured reports.timezone */
	int period;                 /* -1: configured; 0 month; 1 day */
	const char *from, *to;      /* "YYYY-MM-DD" (midnight in the zone) or ISO 8601; NULL */
	int allow_unfinished;       /* write even if the newest pull did not finish */
	long long now;              /* 0: time(NULL) */
	long long command_run_id;   /* runs.id for the manifest (0: none) */
};

struct report_file {
	char name[REPORT_NAME_MAX + 1];
	char file[REPORT_NAME_MAX + 8];   /* NAME.csv or summary.html */
	long long rows;             /* data rows (the header not counted) */
	long long bytes;
	char sha256[65];
};

struct report_result {
	char dir[4096];             /* <out>/<date> */
	char date[16];
	char timezone[128];
	char period[8];
	long long pull_run_id;
	char pulled_at[32];         /* when the pull it read finished (or started) */
	char unfinished_msg[512];   /* set with allow_unfinished when the pull is not finished */
	struct report_file *files;
	size_t nfiles;
};

/*
 * Write the reports of opts.  Returns 0 with *res filled (free with
 * report_result_free), or:
 *   EXIT_USAGE     an unknown report name (named, with the known ones),
 *                  a bad --from/--to or from >= to
 *   EXIT_NOINPUT   there has never been a pull
 *   EXIT_TEMPFAIL  the newest pull has not finished (unless allow_unfinished)
 *   EXIT_CONFIG    a definition that does not prepare (named), a bad zone
 *   EXIT_CANTCREAT the output directory or a file cannot be created
 *   EXIT_IOERR     a write failed
 *   or a database error code.  On failure no final name is touched.
 */
int report_run(struct db *db, const struct config *cfg, const struct report_opts *opts,
	       struct report_result *res, struct err *e);

void report_result_free(struct report_result *res);

#endif
