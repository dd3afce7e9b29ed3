/* gen.c - deterministic synthetic Stripe objects.
 *
 * Every object is a pure function of (seed, resource, index): nothing is
 * materialised, so millions of objects cost no memory.  All N objects sit on
 * one global timeline g = 0..N-1 in blocks of 40 slots:
 *
 *   slot 0 product | 1-2 prices | 3-10 customers | 11-20 subscriptions |
 *   21-28 checkout sessions | 29-36 invoices | 37-39 refunds
 *
 * so the proportions are 1:2:8:10:8:8:3 (of 40) and an object only refers to
 * objects of earlier slots (a subscription's customer and prices exist and are
 * older).  Objects g and g+1 (g even) share one created time, so ties (broken
 * by id) occur; created is nondecreasing in g and ids of one resource grow
 * with the index, so (created, id) order = index order and lists, cursors and
 * created filters are answered by arithmetic and binary search.
 *
 * Events: one per object created in the 30 days before gen.end (type by
 * resource and status; an open checkout session has none, leaving a hole that
 * lists skip), with data.object the object's current snapshot.
 */
#include "fake.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK 40
#define EVENT_WINDOW (30 * 86400)

static const int slot_start[R_COUNT] = {3, 0, 1, 11, 21, 29, 37, 0};
static const int slot_len[R_COUNT]   = {8, 1, 2, 10, 8, 8, 3, 0};

static const char *const plans[] = {
	"organizer", "lms", "organization", "attendee", "BASIC", "EARLY_ADOPTER", "ENTERPRISE"
};
static const char *const plan_names[] = {
	"Organizer", "LMS", "Organization", "Attendee", "Basic", "Early Adopter", "Enterprise"
};
static const char *const first_names[] = {
	"Ada", "Grace", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Frances", "Alan", "Radia"
};
static const char *const last_names[] = {
	"Lovelace", "Hopper", "Torvalds", "Hamilton", "Thompson", "Liskov", "Ritchie", "Allen",
	"Turing", "Perlman"
};
static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static uint64_t mix(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ull;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
	return x ^ (x >> 31);
}

/* k-th random number of object i of r. */
static uint64_t H(const struct gen *g, enum res r, uint64_t i, unsigned k)
{
	return mix(mix(mix(g->seed ^ ((uint64_t)r << 56)) ^ i) + k);
}

/* Pick in [0, n). */
static uint64_t pick(const struct gen *g, enum res r, uint64_t i, unsigned k, uint64_t n)
{
	return n ? H(g, r, i, k) % n : 0;
}

/* Set up generation parameters: created times end at `end`, two objects per
 * step, the step chosen so N objects span about two years (1 s .. 2 h). */
void gen_setup(struct gen *g, uint64_t seed, uint64_t n, int64_t end)
{
	g->seed = seed;
	g->n = n;
	g->end = end;
	uint64_t pairs = n / 2 + 1;
	int64_t step = (int64_t)(63072000 / pairs);
	g->step = step < 1 ? 1 : step > 7200 ? 7200 : step;
}

static int64_t created_g(const struct gen *g, uint64_t gi)
{
	uint64_t top = (g->n - 1) / 2;
	return g->end - (int64_t)(top - gi / 2) * g->step;
}

static uint64_t count_before(enum res r, uint64_t gi)
{
	uint64_t rem = gi % BLOCK;
	uint64_t c = (gi / BLOCK) * (uint64_t)slot_len[r];
	if (rem > (uint64_t)slot_start[r])
		c += rem - (uint64_t)slot_start[r] < (uint64_t)slot_len[r] ?
		     rem - (uint64_t)slot_start[r] : (uint64_t)slot_len[r];
	return c;
}

static uint64_t global_of(enum res r, uint64_t i)
{
	return (i / (uint64_t)slot_len[r]) * BLOCK + (uint64_t)slot_start[r] + i % (uint64_t)slot_len[r];
}

static enum res res_of_global(uint64_t gi)
{
	int s = (int)(gi % BLOCK);
	for (int r = 0; r < R_EVENTS; r++)
		if (s >= slot_start[r] && s < slot_start[r] + slot_len[r])
			return (enum res)r;
	return R_CUSTOMERS;
}

