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
#include <stdlib.h>
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

/* ---- DST: hand-checked cases in the zones the issue names ---- */

static void test_dst_lord_howe(void)
{
	/*
	 * Australia/Lord_Howe moves by 30 minutes: +10:30 in winter, +11:00 in
	 * summer.  2026-10-04 (first Sunday of October) 02:00 +10:30 -> 02:30
	 * +11:00, both 15:30Z on 10-03: local 02:00-02:29 does not exist.
	 */
	CHECK_INT(iso("2026-10-04T02:00:00+10:30"), iso("2026-10-04T02:30:00+11:00"));
	/* A fixed-time job inside the gap runs once, at 02:30 +11:00. */
	CHECK_STR(nexts("15 2 * * *", "Australia/Lord_Howe", "2026-10-03T12:00:00+10:30", 3),
		  "2026-10-04T02:30:00+11:00 2026-10-05T02:15:00+11:00 2026-10-06T02:15:00+11:00");
	CHECK_STR(nexts("0 2 * * *", "Australia/Lord_Howe", "2026-10-03T12:00:00+10:30", 2),
		  "2026-10-04T02:30:00+11:00 2026-10-05T02:00:00+11:00");
	/* 02:30 itself exists (the first minute after the gap): once, not twice. */
	CHECK_STR(nexts("30 2 * * *", "Australia/Lord_Howe", "2026-10-03T12:00:00+10:30", 2),
		  "2026-10-04T02:30:00+11:00 2026-10-05T02:30:00+11:00");
	/* 02:15 and 02:45 share the gap's catch-up: one run at 02:30, then 02:45. */
	CHECK_STR(nexts("15,45 2 * * *", "Australia/Lord_Howe", "2026-10-03T12:00:00+10:30", 3),
		  "2026-10-04T02:30:00+11:00 2026-10-04T02:45:00+11:00 2026-10-05T02:15:00+11:00");
	/* A wildcard job skips the missing half hour. */
	CHECK_STR(nexts("*/15 * * * *", "Australia/Lord_Howe", "2026-10-04T01:40:00+10:30", 4),
		  "2026-10-04T01:45:00+10:30 2026-10-04T02:30:00+11:00 2026-10-04T02:45:00+11:00 "
		  "2026-10-04T03:00:00+11:00");
	/*
	 * 2026-04-05 (first Sunday of April) 02:00 +11:00 -> 01:30 +10:30, both
	 * 15:00Z on 04-04: local 01:30-01:59 happens twice.
	 */
	CHECK_INT(iso("2026-04-05T02:00:00+11:00"), iso("2026-04-05T01:30:00+10:30"));
	CHECK_STR(nexts("45 1 * * *", "Australia/Lord_Howe", "2026-04-04T12:00:00+11:00", 2),
		  "2026-04-05T01:45:00+11:00 2026-04-06T01:45:00+10:30");
	/* From inside the second pass: the repeat does not fire again. */
	CHECK_STR(nexts("45 1 * * *", "Australia/Lord_Howe", "2026-04-05T01:35:00+10:30", 1),
		  "2026-04-06T01:45:00+10:30");
	/* Between the two passes (01:50 +11:00): the next is the next day. */
	CHECK_STR(nexts("45 1 * * *", "Australia/Lord_Howe", "2026-04-05T01:50:00+11:00", 1),
		  "2026-04-06T01:45:00+10:30");
	/* 01:15 is before the repeated half hour, 02:00 after it: once each. */
	CHECK_STR(nexts("15 1 * * *", "Australia/Lord_Howe", "2026-04-04T12:00:00+11:00", 2),
		  "2026-04-05T01:15:00+11:00 2026-04-06T01:15:00+10:30");
	CHECK_STR(nexts("0 2 * * *", "Australia/Lord_Howe", "2026-04-04T12:00:00+11:00", 2),
		  "2026-04-05T02:00:00+10:30 2026-04-06T02:00:00+10:30");
	/* A wildcard job runs in both passes of the half hour. */
	CHECK_STR(nexts("*/15 * * * *", "Australia/Lord_Howe", "2026-04-05T01:20:00+11:00", 5),
		  "2026-04-05T01:30:00+11:00 2026-04-05T01:45:00+11:00 2026-04-05T01:30:00+10:30 "
		  "2026-04-05T01:45:00+10:30 2026-04-05T02:00:00+10:30");
	/* 01:00 is not repeated: hourly jobs run once at 01:00 and at 02:00. */
	CHECK_STR(nexts("0 * * * *", "Australia/Lord_Howe", "2026-04-05T00:30:00+11:00", 3),
		  "2026-04-05T01:00:00+11:00 2026-04-05T02:00:00+10:30 2026-04-05T03:00:00+10:30");
}

