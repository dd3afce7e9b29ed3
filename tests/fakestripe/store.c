/* store.c - the fake's data: one ordered collection per resource.
 *
 * A collection is addressed by position 0..count-1 in ascending (created, id)
 * order; lists walk it backwards (newest first).  Positions below base_n are
 * base objects (loaded from a --data directory and sorted, or produced on
 * demand by gen.c), positions above are objects added by mutation, which are
 * always at least as new as every base object and have ids that sort after
 * them ("<prefix>zFm..."), so the order stays total and stable.
 *
 * Mutation never rewrites base objects: a changed object is stored whole in
 * the `over` map (id -> object), a deleted customer/product in `deleted`
 * (id -> {"id","object","deleted":true}, which retrieve answers with 200 as
 * Stripe does; lists skip it).  Every mutation appends an event.
 */
#include "fake.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

const struct res_info res_info[R_COUNT] = {
	{"customers", "customers.json", "cus_", "customer", "customer"},
	{"products", "products.json", "prod_", "product", "product"},
	{"prices", "prices.json", "price_", "price", "price"},
	{"subscriptions", "subscriptions.json", "sub_", "subscription", "subscription"},
	{"checkout/sessions", "checkout_sessions.json", "cs_test_a", "checkout.session",
	 "checkout.session"},
	{"invoices", "invoices.json", "in_", "invoice", "invoice"},
	{"refunds", "refunds.json", "re_", "refund", "refund"},
	{"events", "events.json", "evt_", "event", "event"},
};

static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static void coll_init(struct coll *c)
{
	memset(c, 0, sizeof *c);
	c->index = json_object();
	c->over = json_object();
	c->deleted = json_object();
}

static void coll_release(struct coll *c)
{
	for (uint64_t i = 0; c->items && i < c->base_n; i++)
		json_decref(c->items[i]);
	free(c->items);
	for (size_t i = 0; i < c->extra_n; i++)
		json_decref(c->extra[i]);
	free(c->extra);
	json_decref(c->index);
	json_decref(c->over);
	json_decref(c->deleted);
	memset(c, 0, sizeof *c);
}

static int64_t obj_created(json_t *o)
{
	return json_integer_value(json_object_get(o, "created"));
}

static const char *obj_id(json_t *o)
{
	const char *s = json_string_value(json_object_get(o, "id"));
	return s ? s : "";
}

static int cmp_obj(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int64_t cx = obj_created(x), cy = obj_created(y);
	if (cx != cy)
		return cx < cy ? -1 : 1;
	return strcmp(obj_id(x), obj_id(y));
}

