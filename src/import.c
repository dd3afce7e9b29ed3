/*
 * import.c - `trueup import DIR`: validate platform CSV files and upsert
 * them in one transaction; see import.h for the rules.
 *
 * The import contract is data: imp_files[] below lists each file, the
 * table it loads and its columns, in load (dependency) order.  For each
 * present file the header is mapped onto the spec, then each record is
 * checked in this order, so a row's first problem is the one reported:
 *   1. field count equals the header's;
 *   2. each field, left to right: required value present, type valid
 *      (value normalised: timestamps to UTC, integers parsed);
 *   3. key not seen earlier in the same file;
 *   4. references, left to right, exist in the database (including rows
 *      loaded earlier in this import); tenants.purchase_intent_id is
 *      queued and checked once purchase_intents.csv is loaded;
 *   5. UNIQUE columns (course_programs.code) not used by another row;
 *   6. upsert (inserted / updated / unchanged).
 * All SQL is in db_import.c.  Nothing here prints.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "csv.h"
#include "import.h"

#define IMP_MAX_COLS 16
#define IMP_ID_MAX 255
#define IMP_EMAIL_MAX 254
#define IMP_SHOW_MAX 64       /* bytes of a bad value quoted in a message */
#define IMP_KEY_MAX 1024

enum imp_type { IMP_TEXT, IMP_ID, IMP_EMAIL, IMP_TIME, IMP_UINT, IMP_ENUM };

/* Column flags. */
#define IMP_KEY 1       /* part of the primary key (implies IMP_REQ) */
#define IMP_REQ 2       /* must be in the header and never empty (NOT NULL) */
#define IMP_UNIQUE 4    /* no other row may hold the same value */
#define IMP_DEFER 8     /* reference checked at the end of the import */

struct imp_col {
	const char *name;
	enum imp_type type;
	int flags;
	const char *const *values;  /* IMP_ENUM: NULL-terminated */
	const char *ref_table;      /* references ref_table.id when not NULL */
	const char *ref_noun;       /* "tenant": for "tenant "t_9" does not exist" */
};

struct imp_file {
	const char *file;
	const char *table;
	const struct imp_col *cols;
	int ncols;
};

#define KEY(n, t)       { n, t, IMP_KEY | IMP_REQ, NULL, NULL, NULL }
#define KEYREF(n, r, w) { n, IMP_ID, IMP_KEY | IMP_REQ, NULL, r, w }
#define COL(n, t)       { n, t, 0, NULL, NULL, NULL }
#define REQ(n, t)       { n, t, IMP_REQ, NULL, NULL, NULL }
#define ENUM(n, v)      { n, IMP_ENUM, IMP_REQ, v, NULL, NULL }
#define REF(n, r, w)    { n, IMP_ID, 0, NULL, r, w }
#define REQREF(n, r, w) { n, IMP_ID, IMP_REQ, NULL, r, w }
#define NCOLS(a) ((int)(sizeof a / sizeof a[0]))

static const char *const ent_status[] = { "active", "revoked", NULL };
static const char *const ent_source[] = { "stripe", "admin_grant", "migration", NULL };
static const char *const pi_status[] = { "started", "awaiting_payment", "paid", "provisioned",
					 "failed", "expired", NULL };
static const char *const enr_status[] = { "active", "revoked", "refunded", NULL };
static const char *const prog_status[] = { "UNBOOKED", "BOOKED", "COMPLETED", "MISSED",
					   "CANCELLED", NULL };