static void test_dst_apia(void)
{
	struct tz tz;
	struct err e;
	char buf[64];

	/* 2011-12-29 24:00 -10:00 became 2011-12-31 00:00 +14:00 (10:00Z). */
	CHECK_INT(tz_load(&tz, "Pacific/Apia", &e), 0);
	tz_format_iso(&tz, iso("2011-12-30T09:59:59Z"), buf, sizeof buf);
	CHECK_STR(buf, "2011-12-29T23:59:59-10:00");
	tz_format_iso(&tz, iso("2011-12-30T10:00:00Z"), buf, sizeof buf);
	CHECK_STR(buf, "2011-12-31T00:00:00+14:00");
	tz_free(&tz);
	/* No job ever fires at a 2011-12-30 local time. */
	CHECK(strstr(nexts("0 12 * * *", "Pacific/Apia", "2011-12-25T00:00:00-10:00", 10),
		     "2011-12-30") == NULL);
	CHECK(strstr(nexts("*/30 * * * *", "Pacific/Apia", "2011-12-29T00:00:00-10:00", 200),
		     "2011-12-30") == NULL);
	CHECK(strstr(nexts("0 0 * * *", "Pacific/Apia", "2011-12-01T00:00:00-10:00", 60),
		     "2011-12-30") == NULL);
	/* Wildcard jobs carry on right after the lost day. */
	CHECK_STR(nexts("*/30 * * * *", "Pacific/Apia", "2011-12-29T23:10:00-10:00", 3),
		  "2011-12-29T23:30:00-10:00 2011-12-31T00:00:00+14:00 2011-12-31T00:30:00+14:00");
	CHECK_STR(nexts("0 * * * *", "Pacific/Apia", "2011-12-29T22:30:00-10:00", 3),
		  "2011-12-29T23:00:00-10:00 2011-12-31T00:00:00+14:00 2011-12-31T01:00:00+14:00");
	/* Midnight: 12-30 00:00 is lost, 12-31 00:00 runs once. */
	CHECK_STR(nexts("0 0 * * *", "Pacific/Apia", "2011-12-28T00:00:00-10:00", 4),
		  "2011-12-29T00:00:00-10:00 2011-12-31T00:00:00+14:00 2012-01-01T00:00:00+14:00 "
		  "2012-01-02T00:00:00+14:00");
	/*
	 * The lost day is a 24-hour jump, longer than cronie's 3-hour catch-up
	 * limit (CRON_CATCHUP_MAX in cron.c), so nothing is caught up: a job
	 * due on 2011-12-30 next fires a year later, and a daily job runs once
	 * on the 31st, at its own time, not twice.
	 */
	CHECK_STR(nexts("0 12 30 12 *", "Pacific/Apia", "2011-12-01T00:00:00Z", 2),
		  "2012-12-30T12:00:00+14:00 2013-12-30T12:00:00+14:00");
	CHECK_STR(nexts("0 12 30 12 *", "Pacific/Apia", "2011-12-31T00:00:00+14:00", 1),
		  "2012-12-30T12:00:00+14:00");
	CHECK_STR(nexts("0 12 * * *", "Pacific/Apia", "2011-12-28T00:00:00-10:00", 4),
		  "2011-12-28T12:00:00-10:00 2011-12-29T12:00:00-10:00 2011-12-31T12:00:00+14:00 "
		  "2012-01-01T12:00:00+14:00");
}