/* Load one file into c; a missing file is an empty collection. */
static int load_file(struct store *st, enum res r, const char *dir, char *err, size_t errsz)
{
	struct coll *c = &st->c[r];
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, res_info[r].file);
	FILE *fp = fopen(path, "rb");
	if (!fp) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errsz, "cannot open \"%s\"", path);
		return -1;
	}
	json_error_t je;
	json_t *root = json_loadf(fp, 0, &je);
	fclose(fp);
	if (!root) {
		snprintf(err, errsz, "%s:%d: %s", path, je.line, je.text);
		return -1;
	}
	json_t *arr = json_is_array(root) ? root : json_object_get(root, "data");
	if (!json_is_array(arr)) {
		snprintf(err, errsz, "%s: expected an array of objects", path);
		json_decref(root);
		return -1;
	}
	size_t n = json_array_size(arr), k = 0;
	c->items = calloc(n ? n : 1, sizeof *c->items);
	if (!c->items)
		abort();
	int64_t horizon = fake_now() - 30 * 86400;
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_array_get(arr, i);
		if (!json_is_object(o) || !json_is_string(json_object_get(o, "id")) ||
		    !json_is_integer(json_object_get(o, "created"))) {
			snprintf(err, errsz, "%s: element %zu lacks a string \"id\" or integer \"created\"",
				 path, i);
			json_decref(root);
			return -1;
		}
		if (r == R_EVENTS && obj_created(o) < horizon)
			continue; /* Stripe keeps events for 30 days */
		if (r == R_SESSIONS) {
			json_t *li = json_object_get(o, "line_items");
			if (json_is_object(li))
				li = json_object_get(li, "data");
			if (json_is_array(li))
				json_object_set(st->line_items, obj_id(o), li);
			json_object_del(o, "line_items");
		}
		if (r == R_SUBSCRIPTIONS || r == R_INVOICES) {
			/* the whole list of children: a list object or a bare array */
			const char *key = r == R_SUBSCRIPTIONS ? "items" : "lines";
			json_t *l = json_object_get(o, key);
			if (json_is_array(l))
				json_object_set_new(o, key, json_pack("{s:s, s:O, s:b, s:I}", "object",
					"list", "data", l, "has_more", 0, "total_count",
					(json_int_t)json_array_size(l)));
		}
		c->items[k++] = json_incref(o);
	}
	json_decref(root);
	c->base_n = k;
	qsort(c->items, k, sizeof *c->items, cmp_obj);
	for (size_t i = 0; i < k; i++) {
		if (json_object_get(c->index, obj_id(c->items[i]))) {
			snprintf(err, errsz, "%s: duplicate id \"%s\"", path, obj_id(c->items[i]));
			return -1;
		}
		json_object_set_new(c->index, obj_id(c->items[i]), json_integer((json_int_t)i));
		if (obj_created(c->items[i]) > st->last_created)
			st->last_created = obj_created(c->items[i]);
	}
	return 0;
}

static void store_common_init(struct store *st)
{
	memset(st, 0, sizeof *st);
	for (int r = 0; r < R_COUNT; r++)
		coll_init(&st->c[r]);
	st->line_items = json_object();
	st->mut_rng = 0x5eed;
}

/* Load a --data directory.  0, or -1 with err set (partial data freed by
 * store_release, which the caller must still call). */
int store_load_dir(struct store *st, const char *dir, char *err, size_t errsz)
{
	store_common_init(st);
	for (int r = 0; r < R_COUNT; r++)
		if (load_file(st, (enum res)r, dir, err, errsz) < 0)
			return -1;
	return 0;
}

/* Serve generated data (nothing is allocated per object). */
void store_init_generated(struct store *st, uint64_t seed, uint64_t n, int64_t end)
{
	store_common_init(st);
	st->generated = 1;
	gen_setup(&st->gen, seed, n, end);
	st->mut_rng ^= seed;
	for (int r = 0; r < R_COUNT; r++)
		st->c[r].base_n = gen_count(&st->gen, (enum res)r);
	st->last_created = end;
}

void store_release(struct store *st)
{
	for (int r = 0; r < R_COUNT; r++)
		coll_release(&st->c[r]);
	json_decref(st->line_items);
	st->line_items = NULL;
}

uint64_t store_count(const struct store *st, enum res r)
{
	return st->c[r].base_n + st->c[r].extra_n;
}

static int is_generated_base(const struct store *st, enum res r, uint64_t pos)
{
	return st->generated && pos < st->c[r].base_n;
}

/* Stored JSON at pos (data base or extra), or NULL for generated base. */
static json_t *raw_at(const struct store *st, enum res r, uint64_t pos)
{
	const struct coll *c = &st->c[r];
	if (pos >= c->base_n)
		return c->extra[pos - c->base_n];
	return st->generated ? NULL : c->items[pos];
}

int64_t store_created(const struct store *st, enum res r, uint64_t pos)
{
	if (is_generated_base(st, r, pos))
		return gen_created(&st->gen, r, pos);
	return obj_created(raw_at(st, r, pos));
}

/* The id at pos into buf. */
static const char *id_at(const struct store *st, enum res r, uint64_t pos, char *buf, size_t size)
{
	if (is_generated_base(st, r, pos)) {
		gen_id(&st->gen, r, pos, buf, size);
		return buf;
	}
	return obj_id(raw_at(st, r, pos));
}