static const struct imp_col users_cols[] = {
	KEY("id", IMP_ID), { "email", IMP_EMAIL, IMP_REQ, NULL, NULL, NULL },
	COL("name", IMP_TEXT), COL("role", IMP_TEXT), COL("created_at", IMP_TIME),
};
static const struct imp_col tenants_cols[] = {
	KEY("id", IMP_ID), COL("name", IMP_TEXT), REF("owner_user_id", "users", "user"),
	COL("plan", IMP_TEXT), COL("status", IMP_TEXT),
	{ "purchase_intent_id", IMP_ID, IMP_DEFER, NULL, "purchase_intents", "purchase intent" },
	COL("created_at", IMP_TIME),
};
static const struct imp_col pi_cols[] = {
	KEY("id", IMP_ID), REF("user_id", "users", "user"), REF("tenant_id", "tenants", "tenant"),
	COL("plan", IMP_TEXT), COL("stripe_checkout_session_id", IMP_ID),
	ENUM("status", pi_status), COL("created_at", IMP_TIME),
};
static const struct imp_col memberships_cols[] = {
	KEYREF("tenant_id", "tenants", "tenant"), KEYREF("user_id", "users", "user"),
	COL("role", IMP_TEXT),
};
static const struct imp_col subscriptions_cols[] = {
	KEY("id", IMP_ID), REF("tenant_id", "tenants", "tenant"), REF("user_id", "users", "user"),
	COL("plan", IMP_TEXT), COL("stripe_subscription_id", IMP_ID), COL("status", IMP_TEXT),
	COL("quantity", IMP_UINT), COL("current_period_end", IMP_TIME),
};
static const struct imp_col entitlements_cols[] = {
	KEY("id", IMP_ID), REF("tenant_id", "tenants", "tenant"), REF("user_id", "users", "user"),
	REQ("product", IMP_TEXT), COL("quantity_seats", IMP_UINT), ENUM("status", ent_status),
	ENUM("source", ent_source), COL("stripe_subscription_id", IMP_ID),
	COL("stripe_checkout_session_id", IMP_ID), COL("granted_by", IMP_TEXT),
	COL("valid_from", IMP_TIME), COL("valid_until", IMP_TIME),
};
static const struct imp_col seats_cols[] = {
	KEYREF("entitlement_id", "entitlements", "entitlement"), KEYREF("user_id", "users", "user"),
	KEY("assigned_at", IMP_TIME), COL("released_at", IMP_TIME),
};
static const struct imp_col courses_cols[] = {
	KEY("id", IMP_ID), COL("slug", IMP_TEXT), COL("title", IMP_TEXT),
	REF("organization_id", "tenants", "tenant"), REF("owner_user_id", "users", "user"),
	REF("created_by", "users", "user"), COL("created_at", IMP_TIME),
};
static const struct imp_col events_cols[] = {
	KEY("id", IMP_ID), REF("organization_id", "tenants", "tenant"),
	REF("owner_user_id", "users", "user"), REF("created_by", "users", "user"),
	COL("created_at", IMP_TIME),
};
static const struct imp_col programs_cols[] = {
	KEY("id", IMP_ID), { "code", IMP_TEXT, IMP_REQ | IMP_UNIQUE, NULL, NULL, NULL },
	COL("title", IMP_TEXT),
};
static const struct imp_col steps_cols[] = {
	KEY("id", IMP_ID), REQREF("program_id", "course_programs", "program"),
	REQ("step_order", IMP_UINT), COL("label", IMP_TEXT), COL("title", IMP_TEXT),
};
static const struct imp_col enrolments_cols[] = {
	KEY("id", IMP_ID), REQREF("student_user_id", "users", "user"),
	REQREF("program_id", "course_programs", "program"),
	COL("stripe_checkout_session_id", IMP_ID), ENUM("status", enr_status),
	COL("enrolled_at", IMP_TIME),
};
static const struct imp_col progress_cols[] = {
	KEY("id", IMP_ID), REQREF("enrolment_id", "enrolments", "enrolment"),
	REQREF("step_id", "course_steps", "step"), ENUM("status", prog_status),
	COL("booked_at", IMP_TIME), COL("completed_at", IMP_TIME),
};
static const struct imp_col usage_cols[] = {
	KEYREF("tenant_id", "tenants", "tenant"), KEY("metric", IMP_ID),
	REQ("value", IMP_UINT), KEY("measured_at", IMP_TIME),
};

