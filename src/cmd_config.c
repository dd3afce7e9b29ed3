/*
 * cmd_config.c - `trueup config check`: validate the configuration and
 * everything it points to, and list every problem found.
 *
 * main.c does not pre-load the configuration for this command (a failed
 * load would stop at the first problem); check loads it itself and prints
 * each problem on its own line, "error: FILE: JSONPATH: reason", then a
 * count.  When all is well it prints one "config ok: ..." line to stdout.
 *
 * What is checked is a list of checkers run in order: the configuration
 * and catalogue first (config_load), then checkers that need the loaded
 * configuration (job files, report definitions: added by later issues
 * to the table `checkers` below).
 */
#include <string.h>

#include "commands.h"
#include "jobs.h"
#include "log.h"
#include "report.h"

static const char usage_config[] =
	"usage: trueup config check\n"
	"Validate the configuration file, the catalogue it names (plans.json,\n"
	"pricing_page.json, stripe_mapping.json), the job files of the jobs\n"
	"directory and the report definitions (each query prepared against the\n"
	"current schema).  Every problem\n"
	"is printed on its own line as\n"
	"  error: FILE: JSONPATH: reason\n"
	"A job step this build does not have yet is a warning, not a problem.\n"
	"Exit status: 0 when everything is valid, 78 when a problem was found,\n"
	"66 when the configuration file cannot be read.\n";

/*
 * A checker of files the configuration points to.  It appends what it
 * finds to probs (problems: the check fails) and warnings (printed, the
 * check still passes), and fills *summary (e.g. "3 jobs", may stay empty);
 * returns 0, or an exit code for a failure that is not a problem of the
 * files (out of memory, say), with e filled.
 */
struct config_checker {
	const char *name;
	int (*check)(const struct cmd_ctx *ctx, const struct config *cfg,
		     struct config_problems *probs, struct config_problems *warnings,
		     char *summary, size_t summarysz, struct err *e);
};

static int check_jobs(const struct cmd_ctx *ctx, const struct config *cfg,
		      struct config_problems *probs, struct config_problems *warnings,
		      char *summary, size_t summarysz, struct err *e)
{
	return jobs_check_all(cfg, ctx->command_available, probs, warnings, summary, summarysz, e);
}

static int check_reports(const struct cmd_ctx *ctx, const struct config *cfg,
			 struct config_problems *probs, struct config_problems *warnings,
			 char *summary, size_t summarysz, struct err *e)
{
	(void)ctx;
	return report_check(cfg, probs, warnings, summary, summarysz, e);
}

static const struct config_checker checkers[] = {
	{ "jobs", check_jobs },
	{ "reports", check_reports },
	{ NULL, NULL }
};

static void print_problems(const struct config_problems *probs, enum log_level level)
{
	size_t i;

	for (i = 0; i < probs->count; i++) {
		const struct config_problem *p = &probs->items[i];

		if (p->path[0])
			log_msg(level, "%s: %s: %s", p->file, p->path, p->reason);
		else
			log_msg(level, "%s: %s", p->file, p->reason);
	}
}

static int config_check(struct cmd_ctx *ctx)
{
	struct config_problems probs = { 0 }, warnings = { 0 };
	struct config *cfg = NULL;
	struct err e = { 0 };
	char summary[512], part[256];
	size_t i, len;
	int rc;

	rc = config_load(ctx->config_path, &cfg, &probs, &e);
	if (rc == EXIT_SOFTWARE) {
		log_error("%s", e.msg);
		config_problems_free(&probs);
		return rc;
	}
	snprintf(summary, sizeof summary, "%zu plan%s, %zu feature%s, %zu price mapping%s",
		 cfg ? cfg->cat.nplans : 0, cfg && cfg->cat.nplans == 1 ? "" : "s",
		 cfg ? cfg->cat.nfeatures : 0, cfg && cfg->cat.nfeatures == 1 ? "" : "s",
		 cfg ? cfg->cat.nmappings : 0, cfg && cfg->cat.nmappings == 1 ? "" : "s");
	for (i = 0; cfg && checkers[i].name; i++) {
		part[0] = '\0';
		err_clear(&e);
		if (checkers[i].check(ctx, cfg, &probs, &warnings, part, sizeof part, &e) != 0) {
			log_error("config check: %s: %s", checkers[i].name, e.msg);
			config_free(cfg);
			config_problems_free(&probs);
			config_problems_free(&warnings);
			return e.code ? e.code : EXIT_SOFTWARE;
		}
		len = strlen(summary);
		if (part[0])
			snprintf(summary + len, sizeof summary - len, ", %s", part);
	}
	print_problems(&warnings, LOG_WARN);
	if (probs.count == 0) {
		out_printf("config ok: %s (catalogue %s)\n", summary, cfg->cat.dir);
	} else {
		print_problems(&probs, LOG_ERROR);
		log_error("config check: %zu problem%s found in \"%s\"", probs.count,
			  probs.count == 1 ? "" : "s", ctx->config_path);
		if (rc == 0)
			rc = EXIT_CONFIG;
	}
	config_free(cfg);
	config_problems_free(&probs);
	config_problems_free(&warnings);
	return rc;
}

int cmd_config(struct cmd_ctx *ctx, int argc, char **argv)
{
	if (cmd_wants_help(argc, argv)) {
		out_printf("%s", usage_config);
		return EXIT_OK;
	}
	if (argc < 2) {
		log_error("config: no subcommand given; see 'trueup config --help'");
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "check") != 0) {
		log_error("config: '%s' is not a config subcommand; see 'trueup config --help'",
			  argv[1]);
		return EXIT_USAGE;
	}
	if (argc > 2) {
		log_error("config check: unexpected argument '%s'", argv[2]);
		return EXIT_USAGE;
	}
	return config_check(ctx);
}
