/*
 * test_cron.c - unit tests of the cron expression module (src/cron.c) and
 * the time-zone reader it uses (src/tz.c).
 *
 * Expected fire times were worked out by hand from the calendar and the
 * tzdata rules (Europe/Berlin: last Sunday of March 02:00 -> 03:00, last
 * Sunday of October 03:00 -> 02:00; America/New_York: second Sunday of
 * March 02:00 -> 03:00, first Sunday of November 02:00 -> 01:00) and
 * cross-checked against Python's zoneinfo.  The zone tests need the
 * system zoneinfo (Debian package tzdata); "UTC" tests do not.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cron.h"
#include "harness.h"
#include "tz.h"

static char result[65536];

/* The parse error of expr, or "ok". */
static const char *parse_msg(const char *expr)
{
	struct cron c;
	struct err e;

	err_clear(&e);
	if (cron_parse(&c, expr, &e) == 0)
		return "ok";
	snprintf(result, sizeof result, "%s", e.msg);
	return result;
}

/* Parse expr that must be valid (a failed CHECK otherwise). */
static struct cron parsed(const char *expr)
{
	struct cron c;
	struct err e;

	err_clear(&e);
	if (cron_parse(&c, expr, &e) != 0) {
		printf("  unexpected parse error for \"%s\": %s\n", expr, e.msg);
		harness_cur_failed = 1;
	}
	return c;
}

/*
 * The next n fire times of expr in zone strictly after from, as ISO 8601
 * strings separated by one space; "none" where the search gives up;
 * "error: ..." if the expression, zone or from is bad.
 */
static const char *nexts(const char *expr, const char *zone, const char *from, int n)
{
	struct cron c;
	struct tz tz;
	struct err e;
	int64_t t, next;
	size_t used = 0;
	char one[64];
	int i;

	err_clear(&e);
	result[0] = '\0';
	if (cron_parse(&c, expr, &e) || tz_load(&tz, zone, &e) || tz_parse_iso(from, &t, &e)) {
		snprintf(result, sizeof result, "error: %s", e.msg);
		return result;
	}
	for (i = 0; i < n; i++) {
		if (cron_next(&c, &tz, t, &next) != 0) {
			snprintf(one, sizeof one, "none");
		} else {
			tz_format_iso(&tz, next, one, sizeof one);
			t = next;
		}
		used += (size_t)snprintf(result + used, sizeof result - used, "%s%s", i ? " " : "", one);
		if (strcmp(one, "none") == 0 || used >= sizeof result)
			break;
	}
	tz_free(&tz);
	return result;
}

/* Only the n-th of the next n fire times (see nexts()). */
static const char *last_of(const char *expr, const char *zone, const char *from, int n)
{
	char *sp;

	nexts(expr, zone, from, n);
	sp = strrchr(result, ' ');
	return sp ? sp + 1 : result;
}

static int64_t iso(const char *s)
{
	int64_t t = 0;
	struct err e;

	if (tz_parse_iso(s, &t, &e) != 0) {
		printf("  bad test time \"%s\": %s\n", s, e.msg);
		harness_cur_failed = 1;
	}
	return t;
}

/* ---- parsing: errors ---- */

static void test_range_errors(void)
{
	CHECK_STR(parse_msg("60 * * * *"), "field 1 (minute): 60 is out of range 0-59");
	CHECK_STR(parse_msg("* 24 * * *"), "field 2 (hour): 24 is out of range 0-23");
	CHECK_STR(parse_msg("* * 0 * *"), "field 3 (day of month): 0 is out of range 1-31");
	CHECK_STR(parse_msg("* * 32 * *"), "field 3 (day of month): 32 is out of range 1-31");
	CHECK_STR(parse_msg("* * * 0 *"), "field 4 (month): 0 is out of range 1-12");
	CHECK_STR(parse_msg("* * * 13 *"), "field 4 (month): 13 is out of range 1-12");
	CHECK_STR(parse_msg("* * * * 8"), "field 5 (day of week): 8 is out of range 0-7");
	CHECK_STR(parse_msg("0-60 * * * *"), "field 1 (minute): 60 is out of range 0-59");
	CHECK_STR(parse_msg("1,2,99 * * * *"), "field 1 (minute): 99 is out of range 0-59");
	CHECK_STR(parse_msg("99999999999 * * * *"),
		  "field 1 (minute): 99999999999 is out of range 0-59");
	CHECK_STR(parse_msg("* 023 * * *"), "ok");
	CHECK_STR(parse_msg("* 024 * * *"), "field 2 (hour): 024 is out of range 0-23");
}

