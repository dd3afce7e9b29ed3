/*
 * cmd_status.c - `trueup status`: what the database holds and the last
 * runs.  Later issues add open drift by rule and snapshot freshness.
 */
#include <getopt.h>
#include <stdlib.h>

#include "commands.h"
#include "log.h"

static const char usage_status[] =
	"usage: trueup status [-n N]\n"
	"Show the schema version, the rows of each platform table and the\n"
	"last N runs (default 10).\n";

static int print_count(const char *table, long long rows, void *arg)
{
	(void)arg;
	out_printf("  %-18s %10lld\n", table, rows);
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
	out_printf("last runs:\n");
	if ((rc = db_runs_recent(ctx->db, limit, print_run, NULL, &e)) != 0) {
		log_error("status: %s", e.msg);
		return rc;
	}
	return EXIT_OK;
}
