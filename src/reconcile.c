/*
 * reconcile.c - the drift engine: choose the rules, check the snapshot,
 * set up the context and evaluate each rule file; see reconcile.h.
 *
 * This file holds no SQL: the rules and preludes are the files of src/rules/
 * (compiled in as embedded_rules[]), and db_findings.c runs them.  The
 * contract order of the codes (SPEC's table, then M1) is kept here; a unit
 * test checks that every code has exactly one rule file and every rule
 * file a code.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "db_snapshot.h"
#include "reconcile.h"
#include "sql_embed.h"
#include "tz.h"

extern const struct embedded_sql embedded_rules[];
extern const int embedded_rules_count;

static const char *const rule_codes[RECONCILE_NRULES] = {
	"E1", "E2", "E3", "E4", "E5", "E6", "E7",
	"P1", "P2", "P3", "R1",
	"C1", "C2", "C3", "C4",
	"L1", "L2", "L3", "G1", "M1"
};

const char *reconcile_rule_code(size_t i)
{
	return i < RECONCILE_NRULES ? rule_codes[i] : NULL;
}

/* The embedded file of rule code ("E1_missing_entitlement.sql"), or NULL. */
static const struct embedded_sql *rule_file(const char *code)
{
	size_t n = strlen(code);
	int i;

	for (i = 0; i < embedded_rules_count; i++) {
		const char *f = embedded_rules[i].name;

		if (f && strncmp(f, code, n) == 0 && f[n] == '_')
			return &embedded_rules[i];
	}
	return NULL;
}

static int known_code(const char *code)
{
	size_t i;

	for (i = 0; i < RECONCILE_NRULES; i++)
		if (strcmp(rule_codes[i], code) == 0)
			return 1;
	return 0;
}

const char *reconcile_rule_name(const char *code)
{
	static char names[RECONCILE_NRULES][64];
	const struct embedded_sql *f;
	size_t i, len;

	for (i = 0; i < RECONCILE_NRULES && strcmp(rule_codes[i], code) != 0; i++)
		;
	if (i == RECONCILE_NRULES || !(f = rule_file(code)))
		return NULL;
	if (!names[i][0]) {
		const char *s = f->name + strlen(code) + 1;

		len = strlen(s);
		if (len > 4 && strcmp(s + len - 4, ".sql") == 0)
			len -= 4;
		snprintf(names[i], sizeof names[i], "%.*s", (int)len, s);
	}
	return names[i];
}

const char *reconcile_rule_sql(const char *code)
{
	const struct embedded_sql *f = known_code(code) ? rule_file(code) : NULL;

	return f ? f->text : NULL;
}

int reconcile_parse_rules(const char *list, const char **codes, size_t *n, struct err *e)
{
	*n = 0;
	return reconcile_add_rules(list, codes, n, e);
}

int reconcile_add_rules(const char *list, const char **codes, size_t *n, struct err *e)
{
	const char *p = list;
	size_t tokens = 0;

	while (p && *p) {
		char code[16];
		size_t len = 0, i;
		int dup = 0;

		while (*p == ' ' || *p == ',')
			p++;
		if (!*p)
			break;
		while (p[len] && p[len] != ',' && p[len] != ' ')
			len++;
		if (len >= sizeof code)
			return err_set(e, EXIT_USAGE, "unknown rule \"%.*s\"", (int)(len > 40 ? 40 : len), p);
		for (i = 0; i < len; i++)
			code[i] = (char)toupper((unsigned char)p[i]);
		code[len] = '\0';
		p += len;
		for (i = 0; i < RECONCILE_NRULES && strcmp(rule_codes[i], code) != 0; i++)
			;
		if (i == RECONCILE_NRULES)
			return err_set(e, EXIT_USAGE, "unknown rule \"%s\" (rules: E1-E7, P1-P3, R1, "
				       "C1-C4, L1-L3, G1, M1)", code);
		tokens++;
		for (size_t k = 0; k < *n; k++)
			dup |= codes[k] == rule_codes[i];
		if (!dup && *n < RECONCILE_NRULES)
			codes[(*n)++] = rule_codes[i];
	}
	if (tokens == 0)
		return err_set(e, EXIT_USAGE, "no rule codes given");
	return 0;
}

int reconcile_max_open_severity(const struct reconcile_result *res)
{
	int s;

	for (s = SEV_COUNT - 1; s >= 0; s--)
		if (res->total.open[s] > 0)
			return s;
	return -1;
}

/* --- time ------------------------------------------------------------------- */

static void iso_utc(long long t, char *buf, size_t sz)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, sz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The UTC instant of local wall-clock seconds l in tz (the later one in a repeat). */
static long long local_to_utc(const struct tz *tz, long long l)
{
	long long t = l - tz_utoff_at(tz, l);

	return l - tz_utoff_at(tz, t);
}

/* The calendar month of now in tz: "YYYY-MM" and its UTC bounds. */
static void month_bounds(const struct tz *tz, long long now, struct db_findings_policy *p)
{
	struct tz_civil c;
	long long start, end;
	int y, m, ny, nm;

	tz_civil_from_secs(now + tz_utoff_at(tz, now), &c);
	y = (int)c.year;
	m = c.month;
	ny = m == 12 ? y + 1 : y;
	nm = m == 12 ? 1 : m + 1;
	start = local_to_utc(tz, (long long)tz_days_from_civil(y, m, 1) * 86400);
	end = local_to_utc(tz, (long long)tz_days_from_civil(ny, nm, 1) * 86400);
	snprintf(p->month, sizeof p->month, "%04d-%02d", y % 10000, m);
	iso_utc(start, p->month_start, sizeof p->month_start);
	iso_utc(end, p->month_end, sizeof p->month_end);
}