static void test_step_errors(void)
{
	CHECK_STR(parse_msg("*/0 * * * *"), "field 1 (minute): step 0 is not allowed");
	CHECK_STR(parse_msg("* 1-5/0 * * *"), "field 2 (hour): step 0 is not allowed");
	CHECK_STR(parse_msg("*/60 * * * *"), "field 1 (minute): step 60 is out of range 1-59");
	CHECK_STR(parse_msg("*/ * * * *"), "field 1 (minute): missing step after \"/\"");
	CHECK_STR(parse_msg("* * * */x *"), "field 4 (month): step \"x\" is not a number");
	CHECK_STR(parse_msg("*/5/2 * * * *"), "field 1 (minute): unexpected character \"/\"");
}

static void test_syntax_errors(void)
{
	CHECK_STR(parse_msg("* * * *"), "expected 5 fields, got 4");
	CHECK_STR(parse_msg("* * * * * *"), "expected 5 fields, got 6");
	CHECK_STR(parse_msg(""), "expected 5 fields, got 0");
	CHECK_STR(parse_msg("   "), "expected 5 fields, got 0");
	CHECK_STR(parse_msg("* * * FOO *"), "field 4 (month): unknown name \"FOO\"");
	CHECK_STR(parse_msg("* * * january *"), "field 4 (month): unknown name \"january\"");
	CHECK_STR(parse_msg("* * * * funday"), "field 5 (day of week): unknown name \"funday\"");
	CHECK_STR(parse_msg("abc * * * *"), "field 1 (minute): \"abc\" is not a number");
	CHECK_STR(parse_msg("* * mon * *"), "field 3 (day of month): \"mon\" is not a number");
	CHECK_STR(parse_msg("5x * * * *"), "field 1 (minute): unexpected character \"x\"");
	CHECK_STR(parse_msg("1,,2 * * * *"), "field 1 (minute): empty item in list");
	CHECK_STR(parse_msg("1, * * * *"), "field 1 (minute): empty item in list");
	CHECK_STR(parse_msg(",1 * * * *"), "field 1 (minute): empty item in list");
	CHECK_STR(parse_msg("5- * * * *"), "field 1 (minute): range has no end");
	CHECK_STR(parse_msg("-5 * * * *"), "field 1 (minute): unexpected character \"-\"");
	CHECK_STR(parse_msg("*5 * * * *"), "field 1 (minute): unexpected character \"5\"");
	CHECK_STR(parse_msg("30-10 * * * *"), "field 1 (minute): range \"30-10\" is reversed");
	CHECK_STR(parse_msg("* * * dec-jan *"), "field 4 (month): range \"dec-jan\" is reversed");
	CHECK_STR(parse_msg("* * * * fri-mon"), "field 5 (day of week): range \"fri-mon\" is reversed");
	CHECK_STR(parse_msg("* * * * 6-1"), "field 5 (day of week): range \"6-1\" is reversed");
	CHECK_STR(parse_msg("* * 5-1 * *"), "field 3 (day of month): range \"5-1\" is reversed");
}

static void test_macro_errors(void)
{
	const char *m = parse_msg("@reboot");

	CHECK_CONTAINS(m, "@reboot is not supported");
	CHECK_CONTAINS(m, "no notion of a system boot");
	CHECK(strchr(parse_msg("@reboot"), '\n') == NULL);
	CHECK_CONTAINS(parse_msg("@fortnightly"), "unknown macro \"@fortnightly\"");
	CHECK_STR(parse_msg("@daily now"), "unexpected \"now\" after @daily");
	CHECK_STR(parse_msg("  @daily  "), "ok");
}

/* ---- parsing: what the fields mean ---- */

