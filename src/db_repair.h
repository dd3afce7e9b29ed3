/*
 * db_repair.h - the SQL of `trueup repair`: reading the open findings,
 * applying one finding's repair to the platform tables with its ledger
 * rows (src/sql/005_repairs.sql), and reading the ledger back.
 *
 * A repair changes only what its finding names and only if the row still
 * looks the way the finding saw it: every UPDATE carries the finding's
 * "before" value in its WHERE clause and every INSERT first checks that
 * its row is still missing.  When the platform moved on since reconcile
 * (another repair, an import), the action is *stale*: nothing is changed
 * and the caller rolls the transaction back; the next reconcile will say
 * what is left.  Admin grants are never changed: every statement that
 * touches entitlements or seat_assignments excludes source = admin_grant.
 *
 * Every function runs inside the caller's transaction, returns 0 or an
 * exit code and fills e; none prints.
 */
#ifndef TRUEUP_DB_REPAIR_H
#define TRUEUP_DB_REPAIR_H

#include <stddef.h>

#include "db.h"

/* An open finding with a proposed action (all strings owned, NULL = SQL NULL). */
struct db_repair_finding {
	long long id;
	long long reopened;         /* how often the drift came back: the key's occurrence */
	long long last_run_id;      /* reconcile_runs.id that last yielded it */
	char *rule, *subject, *subject_type, *subject_id, *severity;
	char *tenant_id, *stripe_object, *expected, *actual;
	char *action, *action_text, *action_table, *action_row_id, *action_field;
	char *action_before, *action_after;
};

/*
 * Load the open findings into a new array *out of *n (ordered by rule,
 * subject); free with db_repair_findings_free.
 */
int db_repair_load_open(struct db *db, struct db_repair_finding **out, size_t *n, struct err *e);
void db_repair_findings_free(struct db_repair_finding *f, size_t n);

/*
 * Are the findings current?  0 when the newest reconcile run read the
 * newest finished pull (or a later one).  EXIT_NOINPUT when reconcile has
 * never run; EXIT_TEMPFAIL when a pull finished after the last reconcile
 * ("run 'trueup reconcile' first").  *reconcile_run_id gets the newest
 * reconcile run's id, *pull_run_id the pull it read.
 */
int db_repair_check_fresh(struct db *db, long long *reconcile_run_id, long long *pull_run_id,
			  struct err *e);

/* What applying one finding did. */
enum db_repair_outcome {
	DB_REPAIR_APPLIED = 0,      /* changed the platform, ledger rows written */
	DB_REPAIR_STALE,            /* the platform no longer looks as the finding saw it */
	DB_REPAIR_DUPLICATE         /* already applied: the finding was repaired meanwhile,
				       or the ledger holds the action's key */
};

struct db_repair_apply {
	const struct db_repair_finding *f;   /* in */
	const char *action_key;              /* in: the action's idempotency key */
	long long run_id;                    /* in: runs.id of this repair (0: none) */
	const char *now;                     /* in: ISO 8601 UTC, the time written */
	enum db_repair_outcome outcome;      /* out */
	int entries;                         /* out: ledger rows written */
	char reason[256];                    /* out: why stale or duplicate */
};

/*
 * Apply a->f's action inside the caller's transaction: mark the finding
 * repaired (only if still open), change the platform rows and write one
 * ledger row per changed row.  Returns 0 with a->outcome set; on anything
 * but DB_REPAIR_APPLIED the caller must roll back (rows may have been
 * written before the mismatch was found).  EXIT_SOFTWARE for an action
 * this build cannot apply (a rule/action pair not in the table of
 * db_repair.c), or a database error code.
 */
int db_repair_apply_one(struct db *db, struct db_repair_apply *a, struct err *e);

/*
 * One action's savepoint inside the apply transaction: begin it, release it
 * (keep its changes) or roll back to it (drop them, the savepoint ends).
 */
int db_repair_savepoint(struct db *db, struct err *e);
int db_repair_release(struct db *db, struct err *e);
void db_repair_rollback_to(struct db *db);

/* Whether this build knows how to apply action (a verb) of rule. */
int db_repair_can_apply(const char *rule, const char *action);

/* One ledger row (strings valid during the callback only; NULL = SQL NULL). */
struct db_repair_entry {
	long long id, run_id, finding_id;
	const char *idempotency_key, *action_key, *rule, *subject, *tenant_id, *stripe_object;
	const char *action, *table_name, *row_id, *op, *before, *after, *applied_at;
};

/*
 * Call fn for each ledger row (oldest first), of the rules in rules[0..n)
 * (all when n is 0) and of run run_id (all runs when 0).  fn returns 0 to
 * go on, anything else stops with that code.
 */
int db_repair_ledger_each(struct db *db, const char *const *rules, size_t nrules,
			  long long run_id, int (*fn)(const struct db_repair_entry *x, void *arg),
			  void *arg, struct err *e);

#endif