uint64_t store_lower_bound(const struct store *st, enum res r, int64_t t)
{
	uint64_t lo = 0, hi = store_count(st, r);
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		if (store_created(st, r, mid) >= t)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

int64_t store_find(const struct store *st, enum res r, const char *id)
{
	json_t *p = json_object_get(st->c[r].index, id);
	if (p)
		return json_integer_value(p);
	if (st->generated)
		return gen_index(&st->gen, r, id);
	return -1;
}

int store_is_deleted(const struct store *st, enum res r, uint64_t pos)
{
	if (json_object_size(st->c[r].deleted) == 0)
		return 0;
	char buf[64];
	return json_object_get(st->c[r].deleted, id_at(st, r, pos, buf, sizeof buf)) != NULL;
}

/* The current (mutated) stored object at pos, or NULL for an untouched
 * generated object.  Borrowed reference. */
static json_t *current_raw(const struct store *st, enum res r, uint64_t pos)
{
	const struct coll *c = &st->c[r];
	if (json_object_size(c->over)) {
		char buf[64];
		json_t *o = json_object_get(c->over, id_at(st, r, pos, buf, sizeof buf));
		if (o)
			return o;
	}
	return raw_at(st, r, pos);
}

const char *store_attr(const struct store *st, enum res r, uint64_t pos)
{
	json_t *o = current_raw(st, r, pos);
	if (!o)
		return gen_attr(&st->gen, r, pos);
	return json_string_value(json_object_get(o, r == R_EVENTS ? "type" : "status"));
}

static enum res res_of_object(const char *object)
{
	for (int r = 0; r < R_COUNT; r++)
		if (object && !strcmp(res_info[r].object, object))
			return (enum res)r;
	return R_COUNT;
}

/* Convert an object (and an event's data.object) into shape s. */
static void convert(enum res r, json_t *o, enum shape s)
{
	if (r == R_EVENTS) {
		json_t *d = json_object_get(json_object_get(o, "data"), "object");
		enum res dr = res_of_object(json_string_value(json_object_get(d, "object")));
		if (dr != R_COUNT)
			shape_convert(dr, d, s);
		if (s != SHAPE_ASIS && json_object_get(o, "api_version"))
			json_object_set_new(o, "api_version", json_string(shape_version(s)));
	} else {
		shape_convert(r, o, s);
	}
}

json_t *store_object(const struct store *st, enum res r, uint64_t pos, enum shape s)
{
	const struct coll *c = &st->c[r];
	char buf[64];
	if (json_object_size(c->deleted)) {
		json_t *d = json_object_get(c->deleted, id_at(st, r, pos, buf, sizeof buf));
		if (d)
			return json_deep_copy(d);
	}
	json_t *o = current_raw(st, r, pos);
	if (!o)
		return gen_object(&st->gen, r, pos, s);
	o = json_deep_copy(o);
	if (!o)
		abort();
	convert(r, o, s);
	return o;
}

json_t *store_line_items(const struct store *st, uint64_t pos, enum shape s)
{
	char buf[64];
	json_t *li = json_object_get(st->line_items, id_at(st, R_SESSIONS, pos, buf, sizeof buf));
	if (li)
		return json_deep_copy(li);
	if (is_generated_base(st, R_SESSIONS, pos))
		return gen_line_items(&st->gen, pos, s);
	return json_array();
}

/* Children of every live object, by kind: {"subscription_items": n,
 * "invoice_lines": n, "checkout_line_items": n} (whole lists, not the first
 * 10 an object embeds).  Builds every subscription, invoice and line-item
 * list once: for tests, not for polling. */
json_t *store_child_counts(const struct store *st)
{
	static const struct { enum res r; const char *list, *name; } kinds[] = {
		{R_SUBSCRIPTIONS, "items", "subscription_items"},
		{R_INVOICES, "lines", "invoice_lines"},
		{R_SESSIONS, NULL, "checkout_line_items"},
	};
	json_t *out = json_object();
	for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
		enum res r = kinds[k].r;
		uint64_t n = 0, count = store_count(st, r);
		for (uint64_t pos = 0; pos < count; pos++) {
			if (store_is_deleted(st, r, pos))
				continue;
			json_t *o = kinds[k].list ? store_object(st, r, pos, SHAPE_2026) :
				    store_line_items(st, pos, SHAPE_2026);
			n += kinds[k].list ? json_array_size(json_object_get(
				json_object_get(o, kinds[k].list), "data")) : json_array_size(o);
			json_decref(o);
		}
		json_object_set_new(out, kinds[k].name, json_integer((json_int_t)n));
	}
	return out;
}