static void test_field_bits(void)
{
	struct cron c;

	c = parsed("*/15 * * * *");
	CHECK(c.minute == ((1ULL << 0) | (1ULL << 15) | (1ULL << 30) | (1ULL << 45)));
	c = parsed("5/20 * * * *");     /* cronie: N/s is N-max/s */
	CHECK(c.minute == ((1ULL << 5) | (1ULL << 25) | (1ULL << 45)));
	c = parsed("10-30/10 * * * *");
	CHECK(c.minute == ((1ULL << 10) | (1ULL << 20) | (1ULL << 30)));
	c = parsed("1,5-7,*/30 * * * *");   /* each item steps afresh */
	CHECK(c.minute == ((1ULL << 0) | (1ULL << 1) | (1ULL << 5) | (1ULL << 6) | (1ULL << 7) |
			   (1ULL << 30)));
	c = parsed("* 1-23/11 * * *");
	CHECK_INT(c.hour, (1u << 1) | (1u << 12) | (1u << 23));
	c = parsed("* * * jan,MAR,Dec *");
	CHECK_INT(c.month, (1u << 1) | (1u << 3) | (1u << 12));
	c = parsed("* * * Feb-apr/2 *");
	CHECK_INT(c.month, (1u << 2) | (1u << 4));
	c = parsed("* * * * mon-fri/2");
	CHECK_INT(c.dow, (1u << 1) | (1u << 3) | (1u << 5));
	c = parsed("* * * * mon/2");        /* mon-7/2: mon, wed, fri, sun */
	CHECK_INT(c.dow, (1u << 0) | (1u << 1) | (1u << 3) | (1u << 5));
	c = parsed("* * * * */2");
	CHECK_INT(c.dow, (1u << 0) | (1u << 2) | (1u << 4) | (1u << 6));
}

static void test_sunday_and_wrap(void)
{
	CHECK_INT(parsed("* * * * 7").dow, 1);
	CHECK_INT(parsed("* * * * 0").dow, 1);
	CHECK_INT(parsed("* * * * SUN").dow, 1);
	CHECK_INT(parsed("* * * * 0,7").dow, 1);
	CHECK_INT(parsed("* * * * fri-sun").dow, (1 << 5) | (1 << 6) | 1);
	CHECK_INT(parsed("* * * * 5-0").dow, (1 << 5) | (1 << 6) | 1);
	CHECK_INT(parsed("* * * * 5-7").dow, (1 << 5) | (1 << 6) | 1);
	CHECK_INT(parsed("* * * * sun-sat").dow, 0x7f);
	CHECK_STR(nexts("0 12 * * 7", "UTC", "2026-01-01T00:00:00Z", 2),
		  "2026-01-04T12:00:00+00:00 2026-01-11T12:00:00+00:00");
}

static void test_flags(void)
{
	CHECK_INT(parsed("*/5 1 1 * 1").flags, CRON_MIN_STAR);
	CHECK_INT(parsed("0 */2 */2 1 1").flags, CRON_HOUR_STAR | CRON_DOM_STAR);
	CHECK_INT(parsed("* * * * *").flags,
		  CRON_MIN_STAR | CRON_HOUR_STAR | CRON_DOM_STAR | CRON_DOW_STAR);
	CHECK_INT(parsed("0 0 1 * *").flags, CRON_DOW_STAR);
	CHECK_INT(parsed("0 0 1-31 * 0-7").flags, 0);
	CHECK(cron_is_fixed_time(&(struct cron){ 0 }) == 1);
	{
		struct cron a = parsed("30 2 * * *"), b = parsed("0,30 9-17 * * *"),
			    w1 = parsed("*/15 2 * * *"), w2 = parsed("0 * * * *");

		CHECK(cron_is_fixed_time(&a));
		CHECK(cron_is_fixed_time(&b));
		CHECK(!cron_is_fixed_time(&w1));
		CHECK(!cron_is_fixed_time(&w2));
	}
}

static void test_macros(void)
{
	static const char *const pairs[][2] = {
		{ "@yearly", "0 0 1 1 *" }, { "@annually", "0 0 1 1 *" },
		{ "@monthly", "0 0 1 * *" }, { "@weekly", "0 0 * * 0" },
		{ "@daily", "0 0 * * *" }, { "@midnight", "0 0 * * *" },
		{ "@hourly", "0 * * * *" }, { "@DAILY", "0 0 * * *" },
	};
	size_t i;

	for (i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
		struct cron a = parsed(pairs[i][0]), b = parsed(pairs[i][1]);

		CHECK(memcmp(&a, &b, sizeof a) == 0);
	}
	CHECK_STR(nexts("@weekly", "UTC", "2026-01-07T10:00:00Z", 2),
		  "2026-01-11T00:00:00+00:00 2026-01-18T00:00:00+00:00");
	CHECK_STR(nexts("@hourly", "UTC", "2026-01-07T10:00:00Z", 2),
		  "2026-01-07T11:00:00+00:00 2026-01-07T12:00:00+00:00");
	CHECK_STR(nexts("@yearly", "UTC", "2026-01-01T00:00:00Z", 2),
		  "2027-01-01T00:00:00+00:00 2028-01-01T00:00:00+00:00");
	CHECK_STR(nexts("@monthly", "UTC", "2026-12-15T00:00:00Z", 1), "2027-01-01T00:00:00+00:00");
}

