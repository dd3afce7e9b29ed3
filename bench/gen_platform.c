/*
 * gen_platform.c - the synthetic platform generator; see gen_platform.h.
 *
 * Built into bench/gen_platform_main.c's command (bench/reconcile_scale.sh)
 * and included by tests/unit/test_property.c.  It writes with one prepared
 * INSERT per table, bound values only, and a transaction per batch of
 * units, so a million tenants take minutes, not hours.
 *
 * Ids are derived from the unit number (t0000042, u0000042, sub_0000042,
 * ...), so a finding names the unit it came from.  The random stream is
 * splitmix64: the same options give the same database and the same list.
 *
 * The catalogue it writes for is config/catalogues/events_lms (plans
 * organizer, lms, organization, attendee; audience 500 / 1000 /
 * unlimited / 0; courses_per_month 0 / 10 / unlimited / 0) with the
 * repair policy of config/trueup.json (past_due_grace_days 7, no seat
 * release).  Clean units stay under the smallest paid limits (audience
 * under 500, at most 3 new courses a month), so changing a tenant's plan
 * between paid plans (E5) never trips a limit rule as a side effect.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gen_platform.h"

#define DAY 86400LL

/* --- statements ---------------------------------------------------------- */

enum st {
	S_USER, S_TENANT, S_MEMBER, S_INTENT, S_LSUB, S_ENT, S_SEAT, S_COURSE, S_EVENT,
	S_PROGRAM, S_STEP, S_ENROL, S_PROGRESS, S_USAGE,
	S_CUS, S_PRODUCT, S_PRICE, S_SESSION, S_LINE, S_SUB, S_ITEM, S_INVOICE, S_REFUND,
	S_PULL, NST
};

