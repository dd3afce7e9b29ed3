/*
 * gen_platform_main.c - the command line of the synthetic platform
 * generator (gen_platform.h):
 *
 *   gen_platform --db FILE --tenants N [--drift FRACTION] [--seed S]
 *                [--now ISO8601] [--expected FILE] [--batch N] [--raw-bytes N]
 *
 * FILE must be an initialised, empty trueup database (`trueup --db FILE
 * init`).  --now is the time reconcile will run at (pass the same value
 * as TRUEUP_NOW; default 2026-05-02T00:00:00Z).  --expected writes the
 * open findings reconcile must report, "rule<TAB>subject<TAB>cause" a
 * line, sorted.  Prints one summary line.  Exit 0, 2 for a bad command
 * line, 1 when generating fails (the database is then incomplete).
 *
 * Built by bench/reconcile_scale.sh against $BUILD/libtrueup.a (for the
 * ISO 8601 parser) with the project's warning flags.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gen_platform.h"
#include "tz.h"

static const char usage[] =
	"usage: gen_platform --db FILE --tenants N [--drift FRACTION] [--seed S]\n"
	"                    [--now ISO8601] [--expected FILE] [--batch N] [--raw-bytes N]\n";

static int number(const char *s, const char *what, long long min, long long *out)
{
	char *end;
	long long v = strtoll(s, &end, 10);

	if (!*s || *end || v < min) {
		fprintf(stderr, "gen_platform: %s: '%s' is not a whole number >= %lld\n", what, s, min);
		return -1;
	}
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "tenants", required_argument, NULL, 't' },
		{ "drift", required_argument, NULL, 'f' },
		{ "seed", required_argument, NULL, 's' },
		{ "now", required_argument, NULL, 'n' },
		{ "expected", required_argument, NULL, 'e' },
		{ "batch", required_argument, NULL, 'b' },
		{ "raw-bytes", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct gen_opts o = { .units = 0, .drift = 0, .seed = 1, .now = 1777680000LL };
	struct gen_result res;
	const char *dbpath = NULL, *expected = NULL;
	char msg[512], *end;
	struct timespec t0, t1;
	sqlite3 *db = NULL;
	long long seed;
	int c, rc = 1;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dbpath = optarg; break;
		case 'e': expected = optarg; break;
		case 't': if (number(optarg, "--tenants", 1, &o.units)) return 2; break;
		case 'b': if (number(optarg, "--batch", 1, &o.batch)) return 2; break;
		case 'r': if (number(optarg, "--raw-bytes", 0, &o.raw_bytes)) return 2; break;
		case 's':
			if (number(optarg, "--seed", 0, &seed))
				return 2;
			o.seed = (unsigned long long)seed;
			break;
		case 'f':
			o.drift = strtod(optarg, &end);
			if (!*optarg || *end || o.drift < 0 || o.drift > 1) {
				fprintf(stderr, "gen_platform: --drift: '%s' is not a fraction in [0, 1]\n",
					optarg);
				return 2;
			}
			break;
		case 'n': {
			struct err e = { 0 };
			int64_t t;

			if (tz_parse_iso(optarg, &t, &e) != 0) {
				fprintf(stderr, "gen_platform: --now: %s\n", e.msg);
				return 2;
			}
			o.now = (long long)t;
			break;
		}
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (!dbpath || o.units < 1 || optind < argc) {
		fputs(usage, stderr);
		return 2;
	}
	if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		fprintf(stderr, "gen_platform: %s: %s\n", dbpath, db ? sqlite3_errmsg(db) : "cannot open");
		sqlite3_close(db);
		return 1;
	}
	sqlite3_busy_timeout(db, 5000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (gen_platform(db, &o, &res, msg, sizeof msg) != 0) {
		fprintf(stderr, "gen_platform: %s: %s\n", dbpath, msg);
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (expected && gen_write_expected(&res, expected) != 0) {
		perror(expected);
		goto out;
	}
	printf("generated %lld units (%lld tenants, %lld rows) with %lld drifted and %zu expected "
	       "findings in %.1f s\n", o.units, res.tenants, res.rows, res.drifted, res.n,
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	rc = 0;
out:
	gen_result_free(&res);
	sqlite3_close(db);
	return rc;
}