#define IMP_FITS(a) _Static_assert(NCOLS(a) <= IMP_MAX_COLS, #a " has too many columns")
IMP_FITS(users_cols); IMP_FITS(tenants_cols); IMP_FITS(pi_cols); IMP_FITS(memberships_cols);
IMP_FITS(subscriptions_cols); IMP_FITS(entitlements_cols); IMP_FITS(seats_cols);
IMP_FITS(courses_cols); IMP_FITS(events_cols); IMP_FITS(programs_cols); IMP_FITS(steps_cols);
IMP_FITS(enrolments_cols); IMP_FITS(progress_cols); IMP_FITS(usage_cols);

/* Load order: every reference points at a file earlier in the list, except
 * tenants.purchase_intent_id (IMP_DEFER). */
static const struct imp_file imp_files[IMPORT_NFILES] = {
	{ "users.csv", "users", users_cols, NCOLS(users_cols) },
	{ "tenants.csv", "tenants", tenants_cols, NCOLS(tenants_cols) },
	{ "purchase_intents.csv", "purchase_intents", pi_cols, NCOLS(pi_cols) },
	{ "memberships.csv", "memberships", memberships_cols, NCOLS(memberships_cols) },
	{ "subscriptions.csv", "subscriptions", subscriptions_cols, NCOLS(subscriptions_cols) },
	{ "entitlements.csv", "entitlements", entitlements_cols, NCOLS(entitlements_cols) },
	{ "seat_assignments.csv", "seat_assignments", seats_cols, NCOLS(seats_cols) },
	{ "courses.csv", "courses", courses_cols, NCOLS(courses_cols) },
	{ "events.csv", "events", events_cols, NCOLS(events_cols) },
	{ "course_programs.csv", "course_programs", programs_cols, NCOLS(programs_cols) },
	{ "course_steps.csv", "course_steps", steps_cols, NCOLS(steps_cols) },
	{ "enrolments.csv", "enrolments", enrolments_cols, NCOLS(enrolments_cols) },
	{ "step_progress.csv", "step_progress", progress_cols, NCOLS(progress_cols) },
	{ "usage.csv", "usage", usage_cols, NCOLS(usage_cols) },
};

/* State of the file being loaded. */
struct imp_ctx {
	struct db_import *s;
	const struct imp_file *f;
	int fidx;
	int nheader;                      /* fields in the header */
	int hdr_spec[IMP_MAX_COLS];       /* header position -> spec column */
	int spec_pos[IMP_MAX_COLS];       /* spec column -> header position, or -1 */
	const char *bind_names[IMP_MAX_COLS];
	int bind_spec[IMP_MAX_COLS];      /* bind slot -> spec column */
	size_t nbind, nkeys;
	struct db_import_upsert *up;
	/* per row */
	struct db_import_value vals[IMP_MAX_COLS];   /* by spec column */
	char times[IMP_MAX_COLS][64];                /* normalised timestamps */
	struct err *e;
};

const char *import_file_name(int i)
{
	return i >= 0 && i < IMPORT_NFILES ? imp_files[i].file : NULL;
}

/*
 * Copy v for a message: at most IMP_SHOW_MAX bytes, cut on a UTF-8
 * boundary, "..." when cut.
 */
static const char *imp_show(const char *v, char *buf, size_t sz)
{
	size_t n = strlen(v);

	if (n <= IMP_SHOW_MAX) {
		snprintf(buf, sz, "%s", v);
		return buf;
	}
	n = IMP_SHOW_MAX;
	while (n > 0 && ((unsigned char)v[n] & 0xC0) == 0x80)
		n--;
	snprintf(buf, sz, "%.*s...", (int)n, v);
	return buf;
}

