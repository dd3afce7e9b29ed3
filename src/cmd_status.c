/*
 * cmd_status.c - `trueup status`: what the database holds, the last
 * runs, and each job's next fire time and last runs.  Later issues add
 * open drift by rule and snapshot freshness.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "db_findings.h"
#include "db_jobs.h"
#include "db_snapshot.h"
#include "reconcile.h"
#include "jobs.h"
#include "log.h"

static const char usage_status[] =
	"usage: trueup status [-n N]\n"
	"Show the schema version, the rows of each platform table, the last N\n"
	"runs (default 10), each job's next fire time and last run, and the last\n"
	"N job runs.\n";

static int print_count(const char *table, long long rows, void *arg)
{
	(void)arg;
	out_printf("  %-18s %10lld\n", table, rows);
	return 0;
}

static int print_drift(const struct db_findings_rule_summary *x, void *arg)
{
	int *n = arg;

	if ((*n)++ == 0)
		out_printf("  %-4s %-30s %8s %6s %6s %6s %8s\n", "rule", "name", "critical", "high",
			   "medium", "info", "repaired");
	out_printf("  %-4s %-30s %8lld %6lld %6lld %6lld %8lld\n", x->rule,
		   reconcile_rule_name(x->rule) ? reconcile_rule_name(x->rule) : "?",
		   x->open[SEV_CRITICAL], x->open[SEV_HIGH], x->open[SEV_MEDIUM], x->open[SEV_INFO],
		   x->repaired);
	return 0;
}

/* Snapshot freshness and open drift by rule (SPEC: status). */
static int print_drift_state(struct cmd_ctx *ctx)
{
	struct db_snapshot_pull_info p;
	struct err e = { 0 };
	int found, rc, n = 0;

	if ((rc = db_snapshot_pull_last(ctx->db, &p, &found, &e)) != 0) {
		log_error("status: %s", e.msg);
		return rc;
	}
	if (!found)
		out_printf("stripe snapshot: none yet (run 'trueup pull')\n");
	else
		out_printf("stripe snapshot: pull %lld (%s) %s, started %s%s%s%s%s\n", p.id, p.mode,
			   p.status, p.started_at, p.finished_at[0] ? ", finished " : "",
			   p.finished_at, p.error[0] ? ": " : "", p.error);
	out_printf("open drift by rule:\n");
	if ((rc = db_findings_summary(ctx->db, print_drift, &n, &e)) != 0) {
		log_error("status: %s", e.msg);
		return rc;
	}
	if (n == 0)
		out_printf("  (no findings; run 'trueup reconcile')\n");
	return 0;
}

static int print_run(const struct db_run_row *r, void *arg)
{
	(void)arg;
	out_printf("  #%-5lld %-10s %-8s %-20s %-20s", r->id, r->command, r->status,
		   r->started_at, r->ended_at[0] ? r->ended_at : "-");
	if (r->exit_code > 0)
		out_printf(" exit %d", r->exit_code);
	if (r->error[0])
		out_printf("  %s", r->error);
	out_printf("\n");
	return 0;
}

static int print_job_run(const struct db_job_run_row *r, void *arg)
{
	(void)arg;
	out_printf("  #%-5lld %-14s %-8s %-20s %-20s %-20s", r->id, r->job, r->status,
		   r->scheduled_for[0] ? r->scheduled_for : "(manual)", r->started_at,
		   r->ended_at[0] ? r->ended_at : "-");
	if (r->signo)
		out_printf(" signal %d", r->signo);
	else if (r->exit_code > 0)
		out_printf(" exit %d", r->exit_code);
	if (r->error[0])
		out_printf("  %s", r->error);
	out_printf("\n");
	return 0;
}

static int copy_last(const struct db_job_run_row *r, void *arg)
{
	*(struct db_job_run_row *)arg = *r;
	return 1;
}

/* Each job of the jobs directory: schedule, next fire time, last run. */
static int print_jobs(struct cmd_ctx *ctx, int limit)
{
	struct config_problems probs = { 0 };
	struct db_job_run_row last;
	struct job_list list;
	struct err e = { 0 };
	char when[64];
	int64_t next;
	size_t i;
	int rc;

	rc = jobs_load_dir(ctx->cfg->jobs_dir, ctx->cfg->timezone, &list, &probs, &e);
	out_printf("jobs (%s):\n", ctx->cfg->jobs_dir);
	if (rc == EXIT_NOINPUT)
		out_printf("  (no jobs directory)\n");
	for (i = 0; rc == 0 && i < list.count; i++) {
		const struct job *j = &list.items[i];

		if (!j->enabled)
			snprintf(when, sizeof when, "disabled");
		else if (cron_next(&j->cron, &j->tz, (int64_t)time(NULL), &next) == 0)
			tz_format_iso(&j->tz, next, when, sizeof when);
		else
			snprintf(when, sizeof when, "never");
		out_printf("  %-14s %-16s %-16s next %-25s", j->name, j->schedule, j->tz.name, when);
		memset(&last, 0, sizeof last);
		if (db_job_runs_recent(ctx->db, j->name, 1, copy_last, &last, &e) == 0 && last.id)
			out_printf(" last %s %s", last.status, last.started_at);
		out_printf("\n");
	}
	for (i = 0; i < probs.count; i++)
		out_printf("  invalid: %s: %s%s%s\n", probs.items[i].file, probs.items[i].path,
			   probs.items[i].path[0] ? ": " : "", probs.items[i].reason);
	job_list_free(&list);
	config_problems_free(&probs);
	if (rc != 0 && rc != EXIT_NOINPUT) {
		log_error("status: %s", e.msg);
		return rc;
	}
	out_printf("last job runs:\n");
	if ((rc = db_job_runs_recent(ctx->db, NULL, limit, print_job_run, NULL, &e)) != 0) {
		log_error("status: %s", e.msg);
		return rc;
	}
	return 0;
}

int cmd_status(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct err e = { 0 };
	int c, version = 0, limit = 10, rc;
	char *end;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "n:h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			out_printf("%s", usage_status);
			return EXIT_OK;
		case 'n':
			limit = (int)strtol(optarg, &end, 10);
			if (*end || limit < 1 || limit > 1000) {
				log_error("status: -n: '%s' is not a number from 1 to 1000", optarg);
				return EXIT_USAGE;
			}
			break;
		default:
			log_error("status: unknown option '%s'", argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		log_error("status: unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	if ((rc = db_schema_version(ctx->db, &version, &e)) != 0) {
		log_error("status: %s", e.msg);
		return rc;
	}
	out_printf("database %s (schema version %d)\n", ctx->db_path, version);
	out_printf("platform tables:\n");
	if ((rc = db_table_counts(ctx->db, print_count, NULL, &e)) != 0) {
		log_error("status: %s", e.msg);
		return rc;
	}
	if ((rc = print_drift_state(ctx)) != 0)
		return rc;
	out_printf("last runs:\n");
	if ((rc = db_runs_recent(ctx->db, limit, print_run, NULL, &e)) != 0) {
		log_error("status: %s", e.msg);
		return rc;
	}
	if ((rc = print_jobs(ctx, limit)) != 0)
		return rc;
	return EXIT_OK;
}