/* ---- mutation ----------------------------------------------------------- */

static void extra_append(struct store *st, enum res r, json_t *o)
{
	struct coll *c = &st->c[r];
	if (c->extra_n == c->extra_cap) {
		size_t cap = c->extra_cap ? c->extra_cap * 2 : 64;
		json_t **p = realloc(c->extra, cap * sizeof *p);
		if (!p)
			abort();
		c->extra = p;
		c->extra_cap = cap;
	}
	c->extra[c->extra_n] = o;
	json_object_set_new(c->index, obj_id(o), json_integer((json_int_t)(c->base_n + c->extra_n)));
	c->extra_n++;
}

/* created for a new object of r: now, but never older than the newest. */
static int64_t new_created(struct store *st, enum res r)
{
	int64_t t = fake_now();
	uint64_t n = store_count(st, r);
	if (n) {
		int64_t newest = store_created(st, r, n - 1);
		if (newest > t)
			t = newest;
	}
	return t;
}

static void new_id(struct store *st, enum res r, char *buf, size_t size)
{
	char tail[12];
	uint64_t v = ++st->mut_serial;
	for (int k = 7; k >= 0; k--) {
		tail[k] = b62[v % 62];
		v /= 62;
	}
	tail[8] = 0;
	snprintf(buf, size, "%szFm%s", res_info[r].prefix, tail);
}

/* Append an event of type with a snapshot of obj (and previous_attributes
 * when prev is not NULL; stolen).  Returns the event id (borrowed). */
static const char *emit_event(struct store *st, const char *type, json_t *obj, json_t *prev)
{
	char id[64];
	new_id(st, R_EVENTS, id, sizeof id);
	json_t *ev = shape_template(T_EVENT, SHAPE_2026);
	json_object_set_new(ev, "id", json_string(id));
	json_object_set_new(ev, "created", json_integer(new_created(st, R_EVENTS)));
	json_object_set_new(ev, "type", json_string(type));
	json_object_set_new(ev, "api_version", json_string(shape_version(SHAPE_2026)));
	json_t *data = json_pack("{s:O}", "object", obj);
	if (prev)
		json_object_set_new(data, "previous_attributes", prev);
	json_object_set_new(ev, "data", data);
	extra_append(st, R_EVENTS, ev);
	return obj_id(ev);
}

/* Store obj as the current version of the object at pos (steals obj). */
static void put_current(struct store *st, enum res r, uint64_t pos, json_t *obj)
{
	if (pos >= st->c[r].base_n) {
		struct coll *c = &st->c[r];
		json_decref(c->extra[pos - c->base_n]);
		c->extra[pos - c->base_n] = obj;
		return;
	}
	json_object_set_new(st->c[r].over, obj_id(obj), obj);
}

static uint64_t mrand(struct store *st, uint64_t n)
{
	return n ? fake_rand(&st->mut_rng) % n : 0;
}

/* Random live (not deleted) position of r, or -1. */
static int64_t random_pos(struct store *st, enum res r)
{
	uint64_t n = store_count(st, r);
	for (int tries = 0; n && tries < 32; tries++) {
		uint64_t p = mrand(st, n);
		if (!store_is_deleted(st, r, p))
			return (int64_t)p;
	}
	return -1;
}

/* Clone the object at pos as a new object (new id, created now); the items
 * of a subscription and the lines of an invoice name the clone as theirs. */
