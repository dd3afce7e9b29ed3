/*
 * db_snapshot.c - the SQL of the Stripe snapshot; see db_snapshot.h for
 * the write rules and src/sql/003_stripe_snapshot.sql for the tables.
 *
 * Each snapshot table is described once below (struct snap_table: its
 * typed columns, keys first, and which of them the checksum covers), and
 * each row kind has a bind function that lays a typed row out in that
 * column order.  The upsert, the existence check, the child pruning, the
 * tombstone and the checksum statements are all built from those
 * descriptions (fixed names, never input); every value is bound.
 *
 * "Unchanged rows are not rewritten": the upsert's DO UPDATE only fires
 * WHERE some column differs (typed fields, raw JSON, or a tombstone being
 * lifted), so an identical page leaves every row, and its pulled_at, alone;
 * a parent found unchanged skips its children (they are part of its raw
 * JSON).  Child lists are pruned with json_each() over the ids the parent
 * still lists; a child pagination (the child endpoint's pages on a cursor
 * scoped to the parent) records the ids it lists in stripe_pull_seen under
 * "RESOURCE/PARENT" and prunes with those when it completes.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <jansson.h>

#include "db_snapshot.h"
#include "sha256.h"

#define SNAP_SQL_MAX 4096
#define SNAP_COLS_MAX 32

/* --- table descriptions ---------------------------------------------------- */

enum snap_tb {
	TB_CUSTOMERS, TB_PRODUCTS, TB_PRICES, TB_SUBS, TB_SUB_ITEMS, TB_SESSIONS, TB_LINE_ITEMS,
	TB_REFUNDS, TB_INVOICES, TB_INVOICE_LINES, TB_EVENTS, TB_COUNT
};

struct snap_col {
	const char *name;
	int sum;                /* part of the checksum */
};

/*
 * Columns where a NULL value keeps the stored one (see sb_upsert): a
 * session's line_items_has_more, NULL when the body did not embed them.
 */
static int col_keeps(const char *name)
{
	return strcmp(name, "line_items_has_more") == 0;
}

struct snap_table {
	const char *name;
	const char *parent;     /* child tables: the parent id column (first key) */
	const struct snap_col *cols;
	size_t ncols;           /* typed columns, keys first */
};

static const struct snap_col cols_customers[] = {
	{ "id", 1 }, { "livemode", 1 }, { "created", 1 }, { "email", 1 }, { "name", 1 },
	{ "currency", 1 }, { "tenant_id", 1 }, { "user_id", 1 },
};
static const struct snap_col cols_products[] = {
	{ "id", 1 }, { "livemode", 1 }, { "created", 1 }, { "name", 1 }, { "active", 1 },
	{ "default_price", 1 }, { "trueup_plan", 1 }, { "trueup_course_program", 1 },
};
static const struct snap_col cols_prices[] = {
	{ "id", 1 }, { "livemode", 1 }, { "created", 1 }, { "product", 1 }, { "active", 1 },
	{ "currency", 1 }, { "unit_amount", 1 }, { "type", 1 }, { "recurring_interval", 1 },
	{ "recurring_interval_count", 1 }, { "lookup_key", 1 }, { "nickname", 1 },
	{ "trueup_plan", 1 }, { "trueup_course_program", 1 },
};
static const struct snap_col cols_subs[] = {
	{ "id", 1 }, { "livemode", 1 }, { "created", 1 }, { "customer", 1 }, { "status", 1 },
	{ "currency", 1 }, { "start_date", 1 }, { "current_period_start", 1 },
	{ "current_period_end", 1 }, { "period_source", 0 }, { "cancel_at", 1 },
	{ "cancel_at_period_end", 1 }, { "canceled_at", 1 }, { "ended_at", 1 },
	{ "trial_start", 1 }, { "trial_end", 1 }, { "latest_invoice", 1 }, { "tenant_id", 1 },
	{ "user_id", 1 }, { "trueup_plan", 1 }, { "items_has_more", 0 },
};
static const struct snap_col cols_sub_items[] = {
	{ "subscription_id", 1 }, { "id", 1 }, { "created", 1 }, { "quantity", 1 },
	{ "price_id", 1 }, { "lookup_key", 1 }, { "product", 1 }, { "unit_amount", 1 },
	{ "currency", 1 }, { "price_trueup_plan", 1 }, { "price_trueup_course_program", 1 },
	{ "current_period_start", 1 }, { "current_period_end", 1 },
};
static const struct snap_col cols_sessions[] = {
	{ "id", 1 }, { "livemode", 1 }, { "created", 1 }, { "customer", 1 },
	{ "customer_email", 1 }, { "status", 1 }, { "mode", 1 }, { "payment_status", 1 },
	{ "client_reference_id", 1 }, { "currency", 1 }, { "amount_subtotal", 1 },
	{ "amount_total", 1 }, { "payment_intent", 1 }, { "subscription", 1 }, { "invoice", 1 },
	{ "expires_at", 1 }, { "tenant_id", 1 }, { "user_id", 1 }, { "trueup_plan", 1 },
	{ "trueup_course_program", 1 }, { "line_items_has_more", 0 },
};
static const struct snap_col cols_line_items[] = {
	{ "session_id", 1 }, { "id", 1 }, { "description", 1 }, { "quantity", 1 },
	{ "currency", 1 }, { "amount_subtotal", 1 }, { "amount_discount", 1 }, { "amount_tax", 1 },
	{ "amount_total", 1 }, { "price_id", 1 }, { "lookup_key", 1 }, { "product", 1 },
	{ "unit_amount", 1 }, { "price_trueup_plan", 1 }, { "price_trueup_course_program", 1 },
};
static const struct snap_col cols_refunds[] = {
	{ "id", 1 }, { "livemode", 1 }, { "created", 1 }, { "amount", 1 }, { "currency", 1 },
	{ "status", 1 }, { "reason", 1 }, { "charge", 1 }, { "payment_intent", 1 },
	{ "customer", 1 }, { "tenant_id", 1 }, { "user_id", 1 },
};
static const struct snap_col cols_invoices[] = {
	{ "id", 1 }, { "livemode", 1 }, { "created", 1 }, { "customer", 1 },
	{ "subscription", 1 }, { "status", 1 }, { "paid", 1 }, { "currency", 1 },
	{ "amount_due", 1 }, { "amount_paid", 1 }, { "amount_remaining", 1 }, { "subtotal", 1 },
	{ "total", 1 }, { "charge", 1 }, { "payment_intent", 1 }, { "billing_reason", 1 },
	{ "number", 1 }, { "period_start", 1 }, { "period_end", 1 }, { "paid_at", 1 },
	{ "tenant_id", 1 }, { "user_id", 1 }, { "lines_has_more", 0 },
};
static const struct snap_col cols_invoice_lines[] = {
	{ "invoice_id", 1 }, { "id", 1 }, { "amount", 1 }, { "currency", 1 }, { "quantity", 1 },
	{ "description", 1 }, { "price_id", 1 }, { "product", 1 }, { "lookup_key", 1 },
	{ "subscription", 1 }, { "subscription_item", 1 }, { "proration", 1 },
	{ "period_start", 1 }, { "period_end", 1 },
};
static const struct snap_col cols_events[] = {
	{ "id", 1 }, { "type", 1 }, { "created", 1 }, { "livemode", 1 }, { "api_version", 1 },
	{ "object_type", 1 }, { "object_id", 1 },
};

#define TABLE(n, p, c) { n, p, c, sizeof c / sizeof c[0] }
static const struct snap_table tables[TB_COUNT] = {
	[TB_CUSTOMERS] = TABLE("stripe_customers", NULL, cols_customers),
	[TB_PRODUCTS] = TABLE("stripe_products", NULL, cols_products),
	[TB_PRICES] = TABLE("stripe_prices", NULL, cols_prices),
	[TB_SUBS] = TABLE("stripe_subscriptions", NULL, cols_subs),
	[TB_SUB_ITEMS] = TABLE("stripe_subscription_items", "subscription_id", cols_sub_items),
	[TB_SESSIONS] = TABLE("stripe_checkout_sessions", NULL, cols_sessions),
	[TB_LINE_ITEMS] = TABLE("stripe_checkout_line_items", "session_id", cols_line_items),
	[TB_REFUNDS] = TABLE("stripe_refunds", NULL, cols_refunds),
	[TB_INVOICES] = TABLE("stripe_invoices", NULL, cols_invoices),
	[TB_INVOICE_LINES] = TABLE("stripe_invoice_lines", "invoice_id", cols_invoice_lines),
	[TB_EVENTS] = TABLE("stripe_events", NULL, cols_events),
};

/* The table of a kind's rows, and of its children (-1: none). */
static int kind_table(enum stripe_kind k)
{
	switch (k) {
	case STRIPE_CUSTOMER: return TB_CUSTOMERS;
	case STRIPE_PRODUCT: return TB_PRODUCTS;
	case STRIPE_PRICE: return TB_PRICES;
	case STRIPE_SUBSCRIPTION: return TB_SUBS;
	case STRIPE_CHECKOUT_SESSION: return TB_SESSIONS;
	case STRIPE_CHECKOUT_LINE_ITEM: return TB_LINE_ITEMS;
	case STRIPE_SUBSCRIPTION_ITEM: return TB_SUB_ITEMS;
	case STRIPE_INVOICE_LINE: return TB_INVOICE_LINES;
	case STRIPE_REFUND: return TB_REFUNDS;
	case STRIPE_INVOICE: return TB_INVOICES;
	case STRIPE_EVENT: return TB_EVENTS;
	default: return -1;
	}
}

static int kind_child_table(enum stripe_kind k)
{
	switch (k) {
	case STRIPE_SUBSCRIPTION: return TB_SUB_ITEMS;
	case STRIPE_CHECKOUT_SESSION: return TB_LINE_ITEMS;
	case STRIPE_INVOICE: return TB_INVOICE_LINES;
	default: return -1;
	}
}

/* Top-level tables of objects (they have deleted_at and tombstones). */
static int tb_tombstones(int t)
{
	return t >= 0 && !tables[t].parent && t != TB_EVENTS;
}

/* --- values -------------------------------------------------------------------- */

enum { SV_NULL, SV_INT, SV_TEXT };

struct sval {
	int t;
	long long i;
	const char *s;
};

static struct sval sv_text(const char *s)
{
	struct sval v = { s ? SV_TEXT : SV_NULL, 0, s };
	return v;
}

static struct sval sv_cur(const char *cur)
{
	return sv_text(cur && cur[0] ? cur : NULL);
}

static struct sval sv_int(struct stripe_int n)
{
	struct sval v = { n.set ? SV_INT : SV_NULL, n.v, NULL };
	return v;
}

/* A 0/1 flag, NULL when -1 (absent). */
static struct sval sv_flag(int b)
{
	struct sval v = { b < 0 ? SV_NULL : SV_INT, b > 0, NULL };
	return v;
}

static int bind_val(sqlite3_stmt *st, int idx, struct sval v)
{
	switch (v.t) {
	case SV_INT: return sqlite3_bind_int64(st, idx, v.i);
	case SV_TEXT: return sqlite3_bind_text(st, idx, v.s, -1, SQLITE_STATIC);
	default: return sqlite3_bind_null(st, idx);
	}
}

/* --- binders: one typed row into its table's column order ---------------------- */

static size_t bind_common(const struct stripe_row *r, struct sval *v)
{
	v[0] = sv_text(r->id);
	v[1] = sv_flag(r->livemode);
	v[2] = sv_int(r->created);
	return 3;
}

static size_t bind_customer(const struct stripe_row *r, struct sval *v)
{
	const struct stripe_customer *c = &r->u.customer;
	size_t n = bind_common(r, v);

	v[n++] = sv_text(c->email);
	v[n++] = sv_text(c->name);
	v[n++] = sv_cur(c->currency);
	v[n++] = sv_text(c->metadata.tenant_id);
	v[n++] = sv_text(c->metadata.user_id);
	return n;
}

static size_t bind_product(const struct stripe_row *r, struct sval *v)
{
	const struct stripe_product *p = &r->u.product;
	size_t n = bind_common(r, v);

	v[n++] = sv_text(p->name);
	v[n++] = sv_flag(p->active);
	v[n++] = sv_text(p->default_price);
	v[n++] = sv_text(p->metadata.trueup_plan);
	v[n++] = sv_text(p->metadata.trueup_course_program);
	return n;
}

static size_t bind_price(const struct stripe_row *r, struct sval *v)
{
	const struct stripe_price *p = &r->u.price;
	size_t n = bind_common(r, v);

	v[n++] = sv_text(p->product);
	v[n++] = sv_flag(p->active);
	v[n++] = sv_cur(p->currency);
	v[n++] = sv_int(p->unit_amount);
	v[n++] = sv_text(p->type);
	v[n++] = sv_text(p->recurring_interval);
	v[n++] = sv_int(p->recurring_interval_count);
	v[n++] = sv_text(p->lookup_key);
	v[n++] = sv_text(p->nickname);
	v[n++] = sv_text(p->metadata.trueup_plan);
	v[n++] = sv_text(p->metadata.trueup_course_program);
	return n;
}

static size_t bind_subscription(const struct stripe_row *r, struct sval *v)
{
	const struct stripe_subscription *s = &r->u.subscription;
	size_t n = bind_common(r, v);

	v[n++] = sv_text(s->customer);
	v[n++] = sv_text(s->status);
	v[n++] = sv_cur(s->currency);
	v[n++] = sv_int(s->start_date);
	v[n++] = sv_int(s->current_period_start);
	v[n++] = sv_int(s->current_period_end);
	v[n++] = sv_text(s->period_source);
	v[n++] = sv_int(s->cancel_at);
	v[n++] = sv_flag(s->cancel_at_period_end);
	v[n++] = sv_int(s->canceled_at);
	v[n++] = sv_int(s->ended_at);
	v[n++] = sv_int(s->trial_start);
	v[n++] = sv_int(s->trial_end);
	v[n++] = sv_text(s->latest_invoice);
	v[n++] = sv_text(s->metadata.tenant_id);
	v[n++] = sv_text(s->metadata.user_id);
	v[n++] = sv_text(s->metadata.trueup_plan);
	v[n++] = sv_flag(s->items_present ? s->items_has_more : -1);
	return n;
}

static size_t bind_sub_item(const char *sub_id, const struct stripe_subscription_item *it,
			    struct sval *v)
{
	size_t n = 0;

	v[n++] = sv_text(sub_id);
	v[n++] = sv_text(it->id);
	v[n++] = sv_int(it->created);
	v[n++] = sv_int(it->quantity);
	v[n++] = sv_text(it->price.id);
	v[n++] = sv_text(it->price.lookup_key);
	v[n++] = sv_text(it->price.product);
	v[n++] = sv_int(it->price.unit_amount);
	v[n++] = sv_cur(it->price.currency);
	v[n++] = sv_text(it->price.trueup_plan);
	v[n++] = sv_text(it->price.trueup_course_program);
	v[n++] = sv_int(it->current_period_start);
	v[n++] = sv_int(it->current_period_end);
	return n;
}

