/*
 * commands.h - the command table's view of each subcommand.
 *
 * Each subcommand lives in src/cmd_<name>.c and exports one function
 *     int cmd_<name>(struct cmd_ctx *ctx, int argc, char **argv);
 * that parses its own options (argv[0] is the command name), calls the
 * modules, prints through log.h and returns an exit code from
 * exitcodes.h.  main.c does the shared setup (global options, config,
 * database) according to the command's flags before calling it.
 */
#ifndef TRUEUP_COMMANDS_H
#define TRUEUP_COMMANDS_H

#include "config.h"
#include "db.h"

struct cmd_ctx {
	const char *argv0;          /* "trueup" */
	const char *config_path;    /* resolved config file path */
	const char *db_path;        /* resolved database path */
	struct config *cfg;         /* loaded when the command has NEED_CONFIG */
	struct db *db;              /* open, migrated, when NEED_DB */
	long long run_id;           /* runs.id when the command has RECORD_RUN, else 0 */
	char run_counts[1024];      /* JSON object a command may fill for its run row */
	/* 1 if this build has command `name` (the command table's view); set by main.c */
	int (*command_available)(const char *name);
};

/* Flags of a command-table entry: what main.c sets up before the call. */
enum {
	NEED_CONFIG = 1 << 0,   /* load and validate the configuration */
	NEED_DB = 1 << 1,       /* open the database and apply migrations */
	RECORD_RUN = 1 << 2,    /* record the invocation in the runs table */
	CREATE_DB = 1 << 3,     /* with NEED_DB: create the file if missing */
	HIDDEN = 1 << 4         /* not listed by --help (test-only commands) */
};

struct command {
	const char *name;
	int (*fn)(struct cmd_ctx *ctx, int argc, char **argv);
	int flags;
	const char *summary;    /* one line for `trueup --help` */
};

int cmd_init(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_import(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_status(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_config(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_next(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_run(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_schedule(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_test_sleep(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_pull(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_reconcile(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_repair(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_report(struct cmd_ctx *ctx, int argc, char **argv);

/*
 * Shared by the cmd_ files: true when argv holds -h or --help before any
 * "--"; then the command prints its usage to stdout and returns EXIT_OK.
 */
int cmd_wants_help(int argc, char **argv);

#endif
