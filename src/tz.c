/*
 * tz.c - a TZif reader and civil-time arithmetic; see tz.h.
 *
 * The file format is RFC 8536.  Only the v2+ 64-bit block is used when the
 * file has one (every tzdata build since 2005 does); a v1-only file falls
 * back to its 32-bit block.  After the last listed transition the POSIX TZ
 * footer gives the rule, which is how "slim" zoneinfo files express all of
 * their recent history and how fat ones express the years past 2037.
 *
 * Everything a lookup needs lives in struct tz: no static or global state,
 * no environment changes, so lookups are reentrant.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tz.h"

#define TZIF_MAX_BYTES (1024 * 1024)    /* real zone files are < 10 KiB */
#define TZIF_MAX_TRANS 100000
#define UTOFF_LIMIT (26 * 3600)          /* |utoff| must stay below this */
#define SECS_PER_DAY 86400

/* ---- civil calendar (after Howard Hinnant's public-domain algorithms) ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

int tz_is_leap(int64_t year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int tz_days_in_month(int64_t year, int month)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (month < 1 || month > 12)
		return 0;
	if (month == 2 && tz_is_leap(year))
		return 29;
	return mdays[month - 1];
}

int64_t tz_days_from_civil(int64_t year, int month, int day)
{
	int64_t y = year - (month <= 2);
	int64_t era = floor_div(y, 400);
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

void tz_civil_from_secs(int64_t secs, struct tz_civil *c)
{
	int64_t days = floor_div(secs, SECS_PER_DAY);
	int64_t rem = secs - days * SECS_PER_DAY;
	int64_t z = days + 719468;
	int64_t era = floor_div(z, 146097);
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int month = (int)(mp < 10 ? mp + 3 : mp - 9);

	c->year = yoe + era * 400 + (month <= 2);
	c->month = month;
	c->day = (int)(doy - (153 * mp + 2) / 5 + 1);
	c->hour = (int)(rem / 3600);
	c->minute = (int)(rem % 3600 / 60);
	c->second = (int)(rem % 60);
	c->wday = (int)(days - floor_div(days + 4, 7) * 7 + 4);   /* 1970-01-01: Thu */
	if (c->wday >= 7)
		c->wday -= 7;
}

/* ---- POSIX TZ strings (the TZif footer) ---- */

/* Skip a zone abbreviation ("CET" or "<+03>"); NULL if malformed. */
static const char *posix_skip_name(const char *p)
{
	const char *q;

	if (*p == '<') {
		q = ++p;
		while (*p && *p != '>') {
			if (!isalnum((unsigned char)*p) && *p != '+' && *p != '-')
				return NULL;
			p++;
		}
		return (*p == '>' && p - q >= 3) ? p + 1 : NULL;
	}
	q = p;
	while (isalpha((unsigned char)*p))
		p++;
	return p - q >= 3 ? p : NULL;
}

/* Read [+-]hh[:mm[:ss]] with hh <= maxh into *secs; NULL if malformed. */
static const char *posix_hms(const char *p, int maxh, int32_t *secs)
{
	int sign = 1, part[3] = { 0, 0, 0 }, i, n;

	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	for (i = 0; i < 3; i++) {
		if (i > 0) {
			if (*p != ':')
				break;
			p++;
		}
		if (!isdigit((unsigned char)*p))
			return NULL;
		for (n = 0; isdigit((unsigned char)*p) && n < 4; n++)
			part[i] = part[i] * 10 + (*p++ - '0');
		if (isdigit((unsigned char)*p))
			return NULL;
	}
	if (part[0] > maxh || part[1] > 59 || part[2] > 59)
		return NULL;
	*secs = sign * (int32_t)(part[0] * 3600 + part[1] * 60 + part[2]);
	return p;
}

static const char *posix_int(const char *p, int lo, int hi, int *out)
{
	int v = 0, n = 0;

	while (isdigit((unsigned char)*p) && n < 4) {
		v = v * 10 + (*p++ - '0');
		n++;
	}
	if (n == 0 || isdigit((unsigned char)*p) || v < lo || v > hi)
		return NULL;
	*out = v;
	return p;
}

