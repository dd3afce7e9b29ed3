/*
 * cron.c - parse cron expressions and compute their next fire time.
 *
 * Syntax and matching follow Vixie cron as cronie ships it (man 5 crontab):
 * five fields, minute 0-59, hour 0-23, day of month 1-31, month 1-12 or
 * jan-dec, day of week 0-7 (0 and 7 are Sunday) or sun-sat; names are three
 * letters in any case.  An item is "*", "N", "a-b", optionally followed by
 * "/step"; "N/step" means N-max/step (cronie); items are comma separated;
 * steps start afresh for each item.  A step of 0, a step larger than the
 * field's maximum and a reversed range are errors, except that a day-of-week
 * range ending in Sunday ("fri-sun", "5-0") wraps to 7.  The macros
 * @yearly @annually @monthly @weekly @daily @midnight @hourly stand for
 * their usual five fields; @reboot is refused because trueup's scheduler
 * has no notion of a system boot.
 *
 * Day of month and day of week: when neither field starts with '*', a day
 * matches if EITHER field matches ("0 0 1 * mon" fires on the 1st and on
 * every Monday); when one of them starts with '*' (even "*\/2"), a day must
 * match BOTH bit sets, exactly as cronie's find_jobs() tests it, so
 * "0 0 *\/2 * mon" fires on Mondays that fall on an odd day of the month.
 *
 * Time zones and DST (the rule the README quotes).  Fields are matched
 * against the wall clock of the job's IANA time zone.  Like cronie, a job
 * is "fixed-time" when neither its minute nor its hour field starts with
 * '*' (30 2 * * *, 0 9,17 * * 1-5, @daily), and "wildcard" otherwise
 * (*\/15 * * * *, 0 * * * *, @hourly).
 *  - Spring forward (a gap, e.g. 02:00-03:00 in Europe/Berlin on the last
 *    Sunday of March): a fixed-time job whose time falls in the gap runs
 *    once, at the first instant after the gap (02:30 runs at 03:00 local,
 *    01:00Z), however many of its times the gap swallowed; a wildcard job
 *    does not run for the missing local minutes (they do not exist) and
 *    carries on at 03:00 if it matches then.
 *  - Fall back (a repeat, e.g. 01:00-02:00 in America/New_York on the
 *    first Sunday of November): a fixed-time job runs once, in the first
 *    occurrence (01:30 EDT), never again in the second; a wildcard job
 *    follows real elapsed time and runs in both occurrences (*\/15 fires at
 *    01:00, 01:15, ... EDT and again at 01:00, 01:15, ... EST).
 * This is what cronie's main loop does for clock jumps of up to three
 * hours, and trueup follows it there too: a longer gap (Pacific/Apia
 * skipped all of 2011-12-30, a 24-hour jump) catches nothing up, so a
 * fixed-time job simply fires at its next local time that exists.
 *
 * Search bound: cron_next() looks at most CRON_HORIZON_YEARS (400) years
 * ahead, and never past 9999-12-31.  The Gregorian calendar repeats every
 * 400 years, so an expression that can fire at all fires within that
 * window; one that cannot (30 February) is caught by cron_never_fires()
 * before any search.  The search jumps month, day, hour and minute at a
 * time and walks the zone's offset changes one stretch at a time, so even a
 * 400-year miss costs a few tens of thousands of steps.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cron.h"

/* The longest clock jump forward whose skipped fixed-time slots are run (cronie: 3 h). */
#define CRON_CATCHUP_MAX (3 * 3600)

#define SECS_PER_DAY 86400
/* 10000-01-01T00:00:00Z: fire times stay below this. */
#define CRON_TIME_END INT64_C(253402300800)

struct field_spec {
	const char *name;
	int lo, hi;
	const char *const *names;   /* NULL, or names of lo..lo+n-1 */
	int nnames;
};

static const char *const month_names[] = {
	"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"
};
static const char *const dow_names[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };

static const struct field_spec fields[5] = {
	{ "minute", 0, 59, NULL, 0 },
	{ "hour", 0, 23, NULL, 0 },
	{ "day of month", 1, 31, NULL, 0 },
	{ "month", 1, 12, month_names, 12 },
	{ "day of week", 0, 7, dow_names, 7 },
};

struct macro {
	const char *name;
	const char *fields;
};

static const struct macro macros[] = {
	{ "yearly", "0 0 1 1 *" },
	{ "annually", "0 0 1 1 *" },
	{ "monthly", "0 0 1 * *" },
	{ "weekly", "0 0 * * 0" },
	{ "daily", "0 0 * * *" },
	{ "midnight", "0 0 * * *" },
	{ "hourly", "0 * * * *" },
};

/* ---- parsing ---- */