static size_t bind_session(const struct stripe_row *r, struct sval *v)
{
	const struct stripe_checkout_session *s = &r->u.session;
	size_t n = bind_common(r, v);

	v[n++] = sv_text(s->customer);
	v[n++] = sv_text(s->customer_email);
	v[n++] = sv_text(s->status);
	v[n++] = sv_text(s->mode);
	v[n++] = sv_text(s->payment_status);
	v[n++] = sv_text(s->client_reference_id);
	v[n++] = sv_cur(s->currency);
	v[n++] = sv_int(s->amount_subtotal);
	v[n++] = sv_int(s->amount_total);
	v[n++] = sv_text(s->payment_intent);
	v[n++] = sv_text(s->subscription);
	v[n++] = sv_text(s->invoice);
	v[n++] = sv_int(s->expires_at);
	v[n++] = sv_text(s->metadata.tenant_id);
	v[n++] = sv_text(s->metadata.user_id);
	v[n++] = sv_text(s->metadata.trueup_plan);
	v[n++] = sv_text(s->metadata.trueup_course_program);
	v[n++] = sv_flag(s->line_items_present ? s->line_items_has_more : -1);
	return n;
}

static size_t bind_line_item(const struct stripe_line_item *li, struct sval *v)
{
	size_t n = 0;

	v[n++] = sv_text(li->session_id);
	v[n++] = sv_text(li->id);
	v[n++] = sv_text(li->description);
	v[n++] = sv_int(li->quantity);
	v[n++] = sv_cur(li->currency);
	v[n++] = sv_int(li->amount_subtotal);
	v[n++] = sv_int(li->amount_discount);
	v[n++] = sv_int(li->amount_tax);
	v[n++] = sv_int(li->amount_total);
	v[n++] = sv_text(li->price.id);
	v[n++] = sv_text(li->price.lookup_key);
	v[n++] = sv_text(li->price.product);
	v[n++] = sv_int(li->price.unit_amount);
	v[n++] = sv_text(li->price.trueup_plan);
	v[n++] = sv_text(li->price.trueup_course_program);
	return n;
}

static size_t bind_refund(const struct stripe_row *r, struct sval *v)
{
	const struct stripe_refund *f = &r->u.refund;
	size_t n = bind_common(r, v);

	v[n++] = sv_int(f->amount);
	v[n++] = sv_cur(f->currency);
	v[n++] = sv_text(f->status);
	v[n++] = sv_text(f->reason);
	v[n++] = sv_text(f->charge);
	v[n++] = sv_text(f->payment_intent);
	v[n++] = sv_text(f->customer);
	v[n++] = sv_text(f->metadata.tenant_id);
	v[n++] = sv_text(f->metadata.user_id);
	return n;
}

static size_t bind_invoice(const struct stripe_row *r, struct sval *v)
{
	const struct stripe_invoice *i = &r->u.invoice;
	size_t n = bind_common(r, v);

	v[n++] = sv_text(i->customer);
	v[n++] = sv_text(i->subscription);
	v[n++] = sv_text(i->status);
	v[n++] = sv_flag(i->paid);
	v[n++] = sv_cur(i->currency);
	v[n++] = sv_int(i->amount_due);
	v[n++] = sv_int(i->amount_paid);
	v[n++] = sv_int(i->amount_remaining);
	v[n++] = sv_int(i->subtotal);
	v[n++] = sv_int(i->total);
	v[n++] = sv_text(i->charge);
	v[n++] = sv_text(i->payment_intent);
	v[n++] = sv_text(i->billing_reason);
	v[n++] = sv_text(i->number);
	v[n++] = sv_int(i->period_start);
	v[n++] = sv_int(i->period_end);
	v[n++] = sv_int(i->paid_at);
	v[n++] = sv_text(i->metadata.tenant_id);
	v[n++] = sv_text(i->metadata.user_id);
	v[n++] = sv_flag(i->lines_present ? i->lines_has_more : -1);
	return n;
}

static size_t bind_invoice_line(const char *invoice_id, const struct stripe_invoice_line *l,
				struct sval *v)
{
	size_t n = 0;

	v[n++] = sv_text(invoice_id);
	v[n++] = sv_text(l->id);
	v[n++] = sv_int(l->amount);
	v[n++] = sv_cur(l->currency);
	v[n++] = sv_int(l->quantity);
	v[n++] = sv_text(l->description);
	v[n++] = sv_text(l->price_id);
	v[n++] = sv_text(l->product);
	v[n++] = sv_text(l->lookup_key);
	v[n++] = sv_text(l->subscription);
	v[n++] = sv_text(l->subscription_item);
	v[n++] = sv_flag(l->proration);
	v[n++] = sv_int(l->period_start);
	v[n++] = sv_int(l->period_end);
	return n;
}

/* --- SQL text ------------------------------------------------------------------- */

/* A bounded SQL text builder; overflow is remembered, not silent. */
struct sqlbuf {
	char s[SNAP_SQL_MAX];
	size_t len;
	int overflow;
};

static void sb_add(struct sqlbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void sb_add(struct sqlbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->s + b->len, sizeof b->s - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof b->s - b->len)
		b->overflow = 1;
	else
		b->len += (size_t)n;
}

static int sb_prepare(struct db *db, struct sqlbuf *b, sqlite3_stmt **st, struct err *e)
{
	if (b->overflow)
		return err_set(e, EXIT_SOFTWARE, "snapshot: statement too long");
	return db_prepare(db, b->s, st, e);
}

/* WHERE clause on the keys: "id = ?1" or "parent = ?1 AND id = ?2". */
static void sb_keys(struct sqlbuf *b, const struct snap_table *t)
{
	if (t->parent)
		sb_add(b, "\"%s\" = ?1 AND id = ?2", t->parent);
	else
		sb_add(b, "id = ?1");
}

/*
 * INSERT ... ON CONFLICT (keys) DO UPDATE SET every column WHERE one
 * differs.  Parameters: the typed columns, then raw_json, stripe_version,
 * pulled_at.  A live row lifts a tombstone (deleted_at = NULL).  A `keep`
 * column (a session's line_items_has_more) bound to NULL -- a body without
 * the embedded list, such as an event's snapshot of a session -- keeps the
 * stored value, as w_children keeps the stored children then.
 */
/*
 * The upsert of table t: ?1..?ncols the typed columns, then raw_json,
 * stripe_version, pulled_at and, for a table that tombstones, written_run
 * (set with every write, never compared: see 007_written_run.sql).
 */
static void sb_upsert(struct sqlbuf *b, const struct snap_table *t)
{
	int tomb = tb_tombstones((int)(t - tables));
	size_t i, nk = t->parent ? 2 : 1, np = t->ncols + 3 + (size_t)tomb;

	sb_add(b, "INSERT INTO %s (", t->name);
	for (i = 0; i < t->ncols; i++)
		sb_add(b, "%s, ", t->cols[i].name);
	sb_add(b, "raw_json, stripe_version, pulled_at%s) VALUES (", tomb ? ", written_run" : "");
	for (i = 1; i <= np; i++)
		sb_add(b, "?%zu%s", i, i < np ? ", " : ") ON CONFLICT (");
	sb_add(b, "%s%s) DO UPDATE SET ", t->parent ? t->parent : "id", t->parent ? ", id" : "");
	for (i = nk; i < t->ncols; i++)
		if (col_keeps(t->cols[i].name))
			sb_add(b, "%s = coalesce(excluded.%s, %s), ", t->cols[i].name,
			       t->cols[i].name, t->cols[i].name);
		else
			sb_add(b, "%s = excluded.%s, ", t->cols[i].name, t->cols[i].name);
	sb_add(b, "raw_json = excluded.raw_json, stripe_version = excluded.stripe_version, "
		  "pulled_at = excluded.pulled_at%s WHERE ",
	       tomb ? ", deleted_at = NULL, written_run = excluded.written_run" : "");
	for (i = nk; i < t->ncols; i++)
		if (col_keeps(t->cols[i].name))
			sb_add(b, "(excluded.%s IS NOT NULL AND %s IS NOT excluded.%s) OR ",
			       t->cols[i].name, t->cols[i].name, t->cols[i].name);
		else
			sb_add(b, "%s IS NOT excluded.%s OR ", t->cols[i].name, t->cols[i].name);
	sb_add(b, "raw_json IS NOT excluded.raw_json%s", tomb ? " OR deleted_at IS NOT NULL" : "");
}

/* --- the writer of one commit ---------------------------------------------- */

/* The statements of the writer, prepared on first use. */
struct snap_stmts {
	sqlite3_stmt *exists[TB_COUNT], *upsert[TB_COUNT], *prune[TB_COUNT];
	sqlite3_stmt *prune_unseen[TB_COUNT];
	sqlite3_stmt *tomb_set[TB_COUNT], *tomb_new[TB_COUNT];
	sqlite3_stmt *seen, *event_new, *events_of_object, *cursor, *any_pending;
	sqlite3_stmt *seen_clear, *sub_period, *sub_period_items;
	sqlite3_stmt *run_mode, *cursor_new, *cursor_get;
};

/*
 * The statement of sql: *keep when it holds one (reset, bindings cleared),
 * else a new one, kept in *keep when keep is not NULL.  stmt_put gives it
 * back: reset when kept, finalized when not.
 */
static int stmt_get(struct db *db, sqlite3_stmt **keep, const char *sql, sqlite3_stmt **out,
		    struct err *e)
{
	int rc;

	if (keep && *keep) {
		sqlite3_reset(*keep);
		sqlite3_clear_bindings(*keep);
		*out = *keep;
		return 0;
	}
	if ((rc = db_prepare(db, sql, out, e)) == 0 && keep)
		*keep = *out;
	return rc;
}

static void stmt_put(sqlite3_stmt **keep, sqlite3_stmt *st)
{
	if (keep)
		sqlite3_reset(st);
	else
		sqlite3_finalize(st);
}

static void stmts_release(struct snap_stmts *s)
{
	int t;

	for (t = 0; t < TB_COUNT; t++) {
		sqlite3_finalize(s->exists[t]);
		sqlite3_finalize(s->upsert[t]);
		sqlite3_finalize(s->prune[t]);
		sqlite3_finalize(s->prune_unseen[t]);
		sqlite3_finalize(s->tomb_set[t]);
		sqlite3_finalize(s->tomb_new[t]);
	}
	sqlite3_finalize(s->seen);
	sqlite3_finalize(s->event_new);
	sqlite3_finalize(s->events_of_object);
	sqlite3_finalize(s->cursor);
	sqlite3_finalize(s->any_pending);
	sqlite3_finalize(s->seen_clear);
	sqlite3_finalize(s->sub_period);
	sqlite3_finalize(s->sub_period_items);
	sqlite3_finalize(s->run_mode);
	sqlite3_finalize(s->cursor_new);
	sqlite3_finalize(s->cursor_get);
	memset(s, 0, sizeof *s);
}

struct writer {
	struct db *db;
	struct err *e;
	const char *version;
	const char *pulled_at;
	struct db_snapshot_counts *n;
	struct snap_stmts *s;     /* the commit's own, or its group's (kept) */
	int pending;              /* unprocessed events exist: 1, 0, -1 not known yet */
	long long full_run;       /* the full relist this commit belongs to, or 0 */
};

enum { ST_EXISTS, ST_UPSERT, ST_PRUNE, ST_PRUNE_UNSEEN, ST_TOMB_SET, ST_TOMB_NEW };

/* The statement `which` of table t, prepared on first use. */
static int w_stmt(struct writer *w, int t, int which, sqlite3_stmt **out)
{
	const struct snap_table *tb = &tables[t];
	sqlite3_stmt **slot;
	struct sqlbuf b;
	int rc;

	switch (which) {
	case ST_EXISTS: slot = &w->s->exists[t]; break;
	case ST_UPSERT: slot = &w->s->upsert[t]; break;
	case ST_PRUNE: slot = &w->s->prune[t]; break;
	case ST_PRUNE_UNSEEN: slot = &w->s->prune_unseen[t]; break;
	case ST_TOMB_SET: slot = &w->s->tomb_set[t]; break;
	default: slot = &w->s->tomb_new[t]; break;
	}
	if (*slot) {                    /* prepared earlier (commit or group) */
		sqlite3_reset(*slot);
		sqlite3_clear_bindings(*slot);
		*out = *slot;
		return 0;
	}
	b.len = 0;
	b.overflow = 0;
	b.s[0] = '\0';
	switch (which) {
	case ST_EXISTS:
		sb_add(&b, "SELECT 1 FROM %s WHERE ", tb->name);
		sb_keys(&b, tb);
		break;
	case ST_UPSERT:
		sb_upsert(&b, tb);
		break;
	case ST_PRUNE:
		sb_add(&b, "DELETE FROM %s WHERE \"%s\" = ?1 AND id NOT IN "
			   "(SELECT value FROM json_each(?2))", tb->name, tb->parent);
		break;
	case ST_PRUNE_UNSEEN:
		sb_add(&b, "DELETE FROM %s WHERE \"%s\" = ?1 AND id NOT IN "
			   "(SELECT id FROM stripe_pull_seen WHERE pull_run_id = ?2 AND resource = ?3)",
		       tb->name, tb->parent);
		break;
	case ST_TOMB_SET:
		sb_add(&b, "UPDATE %s SET deleted_at = ?2, pulled_at = ?3 "
			   "WHERE id = ?1 AND deleted_at IS NULL", tb->name);
		break;
	default:
		sb_add(&b, "INSERT INTO %s (id, raw_json, stripe_version, pulled_at, deleted_at) "
			   "VALUES (?1, ?2, ?3, ?4, ?5)", tb->name);
		break;
	}
	if ((rc = sb_prepare(w->db, &b, slot, w->e)) != 0)
		return rc;
	*out = *slot;
	return 0;
}

static int w_step_done(struct writer *w, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return db_fail(w->db, w->e, what);
	return 0;
}

enum outcome { OUT_INSERTED, OUT_UPDATED, OUT_UNCHANGED };

/* Does the row with these keys exist?  *found = 1/0. */
static int w_exists(struct writer *w, int t, const struct sval *keys, int *found)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = w_stmt(w, t, ST_EXISTS, &st)) != 0)
		return rc;
	bind_val(st, 1, keys[0]);
	if (tables[t].parent)
		bind_val(st, 2, keys[1]);
	rc = sqlite3_step(st);
	*found = rc == SQLITE_ROW;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(w->db, w->e, tables[t].name);
	return 0;
}

/*
 * Upsert one row of table t from v (ncols values) and its raw JSON.
 * Inserted or not is told by the rowid: the last insert rowid is set to 0
 * before the step and only an actual INSERT sets it (rowids of these
 * tables are >= 1; the DO UPDATE branch leaves it), which saves a lookup
 * of the keys per row.
 */
