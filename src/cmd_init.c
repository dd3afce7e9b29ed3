/*
 * cmd_init.c - `trueup init`: create the database or bring its schema up
 * to date.  Opening the database (main.c, with CREATE_DB) does the work;
 * this command says what happened.  Safe to repeat.
 */
#include <stdio.h>

#include "commands.h"
#include "log.h"

static const char usage_init[] =
	"usage: trueup init\n"
	"Create the database named by --db, $TRUEUP_DB or the config, or apply\n"
	"pending schema migrations to it.  Repeating it changes nothing.\n";

int cmd_init(struct cmd_ctx *ctx, int argc, char **argv)
{
	int latest = db_latest_version();

	(void)argv;
	if (cmd_wants_help(argc, argv)) {
		out_printf("%s", usage_init);
		return EXIT_OK;
	}
	if (argc > 1) {
		log_error("init: takes no arguments");
		return EXIT_USAGE;
	}
	if (ctx->db->created)
		out_printf("created database %s at schema version %d\n", ctx->db_path, latest);
	else if (ctx->db->opened_version < latest)
		out_printf("migrated database %s from schema version %d to %d\n",
			   ctx->db_path, ctx->db->opened_version, latest);
	else
		out_printf("database %s is up to date (schema version %d)\n",
			   ctx->db_path, latest);
	snprintf(ctx->run_counts, sizeof ctx->run_counts,
		 "{\"from_version\":%d,\"to_version\":%d}", ctx->db->opened_version, latest);
	return EXIT_OK;
}
