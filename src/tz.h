/*
 * tz.h - IANA time zones without global state, and civil-time arithmetic.
 *
 * tz_load() reads /usr/share/zoneinfo/NAME (or $TZDIR/NAME) itself: the
 * TZif v2+ 64-bit transition table plus the POSIX TZ footer that covers
 * the times after the last listed transition (RFC 8536).  Nothing here
 * calls setenv("TZ"), tzset() or localtime(), so any number of zones can be
 * used at once from any thread.  "UTC" is built in and works without
 * zoneinfo.  Leap-second ("right/") data is ignored: times are POSIX times.
 *
 * Times are int64_t seconds since 1970-01-01T00:00:00Z.  A "local" time is
 * the same count on the wall clock of a zone (utc + utoff), handy for
 * calendar arithmetic; the civil helpers work on the proleptic Gregorian
 * calendar for any year that fits.
 */
#ifndef TRUEUP_TZ_H
#define TRUEUP_TZ_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define TZ_NAME_MAX 128
#define TZ_DEFAULT_DIR "/usr/share/zoneinfo"

/* One rule date of a POSIX TZ string: Jn, n or Mm.w.d, plus a time. */
struct tz_rule_date {
	char kind;          /* 'J' (1-365, no Feb 29), 'D' (0-365), 'M' (month.week.day) */
	int n;              /* day for 'J' and 'D' */
	int month, week, wday;  /* for 'M' */
	int32_t secs;       /* local time of day of the change, may be <0 or >24h */
};

/* The POSIX TZ footer ("CET-1CEST,M3.5.0,M10.5.0/3") in east-positive form. */
struct tz_posix {
	int32_t std_utoff;      /* seconds east of UTC in standard time */
	int32_t dst_utoff;      /* seconds east of UTC in daylight time */
	int has_dst;
	struct tz_rule_date start, end;  /* start: std -> dst, end: dst -> std */
};

/* A loaded zone.  Release with tz_free(). */
struct tz {
	char name[TZ_NAME_MAX];
	int64_t *trans;         /* ascending transition times, ntrans of them */
	int32_t *trans_utoff;   /* utoff in effect from trans[i] on */
	size_t ntrans;
	int32_t utoff0;         /* utoff before the first transition (type 0) */
	int has_posix;          /* posix applies from the last transition on */
	struct tz_posix posix;
};

/*
 * The stretch of time around one instant during which the zone's UTC offset
 * does not change: [start, end).  start is INT64_MIN when no transition
 * precedes it, end INT64_MAX when none follows.  prev_utoff is the offset
 * in effect just before start (equal to utoff when start is INT64_MIN).
 * A stretch may end at a "transition" that keeps the same offset.
 */
struct tz_span {
	int64_t start, end;
	int32_t utoff, prev_utoff;
};

/* A broken-down civil (wall-clock) time; wday 0 = Sunday. */
struct tz_civil {
	int64_t year;
	int month, day, hour, minute, second, wday;
};

/*
 * Load zone `name` from $TZDIR, or TZ_DEFAULT_DIR when TZDIR is unset.
 * "UTC" never touches the disk.  Returns 0, or EXIT_CONFIG with e filled
 * for a bad name ("../x", "/etc/x"), an unknown zone or a file that is not
 * valid TZif, or EXIT_IOERR if the file exists but cannot be read.
 * On success the caller owns tz and releases it with tz_free(); on failure
 * tz holds nothing to free (tz_free() is still harmless).
 */
int tz_load(struct tz *tz, const char *name, struct err *e);

/* Same as tz_load() but reading from directory dir (tests, packagers). */
int tz_load_dir(struct tz *tz, const char *dir, const char *name, struct err *e);

/* Set tz to UTC (never fails, nothing to free, tz_free() harmless). */
void tz_init_utc(struct tz *tz);

/* Release what tz_load() allocated and leave tz as UTC.  tz may be NULL. */
void tz_free(struct tz *tz);

/* Fill sp with the stretch of constant offset that contains t. */
void tz_span_at(const struct tz *tz, int64_t t, struct tz_span *sp);

/* The zone's offset from UTC at t, in seconds east. */
int32_t tz_utoff_at(const struct tz *tz, int64_t t);

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1-12). */
int64_t tz_days_from_civil(int64_t year, int month, int day);

/* Split a local seconds count into a civil time. */
void tz_civil_from_secs(int64_t secs, struct tz_civil *c);

/* 1 if year is a Gregorian leap year, else 0. */
int tz_is_leap(int64_t year);

/* Days in month (1-12) of year. */
int tz_days_in_month(int64_t year, int month);

/*
 * Write t as ISO 8601 local time in tz with its offset, e.g.
 * "2026-03-29T03:00:00+02:00", into buf (NUL-terminated, truncated to
 * size).  An offset with seconds (pre-1900 local mean time) is written
 * "+00:53:28".  Returns the length snprintf would have written.
 */
int tz_format_iso(const struct tz *tz, int64_t t, char *buf, size_t size);

/*
 * Parse "YYYY-MM-DDTHH:MM[:SS](Z|+HH:MM|-HH:MM)" into *t.  Returns 0, or
 * EXIT_USAGE with e filled (the message quotes s) when s is malformed or
 * names an impossible date or time.
 */
int tz_parse_iso(const char *s, int64_t *t, struct err *e);

#endif