/* ---- next fire times in UTC ---- */

static void test_next_basic(void)
{
	CHECK_STR(nexts("* * * * *", "UTC", "2026-01-01T00:00:00Z", 2),
		  "2026-01-01T00:01:00+00:00 2026-01-01T00:02:00+00:00");
	CHECK_STR(nexts("* * * * *", "UTC", "2026-01-01T00:00:30Z", 1), "2026-01-01T00:01:00+00:00");
	CHECK_STR(nexts("*/20 9-10 * * *", "UTC", "2026-05-05T08:59:59Z", 7),
		  "2026-05-05T09:00:00+00:00 2026-05-05T09:20:00+00:00 2026-05-05T09:40:00+00:00 "
		  "2026-05-05T10:00:00+00:00 2026-05-05T10:20:00+00:00 2026-05-05T10:40:00+00:00 "
		  "2026-05-06T09:00:00+00:00");
	/* --from with an offset is the same instant. */
	CHECK_STR(nexts("0 12 * * *", "UTC", "2026-05-05T13:30:00+02:00", 1),
		  "2026-05-05T12:00:00+00:00");
	CHECK_STR(nexts("0 12 * * *", "UTC", "2026-05-05T14:30:00+02:00", 1),
		  "2026-05-06T12:00:00+00:00");
}

static void test_rollovers(void)
{
	CHECK_STR(nexts("59 23 31 12 *", "UTC", "2026-12-31T23:59:00Z", 1),
		  "2027-12-31T23:59:00+00:00");
	CHECK_STR(nexts("0 0 31 * *", "UTC", "2026-01-31T00:00:00Z", 3),
		  "2026-03-31T00:00:00+00:00 2026-05-31T00:00:00+00:00 2026-07-31T00:00:00+00:00");
	CHECK_STR(nexts("0 0 * * *", "UTC", "2026-02-28T12:00:00Z", 2),
		  "2026-03-01T00:00:00+00:00 2026-03-02T00:00:00+00:00");
	CHECK_STR(nexts("0 0 * * *", "UTC", "2028-02-28T12:00:00Z", 1), "2028-02-29T00:00:00+00:00");
	CHECK_STR(nexts("15 10 * nov *", "UTC", "2026-11-30T10:15:00Z", 1),
		  "2027-11-01T10:15:00+00:00");
}

static void test_leap_years(void)
{
	CHECK_STR(nexts("0 0 29 2 *", "UTC", "2026-01-01T00:00:00Z", 3),
		  "2028-02-29T00:00:00+00:00 2032-02-29T00:00:00+00:00 2036-02-29T00:00:00+00:00");
	/* 2100 is not a leap year. */
	CHECK_STR(nexts("0 0 29 2 *", "UTC", "2096-03-01T00:00:00Z", 1), "2104-02-29T00:00:00+00:00");
	/* 2000 is. */
	CHECK_STR(nexts("0 0 29 2 *", "UTC", "1999-01-01T00:00:00Z", 1), "2000-02-29T00:00:00+00:00");
}

static void test_dom_dow_rule(void)
{
	/* Both restricted: either matches (1st of the month OR Monday). */
	CHECK_STR(nexts("0 0 1 * MON", "UTC", "2026-05-31T12:00:00Z", 6),
		  "2026-06-01T00:00:00+00:00 2026-06-08T00:00:00+00:00 2026-06-15T00:00:00+00:00 "
		  "2026-06-22T00:00:00+00:00 2026-06-29T00:00:00+00:00 2026-07-01T00:00:00+00:00");
	/* The classic: Friday or the 13th. */
	CHECK_STR(nexts("0 0 13 * 5", "UTC", "2026-01-01T00:00:00Z", 5),
		  "2026-01-02T00:00:00+00:00 2026-01-09T00:00:00+00:00 2026-01-13T00:00:00+00:00 "
		  "2026-01-16T00:00:00+00:00 2026-01-23T00:00:00+00:00");
	/* DOM starts with '*': both bit sets must match (cronie), so only Mondays on odd days. */
	CHECK_STR(nexts("0 0 */2 * MON", "UTC", "2026-05-31T12:00:00Z", 6),
		  "2026-06-01T00:00:00+00:00 2026-06-15T00:00:00+00:00 2026-06-29T00:00:00+00:00 "
		  "2026-07-13T00:00:00+00:00 2026-07-27T00:00:00+00:00 2026-08-03T00:00:00+00:00");
	/* "1-31/2" is a restricted DOM, so it is OR again: every odd day plus Mondays. */
	CHECK_STR(nexts("0 0 1-31/2 * MON", "UTC", "2026-06-01T12:00:00Z", 4),
		  "2026-06-03T00:00:00+00:00 2026-06-05T00:00:00+00:00 2026-06-07T00:00:00+00:00 "
		  "2026-06-08T00:00:00+00:00");
	/* DOW '*': the DOM alone decides. */
	CHECK_STR(nexts("0 0 15 * *", "UTC", "2026-06-01T00:00:00Z", 2),
		  "2026-06-15T00:00:00+00:00 2026-07-15T00:00:00+00:00");
	/* DOM '*': the DOW alone decides. */
	CHECK_STR(nexts("0 0 * * sat,sun", "UTC", "2026-06-01T00:00:00Z", 3),
		  "2026-06-06T00:00:00+00:00 2026-06-07T00:00:00+00:00 2026-06-13T00:00:00+00:00");
}