static int imp_days_in_month(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return days[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static long long imp_days_from_civil(long long y, int m, int d)
{
	long long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void imp_civil_from_days(long long z, long long *y, int *m, int *d)
{
	long long era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* n decimal digits at s into *out; -1 if any is not a digit. */
static int imp_digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/*
 * Parse an ISO 8601 timestamp (see import.h) into out as UTC
 * 'YYYY-MM-DDTHH:MM:SSZ'.  Returns 0, or -1 when s is not one.
 */
static int imp_parse_time(const char *s, char *out, size_t outsz)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, off = 0, oh, om, dd;
	long long days, secs, yy;
	const char *p;

	if (imp_digits(s, 4, &y) || s[4] != '-' || imp_digits(s + 5, 2, &mo) || s[7] != '-' ||
	    imp_digits(s + 8, 2, &d))
		return -1;
	if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > imp_days_in_month(y, mo))
		return -1;
	p = s + 10;
	if (*p) {
		if (*p != 'T' && *p != 't' && *p != ' ')
			return -1;
		p++;
		if (imp_digits(p, 2, &h) || p[2] != ':' || imp_digits(p + 3, 2, &mi))
			return -1;
		p += 5;
		if (*p == ':') {
			if (imp_digits(p + 1, 2, &sec))
				return -1;
			p += 3;
			if (*p == '.') {
				p++;
				if (*p < '0' || *p > '9')
					return -1;
				while (*p >= '0' && *p <= '9')
					p++;
			}
		}
		if (h > 23 || mi > 59 || sec > 59)
			return -1;
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			if (imp_digits(p + 1, 2, &oh) || p[3] != ':' || imp_digits(p + 4, 2, &om) ||
			    oh > 23 || om > 59)
				return -1;
			off = (oh * 60 + om) * (*p == '-' ? -1 : 1);
			p += 6;
		}
		if (*p)
			return -1;
	}
	secs = imp_days_from_civil(y, mo, d) * 86400LL + h * 3600LL + mi * 60LL + sec -
	       off * 60LL;
	days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
	secs -= days * 86400;
	imp_civil_from_days(days, &yy, &mo, &dd);
	if (yy < 1 || yy > 9999)
		return -1;
	snprintf(out, outsz, "%04lld-%02d-%02dT%02lld:%02lld:%02lldZ", yy, mo, dd, secs / 3600,
		 secs / 60 % 60, secs % 60);
	return 0;
}

/* Integer >= 0.  Returns 0, or the reason as a message tail. */
static const char *imp_parse_uint(const char *s, long long *out)
{
	const char *p = s;
	long long v = 0;

	if (*p == '-') {
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
		return p > s + 1 && !*p ? "must not be negative" : "is not an integer";
	}
	if (!*p)
		return "is not an integer";
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return "is not an integer";
		if (v > (LLONG_MAX - (*p - '0')) / 10)
			return "is out of range";
		v = v * 10 + (*p - '0');
	}
	*out = v;
	return NULL;
}

/* An id: 1..255 bytes, no space, no control character. */
static int imp_valid_id(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > IMP_ID_MAX)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

/*
 * A practical email check: local@domain, one '@', no spaces or controls,
 * no characters RFC 5322 reserves outside quotes, a domain of dot-separated
 * non-empty labels (at least two), at most 254 bytes.
 */
static int imp_valid_email(const char *s)
{
	const char *at = strchr(s, '@'), *p;
	size_t n = strlen(s);
	int dots = 0;

	if (!at || at == s || strchr(at + 1, '@') || n > IMP_EMAIL_MAX || at - s > 64)
		return 0;
	for (p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c <= 0x20 || c == 0x7f || strchr("\"(),:;<>[\\]", c))
			return 0;
	}
	p = at + 1;
	if (!*p || *p == '.' || *p == '-' || s[n - 1] == '.' || s[n - 1] == '-')
		return 0;
	for (; *p; p++) {
		if (*p == '.') {
			if (p[1] == '.')
				return 0;
			dots++;
		} else if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			     (*p >= '0' && *p <= '9') || *p == '-' || (unsigned char)*p >= 0x80)) {
			return 0;
		}
	}
	return dots > 0;
}

static int imp_enum_ok(const struct imp_col *c, const char *v)
{
	for (int i = 0; c->values[i]; i++)
		if (strcmp(c->values[i], v) == 0)
			return 1;
	return 0;
}

static int imp_enum_fail(struct imp_ctx *x, long line, int col, const struct imp_col *c,
			 const char *v)
{
	char list[256], show[IMP_SHOW_MAX + 8];
	size_t len = 0;

	list[0] = '\0';
	for (int i = 0; c->values[i]; i++) {
		int n = snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "",
				 c->values[i]);

		if (n < 0 || (size_t)n >= sizeof list - len)
			break;
		len += (size_t)n;
	}
	return err_set(x->e, EXIT_DATAERR, "%s:%ld:%d: %s \"%s\" is not one of %s", x->f->file,
		       line, col, c->name, imp_show(v, show, sizeof show), list);
}