static int w_upsert(struct writer *w, int t, const struct sval *v, size_t nv, const char *raw,
		    size_t raw_len, enum outcome *out)
{
	const struct snap_table *tb = &tables[t];
	sqlite3_stmt *st;
	size_t i;
	int rc;

	if (nv != tb->ncols)
		return err_set(w->e, EXIT_SOFTWARE, "snapshot: %s: %zu values for %zu columns",
			       tb->name, nv, tb->ncols);
	if ((rc = w_stmt(w, t, ST_UPSERT, &st)) != 0)
		return rc;
	for (i = 0; i < nv; i++)
		bind_val(st, (int)i + 1, v[i]);
	sqlite3_bind_text(st, (int)nv + 1, raw ? raw : "{}", raw && raw_len ? (int)raw_len : -1,
			  SQLITE_STATIC);
	bind_val(st, (int)nv + 2, sv_text(w->version));
	sqlite3_bind_text(st, (int)nv + 3, w->pulled_at, -1, SQLITE_STATIC);
	if (tb_tombstones(t) && w->full_run)
		sqlite3_bind_int64(st, (int)nv + 4, w->full_run);
	sqlite3_set_last_insert_rowid(w->db->h, 0);
	if ((rc = w_step_done(w, st, tb->name)) != 0)
		return rc;
	*out = sqlite3_last_insert_rowid(w->db->h) != 0 ? OUT_INSERTED :
	       sqlite3_changes(w->db->h) ? OUT_UPDATED : OUT_UNCHANGED;
	return 0;
}

static void count_outcome(struct writer *w, enum outcome o)
{
	if (o == OUT_INSERTED)
		w->n->inserted++;
	else if (o == OUT_UPDATED)
		w->n->updated++;
	else
		w->n->unchanged++;
}

/*
 * Delete the children of parent_id in table t whose ids are not among the
 * n ids at stride `size` from `first` (a pointer to the first id member).
 */
static int w_prune(struct writer *w, int t, const char *parent_id, const char *const *first,
		   size_t n, size_t size)
{
	json_t *arr = json_array();
	sqlite3_stmt *st;
	char *text = NULL;
	size_t i;
	int rc;

	for (i = 0; arr && i < n; i++) {
		const char *id = *(const char *const *)(const void *)((const char *)first + i * size);

		if (json_array_append_new(arr, json_string(id)) != 0) {
			json_decref(arr);
			arr = NULL;
		}
	}
	if (!arr || !(text = json_dumps(arr, JSON_COMPACT))) {
		json_decref(arr);
		return err_set(w->e, EXIT_SOFTWARE, "out of memory");
	}
	json_decref(arr);
	if ((rc = w_stmt(w, t, ST_PRUNE, &st)) == 0) {
		sqlite3_bind_text(st, 1, parent_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
		if ((rc = w_step_done(w, st, tables[t].name)) == 0)
			w->n->children_deleted += sqlite3_changes(w->db->h);
	}
	free(text);
	return rc;
}

/*
 * The children of a parent row that was inserted or changed.  A parent
 * just inserted has no children yet (they reference it), so there is
 * nothing to prune: fresh is 1 then.
 */
static int w_children(struct writer *w, const struct stripe_row *r, int fresh)
{
	struct sval v[SNAP_COLS_MAX];
	enum outcome o;
	size_t i, nv;
	int rc, t = kind_child_table(r->kind);

	if (r->kind == STRIPE_SUBSCRIPTION && r->u.subscription.items_present) {
		const struct stripe_subscription *s = &r->u.subscription;

		for (i = 0; i < s->nitems; i++) {
			nv = bind_sub_item(r->id, &s->items[i], v);
			if ((rc = w_upsert(w, t, v, nv, s->items[i].raw_json,
					   s->items[i].raw_len, &o)) != 0)
				return rc;
			w->n->children_written += o != OUT_UNCHANGED;
		}
		if (!s->items_has_more && !fresh)
			return w_prune(w, t, r->id, s->nitems ? &s->items[0].id : NULL, s->nitems,
				       sizeof s->items[0]);
	} else if (r->kind == STRIPE_CHECKOUT_SESSION && r->u.session.line_items_present) {
		const struct stripe_checkout_session *s = &r->u.session;

		for (i = 0; i < s->nline_items; i++) {
			nv = bind_line_item(&s->line_items[i], v);
			if ((rc = w_upsert(w, t, v, nv, s->line_items[i].raw_json,
					   s->line_items[i].raw_len, &o)) != 0)
				return rc;
			w->n->children_written += o != OUT_UNCHANGED;
		}
		if (!s->line_items_has_more && !fresh)
			return w_prune(w, t, r->id, s->nline_items ? &s->line_items[0].id : NULL,
				       s->nline_items, sizeof s->line_items[0]);
	} else if (r->kind == STRIPE_INVOICE && r->u.invoice.lines_present) {
		const struct stripe_invoice *inv = &r->u.invoice;

		for (i = 0; i < inv->nlines; i++) {
			nv = bind_invoice_line(r->id, &inv->lines[i], v);
			if ((rc = w_upsert(w, t, v, nv, inv->lines[i].raw_json,
					   inv->lines[i].raw_len, &o)) != 0)
				return rc;
			w->n->children_written += o != OUT_UNCHANGED;
		}
		if (!inv->lines_has_more && !fresh)
			return w_prune(w, t, r->id, inv->nlines ? &inv->lines[0].id : NULL,
				       inv->nlines, sizeof inv->lines[0]);
	}
	return 0;
}

static size_t bind_row(const struct stripe_row *r, struct sval *v)
{
	switch (r->kind) {
	case STRIPE_CUSTOMER: return bind_customer(r, v);
	case STRIPE_PRODUCT: return bind_product(r, v);
	case STRIPE_PRICE: return bind_price(r, v);
	case STRIPE_SUBSCRIPTION: return bind_subscription(r, v);
	case STRIPE_CHECKOUT_SESSION: return bind_session(r, v);
	case STRIPE_CHECKOUT_LINE_ITEM: return bind_line_item(&r->u.line_item, v);
	case STRIPE_SUBSCRIPTION_ITEM: return bind_sub_item(r->u.sub_item.subscription_id,
							    &r->u.sub_item, v);
	case STRIPE_INVOICE_LINE: return bind_invoice_line(r->u.invoice_line.invoice_id,
							   &r->u.invoice_line, v);
	case STRIPE_REFUND: return bind_refund(r, v);
	case STRIPE_INVOICE: return bind_invoice(r, v);
	default: return 0;
	}
}

/* Upsert a live object row and (when it changed) its children. */
static int w_object(struct writer *w, const struct stripe_row *r, enum outcome *out)
{
	struct sval v[SNAP_COLS_MAX];
	size_t nv = bind_row(r, v);
	int rc;

	if ((rc = w_upsert(w, kind_table(r->kind), v, nv, r->raw_json, r->raw_len, out)) != 0)
		return rc;
	if (*out != OUT_UNCHANGED)
		rc = w_children(w, r, *out == OUT_INSERTED);
	return rc;
}

/*
 * Tombstone object id of table t as of `when`: set deleted_at on a live
 * row; an unknown id gets a row (full, from r when it is a live object, or
 * a bare one from the stub's raw JSON).
 */
static int w_tombstone(struct writer *w, int t, const char *id, const struct stripe_row *r,
		       const char *when)
{
	struct sval key = sv_text(id);
	sqlite3_stmt *st;
	enum outcome o;
	int rc, found;

	if ((rc = w_exists(w, t, &key, &found)) != 0)
		return rc;
	if (!found && r && !r->deleted) {
		if ((rc = w_object(w, r, &o)) != 0)
			return rc;
		found = 1;
	}
	if (found) {
		if ((rc = w_stmt(w, t, ST_TOMB_SET, &st)) != 0)
			return rc;
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, when, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, w->pulled_at, -1, SQLITE_STATIC);
		if ((rc = w_step_done(w, st, tables[t].name)) != 0)
			return rc;
		if (sqlite3_changes(w->db->h))
			w->n->tombstoned++;
		else
			w->n->unchanged++;
		return 0;
	}
	if ((rc = w_stmt(w, t, ST_TOMB_NEW, &st)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, r && r->raw_json ? r->raw_json : "{}", -1, SQLITE_STATIC);
	bind_val(st, 3, sv_text(w->version));
	sqlite3_bind_text(st, 4, w->pulled_at, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, when, -1, SQLITE_STATIC);
	if ((rc = w_step_done(w, st, tables[t].name)) != 0)
		return rc;
	w->n->tombstoned++;
	return 0;
}

static void iso_time(long long epoch, char *buf, size_t sz)
{
	time_t t = (time_t)epoch;
	struct tm tm;

	if (epoch < 0 || epoch > 253402300799LL || !gmtime_r(&t, &tm))
		snprintf(buf, sz, "1970-01-01T00:00:00Z");
	else
		strftime(buf, sz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Insert an event (known ids are left alone); a *.deleted event tombstones. */
static int w_event(struct writer *w, const struct stripe_row *r)
{
	const struct stripe_event *ev = &r->u.event;
	sqlite3_stmt *st;
	char when[32];
	int rc;

	if (!w->s->event_new &&
	    (rc = db_prepare(w->db, "INSERT INTO stripe_events (id, type, created, livemode, "
			     "api_version, object_type, object_id, processed, processed_at, raw_json, "
			     "stripe_version, pulled_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
			     "?10, ?11, ?12) ON CONFLICT (id) DO NOTHING", &w->s->event_new, w->e)) != 0)
		return rc;
	st = w->s->event_new;
	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, r->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ev->type, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, r->created.v);
	bind_val(st, 4, sv_flag(r->livemode));
	bind_val(st, 5, sv_text(ev->api_version));
	bind_val(st, 6, sv_text(ev->object_type));
	bind_val(st, 7, sv_text(ev->object_id));
	sqlite3_bind_int(st, 8, ev->deletes ? 1 : 0);
	bind_val(st, 9, sv_text(ev->deletes ? w->pulled_at : NULL));
	sqlite3_bind_text(st, 10, r->raw_json, -1, SQLITE_STATIC);
	bind_val(st, 11, sv_text(w->version));
	sqlite3_bind_text(st, 12, w->pulled_at, -1, SQLITE_STATIC);
	if ((rc = w_step_done(w, st, "stripe_events")) != 0)
		return rc;
	if (!sqlite3_changes(w->db->h)) {
		w->n->events_known++;
		return 0;
	}
	w->n->events_new++;
	w->pending = -1;          /* ask again */
	if (!ev->deletes || !ev->object)
		return 0;
	iso_time(r->created.v, when, sizeof when);
	return w_tombstone(w, kind_table(ev->object_kind), ev->object_id, ev->object, when);
}

/*
 * Mark the pending events about object id processed.  Skipped when the
 * commit found no unprocessed event at all (a full pull has none: one
 * index probe per commit instead of one per row).
 */
static int w_events_of(struct writer *w, const char *id)
{
	int rc;

	if (w->pending < 0) {
		if (!w->s->any_pending &&
		    (rc = db_prepare(w->db, "SELECT EXISTS (SELECT 1 FROM stripe_events WHERE "
				     "processed = 0)", &w->s->any_pending, w->e)) != 0)
			return rc;
		sqlite3_reset(w->s->any_pending);
		rc = sqlite3_step(w->s->any_pending);
		w->pending = rc == SQLITE_ROW ? sqlite3_column_int(w->s->any_pending, 0) != 0 : 1;
		sqlite3_reset(w->s->any_pending);
		if (rc != SQLITE_ROW)
			return db_fail(w->db, w->e, "stripe_events");
	}
	if (!w->pending)
		return 0;
	if (!w->s->events_of_object &&
	    (rc = db_prepare(w->db, "UPDATE stripe_events SET processed = 1, processed_at = ?2 "
			     "WHERE object_id = ?1 AND processed = 0", &w->s->events_of_object,
			     w->e)) != 0)
		return rc;
	sqlite3_reset(w->s->events_of_object);
	sqlite3_bind_text(w->s->events_of_object, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(w->s->events_of_object, 2, w->pulled_at, -1, SQLITE_STATIC);
	if ((rc = w_step_done(w, w->s->events_of_object, "stripe_events")) != 0)
		return rc;
	w->n->events_processed += sqlite3_changes(w->db->h);
	return 0;
}

/* Remember id as met by the full relist of run. */
static int w_seen(struct writer *w, long long run, const char *resource, const char *id)
{
	int rc;

	if (!w->s->seen &&
	    (rc = db_prepare(w->db, "INSERT OR IGNORE INTO stripe_pull_seen (pull_run_id, "
			     "resource, id) VALUES (?1, ?2, ?3)", &w->s->seen, w->e)) != 0)
		return rc;
	sqlite3_reset(w->s->seen);
	sqlite3_bind_int64(w->s->seen, 1, run);
	sqlite3_bind_text(w->s->seen, 2, resource, -1, SQLITE_STATIC);
	sqlite3_bind_text(w->s->seen, 3, id, -1, SQLITE_STATIC);
	return w_step_done(w, w->s->seen, "stripe_pull_seen");
}

/*
 * The "seen" resource of a child pagination: "subscription_items/sub_123"
 * (the ids its pages listed, in stripe_pull_seen, until it completes).
 */
static void seen_scope(const struct db_snapshot_cursor *c, char *buf, size_t sz)
{
	snprintf(buf, sz, "%s/%s", c->resource, c->scope);
}

/*
 * The period a 2023 subscription item takes from its stored subscription
 * (period_source 'subscription'), as embedded items do (derive_period in
 * stripe_rows.c); *found = 0 when the subscription has none.
 */
static int w_sub_period(struct writer *w, const char *sub_id, struct stripe_int *start,
			struct stripe_int *end, int *found)
{
	sqlite3_stmt *st;
	int rc;

	*found = 0;
	if (!w->s->sub_period &&
	    (rc = db_prepare(w->db, "SELECT current_period_start, current_period_end FROM "
			     "stripe_subscriptions WHERE id = ?1 AND period_source = 'subscription'",
			     &w->s->sub_period, w->e)) != 0)
		return rc;
	st = w->s->sub_period;
	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, sub_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*found = 1;
		start->set = sqlite3_column_type(st, 0) != SQLITE_NULL;
		start->v = sqlite3_column_int64(st, 0);
		end->set = sqlite3_column_type(st, 1) != SQLITE_NULL;
		end->v = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(w->db, w->e, "stripe_subscriptions");
	return 0;
}

/*
 * A row of a child page: upserted like an embedded child.  A subscription
 * item without a period of its own (2023) gets its subscription's.
 */
static int w_child(struct writer *w, const struct stripe_row *r, enum outcome *out)
{
	struct sval v[SNAP_COLS_MAX];
	struct stripe_subscription_item it;
	size_t nv;
	int rc, found;

	if (r->kind != STRIPE_SUBSCRIPTION_ITEM || r->u.sub_item.current_period_start.set ||
	    r->u.sub_item.current_period_end.set)
		return w_object(w, r, out);
	it = r->u.sub_item;
	if ((rc = w_sub_period(w, it.subscription_id, &it.current_period_start,
			       &it.current_period_end, &found)) != 0)
		return rc;
	nv = bind_sub_item(it.subscription_id, &it, v);
	return w_upsert(w, kind_table(r->kind), v, nv, r->raw_json, r->raw_len, out);
}

/*
 * A child pagination (cursor c) is complete: delete the children of its
 * parent (c->scope) that its pages did not list, forget what they listed,
 * and give a subscription whose period comes from its items (2025+) the
 * span of all of them, as if they had all been embedded.
 */
static int w_children_done(struct writer *w, enum stripe_kind kind,
			   const struct db_snapshot_cursor *c)
{
	char seen[32 + DB_SNAPSHOT_ID_MAX];
	sqlite3_stmt *st;
	int rc, t = kind_table(kind);

	seen_scope(c, seen, sizeof seen);
	if ((rc = w_stmt(w, t, ST_PRUNE_UNSEEN, &st)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, c->scope, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, c->pull_run_id);
	sqlite3_bind_text(st, 3, seen, -1, SQLITE_STATIC);
	if ((rc = w_step_done(w, st, tables[t].name)) != 0)
		return rc;
	w->n->children_deleted += sqlite3_changes(w->db->h);
	if (!w->s->seen_clear &&
	    (rc = db_prepare(w->db, "DELETE FROM stripe_pull_seen WHERE pull_run_id = ?1 AND "
			     "resource = ?2", &w->s->seen_clear, w->e)) != 0)
		return rc;
	st = w->s->seen_clear;
	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, c->pull_run_id);
	sqlite3_bind_text(st, 2, seen, -1, SQLITE_STATIC);
	if ((rc = w_step_done(w, st, "stripe_pull_seen")) != 0 || kind != STRIPE_SUBSCRIPTION_ITEM)
		return rc;
	if (!w->s->sub_period_items &&
	    (rc = db_prepare(w->db, "UPDATE stripe_subscriptions SET current_period_start = "
			     "(SELECT min(current_period_start) FROM stripe_subscription_items "
			     "WHERE subscription_id = ?1), current_period_end = "
			     "(SELECT max(current_period_end) FROM stripe_subscription_items "
			     "WHERE subscription_id = ?1) WHERE id = ?1 AND period_source = 'items'",
			     &w->s->sub_period_items, w->e)) != 0)
		return rc;
	st = w->s->sub_period_items;
	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, c->scope, -1, SQLITE_STATIC);
	return w_step_done(w, st, "stripe_subscriptions");
}

/* The parent id of a child row. */
static const char *child_parent(const struct stripe_row *r)
{
	switch (r->kind) {
	case STRIPE_CHECKOUT_LINE_ITEM: return r->u.line_item.session_id;
	case STRIPE_SUBSCRIPTION_ITEM: return r->u.sub_item.subscription_id;
	case STRIPE_INVOICE_LINE: return r->u.invoice_line.invoice_id;
	default: return NULL;
	}
}

/*
 * The rows of page p.  full_run: the full relist that lists them (rows
 * are remembered as seen, for its tombstones); mark: mark their pending
 * events processed; cur: the page's cursor (NULL: none).  A child page on
 * a cursor (scope = the parent id) remembers its ids as seen by that
 * pagination, for w_children_done.
 */
static int w_page(struct writer *w, const struct stripe_page *p, long long full_run, int mark,
		  const struct db_snapshot_cursor *cur)
{
	char seen[32 + DB_SNAPSHOT_ID_MAX];
	int child = stripe_kind_parent(p->kind) != STRIPE_NONE;
	size_t i;
	int rc;

	if (child && cur)
		seen_scope(cur, seen, sizeof seen);
	for (i = 0; i < p->count; i++) {
		const struct stripe_row *r = &p->rows[i];
		enum outcome o;
		int t = kind_table(r->kind);

		if (t < 0 || r->kind != p->kind)
			return err_set(w->e, EXIT_SOFTWARE, "snapshot: row %zu of a %s page is a %s",
				       i, stripe_kind_resource(p->kind), stripe_kind_resource(r->kind));
		if (child && (!child_parent(r) || (cur && strcmp(child_parent(r), cur->scope) != 0)))
			return err_set(w->e, EXIT_SOFTWARE, "snapshot: row %zu of a %s page of "
				       "\"%s\" belongs to \"%s\"", i, stripe_kind_resource(p->kind),
				       cur ? cur->scope : "", child_parent(r) ? child_parent(r) : "");
		o = OUT_UNCHANGED;
		if (r->kind == STRIPE_EVENT)
			rc = w_event(w, r);
		else if (r->deleted)
			rc = tb_tombstones(t) ? w_tombstone(w, t, r->id, r, w->pulled_at) : 0;
		else if ((rc = child ? w_child(w, r, &o) : w_object(w, r, &o)) == 0)
			count_outcome(w, o);
		/* met by the relist: a row it wrote carries written_run already */
		if (rc == 0 && full_run && tb_tombstones(t) && !r->deleted && o == OUT_UNCHANGED)
			rc = w_seen(w, full_run, stripe_kind_resource(r->kind), r->id);
		if (rc == 0 && child && cur)
			rc = w_seen(w, cur->pull_run_id, seen, r->id);
		if (rc == 0 && mark && r->kind != STRIPE_EVENT && !child)
			rc = w_events_of(w, r->id);
		if (rc)
			return rc;
	}
	if (child && cur && !p->has_more)
		return w_children_done(w, p->kind, cur);
	return 0;
}

/* --- pull runs --------------------------------------------------------------- */

/* The mode of a pull run: *full = 1 for 'full'.  EXIT_SOFTWARE if unknown. */
static int run_mode_kept(struct db *db, sqlite3_stmt **keep, long long run, int *full,
			 struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = stmt_get(db, keep, "SELECT mode FROM stripe_pull_runs WHERE id = ?1", &st,
			   e)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, run);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *m = sqlite3_column_text(st, 0);

		*full = m && strcmp((const char *)m, "full") == 0;
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		rc = err_set(e, EXIT_SOFTWARE, "snapshot: no pull run %lld", run);
	} else {
		rc = db_fail(db, e, "stripe_pull_runs");
	}
	stmt_put(keep, st);
	return rc;
}