static void test_impossible_dates(void)
{
	struct cron c;
	int64_t next = 42;

	c = parsed("0 0 30 2 *");
	CHECK(cron_never_fires(&c));
	CHECK_INT(cron_next(&c, &(struct tz){ .name = "UTC" }, 0, &next), CRON_NONE);
	CHECK_INT(next, 42);
	c = parsed("0 0 31 4 *");
	CHECK(cron_never_fires(&c));
	c = parsed("0 0 31 4,6,9,11 *");
	CHECK(cron_never_fires(&c));
	c = parsed("0 0 30,31 2 */3");      /* '*' DOW: AND rule, still impossible */
	CHECK(cron_never_fires(&c));
	c = parsed("0 0 31 4 mon");         /* both restricted: Mondays in April */
	CHECK(!cron_never_fires(&c));
	c = parsed("0 0 29 2 *");
	CHECK(!cron_never_fires(&c));
	c = parsed("0 0 31 1-12 *");
	CHECK(!cron_never_fires(&c));
	CHECK_STR(nexts("0 0 30 2 *", "UTC", "2026-01-01T00:00:00Z", 1), "none");
	CHECK_STR(nexts("0 0 31 4 mon", "UTC", "2026-01-01T00:00:00Z", 1),
		  "2026-04-06T00:00:00+00:00");
	/* Rare but possible: Feb 29 on a Sunday (AND rule) - 2032, then 2060. */
	CHECK_STR(nexts("0 0 29 2 */7", "UTC", "2026-01-01T00:00:00Z", 2),
		  "2032-02-29T00:00:00+00:00 2060-02-29T00:00:00+00:00");
	/* Nothing past 9999-12-31. */
	CHECK_STR(nexts("0 0 1 1 *", "UTC", "9998-06-01T00:00:00Z", 2),
		  "9999-01-01T00:00:00+00:00 none");
}

/* ---- DST ---- */

static void test_dst_berlin_fixed(void)
{
	/* Spring forward 2026-03-29 02:00 CET -> 03:00 CEST (01:00Z): 02:30 runs at 03:00. */
	CHECK_STR(nexts("30 2 * * *", "Europe/Berlin", "2026-03-28T00:00:00+01:00", 3),
		  "2026-03-28T02:30:00+01:00 2026-03-29T03:00:00+02:00 2026-03-30T02:30:00+02:00");
	CHECK_INT(iso("2026-03-29T03:00:00+02:00"), iso("2026-03-29T01:00:00Z"));
	/* From the very instant of the catch-up run, the next is the following day. */
	CHECK_STR(nexts("30 2 * * *", "Europe/Berlin", "2026-03-29T03:00:00+02:00", 1),
		  "2026-03-30T02:30:00+02:00");
	/* Several times in the gap still give one run; 03:00 itself is not doubled. */
	CHECK_STR(nexts("0,15,30,45 2 * * *", "Europe/Berlin", "2026-03-29T01:50:00+01:00", 2),
		  "2026-03-29T03:00:00+02:00 2026-03-30T02:00:00+02:00");
	CHECK_STR(nexts("0 2,3 * * *", "Europe/Berlin", "2026-03-29T00:00:00+01:00", 3),
		  "2026-03-29T03:00:00+02:00 2026-03-30T02:00:00+02:00 2026-03-30T03:00:00+02:00");
	/* Fall back 2026-10-25 03:00 CEST -> 02:00 CET: 02:30 runs once, the first time. */
	CHECK_STR(nexts("30 2 * * *", "Europe/Berlin", "2026-10-24T12:00:00Z", 2),
		  "2026-10-25T02:30:00+02:00 2026-10-26T02:30:00+01:00");
	CHECK_STR(nexts("30 2 * * *", "Europe/Berlin", "2026-10-25T02:45:00+02:00", 1),
		  "2026-10-26T02:30:00+01:00");
	/* After the rules in the file run out (the POSIX footer): 2040. */
	CHECK_STR(nexts("30 2 * * *", "Europe/Berlin", "2040-03-24T12:00:00Z", 2),
		  "2040-03-25T03:00:00+02:00 2040-03-26T02:30:00+02:00");
}