/* Validate field value v of spec column ci into x->vals[ci]. */
static int imp_field(struct imp_ctx *x, long line, int col, int ci, const char *v)
{
	const struct imp_col *c = &x->f->cols[ci];
	struct db_import_value *out = &x->vals[ci];
	char show[IMP_SHOW_MAX + 8];
	const char *why = NULL;

	memset(out, 0, sizeof *out);
	if (!v || !*v) {
		out->is_null = 1;
		if (c->flags & IMP_REQ)
			return err_set(x->e, EXIT_DATAERR, "%s:%ld:%d: %s must not be empty",
				       x->f->file, line, col, c->name);
		return 0;
	}
	out->text = v;
	switch (c->type) {
	case IMP_TEXT:
		break;
	case IMP_ID:
		if (!imp_valid_id(v))
			why = "is not a valid id";
		break;
	case IMP_EMAIL:
		if (!imp_valid_email(v))
			why = "is not an email address";
		break;
	case IMP_TIME:
		if (imp_parse_time(v, x->times[ci], sizeof x->times[ci]) != 0)
			why = "is not an ISO 8601 timestamp";
		else
			out->text = x->times[ci];
		break;
	case IMP_UINT:
		why = imp_parse_uint(v, &out->num);
		out->is_int = 1;
		break;
	case IMP_ENUM:
		if (!imp_enum_ok(c, v))
			return imp_enum_fail(x, line, col, c, v);
		break;
	}
	if (why)
		return err_set(x->e, EXIT_DATAERR, "%s:%ld:%d: %s \"%s\" %s", x->f->file, line, col,
			       c->name, imp_show(v, show, sizeof show), why);
	return 0;
}

/* Map the header onto the spec; prepare the upsert of the columns present. */
static int imp_header(struct imp_ctx *x, const struct csv_record *h)
{
	const struct imp_file *f = x->f;
	char show[IMP_SHOW_MAX + 8];
	size_t i;
	int ci;

	for (ci = 0; ci < f->ncols; ci++)
		x->spec_pos[ci] = -1;
	/* Each stored position is a distinct spec column, so hdr_spec cannot
	 * overflow: a longer header hits an unknown or duplicate column first. */
	x->nheader = (int)h->nfields;
	for (i = 0; i < h->nfields; i++) {
		const char *name = h->fields[i].value;

		if (!name || !*name)
			return err_set(x->e, EXIT_DATAERR, "%s:%ld:%zu: empty column name", f->file,
				       h->line, i + 1);
		for (ci = 0; ci < f->ncols; ci++)
			if (strcmp(f->cols[ci].name, name) == 0)
				break;
		if (ci == f->ncols)
			return err_set(x->e, EXIT_DATAERR, "%s:%ld:%zu: unknown column \"%s\"",
				       f->file, h->line, i + 1, imp_show(name, show, sizeof show));
		if (x->spec_pos[ci] >= 0)
			return err_set(x->e, EXIT_DATAERR,
				       "%s:%ld:%zu: duplicate column \"%s\" (first at column %d)",
				       f->file, h->line, i + 1, name, x->spec_pos[ci] + 1);
		x->spec_pos[ci] = (int)i;
		x->hdr_spec[i] = ci;
	}
	for (ci = 0; ci < f->ncols; ci++)
		if ((f->cols[ci].flags & IMP_REQ) && x->spec_pos[ci] < 0)
			return err_set(x->e, EXIT_DATAERR, "%s:%ld: missing required column \"%s\"",
				       f->file, h->line, f->cols[ci].name);
	/* Bind order: key columns first, then the other present columns. */
	x->nbind = x->nkeys = 0;
	for (int pass = 0; pass < 2; pass++) {
		for (ci = 0; ci < f->ncols; ci++) {
			int is_key = (f->cols[ci].flags & IMP_KEY) != 0;

			if (x->spec_pos[ci] < 0 || is_key != (pass == 0))
				continue;
			x->bind_names[x->nbind] = f->cols[ci].name;
			x->bind_spec[x->nbind++] = ci;
			if (is_key)
				x->nkeys++;
		}
	}
	return db_import_upsert_prepare(x->s, f->table, x->bind_names, x->nbind, x->nkeys,
					&x->up, x->e);
}