static int run_mode(struct db *db, long long run, int *full, struct err *e)
{
	return run_mode_kept(db, NULL, run, full, e);
}

int db_snapshot_pull_begin(struct db *db, enum db_snapshot_mode mode, const char *resources,
			   long long command_run_id, long long *pull_run_id, struct err *e)
{
	sqlite3_stmt *st;
	char now[32];
	int rc;

	db_now(now, sizeof now);
	if ((rc = db_prepare(db, "INSERT INTO stripe_pull_runs (mode, resources, command_run_id, "
			     "started_at, status) VALUES (?1, ?2, ?3, ?4, 'running')", &st, e)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, mode == DB_SNAPSHOT_FULL ? "full" : "incremental", -1,
			  SQLITE_STATIC);
	bind_val(st, 2, sv_text(resources));
	if (command_run_id > 0)
		sqlite3_bind_int64(st, 3, command_run_id);
	sqlite3_bind_text(st, 4, now, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_fail(db, e, "stripe_pull_runs");
	*pull_run_id = sqlite3_last_insert_rowid(db->h);
	return 0;
}

/* The first cursor of run that is not done, into res/scope; *open = 0 if none. */
static int first_open_cursor(struct db *db, long long run, const char *resource, char *res,
			     size_t rsz, char *scope, size_t ssz, int *open, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	*open = 0;
	if ((rc = db_prepare(db, "SELECT resource, scope FROM stripe_pull_cursors "
			     "WHERE pull_run_id = ?1 AND done = 0 AND (?2 IS NULL OR resource = ?2) "
			     "ORDER BY resource, scope LIMIT 1", &st, e)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, run);
	bind_val(st, 2, sv_text(resource));
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*open = 1;
		snprintf(res, rsz, "%s", (const char *)sqlite3_column_text(st, 0));
		snprintf(scope, ssz, "%s", (const char *)sqlite3_column_text(st, 1));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(db, e, "stripe_pull_cursors");
	return 0;
}

int db_snapshot_pull_finish(struct db *db, long long pull_run_id, int ok, const char *error,
			    struct err *e)
{
	sqlite3_stmt *st = NULL;
	char now[32], res[32], scope[DB_SNAPSHOT_ID_MAX];
	int rc, open, full;

	if ((rc = run_mode(db, pull_run_id, &full, e)) != 0)
		return rc;
	if (ok) {
		if ((rc = first_open_cursor(db, pull_run_id, NULL, res, sizeof res, scope,
					    sizeof scope, &open, e)) != 0)
			return rc;
		if (open)
			return err_set(e, EXIT_SOFTWARE, "pull run %lld cannot finish: cursor "
				       "%s%s%s is not done", pull_run_id, res, scope[0] ? "/" : "",
				       scope);
	}
	db_now(now, sizeof now);
	if ((rc = db_tx_begin(db, e)) != 0)
		return rc;
	if ((rc = db_prepare(db, "UPDATE stripe_pull_runs SET status = ?2, finished_at = ?3, "
			     "error = ?4 WHERE id = ?1", &st, e)) != 0)
		goto fail;
	sqlite3_bind_int64(st, 1, pull_run_id);
	sqlite3_bind_text(st, 2, ok ? "ok" : "failed", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, now, -1, SQLITE_STATIC);
	bind_val(st, 4, sv_text(ok ? NULL : error));
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = db_fail(db, e, "stripe_pull_runs");
		goto fail;
	}
	sqlite3_finalize(st);
	st = NULL;
	if ((rc = db_prepare(db, "DELETE FROM stripe_pull_seen WHERE pull_run_id = ?1", &st,
			     e)) != 0)
		goto fail;
	sqlite3_bind_int64(st, 1, pull_run_id);
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = db_fail(db, e, "stripe_pull_seen");
		goto fail;
	}
	sqlite3_finalize(st);
	return db_tx_commit(db, e);
fail:
	sqlite3_finalize(st);
	db_tx_rollback(db);
	return rc;
}

static void copy_col(sqlite3_stmt *st, int i, char *buf, size_t sz)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	snprintf(buf, sz, "%s", s ? (const char *)s : "");
}

int db_snapshot_pull_last(struct db *db, struct db_snapshot_pull_info *out, int *found,
			  struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	memset(out, 0, sizeof *out);
	*found = 0;
	if ((rc = db_prepare(db, "SELECT id, mode, status, resources, started_at, finished_at, "
			     "error FROM stripe_pull_runs ORDER BY id DESC LIMIT 1", &st, e)) != 0)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*found = 1;
		out->id = sqlite3_column_int64(st, 0);
		copy_col(st, 1, out->mode, sizeof out->mode);
		copy_col(st, 2, out->status, sizeof out->status);
		copy_col(st, 3, out->resources, sizeof out->resources);
		copy_col(st, 4, out->started_at, sizeof out->started_at);
		copy_col(st, 5, out->finished_at, sizeof out->finished_at);
		copy_col(st, 6, out->error, sizeof out->error);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(db, e, "stripe_pull_runs");
	return 0;
}

int db_snapshot_require_finished(struct db *db, struct err *e)
{
	struct db_snapshot_pull_info p;
	int rc, found;

	if ((rc = db_snapshot_pull_last(db, &p, &found, e)) != 0)
		return rc;
	if (!found)
		return err_set(e, EXIT_NOINPUT, "no stripe snapshot yet: run 'trueup pull' first");
	if (strcmp(p.status, "ok") == 0)
		return 0;
	if (strcmp(p.status, "failed") == 0)
		return err_set(e, EXIT_TEMPFAIL, "the last stripe pull (run %lld, started %s) "
			       "failed%s%s: run 'trueup pull' to complete it", p.id, p.started_at,
			       p.error[0] ? ": " : "", p.error);
	return err_set(e, EXIT_TEMPFAIL, "the last stripe pull (run %lld, started %s) has not "
		       "finished: run 'trueup pull' to complete it", p.id, p.started_at);
}

int db_snapshot_check_usable(struct db *db, int allow_unfinished,
			     struct db_snapshot_pull_info *info, char *unfinished_msg,
			     size_t msgsz, struct err *e)
{
	int rc, found;

	if (msgsz)
		unfinished_msg[0] = '\0';
	if ((rc = db_snapshot_pull_last(db, info, &found, e)) != 0)
		return rc;
	rc = db_snapshot_require_finished(db, e);
	if (rc != 0 && (!found || !allow_unfinished))
		return rc;
	if (rc != 0) {
		snprintf(unfinished_msg, msgsz, "%s", e->msg);
		err_clear(e);
	}
	return 0;
}

/* --- cursors ---------------------------------------------------------------- */

static void cursor_load(sqlite3_stmt *st, struct db_snapshot_cursor *c)
{
	c->pull_run_id = sqlite3_column_int64(st, 0);
	copy_col(st, 1, c->resource, sizeof c->resource);
	copy_col(st, 2, c->scope, sizeof c->scope);
	c->has_gte = sqlite3_column_type(st, 3) != SQLITE_NULL;
	c->created_gte = sqlite3_column_int64(st, 3);
	c->has_lt = sqlite3_column_type(st, 4) != SQLITE_NULL;
	c->created_lt = sqlite3_column_int64(st, 4);
	copy_col(st, 5, c->starting_after, sizeof c->starting_after);
	c->done = sqlite3_column_int(st, 6);
	c->pages = sqlite3_column_int64(st, 7);
	c->objects = sqlite3_column_int64(st, 8);
	copy_col(st, 9, c->updated_at, sizeof c->updated_at);
}

#define CURSOR_COLS "pull_run_id, resource, scope, created_gte, created_lt, " \
	"starting_after, done, pages, objects, updated_at"

/*
 * db_snapshot_cursor_open with its statements kept in s (the writer's,
 * which opens a cursor for every parent with more children than its page
 * embeds) or, with s NULL, prepared for this call alone.
 */
static int cursor_open_in(struct db *db, struct snap_stmts *s, struct db_snapshot_cursor *c,
			  struct err *e)
{
	sqlite3_stmt *st;
	char now[32];
	int rc, full;
	enum stripe_kind k = stripe_kind_from_resource(c->resource);

