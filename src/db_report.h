/*
 * db_report.h - the SQL side of `trueup report`: the TEMP context the
 * report queries read, the SQL functions they may call, and running one
 * report query row by row.
 *
 * A report is one read-only SELECT (reports/NAME.sql).  It runs inside one
 * read transaction (a consistent snapshot of the database, no write lock
 * taken) after the context is set up:
 *   - temp.catalogue_plans, catalogue_plan_features, catalogue_price_map,
 *     policy: the same tables reconcile's rules read (db_findings.h), so
 *     the link prelude src/rules/_link.sql can run (temp.item_target,
 *     sub_state, session_state: how Stripe objects map to plans and link
 *     to the platform, the one definition of it);
 *   - temp.catalogue_features(feature, type, label, position),
 *     temp.catalogue_plan_info(plan, name, position) and
 *     temp.catalogue_promises(plan, feature, kind, value): the pricing page,
 *     shaped like catalogue_plan_features;
 *   - temp.rules(code, name, position): the drift rules;
 *   - temp.report_params: one row (see db_report_params below);
 *   - whatever the report preludes (reports/_*.sql) create.
 * SQL functions (db_report_fn.c): money(minor, currency),
 * currency_exponent(currency), epoch(t), iso_utc(t), local_time(t),
 * period_of(t), period_start(t), period_end(t), in_range(t); t is epoch
 * seconds or ISO 8601 text.
 *
 * Every function returns 0 or an exit code and fills e; none prints.
 */
#ifndef TRUEUP_DB_REPORT_H
#define TRUEUP_DB_REPORT_H

#include <stddef.h>

#include "config.h"
#include "db.h"
#include "tz.h"

/* The parameters of a report run, as temp.report_params and the functions see them. */
struct db_report_params {
	long long now;              /* the run's time, epoch seconds */
	const struct tz *tz;        /* the reporting time zone (not owned) */
	int period_day;             /* 1: periods are days, 0: calendar months */
	int has_from, has_to;       /* the date range [from, to), each bound optional */
	long long from, to;         /* epoch seconds */
	char run_date[16];          /* YYYY-MM-DD of now in tz (filled by the caller) */
};

/*
 * Register the SQL functions on the connection h with the parameters p
 * (which must outlive their use).  Returns 0 or an SQLite error code.
 * Separate from the rest so that a benchmark can load the same functions
 * into the sqlite3 shell.
 */
int db_report_functions(void *sqlite3_handle, const struct db_report_params *p);

/*
 * The period of t under p (days when day is 1, else months) in p's zone:
 * its label ("YYYY-MM" or "YYYY-MM-DD"; label may be NULL) and its bounds
 * [*start, *end) in epoch seconds.
 */
void db_report_period(const struct db_report_params *p, long long t, int day, char *label,
		      size_t sz, long long *start, long long *end);

/* A drift rule for temp.rules. */
struct db_report_rule {
	const char *code;
	const char *name;
};

/*
 * Begin the read transaction and set up the context from cfg (catalogue,
 * repair policy), the rules and p.  Undo with db_report_end() whatever this returns.
 */
int db_report_begin(struct db *db, const struct config *cfg,
		    const struct db_report_rule *rules, size_t nrules,
		    const struct db_report_params *p, struct err *e);

/* Run a prelude script (statements making TEMP tables or views); name for messages. */
int db_report_exec_script(struct db *db, const char *name, const char *sql, struct err *e);

/* Drop the TEMP context and end the read transaction.  Never fails. */
void db_report_end(struct db *db);

struct db_report_query;

/* One cell of a row: text (NULL for SQL NULL) and whether SQLite typed it as a number. */
struct db_report_cell {
	const char *text;
	size_t len;
	int is_number;
};

/*
 * Prepare a report query.  EXIT_CONFIG naming `name` when it does not
 * prepare, holds more than one statement, is not read-only or yields no
 * column.  *q is freed with db_report_query_free().
 */
int db_report_prepare(struct db *db, const char *name, const char *sql,
		      struct db_report_query **q, struct err *e);

size_t db_report_ncols(const struct db_report_query *q);
const char *db_report_col_name(const struct db_report_query *q, size_t i);

/*
 * The next row: 0 with *row pointing at ncols cells (valid until the next
 * call), or 0 with *row NULL at the end; else an exit code naming the report.
 */
int db_report_next(struct db_report_query *q, const struct db_report_cell **row,
		   struct err *e);

/* Start over (the query runs again). */
void db_report_rewind(struct db_report_query *q);

void db_report_query_free(struct db_report_query *q);

/* --- summary.html ---------------------------------------------------------- */

/*
 * Revenue by month and currency in the run's range, from temp.revenue_lines
 * (made by the prelude reports/_revenue.sql): fn(month, currency, gross,
 * refunds, arg) per row, ordered by currency and month; fn returns 0 to go on.
 */
int db_report_summary_revenue(struct db *db,
			      int (*fn)(const char *month, const char *currency, long long gross,
					long long refunds, void *arg),
			      void *arg, struct err *e);

/*
 * Open findings per rule of temp.rules (every rule, in order) by severity:
 * fn(code, name, open[critical, high, medium, info], arg).
 */
int db_report_summary_drift(struct db *db,
			    int (*fn)(const char *code, const char *name, const long long open[4],
				      void *arg),
			    void *arg, struct err *e);

#endif