/* --- the run ------------------------------------------------------------------- */

/* Is the snapshot usable?  Fills res's pull fields. */
static int check_pull(struct db *db, const struct reconcile_opts *o, struct reconcile_result *res,
		      struct err *e)
{
	struct db_snapshot_pull_info p;
	int rc = db_snapshot_check_usable(db, o->allow_unfinished, &p, res->unfinished_msg,
					  sizeof res->unfinished_msg, e);

	if (rc != 0)
		return rc;
	res->pull_run_id = p.id;
	snprintf(res->pull_status, sizeof res->pull_status, "%s", p.status);
	return 0;
}

static void add_counts(struct db_findings_counts *t, const struct db_findings_counts *c)
{
	int s;

	t->found += c->found;
	t->created += c->created;
	t->reopened += c->reopened;
	t->resolved += c->resolved;
	t->guarded += c->guarded;
	for (s = 0; s < SEV_COUNT; s++)
		t->open[s] += c->open[s];
}

/* Everything inside the transaction. */
static int evaluate(struct db *db, const struct config *cfg, const struct reconcile_opts *o,
		    const int *chosen, const struct db_findings_policy *pol,
		    struct reconcile_result *res, struct err *e)
{
	char list[RECONCILE_NRULES * 4];
	size_t i, off = 0;
	int rc, k;

	list[0] = '\0';
	for (i = 0; i < RECONCILE_NRULES; i++)
		if (chosen[i])
			off += (size_t)snprintf(list + off, sizeof list - off, "%s%s",
						off ? "," : "", rule_codes[i]);
	if ((rc = db_findings_run_begin(db, o->command_run_id, res->pull_run_id,
					res->pull_status[0] ? res->pull_status : NULL, list,
					pol->now_iso, &res->run_id, e)) != 0 ||
	    (rc = db_findings_context_load(db, &cfg->cat, pol, e)) != 0)
		return rc;
	for (k = 0; k < embedded_rules_count; k++) {
		const struct embedded_sql *f = &embedded_rules[k];

		if (f->name && f->name[0] == '_' &&
		    (rc = db_findings_exec_script(db, f->name, f->text, e)) != 0)
			return rc;
	}
	for (i = 0; i < RECONCILE_NRULES; i++) {
		struct reconcile_rule_result *r;
		const char *sql;

		if (!chosen[i])
			continue;
		if (!(sql = reconcile_rule_sql(rule_codes[i])))
			return err_set(e, EXIT_SOFTWARE, "rule %s: no rule file in this build",
				       rule_codes[i]);
		r = &res->rules[res->nrules++];
		r->code = rule_codes[i];
		r->name = reconcile_rule_name(rule_codes[i]);
		if ((rc = db_findings_apply_rule(db, r->code, sql, res->run_id, pol->now_iso, &r->n,
						 e)) != 0)
			return rc;
		add_counts(&res->total, &r->n);
	}
	return db_findings_run_end(db, res->run_id, &res->total, e);
}

int reconcile_run(struct db *db, const struct config *cfg, const struct reconcile_opts *o,
		  struct reconcile_result *res, struct err *e)
{
	struct db_findings_policy pol;
	int chosen[RECONCILE_NRULES];
	struct tz tz;
	size_t i, j;
	int rc;

	memset(res, 0, sizeof *res);
	memset(&pol, 0, sizeof pol);
	for (i = 0; i < RECONCILE_NRULES; i++)
		chosen[i] = !o->rules || o->nrules == 0;
	for (j = 0; o->rules && j < o->nrules; j++) {
		for (i = 0; i < RECONCILE_NRULES && strcmp(rule_codes[i], o->rules[j]) != 0; i++)
			;
		if (i == RECONCILE_NRULES)
			return err_set(e, EXIT_USAGE, "unknown rule \"%s\"", o->rules[j]);
		chosen[i] = 1;
	}
	if ((rc = check_pull(db, o, res, e)) != 0)
		return rc;

	pol.now = o->now > 0 ? o->now : (long long)time(NULL);
	iso_utc(pol.now, pol.now_iso, sizeof pol.now_iso);
	pol.past_due_grace_days = cfg->repair.past_due_grace_days;
	pol.release_overallocated_seats = cfg->repair.release_overallocated_seats;
	pol.timezone = cfg->timezone ? cfg->timezone : "UTC";
	if ((rc = tz_load(&tz, pol.timezone, e)) != 0)
		return err_prefix(e, "reconcile: timezone");
	month_bounds(&tz, pol.now, &pol);
	tz_free(&tz);
	snprintf(res->now_iso, sizeof res->now_iso, "%s", pol.now_iso);
	snprintf(res->month, sizeof res->month, "%s", pol.month);

	if ((rc = db_tx_begin(db, e)) != 0)
		return rc;
	rc = evaluate(db, cfg, o, chosen, &pol, res, e);
	if (rc == 0)
		rc = db_tx_commit(db, e);
	else
		db_tx_rollback(db);
	db_findings_context_drop(db);
	if (rc != 0) {
		res->nrules = 0;
		memset(&res->total, 0, sizeof res->total);
	}
	return rc;
}