	if (k == STRIPE_NONE)
		return err_set(e, EXIT_SOFTWARE, "snapshot: unknown resource \"%s\"", c->resource);
	if ((rc = run_mode_kept(db, s ? &s->run_mode : NULL, c->pull_run_id, &full, e)) != 0)
		return rc;
	db_now(now, sizeof now);
	if ((rc = stmt_get(db, s ? &s->cursor_new : NULL,
			   "INSERT OR IGNORE INTO stripe_pull_cursors (pull_run_id, "
			   "resource, scope, created_gte, created_lt, updated_at) "
			   "VALUES (?1, ?2, ?3, ?4, ?5, ?6)", &st, e)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, c->pull_run_id);
	sqlite3_bind_text(st, 2, c->resource, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, c->scope, -1, SQLITE_STATIC);
	if (c->has_gte)
		sqlite3_bind_int64(st, 4, c->created_gte);
	if (c->has_lt)
		sqlite3_bind_int64(st, 5, c->created_lt);
	sqlite3_bind_text(st, 6, now, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	stmt_put(s ? &s->cursor_new : NULL, st);
	if (rc != SQLITE_DONE)
		return db_fail(db, e, "stripe_pull_cursors");
	if ((rc = stmt_get(db, s ? &s->cursor_get : NULL,
			   "SELECT " CURSOR_COLS " FROM stripe_pull_cursors "
			   "WHERE pull_run_id = ?1 AND resource = ?2 AND scope = ?3", &st, e)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, c->pull_run_id);
	sqlite3_bind_text(st, 2, c->resource, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, c->scope, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		cursor_load(st, c);
	stmt_put(s ? &s->cursor_get : NULL, st);
	if (rc != SQLITE_ROW)
		return db_fail(db, e, "stripe_pull_cursors");
	return 0;
}

int db_snapshot_cursor_open(struct db *db, struct db_snapshot_cursor *c, struct err *e)
{
	return cursor_open_in(db, NULL, c, e);
}

int db_snapshot_cursor_split(struct db *db, const struct db_snapshot_cursor *c,
			     const char *scope, long long at, struct err *e)
{
	sqlite3_stmt *st;
	char now[32];
	int rc;

	if (!db->in_tx)
		return err_set(e, EXIT_SOFTWARE, "snapshot: a cursor split outside a transaction");
	db_now(now, sizeof now);
	/* the lower part: a new cursor from the top of [created_gte, at) */
	if ((rc = db_prepare(db, "INSERT OR IGNORE INTO stripe_pull_cursors (pull_run_id, resource, "
			     "scope, created_gte, created_lt, updated_at) "
			     "SELECT pull_run_id, resource, ?4, created_gte, ?5, ?6 "
			     "FROM stripe_pull_cursors WHERE pull_run_id = ?1 AND resource = ?2 "
			     "AND scope = ?3 AND done = 0 AND (created_gte IS NULL OR created_gte < ?5) "
			     "AND (created_lt IS NULL OR created_lt > ?5)", &st, e)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, c->pull_run_id);
	sqlite3_bind_text(st, 2, c->resource, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, c->scope, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, scope, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, at);
	sqlite3_bind_text(st, 6, now, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_fail(db, e, "stripe_pull_cursors");
	if (sqlite3_changes(db->h) != 1)
		return err_set(e, EXIT_SOFTWARE, "snapshot: cannot split cursor %s/%s of pull run "
			       "%lld at %lld into %s", c->resource, c->scope, c->pull_run_id, at,
			       scope);
	/* the upper part: the cursor itself, from where it is, down to at */
	if ((rc = db_prepare(db, "UPDATE stripe_pull_cursors SET created_gte = ?4, updated_at = ?5 "
			     "WHERE pull_run_id = ?1 AND resource = ?2 AND scope = ?3", &st, e)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, c->pull_run_id);
	sqlite3_bind_text(st, 2, c->resource, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, c->scope, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, at);
	sqlite3_bind_text(st, 5, now, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_fail(db, e, "stripe_pull_cursors");
	return 0;
}

int db_snapshot_cursors_each(struct db *db, long long pull_run_id,
			     int (*fn)(const struct db_snapshot_cursor *c, void *arg), void *arg,
			     struct err *e)
{
	struct db_snapshot_cursor c;
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_prepare(db, "SELECT " CURSOR_COLS " FROM stripe_pull_cursors "
			     "WHERE pull_run_id = ?1 ORDER BY resource, scope", &st, e)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, pull_run_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&c, 0, sizeof c);
		cursor_load(st, &c);
		if (fn(&c, arg) != 0)
			break;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(db, e, "stripe_pull_cursors");
	return 0;
}

/* Advance c with page p (NULL: no rows). */
static int cursor_advance(struct writer *w, struct db_snapshot_cursor *c,
			  const struct stripe_page *p)
{
	sqlite3_stmt *st;
	int rc;

	if (!w->s->cursor &&
	    (rc = db_prepare(w->db, "UPDATE stripe_pull_cursors SET starting_after = "
			     "coalesce(?4, starting_after), done = ?5, pages = pages + 1, "
			     "objects = objects + ?6, updated_at = ?7 WHERE pull_run_id = ?1 "
			     "AND resource = ?2 AND scope = ?3", &w->s->cursor, w->e)) != 0)
		return rc;
	st = w->s->cursor;
	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, c->pull_run_id);
	sqlite3_bind_text(st, 2, c->resource, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, c->scope, -1, SQLITE_STATIC);
	bind_val(st, 4, sv_text(p ? p->last_id : NULL));
	sqlite3_bind_int(st, 5, p ? !p->has_more : 1);
	sqlite3_bind_int64(st, 6, p ? (long long)p->count : 0);
	sqlite3_bind_text(st, 7, w->pulled_at, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return db_fail(w->db, w->e, "stripe_pull_cursors");
	if (sqlite3_changes(w->db->h) != 1)
		return err_set(w->e, EXIT_SOFTWARE, "snapshot: cursor %s%s%s of pull run %lld "
			       "is not open", c->resource, c->scope[0] ? "/" : "", c->scope,
			       c->pull_run_id);
	return 0;
}

static int save_events_cursor(struct writer *w, const struct db_snapshot_events_cursor *ec)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_prepare(w->db, "INSERT INTO stripe_sync_state (resource, events_created, "
			     "events_id, updated_at) VALUES ('events', ?1, ?2, ?3) "
			     "ON CONFLICT (resource) DO UPDATE SET events_created = excluded.events_created, "
			     "events_id = excluded.events_id, updated_at = excluded.updated_at",
			     &st, w->e)) != 0)
		return rc;
	if (ec->set) {
		sqlite3_bind_int64(st, 1, ec->created);
		sqlite3_bind_text(st, 2, ec->id, -1, SQLITE_STATIC);
	}
	sqlite3_bind_text(st, 3, w->pulled_at, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_fail(w->db, w->e, "stripe_sync_state");
}

static int mark_processed(struct writer *w, const char *const *ids, size_t n)
{
	sqlite3_stmt *st;
	size_t i;
	int rc;

	if ((rc = db_prepare(w->db, "UPDATE stripe_events SET processed = 1, processed_at = ?2 "
			     "WHERE id = ?1 AND processed = 0", &st, w->e)) != 0)
		return rc;
	for (i = 0; i < n; i++) {
		sqlite3_reset(st);
		bind_val(st, 1, sv_text(ids[i]));
		sqlite3_bind_text(st, 2, w->pulled_at, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			rc = db_fail(w->db, w->e, "stripe_events");
			break;
		}
		w->n->events_processed += sqlite3_changes(w->db->h);
	}
	sqlite3_finalize(st);
	return rc;
}

/*
 * The loose objects of a commit (event snapshots): upserted one by one,
 * each under its own Stripe-Version when given, and the pending events of
 * each marked processed.
 */
static int w_objects(struct writer *w, const struct db_snapshot_commit *c)
{
	const char *version = w->version;
	size_t i;
	int rc = 0;

	for (i = 0; i < c->nobjects && rc == 0; i++) {
		const struct stripe_row *r = c->objects[i];
		int t = kind_table(r->kind);
		enum outcome o;

		if (t < 0 || r->kind == STRIPE_EVENT || stripe_kind_parent(r->kind) != STRIPE_NONE) {
			rc = err_set(w->e, EXIT_SOFTWARE, "snapshot: a loose %s object",
				     stripe_kind_resource(r->kind));
			break;
		}
		w->version = c->object_versions && c->object_versions[i] ?
			     c->object_versions[i] : version;
		if (r->deleted)
			rc = tb_tombstones(t) ? w_tombstone(w, t, r->id, r, w->pulled_at) : 0;
		else if ((rc = w_object(w, r, &o)) == 0)
			count_outcome(w, o);
		if (rc == 0 && !c->objects_keep_pending)
			rc = w_events_of(w, r->id);
	}
	w->version = version;
	return rc;
}

/* Mark the pending events of each object id processed. */
static int mark_objects(struct writer *w, const char *const *ids, size_t n)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < n && rc == 0; i++)
		rc = w_events_of(w, ids[i]);
	return rc;
}

/* --- deferred indexes (007_pull_bulk.sql) ------------------------------------------ */

/* The tables of kind whose secondary indexes go together: its own and its child's. */
static int index_tables(enum stripe_kind kind, const char **a, const char **b)
{
	int t = kind_table(kind), c = kind_child_table(kind);

	if (!tb_tombstones(t))
		return -1;
	*a = tables[t].name;
	*b = c >= 0 ? tables[c].name : tables[t].name;
	return 0;
}

/* Run each of the SQL statements step by step; 0 or the failure. */
static int exec_listed(struct db *db, char **sql, size_t n, struct err *e)
{
	size_t i;
	int rc;

	for (i = 0; i < n; i++)
		if ((rc = db_exec(db, sql[i], e)) != 0)
			return rc;
	return 0;
}

static void free_listed(char **sql, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		sqlite3_free(sql[i]);
	free(sql);
}

/*
 * Column 0 of each row of st, as SQL built by fmt from it (sqlite3_mprintf,
 * so an identifier is quoted with %w): *out (n entries) to free_listed.
 */
static int collect_sql(struct db *db, sqlite3_stmt *st, const char *fmt, char ***out,
		       size_t *n, struct err *e)
{
	char **v = NULL, **nv;
	size_t cap = 0;
	int rc;

	*n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char *one = sqlite3_mprintf(fmt, (const char *)sqlite3_column_text(st, 0));

		if (*n == cap) {
			cap = cap ? 2 * cap : 32;
			if (!(nv = realloc(v, cap * sizeof *v))) {
				sqlite3_free(one);
				one = NULL;
			} else {
				v = nv;
			}
		}
		if (!one) {
			free_listed(v, *n);
			return err_set(e, EXIT_SOFTWARE, "out of memory");
		}
		v[(*n)++] = one;
	}
	if (rc != SQLITE_DONE) {
		free_listed(v, *n);
		return db_fail(db, e, "sqlite_master");
	}
	*out = v;
	return 0;
}

/* sql prepared with ?1 = a and ?2 = b. */
static int prep_pair(struct db *db, const char *sql, const char *a, const char *b,
		     sqlite3_stmt **st, struct err *e)
{
	int rc;

	if ((rc = db_prepare(db, sql, st, e)) != 0)
		return rc;
	sqlite3_bind_text(*st, 1, a, -1, SQLITE_STATIC);
	sqlite3_bind_text(*st, 2, b, -1, SQLITE_STATIC);
	return 0;
}

/* sql with ?1 = a and ?2 = b, run to its end. */
static int run_pair(struct db *db, const char *sql, const char *a, const char *b,
		    const char *what, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prep_pair(db, sql, a, b, &st, e)) != 0)
		return rc;
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_fail(db, e, what);
}

/* The rows of sql (?1 = a, ?2 = b) as statements built by fmt (collect_sql). */
static int list_pair(struct db *db, const char *sql, const char *a, const char *b,
		     const char *fmt, char ***out, size_t *n, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = prep_pair(db, sql, a, b, &st, e)) != 0)
		return rc;
	rc = collect_sql(db, st, fmt, out, n, e);
	sqlite3_finalize(st);
	return rc;
}

/* Defer the indexes of kind's tables when both are empty; in the open transaction. */
static int defer_in_tx(struct db *db, enum stripe_kind kind, int *deferred, struct err *e)
{
	const char *a, *b;
	sqlite3_stmt *st = NULL;
	struct sqlbuf q = { .len = 0 };
	char **drops = NULL;
	size_t n = 0;
	int rc, empty;

	*deferred = 0;
	if (index_tables(kind, &a, &b) != 0)
		return err_set(e, EXIT_SOFTWARE, "snapshot: %s has no tables to index",
			       stripe_kind_resource(kind));
	sb_add(&q, "SELECT NOT EXISTS (SELECT 1 FROM %s) AND NOT EXISTS (SELECT 1 FROM %s)", a, b);
	if ((rc = sb_prepare(db, &q, &st, e)) != 0)
		return rc;
	rc = sqlite3_step(st);
	empty = rc == SQLITE_ROW && sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return db_fail(db, e, a);
	if (!empty)
		return 0;
	if ((rc = run_pair(db, "INSERT INTO stripe_deferred_indexes (name, tbl, sql) "
			   "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' "
			   "AND sql IS NOT NULL AND tbl_name IN (?1, ?2) "
			   "ON CONFLICT (name) DO NOTHING", a, b, "stripe_deferred_indexes", e)) != 0 ||
	    (rc = list_pair(db, "SELECT name FROM sqlite_master WHERE type = 'index' AND "
			    "sql IS NOT NULL AND tbl_name IN (?1, ?2)", a, b, "DROP INDEX \"%w\"",
			    &drops, &n, e)) != 0)
		return rc;
	if ((rc = exec_listed(db, drops, n, e)) == 0)
		*deferred = (int)n;
	free_listed(drops, n);
	return rc;
}

/* exec_listed with a 2 MiB page cache, the connection's own again after. */
static int exec_small_cache(struct db *db, char **sql, size_t n, struct err *e)
{
	struct err ce = { 0 };
	sqlite3_stmt *st;
	char set[64];
	long long old;
	int rc;

	if ((rc = db_prepare(db, "PRAGMA cache_size", &st, e)) != 0)
		return rc;
	rc = sqlite3_step(st);
	old = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return db_fail(db, e, "cache_size");
	if ((rc = db_exec(db, "PRAGMA cache_size = -2048", e)) != 0)
		return rc;
	rc = exec_listed(db, sql, n, e);
	snprintf(set, sizeof set, "PRAGMA cache_size = %lld", old);
	if (db_exec(db, set, &ce) != 0 && rc == 0) {
		*e = ce;
		rc = ce.code;
	}
	return rc;
}

/*
 * Build the deferred indexes of kind (STRIPE_NONE: all), at most max of
 * them (0: all); *more (may be NULL) says whether some are left.  In the
 * open transaction.
 */
static int restore_in_tx(struct db *db, enum stripe_kind kind, size_t max, int *more,
			 struct err *e)
{
	const char *a = "", *b = "";
	char **creates = NULL;
	size_t n = 0, k;
	int rc;

	if (kind != STRIPE_NONE && index_tables(kind, &a, &b) != 0)
		return err_set(e, EXIT_SOFTWARE, "snapshot: %s has no tables to index",
			       stripe_kind_resource(kind));
	if ((rc = list_pair(db, "SELECT sql FROM stripe_deferred_indexes WHERE ?1 = '' OR "
			    "tbl IN (?1, ?2) ORDER BY name", a, b, "%s", &creates, &n, e)) != 0)
		return rc;
	k = max > 0 && max < n ? max : n;
	if (more)
		*more = k < n;
	/* the sort of each CREATE INDEX keeps up to a page cache's worth in
	 * memory: a small cache while building keeps the pull's memory flat */
	if (k > 0)
		rc = exec_small_cache(db, creates, k, e);
	free_listed(creates, n);
	if (rc != 0 || k == 0)
		return rc;
	return run_pair(db, "DELETE FROM stripe_deferred_indexes WHERE (?1 = '' OR tbl IN (?1, ?2)) "
			"AND name IN (SELECT name FROM sqlite_master WHERE type = 'index')",
			a, b, "stripe_deferred_indexes", e);
}

int db_snapshot_indexes_deferred(struct db *db, int *any, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	*any = 0;
	if ((rc = db_prepare(db, "SELECT EXISTS (SELECT 1 FROM stripe_deferred_indexes)",
			     &st, e)) != 0)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*any = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : db_fail(db, e, "stripe_deferred_indexes");
}

int db_snapshot_defer_indexes(struct db *db, enum stripe_kind kind, int *deferred,
			      struct err *e)
{
	int rc;

	*deferred = 0;
	if ((rc = db_tx_begin(db, e)) != 0)
		return rc;
	if ((rc = defer_in_tx(db, kind, deferred, e)) != 0) {
		db_tx_rollback(db);
		*deferred = 0;
		return rc;
	}
	return db_tx_commit(db, e);
}

