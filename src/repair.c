/*
 * repair.c - plan and apply the repairs of the open findings; the journal.
 * See repair.h.  The SQL is in db_repair.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "db_snapshot.h"
#include "repair.h"

/* The order actions are applied in (see repair.h); the other rules only report. */
static const char *const apply_order[] = {
	"P1", "P3", "E2", "E1", "E5", "E3", "E7", "R1", "E6", "E4", "C1", "C2", "C4"
};
#define NORDER (sizeof apply_order / sizeof apply_order[0])

/* Index of code among the contract's rules, or -1. */
static int rule_index(const char *code)
{
	size_t i;
	const char *c;

	for (i = 0; (c = reconcile_rule_code(i)) != NULL; i++)
		if (strcmp(c, code) == 0)
			return (int)i;
	return -1;
}

static int in_list(const char *code, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(list[i], code) == 0)
			return 1;
	return 0;
}

static int auto_applies(const struct config *cfg, const char *code)
{
	char **r;

	for (r = cfg->repair.auto_rules; r && *r; r++)
		if (strcmp(*r, code) == 0)
			return 1;
	return 0;
}

/* Position of a rule in the application order; report-only rules come last. */
static size_t order_of(const char *code)
{
	size_t i;

	for (i = 0; i < NORDER; i++)
		if (strcmp(apply_order[i], code) == 0)
			return i;
	return NORDER + (size_t)rule_index(code) + 1;
}

static const struct db_repair_finding *sort_base;

static int by_order(const void *a, const void *b)
{
	const struct db_repair_finding *x = &sort_base[*(const size_t *)a];
	const struct db_repair_finding *y = &sort_base[*(const size_t *)b];
	size_t ox = order_of(x->rule), oy = order_of(y->rule);
	int c;

	if (ox != oy)
		return ox < oy ? -1 : 1;
	if ((c = strcmp(x->subject, y->subject)) != 0)
		return c;
	return x->id < y->id ? -1 : x->id > y->id;
}

static void action_key(char *buf, size_t sz, const struct db_repair_finding *f)
{
	if (strcmp(f->rule, "P1") == 0)
		snprintf(buf, sz, "P1:%s", f->subject);
	else
		snprintf(buf, sz, "%s:%s#%lld", f->rule, f->subject, f->reopened);
}

static void count(struct repair_result *res, const char *rule, enum repair_status st, int entries)
{
	int i = rule_index(rule);
	struct repair_counts *c[2] = { &res->total, i >= 0 ? &res->rule[i] : NULL };
	int k;

	for (k = 0; k < 2; k++) {
		if (!c[k])
			continue;
		switch (st) {
		case REPAIR_PLANNED: c[k]->planned++; break;
		case REPAIR_MANUAL: c[k]->manual++; break;
		case REPAIR_REPORT_ONLY: c[k]->report_only++; break;
		case REPAIR_APPLIED: c[k]->applied++; c[k]->entries += entries; break;
		case REPAIR_STALE: c[k]->stale++; break;
		case REPAIR_ALREADY: c[k]->already++; break;
		}
	}
}

