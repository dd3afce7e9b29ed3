/*
 * cmd_repair.c - `trueup repair [--apply] [--rule CODE,...] [--export FILE]`:
 * print the repair plan of the open findings, or apply it (repair.h), and
 * export the journal of applied repairs as JSON lines.
 *
 * Exit status: 0; 2 for a bad command line or an unknown rule; 66 when
 * there has never been a pull or a reconcile; 75 when the newest pull has
 * not finished, the findings predate the newest pull, or the database is
 * locked; 73/74 when the export file cannot be written.
 *
 * TRUEUP_NOW (ISO 8601) fixes the time written by repairs and
 * TRUEUP_REPAIR_TEST_DELAY_MS pauses after each applied action: both for
 * tests only.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "log.h"
#include "repair.h"
#include "tz.h"

static const char usage_repair[] =
	"usage: trueup repair [--apply] [--rule CODE,...] [--export FILE]\n"
	"Show the repairs of the open drift findings (the plan; nothing changes), or\n"
	"apply them with --apply: in one transaction, each action recorded in the\n"
	"repair ledger under a deterministic idempotency key, so a second --apply\n"
	"applies nothing.  Only the rules in the config's repair.auto_apply are applied.\n"
	"  --apply          apply the plan\n"
	"  --rule CODE,...  only these rules' findings\n"
	"  --export FILE    write the journal of applied repairs as JSON lines to FILE\n"
	"                   ('-' for stdout), after applying when --apply is given\n";

static const char *status_word(enum repair_status s)
{
	switch (s) {
	case REPAIR_PLANNED: return "auto";
	case REPAIR_MANUAL: return "manual";
	case REPAIR_REPORT_ONLY: return "report";
	case REPAIR_APPLIED: return "applied";
	case REPAIR_STALE: return "stale";
	case REPAIR_ALREADY: return "already";
	}
	return "?";
}

/* "table row field: before -> after", or the new row's JSON. */
static void change_text(const struct db_repair_finding *f, char *buf, size_t sz)
{
	if (f->action_table && f->action_row_id && f->action_field && f->action_after &&
	    f->action_after[0] != '{' && f->action_after[0] != '[')
		snprintf(buf, sz, "%s %s %s: %s -> %s", f->action_table, f->action_row_id,
			 f->action_field, f->action_before ? f->action_before : "NULL",
			 f->action_after);
	else if (f->action_table && f->action_after)
		snprintf(buf, sz, "%s %s%s%s", f->action_table,
			 f->action_row_id ? f->action_row_id : "(new)", f->action_row_id ? ": " : " ",
			 f->action_after);
	else
		snprintf(buf, sz, "-");
}

struct print_state {
	int apply;
	int header;
	long long report_only;
};

static void on_item(const struct repair_item *it, void *arg)
{
	struct print_state *p = arg;
	const struct db_repair_finding *f = it->f;
	char change[1536];

	if (it->status == REPAIR_REPORT_ONLY) {
		p->report_only++;
		return;
	}
	if (it->status == REPAIR_STALE || it->status == REPAIR_ALREADY) {
		log_warn("repair: skipped %s %s (%s): %s", f->rule, f->subject, status_word(it->status),
			 it->reason ? it->reason : "");
		return;
	}
	if (!p->header) {
		out_printf("%-4s %-8s %-13s %-44s %s\n", "rule", "status", "action", "subject",
			   "change");
		p->header = 1;
	}
	change_text(f, change, sizeof change);
	out_printf("%-4s %-8s %-13s %-44s %s\n", f->rule, status_word(it->status), f->action,
		   f->subject, change);
}

static void print_summary(const struct repair_result *r, int apply)
{
	const struct repair_counts *t = &r->total;
	size_t i;
	const char *code;
	char line[512];
	size_t off = 0;

	if (apply)
		out_printf("applied %lld actions (%lld ledger rows); %lld stale, %lld already applied, "
			   "%lld manual (not in repair.auto_apply), %lld report-only\n", t->applied,
			   t->entries, t->stale, t->already, t->manual, t->report_only);
	else
		out_printf("plan: %lld actions to apply, %lld manual (not in repair.auto_apply), "
			   "%lld report-only; nothing changed (use --apply)\n", t->planned, t->manual,
			   t->report_only);
	int g1 = 0;

	line[0] = '\0';
	for (i = 0; (code = reconcile_rule_code(i)) != NULL; i++) {
		if (!r->rule[i].report_only || off >= sizeof line)
			continue;
		off += (size_t)snprintf(line + off, sizeof line - off, " %s %lld", code,
					r->rule[i].report_only);
		g1 |= strcmp(code, "G1") == 0;
	}
	if (line[0])
		out_printf("report-only findings by rule:%s%s\n", line,
			   g1 ? " (G1: admin grants, never changed)" : "");
}