/* The field being parsed, for messages. */
struct field_ctx {
	int index;                  /* 1-5 */
	const struct field_spec *spec;
	struct err *e;
};

static int field_err(const struct field_ctx *f, const char *what)
{
	return err_set(f->e, EXIT_CONFIG, "field %d (%s): %s", f->index, f->spec->name, what);
}

/* Describe character ch for a message: "x" or \xNN. */
static void describe_char(char ch, char *buf, size_t size)
{
	if (isprint((unsigned char)ch))
		snprintf(buf, size, "unexpected character \"%c\"", ch);
	else
		snprintf(buf, size, "unexpected character \\x%02x", (unsigned char)ch);
}

/*
 * Read one value (number or name) at *p, advancing *p.  Returns 0 with *v
 * set, -1 for a number outside the field's range (*p past it, message left
 * to the caller), or EXIT_CONFIG with the message set.
 */
static int read_value(const struct field_ctx *f, const char **p, const char *end, int *v)
{
	const char *s = *p;
	char msg[160];
	size_t len;
	int i;

	if (s < end && isdigit((unsigned char)*s)) {
		long n = 0;

		while (s < end && isdigit((unsigned char)*s)) {
			if (n < 1000000)
				n = n * 10 + (*s - '0');
			s++;
		}
		*v = (int)n;
		*p = s;
		return n < f->spec->lo || n > f->spec->hi ? -1 : 0;
	}
	if (s < end && isalpha((unsigned char)*s)) {
		while (s < end && isalnum((unsigned char)*s))
			s++;
		len = (size_t)(s - *p);
		if (!f->spec->names) {
			snprintf(msg, sizeof msg, "\"%.*s\" is not a number", (int)(len > 40 ? 40 : len), *p);
			return field_err(f, msg);
		}
		for (i = 0; len == 3 && i < f->spec->nnames; i++)
			if (strncasecmp(*p, f->spec->names[i], 3) == 0) {
				*v = f->spec->lo + i;
				*p = s;
				return 0;
			}
		snprintf(msg, sizeof msg, "unknown name \"%.*s\"", (int)(len > 40 ? 40 : len), *p);
		return field_err(f, msg);
	}
	if (s >= end || *s == ',')
		return field_err(f, "missing value");
	describe_char(*s, msg, sizeof msg);
	return field_err(f, msg);
}

/* Read a value and check it lies in the field's range. */
static int read_checked(const struct field_ctx *f, const char **p, const char *end, int *v)
{
	const char *start = *p;
	char msg[160];
	int rc = read_value(f, p, end, v);

	if (rc == -1) {
		snprintf(msg, sizeof msg, "%.*s is out of range %d-%d",
			 (int)(*p - start > 20 ? 20 : *p - start), start, f->spec->lo, f->spec->hi);
		return field_err(f, msg);
	}
	return rc;
}

/* Read a step after '/': a number from 1 to the field's maximum. */
static int read_step(const struct field_ctx *f, const char **p, const char *end, int *step)
{
	const char *s = *p;
	char msg[160];
	long n = 0;

	if (s >= end || !isdigit((unsigned char)*s)) {
		if (s < end && isalpha((unsigned char)*s)) {
			while (s < end && isalnum((unsigned char)*s))
				s++;
			snprintf(msg, sizeof msg, "step \"%.*s\" is not a number",
				 (int)(s - *p > 40 ? 40 : s - *p), *p);
			return field_err(f, msg);
		}
		return field_err(f, "missing step after \"/\"");
	}
	while (s < end && isdigit((unsigned char)*s)) {
		if (n < 1000000)
			n = n * 10 + (*s - '0');
		s++;
	}
	if (n == 0)
		return field_err(f, "step 0 is not allowed");
	if (n > f->spec->hi) {
		snprintf(msg, sizeof msg, "step %.*s is out of range 1-%d",
			 (int)(s - *p > 20 ? 20 : s - *p), *p, f->spec->hi);
		return field_err(f, msg);
	}
	*step = (int)n;
	*p = s;
	return 0;
}