static void test_dst_berlin_wildcard(void)
{
	/* In the gap nothing fires: 01:45 CET is followed by 03:00 CEST. */
	CHECK_STR(nexts("*/15 * * * *", "Europe/Berlin", "2026-03-29T01:30:00+01:00", 3),
		  "2026-03-29T01:45:00+01:00 2026-03-29T03:00:00+02:00 2026-03-29T03:15:00+02:00");
	CHECK_STR(nexts("0 * * * *", "Europe/Berlin", "2026-03-29T00:30:00+01:00", 3),
		  "2026-03-29T01:00:00+01:00 2026-03-29T03:00:00+02:00 2026-03-29T04:00:00+02:00");
	/* In the repeat both occurrences fire. */
	CHECK_STR(nexts("*/30 * * * *", "Europe/Berlin", "2026-10-25T01:45:00+02:00", 5),
		  "2026-10-25T02:00:00+02:00 2026-10-25T02:30:00+02:00 2026-10-25T02:00:00+01:00 "
		  "2026-10-25T02:30:00+01:00 2026-10-25T03:00:00+01:00");
	CHECK_STR(nexts("0 * * * *", "Europe/Berlin", "2026-10-25T00:30:00+02:00", 4),
		  "2026-10-25T01:00:00+02:00 2026-10-25T02:00:00+02:00 2026-10-25T02:00:00+01:00 "
		  "2026-10-25T03:00:00+01:00");
	/* A wildcard job that only matches inside the gap: skips 2026, fires in 2027. */
	CHECK_STR(nexts("*/15 2 29 3 *", "Europe/Berlin", "2026-03-01T00:00:00Z", 2),
		  "2027-03-29T02:00:00+02:00 2027-03-29T02:15:00+02:00");
	/* ...and one that matches only gap days never fires: bounded search, "none". */
	CHECK_STR(nexts("*/15 2 25-31 3 */7", "Europe/Berlin", "2026-01-01T00:00:00Z", 1), "none");
	/* The same as a fixed-time job runs after each gap. */
	CHECK_STR(nexts("15 2 25-31 3 */7", "Europe/Berlin", "2026-01-01T00:00:00Z", 2),
		  "2026-03-29T03:00:00+02:00 2027-03-28T03:00:00+02:00");
}

static void test_dst_new_york(void)
{
	/* Spring forward 2026-03-08 02:00 EST -> 03:00 EDT. */
	CHECK_STR(nexts("30 2 * * *", "America/New_York", "2026-03-07T12:00:00-05:00", 2),
		  "2026-03-08T03:00:00-04:00 2026-03-09T02:30:00-04:00");
	CHECK_STR(nexts("*/15 * * * *", "America/New_York", "2026-03-08T01:40:00-05:00", 2),
		  "2026-03-08T01:45:00-05:00 2026-03-08T03:00:00-04:00");
	CHECK_STR(nexts("0 * * * *", "America/New_York", "2026-03-08T00:30:00-05:00", 3),
		  "2026-03-08T01:00:00-05:00 2026-03-08T03:00:00-04:00 2026-03-08T04:00:00-04:00");
	/* Fall back 2026-11-01 02:00 EDT -> 01:00 EST: the 01:xx hour repeats. */
	CHECK_STR(nexts("30 1 * * *", "America/New_York", "2026-10-31T12:00:00-04:00", 2),
		  "2026-11-01T01:30:00-04:00 2026-11-02T01:30:00-05:00");
	CHECK_STR(nexts("30 1 * * *", "America/New_York", "2026-11-01T01:45:00-04:00", 1),
		  "2026-11-02T01:30:00-05:00");
	CHECK_STR(nexts("30 2 * * *", "America/New_York", "2026-10-31T12:00:00-04:00", 2),
		  "2026-11-01T02:30:00-05:00 2026-11-02T02:30:00-05:00");
	CHECK_STR(nexts("*/15 * * * *", "America/New_York", "2026-11-01T01:40:00-04:00", 4),
		  "2026-11-01T01:45:00-04:00 2026-11-01T01:00:00-05:00 2026-11-01T01:15:00-05:00 "
		  "2026-11-01T01:30:00-05:00");
	CHECK_STR(nexts("0 * * * *", "America/New_York", "2026-11-01T00:30:00-04:00", 3),
		  "2026-11-01T01:00:00-04:00 2026-11-01T01:00:00-05:00 2026-11-01T02:00:00-05:00");
}

