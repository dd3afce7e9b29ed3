/*
 * repair.h - the engine behind `trueup repair`: the plan of the open
 * findings' actions, applying them with the ledger, and the journal.
 *
 * The plan is every open finding of the chosen rules whose action changes
 * something (report and none change nothing), marked "auto" when the rule
 * is in the config's repair.auto_apply.  Applying (opts.apply) runs the
 * auto actions in one transaction, in an order that lets earlier repairs
 * settle the overlaps of later ones (P1 before P3 and E1; E2's revocation
 * of an entitlement tied to a dead subscription before E1's grant for the
 * tenant's live one; grants before seat assignments):
 *     P1 P3 E2 E1 E5 E3 E7 R1 E6 E4 C1 C2 C4
 * each action inside a savepoint, so that an action the platform outgrew
 * since reconcile (stale) is skipped without touching the others, while a
 * database error or a kill leaves the database exactly as it was.
 *
 * Idempotency key of an action: "<rule>:<subject>#<occurrence>", the
 * occurrence being the finding's reopened count; P1's is "P1:<subject>"
 * alone (a checkout session is provisioned at most once, ever).  The
 * ledger (src/sql/005_repairs.sql) holds one row per changed platform row
 * under "<action key>/<table>/<row id>", UNIQUE.
 *
 * Modules never print: the caller gets each item through a callback.
 */
#ifndef TRUEUP_REPAIR_H
#define TRUEUP_REPAIR_H

#include <stddef.h>
#include <stdio.h>

#include "config.h"
#include "db.h"
#include "db_repair.h"
#include "reconcile.h"

enum repair_status {
	REPAIR_PLANNED,      /* would apply (plan only) */
	REPAIR_MANUAL,       /* repairable, but the rule is not in repair.auto_apply */
	REPAIR_REPORT_ONLY,  /* the finding's action changes nothing (report, none) */
	REPAIR_APPLIED,
	REPAIR_STALE,        /* the platform changed since reconcile; skipped */
	REPAIR_ALREADY       /* applied before (by another run or process); skipped */
};

/* One finding as the engine dealt with it (valid during the callback). */
struct repair_item {
	const struct db_repair_finding *f;
	const char *key;            /* the action's idempotency key */
	enum repair_status status;
	const char *reason;         /* for STALE and ALREADY */
	int entries;                /* ledger rows written (APPLIED) */
};

struct repair_opts {
	const char *const *rules;   /* codes to consider; NULL or nrules 0 = all */
	size_t nrules;
	int apply;
	long long run_id;           /* runs.id of the command (ledger run_id), 0 for none */
	long long now;              /* epoch seconds written as the repair time; 0 = time(NULL) */
	unsigned delay_ms;          /* tests only: pause after each applied action */
	void (*on_item)(const struct repair_item *it, void *arg);  /* may be NULL */
	void *arg;
};

struct repair_counts {
	long long planned, manual, report_only, applied, stale, already, entries;
};

struct repair_result {
	long long reconcile_run_id;  /* the findings' reconcile run */
	long long pull_run_id;       /* the pull that reconcile read */
	char now_iso[32];
	struct repair_counts rule[RECONCILE_NRULES];   /* by reconcile_rule_code index */
	struct repair_counts total;
};

/*
 * Plan (or apply) the repairs of the open findings; fill *res and call
 * opts->on_item for every finding considered, in application order.
 * Returns 0, or:
 *   EXIT_USAGE     an unknown rule code
 *   EXIT_NOINPUT   no pull or no reconcile yet
 *   EXIT_TEMPFAIL  the newest pull is unfinished, the findings predate the
 *                  newest pull, or the database is locked
 *   EXIT_SOFTWARE  a finding whose action this build cannot apply
 *   or a database error code.  On failure nothing is applied.
 */
int repair_run(struct db *db, const struct config *cfg, const struct repair_opts *opts,
	       struct repair_result *res, struct err *e);

/*
 * Write the journal of applied repairs (the ledger, oldest first, of the
 * rules given; all when nrules is 0) as JSON lines to fp; *count gets the
 * lines.  Each line: {"idempotency_key", "table", "row_id" (a string, or
 * for a composite key the key as an array), "op" ("insert"/"update"),
 * "fields" (the changed columns' new values), "before" (their old values;
 * null for an insert), "rule", "subject", "action", "run_id", "applied_at"}.
 */
int repair_export_stream(struct db *db, const char *const *rules, size_t nrules, FILE *fp,
			 long long *count, struct err *e);

/* The same into path, written to a temporary file and renamed (no partial file). */
int repair_export_file(struct db *db, const char *const *rules, size_t nrules, const char *path,
		       long long *count, struct err *e);

#endif
