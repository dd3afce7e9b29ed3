/*
 * report_ext.c - the report SQL functions of trueup (src/db_report_fn.c)
 * as an SQLite loadable extension, for bench/report.sh only: with it the
 * sqlite3 shell runs the very same report queries (money(), period_of(),
 * ...) that `trueup report` runs, so the two are compared on one query.
 * Parameters: the UTC zone, monthly periods, no date range.
 *
 *   cc -shared -fPIC -Isrc -o build/default/report_ext.so bench/report_ext.c \
 *      src/db_report_fn.c src/report_money.c src/tz.c src/err.c
 *   sqlite3 db '.load build/default/report_ext.so' 'SELECT money(-1234, "usd")'
 */
#include <sqlite3.h>
#include <string.h>

#include "db_report.h"

static struct tz bench_tz;
static struct db_report_params bench_params;

int sqlite3_reportext_init(sqlite3 *db, char **err, const void *api);

int sqlite3_reportext_init(sqlite3 *db, char **err, const void *api)
{
	(void)err;
	(void)api;
	tz_init_utc(&bench_tz);
	memset(&bench_params, 0, sizeof bench_params);
	bench_params.tz = &bench_tz;
	bench_params.now = 1777680000;   /* 2026-05-02T00:00:00Z, as the benchmark's TRUEUP_NOW */
	return db_report_functions(db, &bench_params);
}