static void test_dst_other_zones(void)
{
	/* Southern hemisphere: Sydney springs forward 2026-10-04 02:00 AEST -> 03:00 AEDT. */
	CHECK_STR(nexts("30 2 * * *", "Australia/Sydney", "2026-10-03T12:00:00+10:00", 2),
		  "2026-10-04T03:00:00+11:00 2026-10-05T02:30:00+11:00");
	/* Europe/Dublin's footer has negative DST (IST standard, GMT in winter). */
	CHECK_STR(nexts("30 1 * * *", "Europe/Dublin", "2026-03-28T12:00:00Z", 2),
		  "2026-03-29T02:00:00+01:00 2026-03-30T01:30:00+01:00");
	CHECK_STR(nexts("30 1 * * *", "Europe/Dublin", "2045-03-25T12:00:00Z", 1),
		  "2045-03-26T02:00:00+01:00");
	/* A zone with no DST now. */
	CHECK_STR(nexts("0 9 * * *", "Asia/Tokyo", "2026-06-30T23:00:00Z", 1),
		  "2026-07-01T09:00:00+09:00");
	CHECK_STR(nexts("0 9 * * *", "Asia/Kolkata", "2026-07-01T00:00:00Z", 1),
		  "2026-07-01T09:00:00+05:30");
}

/* ---- time zones ---- */

static void test_tz_names(void)
{
	struct tz tz;
	struct err e;

	CHECK_INT(tz_load(&tz, "../etc/passwd", &e), EXIT_CONFIG);
	CHECK_STR(e.msg, "invalid time zone name \"../etc/passwd\"");
	CHECK_INT(tz_load(&tz, "/etc/passwd", &e), EXIT_CONFIG);
	CHECK_STR(e.msg, "invalid time zone name \"/etc/passwd\"");
	CHECK_INT(tz_load(&tz, "Europe/../../etc/passwd", &e), EXIT_CONFIG);
	CHECK_INT(tz_load(&tz, "Europe//Berlin", &e), EXIT_CONFIG);
	CHECK_INT(tz_load(&tz, "", &e), EXIT_CONFIG);
	CHECK_INT(tz_load(&tz, "Europe/Berlin ", &e), EXIT_CONFIG);
	CHECK_INT(tz_load(&tz, "Mars/Olympus_Mons", &e), EXIT_CONFIG);
	CHECK_STR(e.msg, "unknown time zone \"Mars/Olympus_Mons\"");
	CHECK_INT(tz_load(&tz, "Europe", &e), EXIT_CONFIG);
	CHECK_STR(e.msg, "unknown time zone \"Europe\"");
	CHECK_INT(tz_load(&tz, "zone.tab", &e), EXIT_CONFIG);
	CHECK_STR(e.msg, "time zone \"zone.tab\" is not a TZif file");
	/* UTC needs no zoneinfo at all. */
	CHECK_INT(tz_load_dir(&tz, "/nonexistent", "UTC", &e), 0);
	CHECK_INT(tz_utoff_at(&tz, 0), 0);
	tz_free(&tz);
	CHECK_INT(tz_load_dir(&tz, "/nonexistent", "Europe/Berlin", &e), EXIT_CONFIG);
	CHECK_INT(tz_load(&tz, "Etc/GMT+5", &e), 0);
	CHECK_INT(tz_utoff_at(&tz, 0), -5 * 3600);
	tz_free(&tz);
}

static void test_tz_spans(void)
{
	struct tz tz;
	struct tz_span sp;
	struct err e;

	CHECK_INT(tz_load(&tz, "Europe/Berlin", &e), 0);
	tz_span_at(&tz, iso("2026-03-29T01:00:00Z"), &sp);
	CHECK_INT(sp.start, iso("2026-03-29T01:00:00Z"));
	CHECK_INT(sp.end, iso("2026-10-25T01:00:00Z"));
	CHECK_INT(sp.prev_utoff, 3600);
	CHECK_INT(sp.utoff, 7200);
	CHECK_INT(tz_utoff_at(&tz, iso("2026-03-29T00:59:59Z")), 3600);
	/* Far past the table: the footer rule. */
	tz_span_at(&tz, iso("2100-07-01T00:00:00Z"), &sp);
	CHECK_INT(sp.start, iso("2100-03-28T01:00:00Z"));
	CHECK_INT(sp.end, iso("2100-10-31T01:00:00Z"));
	CHECK_INT(sp.utoff, 7200);
	tz_free(&tz);
}