/* Read one rule date ("M3.5.0/3", "J60", "59/-1"); NULL if malformed. */
static const char *posix_rule_date(const char *p, struct tz_rule_date *r)
{
	memset(r, 0, sizeof *r);
	r->secs = 2 * 3600;
	if (*p == 'M') {
		r->kind = 'M';
		if (!(p = posix_int(p + 1, 1, 12, &r->month)) || *p++ != '.' ||
		    !(p = posix_int(p, 1, 5, &r->week)) || *p++ != '.' ||
		    !(p = posix_int(p, 0, 6, &r->wday)))
			return NULL;
	} else if (*p == 'J') {
		r->kind = 'J';
		if (!(p = posix_int(p + 1, 1, 365, &r->n)))
			return NULL;
	} else {
		r->kind = 'D';
		if (!(p = posix_int(p, 0, 365, &r->n)))
			return NULL;
	}
	if (*p == '/')
		p = posix_hms(p + 1, 167, &r->secs);
	return p;
}

/* Parse a POSIX TZ string; 0 on success, -1 if malformed. */
static int posix_parse(const char *s, struct tz_posix *px)
{
	const char *p = s;
	int32_t off;

	memset(px, 0, sizeof *px);
	if (!(p = posix_skip_name(p)) || !(p = posix_hms(p, 24, &off)))
		return -1;
	px->std_utoff = -off;
	if (*p == '\0')
		return 0;
	if (!(p = posix_skip_name(p)))
		return -1;
	px->has_dst = 1;
	px->dst_utoff = px->std_utoff + 3600;
	if (*p != ',' && *p != '\0') {
		if (!(p = posix_hms(p, 24, &off)))
			return -1;
		px->dst_utoff = -off;
	}
	if (*p == '\0') {
		/* No rule: the US rules, as glibc and the tz code assume. */
		posix_rule_date("M3.2.0", &px->start);
		posix_rule_date("M11.1.0", &px->end);
		return 0;
	}
	if (*p++ != ',' || !(p = posix_rule_date(p, &px->start)) ||
	    *p++ != ',' || !(p = posix_rule_date(p, &px->end)) || *p != '\0')
		return -1;
	return 0;
}

/* Local seconds (of the zone's time before the change) at which r falls in year. */
static int64_t rule_local(const struct tz_rule_date *r, int64_t year)
{
	int64_t days = tz_days_from_civil(year, 1, 1);
	struct tz_civil c;
	int d;

	switch (r->kind) {
	case 'J':
		days += r->n - 1 + (tz_is_leap(year) && r->n >= 60);
		break;
	case 'D':
		days += r->n;
		break;
	default:
		days = tz_days_from_civil(year, r->month, 1);
		tz_civil_from_secs(days * SECS_PER_DAY, &c);
		d = (r->wday - c.wday + 7) % 7 + (r->week - 1) * 7;
		if (d >= tz_days_in_month(year, r->month))
			d -= 7;
		days += d;
		break;
	}
	return days * SECS_PER_DAY + r->secs;
}

/* ---- lookups ---- */

struct tz_event {
	int64_t t;
	int32_t utoff;
};