/* Step 3: the row's key must not repeat within the file. */
static int imp_check_duplicate(struct imp_ctx *x, long line)
{
	char key[IMP_KEY_MAX], what[IMP_KEY_MAX + 128], show[IMP_SHOW_MAX + 8];
	size_t klen = 0, wlen = 0;
	long first = 0;
	int rc, n;

	for (size_t b = 0; b < x->nkeys; b++) {
		const struct imp_col *c = &x->f->cols[x->bind_spec[b]];
		const char *v = x->vals[x->bind_spec[b]].text;

		n = snprintf(key + klen, sizeof key - klen, "%s%s", b ? "\x1f" : "", v);
		if (n < 0 || (size_t)n >= sizeof key - klen)
			return err_set(x->e, EXIT_DATAERR, "%s:%ld: key too long", x->f->file, line);
		klen += (size_t)n;
		n = snprintf(what + wlen, sizeof what - wlen, "%s%s \"%s\"", b ? ", " : "",
			     c->name, imp_show(v, show, sizeof show));
		if (n > 0 && (size_t)n < sizeof what - wlen)
			wlen += (size_t)n;
	}
	if ((rc = db_import_seen(x->s, x->f->file, key, line, &first, x->e)) != 0)
		return rc;
	if (first)
		return err_set(x->e, EXIT_DATAERR, "%s:%ld:%d: duplicate %s (first on line %ld)",
			       x->f->file, line, x->spec_pos[x->bind_spec[0]] + 1, what, first);
	return 0;
}

/* Steps 4 and 5: references and unique columns, in header order. */
static int imp_check_refs(struct imp_ctx *x, long line)
{
	char show[IMP_SHOW_MAX + 8], other[IMP_ID_MAX + 1];
	int found, rc;

	for (int h = 0; h < x->nheader; h++) {
		int ci = x->hdr_spec[h];
		const struct imp_col *c = &x->f->cols[ci];
		const char *v = x->vals[ci].text;

		if (!c->ref_table || x->vals[ci].is_null)
			continue;
		if (c->flags & IMP_DEFER) {
			rc = db_import_defer(x->s, x->f->file, line, h + 1,
					     x->fidx * IMP_MAX_COLS + ci, v, x->e);
			if (rc)
				return rc;
			continue;
		}
		if ((rc = db_import_exists(x->s, c->ref_table, "id", v, &found, x->e)) != 0)
			return rc;
		if (!found)
			return err_set(x->e, EXIT_DATAERR, "%s:%ld:%d: %s \"%s\" does not exist",
				       x->f->file, line, h + 1, c->ref_noun,
				       imp_show(v, show, sizeof show));
	}
	for (int h = 0; h < x->nheader; h++) {
		int ci = x->hdr_spec[h];
		const struct imp_col *c = &x->f->cols[ci];
		const char *key = x->vals[x->bind_spec[0]].text;

		if (!(c->flags & IMP_UNIQUE) || x->vals[ci].is_null)
			continue;
		rc = db_import_unique_clash(x->s, x->f->table, c->name, x->vals[ci].text,
					    x->f->cols[x->bind_spec[0]].name, key, other,
					    sizeof other, &found, x->e);
		if (rc)
			return rc;
		if (found)
			return err_set(x->e, EXIT_DATAERR,
				       "%s:%ld:%d: duplicate %s \"%s\" (already used by %s \"%s\")",
				       x->f->file, line, h + 1, c->name,
				       imp_show(x->vals[ci].text, show, sizeof show),
				       x->f->cols[x->bind_spec[0]].name, other);
	}
	return 0;
}