static json_t *clone_new(struct store *st, enum res r, uint64_t pos)
{
	json_t *o = store_object(st, r, pos, SHAPE_2026);
	char id[64];
	new_id(st, r, id, sizeof id);
	json_object_set_new(o, "id", json_string(id));
	json_object_set_new(o, "created", json_integer(new_created(st, r)));
	const char *list = r == R_SUBSCRIPTIONS ? "items" : r == R_INVOICES ? "lines" : NULL;
	const char *key = r == R_SUBSCRIPTIONS ? "subscription" : "invoice";
	size_t i;
	json_t *child;
	json_array_foreach(json_object_get(json_object_get(o, list ? list : ""), "data"), i, child)
		if (json_object_get(child, key))
			json_object_set_new(child, key, json_string(id));
	return o;
}

static json_t *charge_for_refund(json_t *refund, int64_t created)
{
	json_t *ch = shape_template(T_CHARGE, SHAPE_2026);
	json_t *amt = json_object_get(refund, "amount");
	json_object_set(ch, "id", json_object_get(refund, "charge"));
	json_object_set(ch, "payment_intent", json_object_get(refund, "payment_intent"));
	json_object_set(ch, "currency", json_object_get(refund, "currency"));
	json_object_set(ch, "amount", amt);
	json_object_set(ch, "amount_captured", amt);
	json_object_set(ch, "amount_refunded", amt);
	json_object_set(ch, "customer", json_object_get(refund, "customer"));
	json_object_set_new(ch, "captured", json_true());
	json_object_set_new(ch, "refunded", json_true());
	json_object_set_new(ch, "created", json_integer(created));
	return ch;
}

/* One mutation.  action NULL = random fitting the resource; pos < 0 =
 * random.  Fills *out with {resource, action, id, events}; 0 or -1 + err. */
