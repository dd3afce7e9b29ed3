/*
 * main.c - trueup's entry point: global options, the command table, and
 * the set-up every command shares (configuration, database, run record).
 *
 * Order of precedence for the two paths everything hangs on:
 *   config file: --config, $TRUEUP_CONFIG, ./config/trueup.json if present,
 *                else TRUEUP_SYSCONFDIR/trueup.json
 *   database:    --db, $TRUEUP_DB, the config file's "database"
 * $TRUEUP_STRIPE_API_BASE overrides the configured Stripe base URL (applied
 * and checked by config_load).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "log.h"

#ifndef TRUEUP_VERSION
#define TRUEUP_VERSION "dev"
#endif
#ifndef TRUEUP_SYSCONFDIR
#define TRUEUP_SYSCONFDIR "/usr/local/etc/trueup"
#endif

static const struct command commands[] = {
	{ "init", cmd_init, NEED_CONFIG | NEED_DB | CREATE_DB | RECORD_RUN,
	  "create or migrate the database (safe to repeat)" },
	{ "import", cmd_import, NEED_CONFIG | NEED_DB | RECORD_RUN,
	  "load platform state from CSV files in DIR (one transaction)" },
	{ "pull", cmd_pull, NEED_CONFIG | NEED_DB | RECORD_RUN,
	  "snapshot Stripe (incremental unless --full)" },
	{ "reconcile", cmd_reconcile, NEED_CONFIG | NEED_DB | RECORD_RUN,
	  "compute drift findings; print a summary" },
	{ "repair", cmd_repair, NEED_CONFIG | NEED_DB | RECORD_RUN,
	  "show (default) or apply the repairs; export the journal" },
	{ "report", cmd_report, NEED_CONFIG | NEED_DB | RECORD_RUN,
	  "write the CSV reports and summary.html" },
	{ "status", cmd_status, NEED_CONFIG | NEED_DB,
	  "last runs and what the database holds" },
	{ "run", cmd_run, NEED_CONFIG | NEED_DB,
	  "run one job from jobs/ now (for system cron)" },
	{ "schedule", cmd_schedule, NEED_CONFIG | NEED_DB,
	  "run the scheduler: fire jobs by their cron schedule" },
	{ "next", cmd_next, 0,
	  "print the next fire times of a job or a cron schedule" },
	{ "config", cmd_config, 0,
	  "validate config and catalogue ('config check')" },
	{ "test-sleep", cmd_test_sleep, HIDDEN,
	  "sleep N seconds (test-only job step)" },
};

static const char usage_main[] =
	"usage: trueup [--config FILE] [--db FILE] [-v|-q] [--log-format text|json] COMMAND [ARGS]\n"
	"       trueup --version | --help\n";

static void print_help(void)
{
	size_t i;

	out_printf("%s\ncommands:\n", usage_main);
	for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (!(commands[i].flags & HIDDEN))
			out_printf("  %-10s %s\n", commands[i].name, commands[i].summary);
	out_printf("\n'trueup COMMAND --help' shows a command's options.\n"
		   "environment: STRIPE_API_KEY (or the variable the config names), "
		   "TRUEUP_CONFIG, TRUEUP_DB, TRUEUP_STRIPE_API_BASE\n"
		   "exit codes: 0 ok, 1 findings (--fail-on), 2 usage, 65 bad data, "
		   "66 no input, 69 unavailable,\n"
		   "            70 internal error, 73 cannot create output, 74 I/O error, "
		   "75 try again later, 77 permission, 78 config\n");
}

int cmd_wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return 0;
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return 1;
	}
	return 0;
}

static const struct command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static int command_available(const char *name)
{
	return find_command(name) != NULL;
}

static const char *default_config_path(void)
{
	const char *env = getenv("TRUEUP_CONFIG");

	if (env && *env)
		return env;
	if (access("config/trueup.json", F_OK) == 0)
		return "config/trueup.json";
	return TRUEUP_SYSCONFDIR "/trueup.json";
}

/* The command's arguments as a JSON array, for the run row.  No secrets
 * can be there: trueup takes none on the command line. */
static void args_json(int argc, char **argv, char *buf, size_t sz)
{
	size_t o = 0;
	int i;

	o += (size_t)snprintf(buf + o, sz - o, "[");
	for (i = 0; i < argc && o < sz; i++) {
		const char *s;

		o += (size_t)snprintf(buf + o, sz - o, "%s\"", i ? "," : "");
		for (s = argv[i]; *s && o + 8 < sz; s++) {
			if (*s == '"' || *s == '\\')
				buf[o++] = '\\';
			if ((unsigned char)*s < 0x20)
				continue;
			buf[o++] = *s;
		}
		if (o < sz)
			o += (size_t)snprintf(buf + o, sz - o, "\"");
	}
	if (o < sz)
		snprintf(buf + o, sz - o, "]");
	else
		snprintf(buf, sz, "[]");
}

