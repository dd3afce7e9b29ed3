/*
 * cron.h - cron expressions with Vixie cron / cronie semantics: parsing and
 * the next fire time in an IANA time zone, DST included.
 *
 * Pure computation: no I/O, no global state (time zones come in loaded, see
 * tz.h).  The rules, the DST behaviour and the search bound are described
 * at the top of cron.c.
 */
#ifndef TRUEUP_CRON_H
#define TRUEUP_CRON_H

#include <stdint.h>

#include "err.h"
#include "tz.h"

/* struct cron flags: which fields start with '*' (cronie's *_STAR flags). */
enum {
	CRON_MIN_STAR = 1 << 0,
	CRON_HOUR_STAR = 1 << 1,
	CRON_DOM_STAR = 1 << 2,
	CRON_DOW_STAR = 1 << 3
};

/* A parsed expression: one bit per allowed value of each field. */
struct cron {
	uint64_t minute;    /* bit m for minute m, 0-59 */
	uint32_t hour;      /* bit h for hour h, 0-23 */
	uint32_t dom;       /* bit d for day of month d, 1-31 */
	uint16_t month;     /* bit m for month m, 1-12 */
	uint8_t dow;        /* bit d for weekday d, 0-6, 0 = Sunday (7 is folded into 0) */
	unsigned flags;     /* CRON_*_STAR */
};

/* Result of cron_next() besides 0 (found). */
enum { CRON_NONE = 1 };

/* How far cron_next() looks ahead: 400 years, one full Gregorian cycle. */
#define CRON_HORIZON_YEARS 400

/*
 * Parse expr (5 fields or an @macro) into *c.  Returns 0, or EXIT_CONFIG
 * with e filled with a one-line message naming the field and the offending
 * value, e.g. "field 2 (hour): 24 is out of range 0-23" (callers add their
 * own prefix such as "schedule: ").  "@reboot" is refused.  Nothing is
 * allocated.
 */
int cron_parse(struct cron *c, const char *expr, struct err *e);

/*
 * 1 if no calendar date can ever match c (e.g. "0 0 30 2 *", "0 0 31 4 *"),
 * else 0.  Such an expression parses; cron_next() returns CRON_NONE for it
 * at once.
 */
int cron_never_fires(const struct cron *c);

/*
 * 1 if c is a "fixed-time" job in cronie's sense (neither the minute nor
 * the hour field starts with '*'), 0 for a wildcard job.  This decides how
 * DST gaps and repeats are treated; see cron.c.
 */
int cron_is_fixed_time(const struct cron *c);

/*
 * The first fire time of c strictly after `after` (seconds since the
 * epoch) with the calendar fields read in zone tz.  Returns 0 with *next
 * set, or CRON_NONE (*next untouched) when there is none within
 * CRON_HORIZON_YEARS after `after` or before the year 10000: for an
 * impossible date, or a wildcard job whose only matching local times fall
 * in DST gaps.  Never fails otherwise; bounded work for any input.
 */
int cron_next(const struct cron *c, const struct tz *tz, int64_t after, int64_t *next);

#endif
