/*
 * cmd_reconcile.c - `trueup reconcile [--rule CODE,...] [--fail-on SEVERITY]
 * [--allow-unfinished]`: evaluate the drift rules (reconcile.h), store the
 * findings and print a summary by rule and severity.
 *
 * Exit status: 0; 1 (EXIT_FINDINGS) with --fail-on when open findings of
 * the evaluated rules at or above that severity exist; 2 for a bad command
 * line or an unknown rule; 66 when there has never been a pull; 75 when
 * the newest pull has not finished (unless --allow-unfinished) or the
 * database is locked.
 *
 * TRUEUP_NOW (ISO 8601, tests only) fixes the time the rules see as now.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "log.h"
#include "reconcile.h"
#include "tz.h"

static const char usage_reconcile[] =
	"usage: trueup reconcile [--rule CODE,...] [--fail-on SEVERITY] [--allow-unfinished]\n"
	"Evaluate the drift rules against the last finished Stripe pull and the\n"
	"platform state, store the findings and print a summary by rule and severity.\n"
	"  --rule CODE,...     only these rules (E1-E7 P1-P3 R1 C1-C4 L1-L3 G1 M1)\n"
	"  --fail-on SEVERITY  exit 1 when open findings of the evaluated rules at or\n"
	"                      above SEVERITY exist (critical, high, medium, info)\n"
	"  --allow-unfinished  reconcile even if the newest pull did not finish\n";

static void print_summary(const struct reconcile_result *r)
{
	size_t i;
	long long open = 0;
	int s;

	for (s = 0; s < SEV_COUNT; s++)
		open += r->total.open[s];
	out_printf("reconcile run %lld: %zu rules against pull %lld (%s) at %s\n", r->run_id,
		   r->nrules, r->pull_run_id, r->pull_status, r->now_iso);
	out_printf("%-4s %-30s %8s %6s %6s %6s %6s %6s %8s\n", "rule", "name", "critical",
		   "high", "medium", "info", "found", "new", "resolved");
	for (i = 0; i < r->nrules; i++) {
		const struct reconcile_rule_result *x = &r->rules[i];

		out_printf("%-4s %-30s %8lld %6lld %6lld %6lld %6lld %6lld %8lld\n", x->code,
			   x->name ? x->name : "?", x->n.open[SEV_CRITICAL], x->n.open[SEV_HIGH],
			   x->n.open[SEV_MEDIUM], x->n.open[SEV_INFO], x->n.found, x->n.created,
			   x->n.resolved);
	}
	out_printf("open: %lld (critical %lld, high %lld, medium %lld, info %lld); "
		   "this run: %lld found, %lld new, %lld reopened, %lld resolved\n", open,
		   r->total.open[SEV_CRITICAL], r->total.open[SEV_HIGH], r->total.open[SEV_MEDIUM],
		   r->total.open[SEV_INFO], r->total.found, r->total.created, r->total.reopened,
		   r->total.resolved);
}

static void set_counts(struct cmd_ctx *ctx, const struct reconcile_result *r)
{
	snprintf(ctx->run_counts, sizeof ctx->run_counts,
		 "{\"reconcile_run\":%lld,\"pull_run\":%lld,\"rules\":%zu,\"found\":%lld,"
		 "\"new\":%lld,\"reopened\":%lld,\"resolved\":%lld,\"open_critical\":%lld,"
		 "\"open_high\":%lld,\"open_medium\":%lld,\"open_info\":%lld}",
		 r->run_id, r->pull_run_id, r->nrules, r->total.found, r->total.created,
		 r->total.reopened, r->total.resolved, r->total.open[SEV_CRITICAL],
		 r->total.open[SEV_HIGH], r->total.open[SEV_MEDIUM], r->total.open[SEV_INFO]);
}

int cmd_reconcile(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rule", required_argument, NULL, 'r' },
		{ "fail-on", required_argument, NULL, 'f' },
		{ "allow-unfinished", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *codes[RECONCILE_NRULES];
	struct reconcile_opts o;
	struct reconcile_result *res;
	struct err e = { 0 };
	const char *now_env;
	int c, rc, fail_on = -1, worst;
	size_t n = 0;

	memset(&o, 0, sizeof o);
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			out_printf("%s", usage_reconcile);
			return EXIT_OK;
		case 'r':
			if ((rc = reconcile_add_rules(optarg, codes, &n, &e)) != 0) {
				log_error("reconcile: --rule: %s", e.msg);
				return rc;
			}
			break;
		case 'f':
			if ((fail_on = db_severity_parse(optarg)) < 0) {
				log_error("reconcile: --fail-on: '%s' is not critical, high, medium "
					  "or info", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'a':
			o.allow_unfinished = 1;
			break;
		default:
			if (optopt)
				log_error("reconcile: option '%s' needs an argument", argv[optind - 1]);
			else
				log_error("reconcile: unknown option '%s'", argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		log_error("reconcile: unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	if ((now_env = getenv("TRUEUP_NOW")) && *now_env) {
		int64_t t;

		if (tz_parse_iso(now_env, &t, &e) != 0) {
			log_error("reconcile: TRUEUP_NOW: %s", e.msg);
			return EXIT_USAGE;
		}
		o.now = (long long)t;
	}
	o.rules = n ? codes : NULL;
	o.nrules = n;
	o.command_run_id = ctx->run_id;
	if (!(res = calloc(1, sizeof *res))) {
		log_error("reconcile: out of memory");
		return EXIT_SOFTWARE;
	}
	rc = reconcile_run(ctx->db, ctx->cfg, &o, res, &e);
	if (rc != 0) {
		log_error("reconcile: %s", e.msg);
		free(res);
		return rc;
	}
	if (res->unfinished_msg[0])
		log_warn("reconcile: %s; reconciled anyway (--allow-unfinished)", res->unfinished_msg);
	if (res->total.guarded)
		log_warn("reconcile: %lld proposals would have changed an admin grant; "
			 "stored as 'none'", res->total.guarded);
	print_summary(res);
	set_counts(ctx, res);
	worst = reconcile_max_open_severity(res);
	rc = EXIT_OK;
	if (fail_on >= 0 && worst >= fail_on) {
		out_printf("fail-on %s: open findings at %s or above (exit %d)\n",
			   db_severity_name(fail_on), db_severity_name(fail_on), EXIT_FINDINGS);
		rc = EXIT_FINDINGS;
	}
	free(res);
	return rc;
}
