/*
 * cmd_import.c - `trueup import DIR`: load platform state from the CSV
 * files in DIR (see import.h for the rules) and print a per-file summary:
 *
 *   users.csv               120 rows  (3 new, 1 changed, 116 unchanged)
 *   ...
 *   total                   412 rows  (30 new, 1 changed, 381 unchanged)
 *
 * On failure nothing is written (one transaction), the error goes to the
 * log as "import: FILE:LINE:COLUMN: reason" and the exit code says which
 * class: 65 bad data, 66 DIR missing or empty of known files, 74 I/O.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "import.h"
#include "log.h"

static const char usage_import[] =
	"usage: trueup import DIR\n"
	"Load platform state from the CSV files in DIR (users.csv, tenants.csv,\n"
	"memberships.csv, purchase_intents.csv, subscriptions.csv, entitlements.csv,\n"
	"seat_assignments.csv, courses.csv, events.csv, course_programs.csv,\n"
	"course_steps.csv, enrolments.csv, step_progress.csv, usage.csv), whichever\n"
	"exist, in one transaction: every file is loaded or nothing is.  Rows are\n"
	"upserted by key; rows absent from the files are kept.  Any other *.csv\n"
	"file in DIR is an error.\n";

static void import_print_line(const char *name, const struct import_counts *n)
{
	out_printf("%-22s %8lld rows  (%lld new, %lld changed, %lld unchanged)\n", name,
		   n->rows, n->inserted, n->updated, n->unchanged);
}

/* ctx->run_counts: {"users":{"rows":R,"new":N,"changed":C},...,"total":{...}}. */
static void import_fill_counts(struct cmd_ctx *ctx, const struct import_result *res)
{
	char *buf = ctx->run_counts;
	size_t sz = sizeof ctx->run_counts, len = 0;
	int i, n;

	buf[len++] = '{';
	for (i = 0; i <= IMPORT_NFILES; i++) {
		const struct import_counts *c = i < IMPORT_NFILES ? &res->files[i].n : &res->total;

		if (i < IMPORT_NFILES && !res->files[i].present)
			continue;
		n = snprintf(buf + len, sz - len, "%s\"%s\":{\"rows\":%lld,\"new\":%lld,"
			     "\"changed\":%lld}", len > 1 ? "," : "",
			     i < IMPORT_NFILES ? res->files[i].table : "total",
			     c->rows, c->inserted, c->updated);
		if (n < 0 || (size_t)n >= sz - len - 1) {
			/* Too long: keep the totals only, still valid JSON. */
			snprintf(buf, sz, "{\"total\":{\"rows\":%lld,\"new\":%lld,\"changed\":%lld}}",
				 res->total.rows, res->total.inserted, res->total.updated);
			return;
		}
		len += (size_t)n;
	}
	snprintf(buf + len, sz - len, "}");
}

int cmd_import(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct import_result res;
	struct err e = { 0 };
	const char *dir;
	int rc, i;

	if (cmd_wants_help(argc, argv)) {
		out_printf("%s", usage_import);
		return EXIT_OK;
	}
	if (argc == 3 && strcmp(argv[1], "--") == 0) {
		dir = argv[2];
	} else if (argc == 2 && argv[1][0] == '-' && argv[1][1]) {
		log_error("import: unknown option '%s'; usage: trueup import DIR", argv[1]);
		return EXIT_USAGE;
	} else if (argc == 2) {
		dir = argv[1];
	} else if (argc < 2) {
		log_error("import: no directory given; usage: trueup import DIR");
		return EXIT_USAGE;
	} else {
		log_error("import: expected one directory, got %d arguments; "
			  "usage: trueup import DIR", argc - 1);
		return EXIT_USAGE;
	}
	if (!*dir) {
		log_error("import: empty directory name; usage: trueup import DIR");
		return EXIT_USAGE;
	}
	if ((rc = import_dir(ctx->db, dir, &res, &e)) != 0) {
		log_error("import: %s", e.msg);
		return rc;
	}
	for (i = 0; i < IMPORT_NFILES; i++)
		if (res.files[i].present)
			import_print_line(res.files[i].file, &res.files[i].n);
	import_print_line("total", &res.total);
	import_fill_counts(ctx, &res);
	return EXIT_OK;
}