/* Span of t when t is at or after the last listed transition and a rule applies. */
static void span_from_posix(const struct tz *tz, int64_t t, struct tz_span *sp)
{
	const struct tz_posix *px = &tz->posix;
	struct tz_event ev[2 + 2 * 4], tmp;
	int64_t lower = INT64_MIN, year, clamped;
	size_t n = 0, i, j, k;
	struct tz_civil c;

	if (tz->ntrans > 0) {
		ev[n].t = INT64_MIN;
		ev[n++].utoff = tz->ntrans >= 2 ? tz->trans_utoff[tz->ntrans - 2] : tz->utoff0;
		lower = tz->trans[tz->ntrans - 1];
		ev[n].t = lower;
		ev[n++].utoff = tz->trans_utoff[tz->ntrans - 1];
	} else {
		ev[n].t = INT64_MIN;
		ev[n++].utoff = px->has_dst ? px->dst_utoff : px->std_utoff;
	}
	if (px->has_dst) {
		clamped = t > (INT64_C(1) << 50) ? (INT64_C(1) << 50) :
			  t < -(INT64_C(1) << 50) ? -(INT64_C(1) << 50) : t;
		tz_civil_from_secs(clamped + px->std_utoff, &c);
		for (year = c.year - 1; year <= c.year + 2; year++) {
			int64_t s = rule_local(&px->start, year) - px->std_utoff;
			int64_t e = rule_local(&px->end, year) - px->dst_utoff;

			if (s > lower) {
				ev[n].t = s;
				ev[n++].utoff = px->dst_utoff;
			}
			if (e > lower) {
				ev[n].t = e;
				ev[n++].utoff = px->std_utoff;
			}
		}
	} else if (tz->ntrans == 0) {
		ev[0].utoff = px->std_utoff;
	}
	/* Stable insertion sort, then drop all but the last of equal times. */
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && ev[j - 1].t > ev[j].t; j--) {
			tmp = ev[j];
			ev[j] = ev[j - 1];
			ev[j - 1] = tmp;
		}
	for (i = 0, k = 0; i < n; i++) {
		if (i + 1 < n && ev[i + 1].t == ev[i].t)
			continue;
		ev[k++] = ev[i];
	}
	n = k;
	for (i = n - 1; i > 0 && ev[i].t > t; i--)
		;
	sp->start = ev[i].t;
	sp->utoff = ev[i].utoff;
	sp->prev_utoff = i > 0 ? ev[i - 1].utoff : ev[i].utoff;
	sp->end = i + 1 < n ? ev[i + 1].t : INT64_MAX;
}

