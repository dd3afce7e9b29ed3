/*
 * db_findings.h - the SQL of `trueup reconcile` (tables of
 * src/sql/004_findings.sql): the TEMP context the rules read, running the
 * rule files of src/rules/ and storing what they yield as findings.
 *
 * A rule is one read-only SELECT (a rule file, compiled in) whose result
 * columns are named (order does not matter):
 *   severity      critical | high | medium | info          (required)
 *   subject_type  e.g. entitlement, tenant, checkout_session (required)
 *   subject_id    the subject's id (required, not empty)
 *   action        grant, revoke, set, release_seats, ..., report, none
 *                                                           (required)
 *   tenant_id, stripe_object, expected, actual, action_text,
 *   action_table, action_row_id, action_field, action_before,
 *   action_after                                            (optional)
 * Any other column name is an error (a typo must not lose a field).
 *
 * Identity: (rule, subject_type || ':' || subject_id).  Storing a rule's
 * rows inserts new findings as open, refreshes known ones (last_seen, the
 * run id and the current fields) and re-opens resolved or repaired ones;
 * then every open finding of that rule the run did not yield becomes
 * resolved.  A subject yielded twice by one evaluation is a rule bug
 * (EXIT_SOFTWARE).
 *
 * Admin grants are sacred: a row of any rule but G1 whose action would
 * change an admin_grant entitlement (its subject, or the row its action
 * targets in entitlements or seat_assignments) is stored with action
 * "none" instead, and counted in guarded.
 *
 * Every function returns 0 or an exit code and fills e; none prints.
 */
#ifndef TRUEUP_DB_FINDINGS_H
#define TRUEUP_DB_FINDINGS_H

#include "config.h"
#include "db.h"

/* Severities, lowest first; the index is the rank. */
enum db_severity { SEV_INFO = 0, SEV_MEDIUM = 1, SEV_HIGH = 2, SEV_CRITICAL = 3, SEV_COUNT = 4 };

/* "critical" -> SEV_CRITICAL, ...; -1 for anything else. */
int db_severity_parse(const char *s);

/* The name of a severity rank ("info" ... "critical"); "?" when out of range. */
const char *db_severity_name(int rank);

/* What the rules may read in temp.policy, besides the catalogue. */
struct db_findings_policy {
	long long now;                  /* epoch seconds the rules see as now */
	char now_iso[32];               /* the same, ISO 8601 UTC */
	int past_due_grace_days;
	int release_overallocated_seats;
	const char *timezone;           /* IANA name of the config's timezone */
	char month[16];                 /* "YYYY-MM" of now in that timezone */
	char month_start[32];           /* its first instant, ISO 8601 UTC */
	char month_end[32];             /* the next month's first instant, UTC */
};

/*
 * (Re)create the TEMP tables catalogue_plans, catalogue_plan_features,
 * catalogue_price_map and policy (see src/rules/_link.sql) from cat and
 * pol, all values bound.  Call inside the reconcile's transaction.
 */
int db_findings_context_load(struct db *db, const struct catalogue *cat,
			     const struct db_findings_policy *pol, struct err *e);

/* Drop every TEMP table the context and the preludes made.  Never fails. */
void db_findings_context_drop(struct db *db);

/*
 * Run a prelude script (src/rules/_*.sql: statements that build TEMP
 * tables).  name is used in the error message.
 */
int db_findings_exec_script(struct db *db, const char *name, const char *sql, struct err *e);

/* Start a reconcile run row; *id receives reconcile_runs.id. */
int db_findings_run_begin(struct db *db, long long command_run_id, long long pull_run_id,
			  const char *pull_status, const char *rules, const char *now_iso,
			  long long *id, struct err *e);

/* What storing one rule's rows did. */
struct db_findings_counts {
	long long found;                /* rows the rule yielded */
	long long created;              /* new findings */
	long long reopened;             /* resolved/repaired findings yielded again */
	long long resolved;             /* open findings no longer yielded */
	long long guarded;              /* proposals on admin grants turned into "none" */
	long long open[SEV_COUNT];      /* open findings of the rule afterwards, by severity */
};

/*
 * Evaluate the rule `code` (sql: one read-only SELECT, see above) and store
 * its rows as findings of reconcile run run_id at now_iso, then resolve
 * the rule's open findings it no longer yields.  *c is filled (zeroed
 * first).  EXIT_SOFTWARE names the rule for a query that does not prepare,
 * is not a single read-only statement, has an unknown or missing column,
 * a bad severity, an empty subject or a subject yielded twice.
 */
int db_findings_apply_rule(struct db *db, const char *code, const char *sql, long long run_id,
			   const char *now_iso, struct db_findings_counts *c, struct err *e);

/* Finish the reconcile run row with its totals. */
int db_findings_run_end(struct db *db, long long id, const struct db_findings_counts *total,
			struct err *e);

/* One stored finding, for listings and tests. */
struct db_finding {
	long long id;
	char rule[8];
	char subject[512];
	char severity[16];
	char status[16];
	char tenant_id[128];
	char stripe_object[256];
	char expected[512];
	char actual[512];
	char action[32];
	char action_text[512];
	char action_table[64];
	char action_row_id[256];
	char action_field[64];
	char action_before[256];
	char action_after[1024];
	char first_seen[32];
	char last_seen[32];
	long long first_run_id, last_run_id;
	long long reopened;
};

/*
 * Call fn for each finding whose status is `status` (NULL: any), ordered
 * by rule, subject.  fn returns 0 to go on.  Text longer than a field is
 * truncated.
 */
int db_findings_each(struct db *db, const char *status,
		     int (*fn)(const struct db_finding *f, void *arg), void *arg, struct err *e);

/* Per rule: its open findings by severity and how many were repaired. */
struct db_findings_rule_summary {
	const char *rule;               /* valid during the callback */
	long long open[SEV_COUNT];
	long long repaired;
	const char *last_seen;          /* newest last_seen of its findings */
};

/*
 * Call fn for each rule that has findings (open or repaired), by rule
 * code.  For `trueup status`.
 */
int db_findings_summary(struct db *db,
			int (*fn)(const struct db_findings_rule_summary *s, void *arg), void *arg,
			struct err *e);

#endif