/* Load config, open the database, start the run row, as cmd->flags say. */
static int setup(const struct command *cmd, struct cmd_ctx *ctx, const char *db_opt,
		 int argc, char **argv)
{
	struct config_problems probs = { 0 };
	struct err e = { 0 };
	const char *env;
	int rc;

	if (cmd->flags & NEED_CONFIG) {
		rc = config_load(ctx->config_path, &ctx->cfg, &probs, &e);
		config_problems_free(&probs);
		if (rc != 0) {
			log_error("%s", e.msg);
			return rc;
		}
	}
	if (db_opt)
		ctx->db_path = db_opt;
	else if ((env = getenv("TRUEUP_DB")) && *env)
		ctx->db_path = env;
	else if (ctx->cfg)
		ctx->db_path = ctx->cfg->db_path;
	if (cmd->flags & NEED_DB) {
		rc = db_open(ctx->db_path, (cmd->flags & CREATE_DB) ? DB_OPEN_CREATE
								  : DB_OPEN_EXISTING,
			     &ctx->db, &e);
		if (rc != 0) {
			log_error("%s", e.msg);
			return rc;
		}
	}
	if ((cmd->flags & RECORD_RUN) && ctx->db) {
		char args[1024];

		args_json(argc - 1, argv + 1, args, sizeof args);
		if ((rc = db_run_begin(ctx->db, cmd->name, args, &ctx->run_id, &e)) != 0) {
			log_error("%s", e.msg);
			return rc;
		}
	}
	return 0;
}

static int finish_run(struct cmd_ctx *ctx, int rc)
{
	struct err e = { 0 };
	int ok;

	if (!ctx->db || !ctx->run_id)
		return rc;
	db_tx_rollback(ctx->db);   /* a command never leaves one open; be sure */
	/* EXIT_FINDINGS (reconcile --fail-on) is a result, not a failure */
	ok = rc == 0 || rc == EXIT_FINDINGS;
	if (db_run_end(ctx->db, ctx->run_id, ok ? "ok" : "failed", rc,
		       ctx->run_counts[0] ? ctx->run_counts : NULL,
		       ok ? NULL : log_last_error(), &e) != 0) {
		log_error("%s", e.msg);
		if (rc == 0)
			rc = e.code;
	}
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "db", required_argument, NULL, 'd' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "log-format", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	enum log_level level = LOG_INFO;
	enum log_format format = LOG_TEXT;
	struct cmd_ctx ctx;
	const struct command *cmd;
	const char *config_opt = NULL, *db_opt = NULL;
	int c, rc;

	memset(&ctx, 0, sizeof ctx);
	ctx.argv0 = "trueup";
	ctx.command_available = command_available;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+c:d:vqhV", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config_opt = optarg; break;
		case 'd': db_opt = optarg; break;
		case 'v': level = LOG_DEBUG; break;
		case 'q': level = LOG_ERROR; break;
		case 'L':
			if (strcmp(optarg, "text") == 0)
				format = LOG_TEXT;
			else if (strcmp(optarg, "json") == 0)
				format = LOG_JSON;
			else {
				log_error("--log-format: '%s' is not text or json", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h': print_help(); return EXIT_OK;
		case 'V': out_printf("trueup %s\n", TRUEUP_VERSION); return EXIT_OK;
		default:
			if (optopt)
				log_error("unknown or incomplete option '-%c'", optopt);
			else
				log_error("unknown option '%s'", argv[optind - 1]);
			fputs(usage_main, stderr);
			return EXIT_USAGE;
		}
	}
	log_setup(level, format);
	if (optind >= argc) {
		log_error("no command given");
		fputs(usage_main, stderr);
		return EXIT_USAGE;
	}
	if (!(cmd = find_command(argv[optind]))) {
		log_error("'%s' is not a trueup command; see 'trueup --help'", argv[optind]);
		return EXIT_USAGE;
	}
	argc -= optind;
	argv += optind;
	optind = 0;   /* commands use getopt_long again, from argv[1] */
	if (cmd_wants_help(argc, argv))
		return cmd->fn(&ctx, argc, argv);

	ctx.config_path = config_opt ? config_opt : default_config_path();
	rc = setup(cmd, &ctx, db_opt, argc, argv);
	if (rc == 0) {
		rc = cmd->fn(&ctx, argc, argv);
		rc = finish_run(&ctx, rc);
	}
	db_close(ctx.db);
	config_free(ctx.cfg);
	return rc;
}