/* Every Stripe row: raw_json (see pad), stripe_version, pulled_at last. */
static const char *const st_sql[NST] = {
	[S_USER] = "INSERT INTO users (id, email, name, role, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
	[S_TENANT] = "INSERT INTO tenants (id, name, owner_user_id, plan, status, purchase_intent_id, "
		"created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[S_MEMBER] = "INSERT INTO memberships (tenant_id, user_id, role) VALUES (?1, ?2, ?3)",
	[S_INTENT] = "INSERT INTO purchase_intents (id, user_id, tenant_id, plan, "
		"stripe_checkout_session_id, status, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[S_LSUB] = "INSERT INTO subscriptions (id, tenant_id, user_id, plan, stripe_subscription_id, "
		"status, quantity, current_period_end) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[S_ENT] = "INSERT INTO entitlements (id, tenant_id, user_id, product, quantity_seats, status, "
		"source, stripe_subscription_id, stripe_checkout_session_id, granted_by, valid_from, "
		"valid_until) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
	[S_SEAT] = "INSERT INTO seat_assignments (entitlement_id, user_id, assigned_at, released_at) "
		"VALUES (?1, ?2, ?3, ?4)",
	[S_COURSE] = "INSERT INTO courses (id, slug, title, organization_id, owner_user_id, created_by, "
		"created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[S_EVENT] = "INSERT INTO events (id, organization_id, owner_user_id, created_by, created_at) "
		"VALUES (?1, ?2, ?3, ?4, ?5)",
	[S_PROGRAM] = "INSERT INTO course_programs (id, code, title) VALUES (?1, ?2, ?3)",
	[S_STEP] = "INSERT INTO course_steps (id, program_id, step_order, label, title) "
		"VALUES (?1, ?2, ?3, ?4, ?5)",
	[S_ENROL] = "INSERT INTO enrolments (id, student_user_id, program_id, "
		"stripe_checkout_session_id, status, enrolled_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[S_PROGRESS] = "INSERT INTO step_progress (id, enrolment_id, step_id, status, booked_at, "
		"completed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[S_USAGE] = "INSERT INTO usage (tenant_id, metric, value, measured_at) VALUES (?1, ?2, ?3, ?4)",
	[S_CUS] = "INSERT INTO stripe_customers (id, livemode, created, email, currency, tenant_id, "
		"user_id, raw_json, stripe_version, pulled_at) VALUES (?1, 0, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[S_PRODUCT] = "INSERT INTO stripe_products (id, livemode, created, name, active, trueup_plan, "
		"trueup_course_program, raw_json, stripe_version, pulled_at) "
		"VALUES (?1, 0, ?2, ?3, 1, ?4, ?5, ?6, ?7, ?8)",
	[S_PRICE] = "INSERT INTO stripe_prices (id, livemode, created, product, active, currency, "
		"unit_amount, type, recurring_interval, recurring_interval_count, lookup_key, "
		"trueup_plan, trueup_course_program, raw_json, stripe_version, pulled_at) "
		"VALUES (?1, 0, ?2, ?3, 1, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
	[S_SESSION] = "INSERT INTO stripe_checkout_sessions (id, livemode, created, customer, status, "
		"mode, payment_status, client_reference_id, currency, amount_subtotal, amount_total, "
		"payment_intent, subscription, expires_at, tenant_id, user_id, trueup_plan, "
		"trueup_course_program, line_items_has_more, raw_json, stripe_version, pulled_at) "
		"VALUES (?1, 0, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, "
		"?18, ?19, ?20)",
	[S_LINE] = "INSERT INTO stripe_checkout_line_items (session_id, id, quantity, currency, "
		"amount_subtotal, amount_total, price_id, lookup_key, product, unit_amount, "
		"price_trueup_plan, price_trueup_course_program, raw_json, stripe_version, pulled_at) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
	[S_SUB] = "INSERT INTO stripe_subscriptions (id, livemode, created, customer, status, currency, "
		"start_date, current_period_start, current_period_end, period_source, canceled_at, "
		"ended_at, latest_invoice, tenant_id, user_id, items_has_more, deleted_at, raw_json, "
		"stripe_version, pulled_at) VALUES (?1, 0, ?2, ?3, ?4, ?5, ?2, ?6, ?7, 'items', ?8, ?9, "
		"?10, ?11, ?12, 0, ?13, ?14, ?15, ?16)",
	[S_ITEM] = "INSERT INTO stripe_subscription_items (subscription_id, id, created, quantity, "
		"price_id, lookup_key, product, unit_amount, currency, price_trueup_plan, "
		"price_trueup_course_program, current_period_start, current_period_end, raw_json, "
		"stripe_version, pulled_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
		"?13, ?14, ?15, ?16)",
	[S_INVOICE] = "INSERT INTO stripe_invoices (id, livemode, created, customer, subscription, "
		"status, paid, currency, amount_due, amount_paid, amount_remaining, subtotal, total, "
		"billing_reason, period_start, period_end, paid_at, lines_has_more, raw_json, "
		"stripe_version, pulled_at) VALUES (?1, 0, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?8, ?8, "
		"?11, ?12, ?13, ?14, 0, ?15, ?16, ?17)",
	[S_REFUND] = "INSERT INTO stripe_refunds (id, livemode, created, amount, currency, status, "
		"reason, payment_intent, customer, raw_json, stripe_version, pulled_at) "
		"VALUES (?1, 0, ?2, ?3, ?4, ?5, 'requested_by_customer', ?6, ?7, ?8, ?9, ?10)",
	[S_PULL] = "INSERT INTO stripe_pull_runs (mode, started_at, finished_at, status) "
		"VALUES ('full', ?1, ?2, 'ok')",
};

/* --- the catalogue it sells ------------------------------------------------ */

struct product {
	const char *id, *name, *plan_meta, *program_meta;
};

static const struct product products[] = {
	{ "prod_gen_organizer", "Organizer", NULL, NULL },
	{ "prod_gen_lms", "LMS", NULL, NULL },
	{ "prod_gen_lms_jp", "LMS (Japan)", "lms", NULL },   /* maps by product metadata */
	{ "prod_gen_organization", "Organization", NULL, NULL },
	{ "prod_gen_sfz", "SFZ Foundation Course", NULL, NULL },
	{ "prod_gen_grp", "Group classes", NULL, NULL },
	{ "prod_gen_legacy", "Legacy add-on", NULL, NULL },
};

/* maps_to: the plan or program the catalogue gives it (NULL: nothing). */
struct price {
	const char *id, *product, *lookup_key, *plan_meta, *program_meta, *currency;
	long long amount;
	int recurring;
	const char *maps_to;      /* a plan, or a course program code for course prices */
};

enum {
	PR_ORGANIZER_ID, PR_ORGANIZER_LK, PR_LMS_ID, PR_LMS_LK, PR_LMS_PRODMETA,
	PR_ORGANIZATION_ID, PR_ORGANIZATION_LK, PR_ORGANIZATION_META,
	PR_LMS_ONCE, PR_ORGANIZER_ONCE, PR_SFZ, PR_GRP, PR_LEGACY, PR_WORKSHOP, NPRICES
};

static const struct price prices[NPRICES] = {
	/* by price id in stripe_mapping.json */
	[PR_ORGANIZER_ID] = { "price_1Qu8jzPde0IgxLd6GncfBAep", "prod_gen_organizer", NULL, NULL, NULL,
			      "usd", 1900, 1, "organizer" },
	[PR_ORGANIZER_LK] = { "price_gen_organizer_yearly", "prod_gen_organizer", "organizer_yearly",
			      NULL, NULL, "usd", 19000, 1, "organizer" },
	[PR_LMS_ID] = { "price_1QisAjIhKtJ0RlgLKOmxgJTe", "prod_gen_lms", NULL, NULL, NULL, "usd", 2900,
			1, "lms" },
	[PR_LMS_LK] = { "price_gen_lms_monthly_eur", "prod_gen_lms", "lms_monthly", NULL, NULL, "eur",
			2700, 1, "lms" },
	[PR_LMS_PRODMETA] = { "price_gen_lms_jpy", "prod_gen_lms_jp", NULL, NULL, NULL, "jpy", 3000, 1,
			      "lms" },
	[PR_ORGANIZATION_ID] = { "price_1QfKtHF4vUCsMehGAkWvj7FA", "prod_gen_organization", NULL, NULL,
				 NULL, "usd", 9900, 1, "organization" },
	[PR_ORGANIZATION_LK] = { "price_gen_organization_yearly", "prod_gen_organization",
				 "organization_yearly", NULL, NULL, "usd", 99000, 1, "organization" },
	[PR_ORGANIZATION_META] = { "price_gen_organization_gbp", "prod_gen_organization", NULL,
				   "organization", NULL, "gbp", 7900, 1, "organization" },
	[PR_LMS_ONCE] = { "price_gen_lms_lifetime", "prod_gen_lms", NULL, "lms", NULL, "usd", 29900, 0,
			  "lms" },
	[PR_ORGANIZER_ONCE] = { "price_gen_organizer_lifetime", "prod_gen_organizer", NULL, "organizer",
				NULL, "kwd", 59500, 0, "organizer" },
	[PR_SFZ] = { "price_gen_sfz", "prod_gen_sfz", "course_sfz", NULL, NULL, "usd", 4900, 0, "SFZ" },
	[PR_GRP] = { "price_gen_grp", "prod_gen_grp", NULL, NULL, "GRP", "eur", 3900, 0, "GRP" },
	/* map to nothing: M1 */
	[PR_LEGACY] = { "price_gen_legacy", "prod_gen_legacy", "legacy_addon", NULL, NULL, "usd", 500, 1,
			NULL },
	[PR_WORKSHOP] = { "price_gen_workshop", "prod_gen_legacy", NULL, NULL, NULL, "usd", 2500, 0,
			  NULL },
};

static int is_course(int pr)
{
	return pr == PR_SFZ || pr == PR_GRP;
}

/* Course programs: id, code, steps. */
static const struct {
	const char *id, *code, *title;
	int steps;
	int price;
} programs[] = {
	{ "cp_sfz", "SFZ", "Sound Foundations", 3, PR_SFZ },
	{ "cp_grp", "GRP", "Group classes", 2, PR_GRP },
};
#define NPROGRAMS ((int)(sizeof programs / sizeof programs[0]))

/* --- drift kinds ----------------------------------------------------------- */

enum arch { A_ANY, A_SUB, A_ONCE, A_ADMIN, A_FREE, A_NOPAY };

enum kind {
	K_E1_REVOKED, K_E2_CANCELED, K_E2_PAST_DUE, K_E2_ABSENT, K_E3, K_E4, K_E5, K_E6,
	K_E7_SEAT, K_E7_E6, K_P1_NO_TENANT, K_P1_P3, K_P1_E1, K_P1_PAID, K_P2_NONE, K_P2_OPEN,
	K_P3_EXPIRED, K_R1_COURSE, K_R1_ONCE, K_C1, K_C2, K_C3, K_C4, K_L1, K_L2, K_L3_EVENTS,
	K_L3_USAGE, K_M1_SUB, K_M1_SESSION, NKINDS, K_NONE = -1
};

static const struct {
	const char *name;
	enum arch arch;
	const char *plan;         /* required plan of a subscription unit, NULL: any */
} kinds[NKINDS] = {
	[K_E1_REVOKED] = { "E1_entitlement_revoked", A_SUB, NULL },
	[K_E2_CANCELED] = { "E2_subscription_ended", A_SUB, NULL },
	[K_E2_PAST_DUE] = { "E2_past_due_beyond_grace", A_SUB, NULL },
	[K_E2_ABSENT] = { "E2_subscription_not_in_snapshot", A_SUB, NULL },
	[K_E3] = { "E3_more_seats_in_stripe", A_SUB, NULL },
	[K_E4] = { "E4_seats_overallocated", A_SUB, NULL },
	[K_E5] = { "E5_tenant_plan_differs", A_SUB, NULL },
	[K_E6] = { "E6_owner_seat_released", A_SUB, NULL },
	[K_E7_SEAT] = { "E7_duplicate_entitlement", A_SUB, NULL },
	[K_E7_E6] = { "E7_E6_duplicate_without_owner_seat", A_SUB, NULL },
	[K_P1_NO_TENANT] = { "P1_paid_never_provisioned", A_SUB, NULL },
	[K_P1_P3] = { "P1_P3_paid_intent_unpaid_no_tenant", A_SUB, NULL },
	[K_P1_E1] = { "P1_E1_intent_paid_no_entitlement", A_SUB, NULL },
	[K_P1_PAID] = { "P1_intent_paid_not_provisioned", A_SUB, NULL },
	[K_P2_NONE] = { "P2_tenant_without_purchase", A_NOPAY, NULL },
	[K_P2_OPEN] = { "P2_tenant_with_open_checkout", A_NOPAY, NULL },
	[K_P3_EXPIRED] = { "P3_checkout_expired_intent_open", A_SUB, NULL },
	[K_R1_COURSE] = { "R1_course_refunded_enrolment_active", A_ANY, NULL },
	[K_R1_ONCE] = { "R1_P2_one_time_purchase_refunded", A_ONCE, NULL },
	[K_C1] = { "C1_course_paid_no_enrolment", A_ANY, NULL },
	[K_C2] = { "C2_step_progress_missing", A_ANY, NULL },
	[K_C3] = { "C3_step_booked_twice", A_ANY, NULL },
	[K_C4] = { "C4_orphan_course", A_ANY, NULL },
	[K_L1] = { "L1_courses_over_monthly_limit", A_SUB, "lms" },
	[K_L2] = { "L2_audience_over_limit", A_SUB, NULL },
	[K_L3_EVENTS] = { "L3_events_on_lms", A_SUB, "lms" },
	[K_L3_USAGE] = { "L3_courses_usage_on_organizer", A_SUB, "organizer" },
	[K_M1_SUB] = { "M1_subscription_price_unmapped", A_SUB, NULL },
	[K_M1_SESSION] = { "M1_stray_paid_session_unmapped", A_ANY, NULL },
};

_Static_assert(NKINDS == GEN_NKINDS, "GEN_NKINDS matches the kind table");

const char *gen_kind_name(int k)
{
	return k >= 0 && k < NKINDS ? kinds[k].name : NULL;
}

/* --- the generator ------------------------------------------------------------ */

struct gen {
	sqlite3 *db;
	sqlite3_stmt *st[NST];
	unsigned long long rng;
	long long now, month_start;
	char month[24];            /* YYYY-MM of now (UTC: config/trueup.json's timezone) */
	char pulled[40];
	char iso_buf[8][40];
	int iso_next;
	const char *raw;          /* raw_json of every Stripe row */
	struct gen_result *res;
	char *err;
	size_t errsz;
};

#define TRY(x) do { if ((x) != 0) return -1; } while (0)

static int fail(struct gen *g, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(g->err, g->errsz, fmt, ap);
	va_end(ap);
	return -1;
}

/* splitmix64 */
static unsigned long long next64(struct gen *g)
{
	unsigned long long z = (g->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A number in [0, n), n >= 1. */
static long long rnd(struct gen *g, long long n)
{
	return n > 0 ? (long long)(next64(g) % (unsigned long long)n) : 0;
}

static int chance(struct gen *g, int percent)
{
	return rnd(g, 100) < percent;
}

/* ISO 8601 UTC of t, in one of 8 rotating buffers (enough for one statement). */
static const char *iso(struct gen *g, long long t)
{
	char *b = g->iso_buf[g->iso_next++ % 8];
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(b, sizeof g->iso_buf[0], "%Y-%m-%dT%H:%M:%SZ", &tm);
	return b;
}

/*
 * Bind and step statement s.  fmt has a letter per parameter: 's' a
 * string (NULL binds NULL), 'i' a long long, 'z' a long long that binds
 * NULL when 0, 'r' the raw JSON, stripe_version and pulled_at of a Stripe
 * row (three parameters, no argument).  The letters must cover exactly the
 * statement's parameters (checked).
 */
static int put(struct gen *g, enum st s, const char *fmt, ...)
{
	sqlite3_stmt *st = g->st[s];
	va_list ap;
	int p = 1, rc;

	va_start(ap, fmt);
	for (; *fmt; fmt++) {
		const char *v;

		switch (*fmt) {
		case 's':
			v = va_arg(ap, const char *);
			if (v)
				sqlite3_bind_text(st, p, v, -1, SQLITE_STATIC);
			p++;
			break;
		case 'i':
			sqlite3_bind_int64(st, p++, va_arg(ap, long long));
			break;
		case 'z': {
			long long n = va_arg(ap, long long);

			if (n)
				sqlite3_bind_int64(st, p, n);
			p++;
			break;
		}
		case 'r':
			sqlite3_bind_text(st, p++, g->raw, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, p++, "2025-08-27.basil", -1, SQLITE_STATIC);
			sqlite3_bind_text(st, p++, g->pulled, -1, SQLITE_STATIC);
			break;
		}
	}
	va_end(ap);
	if (p - 1 != sqlite3_bind_parameter_count(st)) {
		sqlite3_clear_bindings(st);
		return fail(g, "generator bug: %d values for %d parameters of %.60s", p - 1,
			    sqlite3_bind_parameter_count(st), st_sql[s]);
	}
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE)
		return fail(g, "insert: %s (%.60s...)", sqlite3_errmsg(g->db), st_sql[s]);
	g->res->rows++;
	return 0;
}

/* Add an expected finding: rule, cause, then the subject as printf. */
static int expect(struct gen *g, const char *rule, const char *cause, const char *fmt, ...)
{
	struct gen_result *r = g->res;
	char subject[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(subject, sizeof subject, fmt, ap);
	va_end(ap);
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 256;
		struct gen_expect *v = realloc(r->v, cap * sizeof *v);

		if (!v)
			return fail(g, "out of memory");
		r->v = v;
		r->cap = cap;
	}
	snprintf(r->v[r->n].rule, sizeof r->v[r->n].rule, "%s", rule);
	r->v[r->n].cause = cause;
	if (!(r->v[r->n].subject = strdup(subject)))
		return fail(g, "out of memory");
	r->n++;
	return 0;
}

/* --- one unit ------------------------------------------------------------------ */

struct unit {
	long long i;
	int kind;                 /* K_NONE or a drift kind */
	const char *cause;        /* kinds[kind].name */
	enum arch arch;
	const char *plan;         /* what was bought (or granted) */
	const char *tenant_plan;  /* tenants.plan (differs for E5) */
	int price;                /* index in prices */
	long long q;              /* seats */
	long long t0;             /* when the owner started buying */
	int has_tenant;
	char t[24], u[24], pint[24], cus[24], cs[24], sub[24], inv[24], ent[24];
};

static const char *const paid_plans[] = { "organizer", "lms", "organization" };

static int plan_price(struct gen *g, const char *plan)
{
	if (strcmp(plan, "organizer") == 0)
		return chance(g, 60) ? PR_ORGANIZER_ID : PR_ORGANIZER_LK;
	if (strcmp(plan, "lms") == 0) {
		long long r = rnd(g, 3);

		return r == 0 ? PR_LMS_ID : r == 1 ? PR_LMS_LK : PR_LMS_PRODMETA;
	}
	switch (rnd(g, 3)) {
	case 0: return PR_ORGANIZATION_ID;
	case 1: return PR_ORGANIZATION_LK;
	default: return PR_ORGANIZATION_META;
	}
}

static const char *role_of(const char *plan)
{
	if (!plan)
		return "member";
	if (strcmp(plan, "lms") == 0)
		return "course_manager";
	if (strcmp(plan, "organization") == 0)
		return "organization_admin";
	return strcmp(plan, "organizer") == 0 ? "organizer" : "attendee";
}

static int user(struct gen *g, const char *id, const char *role, long long t)
{
	char email[64];

	snprintf(email, sizeof email, "%.40s@gen.example", id);
	return put(g, S_USER, "sssss", id, email, id, role, iso(g, t));
}

/* The owner, the tenant and the owner's membership. */
static int tenant(struct gen *g, struct unit *x, const char *intent)
{
	char name[40];

	snprintf(name, sizeof name, "Tenant %lld", x->i);
	TRY(put(g, S_TENANT, "sssssss", x->t, name, x->u, x->tenant_plan,
		chance(g, 80) ? "active" : NULL, intent, iso(g, x->t0 + 600)));
	g->res->tenants++;
	return put(g, S_MEMBER, "sss", x->t, x->u, "owner");
}

/*
 * A checkout session with one line item of price pr, quantity q.  One in
 * ten sessions of a mapped price comes without its line items (not
 * expanded) and maps by its own trueup_plan / trueup_course_program
 * metadata instead; items copy the price's lookup_key and metadata, or
 * (older pulls) leave them to the price row.
 */
static int session(struct gen *g, const char *id, const char *customer, const char *status,
		   const char *payment_status, const char *client_ref, int pr, long long q,
		   const char *payment_intent, const char *subscription, const char *tenant_id,
		   const char *user_id, long long created)
{
	const struct price *p = &prices[pr];
	int bare = p->maps_to && chance(g, 10), copy = chance(g, 70);
	char li[64];

	snprintf(li, sizeof li, "li_%s", id + 3);
	TRY(put(g, S_SESSION, "sissssssississssir", id, created, customer, status,
		p->recurring ? "subscription" : "payment", payment_status, client_ref, p->currency,
		p->amount * q, payment_intent, subscription, created + DAY, tenant_id, user_id,
		bare && !is_course(pr) ? p->maps_to : NULL, bare && is_course(pr) ? p->maps_to : NULL,
		0LL));
	if (bare)
		return 0;
	return put(g, S_LINE, "ssisisssissr", id, li, q, p->currency, p->amount * q, p->id,
		   copy ? p->lookup_key : NULL, p->product, p->amount, copy ? p->plan_meta : NULL,
		   copy ? p->program_meta : NULL);
}

/* Courses, events and usage of a tenant on its plan, inside every paid plan's limits. */
static int activity(struct gen *g, struct unit *x)
{
	int lms = strcmp(x->plan, "lms") == 0, organizer = strcmp(x->plan, "organizer") == 0;
	int organization = strcmp(x->plan, "organization") == 0;
	long long n, k, audience;
	int at_limit;
	char id[64];

	if (!lms && !organizer && !organization)
		return 0;
	/* courses: an LMS account owns them (no organization), an organization holds them */
	at_limit = lms && x->kind < 0 && chance(g, 5);   /* 10 this month, 2 just before: no L1 */
	n = organizer ? 0 : x->kind == K_L1 ? 11 + rnd(g, 3) : at_limit ? 12 : rnd(g, 4);
	for (k = 0; k < n; k++) {
		long long span = g->now - g->month_start;
		long long at = x->kind == K_L1 || (at_limit && k < 10) || (!at_limit && chance(g, 50))
			? g->month_start + rnd(g, span > 0 ? span : 1) : g->now - (35 + rnd(g, 300)) * DAY;

		if (at_limit && k == 10)
			at = g->month_start - 1;

		snprintf(id, sizeof id, "c%07lld_%lld", x->i, k);
		TRY(put(g, S_COURSE, "sssssss", id, id, "A course", lms ? NULL : x->t,
			lms ? x->u : NULL, x->u, iso(g, at)));
	}
	if (lms && n > 0)
		TRY(put(g, S_USAGE, "ssis", x->t, "courses", n, iso(g, g->now - DAY)));
	/* events: organizer and organization accounts */
	n = lms ? (x->kind == K_L3_EVENTS) : rnd(g, 3);
	for (k = 0; k < n; k++) {
		snprintf(id, sizeof id, "ev%07lld_%lld", x->i, k);
		TRY(put(g, S_EVENT, "sssss", id, x->t, NULL, x->u,
			iso(g, g->now - (1 + rnd(g, 200)) * DAY)));
	}
	if (x->kind == K_L3_USAGE)
		TRY(put(g, S_USAGE, "ssis", x->t, "courses", 1 + rnd(g, 5), iso(g, g->now - DAY)));
	/* audience: the latest figure counts; an older one above the limit is a near miss */
	audience = rnd(g, 450);
	if (x->kind < 0 && !organization && chance(g, 5))
		audience = lms ? 1000 : 500;   /* at the limit is not over it */
	if (x->kind == K_L2)
		audience = (lms ? 1000 : 500) + 1 + rnd(g, 400);
	if (!organization && x->kind != K_L2 && chance(g, 10))
		TRY(put(g, S_USAGE, "ssis", x->t, "audience", 5000LL, iso(g, g->now - 40 * DAY)));
	return put(g, S_USAGE, "ssis", x->t, "audience", audience, iso(g, g->now - DAY));
}

/*
 * Seats of entitlement ent: the owner, members, a released former member.
 * Near miss of E6: members fill every seat and the owner holds none.
 */
static int seats(struct gen *g, struct unit *x, const char *ent, long long q, long long t)
{
	long long members = q > 1 ? rnd(g, q) : 0, extra = 0, k;
	int full = x->kind < 0 && q > 1 && chance(g, 5);
	char m[64];

	if (full)
		members = q;
	else
		TRY(put(g, S_SEAT, "ssss", ent, x->u, iso(g, t),
			x->kind == K_E6 ? iso(g, g->now - 3 * DAY) : NULL));
	if (x->kind == K_E4)
		extra = q + 1 - (1 + members) + rnd(g, 2);   /* active seats end up > q */
	for (k = 0; k < members + extra; k++) {
		snprintf(m, sizeof m, "%sm%lld", x->u, k);
		TRY(user(g, m, "member", t));
		TRY(put(g, S_MEMBER, "sss", x->t, m, "member"));
		TRY(put(g, S_SEAT, "ssss", ent, m, iso(g, t + (k + 1) * 3600), NULL));
	}
	if (q > 1 && chance(g, 20)) {   /* released seats do not count */
		snprintf(m, sizeof m, "%sx", x->u);
		TRY(user(g, m, "member", t));
		TRY(put(g, S_SEAT, "ssss", ent, m, iso(g, t + 60), iso(g, t + 30 * DAY)));
	}
	return 0;
}

/*
 * The Stripe subscription of a subscription unit, its item(s) and
 * invoice(s).  Near misses: trialing, past_due inside the grace period, an
 * unmapped add-on item next to the plan item.
 */
static int stripe_subscription(struct gen *g, struct unit *x)
{
	const char *status = "active", *latest = x->inv, *deleted = NULL;
	long long created = x->t0 + 120, start = g->now - (1 + rnd(g, 25)) * DAY - rnd(g, DAY);
	long long end = start + 30 * DAY, canceled = 0, ended = 0, unpaid_at = 0, qty = x->q;
	int pr = x->kind == K_M1_SUB ? PR_LEGACY : x->price, copy = chance(g, 70);
	const struct price *p = &prices[pr], *addon = &prices[PR_LEGACY];
	char item[64], unpaid[64];
	int meta_tenant = x->has_tenant && chance(g, 50);

	if (chance(g, 8))
		status = "trialing";
	else if (chance(g, 5)) {       /* past_due inside the 7-day grace: still live */
		status = "past_due";
		unpaid_at = g->now - rnd(g, 5 * DAY);
	}
	switch (x->kind) {
	case K_E2_CANCELED:   /* ended in Stripe, or deleted (a tombstone) */
		switch (rnd(g, 4)) {
		case 0: status = "unpaid"; break;
		case 1: status = "incomplete_expired"; break;
		case 2: deleted = iso(g, g->now - 5 * DAY); break;
		default:
			status = "canceled";
			canceled = ended = g->now - 10 * DAY;
			break;
		}
		break;
	case K_E2_PAST_DUE:
		status = "past_due";
		unpaid_at = g->now - (8 + rnd(g, 30)) * DAY;
		break;
	case K_E3:
		qty = x->q + 1 + rnd(g, 3);
		break;
	default:
		break;
	}
	/* a dead subscription's seats are E2's business, never E3's: change them too */
	if ((x->kind == K_E2_CANCELED || x->kind == K_E2_PAST_DUE) && chance(g, 50))
		qty = x->q + 1;
	snprintf(item, sizeof item, "si_%s", x->sub + 4);
	snprintf(unpaid, sizeof unpaid, "%su", x->inv);
	if (unpaid_at)
		latest = unpaid;
	TRY(put(g, S_SUB, "sisssiizzssssr", x->sub, created, x->cus, status, p->currency, start, end,
		canceled, ended, latest, meta_tenant ? x->t : NULL, chance(g, 70) ? x->u : NULL,
		deleted));
	TRY(put(g, S_ITEM, "ssiisssisssiir", x->sub, item, created, qty, p->id,
		copy ? p->lookup_key : NULL, p->product, p->amount, p->currency,
		copy ? p->plan_meta : NULL, copy ? p->program_meta : NULL, start, end));
	if (chance(g, 10)) {   /* an add-on that maps to nothing beside the plan: not M1 */
		snprintf(item, sizeof item, "si_%s_addon", x->sub + 4);
		TRY(put(g, S_ITEM, "ssiisssisssiir", x->sub, item, created + 1, 1LL, addon->id,
			addon->lookup_key, addon->product, addon->amount, addon->currency, NULL, NULL,
			start, end));
	}
	TRY(put(g, S_INVOICE, "sisssisiiisiizr", x->inv, start, x->cus, x->sub, "paid", 1LL,
		p->currency, p->amount * qty, p->amount * qty, 0LL, "subscription_cycle", start, end,
		start + 60));
	if (unpaid_at)
		TRY(put(g, S_INVOICE, "sisssisiiisiizr", unpaid, unpaid_at, x->cus, x->sub, "open",
			0LL, p->currency, p->amount * qty, 0LL, p->amount * qty, "subscription_cycle",
			unpaid_at, unpaid_at + 30 * DAY, 0LL));
	return 0;
}

/* A subscription unit; the P1 kinds are subscription purchases whose provisioning went wrong. */
static int sub_unit(struct gen *g, struct unit *x)
{
	static const char *const unpaid[] = { "started", "awaiting_payment", "failed" };
	int no_tenant = x->kind == K_P1_NO_TENANT || x->kind == K_P1_P3;
	const char *intent_status = "provisioned", *c = x->cause;
	long long t = x->t0;
	char lsub[64], dup[64], gone[64];

	if (x->kind == K_P1_NO_TENANT || x->kind == K_P1_E1 || x->kind == K_P1_PAID)
		intent_status = "paid";
	else if (x->kind == K_P1_P3)
		intent_status = unpaid[rnd(g, 3)];
	x->has_tenant = !no_tenant;
	TRY(user(g, x->u, role_of(x->plan), t - 30 * DAY));
	TRY(put(g, S_INTENT, "sssssss", x->pint, x->u, no_tenant ? NULL : x->t, x->plan, x->cs,
		intent_status, iso(g, t)));
	if (!no_tenant)
		TRY(tenant(g, x, x->pint));
	TRY(put(g, S_CUS, "sissssr", x->cus, t, x->u, prices[x->price].currency,
		no_tenant ? NULL : x->t, x->u));
	TRY(session(g, x->cs, x->cus, "complete", "paid", x->pint, x->price, x->q, NULL, x->sub, NULL,
		    chance(g, 50) ? x->u : NULL, t + 60));
	TRY(stripe_subscription(g, x));
	if (x->kind == K_P1_NO_TENANT || x->kind == K_P1_P3 || x->kind == K_P1_E1 ||
	    x->kind == K_P1_PAID)
		TRY(expect(g, "P1", c, "checkout_session:%s", x->cs));
	if (x->kind == K_P1_P3)
		TRY(expect(g, "P3", c, "purchase_intent:%s", x->pint));
	if (no_tenant)
		return 0;

	snprintf(lsub, sizeof lsub, "s%07lld", x->i);
	/* else the link comes from the entitlement or metadata; an entitlement
	 * tied to an absent subscription links nothing, so that unit always
	 * has the local row (its live subscription is then E1's) */
	if (chance(g, 80) || x->kind == K_E2_ABSENT)
		TRY(put(g, S_LSUB, "ssssssis", lsub, x->t, x->u, x->plan, x->sub, "active", x->q,
			iso(g, g->now + 20 * DAY)));
	if (x->kind == K_P1_E1)
		return expect(g, "E1", c, "subscription:%s", x->sub) ? -1 : activity(g, x);
	snprintf(gone, sizeof gone, "%s_gone", x->sub);
	TRY(put(g, S_ENT, "ssssisssssss", x->ent, x->t, x->u, x->plan, x->q,
		x->kind == K_E1_REVOKED ? "revoked" : "active", "stripe",
		x->kind == K_E2_ABSENT ? gone : x->sub, x->cs, NULL, iso(g, t + 600), NULL));
	TRY(seats(g, x, x->ent, x->q, t + 600));
	if (x->kind == K_E7_SEAT || x->kind == K_E7_E6) {
		snprintf(dup, sizeof dup, "%sd", x->ent);
		TRY(put(g, S_ENT, "ssssisssssss", dup, x->t, x->u, x->plan, x->q, "active", "stripe",
			x->sub, x->cs, NULL, iso(g, t + 2 * DAY), NULL));
		if (x->kind == K_E7_SEAT)
			TRY(put(g, S_SEAT, "ssss", dup, x->u, iso(g, t + 2 * DAY), NULL));
		TRY(expect(g, "E7", c, "entitlement:%s", dup));
		if (x->kind == K_E7_E6)
			TRY(expect(g, "E6", c, "entitlement:%s", dup));
	}
	switch (x->kind) {
	case K_E1_REVOKED: TRY(expect(g, "E1", c, "subscription:%s", x->sub)); break;
	case K_E2_CANCELED: case K_E2_PAST_DUE:
		TRY(expect(g, "E2", c, "entitlement:%s", x->ent)); break;
	case K_E2_ABSENT:   /* the tenant's live subscription has no valid entitlement */
		TRY(expect(g, "E2", c, "entitlement:%s", x->ent));
		TRY(expect(g, "E1", c, "subscription:%s", x->sub)); break;
	case K_E3: TRY(expect(g, "E3", c, "entitlement:%s", x->ent)); break;
	case K_E4: TRY(expect(g, "E4", c, "entitlement:%s", x->ent)); break;
	case K_E5: TRY(expect(g, "E5", c, "tenant:%s", x->t)); break;
	case K_E6: TRY(expect(g, "E6", c, "entitlement:%s", x->ent)); break;
	case K_L1: TRY(expect(g, "L1", c, "tenant_month:%s/%s", x->t, g->month)); break;
	case K_L2: TRY(expect(g, "L2", c, "tenant:%s", x->t)); break;
	case K_L3_EVENTS: TRY(expect(g, "L3", c, "tenant_feature:%s/events", x->t)); break;
	case K_L3_USAGE: TRY(expect(g, "L3", c, "tenant_feature:%s/courses", x->t)); break;
	case K_M1_SUB: TRY(expect(g, "M1", c, "subscription:%s", x->sub)); break;
	default: break;
	}
	return activity(g, x);
}

/* A tenant that paid once (mode payment): the entitlement hangs on the session. */
static int once_unit(struct gen *g, struct unit *x)
{
	const struct price *p = &prices[x->price];
	long long t = x->t0, refund = 0;
	char pi[64], re[64];

	x->has_tenant = 1;
	snprintf(pi, sizeof pi, "pi_%07lld", x->i);
	snprintf(re, sizeof re, "re_%07lld", x->i);
	TRY(user(g, x->u, role_of(x->plan), t - 30 * DAY));
	TRY(put(g, S_INTENT, "sssssss", x->pint, x->u, x->t, x->plan, x->cs, "provisioned", iso(g, t)));
	TRY(tenant(g, x, x->pint));
	TRY(put(g, S_CUS, "sissssr", x->cus, t, x->u, p->currency, x->t, x->u));
	TRY(session(g, x->cs, x->cus, "complete", "paid", x->pint, x->price, 1, pi, NULL, NULL,
		    x->u, t + 60));
	TRY(put(g, S_ENT, "ssssisssssss", x->ent, x->t, x->u, x->plan, 1LL, "active", "stripe", NULL,
		x->cs, NULL, iso(g, t + 600), NULL));
	TRY(seats(g, x, x->ent, 1, t + 600));
	if (x->kind == K_R1_ONCE)
		refund = p->amount;           /* refunded in full: revoke, and the tenant is unpaid */
	else if (chance(g, 10))
		refund = p->amount / 2;       /* partial refund: nothing to do */
	if (refund)
		TRY(put(g, S_REFUND, "siissssr", re, g->now - 2 * DAY, refund, p->currency, "succeeded",
			pi, x->cus));
	if (x->kind == K_R1_ONCE) {
		TRY(expect(g, "R1", x->cause, "entitlement:%s", x->ent));
		TRY(expect(g, "P2", x->cause, "tenant:%s", x->t));
	}
	return activity(g, x);
}

/* Free licences from support (G1, whatever else they look like). */
static int admin_unit(struct gen *g, struct unit *x)
{
	long long t = x->t0;
	char old[64];

	x->has_tenant = 1;
	snprintf(old, sizeof old, "%s_old", x->sub);   /* a stale-looking link: never E2 */
	TRY(user(g, x->u, role_of(x->plan), t - 30 * DAY));
	TRY(tenant(g, x, NULL));
	TRY(put(g, S_ENT, "ssssisssssss", x->ent, x->t, x->u, x->plan, x->q, "active", "admin_grant",
		chance(g, 30) ? old : NULL, NULL, "support@gen.example", iso(g, t + 600),
		chance(g, 30) ? iso(g, g->now + 90 * DAY) : NULL));
	TRY(seats(g, x, x->ent, x->q, t + 600));
	TRY(expect(g, "G1", "admin_grant", "entitlement:%s", x->ent));
	return activity(g, x);
}

/* A tenant on a paid plan that never paid (P2), perhaps with its checkout still open. */
static int nopay_unit(struct gen *g, struct unit *x)
{
	int open = x->kind == K_P2_OPEN;
	long long t = x->t0;

	x->has_tenant = 1;
	TRY(user(g, x->u, role_of(x->plan), t - 30 * DAY));
	if (open)
		TRY(put(g, S_INTENT, "sssssss", x->pint, x->u, x->t, x->plan, x->cs, "awaiting_payment",
			iso(g, g->now - 3600)));
	TRY(tenant(g, x, open ? x->pint : NULL));
	if (open) {
		TRY(put(g, S_CUS, "sissssr", x->cus, t, x->u, prices[x->price].currency, x->t, x->u));
		TRY(session(g, x->cs, x->cus, "open", "unpaid", x->pint, x->price, x->q, NULL, NULL,
			    NULL, x->u, g->now - 3000));
	}
	TRY(expect(g, "P2", x->cause, "tenant:%s", x->t));
	return activity(g, x);
}

/*
 * Refunds of a course payment pi: for R1 the full amount, at once or in
 * two parts; else sometimes a partial refund, a full one in another
 * currency, or a full one that is pending or failed (none of them R1).
 */
static int refunds(struct gen *g, struct unit *x, const char *re, const char *pi, const char *cus,
		   const struct price *p)
{
	long long half = p->amount / 2, when = g->now - DAY;
	char re2[64];

	snprintf(re2, sizeof re2, "%.40s2", re);
	if (x->kind == K_R1_COURSE && chance(g, 50))
		return put(g, S_REFUND, "siissssr", re, when, p->amount, p->currency, "succeeded", pi,
			   cus);
	if (x->kind == K_R1_COURSE) {
		TRY(put(g, S_REFUND, "siissssr", re, when - DAY, half, p->currency, "succeeded", pi, cus));
		return put(g, S_REFUND, "siissssr", re2, when, p->amount - half, p->currency,
			   "succeeded", pi, cus);
	}
	switch (rnd(g, 12)) {
	case 0:
		return put(g, S_REFUND, "siissssr", re, when, 1 + rnd(g, p->amount - 1), p->currency,
			   "succeeded", pi, cus);
	case 1:
		return put(g, S_REFUND, "siissssr", re, when, p->amount,
			   strcmp(p->currency, "usd") ? "usd" : "eur", "succeeded", pi, cus);
	case 2:
		return put(g, S_REFUND, "siissssr", re, when, p->amount, p->currency,
			   chance(g, 50) ? "pending" : "failed", pi, cus);
	default:
		return 0;
	}
}

/* A student who bought a course program: enrolment and progress (C1-C3, R1). */
static int student(struct gen *g, struct unit *x)
{
	int prog = (int)rnd(g, NPROGRAMS), pr = programs[prog].price;
	const struct price *p = &prices[pr];
	long long t = g->now - (5 + rnd(g, 200)) * DAY, k, n = 0;
	long long steps = programs[prog].steps, skip = -1, twice = -1, rebook = -1;
	char su[64], cus[64], cs[64], pi[64], re[64], en[64], step[64], sp[64];
	static const char *const plain[] = { "UNBOOKED", "BOOKED", "COMPLETED" };

	snprintf(su, sizeof su, "%ss", x->u);
	snprintf(cus, sizeof cus, "%ss", x->cus);
	snprintf(cs, sizeof cs, "%sc", x->cs);
	snprintf(pi, sizeof pi, "pi_%07lldc", x->i);
	snprintf(re, sizeof re, "re_%07lldc", x->i);
	snprintf(en, sizeof en, "en%07lld", x->i);
	TRY(user(g, su, "attendee", t - DAY));
	TRY(put(g, S_CUS, "sissssr", cus, t - DAY, su, p->currency, NULL, su));
	TRY(session(g, cs, cus, "complete", "paid", NULL, pr, 1, pi, NULL, NULL,
		    chance(g, 50) ? su : NULL, t));
	TRY(refunds(g, x, re, pi, cus, p));
	if (x->kind != K_R1_COURSE && x->kind < 0 && chance(g, 5)) {
		/* refunded in full and already applied, no progress left: nothing to do */
		snprintf(re, sizeof re, "re_%07lldf", x->i);
		TRY(put(g, S_REFUND, "siissssr", re, g->now - DAY, p->amount, p->currency, "succeeded",
			pi, cus));
		TRY(put(g, S_ENROL, "ssssss", en, su, programs[prog].id, cs, "refunded", iso(g, t + 60)));
		return 0;
	}
	if (x->kind == K_C1)
		return expect(g, "C1", x->cause, "checkout_session:%s/%s", cs, programs[prog].code);
	TRY(put(g, S_ENROL, "ssssss", en, su, programs[prog].id, cs, "active", iso(g, t + 60)));
	if (x->kind == K_R1_COURSE)
		TRY(expect(g, "R1", x->cause, "enrolment:%s", en));
	if (x->kind == K_C2)
		skip = rnd(g, steps);
	else if (x->kind == K_C3)
		twice = rnd(g, steps);
	else if (chance(g, 15))
		rebook = rnd(g, steps);   /* MISSED then BOOKED again: not a duplicate */
	for (k = 0; k < steps; k++) {
		const char *status = plain[rnd(g, 3)];
		long long at = t + (k + 1) * DAY;

		snprintf(step, sizeof step, "%s_s%lld", programs[prog].id, k + 1);
		if (k == skip) {
			TRY(expect(g, "C2", x->cause, "enrolment_step:%s/%s", en, step));
			continue;
		}
		if (k == twice || k == rebook) {
			snprintf(sp, sizeof sp, "sp%07lld_%lld", x->i, n++);
			TRY(put(g, S_PROGRESS, "ssssss", sp, en, step, k == twice ? "COMPLETED" : "MISSED",
				iso(g, at), k == twice ? iso(g, at + 3600) : NULL));
			status = "BOOKED";
		}
		if (k == twice)
			TRY(expect(g, "C3", x->cause, "enrolment_step:%s/%s", en, step));
		snprintf(sp, sizeof sp, "sp%07lld_%lld", x->i, n++);
		TRY(put(g, S_PROGRESS, "ssssss", sp, en, step, status,
			strcmp(status, "UNBOOKED") ? iso(g, at + 7200) : NULL,
			strcmp(status, "COMPLETED") ? NULL : iso(g, at + 9000)));
	}
	return 0;
}

/* The owner's earlier checkout that expired (P3 when the intent still looks open). */
static int abandoned(struct gen *g, struct unit *x)
{
	char pint[64], cs[64];
	long long t = x->t0 - 20 * DAY;

	snprintf(pint, sizeof pint, "%sa", x->pint);
	snprintf(cs, sizeof cs, "%sa", x->cs);
	TRY(put(g, S_INTENT, "sssssss", pint, x->u, NULL, x->plan, chance(g, 50) ? cs : NULL,
		x->kind == K_P3_EXPIRED ? (chance(g, 50) ? "started" : "awaiting_payment") : "expired",
		iso(g, t)));
	TRY(session(g, cs, x->cus, "expired", "unpaid", pint, x->price, x->q, NULL, NULL, NULL, x->u,
		    t + 60));
	if (x->kind == K_P3_EXPIRED)
		TRY(expect(g, "P3", x->cause, "purchase_intent:%s", pint));
	return 0;
}

static int unit(struct gen *g, long long i, int kind)
{
	struct unit x;
	int rc = 0;

	memset(&x, 0, sizeof x);
	x.i = i;
	x.kind = kind;
	x.cause = kind >= 0 ? kinds[kind].name : NULL;
	x.arch = kind >= 0 ? kinds[kind].arch : A_ANY;
	if (x.arch == A_ANY) {
		long long r = rnd(g, 100);

		x.arch = r < 78 ? A_SUB : r < 86 ? A_ONCE : r < 92 ? A_ADMIN : A_FREE;
	}
	switch (x.arch) {
	case A_SUB:
		x.plan = kind >= 0 && kinds[kind].plan ? kinds[kind].plan
			: kind == K_L2 ? paid_plans[rnd(g, 2)] : paid_plans[rnd(g, 3)];
		x.price = plan_price(g, x.plan);
		break;
	case A_ONCE:
		x.plan = chance(g, 50) ? "lms" : "organizer";
		x.price = strcmp(x.plan, "lms") == 0 ? PR_LMS_ONCE : PR_ORGANIZER_ONCE;
		break;
	case A_ADMIN:
		x.plan = chance(g, 50) ? "organization" : "lms";
		break;
	case A_NOPAY:
		x.plan = paid_plans[rnd(g, 2)];
		x.price = plan_price(g, x.plan);
		break;
	default:
		x.plan = "attendee";
		break;
	}
	x.tenant_plan = x.plan;
	if (kind == K_E5) {   /* another paid plan, or none */
		long long r = rnd(g, 3);

		x.tenant_plan = strcmp(paid_plans[r], x.plan) ? paid_plans[r] : NULL;
	}
	x.q = strcmp(x.plan, "organization") == 0 ? 2 + rnd(g, 5) : 1;
	x.t0 = g->now - (30 + rnd(g, 400)) * DAY - rnd(g, DAY);
	snprintf(x.t, sizeof x.t, "t%07lld", i);
	snprintf(x.u, sizeof x.u, "u%07lld", i);
	snprintf(x.pint, sizeof x.pint, "pint%07lld", i);
	snprintf(x.cus, sizeof x.cus, "cus_%07lld", i);
	snprintf(x.cs, sizeof x.cs, "cs_%07lld", i);
	snprintf(x.sub, sizeof x.sub, "sub_%07lld", i);
	snprintf(x.inv, sizeof x.inv, "in_%07lld", i);
	snprintf(x.ent, sizeof x.ent, "ent%07lld", i);

	switch (x.arch) {
	case A_SUB: rc = sub_unit(g, &x); break;
	case A_ONCE: rc = once_unit(g, &x); break;
	case A_ADMIN: rc = admin_unit(g, &x); break;
	case A_NOPAY: rc = nopay_unit(g, &x); break;
	default:
		x.has_tenant = 1;
		if ((rc = user(g, x.u, "attendee", x.t0)) == 0)
			rc = tenant(g, &x, NULL);
		break;
	}
	if (rc == 0 && x.arch == A_SUB && (kind == K_P3_EXPIRED || (kind < 0 && chance(g, 8))))
		rc = abandoned(g, &x);
	if (rc == 0 && (kind == K_R1_COURSE || kind == K_C1 || kind == K_C2 || kind == K_C3 ||
			(kind < 0 && chance(g, 25))))
		rc = student(g, &x);
	if (rc == 0 && kind == K_C4) {
		char id[64];

		snprintf(id, sizeof id, "c%07lld_orphan", i);
		rc = put(g, S_COURSE, "sssssss", id, id, "Orphan", NULL, NULL,
			 chance(g, 70) ? x.u : NULL, iso(g, g->now - 50 * DAY));
		if (rc == 0)
			rc = expect(g, "C4", x.cause, "course:%s", id);
	}
	if (rc == 0 && kind == K_M1_SESSION) {
		char cs[64], pi[64];

		snprintf(cs, sizeof cs, "%sx", x.cs);
		snprintf(pi, sizeof pi, "pi_%07lldx", i);
		rc = session(g, cs, NULL, "complete", "paid", NULL, PR_WORKSHOP, 1, pi, NULL, NULL,
			     NULL, g->now - 4 * DAY);
		if (rc == 0)
			rc = expect(g, "M1", x.cause, "checkout_session:%s", cs);
	}
	if (rc == 0 && kind >= 0) {
		g->res->drifted++;
		g->res->per_kind[kind]++;
	}
	return rc;
}

/* --- the catalogue rows, the pull run ------------------------------------------- */

static int catalogue(struct gen *g)
{
	long long t = g->now - 400 * DAY;
	size_t i;
	int k;

	for (i = 0; i < sizeof products / sizeof products[0]; i++)
		TRY(put(g, S_PRODUCT, "sisssr", products[i].id, t, products[i].name,
			products[i].plan_meta, products[i].program_meta));
	for (k = 0; k < NPRICES; k++) {
		const struct price *p = &prices[k];

		TRY(put(g, S_PRICE, "sississzsssr", p->id, t, p->product, p->currency, p->amount,
			p->recurring ? "recurring" : "one_time", p->recurring ? "month" : NULL,
			p->recurring ? 1LL : 0LL, p->lookup_key, p->plan_meta, p->program_meta));
	}
	for (k = 0; k < NPROGRAMS; k++) {
		long long s;

		TRY(put(g, S_PROGRAM, "sss", programs[k].id, programs[k].code, programs[k].title));
		for (s = 1; s <= programs[k].steps; s++) {
			char id[64], label[16];

			snprintf(id, sizeof id, "%s_s%lld", programs[k].id, s);
			snprintf(label, sizeof label, "%s-%lld", programs[k].code, s);
			TRY(put(g, S_STEP, "ssiss", id, programs[k].id, s, label, label));
		}
	}
	return put(g, S_PULL, "ss", iso(g, g->now - 3600), iso(g, g->now - 3000));
}

/* --- driver ------------------------------------------------------------------------ */

static int exec(struct gen *g, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(g->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fail(g, "%s: %s", sql, msg ? msg : sqlite3_errmsg(g->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/* Is the database initialised and empty?  Names what is wrong. */
static int check_empty(struct gen *g)
{
	sqlite3_stmt *st;
	long long n = -1;

	if (sqlite3_prepare_v2(g->db, "SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM "
			       "tenants) + (SELECT count(*) FROM stripe_subscriptions) + (SELECT "
			       "count(*) FROM stripe_pull_runs) + (SELECT count(*) FROM findings)",
			       -1, &st, NULL) != SQLITE_OK)
		return fail(g, "not an initialised trueup database (run 'trueup init'): %s",
			    sqlite3_errmsg(g->db));
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n == 0 ? 0 : fail(g, "the database is not empty: generate into a fresh one");
}

/* Which units drift, and how: round(units * drift) distinct units, kinds dealt in turn. */
static signed char *choose_drift(struct gen *g, const struct gen_opts *o)
{
	long long n = o->units, d = (long long)(o->units * o->drift + 0.5), j;
	signed char *kind = malloc((size_t)n);
	long long *idx = malloc((size_t)n * sizeof *idx);
	int deck[NKINDS], k;

	if (!kind || !idx) {
		free(kind);
		free(idx);
		fail(g, "out of memory");
		return NULL;
	}
	memset(kind, K_NONE, (size_t)n);
	for (j = 0; j < n; j++)
		idx[j] = j;
	for (k = 0; k < NKINDS; k++)
		deck[k] = k;
	for (k = NKINDS - 1; k > 0; k--) {
		int r = (int)rnd(g, k + 1), tmp = deck[k];

		deck[k] = deck[r];
		deck[r] = tmp;
	}
	for (j = 0; j < d && j < n; j++) {   /* partial Fisher-Yates */
		long long r = j + rnd(g, n - j), tmp = idx[j];

		idx[j] = idx[r];
		idx[r] = tmp;
		kind[idx[j]] = (signed char)deck[j % NKINDS];
	}
	free(idx);
	return kind;
}

static int cmp_expect(const void *a, const void *b)
{
	const struct gen_expect *x = a, *y = b;
	int c = strcmp(x->rule, y->rule);

	return c ? c : strcmp(x->subject, y->subject);
}

static int generate(struct gen *g, const struct gen_opts *o, const signed char *kind)
{
	long long batch = o->batch > 0 ? o->batch : 20000, i;

	TRY(exec(g, "BEGIN"));
	TRY(catalogue(g));
	for (i = 0; i < o->units; i++) {
		TRY(unit(g, i, kind[i]));
		if ((i + 1) % batch == 0)
			TRY(exec(g, "COMMIT; BEGIN"));
	}
	return exec(g, "COMMIT");
}

int gen_platform(sqlite3 *db, const struct gen_opts *o, struct gen_result *r,
		 char *err, size_t errsz)
{
	struct gen g;
	signed char *kind = NULL;
	struct tm tm;
	time_t now = (time_t)o->now;
	char *raw = NULL;
	int rc = -1, k;

	memset(r, 0, sizeof *r);
	memset(&g, 0, sizeof g);
	g.db = db;
	g.res = r;
	g.err = err;
	g.errsz = errsz;
	g.rng = o->seed;
	g.rng = next64(&g);   /* a scrambled start: seed s+1 is not seed s's stream shifted */
	g.now = o->now;
	g.raw = "{}";
	err[0] = '\0';
	if (o->units < 1 || o->drift < 0 || o->drift > 1)
		return fail(&g, "units must be >= 1 and drift in [0, 1]");
	gmtime_r(&now, &tm);
	snprintf(g.month, sizeof g.month, "%04d-%02d", (tm.tm_year + 1900) % 10000, (tm.tm_mon + 1) % 100);
	tm.tm_mday = 1;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	g.month_start = (long long)timegm(&tm);
	snprintf(g.pulled, sizeof g.pulled, "%s", iso(&g, g.now - 3000));
	if (o->raw_bytes > 2) {   /* {"pad":"xxx..."} of raw_bytes characters */
		size_t n = (size_t)o->raw_bytes;

		if (!(raw = malloc(n + 1)))
			return fail(&g, "out of memory");
		memset(raw, 'x', n);
		memcpy(raw, "{\"pad\":\"", 8 < n ? 8 : n);
		raw[n - 2] = '"';
		raw[n - 1] = '}';
		raw[n] = '\0';
		g.raw = n >= 11 ? raw : "{}";
	}
	if (check_empty(&g) != 0 || exec(&g, "PRAGMA foreign_keys = OFF; PRAGMA synchronous = OFF") != 0)
		goto out;
	for (k = 0; k < NST; k++)
		if (sqlite3_prepare_v2(db, st_sql[k], -1, &g.st[k], NULL) != SQLITE_OK) {
			fail(&g, "prepare: %s (%.60s...)", sqlite3_errmsg(db), st_sql[k]);
			goto out;
		}
	if (!(kind = choose_drift(&g, o)))
		goto out;
	if (generate(&g, o, kind) != 0) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		goto out;
	}
	qsort(r->v, r->n, sizeof *r->v, cmp_expect);
	rc = 0;
out:
	for (k = 0; k < NST; k++)
		sqlite3_finalize(g.st[k]);
	sqlite3_exec(db, "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL", NULL, NULL, NULL);
	free(kind);
	free(raw);
	return rc;
}

int gen_write_expected(const struct gen_result *r, const char *path)
{
	FILE *fp = fopen(path, "w");
	size_t i;

	if (!fp)
		return -1;
	for (i = 0; i < r->n; i++)
		fprintf(fp, "%s\t%s\t%s\n", r->v[i].rule, r->v[i].subject, r->v[i].cause);
	return fclose(fp) == 0 ? 0 : -1;
}

void gen_result_free(struct gen_result *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		free(r->v[i].subject);
	free(r->v);
	memset(r, 0, sizeof *r);
}