/* Parse one comma-separated item at *p (up to a ',' or end) into *bits. */
static int parse_item(const struct field_ctx *f, const char **p, const char *end, uint64_t *bits)
{
	const char *start = *p;
	int a, b, step = 1, v, rc;
	char msg[160];

	if (*p < end && **p == '*') {
		a = f->spec->lo;
		b = f->spec->hi;
		(*p)++;
	} else {
		if ((rc = read_checked(f, p, end, &a)) != 0)
			return rc;
		b = a;
		if (*p < end && **p == '-') {
			(*p)++;
			if (*p >= end || **p == ',' || **p == '/')
				return field_err(f, "range has no end");
			if ((rc = read_checked(f, p, end, &b)) != 0)
				return rc;
			if (b < a && f->index == 5 && b == 0)
				b = 7;          /* fri-sun: Sunday as 7 */
			if (b < a) {
				snprintf(msg, sizeof msg, "range \"%.*s\" is reversed",
					 (int)(*p - start > 40 ? 40 : *p - start), start);
				return field_err(f, msg);
			}
		} else if (*p < end && **p == '/') {
			b = f->spec->hi;    /* cronie: N/step is N-max/step */
		}
	}
	if (*p < end && **p == '/') {
		(*p)++;
		if ((rc = read_step(f, p, end, &step)) != 0)
			return rc;
	}
	if (*p < end && **p != ',') {
		describe_char(**p, msg, sizeof msg);
		return field_err(f, msg);
	}
	for (v = a; v <= b; v += step)
		*bits |= UINT64_C(1) << v;
	return 0;
}

/* Parse field index (1-5) from text [s, end) into *bits. */
static int parse_field(int index, const char *s, const char *end, uint64_t *bits, struct err *e)
{
	struct field_ctx f = { index, &fields[index - 1], e };
	const char *p = s;
	int rc;

	*bits = 0;
	for (;;) {
		if (p >= end || *p == ',')
			return field_err(&f, "empty item in list");
		if ((rc = parse_item(&f, &p, end, bits)) != 0)
			return rc;
		if (p >= end)
			return 0;
		p++;    /* the comma */
	}
}

static int is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f';
}

static int parse_fields(struct cron *c, const char *expr, struct err *e)
{
	const char *start[5], *stop[5], *p = expr;
	uint64_t bits[5];
	int n = 0, i, rc;

	for (;;) {
		while (*p && is_blank(*p))
			p++;
		if (!*p)
			break;
		if (n < 5)
			start[n] = p;
		while (*p && !is_blank(*p))
			p++;
		if (n < 5)
			stop[n] = p;
		n++;
	}
	if (n != 5)
		return err_set(e, EXIT_CONFIG, "expected 5 fields, got %d", n);
	for (i = 0; i < 5; i++)
		if ((rc = parse_field(i + 1, start[i], stop[i], &bits[i], e)) != 0)
			return rc;
	if (bits[4] & (UINT64_C(1) << 7))
		bits[4] = (bits[4] | 1) & 0x7f;
	c->minute = bits[0];
	c->hour = (uint32_t)bits[1];
	c->dom = (uint32_t)bits[2];
	c->month = (uint16_t)bits[3];
	c->dow = (uint8_t)bits[4];
	c->flags = (*start[0] == '*' ? CRON_MIN_STAR : 0) | (*start[1] == '*' ? CRON_HOUR_STAR : 0) |
		   (*start[2] == '*' ? CRON_DOM_STAR : 0) | (*start[4] == '*' ? CRON_DOW_STAR : 0);
	return 0;
}

static int parse_macro(struct cron *c, const char *p, struct err *e)
{
	const char *s = p + 1, *q;
	size_t len, i;

	for (q = s; *q && !is_blank(*q); q++)
		;
	len = (size_t)(q - s);
	while (*q && is_blank(*q))
		q++;
	if (len == 6 && strncasecmp(s, "reboot", 6) == 0)
		return err_set(e, EXIT_CONFIG,
			       "@reboot is not supported: trueup's scheduler has no notion of a system boot "
			       "(start the job from your init system, or give a time schedule)");
	for (i = 0; i < sizeof macros / sizeof macros[0]; i++)
		if (strlen(macros[i].name) == len && strncasecmp(s, macros[i].name, len) == 0) {
			if (*q)
				return err_set(e, EXIT_CONFIG, "unexpected \"%.40s\" after @%s", q,
					       macros[i].name);
			return parse_fields(c, macros[i].fields, e);
		}
	return err_set(e, EXIT_CONFIG, "unknown macro \"@%.*s\" (use @yearly, @annually, @monthly, "
		       "@weekly, @daily, @midnight or @hourly)", (int)(len > 40 ? 40 : len), s);
}

int cron_parse(struct cron *c, const char *expr, struct err *e)
{
	const char *p = expr ? expr : "";

	memset(c, 0, sizeof *c);
	while (*p && is_blank(*p))
		p++;
	if (*p == '@')
		return parse_macro(c, p, e);
	return parse_fields(c, p, e);
}

/* ---- matching ---- */