static void test_dst_london(void)
{
	/* Spring 2026-03-29 01:00 GMT -> 02:00 BST: 01:00-01:59 does not exist. */
	CHECK_STR(nexts("30 1 * * *", "Europe/London", "2026-03-28T12:00:00Z", 3),
		  "2026-03-29T02:00:00+01:00 2026-03-30T01:30:00+01:00 2026-03-31T01:30:00+01:00");
	CHECK_STR(nexts("0 1 * * *", "Europe/London", "2026-03-28T12:00:00Z", 2),
		  "2026-03-29T02:00:00+01:00 2026-03-30T01:00:00+01:00");
	CHECK_STR(nexts("0 2 * * *", "Europe/London", "2026-03-28T12:00:00Z", 2),
		  "2026-03-29T02:00:00+01:00 2026-03-30T02:00:00+01:00");
	CHECK_STR(nexts("*/15 * * * *", "Europe/London", "2026-03-29T00:40:00Z", 3),
		  "2026-03-29T00:45:00+00:00 2026-03-29T02:00:00+01:00 2026-03-29T02:15:00+01:00");
	/* Autumn 2026-10-25 02:00 BST -> 01:00 GMT: 01:00-01:59 happens twice. */
	CHECK_STR(nexts("30 1 * * *", "Europe/London", "2026-10-24T12:00:00+01:00", 2),
		  "2026-10-25T01:30:00+01:00 2026-10-26T01:30:00+00:00");
	CHECK_STR(nexts("30 1 * * *", "Europe/London", "2026-10-25T01:10:00+00:00", 1),
		  "2026-10-26T01:30:00+00:00");
	CHECK_STR(nexts("0 2 * * *", "Europe/London", "2026-10-24T12:00:00+01:00", 2),
		  "2026-10-25T02:00:00+00:00 2026-10-26T02:00:00+00:00");
	CHECK_STR(nexts("*/30 * * * *", "Europe/London", "2026-10-25T00:45:00+01:00", 5),
		  "2026-10-25T01:00:00+01:00 2026-10-25T01:30:00+01:00 2026-10-25T01:00:00+00:00 "
		  "2026-10-25T01:30:00+00:00 2026-10-25T02:00:00+00:00");
}

/* ---- the croner reference fixture (fixtures/cron/) ---- */

#define TSV_LINE 4096
#define TSV_FIELDS 64
#define MAX_DIFFS 64

struct diff_case {
	char rule[32], expr[64], zone[64], from[40];
	int n, seen;
	char want[1024];
};

static struct diff_case diffs[MAX_DIFFS];
static int ndiffs;

static FILE *open_fixture(const char *rel)
{
	const char *top = getenv("TRUEUP_TOP");
	char path[1024];
	FILE *f;

	if (top && *top)
		snprintf(path, sizeof path, "%s/%s", top, rel);
	else
		snprintf(path, sizeof path, "%s", rel);
	f = fopen(path, "r");
	if (!f) {
		printf("  cannot open %s (run from the top of the tree or set TRUEUP_TOP)\n", path);
		harness_cur_failed = 1;
	}
	return f;
}

/*
 * Read the next data line of f (skipping blank and '#' lines) into line
 * and split it at tabs into fld.  Returns the number of fields, 0 at the
 * end of the file, -1 for a line that is too long or has too many fields.
 */
static int read_tsv(FILE *f, char *line, size_t size, char **fld, int max, int *lineno)
{
	char *p;
	size_t len;
	int n;

	while (fgets(line, (int)size, f)) {
		(*lineno)++;
		len = strlen(line);
		if (len == 0 || line[len - 1] != '\n')
			return -1;
		line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		for (n = 0, p = line; n < max; n++) {
			fld[n] = p;
			p = strchr(p, '\t');
			if (!p)
				return n + 1;
			*p++ = '\0';
		}
		return -1;
	}
	return 0;
}

/* Join fld[0..n) with single spaces into buf; 0, or -1 if it does not fit. */
static int join_spaces(char **fld, int n, char *buf, size_t size)
{
	size_t used = 0;
	int i, w;

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		w = snprintf(buf + used, size - used, "%s%s", i ? " " : "", fld[i]);
		if (w < 0 || (size_t)w >= size - used)
			return -1;
		used += (size_t)w;
	}
	return 0;
}

static int copy_field(char *dst, size_t size, const char *src)
{
	return snprintf(dst, size, "%s", src) >= (int)size ? -1 : 0;
}

static void load_differences(void)
{
	char line[TSV_LINE], *fld[TSV_FIELDS];
	int n, lineno = 0;
	FILE *f = open_fixture("fixtures/cron/differences.tsv");

	ndiffs = 0;
	if (!f)
		return;
	while ((n = read_tsv(f, line, sizeof line, fld, TSV_FIELDS, &lineno)) != 0) {
		struct diff_case *d = &diffs[ndiffs];

		if (n < 6 || ndiffs >= MAX_DIFFS || copy_field(d->rule, sizeof d->rule, fld[0]) ||
		    copy_field(d->expr, sizeof d->expr, fld[1]) ||
		    copy_field(d->zone, sizeof d->zone, fld[2]) ||
		    copy_field(d->from, sizeof d->from, fld[3]) ||
		    join_spaces(fld + 5, n - 5, d->want, sizeof d->want)) {
			printf("  FAIL differences.tsv:%d: malformed line\n", lineno);
			harness_cur_failed = 1;
			continue;
		}
		d->n = atoi(fld[4]);
		d->seen = 0;
		ndiffs++;
	}
	fclose(f);
}

