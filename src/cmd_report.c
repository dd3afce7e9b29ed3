/*
 * cmd_report.c - `trueup report [NAME ...] [--out DIR] [--period month|day]
 * [--from DATE] [--to DATE] [--timezone ZONE] [--allow-unfinished]`: write
 * the reports (report.h) and print one line per file.
 *
 * Exit status: 0; 2 for a bad command line or an unknown report; 66 when
 * there has never been a pull; 75 when the newest pull has not finished
 * (unless --allow-unfinished) or the database is locked; 78 for a report
 * definition that does not prepare or a bad time zone; 73 when the output
 * directory or a file cannot be created; 74 for a write error.
 *
 * TRUEUP_NOW (ISO 8601, tests only) fixes the time of the run.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "log.h"
#include "report.h"
#include "tz.h"

static const char usage_report[] =
	"usage: trueup report [NAME ...] [--out DIR] [--period month|day] [--from DATE]\n"
	"                     [--to DATE] [--timezone ZONE] [--allow-unfinished]\n"
	"Write the reports (all, or the NAMEs: a file reports/NAME.sql, or 'summary'\n"
	"for summary.html) into DIR/YYYY-MM-DD/NAME.csv with a manifest.json.\n"
	"  --out DIR           output directory (default: the config's reports.out_dir)\n"
	"  --period month|day  revenue and enrolment periods (default: reports.period)\n"
	"  --from DATE         only activity at or after DATE (YYYY-MM-DD in the\n"
	"                      reporting zone, or ISO 8601)\n"
	"  --to DATE           only activity before DATE: the range is [from, to)\n"
	"  --timezone ZONE     reporting time zone (default: reports.timezone, else timezone)\n"
	"  --allow-unfinished  write even if the newest Stripe pull did not finish\n";

int cmd_report(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "period", required_argument, NULL, 'p' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "timezone", required_argument, NULL, 'z' },
		{ "allow-unfinished", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct report_opts o;
	struct report_result res;
	struct err e = { 0 };
	const char *now_env;
	long long rows = 0;
	size_t i;
	int c, rc;

	memset(&o, 0, sizeof o);
	o.period = -1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			out_printf("%s", usage_report);
			return EXIT_OK;
		case 'o': o.out_dir = optarg; break;
		case 'f': o.from = optarg; break;
		case 't': o.to = optarg; break;
		case 'z': o.timezone = optarg; break;
		case 'a': o.allow_unfinished = 1; break;
		case 'p':
			if (strcmp(optarg, "month") != 0 && strcmp(optarg, "day") != 0) {
				log_error("report: --period: '%s' is not month or day", optarg);
				return EXIT_USAGE;
			}
			o.period = strcmp(optarg, "day") == 0;
			break;
		default:
			if (optopt)
				log_error("report: option '%s' needs an argument", argv[optind - 1]);
			else
				log_error("report: unknown option '%s'", argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	o.names = (const char *const *)(argv + optind);
	o.nnames = (size_t)(argc - optind);
	if ((now_env = getenv("TRUEUP_NOW")) && *now_env) {
		int64_t t;

		if (tz_parse_iso(now_env, &t, &e) != 0) {
			log_error("report: TRUEUP_NOW: %s", e.msg);
			return EXIT_USAGE;
		}
		o.now = (long long)t;
	}
	o.command_run_id = ctx->run_id;
	if ((rc = report_run(ctx->db, ctx->cfg, &o, &res, &e)) != 0) {
		log_error("report: %s", e.msg);
		return rc;
	}
	if (res.unfinished_msg[0])
		log_warn("report: %s; wrote the reports anyway (--allow-unfinished)",
			 res.unfinished_msg);
	for (i = 0; i < res.nfiles; i++) {
		out_printf("%-28s %10lld rows %12lld bytes  sha256 %.16s\n", res.files[i].file,
			   res.files[i].rows, res.files[i].bytes, res.files[i].sha256);
		rows += res.files[i].rows;
	}
	out_printf("wrote %zu file%s and manifest.json to %s (time zone %s, period %s, "
		   "snapshot of pull %lld)\n", res.nfiles, res.nfiles == 1 ? "" : "s", res.dir,
		   res.timezone, res.period, res.pull_run_id);
	snprintf(ctx->run_counts, sizeof ctx->run_counts,
		 "{\"files\":%zu,\"rows\":%lld,\"pull_run\":%lld}", res.nfiles, rows,
		 res.pull_run_id);
	report_result_free(&res);
	return EXIT_OK;
}