int cron_never_fires(const struct cron *c)
{
	int m, d;

	if (!(c->flags & (CRON_DOM_STAR | CRON_DOW_STAR)))    /* OR rule: any weekday does */
		return !(c->dow & 0x7f) && !(c->dom & 0xfffffffeu);
	if (!(c->dow & 0x7f))
		return 1;
	/* AND rule: every real (month, day) falls on every weekday within 400 years. */
	for (m = 1; m <= 12; m++) {
		if (!(c->month >> m & 1))
			continue;
		for (d = 1; d <= (m == 2 ? 29 : tz_days_in_month(2001, m)); d++)
			if (c->dom >> d & 1)
				return 0;
	}
	return 1;
}

int cron_is_fixed_time(const struct cron *c)
{
	return !(c->flags & (CRON_MIN_STAR | CRON_HOUR_STAR));
}

static int day_matches(const struct cron *c, int dom, int wday)
{
	int dm = c->dom >> dom & 1, wm = c->dow >> wday & 1;

	if (c->flags & (CRON_DOM_STAR | CRON_DOW_STAR))
		return dm && wm;
	return dm || wm;
}

/* Smallest set bit >= from and <= hi of mask, or -1. */
static int next_bit(uint64_t mask, int from, int hi)
{
	for (; from <= hi; from++)
		if (mask >> from & 1)
			return from;
	return -1;
}

static int64_t ceil_minute(int64_t t)
{
	int64_t r = t % 60;

	if (r < 0)
		r += 60;
	return r ? t + (60 - r) : t;
}

/*
 * First local time L with lo <= L < hi, L on a whole minute, whose civil
 * fields match c.  Returns 1 with *out set, or 0.  Local times are naive
 * wall-clock seconds (utc + utoff).
 */
static int find_local(const struct cron *c, int64_t lo, int64_t hi, int64_t *out)
{
	struct tz_civil t;
	int64_t L = ceil_minute(lo), day0;
	int v;

	while (L < hi) {
		tz_civil_from_secs(L, &t);
		day0 = tz_days_from_civil(t.year, t.month, t.day) * SECS_PER_DAY;
		if (!(c->month >> t.month & 1)) {
			v = next_bit(c->month, t.month + 1, 12);
			if (v < 0)
				L = tz_days_from_civil(t.year + 1, next_bit(c->month, 1, 12), 1) * SECS_PER_DAY;
			else
				L = tz_days_from_civil(t.year, v, 1) * SECS_PER_DAY;
			continue;
		}
		if (!day_matches(c, t.day, t.wday)) {
			L = day0 + SECS_PER_DAY;
			continue;
		}
		if (!(c->hour >> t.hour & 1)) {
			v = next_bit(c->hour, t.hour + 1, 23);
			L = v < 0 ? day0 + SECS_PER_DAY : day0 + v * 3600;
			continue;
		}
		if (!(c->minute >> t.minute & 1)) {
			v = next_bit(c->minute, t.minute + 1, 59);
			L = v < 0 ? day0 + (t.hour + 1) * 3600 : day0 + t.hour * 3600 + v * 60;
			continue;
		}
		*out = L;
		return 1;
	}
	return 0;
}

int cron_next(const struct cron *c, const struct tz *tz, int64_t after, int64_t *next)
{
	int64_t t, limit, end, lo, L;
	int fixed = cron_is_fixed_time(c);
	struct tz_span sp;

	/* Also guards against a struct cron that did not come from cron_parse(). */
	if (cron_never_fires(c) || !(c->minute & ((UINT64_C(1) << 60) - 1)) ||
	    !(c->hour & 0xffffffu) || !(c->month & 0x1ffeu) || after >= CRON_TIME_END - 1)
		return CRON_NONE;
	t = after + 1;
	limit = after + (int64_t)146097 * SECS_PER_DAY;    /* 400 Gregorian years */
	if (limit > CRON_TIME_END)
		limit = CRON_TIME_END;
	/* Walk the stretches of constant UTC offset from t on: [t, end). */
	while (t < limit) {
		tz_span_at(tz, t, &sp);
		end = sp.end < limit ? sp.end : limit;
		/*
		 * A gap of at most CRON_CATCHUP_MAX opens at t: a fixed-time job
		 * due inside it runs at t (cronie; a longer jump catches up nothing).
		 */
		if (fixed && sp.start == t && sp.prev_utoff < sp.utoff &&
		    sp.utoff - sp.prev_utoff <= CRON_CATCHUP_MAX &&
		    find_local(c, t + sp.prev_utoff, t + sp.utoff, &L)) {
			*next = t;
			return 0;
		}
		lo = t + sp.utoff;
		/* A repeat: a fixed-time job already had its local times before. */
		if (fixed && sp.prev_utoff > sp.utoff && lo < sp.start + sp.prev_utoff)
			lo = sp.start + sp.prev_utoff;
		if (find_local(c, lo, end + sp.utoff, &L)) {
			*next = L - sp.utoff;
			return 0;
		}
		t = end;
	}
	return CRON_NONE;
}
