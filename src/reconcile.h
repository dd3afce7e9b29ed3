/*
 * reconcile.h - the drift engine behind `trueup reconcile`.
 *
 * The rules are data: one SQL file per rule under src/rules/ (named
 * CODE_name.sql, e.g. E1_missing_entitlement.sql), plus prelude files
 * (_*.sql) that link Stripe objects to the catalogue and the platform.
 * They are compiled into the binary (tools/embed.c), like the migrations,
 * because the rule codes are part of the contract (SPEC "Drift rules") and
 * each query is written against the schema version it ships with.
 *
 * reconcile_run() evaluates the chosen rules against the last finished
 * pull and the platform state, in one transaction: it loads the catalogue
 * and the policies into TEMP tables, runs the preludes, then each rule in
 * the contract order, storing findings (db_findings.h: identity rule +
 * subject, open / repaired / resolved), and records a reconcile_runs row.
 * Either every chosen rule's findings are stored or nothing is.
 *
 * Modules never print: the caller prints the result.
 */
#ifndef TRUEUP_RECONCILE_H
#define TRUEUP_RECONCILE_H

#include <stddef.h>

#include "config.h"
#include "db.h"
#include "db_findings.h"

/* The rule codes of the contract: SPEC's 19 plus M1 (unmapped_stripe_object). */
#define RECONCILE_NRULES 20

/* Code of the i-th rule in contract order (E1 ... G1, M1), or NULL past the end. */
const char *reconcile_rule_code(size_t i);

/* The rule's name from its file ("missing_entitlement"), or NULL for an unknown code. */
const char *reconcile_rule_name(const char *code);

/* The rule's SQL text, or NULL for an unknown code. */
const char *reconcile_rule_sql(const char *code);

struct reconcile_opts {
	const char *const *rules;   /* codes to evaluate; NULL or nrules 0 = all */
	size_t nrules;
	int allow_unfinished;       /* run even if the newest pull did not finish */
	long long now;              /* epoch seconds the rules see as now; 0 = time(NULL) */
	long long command_run_id;   /* runs.id of the command, 0 for none */
};

struct reconcile_rule_result {
	const char *code;           /* static */
	const char *name;           /* static */
	struct db_findings_counts n;
};

struct reconcile_result {
	long long run_id;           /* reconcile_runs.id */
	long long pull_run_id;      /* the pull it read (0: none) */
	char pull_status[16];       /* "ok", or "running"/"failed" with allow_unfinished */
	char unfinished_msg[ERR_MSG_MAX];  /* why the pull is not finished ("" when it is) */
	char now_iso[32];
	char month[16];             /* "YYYY-MM" (L1) in the config's timezone */
	size_t nrules;
	struct reconcile_rule_result rules[RECONCILE_NRULES];  /* evaluated, contract order */
	struct db_findings_counts total;
};

/*
 * Evaluate the rules opts names (all when none) on db with cfg's catalogue
 * and repair policy; fill *res.  Returns 0, or:
 *   EXIT_USAGE     an unknown rule code (named)
 *   EXIT_NOINPUT   there has never been a pull ("run 'trueup pull' first"),
 *                  even with allow_unfinished
 *   EXIT_TEMPFAIL  the newest pull has not finished (or failed) and
 *                  allow_unfinished is 0 (db_snapshot_require_finished's
 *                  message); or the database is locked
 *   EXIT_CONFIG    the config's timezone cannot be loaded
 *   EXIT_SOFTWARE  a rule file is broken (named)
 *   or a database error code.  On failure nothing is stored.
 */
int reconcile_run(struct db *db, const struct config *cfg, const struct reconcile_opts *opts,
		  struct reconcile_result *res, struct err *e);

/*
 * The highest severity rank among the open findings of the evaluated
 * rules in res, or -1 when there is none.
 */
int reconcile_max_open_severity(const struct reconcile_result *res);

/*
 * Parse a comma-separated list of rule codes ("E1,P2", case-insensitive,
 * spaces around codes allowed) into codes (static strings, at most
 * RECONCILE_NRULES, duplicates dropped).  Returns 0 with *n set, or
 * EXIT_USAGE naming the unknown code.
 */
int reconcile_parse_rules(const char *list, const char **codes, size_t *n, struct err *e);

/*
 * The same, appending to codes[0..*n) (no duplicates): for repeated --rule
 * options.  codes must hold RECONCILE_NRULES.
 */
int reconcile_add_rules(const char *list, const char **codes, size_t *n, struct err *e);

#endif