/* First global index inside the event window. */
static uint64_t event_first_global(const struct gen *g)
{
	int64_t from = g->end - EVENT_WINDOW;
	uint64_t lo = 0, hi = g->n;
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		if (created_g(g, mid) >= from)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

uint64_t gen_count(const struct gen *g, enum res r)
{
	if (g->n == 0)
		return 0;
	if (r == R_EVENTS)
		return g->n - event_first_global(g);
	return count_before(r, g->n);
}

int64_t gen_created(const struct gen *g, enum res r, uint64_t i)
{
	if (r == R_EVENTS)
		return created_g(g, event_first_global(g) + i);
	return created_g(g, global_of(r, i));
}

static void b62_put(char *out, uint64_t v, int width)
{
	for (int k = width - 1; k >= 0; k--) {
		out[k] = b62[v % 62];
		v /= 62;
	}
}

/* id = prefix "1Fk" index(8 base62, ASCII-ordered) check(4) */
void gen_id(const struct gen *g, enum res r, uint64_t i, char *buf, size_t size)
{
	char tail[16];
	memcpy(tail, "1Fk", 3);
	b62_put(tail + 3, i, 8);
	b62_put(tail + 11, H(g, r, i, 99) % 14776336ull, 4);
	tail[15] = 0;
	snprintf(buf, size, "%s%s", res_info[r].prefix, tail);
}

/* A derived id (items, charges, ...): prefix + 1Fk + index + sub + check. */
static void derived_id(const struct gen *g, const char *prefix, enum res r, uint64_t i,
		       unsigned sub, char *buf, size_t size)
{
	char tail[20];
	memcpy(tail, "1Fk", 3);
	b62_put(tail + 3, i, 8);
	b62_put(tail + 11, sub, 2);
	b62_put(tail + 13, H(g, r, i, 200 + sub) % 14776336ull, 4);
	tail[17] = 0;
	snprintf(buf, size, "%s%s", prefix, tail);
}

int64_t gen_index(const struct gen *g, enum res r, const char *id)
{
	size_t pl = strlen(res_info[r].prefix);
	if (strncmp(id, res_info[r].prefix, pl) != 0 || strlen(id) != pl + 15 ||
	    strncmp(id + pl, "1Fk", 3) != 0)
		return -1;
	uint64_t v = 0;
	for (int k = 0; k < 8; k++) {
		const char *p = strchr(b62, id[pl + 3 + k]);
		if (!p || !*p)
			return -1;
		v = v * 62 + (uint64_t)(p - b62);
	}
	if (v >= gen_count(g, r))
		return -1;
	char again[48];
	gen_id(g, r, v, again, sizeof again);
	return strcmp(again, id) == 0 ? (int64_t)v : -1;
}

/* ---- cheap parameters of objects (no JSON) ------------------------------ */

struct price_p {
	const char *currency;
	int64_t amount;
	int recurring;      /* even index: monthly recurring; odd: one_time */
	uint64_t product;
};

static void price_params(const struct gen *g, uint64_t j, struct price_p *p)
{
	uint64_t h = H(g, R_PRICES, j, 1) % 100;
	uint64_t a = H(g, R_PRICES, j, 2);
	p->recurring = (j % 2) == 0;
	p->product = j / 2;
	if (h < 70) {
		p->currency = "usd"; p->amount = (int64_t)(9 + a % 91) * 100;
	} else if (h < 85) {
		p->currency = "eur"; p->amount = (int64_t)(9 + a % 91) * 100;
	} else if (h < 93) {
		p->currency = "jpy"; p->amount = (int64_t)(10 + a % 140) * 100;
	} else {
		p->currency = "bhd"; p->amount = (int64_t)(3 + a % 37) * 1000 + 500;
	}
}

/* Every BIG_EVERY-th subscription (index ≡ BIG_EVERY - 1) has 11..30 items,
 * more than Stripe embeds (10): its invoices have as many lines. */
#define BIG_EVERY 200
#define SUB_ITEMS_MAX 30

struct sub_p {
	uint64_t customer;
	const char *status;
	int nitems;
	uint64_t price[SUB_ITEMS_MAX];
	int64_t qty[SUB_ITEMS_MAX];
	const char *currency;
	int64_t created, period_start, period_end, canceled_at, trial_end;
	int cancel_at_period_end;
};

/* A recurring price made before global gi with the given currency (or any
 * when cur is NULL), starting near the k-th draw. */
static uint64_t pick_price(const struct gen *g, enum res r, uint64_t i, unsigned k,
			   uint64_t gi, int recurring, const char *cur)
{
	uint64_t n = count_before(R_PRICES, gi);
	uint64_t j = pick(g, r, i, k, n);
	for (int probe = 0; probe < 64; probe++) {
		uint64_t c = (j + n - (uint64_t)probe) % n;
		struct price_p pp;
		if ((int)(c % 2 == 0) != recurring)
			continue;
		price_params(g, c, &pp);
		if (!cur || !strcmp(cur, pp.currency))
			return c;
	}
	return recurring ? 0 : 1;
}

static void sub_params(const struct gen *g, uint64_t i, struct sub_p *s)
{
	uint64_t gi = global_of(R_SUBSCRIPTIONS, i);
	uint64_t h = H(g, R_SUBSCRIPTIONS, i, 1) % 100;
	s->customer = pick(g, R_SUBSCRIPTIONS, i, 2, count_before(R_CUSTOMERS, gi));
	s->status = h < 60 ? "active" : h < 70 ? "trialing" : h < 78 ? "past_due" :
		    h < 93 ? "canceled" : h < 96 ? "unpaid" : h < 98 ? "incomplete" :
		    "incomplete_expired";
	uint64_t hn = H(g, R_SUBSCRIPTIONS, i, 3) % 100;
	int big = i % BIG_EVERY == BIG_EVERY - 1;
	s->nitems = big ? 11 + (int)(H(g, R_SUBSCRIPTIONS, i, 40) % 20) :
		    hn < 80 ? 1 : hn < 95 ? 2 : 3;
	struct price_p pp;
	s->price[0] = pick_price(g, R_SUBSCRIPTIONS, i, 4, gi, 1, NULL);
	price_params(g, s->price[0], &pp);
	s->currency = pp.currency;
	for (int k = 0; k < s->nitems; k++) {
		/* (the draws of items 0..2 are those of the small subscriptions;
		 * a big one may repeat a price: an old account has few of them) */
		unsigned kp = k < 3 ? 4 + (unsigned)k : 100 + (unsigned)k;
		unsigned kq = k < 3 ? 10 + (unsigned)k : 200 + (unsigned)k;
		if (k > 0) {
			s->price[k] = pick_price(g, R_SUBSCRIPTIONS, i, kp, gi, 1, s->currency);
			if (s->price[k] == s->price[0] && !big) {
				s->nitems = k;
				break;
			}
		}
		uint64_t q = H(g, R_SUBSCRIPTIONS, i, kq);
		s->qty[k] = q % 100 < 60 ? 1 : (int64_t)(2 + q % 49);
	}
	s->created = created_g(g, gi);
	int64_t month = 30 * 86400;
	int64_t span = g->end - s->created;
	s->period_start = s->created + (span > 0 ? span / month : 0) * month;
	s->period_end = s->period_start + month;
	s->canceled_at = 0;
	s->trial_end = 0;
	s->cancel_at_period_end = 0;
	if (!strcmp(s->status, "canceled") || !strcmp(s->status, "incomplete_expired")) {
		int64_t life = span > 0 ? (int64_t)(H(g, R_SUBSCRIPTIONS, i, 20) % (uint64_t)(span + 1)) : 0;
		s->canceled_at = s->created + life;
		s->period_start = s->created + (life / month) * month;
		s->period_end = s->period_start + month;
	} else if (!strcmp(s->status, "trialing")) {
		s->trial_end = s->created + 14 * 86400;
		if (s->trial_end <= g->end)
			s->trial_end = g->end + 86400 * (int64_t)(1 + H(g, R_SUBSCRIPTIONS, i, 21) % 13);
		s->period_start = s->created;
		s->period_end = s->trial_end;
	} else if (!strcmp(s->status, "active")) {
		s->cancel_at_period_end = H(g, R_SUBSCRIPTIONS, i, 22) % 100 < 5;
	}
}

struct sess_p {
	int subscription_mode;
	const char *status;     /* complete | expired | open */
	int nitems;
	uint64_t customer;
	const char *currency;
	int64_t total;
};

static uint64_t sess_item_price(const struct gen *g, uint64_t i, int k, int submode,
				const char *cur)
{
	uint64_t gi = global_of(R_SESSIONS, i);
	return pick_price(g, R_SESSIONS, i, 100 + (unsigned)k, gi, submode, cur);
}

static int64_t sess_item_qty(const struct gen *g, uint64_t i, int k)
{
	uint64_t q = H(g, R_SESSIONS, i, 300 + (unsigned)k);
	return q % 100 < 70 ? 1 : (int64_t)(2 + q % 9);
}

static void sess_params(const struct gen *g, uint64_t i, struct sess_p *s)
{
	uint64_t gi = global_of(R_SESSIONS, i);
	s->subscription_mode = H(g, R_SESSIONS, i, 1) % 100 < 45;
	uint64_t h = H(g, R_SESSIONS, i, 2) % 100;
	s->status = h < 70 ? "complete" : h < 90 ? "expired" : "open";
	uint64_t hn = H(g, R_SESSIONS, i, 3) % 100;
	s->nitems = hn < 88 ? 1 : hn < 95 ? (int)(2 + hn % 2) : (int)(11 + H(g, R_SESSIONS, i, 4) % 15);
	if (s->subscription_mode && s->nitems > 3)
		s->nitems = 1 + (int)(s->nitems % 3);
	s->customer = pick(g, R_SESSIONS, i, 5, count_before(R_CUSTOMERS, gi));
	struct price_p pp;
	uint64_t p0 = sess_item_price(g, i, 0, s->subscription_mode, NULL);
	price_params(g, p0, &pp);
	s->currency = pp.currency;
	s->total = 0;
	for (int k = 0; k < s->nitems; k++) {
		uint64_t pk = k ? sess_item_price(g, i, k, s->subscription_mode, s->currency) : p0;
		price_params(g, pk, &pp);
		s->total += pp.amount * sess_item_qty(g, i, k);
	}
}

const char *gen_attr(const struct gen *g, enum res r, uint64_t i)
{
	if (r == R_SUBSCRIPTIONS) {
		uint64_t h = H(g, R_SUBSCRIPTIONS, i, 1) % 100;
		return h < 60 ? "active" : h < 70 ? "trialing" : h < 78 ? "past_due" :
		       h < 93 ? "canceled" : h < 96 ? "unpaid" : h < 98 ? "incomplete" :
		       "incomplete_expired";
	}
	if (r == R_INVOICES) {
		uint64_t h = H(g, R_INVOICES, i, 1) % 100;
		return h < 80 ? "paid" : h < 95 ? "open" : "void";
	}
	if (r != R_EVENTS)
		return NULL;
	uint64_t gi = event_first_global(g) + i;
	enum res t = res_of_global(gi);
	uint64_t ti = count_before(t, gi);
	switch (t) {
	case R_CUSTOMERS: return "customer.created";
	case R_PRODUCTS: return "product.created";
	case R_PRICES: return "price.created";
	case R_SUBSCRIPTIONS: return "customer.subscription.created";
	case R_SESSIONS: {
		uint64_t h = H(g, R_SESSIONS, ti, 2) % 100;
		return h < 70 ? "checkout.session.completed" : h < 90 ? "checkout.session.expired" : NULL;
	}
	case R_INVOICES: {
		const char *st = gen_attr(g, R_INVOICES, ti);
		return !strcmp(st, "paid") ? "invoice.paid" : !strcmp(st, "open") ?
		       "invoice.finalized" : "invoice.voided";
	}
	case R_REFUNDS: return "refund.created";
	default: return NULL;
	}
}

/* ---- object builders ---------------------------------------------------- */

static void set_str(json_t *o, const char *k, const char *v)
{
	json_object_set_new(o, k, v ? json_string(v) : json_null());
}

static void set_int(json_t *o, const char *k, int64_t v)
{
	json_object_set_new(o, k, json_integer(v));
}

static void set_fmt(json_t *o, const char *k, const char *fmt, uint64_t v)
{
	char buf[96];
	snprintf(buf, sizeof buf, fmt, v);
	json_object_set_new(o, k, json_string(buf));
}

static json_t *obj_base(const struct gen *g, enum res r, uint64_t i, enum tmpl t, enum shape s)
{
	json_t *o = shape_template(t, s);
	char id[48];
	gen_id(g, r, i, id, sizeof id);
	set_str(o, "id", id);
	set_int(o, "created", gen_created(g, r, i));
	return o;
}

static json_t *tenant_meta(uint64_t cust)
{
	char t[32], u[32];
	snprintf(t, sizeof t, "ten_%" PRIu64, cust);
	snprintf(u, sizeof u, "usr_%" PRIu64, cust);
	return json_pack("{s:s, s:s}", "tenant_id", t, "user_id", u);
}

static json_t *gen_customer(const struct gen *g, uint64_t i, enum shape s)
{
	json_t *o = obj_base(g, R_CUSTOMERS, i, T_CUSTOMER, s);
	const char *fn = first_names[H(g, R_CUSTOMERS, i, 1) % 10];
	const char *ln = last_names[H(g, R_CUSTOMERS, i, 2) % 10];
	char name[64], email[96];
	snprintf(name, sizeof name, "%s %s", fn, ln);
	snprintf(email, sizeof email, "%s.%s.%" PRIu64 "@example.test", fn, ln, i);
	for (char *p = email; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	set_str(o, "name", name);
	set_str(o, "email", email);
	set_fmt(o, "invoice_prefix", "%08" PRIX64, H(g, R_CUSTOMERS, i, 3) & 0xFFFFFFFFu);
	json_object_set_new(o, "metadata", tenant_meta(i));
	return o;
}

static json_t *gen_product(const struct gen *g, uint64_t i, enum shape s)
{
	json_t *o = obj_base(g, R_PRODUCTS, i, T_PRODUCT, s);
	int p = (int)(i % 7);
	char name[64], id[48];
	snprintf(name, sizeof name, "%s plan #%" PRIu64, plan_names[p], i);
	set_str(o, "name", name);
	set_str(o, "description", "Course platform plan");
	gen_id(g, R_PRICES, 2 * i, id, sizeof id);
	set_str(o, "default_price", 2 * i < gen_count(g, R_PRICES) ? id : NULL);
	set_int(o, "updated", gen_created(g, R_PRODUCTS, i));
	json_object_set_new(o, "metadata", json_pack("{s:s}", "trueup_plan", plans[p]));
	if (json_object_get(o, "type"))
		set_str(o, "type", "service");
	return o;
}

static json_t *gen_price(const struct gen *g, uint64_t j, enum shape s)
{
	json_t *o = obj_base(g, R_PRICES, j, T_PRICE, s);
	struct price_p pp;
	price_params(g, j, &pp);
	char prod[48], lk[96], dec[32];
	gen_id(g, R_PRODUCTS, pp.product, prod, sizeof prod);
	const char *plan = plans[pp.product % 7];
	set_str(o, "product", prod);
	set_str(o, "currency", pp.currency);
	set_int(o, "unit_amount", pp.amount);
	snprintf(dec, sizeof dec, "%" PRId64, pp.amount);
	set_str(o, "unit_amount_decimal", dec);
	snprintf(lk, sizeof lk, "%s_%s_%" PRIu64, plan, pp.recurring ? "monthly" : "once", j);
	set_str(o, "lookup_key", lk);
	set_str(o, "nickname", pp.recurring ? "Monthly" : "One-time");
	json_object_set_new(o, "metadata", json_pack("{s:s}", "trueup_plan", plan));
	if (pp.recurring) {
		set_str(o, "type", "recurring");
		if (s == SHAPE_2023)
			json_object_set_new(o, "recurring", json_pack(
				"{s:n, s:s, s:i, s:n, s:s}", "aggregate_usage", "interval", "month",
				"interval_count", 1, "trial_period_days", "usage_type", "licensed"));
		else
			json_object_set_new(o, "recurring", json_pack(
				"{s:s, s:i, s:n, s:n, s:s}", "interval", "month", "interval_count", 1,
				"meter", "trial_period_days", "usage_type", "licensed"));
	} else {
		set_str(o, "type", "one_time");
		json_object_set_new(o, "recurring", json_null());
	}
	return o;
}

/* Prices are embedded in every subscription item, invoice line and checkout
 * line item: a direct-mapped cache shares one (read-only) price object
 * between them.  Keyed by seed too, so it is exact. */
#define PRICE_CACHE 4096
static struct {
	uint64_t seed, j;
	int shape;
	json_t *obj;
} price_cache[PRICE_CACHE];

static json_t *price_shared(const struct gen *g, uint64_t j, enum shape s)
{
	size_t slot = (size_t)((j * 2 + (s == SHAPE_2023)) % PRICE_CACHE);
	int sh = s == SHAPE_2023 ? 0 : 1;
	if (price_cache[slot].obj && price_cache[slot].seed == g->seed &&
	    price_cache[slot].j == j && price_cache[slot].shape == sh)
		return json_incref(price_cache[slot].obj);
	json_decref(price_cache[slot].obj);
	price_cache[slot].obj = gen_price(g, j, s);
	price_cache[slot].seed = g->seed;
	price_cache[slot].j = j;
	price_cache[slot].shape = sh;
	return json_incref(price_cache[slot].obj);
}

void gen_release(void)
{
	for (size_t i = 0; i < PRICE_CACHE; i++) {
		json_decref(price_cache[i].obj);
		price_cache[i].obj = NULL;
	}
}

static json_t *gen_subscription(const struct gen *g, uint64_t i, enum shape s)
{
	json_t *o = obj_base(g, R_SUBSCRIPTIONS, i, T_SUBSCRIPTION, s);
	struct sub_p sp;
	sub_params(g, i, &sp);
	char id[48], cus[48], sid[48];
	gen_id(g, R_SUBSCRIPTIONS, i, id, sizeof id);
	gen_id(g, R_CUSTOMERS, sp.customer, cus, sizeof cus);
	set_str(o, "customer", cus);
	set_str(o, "status", sp.status);
	set_str(o, "currency", sp.currency);
	set_int(o, "start_date", sp.created);
	set_int(o, "billing_cycle_anchor", sp.created);
	json_object_set_new(o, "metadata", tenant_meta(sp.customer));
	json_object_set_new(o, "cancel_at_period_end", json_boolean(sp.cancel_at_period_end));
	if (sp.cancel_at_period_end)
		set_int(o, "cancel_at", sp.period_end);
	if (sp.canceled_at) {
		set_int(o, "canceled_at", sp.canceled_at);
		set_int(o, "ended_at", sp.canceled_at);
		json_object_set_new(o, "cancellation_details", json_pack(
			"{s:n, s:n, s:s}", "comment", "feedback", "reason", "cancellation_requested"));
	}
	if (sp.trial_end) {
		set_int(o, "trial_start", sp.created);
		set_int(o, "trial_end", sp.trial_end);
	}
	json_t *data = json_array();
	for (int k = 0; k < sp.nitems; k++) {
		json_t *it = shape_template(T_SUB_ITEM, s);
		derived_id(g, "si_", R_SUBSCRIPTIONS, i, (unsigned)k, sid, sizeof sid);
		set_str(it, "id", sid);
		set_int(it, "created", sp.created);
		set_str(it, "subscription", id);
		set_int(it, "quantity", sp.qty[k]);
		json_object_set_new(it, "price", price_shared(g, sp.price[k], s));
		/* 2026 placement; shape_convert moves them for 2023 */
		set_int(it, "current_period_start", sp.period_start);
		set_int(it, "current_period_end", sp.period_end);
		json_array_append_new(data, it);
	}
	char url[96];
	snprintf(url, sizeof url, "/v1/subscription_items?subscription=%s", id);
	json_object_set_new(o, "items", json_pack("{s:s, s:o, s:b, s:i, s:s}", "object", "list",
		"data", data, "has_more", 0, "total_count", sp.nitems, "url", url));
	/* the 2023 template's own period would win over the items' in shape_convert */
	json_object_del(o, "current_period_start");
	json_object_del(o, "current_period_end");
	shape_convert(R_SUBSCRIPTIONS, o, s);
	return o;
}

static json_t *gen_session(const struct gen *g, uint64_t i, enum shape s)
{
	json_t *o = obj_base(g, R_SESSIONS, i, T_SESSION, s);
	struct sess_p sp;
	sess_params(g, i, &sp);
	char id[64], cus[48], buf[160];
	gen_id(g, R_SESSIONS, i, id, sizeof id);
	gen_id(g, R_CUSTOMERS, sp.customer, cus, sizeof cus);
	int complete = !strcmp(sp.status, "complete");
	int64_t created = gen_created(g, R_SESSIONS, i);
	set_str(o, "mode", sp.subscription_mode ? "subscription" : "payment");
	set_str(o, "status", sp.status);
	set_str(o, "payment_status", complete ? "paid" : "unpaid");
	set_str(o, "currency", sp.currency);
	set_int(o, "amount_subtotal", sp.total);
	set_int(o, "amount_total", sp.total);
	set_int(o, "expires_at", created + 86400);
	set_fmt(o, "client_reference_id", "pint_%" PRIu64, i);
	json_object_set_new(o, "metadata", tenant_meta(sp.customer));
	set_str(o, "customer", complete ? cus : NULL);
	snprintf(buf, sizeof buf, "buyer%" PRIu64 "@example.test", sp.customer);
	json_object_set_new(o, "customer_details", complete ? json_pack(
		"{s:n, s:s, s:n, s:n, s:s, s:n}", "address", "email", buf, "name", "phone",
		"tax_exempt", "none", "tax_ids") : json_null());
	if (complete && !sp.subscription_mode) {
		derived_id(g, "pi_", R_SESSIONS, i, 0, buf, sizeof buf);
		set_str(o, "payment_intent", buf);
	} else {
		set_str(o, "payment_intent", NULL);
	}
	if (complete && sp.subscription_mode) {
		uint64_t ns = count_before(R_SUBSCRIPTIONS, global_of(R_SESSIONS, i));
		gen_id(g, R_SUBSCRIPTIONS, pick(g, R_SESSIONS, i, 6, ns), buf, sizeof buf);
		set_str(o, "subscription", buf);
	} else {
		set_str(o, "subscription", NULL);
	}
	if (!strcmp(sp.status, "open")) {
		snprintf(buf, sizeof buf, "https://checkout.stripe.com/c/pay/%s", id);
		set_str(o, "url", buf);
	} else {
		set_str(o, "url", NULL);
	}
	return o;
}

/* Line items of session i ("item" objects with their full price). */
json_t *gen_line_items(const struct gen *g, uint64_t i, enum shape s)
{
	struct sess_p sp;
	sess_params(g, i, &sp);
	json_t *arr = json_array();
	char lid[48];
	for (int k = 0; k < sp.nitems; k++) {
		uint64_t pj = sess_item_price(g, i, k, sp.subscription_mode, k ? sp.currency : NULL);
		struct price_p pp;
		price_params(g, pj, &pp);
		int64_t q = sess_item_qty(g, i, k);
		json_t *it = shape_template(T_ITEM, s);
		derived_id(g, "li_", R_SESSIONS, i, (unsigned)k, lid, sizeof lid);
		set_str(it, "id", lid);
		set_str(it, "currency", pp.currency);
		set_int(it, "quantity", q);
		set_int(it, "amount_subtotal", pp.amount * q);
		set_int(it, "amount_total", pp.amount * q);
		set_str(it, "description", plan_names[pp.product % 7]);
		json_object_set_new(it, "price", price_shared(g, pj, s));
		json_array_append_new(arr, it);
	}
	return arr;
}

static json_t *gen_invoice(const struct gen *g, uint64_t i, enum shape s)
{
	json_t *o = obj_base(g, R_INVOICES, i, T_INVOICE, s);
	uint64_t gi = global_of(R_INVOICES, i);
	uint64_t nsub = count_before(R_SUBSCRIPTIONS, gi);
	uint64_t si = pick(g, R_INVOICES, i, 2, nsub);
	/* every BIG_EVERY-th invoice bills the newest big subscription before it */
	if (i % BIG_EVERY == BIG_EVERY - 1 && nsub >= BIG_EVERY)
		si = (nsub / BIG_EVERY) * BIG_EVERY - 1;
	struct sub_p sp;
	sub_params(g, si, &sp);
	const char *status = gen_attr(g, R_INVOICES, i);
	int paid = !strcmp(status, "paid");
	int64_t created = gen_created(g, R_INVOICES, i);
	char id[48], sub[48], cus[48], lid[48], siid[48], buf[160];
	gen_id(g, R_INVOICES, i, id, sizeof id);
	gen_id(g, R_SUBSCRIPTIONS, si, sub, sizeof sub);
	gen_id(g, R_CUSTOMERS, sp.customer, cus, sizeof cus);
	json_t *lines = json_array();
	int64_t total = 0;
	for (int k = 0; k < sp.nitems; k++) {
		struct price_p pp;
		price_params(g, sp.price[k], &pp);
		int64_t amt = pp.amount * sp.qty[k];
		total += amt;
		json_t *l = shape_template(T_INVOICE_LINE, s);
		derived_id(g, "il_", R_INVOICES, i, (unsigned)k, lid, sizeof lid);
		derived_id(g, "si_", R_SUBSCRIPTIONS, si, (unsigned)k, siid, sizeof siid);
		set_str(l, "id", lid);
		set_int(l, "amount", amt);
		set_str(l, "currency", pp.currency);
		set_int(l, "quantity", sp.qty[k]);
		snprintf(buf, sizeof buf, "%" PRId64 " x %s", sp.qty[k], plan_names[pp.product % 7]);
		set_str(l, "description", buf);
		json_object_set_new(l, "period", json_pack("{s:I, s:I}", "end",
			(json_int_t)(created + 30 * 86400), "start", (json_int_t)created));
		char price_id[48], prod[48], dec[32];
		gen_id(g, R_PRICES, sp.price[k], price_id, sizeof price_id);
		gen_id(g, R_PRODUCTS, pp.product, prod, sizeof prod);
		snprintf(dec, sizeof dec, "%" PRId64, pp.amount);
		if (s == SHAPE_2023) {
			json_object_set_new(l, "price", price_shared(g, sp.price[k], s));
			set_str(l, "type", "subscription");
			set_str(l, "subscription", sub);
			set_str(l, "subscription_item", siid);
			set_int(l, "amount_excluding_tax", amt);
			set_str(l, "unit_amount_excluding_tax", dec);
		} else {
			set_str(l, "invoice", id);
			set_int(l, "subtotal", amt);
			json_object_set_new(l, "parent", json_pack(
				"{s:n, s:{s:n, s:b, s:{s:n}, s:s, s:s}, s:s}", "invoice_item_details",
				"subscription_item_details", "invoice_item", "proration", 0,
				"proration_details", "credited_items", "subscription", sub,
				"subscription_item", siid, "type", "subscription_item_details"));
			json_object_set_new(l, "pricing", json_pack(
				"{s:{s:s, s:s}, s:s, s:s}", "price_details", "price", price_id,
				"product", prod, "type", "price_details", "unit_amount_decimal", dec));
		}
		json_array_append_new(lines, l);
	}
	set_str(o, "customer", cus);
	set_str(o, "currency", sp.currency);
	set_str(o, "status", status);
	set_str(o, "billing_reason", "subscription_cycle");
	set_str(o, "collection_method", "charge_automatically");
	set_int(o, "amount_due", total);
	set_int(o, "amount_paid", paid ? total : 0);
	set_int(o, "amount_remaining", paid || !strcmp(status, "void") ? 0 : total);
	set_int(o, "subtotal", total);
	set_int(o, "subtotal_excluding_tax", total);
	set_int(o, "total", total);
	set_int(o, "total_excluding_tax", total);
	set_int(o, "period_start", created - 30 * 86400);
	set_int(o, "period_end", created);
	set_int(o, "effective_at", created);
	set_int(o, "webhooks_delivered_at", created);
	set_int(o, "attempt_count", paid ? 1 : 0);
	json_object_set_new(o, "attempted", json_boolean(paid));
	snprintf(buf, sizeof buf, "%08" PRIX64 "-%04" PRIu64,
		 H(g, R_CUSTOMERS, sp.customer, 3) & 0xFFFFFFFFu, i % 10000);
	set_str(o, "number", buf);
	snprintf(buf, sizeof buf, "https://invoice.stripe.com/i/acct_fake/%s", id);
	set_str(o, "hosted_invoice_url", buf);
	json_object_set_new(o, "status_transitions", json_pack("{s:o, s:o, s:o, s:o}",
		"finalized_at", json_integer(created), "marked_uncollectible_at", json_null(),
		"paid_at", paid ? json_integer(created + 60) : json_null(),
		"voided_at", !strcmp(status, "void") ? json_integer(created + 3600) : json_null()));
	snprintf(buf, sizeof buf, "/v1/invoices/%s/lines", id);
	json_object_set_new(o, "lines", json_pack("{s:s, s:o, s:b, s:i, s:s}", "object", "list",
		"data", lines, "has_more", 0, "total_count", sp.nitems, "url", buf));
	json_object_set_new(o, "parent", json_pack(
		"{s:n, s:{s:O, s:s}, s:s}", "quote_details", "subscription_details", "metadata",
		json_object_get(o, "metadata"), "subscription", sub, "type", "subscription_details"));
	shape_convert(R_INVOICES, o, s);
	if (s == SHAPE_2023 && paid) {
		derived_id(g, "ch_", R_INVOICES, i, 0, buf, sizeof buf);
		set_str(o, "charge", buf);
		derived_id(g, "pi_", R_INVOICES, i, 0, buf, sizeof buf);
		set_str(o, "payment_intent", buf);
	}
	return o;
}

static json_t *gen_refund(const struct gen *g, uint64_t i, enum shape s)
{
	json_t *o = obj_base(g, R_REFUNDS, i, T_REFUND, s);
	uint64_t gi = global_of(R_REFUNDS, i);
	uint64_t n = count_before(R_SESSIONS, gi);
	uint64_t c = pick(g, R_REFUNDS, i, 1, n);
	struct sess_p sp;
	for (int probe = 0; probe < 64; probe++) {
		uint64_t t = (c + n - (uint64_t)probe) % n;
		sess_params(g, t, &sp);
		if (!sp.subscription_mode && !strcmp(sp.status, "complete")) {
			c = t;
			break;
		}
	}
	sess_params(g, c, &sp);
	char buf[64];
	int full = H(g, R_REFUNDS, i, 2) % 100 < 60;
	int64_t amt = full ? sp.total : (sp.total / 2 > 0 ? sp.total / 2 : 1);
	set_int(o, "amount", amt);
	set_str(o, "currency", sp.currency);
	derived_id(g, "ch_", R_SESSIONS, c, 0, buf, sizeof buf);
	set_str(o, "charge", buf);
	derived_id(g, "pi_", R_SESSIONS, c, 0, buf, sizeof buf);
	set_str(o, "payment_intent", buf);
	set_str(o, "reason", full ? "requested_by_customer" : NULL);
	set_str(o, "status", "succeeded");
	if (json_object_get(o, "customer")) {
		gen_id(g, R_CUSTOMERS, sp.customer, buf, sizeof buf);
		set_str(o, "customer", buf);
	}
	json_object_set_new(o, "metadata", json_object());
	return o;
}

static json_t *gen_event(const struct gen *g, uint64_t e, enum shape s)
{
	const char *type = gen_attr(g, R_EVENTS, e);
	if (!type)
		return NULL;
	uint64_t gi = event_first_global(g) + e;
	enum res t = res_of_global(gi);
	json_t *o = obj_base(g, R_EVENTS, e, T_EVENT, s);
	set_str(o, "type", type);
	set_str(o, "api_version", shape_version(s));
	json_object_set_new(o, "data", json_pack("{s:o}", "object",
		gen_object(g, t, count_before(t, gi), s)));
	return o;
}

json_t *gen_object(const struct gen *g, enum res r, uint64_t i, enum shape s)
{
	switch (r) {
	case R_CUSTOMERS: return gen_customer(g, i, s);
	case R_PRODUCTS: return gen_product(g, i, s);
	case R_PRICES: return gen_price(g, i, s);
	case R_SUBSCRIPTIONS: return gen_subscription(g, i, s);
	case R_SESSIONS: return gen_session(g, i, s);
	case R_INVOICES: return gen_invoice(g, i, s);
	case R_REFUNDS: return gen_refund(g, i, s);
	case R_EVENTS: return gen_event(g, i, s);
	default: return NULL;
	}
}