int db_snapshot_restore_indexes(struct db *db, enum stripe_kind kind, struct err *e)
{
	int rc;

	if ((rc = db_tx_begin(db, e)) != 0)
		return rc;
	if ((rc = restore_in_tx(db, kind, 0, NULL, e)) != 0) {
		db_tx_rollback(db);
		return rc;
	}
	return db_tx_commit(db, e);
}

/* --- commit groups ------------------------------------------------------------ */

#define CKPT_FRAMES 2048           /* WAL frames that wake the checkpointer (32 MiB of 16 KiB pages) */
#define CKPT_RESTART_FRAMES 16384  /* the WAL's bound: 256 MiB of 16 KiB pages */

/*
 * The checkpointer of a group: a thread with a connection of its own that
 * copies the WAL back into the database (PASSIVE: it never blocks the
 * writer) whenever a flush leaves `wake` frames or more in the WAL.  Without
 * it the writer's own commits would do that work, fsyncs included, between
 * two pages of the pull.
 *
 * A passive checkpoint running beside a busy writer never catches up: the
 * writer appends while it copies, so the WAL is never wholly copied, and
 * SQLite starts it over from the beginning only when it is.  It grew to the
 * size of the whole pull (750 MB for 200k objects, a second copy of the
 * database on disk).  So once it holds `restart` frames the writer itself
 * checkpoints after its commit: most frames are copied already, nothing is
 * appended meanwhile, and its next transaction starts the WAL over.  The
 * two threads take turns (`one`): SQLite answers a checkpoint that finds
 * another running with SQLITE_BUSY at once, and a writer that kept meeting
 * the checkpointer's let the WAL grow past the bound.
 */
struct ckpt {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_mutex_t one;       /* held by whichever thread checkpoints */
	pthread_cond_t cv;
	sqlite3 *h;
	int running, want, stop;
	int wake, restart;         /* thresholds in frames */
};

/* A commit (or a cursor to open) waiting for the writer thread. */
struct wjob {
	struct wjob *next;
	struct stripe_page *page;            /* owned */
	size_t bytes;                        /* stripe_page_bytes(page) */
	char version[64];
	struct db_snapshot_cursor cur;
	struct db_snapshot_cursor *curs;     /* open_cursor: these ncurs (owned), else cur */
	size_t ncurs;
	int has_cursor, open_cursor, mark_events, has_events_cursor;
	int split;                           /* split cur at split_at (split_scope below) */
	long long split_at;
	char split_scope[DB_SNAPSHOT_ID_MAX];
	int restore;                         /* build the deferred indexes of kind */
	int one, more;                       /* only one of them; some are left */
	int relist;                          /* finish kind's relist first (run, epoch) */
	enum stripe_kind kind;
	long long run, epoch;
	struct db_snapshot_events_cursor ev;
	int sink;
	const char *what;
};

/*
 * The writer thread of a group.  mu guards everything below it; the
 * group's transaction state (open, commits, st) belongs to the thread
 * while it is busy or has jobs, and to the caller once flush has seen the
 * queue empty and the thread idle.
 */
struct wthread {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t work;       /* jobs queued, flush or stop */
	pthread_cond_t room;       /* a job taken, or the thread idle */
	int running;
	struct wjob *head, *tail;
	size_t queued, queued_bytes;
	int long_job;              /* ending a relist, or catching up after one */
	int busy, stop, flush, failed;
	struct err err;            /* the first failure */
	struct db_snapshot_counts sinks[DB_SNAPSHOT_SINKS];
};

struct db_snapshot_group {
	struct db *db;
	int open;                  /* its transaction is open */
	size_t commits;            /* commits in the open transaction */
	struct timespec opened;    /* when it opened */
	struct snap_stmts st;      /* kept between commits */
	long long run;             /* the run whose mode is known (0: none) */
	int run_full;
	int bulk;                  /* in a rollback journal (db_snapshot_group_bulk) */
	struct ckpt ck;
	struct wthread w;
};

/* Name the calling thread (top -H, perf, gdb); Linux only, best effort. */
static void thread_name(const char *name)
{
#ifdef __linux__
	prctl(PR_SET_NAME, name, 0, 0, 0);
#else
	(void)name;
#endif
}