void tz_span_at(const struct tz *tz, int64_t t, struct tz_span *sp)
{
	size_t lo, hi, mid, k;

	if (tz->ntrans == 0 || t < tz->trans[0]) {
		if (tz->ntrans == 0 && tz->has_posix) {
			span_from_posix(tz, t, sp);
			return;
		}
		sp->start = INT64_MIN;
		sp->end = tz->ntrans ? tz->trans[0] : INT64_MAX;
		sp->utoff = sp->prev_utoff = tz->utoff0;
		return;
	}
	/* Largest k with trans[k] <= t. */
	lo = 0;
	hi = tz->ntrans;
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (tz->trans[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	k = lo;
	if (k + 1 == tz->ntrans && tz->has_posix) {
		span_from_posix(tz, t, sp);
		return;
	}
	sp->start = tz->trans[k];
	sp->end = k + 1 < tz->ntrans ? tz->trans[k + 1] : INT64_MAX;
	sp->utoff = tz->trans_utoff[k];
	sp->prev_utoff = k > 0 ? tz->trans_utoff[k - 1] : tz->utoff0;
}

int32_t tz_utoff_at(const struct tz *tz, int64_t t)
{
	struct tz_span sp;

	tz_span_at(tz, t, &sp);
	return sp.utoff;
}

/* ---- loading ---- */

void tz_init_utc(struct tz *tz)
{
	memset(tz, 0, sizeof *tz);
	snprintf(tz->name, sizeof tz->name, "UTC");
}

void tz_free(struct tz *tz)
{
	if (!tz)
		return;
	free(tz->trans);
	free(tz->trans_utoff);
	tz_init_utc(tz);
}

/* Zone names are relative paths of [A-Za-z0-9._+-] components, no "." or "..". */
static int valid_name(const char *name)
{
	size_t len = strlen(name), i, comp = 0;
	const char *p;

	if (len == 0 || len >= TZ_NAME_MAX)
		return 0;
	for (i = 0; i <= len; i++) {
		char ch = name[i];

		if (ch == '/' || ch == '\0') {
			p = name + i - comp;
			if (comp == 0 || (comp == 1 && p[0] == '.') ||
			    (comp == 2 && p[0] == '.' && p[1] == '.'))
				return 0;
			comp = 0;
			continue;
		}
		if (!isalnum((unsigned char)ch) && ch != '_' && ch != '-' && ch != '+' && ch != '.')
			return 0;
		if (comp == 0 && ch == '-')
			return 0;
		comp++;
	}
	return 1;
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

struct tzif_counts {
	uint32_t isut, isstd, leap, time, type, chars;
};

static void read_counts(const unsigned char *h, struct tzif_counts *c)
{
	c->isut = be32(h + 20);
	c->isstd = be32(h + 24);
	c->leap = be32(h + 28);
	c->time = be32(h + 32);
	c->type = be32(h + 36);
	c->chars = be32(h + 40);
}

/* Bytes of a data block with time size ts (4 or 8); 0 if counts are absurd. */
static size_t block_size(const struct tzif_counts *c, size_t ts)
{
	if (c->time > TZIF_MAX_TRANS || c->type == 0 || c->type > 256 || c->chars > 65536 ||
	    c->leap > 65536 || (c->isstd && c->isstd != c->type) ||
	    (c->isut && c->isut != c->type))
		return 0;
	return c->time * ts + c->time + c->type * 6 + c->chars +
	       c->leap * (ts + 4) + c->isstd + c->isut;
}

/* Decode buf (n bytes) into tz.  0 on success, -1 if not TZif, -2 if corrupt. */
static int tzif_decode(struct tz *tz, const unsigned char *buf, size_t n)
{
	struct tzif_counts c;
	const unsigned char *d, *tt, *types, *end = buf + n;
	size_t bs, ts = 4, i;
	char footer[256];

	if (n < 44 || memcmp(buf, "TZif", 4) != 0)
		return -1;
	read_counts(buf, &c);
	if (!(bs = block_size(&c, 4)) || bs > n - 44)
		return -2;
	d = buf + 44;
	if (buf[4] >= '2') {
		d += bs;
		if ((size_t)(end - d) < 44 || memcmp(d, "TZif", 4) != 0)
			return -2;
		read_counts(d, &c);
		ts = 8;
		d += 44;
		if (!(bs = block_size(&c, 8)) || bs > (size_t)(end - d))
			return -2;
	}
	tt = d + c.time * ts;
	types = tt + c.time;
	for (i = 0; i < c.type; i++) {
		int32_t off = (int32_t)be32(types + 6 * i);

		if (off <= -UTOFF_LIMIT || off >= UTOFF_LIMIT || types[6 * i + 5] >= c.chars + (c.chars == 0))
			return -2;
	}
	if (c.time) {
		tz->trans = malloc(c.time * sizeof *tz->trans);
		tz->trans_utoff = malloc(c.time * sizeof *tz->trans_utoff);
		if (!tz->trans || !tz->trans_utoff)
			return -3;
	}
	for (i = 0; i < c.time; i++) {
		tz->trans[i] = ts == 8 ? be64(d + 8 * i) : (int32_t)be32(d + 4 * i);
		if (tt[i] >= c.type || (i > 0 && tz->trans[i] <= tz->trans[i - 1]))
			return -2;
		tz->trans_utoff[i] = (int32_t)be32(types + 6 * tt[i]);
	}
	tz->ntrans = c.time;
	tz->utoff0 = (int32_t)be32(types);
	if (ts == 8) {
		/* Footer: "\n" TZ-string "\n". */
		const unsigned char *f = d + bs, *nl;

		if (f < end && *f == '\n') {
			f++;
			nl = memchr(f, '\n', (size_t)(end - f));
			if (!nl || (size_t)(nl - f) >= sizeof footer)
				return -2;
			memcpy(footer, f, (size_t)(nl - f));
			footer[nl - f] = '\0';
			if (footer[0] != '\0') {
				if (posix_parse(footer, &tz->posix) != 0)
					return -2;
				tz->has_posix = 1;
			}
		}
	}
	return 0;
}

/* Read the whole file at path into a malloc'd buffer; errno set on failure. */
static unsigned char *slurp(const char *path, size_t *len, int *is_dir)
{
	struct stat st;
	unsigned char *buf = NULL;
	size_t n = 0;
	ssize_t r;
	int fd, saved;

	*is_dir = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) != 0)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		*is_dir = 1;
		errno = EISDIR;
		goto fail;
	}
	if (st.st_size > TZIF_MAX_BYTES) {
		errno = EFBIG;
		goto fail;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		goto fail;
	while (n < (size_t)st.st_size) {
		r = read(fd, buf + n, (size_t)st.st_size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EIO;
			goto fail;
		}
		n += (size_t)r;
	}
	close(fd);
	*len = n;
	return buf;
fail:
	saved = errno;
	free(buf);
	close(fd);
	errno = saved;
	return NULL;
}

int tz_load_dir(struct tz *tz, const char *dir, const char *name, struct err *e)
{
	char path[4096];
	unsigned char *buf;
	size_t len = 0;
	int is_dir, rc;

	tz_init_utc(tz);
	if (!name || !valid_name(name))
		return err_set(e, EXIT_CONFIG, "invalid time zone name \"%.100s\"", name ? name : "");
	if (strcmp(name, "UTC") == 0)
		return 0;
	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
		return err_set(e, EXIT_CONFIG, "invalid time zone name \"%s\"", name);
	buf = slurp(path, &len, &is_dir);
	if (!buf) {
		if (errno == ENOENT || errno == ENOTDIR || is_dir)
			return err_set(e, EXIT_CONFIG, "unknown time zone \"%s\"", name);
		if (errno == EFBIG)
			return err_set(e, EXIT_CONFIG, "time zone \"%s\" is not a TZif file", name);
		return err_set(e, EXIT_IOERR, "cannot read time zone \"%s\": %s", name, strerror(errno));
	}
	rc = tzif_decode(tz, buf, len);
	free(buf);
	if (rc != 0) {
		tz_free(tz);
		if (rc == -1)
			return err_set(e, EXIT_CONFIG, "time zone \"%s\" is not a TZif file", name);
		if (rc == -3)
			return err_set(e, EXIT_SOFTWARE, "time zone \"%s\": out of memory", name);
		return err_set(e, EXIT_CONFIG, "time zone \"%s\": corrupt TZif data", name);
	}
	snprintf(tz->name, sizeof tz->name, "%s", name);
	return 0;
}

int tz_load(struct tz *tz, const char *name, struct err *e)
{
	const char *dir = getenv("TZDIR");

	return tz_load_dir(tz, dir && *dir ? dir : TZ_DEFAULT_DIR, name, e);
}

/* ---- ISO 8601 ---- */

int tz_format_iso(const struct tz *tz, int64_t t, char *buf, size_t size)
{
	int32_t off = tz_utoff_at(tz, t), a = off < 0 ? -off : off;
	struct tz_civil c;
	char sec[8] = "";

	tz_civil_from_secs(t + off, &c);
	if (a % 60)
		snprintf(sec, sizeof sec, ":%02d", (int)(a % 60));
	return snprintf(buf, size, "%04lld-%02d-%02dT%02d:%02d:%02d%c%02d:%02d%s",
			(long long)c.year, c.month, c.day, c.hour, c.minute, c.second,
			off < 0 ? '-' : '+', (int)(a / 3600), (int)(a / 60 % 60), sec);
}

/* Read exactly n digits at *p into *v; 0 on success. */
static int iso_digits(const char **p, int n, int *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		*v = *v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	return 0;
}

int tz_parse_iso(const char *s, int64_t *t, struct err *e)
{
	const char *p = s;
	int y, mo, d, h, mi, sec = 0, oh = 0, om = 0, sign = 0;

	if (iso_digits(&p, 4, &y) || *p++ != '-' || iso_digits(&p, 2, &mo) || *p++ != '-' ||
	    iso_digits(&p, 2, &d) || *p++ != 'T' || iso_digits(&p, 2, &h) || *p++ != ':' ||
	    iso_digits(&p, 2, &mi))
		goto bad;
	if (*p == ':') {
		p++;
		if (iso_digits(&p, 2, &sec))
			goto bad;
	}
	if (*p == 'Z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '-' ? -1 : 1;
		if (iso_digits(&p, 2, &oh) || *p++ != ':' || iso_digits(&p, 2, &om))
			goto bad;
	} else {
		goto bad;
	}
	if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > tz_days_in_month(y, mo) ||
	    h > 23 || mi > 59 || sec > 59 || oh > 23 || om > 59)
		goto bad;
	*t = tz_days_from_civil(y, mo, d) * SECS_PER_DAY + h * 3600 + mi * 60 + sec -
	     sign * (oh * 3600 + om * 60);
	return 0;
bad:
	return err_set(e, EXIT_USAGE,
		       "\"%.64s\" is not a time like 2026-03-29T02:30:00+01:00 (YYYY-MM-DDTHH:MM[:SS] and Z or an offset)",
		       s);
}
