/*
 * db_report_fn.c - the SQL functions report queries may call; see
 * db_report.h.  They only compute (no SQL of their own), with the run's
 * parameters (time zone, period, date range) as the functions' user data:
 *
 *   money(minor, currency)     decimal text by the currency's exponent
 *                              (report_money.h); NULL for a NULL amount
 *   currency_exponent(cur)     0, 2 or 3
 *   epoch(t)                   epoch seconds of t (integer, or ISO 8601
 *                              text: "YYYY-MM-DDTHH:MM[:SS](Z|+hh:mm)" or
 *                              a date "YYYY-MM-DD", read as UTC midnight);
 *                              NULL for NULL or unreadable text
 *   iso_utc(t)                 "YYYY-MM-DDTHH:MM:SSZ"
 *   local_time(t)              ISO 8601 in the reporting zone with offset
 *   period_of(t)               "YYYY-MM" (month) or "YYYY-MM-DD" (day) of t
 *                              in the reporting zone
 *   month_of(t)                "YYYY-MM" of t in the reporting zone, whatever
 *                              the period
 *   period_start(t), period_end(t)  epoch seconds of that period's first
 *                              instant and of the next period's: [start, end)
 *   in_range(t)                1 when t is inside the run's [from, to)
 *                              (always 1 without a range; a NULL t is in
 *                              range only when there is no range)
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "db_report.h"
#include "report_money.h"

/* t's epoch seconds into *out; 0 when t is NULL or unreadable. */
static int value_epoch(sqlite3_value *v, long long *out)
{
	int64_t t;
	const char *s;
	int y, m, d;
	char tail;

	switch (sqlite3_value_type(v)) {
	case SQLITE_INTEGER:
		*out = sqlite3_value_int64(v);
		return 1;
	case SQLITE_FLOAT:
		*out = (long long)sqlite3_value_double(v);
		return 1;
	case SQLITE_TEXT:
		s = (const char *)sqlite3_value_text(v);
		if (!s)
			return 0;
		if (strlen(s) == 10 && sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) == 3 &&
		    m >= 1 && m <= 12 && d >= 1 && d <= tz_days_in_month(y, m)) {
			*out = (long long)tz_days_from_civil(y, m, d) * 86400;
			return 1;
		}
		if (tz_parse_iso(s, &t, NULL) != 0)
			return 0;
		*out = (long long)t;
		return 1;
	default:
		return 0;
	}
}

/* The UTC instant of local wall-clock seconds l (the later one in a repeat). */
static long long local_to_utc(const struct tz *tz, long long l)
{
	long long t = l - tz_utoff_at(tz, l);

	return l - tz_utoff_at(tz, t);
}

void db_report_period(const struct db_report_params *p, long long t, int day, char *label,
		      size_t sz, long long *start, long long *end)
{
	struct tz_civil c;
	long long s, n;
	int y, m, d, ny, nm;

	tz_civil_from_secs(t + tz_utoff_at(p->tz, t), &c);
	y = (int)c.year;
	m = c.month;
	d = c.day;
	if (day) {
		s = (long long)tz_days_from_civil(y, m, d) * 86400;
		n = s + 86400;
		if (label)
			snprintf(label, sz, "%04d-%02d-%02d", y, m, d);
	} else {
		ny = m == 12 ? y + 1 : y;
		nm = m == 12 ? 1 : m + 1;
		s = (long long)tz_days_from_civil(y, m, 1) * 86400;
		n = (long long)tz_days_from_civil(ny, nm, 1) * 86400;
		if (label)
			snprintf(label, sz, "%04d-%02d", y, m);
	}
	*start = local_to_utc(p->tz, s);
	*end = local_to_utc(p->tz, n);
}

static void fn_money(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	char buf[40];
	int n;

	(void)argc;
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL)
		return;
	n = report_money_format(sqlite3_value_int64(argv[0]),
				(const char *)sqlite3_value_text(argv[1]), buf, sizeof buf);
	sqlite3_result_text(ctx, buf, n, SQLITE_TRANSIENT);
}