static struct diff_case *find_difference(const char *expr, const char *zone, const char *from)
{
	int i;

	for (i = 0; i < ndiffs; i++)
		if (strcmp(diffs[i].expr, expr) == 0 && strcmp(diffs[i].zone, zone) == 0 &&
		    strcmp(diffs[i].from, from) == 0)
			return &diffs[i];
	return NULL;
}

/*
 * Every case of fixtures/cron/reference.tsv (croner's fire times) must give
 * the same times from trueup, except the deliberate differences listed in
 * fixtures/cron/differences.tsv: those must give the times listed there,
 * and croner's times for them must really differ.
 */
static void test_reference_fixture(void)
{
	char line[TSV_LINE], want[TSV_LINE], *fld[TSV_FIELDS];
	int n, lineno = 0, cases = 0, compared = 0, differing = 0, nt, i;
	const char *got;
	struct diff_case *d;
	FILE *f;

	load_differences();
	f = open_fixture("fixtures/cron/reference.tsv");
	if (!f)
		return;
	while ((n = read_tsv(f, line, sizeof line, fld, TSV_FIELDS, &lineno)) != 0) {
		if (n < 5) {
			printf("  FAIL reference.tsv:%d: malformed line\n", lineno);
			harness_cur_failed = 1;
			continue;
		}
		cases++;
		nt = atoi(fld[3]);
		/* n times, or fewer ending in "none", or croner's "error". */
		if (!(n - 4 == nt || (n - 4 <= nt && strcmp(fld[n - 1], "none") == 0) ||
		      (n == 5 && strcmp(fld[4], "error") == 0)) || nt < 1) {
			printf("  FAIL reference.tsv:%d: %d times for n=%d\n", lineno, n - 4, nt);
			harness_cur_failed = 1;
			continue;
		}
		if (join_spaces(fld + 4, n - 4, want, sizeof want)) {
			printf("  FAIL reference.tsv:%d: line too long\n", lineno);
			harness_cur_failed = 1;
			continue;
		}
		d = find_difference(fld[0], fld[1], fld[2]);
		if (d) {
			differing++;
			d->seen = 1;
			if (d->n != nt || strcmp(d->want, want) == 0) {
				printf("  FAIL reference.tsv:%d: \"%s\" %s is listed as a difference but "
				       "croner agrees (or n differs)\n", lineno, fld[0], fld[1]);
				harness_cur_failed = 1;
			}
			got = nexts(d->expr, d->zone, d->from, d->n);
			if (strcmp(got, d->want) != 0) {
				printf("  FAIL differences.tsv [%s] \"%s\" %s from %s\n    got:      %s\n"
				       "    expected: %s\n", d->rule, d->expr, d->zone, d->from, got, d->want);
				harness_cur_failed = 1;
			}
			continue;
		}
		compared++;
		got = nexts(fld[0], fld[1], fld[2], nt);
		if (strcmp(want, "error") == 0 ? strncmp(got, "error: ", 7) != 0 : strcmp(got, want) != 0) {
			printf("  FAIL reference.tsv:%d: \"%s\" %s from %s\n    trueup: %s\n    croner: %s\n",
			       lineno, fld[0], fld[1], fld[2], got, want);
			harness_cur_failed = 1;
		}
	}
	fclose(f);
	for (i = 0; i < ndiffs; i++)
		if (!diffs[i].seen) {
			printf("  FAIL differences.tsv: \"%s\" %s from %s is not in reference.tsv\n",
			       diffs[i].expr, diffs[i].zone, diffs[i].from);
			harness_cur_failed = 1;
		}
	CHECK(cases >= 150);
	CHECK_INT(differing, ndiffs);
	CHECK_INT(compared + differing, cases);
	CHECK(ndiffs >= 10);
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
	RUN(test_dst_lord_howe);
	RUN(test_dst_apia);
	RUN(test_dst_london);
	RUN(test_reference_fixture);
	RUN(test_tz_names);
	RUN(test_tz_spans);
	RUN(test_iso);
	RUN(test_thousand_iterations);
	return harness_done();
}