static void pause_ms(unsigned ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	while (ms && nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Deal with one finding; in apply mode inside the transaction. */
static int one(struct db *db, const struct config *cfg, const struct repair_opts *o,
	       const struct db_repair_finding *f, struct repair_result *res, struct err *e)
{
	struct repair_item it;
	struct db_repair_apply a;
	char key[1024];
	int rc;

	memset(&it, 0, sizeof it);
	action_key(key, sizeof key, f);
	it.f = f;
	it.key = key;
	if (!db_repair_can_apply(f->rule, f->action)) {
		if (strcmp(f->action, "report") != 0 && strcmp(f->action, "none") != 0)
			return err_set(e, EXIT_SOFTWARE, "finding %s %s: this build cannot apply "
				       "action '%s'", f->rule, f->subject, f->action);
		it.status = REPAIR_REPORT_ONLY;
	} else if (!auto_applies(cfg, f->rule)) {
		it.status = REPAIR_MANUAL;
	} else if (!o->apply) {
		it.status = REPAIR_PLANNED;
	} else {
		memset(&a, 0, sizeof a);
		a.f = f;
		a.action_key = key;
		a.run_id = o->run_id;
		a.now = res->now_iso;
		if ((rc = db_repair_savepoint(db, e)) != 0)
			return rc;
		if ((rc = db_repair_apply_one(db, &a, e)) != 0) {
			db_repair_rollback_to(db);
			return rc;
		}
		if (a.outcome == DB_REPAIR_APPLIED) {
			if ((rc = db_repair_release(db, e)) != 0)
				return rc;
			it.status = REPAIR_APPLIED;
			it.entries = a.entries;
		} else {
			db_repair_rollback_to(db);
			it.status = a.outcome == DB_REPAIR_STALE ? REPAIR_STALE : REPAIR_ALREADY;
			it.reason = a.reason;
		}
		if (it.status == REPAIR_APPLIED)
			pause_ms(o->delay_ms);
		count(res, f->rule, it.status, it.entries);
		if (o->on_item)
			o->on_item(&it, o->arg);
		return 0;
	}
	count(res, f->rule, it.status, 0);
	if (o->on_item)
		o->on_item(&it, o->arg);
	return 0;
}

/* Everything after the checks (inside the transaction when applying). */
static int work(struct db *db, const struct config *cfg, const struct repair_opts *o,
		struct repair_result *res, struct err *e)
{
	struct db_repair_finding *f;
	size_t n, i, *idx, m = 0;
	int rc;

	if ((rc = db_repair_check_fresh(db, &res->reconcile_run_id, &res->pull_run_id, e)) != 0)
		return rc;
	if ((rc = db_repair_load_open(db, &f, &n, e)) != 0)
		return rc;
	if (!(idx = malloc((n ? n : 1) * sizeof *idx))) {
		db_repair_findings_free(f, n);
		return err_set(e, EXIT_SOFTWARE, "repair: out of memory");
	}
	for (i = 0; i < n; i++)
		if (!o->nrules || in_list(f[i].rule, o->rules, o->nrules))
			idx[m++] = i;
	sort_base = f;
	qsort(idx, m, sizeof *idx, by_order);
	for (i = 0; i < m && rc == 0; i++)
		rc = one(db, cfg, o, &f[idx[i]], res, e);
	free(idx);
	db_repair_findings_free(f, n);
	return rc;
}

int repair_run(struct db *db, const struct config *cfg, const struct repair_opts *o,
	       struct repair_result *res, struct err *e)
{
	time_t now = o->now ? (time_t)o->now : time(NULL);
	struct tm tm;
	size_t i;
	int rc;

	memset(res, 0, sizeof *res);
	for (i = 0; i < o->nrules; i++)
		if (rule_index(o->rules[i]) < 0)
			return err_set(e, EXIT_USAGE, "unknown rule '%s'", o->rules[i]);
	gmtime_r(&now, &tm);
	strftime(res->now_iso, sizeof res->now_iso, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if ((rc = db_snapshot_require_finished(db, e)) != 0)
		return rc;
	if (!o->apply)
		return work(db, cfg, o, res, e);
	if ((rc = db_tx_begin(db, e)) != 0)
		return rc;
	if ((rc = work(db, cfg, o, res, e)) != 0) {
		db_tx_rollback(db);
		return rc;
	}
	if ((rc = db_tx_commit(db, e)) != 0) {
		db_tx_rollback(db);
		return rc;
	}
	return 0;
}

/* --- the journal -------------------------------------------------------------- */

struct export_state {
	FILE *fp;
	long long n;
	struct err *e;
};

/* A JSON text column as a value (NULL -> null); a bad text is kept as a string. */
static json_t *json_col(const char *text)
{
	json_t *v;

	if (!text)
		return json_null();
	if ((v = json_loads(text, JSON_DECODE_ANY, NULL)) != NULL)
		return v;
	return json_string(text);
}

static int export_one(const struct db_repair_entry *x, void *arg)
{
	struct export_state *s = arg;
	json_t *o = json_object(), *row;
	char *line;
	int ok;

	row = x->row_id[0] == '[' ? json_col(x->row_id) : json_string(x->row_id);
	json_object_set_new(o, "idempotency_key", json_string(x->idempotency_key));
	json_object_set_new(o, "table", json_string(x->table_name));
	json_object_set_new(o, "row_id", row);
	json_object_set_new(o, "op", json_string(x->op));
	json_object_set_new(o, "fields", json_col(x->after));
	json_object_set_new(o, "before", json_col(x->before));
	json_object_set_new(o, "rule", json_string(x->rule));
	json_object_set_new(o, "subject", json_string(x->subject));
	json_object_set_new(o, "action", json_string(x->action));
	json_object_set_new(o, "run_id", x->run_id ? json_integer(x->run_id) : json_null());
	json_object_set_new(o, "applied_at", json_string(x->applied_at));
	line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!line)
		return err_set(s->e, EXIT_SOFTWARE, "repair export: out of memory");
	ok = fputs(line, s->fp) >= 0 && fputc('\n', s->fp) != EOF;
	free(line);
	if (!ok)
		return err_set(s->e, EXIT_IOERR, "repair export: write failed: %s", strerror(errno));
	s->n++;
	return 0;
}

int repair_export_stream(struct db *db, const char *const *rules, size_t nrules, FILE *fp,
			 long long *count_out, struct err *e)
{
	struct export_state s = { fp, 0, e };
	int rc = db_repair_ledger_each(db, rules, nrules, 0, export_one, &s, e);

	*count_out = s.n;
	if (rc == 0 && fflush(fp) != 0)
		return err_set(e, EXIT_IOERR, "repair export: write failed: %s", strerror(errno));
	return rc;
}

int repair_export_file(struct db *db, const char *const *rules, size_t nrules, const char *path,
		       long long *count_out, struct err *e)
{
	char tmp[4096];
	FILE *fp;
	int fd, rc;

	*count_out = 0;
	if (snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path) >= (int)sizeof tmp)
		return err_set(e, EXIT_USAGE, "repair export: path too long");
	if ((fd = mkstemp(tmp)) < 0)
		return err_set(e, EXIT_CANTCREAT, "%s: cannot create: %s", path, strerror(errno));
	if (!(fp = fdopen(fd, "w"))) {
		close(fd);
		unlink(tmp);
		return err_set(e, EXIT_CANTCREAT, "%s: cannot create: %s", path, strerror(errno));
	}
	rc = repair_export_stream(db, rules, nrules, fp, count_out, e);
	if (rc == 0 && fsync(fileno(fp)) != 0)
		rc = err_set(e, EXIT_IOERR, "%s: fsync: %s", path, strerror(errno));
	if (fclose(fp) != 0 && rc == 0)
		rc = err_set(e, EXIT_IOERR, "%s: write failed: %s", path, strerror(errno));
	if (rc == 0 && rename(tmp, path) != 0)
		rc = err_set(e, EXIT_CANTCREAT, "%s: cannot rename into place: %s", path,
			     strerror(errno));
	if (rc != 0)
		unlink(tmp);
	return rc;
}