static void test_iso(void)
{
	struct tz tz;
	struct err e;
	int64_t t;
	char buf[64];

	CHECK_INT(tz_parse_iso("1970-01-01T00:00Z", &t, &e), 0);
	CHECK_INT(t, 0);
	CHECK_INT(tz_parse_iso("2026-03-29T02:30:15+01:00", &t, &e), 0);
	CHECK_INT(t, iso("2026-03-29T01:30:15Z"));
	CHECK_INT(tz_parse_iso("2026-02-30T00:00Z", &t, &e), EXIT_USAGE);
	CHECK_CONTAINS(e.msg, "\"2026-02-30T00:00Z\" is not a time like");
	CHECK_INT(tz_parse_iso("2026-03-29 02:30Z", &t, &e), EXIT_USAGE);
	CHECK_INT(tz_parse_iso("2026-03-29T02:30", &t, &e), EXIT_USAGE);
	CHECK_INT(tz_parse_iso("2026-03-29T24:00Z", &t, &e), EXIT_USAGE);
	CHECK_INT(tz_parse_iso("2026-03-29T02:30Zjunk", &t, &e), EXIT_USAGE);
	tz_init_utc(&tz);
	tz_format_iso(&tz, 0, buf, sizeof buf);
	CHECK_STR(buf, "1970-01-01T00:00:00+00:00");
	CHECK_INT(tz_load(&tz, "America/St_Johns", &e), 0);
	tz_format_iso(&tz, iso("2026-01-15T12:00:00Z"), buf, sizeof buf);
	CHECK_STR(buf, "2026-01-15T08:30:00-03:30");
	tz_free(&tz);
}

/* ---- bounded work ---- */

static void test_thousand_iterations(void)
{
	CHECK_STR(last_of("*/15 * * * *", "Europe/Berlin", "2026-01-01T00:00:00+01:00", 1000),
		  "2026-01-11T10:00:00+01:00");
	/* 1000 leap days from 2026: the last is 6148-02-29. */
	CHECK_STR(last_of("0 0 29 2 *", "UTC", "2026-01-01T00:00:00Z", 1000),
		  "6148-02-29T00:00:00+00:00");
	/* A thousand daily runs across five DST changes in New York. */
	CHECK_STR(last_of("30 2 * * *", "America/New_York", "2026-01-01T00:00:00-05:00", 1000),
		  "2028-09-26T02:30:00-04:00");
	CHECK_CONTAINS(nexts("30 2 * * *", "America/New_York", "2026-01-01T00:00:00-05:00", 1000),
		       " 2027-03-13T02:30:00-05:00 2027-03-14T03:00:00-04:00 2027-03-15T02:30:00-04:00 ");
	{
		struct cron c = parsed("*/15 2 25-31 3 */7");
		struct tz tz;
		struct err e;
		int64_t next;
		int i, none = 0;

		CHECK_INT(tz_load(&tz, "Europe/Berlin", &e), 0);
		/* Each of these looks 400 years ahead before giving up. */
		for (i = 0; i < 50; i++)
			none += cron_next(&c, &tz, iso("2026-01-01T00:00:00Z") + i * 86400, &next) == CRON_NONE;
		CHECK_INT(none, 50);
		tz_free(&tz);
	}
}

int main(void)
{
	RUN(test_range_errors);
	RUN(test_step_errors);
	RUN(test_syntax_errors);
	RUN(test_macro_errors);
	RUN(test_field_bits);
	RUN(test_sunday_and_wrap);
	RUN(test_flags);
	RUN(test_macros);
	RUN(test_next_basic);
	RUN(test_rollovers);
	RUN(test_leap_years);
	RUN(test_dom_dow_rule);
	RUN(test_impossible_dates);
	RUN(test_dst_berlin_fixed);
	RUN(test_dst_berlin_wildcard);
	RUN(test_dst_new_york);
	RUN(test_dst_other_zones);
	RUN(test_tz_names);
	RUN(test_tz_spans);
	RUN(test_iso);
	RUN(test_thousand_iterations);
	return harness_done();
}