static void fn_exponent(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	sqlite3_result_int(ctx, report_money_exponent((const char *)sqlite3_value_text(argv[0])));
}

static void fn_epoch(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	long long t;

	(void)argc;
	if (value_epoch(argv[0], &t))
		sqlite3_result_int64(ctx, t);
}

static void fn_iso_utc(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	long long t;
	time_t tt;
	struct tm tm;
	char buf[32];

	(void)argc;
	if (!value_epoch(argv[0], &t))
		return;
	tt = (time_t)t;
	if (!gmtime_r(&tt, &tm))
		return;
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
	sqlite3_result_text(ctx, buf, -1, SQLITE_TRANSIENT);
}

static void fn_local_time(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const struct db_report_params *p = sqlite3_user_data(ctx);
	long long t;
	char buf[48];

	(void)argc;
	if (!value_epoch(argv[0], &t))
		return;
	tz_format_iso(p->tz, t, buf, sizeof buf);
	sqlite3_result_text(ctx, buf, -1, SQLITE_TRANSIENT);
}

static void fn_period_of(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const struct db_report_params *p = sqlite3_user_data(ctx);
	long long t, s, n;
	char label[32];

	(void)argc;
	if (!value_epoch(argv[0], &t))
		return;
	db_report_period(p, t, p->period_day, label, sizeof label, &s, &n);
	sqlite3_result_text(ctx, label, -1, SQLITE_TRANSIENT);
}

static void fn_month_of(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const struct db_report_params *p = sqlite3_user_data(ctx);
	long long t, s, n;
	char label[32];

	(void)argc;
	if (!value_epoch(argv[0], &t))
		return;
	db_report_period(p, t, 0, label, sizeof label, &s, &n);
	sqlite3_result_text(ctx, label, -1, SQLITE_TRANSIENT);
}

/* period_start(t) (end = 0) and period_end(t) (end = 1). */
static void period_bound(sqlite3_context *ctx, sqlite3_value **argv, int end)
{
	const struct db_report_params *p = sqlite3_user_data(ctx);
	long long t, s, n;

	if (!value_epoch(argv[0], &t))
		return;
	db_report_period(p, t, p->period_day, NULL, 0, &s, &n);
	sqlite3_result_int64(ctx, end ? n : s);
}

static void fn_period_start(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	period_bound(ctx, argv, 0);
}

static void fn_period_end(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	period_bound(ctx, argv, 1);
}

static void fn_in_range(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const struct db_report_params *p = sqlite3_user_data(ctx);
	long long t;

	(void)argc;
	if (!value_epoch(argv[0], &t)) {
		sqlite3_result_int(ctx, !p->has_from && !p->has_to);
		return;
	}
	sqlite3_result_int(ctx, (!p->has_from || t >= p->from) && (!p->has_to || t < p->to));
}

int db_report_functions(void *handle, const struct db_report_params *p)
{
	static const struct {
		const char *name;
		int nargs;
		void (*fn)(sqlite3_context *, int, sqlite3_value **);
	} fns[] = {
		{ "money", 2, fn_money }, { "currency_exponent", 1, fn_exponent },
		{ "epoch", 1, fn_epoch }, { "iso_utc", 1, fn_iso_utc },
		{ "local_time", 1, fn_local_time }, { "period_of", 1, fn_period_of },
		{ "month_of", 1, fn_month_of },
		{ "period_start", 1, fn_period_start }, { "period_end", 1, fn_period_end },
		{ "in_range", 1, fn_in_range }
	};
	sqlite3 *h = handle;
	size_t i;
	int rc;

	for (i = 0; i < sizeof fns / sizeof fns[0]; i++)
		if ((rc = sqlite3_create_function_v2(h, fns[i].name, fns[i].nargs,
						     SQLITE_UTF8 | SQLITE_DETERMINISTIC,
						     (void *)p, fns[i].fn, NULL, NULL, NULL)) != SQLITE_OK)
			return rc;
	return SQLITE_OK;
}