static int mutate_one(struct store *st, enum res r, const char *action, int64_t pos,
		      json_t *out, char *err, size_t errsz)
{
	static const char *const acts[R_COUNT][3] = {
		{"update", "delete", NULL}, {"update", "delete", NULL}, {"update", NULL, NULL},
		{"update", "cancel", "add"}, {"complete", "add", NULL}, {"pay", "add", NULL},
		{"add", NULL, NULL}, {NULL, NULL, NULL},
	};
	if (!action) {
		int n = 0;
		while (n < 3 && acts[r][n])
			n++;
		if (n == 0) {
			snprintf(err, errsz, "resource \"%s\" cannot be mutated", res_info[r].path);
			return -1;
		}
		action = acts[r][mrand(st, (uint64_t)n)];
	}
	int known = 0;
	for (int k = 0; k < 3; k++)
		known |= acts[r][k] && !strcmp(acts[r][k], action);
	if (!known) {
		snprintf(err, errsz, "action \"%s\" is not supported on \"%s\"", action, res_info[r].path);
		return -1;
	}
	if (pos < 0 && strcmp(action, "add") != 0)
		pos = random_pos(st, r);
	if (strcmp(action, "add") == 0 && pos < 0)
		pos = random_pos(st, r);
	if (pos < 0) {
		snprintf(err, errsz, "no object of \"%s\" to mutate", res_info[r].path);
		return -1;
	}
	json_t *events = json_array();
	json_t *o;
	if (!strcmp(action, "add")) {
		o = clone_new(st, r, (uint64_t)pos);
		if (r == R_SUBSCRIPTIONS) {
			json_object_set_new(o, "status", json_string("active"));
			json_object_set_new(o, "canceled_at", json_null());
			json_object_set_new(o, "ended_at", json_null());
		} else if (r == R_SESSIONS) {
			json_object_set_new(o, "status", json_string("complete"));
			json_object_set_new(o, "payment_status", json_string("paid"));
			json_t *li = store_line_items(st, (uint64_t)pos, SHAPE_2026);
			json_object_set_new(st->line_items, obj_id(o), li);
		} else if (r == R_INVOICES) {
			json_object_set_new(o, "status", json_string("paid"));
			json_object_set(o, "amount_paid", json_object_get(o, "amount_due"));
			json_object_set_new(o, "amount_remaining", json_integer(0));
		}
		extra_append(st, r, json_incref(o));
		const char *type = r == R_SUBSCRIPTIONS ? "customer.subscription.created" :
				   r == R_SESSIONS ? "checkout.session.completed" :
				   r == R_INVOICES ? "invoice.paid" : "refund.created";
		json_array_append_new(events, json_string(emit_event(st, type, o, NULL)));
		if (r == R_REFUNDS) {
			json_t *ch = charge_for_refund(o, obj_created(o));
			json_array_append_new(events, json_string(emit_event(st, "charge.refunded", ch, NULL)));
			json_decref(ch);
		}
	} else {
		o = store_object(st, r, (uint64_t)pos, SHAPE_2026);
		json_t *prev = json_object();
		const char *type = NULL;
		const char *status = json_string_value(json_object_get(o, "status"));
		if (r == R_CUSTOMERS || r == R_PRODUCTS) {
			if (!strcmp(action, "delete")) {
				json_t *stub = json_pack("{s:O, s:s, s:b}", "id", json_object_get(o, "id"),
							 "object", res_info[r].object, "deleted", 1);
				json_object_set_new(st->c[r].deleted, obj_id(o), stub);
				type = r == R_CUSTOMERS ? "customer.deleted" : "product.deleted";
				json_decref(prev);
				prev = NULL;
			} else {
				const char *k = r == R_CUSTOMERS ? "email" : "name";
				json_object_set(prev, k, json_object_get(o, k));
				char v[128];
				snprintf(v, sizeof v, "%s%" PRIu64 "%s", r == R_CUSTOMERS ? "changed" : "Renamed ",
					 st->mut_serial + 1, r == R_CUSTOMERS ? "@example.test" : "");
				json_object_set_new(o, k, json_string(v));
				type = r == R_CUSTOMERS ? "customer.updated" : "product.updated";
			}
		} else if (r == R_PRICES) {
			json_object_set(prev, "active", json_object_get(o, "active"));
			json_object_set_new(o, "active", json_boolean(!json_is_true(json_object_get(o, "active"))));
			type = "price.updated";
		} else if (r == R_SUBSCRIPTIONS) {
			int canceled = status && (!strcmp(status, "canceled") || !strcmp(status, "incomplete_expired"));
			if (!strcmp(action, "cancel") && !canceled) {
				int64_t now = fake_now();
				json_object_set_new(prev, "status", json_string(status));
				json_object_set_new(o, "status", json_string("canceled"));
				json_object_set_new(o, "canceled_at", json_integer(now));
				json_object_set_new(o, "ended_at", json_integer(now));
				type = "customer.subscription.deleted";
			} else {
				/* the last item: beyond the first 10 of a big subscription */
				json_t *items = json_object_get(json_object_get(o, "items"), "data");
				json_t *it = json_array_get(items, json_array_size(items) - 1);
				json_int_t q = json_integer_value(json_object_get(it, "quantity"));
				json_object_set_new(prev, "items", json_pack("{s:[{s:s,s:I}]}", "data", "id",
					obj_id(it), "quantity", q));
				json_object_set_new(it, "quantity", json_integer(q + 1 + (json_int_t)mrand(st, 5)));
				if (status && !strcmp(status, "active") && mrand(st, 4) == 0) {
					json_object_set_new(prev, "status", json_string(status));
					json_object_set_new(o, "status", json_string("past_due"));
				} else if (status && !strcmp(status, "past_due")) {
					json_object_set_new(prev, "status", json_string(status));
					json_object_set_new(o, "status", json_string("active"));
				}
				type = "customer.subscription.updated";
			}
		} else if (r == R_SESSIONS) {
			json_object_set_new(prev, "status", json_string(status ? status : ""));
			json_object_set_new(o, "status", json_string("complete"));
			json_object_set_new(o, "payment_status", json_string("paid"));
			type = "checkout.session.completed";
		} else if (r == R_INVOICES) {
			json_object_set_new(prev, "status", json_string(status ? status : ""));
			json_object_set_new(o, "status", json_string("paid"));
			json_object_set(o, "amount_paid", json_object_get(o, "amount_due"));
			json_object_set_new(o, "amount_remaining", json_integer(0));
			type = "invoice.paid";
		}
		if (strcmp(action, "delete") != 0)
			put_current(st, r, (uint64_t)pos, json_incref(o));
		json_array_append_new(events, json_string(emit_event(st, type, o, prev)));
	}
	json_object_set_new(out, "resource", json_string(res_info[r].path));
	json_object_set_new(out, "action", json_string(action));
	json_object_set(out, "id", json_object_get(o, "id"));
	json_object_set_new(out, "events", events);
	json_decref(o);
	return 0;
}

