/*
 * cmd_next.c - `trueup next JOB` and `trueup next --schedule EXPR`: print the
 * next fire times of a job, or of a cron expression so a schedule can be
 * checked before a job uses it.
 *
 * With --schedule it needs neither configuration nor database (ctx->cfg
 * may be NULL); the zone is --timezone, else the configuration's default
 * timezone when main.c loaded one, else UTC.  With JOB it loads the
 * configuration itself (main.c does not, so that --schedule works without
 * one) and then jobs/JOB.json, whose schedule and zone it uses.  Times are computed by cron_next() (src/cron.c,
 * which documents the cronie rules, DST handling and the 400-year search
 * bound) and printed one per line as ISO 8601 with the zone's offset.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "commands.h"
#include "cron.h"
#include "jobs.h"
#include "log.h"
#include "tz.h"

#define NEXT_DEFAULT_COUNT 5
#define NEXT_MAX_COUNT 1000

static const char usage_line[] =
	"usage: trueup next JOB [--from TIME] [-n N]\n"
	"       trueup next --schedule EXPR [--timezone ZONE] [--from TIME] [-n N]\n";

static const char usage_next[] =
	"Print the next N (default 5, at most 1000) times the job JOB (jobs/JOB.json)\n"
	"or the cron expression EXPR fires strictly after TIME (default now), one per\n"
	"line, in ISO 8601 with the zone's UTC offset (the job's own timezone for JOB).\n"
	"  --schedule EXPR   5 fields (minute hour day-of-month month day-of-week,\n"
	"                    Vixie cron / cronie syntax) or @yearly, @monthly,\n"
	"                    @weekly, @daily, @hourly\n"
	"  --timezone ZONE   IANA zone such as Europe/Berlin (default: the\n"
	"                    configuration's timezone if loaded, else UTC)\n"
	"  --from TIME       YYYY-MM-DDTHH:MM[:SS] then Z or +HH:MM / -HH:MM\n"
	"  -n N              how many fire times to print\n"
	"Exit status: 0 ok, 2 bad command line, 66 no such job, 78 bad schedule,\n"
	"time zone or job, or a schedule that never fires.\n";

enum { OPT_SCHEDULE = 256, OPT_TIMEZONE, OPT_FROM };

struct next_args {
	const char *job;
	const char *schedule;
	const char *zone;
	const char *from;
	int count;
};

static int usage_error(void)
{
	fputs(usage_line, stderr);
	return EXIT_USAGE;
}

/* Parse argv into *a; returns 0 or EXIT_USAGE after saying why. */
static int parse_args(int argc, char **argv, struct next_args *a)
{
	static const struct option opts[] = {
		{ "schedule", required_argument, NULL, OPT_SCHEDULE },
		{ "timezone", required_argument, NULL, OPT_TIMEZONE },
		{ "from", required_argument, NULL, OPT_FROM },
		{ NULL, 0, NULL, 0 }
	};
	char *end;
	long n;
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":n:", opts, NULL)) != -1) {
		switch (c) {
		case OPT_SCHEDULE:
			a->schedule = optarg;
			break;
		case OPT_TIMEZONE:
			a->zone = optarg;
			break;
		case OPT_FROM:
			a->from = optarg;
			break;
		case 'n':
			errno = 0;
			n = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || n < 1 || n > NEXT_MAX_COUNT) {
				log_error("next: -n: '%s' is not a number from 1 to %d", optarg,
					  NEXT_MAX_COUNT);
				return EXIT_USAGE;
			}
			a->count = (int)n;
			break;
		case ':':
			log_error("next: option '%s' needs a value", argv[optind - 1]);
			return usage_error();
		default:
			if (optopt)
				log_error("next: unknown option '-%c'", optopt);
			else
				log_error("next: unknown option '%s'", argv[optind - 1]);
			return usage_error();
		}
	}
	if (optind < argc && !a->schedule)
		a->job = argv[optind++];
	if (optind < argc) {
		log_error("next: unexpected argument '%s'", argv[optind]);
		return usage_error();
	}
	if (!a->schedule && !a->job) {
		log_error("next: give a JOB or --schedule EXPR");
		return usage_error();
	}
	if (a->job && a->zone) {
		log_error("next: --timezone goes with --schedule; a job has its own timezone");
		return usage_error();
	}
	return 0;
}

/* Print up to a->count fire times after `from`; returns the exit code. */
static int print_fire_times(const struct next_args *a, const struct cron *c,
			    const struct tz *tz, int64_t from)
{
	char when[64];
	int64_t t = from, next;
	int i;

	if (cron_never_fires(c)) {
		log_error("next: schedule \"%s\" never fires: none of its months has any of its "
			  "days of the month", a->schedule);
		return EXIT_CONFIG;
	}
	for (i = 0; i < a->count; i++) {
		if (cron_next(c, tz, t, &next) != 0) {
			tz_format_iso(tz, t, when, sizeof when);
			if (i == 0) {
				log_error("next: schedule \"%s\" does not fire in time zone %s within "
					  "%d years after %s", a->schedule, tz->name,
					  CRON_HORIZON_YEARS, when);
				return EXIT_CONFIG;
			}
			log_warn("next: stopped after %d fire times: none follows within %d years "
				 "of %s or before the year 10000", i, CRON_HORIZON_YEARS, when);
			break;
		}
		tz_format_iso(tz, next, when, sizeof when);
		out_printf("%s\n", when);
		t = next;
	}
	return EXIT_OK;
}

/* `next JOB`: load the configuration and the job, print its fire times. */
static int next_job(struct cmd_ctx *ctx, struct next_args *a, int64_t from)
{
	struct config_problems probs = { 0 };
	struct config *cfg = NULL;
	struct err e = { 0 };
	struct job j;
	int rc;

	rc = config_load(ctx->config_path, &cfg, &probs, &e);
	config_problems_free(&probs);
	if (rc != 0) {
		log_error("%s", e.msg);
		return rc;
	}
	rc = job_load(cfg->jobs_dir, a->job, cfg->timezone, &j, NULL, &e);
	config_free(cfg);
	if (rc != 0) {
		log_error("next: %s", e.msg);
		return rc;
	}
	a->schedule = j.schedule;
	rc = print_fire_times(a, &j.cron, &j.tz, from);
	job_release(&j);
	return rc;
}

int cmd_next(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct next_args a = { NULL, NULL, NULL, NULL, NEXT_DEFAULT_COUNT };
	struct err e = { 0 };
	struct cron c;
	struct tz tz;
	int64_t from;
	int rc;

	if (cmd_wants_help(argc, argv)) {
		out_printf("%s%s", usage_line, usage_next);
		return EXIT_OK;
	}
	if ((rc = parse_args(argc, argv, &a)) != 0)
		return rc;
	if (!a.zone)
		a.zone = ctx && ctx->cfg && ctx->cfg->timezone ? ctx->cfg->timezone : "UTC";
	if (a.from) {
		if (tz_parse_iso(a.from, &from, &e) != 0) {
			log_error("next: --from: %s", e.msg);
			return e.code;
		}
	} else {
		from = (int64_t)time(NULL);
	}
	if (a.job)
		return next_job(ctx, &a, from);
	if (cron_parse(&c, a.schedule, &e) != 0) {
		err_prefix(&e, "schedule");
		log_error("next: %s", e.msg);
		return e.code;
	}
	if (tz_load(&tz, a.zone, &e) != 0) {
		log_error("next: --timezone: %s", e.msg);
		return e.code;
	}
	rc = print_fire_times(&a, &c, &tz, from);
	tz_free(&tz);
	return rc;
}