static void *ckpt_main(void *arg)
{
	struct ckpt *k = arg;

	thread_name("trueup-ckpt");

	for (;;) {
		pthread_mutex_lock(&k->mu);
		while (!k->want && !k->stop)
			pthread_cond_wait(&k->cv, &k->mu);
		if (k->stop) {
			pthread_mutex_unlock(&k->mu);
			return NULL;
		}
		k->want = 0;
		pthread_mutex_unlock(&k->mu);
		/* failures (busy, I/O) leave the frames for the next round */
		pthread_mutex_lock(&k->one);
		sqlite3_wal_checkpoint_v2(k->h, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		pthread_mutex_unlock(&k->one);
	}
}

/* The writer's WAL hook: after each commit, with the frames in the WAL. */
static int ckpt_hook(void *arg, sqlite3 *h, const char *name, int frames)
{
	struct ckpt *k = arg;

	(void)name;
	if (frames >= k->restart) {
		/* after the checkpointer's round, if it is in one; busy (another
		 * process checkpoints): again after the next commit */
		pthread_mutex_lock(&k->one);
		sqlite3_wal_checkpoint_v2(h, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		pthread_mutex_unlock(&k->one);
		return SQLITE_OK;
	}
	if (frames >= k->wake) {
		pthread_mutex_lock(&k->mu);
		k->want = 1;
		pthread_cond_signal(&k->cv);
		pthread_mutex_unlock(&k->mu);
	}
	return SQLITE_OK;
}

/* Start the checkpointer; when it cannot start, the writer checkpoints as before. */
static void ckpt_start(struct db_snapshot_group *g)
{
	struct ckpt *k = &g->ck;

	k->wake = CKPT_FRAMES;
	k->restart = CKPT_RESTART_FRAMES;
	if (!g->db->path || sqlite3_open_v2(g->db->path, &k->h, SQLITE_OPEN_READWRITE |
					    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		sqlite3_close(k->h);
		k->h = NULL;
		return;
	}
	/* a connection knows the database is in WAL mode once it has read it */
	if (sqlite3_exec(k->h, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL) != SQLITE_OK ||
	    pthread_mutex_init(&k->mu, NULL) != 0)
		goto fail;
	if (pthread_mutex_init(&k->one, NULL) != 0) {
		pthread_mutex_destroy(&k->mu);
		goto fail;
	}
	if (pthread_cond_init(&k->cv, NULL) != 0) {
		pthread_mutex_destroy(&k->one);
		pthread_mutex_destroy(&k->mu);
		goto fail;
	}
	if (pthread_create(&k->th, NULL, ckpt_main, k) != 0) {
		pthread_cond_destroy(&k->cv);
		pthread_mutex_destroy(&k->one);
		pthread_mutex_destroy(&k->mu);
		goto fail;
	}
	k->running = 1;
	sqlite3_wal_hook(g->db->h, ckpt_hook, k);   /* replaces the autocheckpoint */
	return;
fail:
	sqlite3_close(k->h);
	k->h = NULL;
}

static void ckpt_stop(struct db_snapshot_group *g)
{
	struct ckpt *k = &g->ck;

	if (!k->running)
		return;
	sqlite3_wal_autocheckpoint(g->db->h, CKPT_FRAMES);   /* the default hook again */
	pthread_mutex_lock(&k->mu);
	k->stop = 1;
	pthread_cond_signal(&k->cv);
	pthread_mutex_unlock(&k->mu);
	pthread_join(k->th, NULL);
	pthread_cond_destroy(&k->cv);
	pthread_mutex_destroy(&k->one);
	pthread_mutex_destroy(&k->mu);
	sqlite3_close(k->h);
	memset(k, 0, sizeof *k);
}

/* Set the journal mode of db's connection; *got = the mode it is in after. */
static int journal_mode(struct db *db, const char *mode, char *got, size_t n, struct err *e)
{
	sqlite3_stmt *st;
	char sql[48];
	int rc;

	snprintf(sql, sizeof sql, "PRAGMA journal_mode = %s", mode);
	if ((rc = db_prepare(db, sql, &st, e)) != 0)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		snprintf(got, n, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : db_fail(db, e, "journal");
}

int db_snapshot_group_bulk(struct db_snapshot_group *g, int *on, struct err *e)
{
	char mode[16] = "";
	struct err je = { 0 };
	int rc, busy, wake = g->ck.wake, restart = g->ck.restart;

	*on = g->bulk;
	if (g->bulk)
		return 0;
	if (g->open || g->db->in_tx || g->w.head || g->w.busy)
		return err_set(e, EXIT_SOFTWARE, "snapshot: a bulk load must start with "
			       "nothing pending");
	ckpt_stop(g);           /* its connection alone would keep the WAL */
	rc = journal_mode(g->db, "TRUNCATE", mode, sizeof mode, &je);
	busy = rc != 0 && (sqlite3_errcode(g->db->h) & 0xff) == SQLITE_BUSY;
	if (rc == 0 && strcmp(mode, "truncate") == 0) {
		if ((rc = db_exec(g->db, "PRAGMA synchronous = FULL", &je)) == 0) {
			g->bulk = *on = 1;
			return 0;
		}
		journal_mode(g->db, "WAL", mode, sizeof mode, &je);
	}
	ckpt_start(g);
	if (wake > 0) {
		g->ck.wake = wake;
		g->ck.restart = restart;
	}
	/* busy, or the mode unchanged: another connection has the database
	 * open, and the pull goes on in WAL */
	if (rc == 0 || busy)
		return 0;
	*e = je;
	return rc;
}

/* The end of a bulk load: WAL again (or at the next open, when that fails). */
static void bulk_end(struct db_snapshot_group *g)
{
	char mode[16];
	struct err je = { 0 };

	if (!g->bulk)
		return;
	g->bulk = 0;
	if (journal_mode(g->db, "WAL", mode, sizeof mode, &je) == 0 && strcmp(mode, "wal") == 0)
		db_exec(g->db, "PRAGMA synchronous = NORMAL", &je);
}

void db_snapshot_group_set_wal_limit(struct db_snapshot_group *g, int frames)
{
	if (frames < 4)
		frames = 4;
	g->ck.restart = frames;
	g->ck.wake = frames / 4;
}

int db_snapshot_group_new(struct db *db, struct db_snapshot_group **out, struct err *e)
{
	struct db_snapshot_group *g;
	int rc;

	/*
	 * temp_store stays FILE: the sorts that build deferred indexes
	 * (restore_in_tx) are as large as the account, and spill to temporary
	 * files, which with MEMORY made the pull's memory grow with it.
	 */
	(void)rc;
	if (!(g = calloc(1, sizeof *g)))
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	if (pthread_mutex_init(&g->w.mu, NULL) != 0) {
		free(g);
		return err_set(e, EXIT_SOFTWARE, "snapshot: cannot create a mutex");
	}
	if (pthread_cond_init(&g->w.work, NULL) != 0) {
		pthread_mutex_destroy(&g->w.mu);
		free(g);
		return err_set(e, EXIT_SOFTWARE, "snapshot: cannot create a condition variable");
	}
	if (pthread_cond_init(&g->w.room, NULL) != 0) {
		pthread_cond_destroy(&g->w.work);
		pthread_mutex_destroy(&g->w.mu);
		free(g);
		return err_set(e, EXIT_SOFTWARE, "snapshot: cannot create a condition variable");
	}
	g->db = db;
	ckpt_start(g);
	*out = g;
	return 0;
}

size_t db_snapshot_group_pending(const struct db_snapshot_group *g)
{
	return g && g->open ? g->commits : 0;
}

static double secs_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

/* Commit g's open transaction (on the thread that owns it). */
static int group_commit(struct db_snapshot_group *g, struct err *e)
{
	if (!g->open)
		return 0;
	g->open = 0;
	g->commits = 0;
	return db_tx_commit(g->db, e);
}

/* The open transaction holds enough commits, or is old enough, to commit. */
static int group_due(const struct db_snapshot_group *g)
{
	return g->open && (g->commits >= DB_SNAPSHOT_GROUP_COMMITS ||
			   secs_since(&g->opened) >= DB_SNAPSHOT_GROUP_SEC);
}

static void counts_add(struct db_snapshot_counts *to, const struct db_snapshot_counts *n)
{
	to->inserted += n->inserted;
	to->updated += n->updated;
	to->unchanged += n->unchanged;
	to->tombstoned += n->tombstoned;
	to->children_written += n->children_written;
	to->children_deleted += n->children_deleted;
	to->events_new += n->events_new;
	to->events_known += n->events_known;
	to->events_processed += n->events_processed;
}

static void wjob_free(struct wjob *j)
{
	stripe_page_free(j->page);
	free(j->curs);
	free(j);
}

static int commit_begin(struct db *db, struct db_snapshot_group *g, struct err *e);
static int relist_finish_in_tx(struct db *db, long long pull_run_id, enum stripe_kind kind,
			       long long relist_epoch, long long *tombstoned, struct err *e);

/* Run j in g's transaction (opened when needed); the commit policy is the caller's. */
static int wjob_run(struct db_snapshot_group *g, struct wjob *j, struct db_snapshot_counts *n,
		    struct err *e)
{
	struct db_snapshot_commit cm;
	int rc;

	if (j->open_cursor || j->split || j->restore) {
		if ((rc = commit_begin(g->db, g, e)) != 0)
			return rc;
		if (j->open_cursor && j->ncurs) {
			size_t i;

			for (i = 0, rc = 0; i < j->ncurs && rc == 0; i++)
				rc = cursor_open_in(g->db, &g->st, &j->curs[i], e);
		} else if (j->open_cursor) {
			rc = cursor_open_in(g->db, &g->st, &j->cur, e);
		} else if (j->split)
			rc = db_snapshot_cursor_split(g->db, &j->cur, j->split_scope, j->split_at, e);
		else if ((rc = j->relist ? relist_finish_in_tx(g->db, j->run, j->kind, j->epoch,
							       &n->tombstoned, e) : 0) == 0) {
			j->relist = 0;
			rc = restore_in_tx(g->db, j->kind, j->one, &j->more, e);
		}
		if (rc != 0) {
			db_tx_rollback(g->db);
			g->open = 0;
			g->commits = 0;
		}
		return rc;
	}
	memset(&cm, 0, sizeof cm);
	cm.page = j->page;
	cm.stripe_version = j->version[0] ? j->version : NULL;
	cm.cursor = j->has_cursor ? &j->cur : NULL;
	cm.mark_events = j->mark_events;
	cm.events_cursor = j->has_events_cursor ? &j->ev : NULL;
	cm.group = g;
	return db_snapshot_commit(g->db, &cm, n, e);
}

/* Put j at the end of w's queue; under w->mu. */
static void queue_append(struct wthread *w, struct wjob *j)
{
	j->next = NULL;
	if (w->tail)
		w->tail->next = j;
	else
		w->head = j;
	w->tail = j;
	w->queued++;
	w->queued_bytes += j->bytes;
}

/* The writer thread: jobs in order, the group's commits, flushes on request. */
static void *writer_main(void *arg)
{
	struct db_snapshot_group *g = arg;
	struct wthread *w = &g->w;
	struct db_snapshot_counts n;
	struct err e;
	struct wjob *j;
	int rc, sink;

	thread_name("trueup-writer");

	pthread_mutex_lock(&w->mu);
	for (;;) {
		if (w->stop)
			break;
		if (w->head) {
			j = w->head;
			if (!(w->head = j->next))
				w->tail = NULL;
			w->queued--;
			w->queued_bytes -= j->bytes;
			if (j->restore || j->relist)
				w->long_job = 1;
			else if (w->queued < DB_SNAPSHOT_QUEUE_MAX)
				w->long_job = 0;
			w->busy = 1;
			pthread_cond_broadcast(&w->room);
			pthread_mutex_unlock(&w->mu);
			memset(&n, 0, sizeof n);
			memset(&e, 0, sizeof e);
			rc = 0;
			/* one index build per turn: the pages queued meanwhile go between */
			j->one = j->restore;
			j->more = 0;
			if (!w->failed) {   /* only this thread sets it while running */
				rc = wjob_run(g, j, &n, &e);
				if (rc == 0 && group_due(g))
					rc = group_commit(g, &e);
				if (rc != 0 && j->what[0])
					err_prefix(&e, "%s", j->what);
			}
			sink = j->sink;
			if (rc != 0 || !j->more) {
				wjob_free(j);
				j = NULL;
			}
			pthread_mutex_lock(&w->mu);
			w->busy = 0;
			if (j)              /* the rest of its builds after what is queued now */
				queue_append(w, j);
			if (rc != 0) {
				w->failed = 1;
				w->err = e;
			} else {
				counts_add(&w->sinks[sink], &n);
			}
			pthread_cond_broadcast(&w->room);
			continue;
		}
		if (w->flush || (g->open && secs_since(&g->opened) >= DB_SNAPSHOT_GROUP_SEC)) {
			w->flush = 0;
			w->busy = 1;
			pthread_mutex_unlock(&w->mu);
			memset(&e, 0, sizeof e);
			rc = w->failed ? 0 : group_commit(g, &e);
			pthread_mutex_lock(&w->mu);
			w->busy = 0;
			if (rc != 0) {
				w->failed = 1;
				w->err = e;
			}
			pthread_cond_broadcast(&w->room);
			continue;
		}
		if (g->open) {       /* wake when the open transaction is due */
			struct timespec at;
			double due = DB_SNAPSHOT_GROUP_SEC - secs_since(&g->opened);

			clock_gettime(CLOCK_REALTIME, &at);
			at.tv_sec += (time_t)due;
			at.tv_nsec += (long)((due - (double)(time_t)due) * 1e9) + 1000000;
			if (at.tv_nsec >= 1000000000L) {
				at.tv_sec++;
				at.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&w->work, &w->mu, &at);
		} else {
			pthread_cond_wait(&w->work, &w->mu);
		}
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int db_snapshot_group_start_writer(struct db_snapshot_group *g, struct err *e)
{
	(void)e;
	if (!g || g->w.running)
		return 0;
	if (g->open)
		return err_set(e, EXIT_SOFTWARE, "snapshot: start the writer before the first commit");
	if (pthread_create(&g->w.th, NULL, writer_main, g) == 0)
		g->w.running = 1;
	return 0;
}

/* Queue j (or, without a writer, run it now); j is g's. */
/* Whether w's queue takes a job of bytes more (the rule in db_snapshot.h); under w->mu. */
static int has_room(const struct wthread *w, size_t bytes)
{
	if (w->queued < DB_SNAPSHOT_QUEUE_MAX)
		return 1;
	return w->long_job && w->queued_bytes + bytes <= DB_SNAPSHOT_QUEUE_LONG_BYTES;
}

static int enqueue(struct db_snapshot_group *g, struct wjob *j, struct err *e)
{
	struct wthread *w = &g->w;
	int rc;

	if (!w->running) {
		struct db_snapshot_counts n = { 0 };

		rc = wjob_run(g, j, &n, e);
		if (rc == 0 && g->commits >= DB_SNAPSHOT_GROUP_COMMITS)
			rc = group_commit(g, e);
		if (rc != 0 && j->what[0])
			err_prefix(e, "%s", j->what);
		else
			counts_add(&w->sinks[j->sink], &n);
		wjob_free(j);
		return rc;
	}
	pthread_mutex_lock(&w->mu);
	while (!has_room(w, j->bytes) && !w->failed)
		pthread_cond_wait(&w->room, &w->mu);
	if (w->failed) {
		*e = w->err;
		pthread_mutex_unlock(&w->mu);
		wjob_free(j);
		return e->code ? e->code : EXIT_SOFTWARE;
	}
	queue_append(w, j);
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->mu);
	return 0;
}

static void cursor_after(struct db_snapshot_cursor *cur, const struct stripe_page *page,
			 const char *now)
{
	if (page && page->last_id)
		snprintf(cur->starting_after, sizeof cur->starting_after, "%s", page->last_id);
	cur->done = page ? !page->has_more : 1;
	cur->pages++;
	cur->objects += page ? (long long)page->count : 0;
	snprintf(cur->updated_at, sizeof cur->updated_at, "%s", now);
}

int db_snapshot_group_submit(struct db_snapshot_group *g, struct db_snapshot_commit *c,
			     struct stripe_page **page, int sink, const char *what, struct err *e)
{
	struct stripe_page *pg = page ? *page : NULL;
	struct wjob *j;
	char now[32];

	if (page)
		*page = NULL;
	if (!g || c->page != pg || c->objects || c->nobjects || c->processed_events ||
	    c->nprocessed_events || c->processed_objects || c->nprocessed_objects || c->pulled_at ||
	    (c->group && c->group != g) || sink < 0 || sink >= DB_SNAPSHOT_SINKS) {
		stripe_page_free(pg);
		return err_set(e, EXIT_SOFTWARE, "snapshot: a commit the writer cannot take");
	}
	if (c->cursor && pg && strcmp(c->cursor->resource, stripe_kind_resource(pg->kind)) != 0) {
		stripe_page_free(pg);
		return err_set(e, EXIT_SOFTWARE, "snapshot: a %s page on a %s cursor",
			       stripe_kind_resource(pg->kind), c->cursor->resource);
	}
	if (!(j = calloc(1, sizeof *j))) {
		stripe_page_free(pg);
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	}
	j->page = pg;
	j->bytes = stripe_page_bytes(pg);
	if (c->stripe_version)
		snprintf(j->version, sizeof j->version, "%s", c->stripe_version);
	if (c->cursor) {
		j->has_cursor = 1;
		j->cur = *c->cursor;
		db_now(now, sizeof now);
		cursor_after(c->cursor, pg, now);
	}
	j->mark_events = c->mark_events;
	if (c->events_cursor) {
		j->has_events_cursor = 1;
		j->ev = *c->events_cursor;
	}
	j->sink = sink;
	j->what = what ? what : "";
	return enqueue(g, j, e);
}

int db_snapshot_group_submit_cursor(struct db_snapshot_group *g,
				    const struct db_snapshot_cursor *c, const char *what,
				    struct err *e)
{
	struct wjob *j;

	if (!g)
		return err_set(e, EXIT_SOFTWARE, "snapshot: no commit group");
	if (!(j = calloc(1, sizeof *j)))
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	j->open_cursor = 1;
	j->cur = *c;
	j->what = what ? what : "";
	return enqueue(g, j, e);
}

int db_snapshot_group_submit_cursors(struct db_snapshot_group *g,
				     const struct db_snapshot_cursor *cs, size_t n,
				     const char *what, struct err *e)
{
	struct wjob *j;

	if (!g)
		return err_set(e, EXIT_SOFTWARE, "snapshot: no commit group");
	if (n == 0)
		return 0;
	if (!(j = calloc(1, sizeof *j)) || !(j->curs = malloc(n * sizeof *cs))) {
		free(j);
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	}
	memcpy(j->curs, cs, n * sizeof *cs);
	j->ncurs = n;
	j->open_cursor = 1;
	j->what = what ? what : "";
	return enqueue(g, j, e);
}

int db_snapshot_group_submit_split(struct db_snapshot_group *g,
				   const struct db_snapshot_cursor *c, const char *scope,
				   long long at, const char *what, struct err *e)
{
	struct wjob *j;

	if (!g)
		return err_set(e, EXIT_SOFTWARE, "snapshot: no commit group");
	if (!scope || strlen(scope) >= sizeof j->split_scope)
		return err_set(e, EXIT_SOFTWARE, "snapshot: no valid scope for a split cursor");
	if (!(j = calloc(1, sizeof *j)))
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	j->split = 1;
	j->cur = *c;
	j->split_at = at;
	snprintf(j->split_scope, sizeof j->split_scope, "%s", scope);
	j->what = what ? what : "";
	return enqueue(g, j, e);
}

int db_snapshot_group_submit_finish(struct db_snapshot_group *g, long long pull_run_id,
				    enum stripe_kind kind, long long relist_epoch, int sink,
				    const char *what, struct err *e)
{
	struct wjob *j;

	if (!g || sink < 0 || sink >= DB_SNAPSHOT_SINKS)
		return err_set(e, EXIT_SOFTWARE, "snapshot: a relist end the writer cannot take");
	if (!(j = calloc(1, sizeof *j)))
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	j->restore = 1;
	j->relist = 1;
	j->kind = kind;
	j->run = pull_run_id;
	j->epoch = relist_epoch;
	j->sink = sink;
	j->what = what ? what : "";
	return enqueue(g, j, e);
}

void db_snapshot_group_take(struct db_snapshot_group *g, int sink,
			    struct db_snapshot_counts *out)
{
	if (!g || sink < 0 || sink >= DB_SNAPSHOT_SINKS)
		return;
	pthread_mutex_lock(&g->w.mu);
	counts_add(out, &g->w.sinks[sink]);
	memset(&g->w.sinks[sink], 0, sizeof g->w.sinks[sink]);
	pthread_mutex_unlock(&g->w.mu);
}

void db_snapshot_group_nudge(struct db_snapshot_group *g)
{
	struct err e = { 0 };

	if (!g || g->w.running)
		return;
	/* without a writer: a failure is reported by the next submit or flush */
	if (!g->w.failed && group_due(g) && group_commit(g, &e) != 0) {
		g->w.failed = 1;
		g->w.err = e;
	}
	/* a writer thread commits a due transaction by itself */
}

int db_snapshot_group_flush(struct db_snapshot_group *g, struct err *e)
{
	struct wthread *w;
	int rc;

	if (!g)
		return 0;
	w = &g->w;
	if (!w->running) {
		if (w->failed) {
			*e = w->err;
			return e->code ? e->code : EXIT_SOFTWARE;
		}
		return group_commit(g, e);
	}
	pthread_mutex_lock(&w->mu);
	w->flush = 1;
	pthread_cond_signal(&w->work);
	while ((w->head || w->busy || w->flush) && !w->failed)
		pthread_cond_wait(&w->room, &w->mu);
	/* a failure: wait for the thread to be idle all the same */
	while (w->busy)
		pthread_cond_wait(&w->room, &w->mu);
	rc = 0;
	if (w->failed) {
		*e = w->err;
		rc = e->code ? e->code : EXIT_SOFTWARE;
	}
	pthread_mutex_unlock(&w->mu);
	return rc;
}

void db_snapshot_group_free(struct db_snapshot_group *g)
{
	struct wjob *j;

	if (!g)
		return;
	if (g->w.running) {
		pthread_mutex_lock(&g->w.mu);
		g->w.stop = 1;
		pthread_cond_signal(&g->w.work);
		pthread_mutex_unlock(&g->w.mu);
		pthread_join(g->w.th, NULL);
		g->w.running = 0;
	}
	while ((j = g->w.head)) {        /* not flushed: dropped */
		g->w.head = j->next;
		wjob_free(j);
	}
	stmts_release(&g->st);
	if (g->open)
		db_tx_rollback(g->db);
	ckpt_stop(g);
	bulk_end(g);
	pthread_cond_destroy(&g->w.room);
	pthread_cond_destroy(&g->w.work);
	pthread_mutex_destroy(&g->w.mu);
	free(g);
}

/* Open the transaction of c's group (or c's own). */
static int commit_begin(struct db *db, struct db_snapshot_group *g, struct err *e)
{
	int rc;

	if (!g) {
		if (db->in_tx)
			return err_set(e, EXIT_SOFTWARE, "snapshot: commit inside an open transaction");
		return db_tx_begin(db, e);
	}
	if (g->db != db)
		return err_set(e, EXIT_SOFTWARE, "snapshot: a commit group of another database");
	if (!g->open) {
		if (db->in_tx)
			return err_set(e, EXIT_SOFTWARE, "snapshot: commit inside an open transaction");
		if ((rc = db_tx_begin(db, e)) != 0)
			return rc;
		g->open = 1;
		g->commits = 0;
		clock_gettime(CLOCK_MONOTONIC, &g->opened);
	}
	return 0;
}

/* The mode of run (full or not), remembered by the group. */
static int commit_run_mode(struct db *db, struct db_snapshot_group *g, long long run, int *full,
			   struct err *e)
{
	int rc;

	if (g && g->run == run) {
		*full = g->run_full;
		return 0;
	}
	if ((rc = run_mode(db, run, full, e)) == 0 && g) {
		g->run = run;
		g->run_full = *full;
	}
	return rc;
}

int db_snapshot_commit(struct db *db, struct db_snapshot_commit *c,
		       struct db_snapshot_counts *counts, struct err *e)
{
	struct db_snapshot_group *g = c->group;
	struct db_snapshot_counts local = { 0 };
	struct snap_stmts own;
	struct writer w;
	char now[32];
	long long full_run = 0;
	int rc, full = 0;

	if (c->cursor && c->page &&
	    strcmp(c->cursor->resource, stripe_kind_resource(c->page->kind)) != 0)
		return err_set(e, EXIT_SOFTWARE, "snapshot: a %s page on a %s cursor",
			       stripe_kind_resource(c->page->kind), c->cursor->resource);
	if (g && g->w.running && !pthread_equal(pthread_self(), g->w.th))
		return err_set(e, EXIT_SOFTWARE, "snapshot: a group with a writer thread takes "
			       "commits through db_snapshot_group_submit");
	memset(&w, 0, sizeof w);
	memset(&own, 0, sizeof own);
	db_now(now, sizeof now);
	w.db = db;
	w.e = e;
	w.version = c->stripe_version;
	w.pulled_at = c->pulled_at ? c->pulled_at : now;
	w.n = &local;
	w.s = g ? &g->st : &own;
	w.pending = -1;
	if ((rc = commit_begin(db, g, e)) != 0)
		return rc;
	if (c->cursor && (rc = commit_run_mode(db, g, c->cursor->pull_run_id, &full, e)) != 0)
		goto fail;
	if (full)
		full_run = c->cursor->pull_run_id;
	w.full_run = full_run;
	if ((c->page && (rc = w_page(&w, c->page, full_run, c->mark_events, c->cursor)) != 0) ||
	    (c->nobjects && (rc = w_objects(&w, c)) != 0) ||
	    (c->nprocessed_objects &&
	     (rc = mark_objects(&w, c->processed_objects, c->nprocessed_objects)) != 0) ||
	    (c->cursor && (rc = cursor_advance(&w, c->cursor, c->page)) != 0) ||
	    (c->nprocessed_events &&
	     (rc = mark_processed(&w, c->processed_events, c->nprocessed_events)) != 0) ||
	    (c->events_cursor && (rc = save_events_cursor(&w, c->events_cursor)) != 0))
		goto fail;
	stmts_release(&own);
	if (g) {
		g->commits++;
	} else if ((rc = db_tx_commit(db, e)) != 0) {
		return rc;
	}
	if (c->cursor)
		cursor_after(c->cursor, c->page, w.pulled_at);
	if (counts)
		counts_add(counts, &local);
	return 0;
fail:
	stmts_release(&own);
	/* a group's failed commit takes the group with it (no savepoints: their
	 * sub-journals copied every index page a page touched again, memory
	 * and CPU growing with the indexes) */
	db_tx_rollback(db);
	if (g) {
		g->open = 0;
		g->commits = 0;
	}
	return rc;
}

/* --- full relist ----------------------------------------------------------------- */

/* db_snapshot_full_relist_finish in the open transaction (rolled back by the caller on failure). */
static int relist_finish_in_tx(struct db *db, long long pull_run_id, enum stripe_kind kind,
			       long long relist_epoch, long long *tombstoned, struct err *e)
{
	const char *resource = stripe_kind_resource(kind);
	char now[32], res[32], scope[DB_SNAPSHOT_ID_MAX];
	sqlite3_stmt *st = NULL;
	struct sqlbuf b = { .len = 0 };
	int rc, open, full, t = kind_table(kind), ncur = 0;
	long long lo = 0, hi = 0, marked = 0;
	int lo_open = 0, hi_open = 0;

	if (tombstoned)
		*tombstoned = 0;
	if (!tb_tombstones(t))
		return err_set(e, EXIT_SOFTWARE, "snapshot: %s cannot be relisted", resource);
	if ((rc = run_mode(db, pull_run_id, &full, e)) != 0)
		return rc;
	if (!full)
		return err_set(e, EXIT_SOFTWARE, "snapshot: pull run %lld is not a full relist",
			       pull_run_id);
	/* Already finished by this run (a resumed pull calls it again): its
	 * "seen" rows are gone, so running it twice would tombstone every row. */
	if ((rc = db_prepare(db, "SELECT 1 FROM stripe_sync_state WHERE resource = ?1 AND "
			     "last_full_run_id = ?2", &st, e)) != 0)
		goto fail;
	sqlite3_bind_text(st, 1, resource, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, pull_run_id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	st = NULL;
	if (rc == SQLITE_ROW)
		return 0;
	if (rc != SQLITE_DONE) {
		rc = db_fail(db, e, "stripe_sync_state");
		goto fail;
	}
	if ((rc = first_open_cursor(db, pull_run_id, resource, res, sizeof res, scope,
				    sizeof scope, &open, e)) != 0)
		goto fail;
	if (open) {
		rc = err_set(e, EXIT_SOFTWARE, "snapshot: relist of %s in pull run %lld is not "
			     "done (cursor %s%s%s)", resource, pull_run_id, res,
			     scope[0] ? "/" : "", scope);
		goto fail;
	}
	/* the windows' span: [min gte, max lt), open ends when any is open */
	if ((rc = db_prepare(db, "SELECT count(*), min(created_gte), max(created_lt), "
			     "sum(created_gte IS NULL), sum(created_lt IS NULL) "
			     "FROM stripe_pull_cursors WHERE pull_run_id = ?1 AND resource = ?2",
			     &st, e)) != 0)
		goto fail;
	sqlite3_bind_int64(st, 1, pull_run_id);
	sqlite3_bind_text(st, 2, resource, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = db_fail(db, e, "stripe_pull_cursors");
		goto fail;
	}
	ncur = sqlite3_column_int(st, 0);
	lo = sqlite3_column_int64(st, 1);
	hi = sqlite3_column_int64(st, 2);
	lo_open = sqlite3_column_int(st, 3) > 0 || sqlite3_column_type(st, 1) == SQLITE_NULL;
	hi_open = sqlite3_column_int(st, 4) > 0 || sqlite3_column_type(st, 2) == SQLITE_NULL;
	sqlite3_finalize(st);
	st = NULL;
	if (ncur == 0) {
		rc = err_set(e, EXIT_SOFTWARE, "snapshot: pull run %lld never listed %s",
			     pull_run_id, resource);
		goto fail;
	}
	db_now(now, sizeof now);
	/* NOT EXISTS probes the seen table's key per row; NOT IN (SELECT ...)
	 * would first copy every seen id into a temporary b-tree in memory,
	 * so memory grew with the account */
	sb_add(&b, "UPDATE %s AS t SET deleted_at = ?1, pulled_at = ?1 WHERE deleted_at IS NULL "
		   "AND written_run IS NOT ?2 AND NOT EXISTS (SELECT 1 FROM stripe_pull_seen s WHERE s.pull_run_id = ?2 AND "
		   "s.resource = ?3 AND s.id = t.id)%s%s", tables[t].name,
		   lo_open ? "" : " AND created >= ?4", hi_open ? "" : " AND created < ?5");
	if ((rc = sb_prepare(db, &b, &st, e)) != 0)
		goto fail;
	sqlite3_bind_text(st, 1, now, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, pull_run_id);
	sqlite3_bind_text(st, 3, resource, -1, SQLITE_STATIC);
	if (!lo_open)
		sqlite3_bind_int64(st, 4, lo);
	if (!hi_open)
		sqlite3_bind_int64(st, 5, hi);
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = db_fail(db, e, tables[t].name);
		goto fail;
	}
	marked = sqlite3_changes(db->h);
	sqlite3_finalize(st);
	st = NULL;
	if ((rc = db_prepare(db, "INSERT INTO stripe_sync_state (resource, last_full_at, "
			     "last_full_run_id, updated_at) VALUES (?1, ?2, ?3, ?4) "
			     "ON CONFLICT (resource) DO UPDATE SET last_full_at = excluded.last_full_at, "
			     "last_full_run_id = excluded.last_full_run_id, "
			     "updated_at = excluded.updated_at", &st, e)) != 0)
		goto fail;
	sqlite3_bind_text(st, 1, resource, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, relist_epoch);
	sqlite3_bind_int64(st, 3, pull_run_id);
	sqlite3_bind_text(st, 4, now, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = db_fail(db, e, "stripe_sync_state");
		goto fail;
	}
	sqlite3_finalize(st);
	st = NULL;
	if ((rc = db_prepare(db, "DELETE FROM stripe_pull_seen WHERE pull_run_id = ?1 AND "
			     "resource = ?2", &st, e)) != 0)
		goto fail;
	sqlite3_bind_int64(st, 1, pull_run_id);
	sqlite3_bind_text(st, 2, resource, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = db_fail(db, e, "stripe_pull_seen");
		goto fail;
	}
	sqlite3_finalize(st);
	if (tombstoned)
		*tombstoned = marked;
	return 0;
fail:
	sqlite3_finalize(st);
	return rc;
}

int db_snapshot_full_relist_finish(struct db *db, long long pull_run_id, enum stripe_kind kind,
				   long long relist_epoch, long long *tombstoned, struct err *e)
{
	int rc;

	if (tombstoned)
		*tombstoned = 0;
	if ((rc = db_tx_begin(db, e)) != 0)
		return rc;
	if ((rc = relist_finish_in_tx(db, pull_run_id, kind, relist_epoch, tombstoned, e)) != 0) {
		db_tx_rollback(db);
		if (tombstoned)
			*tombstoned = 0;
		return rc;
	}
	return db_tx_commit(db, e);
}

/* --- sync state and events ---------------------------------------------------- */

int db_snapshot_last_full(struct db *db, enum stripe_kind kind, long long *epoch, int *found,
			  struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	*found = 0;
	*epoch = 0;
	if ((rc = db_prepare(db, "SELECT last_full_at FROM stripe_sync_state WHERE resource = ?1 "
			     "AND last_full_at IS NOT NULL", &st, e)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, stripe_kind_resource(kind), -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*found = 1;
		*epoch = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(db, e, "stripe_sync_state");
	return 0;
}

int db_snapshot_events_cursor_get(struct db *db, struct db_snapshot_events_cursor *out,
				  struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = db_prepare(db, "SELECT events_created, events_id FROM stripe_sync_state "
			     "WHERE resource = 'events' AND events_created IS NOT NULL", &st, e)) != 0)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->set = 1;
		out->created = sqlite3_column_int64(st, 0);
		copy_col(st, 1, out->id, sizeof out->id);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(db, e, "stripe_sync_state");
	return 0;
}

int db_snapshot_events_pending(struct db *db, long long limit,
			       int (*fn)(const struct db_snapshot_event_ref *ev, void *arg),
			       void *arg, struct err *e)
{
	struct db_snapshot_event_ref ev;
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_prepare(db, "SELECT id, type, created, object_type, object_id "
			     "FROM stripe_events WHERE processed = 0 ORDER BY created, id LIMIT ?1",
			     &st, e)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, limit > 0 ? limit : -1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&ev, 0, sizeof ev);
		copy_col(st, 0, ev.id, sizeof ev.id);
		copy_col(st, 1, ev.type, sizeof ev.type);
		ev.created = sqlite3_column_int64(st, 2);
		copy_col(st, 3, ev.object_type, sizeof ev.object_type);
		copy_col(st, 4, ev.object_id, sizeof ev.object_id);
		if (fn(&ev, arg) != 0)
			break;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(db, e, "stripe_events");
	return 0;
}

/* --- checksum ---------------------------------------------------------------- */

/* The checksum is SHA-256 (src/sha256.h) over the rows' text. */

/* A growable line buffer. */
struct line {
	char *s;
	size_t len, cap;
	int oom;
};

static void line_put(struct line *l, const char *p, size_t n)
{
	if (l->oom)
		return;
	if (l->len + n + 1 > l->cap) {
		size_t cap = l->cap ? l->cap : 256;
		char *ns;

		while (cap < l->len + n + 1)
			cap *= 2;
		if (!(ns = realloc(l->s, cap))) {
			l->oom = 1;
			return;
		}
		l->s = ns;
		l->cap = cap;
	}
	memcpy(l->s + l->len, p, n);
	l->len += n;
	l->s[l->len] = '\0';
}

static void line_value(struct line *l, sqlite3_stmt *st, int i)
{
	char num[32];
	const unsigned char *s;
	int n, j;

	switch (sqlite3_column_type(st, i)) {
	case SQLITE_NULL:
		line_put(l, "\\N", 2);
		return;
	case SQLITE_INTEGER:
		n = snprintf(num, sizeof num, "%lld", (long long)sqlite3_column_int64(st, i));
		line_put(l, num, (size_t)n);
		return;
	default:
		s = sqlite3_column_text(st, i);
		n = sqlite3_column_bytes(st, i);
		for (j = 0; s && j < n; j++) {
			const char *esc = s[j] == '\t' ? "\\t" : s[j] == '\n' ? "\\n" :
					  s[j] == '\r' ? "\\r" : s[j] == '\\' ? "\\\\" : NULL;

			if (esc)
				line_put(l, esc, 2);
			else
				line_put(l, (const char *)s + j, 1);
		}
	}
}

/* Emit the canonical lines of table t (a child table: of its live parents). */
static int rows_of_table(struct db *db, int t, int parent_t, int include_deleted,
			 int (*fn)(const char *line, size_t len, void *arg), void *arg,
			 long long *nrows, struct err *e)
{
	const struct snap_table *tb;
	const char *parent;
	struct sqlbuf b = { .len = 0 };
	struct line l = { 0 };
	sqlite3_stmt *st;
	size_t i;
	int rc, ncol = 0, stop = 0;

	if (t < 0 || t >= TB_COUNT)
		return err_set(e, EXIT_SOFTWARE, "snapshot: bad table %d", t);
	tb = &tables[t];
	parent = tb->parent;

	sb_add(&b, "SELECT ");
	for (i = 0; i < tb->ncols; i++)
		if (tb->cols[i].sum)
			sb_add(&b, "%s%s", ncol++ ? ", " : "", tb->cols[i].name);
	if (tb_tombstones(t) && include_deleted) {
		sb_add(&b, ", deleted_at IS NOT NULL");
		ncol++;
	}
	sb_add(&b, " FROM %s", tb->name);
	if (tb_tombstones(t) && !include_deleted)
		sb_add(&b, " WHERE deleted_at IS NULL");
	if (parent && parent_t >= 0 && parent_t < TB_COUNT && !include_deleted)
		sb_add(&b, " WHERE \"%s\" IN (SELECT id FROM %s WHERE deleted_at IS NULL)",
		       parent, tables[parent_t].name);
	if (parent)
		sb_add(&b, " ORDER BY \"%s\", id", parent);
	else
		sb_add(&b, " ORDER BY id");
	if ((rc = sb_prepare(db, &b, &st, e)) != 0)
		return rc;
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		l.len = 0;
		line_put(&l, tb->name, strlen(tb->name));
		for (i = 0; i < (size_t)ncol; i++) {
			line_put(&l, "\t", 1);
			line_value(&l, st, (int)i);
		}
		line_put(&l, "\n", 1);
		if (l.oom)
			break;
		if (nrows)
			(*nrows)++;
		stop = fn(l.s, l.len, arg);
	}
	sqlite3_finalize(st);
	free(l.s);
	if (l.oom)
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	if (!stop && rc != SQLITE_DONE)
		return db_fail(db, e, tb->name);
	return stop ? -1 : 0;
}

int db_snapshot_rows_each(struct db *db, enum stripe_kind kind, int include_deleted,
			  int (*fn)(const char *line, size_t len, void *arg), void *arg,
			  struct err *e)
{
	int t = kind_table(kind), ct = kind_child_table(kind), rc;

	if (t < 0 || stripe_kind_parent(kind) != STRIPE_NONE)
		return err_set(e, EXIT_SOFTWARE, "snapshot: no checksum of \"%s\"",
			       stripe_kind_resource(kind));
	rc = rows_of_table(db, t, -1, include_deleted, fn, arg, NULL, e);
	if (rc == 0 && ct >= 0)
		rc = rows_of_table(db, ct, t, include_deleted, fn, arg, NULL, e);
	return rc < 0 ? 0 : rc;
}

static int hash_line(const char *line, size_t len, void *arg)
{
	sha256_update(arg, line, len);
	return 0;
}

int db_snapshot_checksum(struct db *db, enum stripe_kind kind, int include_deleted,
			 char out[DB_SNAPSHOT_CHECKSUM_LEN], long long *rows, struct err *e)
{
	struct sha256 s;
	long long n = 0;
	int t = kind_table(kind), ct = kind_child_table(kind), rc;

	out[0] = '\0';
	if (rows)
		*rows = 0;
	if (t < 0 || stripe_kind_parent(kind) != STRIPE_NONE)
		return err_set(e, EXIT_SOFTWARE, "snapshot: no checksum of \"%s\"",
			       stripe_kind_resource(kind));
	sha256_init(&s);
	if ((rc = rows_of_table(db, t, -1, include_deleted, hash_line, &s, &n, e)) != 0 ||
	    (ct >= 0 && (rc = rows_of_table(db, ct, t, include_deleted, hash_line, &s, NULL,
					    e)) != 0))
		return rc;
	sha256_final_hex(&s, out);
	if (rows)
		*rows = n;
	return 0;
}