static enum res res_by_path(const char *p)
{
	for (int r = 0; r < R_COUNT; r++)
		if (!strcmp(res_info[r].path, p) || !strcmp(res_info[r].object, p))
			return (enum res)r;
	return R_COUNT;
}

json_t *store_mutate(struct store *st, json_t *spec, char *err, size_t errsz)
{
	if (!json_is_object(spec)) {
		snprintf(err, errsz, "body must be a JSON object");
		return NULL;
	}
	json_t *seed = json_object_get(spec, "seed");
	if (json_is_integer(seed))
		st->mut_rng = (uint64_t)json_integer_value(seed) ^ 0x5eed;
	const char *rname = json_string_value(json_object_get(spec, "resource"));
	const char *action = json_string_value(json_object_get(spec, "action"));
	const char *id = json_string_value(json_object_get(spec, "id"));
	enum res fixed = R_COUNT;
	if (rname && (fixed = res_by_path(rname)) == R_COUNT) {
		snprintf(err, errsz, "unknown resource \"%s\"", rname);
		return NULL;
	}
	uint64_t count = 1;
	json_t *cnt = json_object_get(spec, "count");
	json_t *frac = json_object_get(spec, "fraction");
	if (json_is_integer(cnt) && json_integer_value(cnt) >= 0)
		count = (uint64_t)json_integer_value(cnt);
	else if (json_is_number(frac)) {
		uint64_t total = 0;
		for (int r = 0; r < R_EVENTS; r++)
			total += store_count(st, (enum res)r);
		count = (uint64_t)(json_number_value(frac) * (double)total + 0.5);
	}
	int64_t pos = -1;
	if (id) {
		if (fixed == R_COUNT) {
			snprintf(err, errsz, "\"id\" needs \"resource\"");
			return NULL;
		}
		if ((pos = store_find(st, fixed, id)) < 0) {
			snprintf(err, errsz, "no such %s: '%s'", res_info[fixed].noun, id);
			return NULL;
		}
		count = 1;
	}
	json_t *res = json_object();
	json_t *list = json_array();
	uint64_t done = 0;
	for (uint64_t k = 0; k < count; k++) {
		enum res r = fixed;
		if (r == R_COUNT) {
			static const enum res pickr[20] = {
				R_SUBSCRIPTIONS, R_SUBSCRIPTIONS, R_SUBSCRIPTIONS, R_SUBSCRIPTIONS,
				R_SUBSCRIPTIONS, R_SUBSCRIPTIONS, R_SUBSCRIPTIONS, R_SUBSCRIPTIONS,
				R_SESSIONS, R_SESSIONS, R_SESSIONS, R_INVOICES, R_INVOICES, R_INVOICES,
				R_CUSTOMERS, R_CUSTOMERS, R_REFUNDS, R_REFUNDS, R_PRODUCTS, R_PRICES,
			};
			r = pickr[mrand(st, 20)];
		}
		json_t *one = json_object();
		if (mutate_one(st, r, action, pos, one, err, errsz) < 0) {
			json_decref(one);
			if (fixed != R_COUNT || id) {
				json_decref(list);
				json_decref(res);
				return NULL;
			}
			continue; /* random pick hit an empty resource */
		}
		done++;
		if (json_array_size(list) < 1000)
			json_array_append_new(list, one);
		else
			json_decref(one);
	}
	json_object_set_new(res, "count", json_integer((json_int_t)done));
	json_object_set_new(res, "mutations", list);
	return res;
}