static int imp_row(struct imp_ctx *x, const struct csv_record *r, struct import_counts *n)
{
	struct db_import_value bound[IMP_MAX_COLS];
	enum db_import_outcome outcome;
	int rc;

	if (r->nfields > (size_t)x->nheader)
		return err_set(x->e, EXIT_DATAERR, "%s:%ld:%d: too many fields (%zu, expected %d)",
			       x->f->file, r->line, x->nheader + 1, r->nfields, x->nheader);
	if (r->nfields < (size_t)x->nheader)
		return err_set(x->e, EXIT_DATAERR, "%s:%ld:%zu: too few fields (%zu, expected %d)",
			       x->f->file, r->line, r->nfields + 1, r->nfields, x->nheader);
	for (int h = 0; h < x->nheader; h++)
		if ((rc = imp_field(x, r->line, h + 1, x->hdr_spec[h], r->fields[h].value)) != 0)
			return rc;
	if ((rc = imp_check_duplicate(x, r->line)) != 0 || (rc = imp_check_refs(x, r->line)) != 0)
		return rc;
	for (size_t b = 0; b < x->nbind; b++)
		bound[b] = x->vals[x->bind_spec[b]];
	if ((rc = db_import_upsert_row(x->up, bound, &outcome, x->e)) != 0)
		return err_prefix(x->e, "%s:%ld", x->f->file, r->line);
	if (outcome == DB_IMPORT_INSERTED)
		n->inserted++;
	else if (outcome == DB_IMPORT_UPDATED)
		n->updated++;
	else
		n->unchanged++;
	return 0;
}

/* Load one file of the contract. */
static int imp_load_file(struct db_import *s, const char *dir, int fidx,
			 struct import_counts *n, struct err *e)
{
	struct imp_ctx *x;
	struct csv_reader *r = NULL;
	const struct csv_record *rec;
	char path[PATH_MAX];
	int rc;

	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, imp_files[fidx].file) >= sizeof path)
		return err_set(e, EXIT_NOINPUT, "%s: path too long", imp_files[fidx].file);
	if (!(x = calloc(1, sizeof *x)))
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	x->s = s;
	x->f = &imp_files[fidx];
	x->fidx = fidx;
	x->e = e;
	if ((rc = csv_reader_open(path, x->f->file, &r, e)) != 0)
		goto out;
	if ((rc = csv_reader_next(r, &rec, e)) != 0)
		goto out;
	if (!rec) {
		rc = err_set(e, EXIT_DATAERR, "%s: empty file (no header row)", x->f->file);
		goto out;
	}
	if ((rc = imp_header(x, rec)) != 0)
		goto out;
	while ((rc = csv_reader_next(r, &rec, e)) == 0 && rec) {
		n->rows++;
		if ((rc = imp_row(x, rec, n)) != 0)
			break;
	}
out:
	db_import_upsert_free(x->up);
	csv_reader_free(r);
	free(x);
	return rc;
}

struct imp_deferred_arg {
	struct db_import *s;
	struct err *e;
};

/* Check one queued reference (db_import_deferred_each callback). */
static int imp_check_deferred(void *arg, const char *file, long line, int column, int tag,
			      const char *value)
{
	struct imp_deferred_arg *a = arg;
	int fidx = tag / IMP_MAX_COLS, ci = tag % IMP_MAX_COLS, found, rc;
	const struct imp_col *c;
	char show[IMP_SHOW_MAX + 8];

	if (fidx < 0 || fidx >= IMPORT_NFILES || ci >= imp_files[fidx].ncols)
		return err_set(a->e, EXIT_SOFTWARE, "import: bad deferred reference");
	c = &imp_files[fidx].cols[ci];
	if ((rc = db_import_exists(a->s, c->ref_table, "id", value, &found, a->e)) != 0)
		return rc;
	if (!found)
		return err_set(a->e, EXIT_DATAERR, "%s:%ld:%d: %s \"%s\" does not exist", file, line,
			       column, c->ref_noun, imp_show(value, show, sizeof show));
	return 0;
}