/* Write the journal to path ('-': stdout); say where unless it went to stdout. */
static int export_journal(struct cmd_ctx *ctx, const struct repair_opts *o, const char *path,
			  long long *n)
{
	struct err e = { 0 };
	int to_stdout = strcmp(path, "-") == 0, rc;

	rc = to_stdout ? repair_export_stream(ctx->db, o->rules, o->nrules, stdout, n, &e)
		       : repair_export_file(ctx->db, o->rules, o->nrules, path, n, &e);
	if (rc != 0) {
		log_error("repair: %s%s", o->apply ? "applied, but the export failed: " : "", e.msg);
		return rc;
	}
	if (!to_stdout)
		out_printf("exported %lld applied repairs to %s\n", *n, path);
	return 0;
}

int cmd_repair(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "apply", no_argument, NULL, 'a' },
		{ "rule", required_argument, NULL, 'r' },
		{ "export", required_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *codes[RECONCILE_NRULES], *export_path = NULL, *env;
	struct print_state ps = { 0, 0, 0 };
	struct repair_opts o;
	struct repair_result *res;
	struct err e = { 0 };
	long long exported = 0;
	size_t n = 0;
	int c, rc;

	memset(&o, 0, sizeof o);
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			out_printf("%s", usage_repair);
			return EXIT_OK;
		case 'a':
			o.apply = 1;
			break;
		case 'r':
			if ((rc = reconcile_add_rules(optarg, codes, &n, &e)) != 0) {
				log_error("repair: --rule: %s", e.msg);
				return rc;
			}
			break;
		case 'x':
			if (!optarg[0]) {
				log_error("repair: --export needs a file name");
				return EXIT_USAGE;
			}
			export_path = optarg;
			break;
		default:
			if (optopt)
				log_error("repair: option '%s' needs an argument", argv[optind - 1]);
			else
				log_error("repair: unknown option '%s'", argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		log_error("repair: unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	if ((env = getenv("TRUEUP_NOW")) && *env) {
		int64_t t;

		if (tz_parse_iso(env, &t, &e) != 0) {
			log_error("repair: TRUEUP_NOW: %s", e.msg);
			return EXIT_USAGE;
		}
		o.now = (long long)t;
	}
	if ((env = getenv("TRUEUP_REPAIR_TEST_DELAY_MS")) && *env)
		o.delay_ms = (unsigned)strtoul(env, NULL, 10);
	o.rules = n ? codes : NULL;
	o.nrules = n;
	o.run_id = ctx->run_id;
	o.on_item = on_item;
	o.arg = &ps;
	ps.apply = o.apply;

	/* --export alone only exports. */
	if (export_path && !o.apply) {
		if ((rc = export_journal(ctx, &o, export_path, &exported)) != 0)
			return rc;
		snprintf(ctx->run_counts, sizeof ctx->run_counts, "{\"exported\":%lld}", exported);
		return EXIT_OK;
	}
	if (!(res = calloc(1, sizeof *res))) {
		log_error("repair: out of memory");
		return EXIT_SOFTWARE;
	}
	if ((rc = repair_run(ctx->db, ctx->cfg, &o, res, &e)) != 0) {
		log_error("repair: %s%s", e.msg, o.apply ? "; nothing was applied" : "");
		free(res);
		return rc;
	}
	print_summary(res, o.apply);
	snprintf(ctx->run_counts, sizeof ctx->run_counts,
		 "{\"apply\":%s,\"reconcile_run\":%lld,\"planned\":%lld,\"applied\":%lld,"
		 "\"ledger_rows\":%lld,\"stale\":%lld,\"already\":%lld,\"manual\":%lld,"
		 "\"report_only\":%lld}", o.apply ? "true" : "false", res->reconcile_run_id,
		 res->total.planned, res->total.applied, res->total.entries, res->total.stale,
		 res->total.already, res->total.manual, res->total.report_only);
	free(res);
	if (export_path && (rc = export_journal(ctx, &o, export_path, &exported)) != 0)
		return rc;
	return EXIT_OK;
}