static int imp_known(const char *name)
{
	for (int i = 0; i < IMPORT_NFILES; i++)
		if (strcmp(imp_files[i].file, name) == 0)
			return i;
	return -1;
}

static void imp_expected_list(char *buf, size_t sz)
{
	size_t len = 0;

	buf[0] = '\0';
	for (int i = 0; i < IMPORT_NFILES; i++) {
		int n = snprintf(buf + len, sz - len, "%s%s", i ? ", " : "", imp_files[i].file);

		if (n < 0 || (size_t)n >= sz - len)
			return;
		len += (size_t)n;
	}
}

/* Find the files of dir: present[i] for known ones; unknown *.csv is an error. */
static int imp_scan_dir(const char *dir, int present[IMPORT_NFILES], struct err *e)
{
	char unknown[NAME_MAX + 1] = "", list[400], path[PATH_MAX], show[IMP_SHOW_MAX + 8];
	struct dirent *de;
	struct stat st;
	DIR *d;
	int any = 0;

	if (stat(dir, &st) != 0)
		return err_set(e, EXIT_NOINPUT, "directory \"%s\": %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return err_set(e, EXIT_NOINPUT, "\"%s\" is not a directory", dir);
	if (!(d = opendir(dir)))
		return err_set(e, EXIT_NOINPUT, "directory \"%s\": %s", dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		int i;

		if (de->d_name[0] == '.' || len < 4 || strcasecmp(de->d_name + len - 4, ".csv") != 0)
			continue;
		if ((i = imp_known(de->d_name)) < 0) {
			if (!unknown[0] || strcmp(de->d_name, unknown) < 0)
				snprintf(unknown, sizeof unknown, "%s", de->d_name);
			continue;
		}
		if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >= sizeof path ||
		    stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
			int rc = err_set(e, EXIT_NOINPUT, "%s: not a regular file", de->d_name);

			closedir(d);    /* de points into d: report first */
			return rc;
		}
		present[i] = 1;
		any = 1;
	}
	closedir(d);
	imp_expected_list(list, sizeof list);
	if (unknown[0])
		return err_set(e, EXIT_DATAERR, "%s: not a file of the import contract "
			       "(expected %s)", imp_show(unknown, show, sizeof show), list);
	if (!any)
		return err_set(e, EXIT_NOINPUT, "no platform files in \"%s\" (expected %s)", dir,
			       list);
	return 0;
}

static void imp_result_init(struct import_result *res)
{
	memset(res, 0, sizeof *res);
	for (int i = 0; i < IMPORT_NFILES; i++) {
		res->files[i].file = imp_files[i].file;
		res->files[i].table = imp_files[i].table;
	}
}

int import_dir(struct db *db, const char *dir, struct import_result *res, struct err *e)
{
	int present[IMPORT_NFILES] = { 0 };
	struct imp_deferred_arg darg;
	struct db_import *s = NULL;
	int rc, i;

	imp_result_init(res);
	if ((rc = imp_scan_dir(dir, present, e)) != 0)
		return rc;
	if ((rc = db_tx_begin(db, e)) != 0)
		return err_prefix(e, "import");
	if ((rc = db_import_start(db, &s, e)) != 0)
		goto fail;
	for (i = 0; i < IMPORT_NFILES; i++) {
		struct import_file_result *fr = &res->files[i];

		if (!present[i])
			continue;
		fr->present = 1;
		res->nfiles_present++;
		if ((rc = imp_load_file(s, dir, i, &fr->n, e)) != 0)
			goto fail;
		res->total.rows += fr->n.rows;
		res->total.inserted += fr->n.inserted;
		res->total.updated += fr->n.updated;
		res->total.unchanged += fr->n.unchanged;
	}
	darg.s = s;
	darg.e = e;
	if ((rc = db_import_deferred_each(s, imp_check_deferred, &darg, e)) != 0)
		goto fail;
	db_import_end(s, 1);
	s = NULL;
	if ((rc = db_tx_commit(db, e)) != 0)
		return err_prefix(e, "import: commit");
	return 0;
fail:
	db_import_end(s, 0);
	db_tx_rollback(db);
	return rc;
}
