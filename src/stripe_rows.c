/*
 * stripe_rows.c - Stripe JSON (list pages, objects, events) into typed
 * rows; see stripe_rows.h for the contract and the two API shapes.
 *
 * The body is read with jdoc (strict JSON: valid UTF-8, no duplicate
 * keys, no NUL in strings; see jdoc.h) into one flat tree; the page keeps
 * the tree's decoded strings (jdoc_strings_ref), which the rows' strings
 * point into, and drops the tree once the rows are built.  Everything else the page
 * allocates (row arrays, the compact raw JSON of each object) is
 * remembered in the page's mem list and freed with it.
 *
 * Raw JSON: jdoc records the bytes of every value in the body, so the raw
 * JSON of an object or child is those bytes with the whitespace outside
 * strings removed (a plain copy when there is none): the object as
 * received, in compact form.  Every getter checks the JSON type of the
 * field it reads and names the field on failure; nothing is read without
 * a check, so any input is safe.  Error text never carries more than a
 * short, printable excerpt of the input.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "jdoc.h"
#include "stripe_rows.h"

#define STRIPE_ID_MAX 255

/* Blocks of raw JSON text: a page's raw strings are carved out of them. */
#define RAW_BLOCK_MIN 4096

struct stripe_page_mem {
	struct jdoc_strings *strs;      /* what the rows' strings point into */
	void **ptrs;
	size_t n, cap;
	char *blk;              /* current raw block (also in ptrs) */
	size_t blk_used, blk_cap;
	size_t blk_hint;        /* size of the next block: about the body's */
	size_t bytes;           /* allocated for the page, strings included */
};

/*
 * Where we are, for messages: the object (label + id) and the field path.
 * The path is kept as a chain of segments and spelled out only when a
 * message needs it (path_of): formatting it for every object and field
 * cost a twentieth of turning a page into rows.
 */
#define PCTX_PATH_MAX 96        /* a longer path is cut, never overflowed */
#define PCTX_NAME_MAX 64        /* an element's "list.data[i]" */

struct pctx {
	struct err *e;
	struct stripe_page_mem *mem;
	const char *what;       /* Stripe object type, e.g. "subscription" */
	const char *id;         /* object id once known */
	const char *where;      /* before the id is known: "subscriptions page" ... */
	long where_index;       /* ... + ": data[where_index]" when >= 0 */
	const struct pctx *up;  /* the path: up's, then this segment (none at the root) */
	const char *seg, *seg2; /* "seg" + "seg2" + ".", or with list: */
	const char *list;       /* "list.data[index]." */
	size_t index;
};

enum { OPT = 0, REQ = 1 };

static const struct {
	const char *object;
	const char *resource;
} kind_names[STRIPE_KIND_COUNT] = {
	[STRIPE_NONE] = { "", "" },
	[STRIPE_CUSTOMER] = { "customer", "customers" },
	[STRIPE_PRODUCT] = { "product", "products" },
	[STRIPE_PRICE] = { "price", "prices" },
	[STRIPE_SUBSCRIPTION] = { "subscription", "subscriptions" },
	[STRIPE_CHECKOUT_SESSION] = { "checkout.session", "checkout_sessions" },
	[STRIPE_CHECKOUT_LINE_ITEM] = { "item", "checkout_line_items" },
	[STRIPE_REFUND] = { "refund", "refunds" },
	[STRIPE_INVOICE] = { "invoice", "invoices" },
	[STRIPE_EVENT] = { "event", "events" },
	[STRIPE_SUBSCRIPTION_ITEM] = { "subscription_item", "subscription_items" },
	[STRIPE_INVOICE_LINE] = { "line_item", "invoice_lines" },
};

const char *stripe_kind_object(enum stripe_kind kind)
{
	return kind > STRIPE_NONE && kind < STRIPE_KIND_COUNT ? kind_names[kind].object : "";
}

const char *stripe_kind_resource(enum stripe_kind kind)
{
	return kind > STRIPE_NONE && kind < STRIPE_KIND_COUNT ? kind_names[kind].resource : "";
}

enum stripe_kind stripe_kind_from_resource(const char *name)
{
	int k;

	for (k = STRIPE_NONE + 1; name && k < STRIPE_KIND_COUNT; k++)
		if (strcmp(name, kind_names[k].resource) == 0)
			return (enum stripe_kind)k;
	return STRIPE_NONE;
}

enum stripe_kind stripe_kind_from_object(const char *type)
{
	int k;

	for (k = STRIPE_NONE + 1; type && k < STRIPE_KIND_COUNT; k++)
		if (strcmp(type, kind_names[k].object) == 0)
			return (enum stripe_kind)k;
	return STRIPE_NONE;
}

enum stripe_kind stripe_kind_child(enum stripe_kind parent)
{
	switch (parent) {
	case STRIPE_SUBSCRIPTION: return STRIPE_SUBSCRIPTION_ITEM;
	case STRIPE_CHECKOUT_SESSION: return STRIPE_CHECKOUT_LINE_ITEM;
	case STRIPE_INVOICE: return STRIPE_INVOICE_LINE;
	default: return STRIPE_NONE;
	}
}

enum stripe_kind stripe_kind_parent(enum stripe_kind child)
{
	switch (child) {
	case STRIPE_SUBSCRIPTION_ITEM: return STRIPE_SUBSCRIPTION;
	case STRIPE_CHECKOUT_LINE_ITEM: return STRIPE_CHECKOUT_SESSION;
	case STRIPE_INVOICE_LINE: return STRIPE_INVOICE;
	default: return STRIPE_NONE;
	}
}

enum stripe_kind stripe_row_more_children(const struct stripe_row *r)
{
	int more = 0;

	if (!r || r->deleted)
		return STRIPE_NONE;
	switch (r->kind) {
	case STRIPE_SUBSCRIPTION:
		more = r->u.subscription.items_present && r->u.subscription.items_has_more;
		break;
	case STRIPE_CHECKOUT_SESSION:
		more = r->u.session.line_items_present && r->u.session.line_items_has_more;
		break;
	case STRIPE_INVOICE:
		more = r->u.invoice.lines_present && r->u.invoice.lines_has_more;
		break;
	default:
		break;
	}
	return more ? stripe_kind_child(r->kind) : STRIPE_NONE;
}

/* --- page memory ------------------------------------------------------ */

/* Remember p (size bytes from malloc) as owned by the page; NULL if p is. */
static void *mem_keep(struct stripe_page_mem *m, void *p, size_t size)
{
	if (!p)
		return NULL;
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 16;
		void **np = realloc(m->ptrs, cap * sizeof *np);

		if (!np) {
			free(p);
			return NULL;
		}
		m->ptrs = np;
		m->cap = cap;
	}
	m->ptrs[m->n++] = p;
	m->bytes += size;
	return p;
}

static void mem_free(struct stripe_page_mem *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->n; i++)
		free(m->ptrs[i]);
	free(m->ptrs);
	jdoc_strings_unref(m->strs);
	free(m);
}

size_t stripe_page_bytes(const struct stripe_page *p)
{
	if (!p)
		return 0;
	return sizeof *p + (p->mem ? sizeof *p->mem + p->mem->cap * sizeof *p->mem->ptrs +
			    p->mem->bytes : 0);
}

void stripe_page_free(struct stripe_page *p)
{
	if (!p)
		return;
	mem_free(p->mem);
	free(p);
}

/* --- raw JSON ------------------------------------------------------------ */

/* n bytes of raw text owned by the page (carved from blocks). */
static char *raw_alloc(struct stripe_page_mem *m, size_t n)
{
	char *p;

	if (!m->blk || m->blk_cap - m->blk_used < n) {
		size_t cap = m->blk_hint > RAW_BLOCK_MIN ? m->blk_hint : RAW_BLOCK_MIN;

		if (cap < n)
			cap = n;
		if (!(p = mem_keep(m, malloc(cap), cap)))
			return NULL;
		m->blk = p;
		m->blk_cap = cap;
		m->blk_used = 0;
	}
	p = m->blk + m->blk_used;
	m->blk_used += n;
	return p;
}

static int is_ws(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/*
 * The compact copy of v's bytes in the body: the bytes, less whitespace
 * outside strings (a plain copy when the reader saw none).
 */
static const char *raw_compact(struct stripe_page_mem *m, const struct jval *v, size_t *len)
{
	char *out = raw_alloc(m, (size_t)v->rawlen + 1);
	size_t i, j = 0, n = v->rawlen;
	const char *raw = v->raw;
	int in_str = 0;

	if (!out)
		return NULL;
	if (!v->ws) {
		memcpy(out, raw, n);
		out[n] = '\0';
		*len = n;
		return out;
	}
	for (i = 0; i < n; i++) {
		char ch = raw[i];

		if (in_str) {
			out[j++] = ch;
			if (ch == '\\' && i + 1 < n)
				out[j++] = raw[++i];
			else if (ch == '"')
				in_str = 0;
		} else if (!is_ws(ch)) {
			out[j++] = ch;
			in_str = ch == '"';
		}
	}
	out[j] = '\0';
	*len = j;
	return out;
}

/* --- messages ----------------------------------------------------------- */

/* Copy at most sz - 4 printable ASCII characters of s into buf (for messages). */
static const char *excerpt(const char *s, char *buf, size_t sz)
{
	size_t i, j = 0;

	for (i = 0; s && s[i] && j + 4 < sz; i++)
		buf[j++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (s && s[i] && j + 4 <= sz) {
		memcpy(buf + j, "...", 3);
		j += 3;
	}
	buf[j] = '\0';
	return buf;
}

/*
 * Append c's path (every segment from the root) to path, which holds len
 * characters, as far as PCTX_PATH_MAX allows; returns the new length.
 */
static size_t path_of(const struct pctx *c, char *path, size_t len)
{
	char name[PCTX_NAME_MAX];
	const char *parts[3] = { c->seg, c->seg2, "." };
	size_t i, j;

	if (!c->up)
		return len;
	len = path_of(c->up, path, len);
	if (c->list) {
		snprintf(name, sizeof name, "%s.data[%zu]", c->list, c->index);
		parts[0] = name;
		parts[1] = NULL;
	}
	for (i = 0; i < 3; i++)
		for (j = 0; parts[i] && parts[i][j] && len + 1 < PCTX_PATH_MAX; j++)
			path[len++] = parts[i][j];
	path[len] = '\0';
	return len;
}

/* c->where, with the object's index in its page when it has one. */
static const char *where_of(const struct pctx *c, char *buf, size_t sz)
{
	if (c->where_index < 0)
		return c->where;
	snprintf(buf, sz, "%s: data[%ld]", c->where, c->where_index);
	return buf;
}

/* "OBJECT \"ID\": PREFIXFIELD PROBLEM" (or "WHERE: ..." before the id). */
static int perr(struct pctx *c, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int perr(struct pctx *c, const char *field, const char *fmt, ...)
{
	char problem[160], path[PCTX_PATH_MAX], where[PCTX_PATH_MAX + 32];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(problem, sizeof problem, fmt, ap);
	va_end(ap);
	path[0] = '\0';
	path_of(c, path, 0);
	if (c->id)
		return err_set(c->e, EXIT_DATAERR, "%s \"%s\": %s%s %s", c->what, c->id,
			       path, field, problem);
	return err_set(c->e, EXIT_DATAERR, "%s: %s%s %s", where_of(c, where, sizeof where), path,
		       field, problem);
}

static int oom(struct err *e)
{
	return err_set(e, EXIT_SOFTWARE, "out of memory");
}

/*
 * sub = c with the field path extended by "a" + "b" + "." (b may be NULL).
 * sub refers to c (and to a and b): it must not outlive them.
 */
static void nest(struct pctx *sub, const struct pctx *c, const char *a, const char *b)
{
	*sub = *c;
	sub->up = c;
	sub->seg = a;
	sub->seg2 = b;
	sub->list = NULL;
}

/* --- getters: each checks the JSON type and names the field ------------ */

/* The field, or NULL when absent or null; -1 (e set) when required. */
static int field(struct pctx *c, const struct jval *o, const char *key, int req, const struct jval **out)
{
	const struct jval *v = o ? jv_get(o, key) : NULL;

	*out = NULL;
	if (!v || jv_is_null(v)) {
		if (req)
			return perr(c, key, "is missing");
		return 0;
	}
	*out = v;
	return 0;
}

static int get_str(struct pctx *c, const struct jval *o, const char *key, int req, const char **out)
{
	const struct jval *v;
	int rc;

	*out = NULL;
	if ((rc = field(c, o, key, req, &v)) != 0 || !v)
		return rc;
	if (!jv_is_string(v))
		return perr(c, key, "is not a string");
	*out = jv_str(v);
	return 0;
}

/* Stripe ids: 1..255 characters of [A-Za-z0-9_.:-]. */
static int id_ok(const char *s)
{
	/* bit c of the 128: character c is allowed ('-' '.' 0-9 ':', A-Z '_' a-z) */
	static const uint64_t allowed[2] = { 0x07ff600000000000ull, 0x07fffffe87fffffeull };
	size_t i;

	for (i = 0; s[i]; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (i >= STRIPE_ID_MAX || ch >= 128 || !((allowed[ch >> 6] >> (ch & 63)) & 1))
			return 0;
	}
	return i > 0;
}

/* A Stripe id field: a string id. */
static int get_id(struct pctx *c, const struct jval *o, const char *key, int req, const char **out)
{
	char buf[64];
	int rc;

	if ((rc = get_str(c, o, key, req, out)) != 0 || !*out)
		return rc;
	if (!id_ok(*out))
		return perr(c, key, "is not a valid id (\"%s\")", excerpt(*out, buf, sizeof buf));
	return 0;
}

/* An expandable reference: a string id or an expanded object with an id. */
static int get_ref(struct pctx *c, const struct jval *o, const char *key, int req, const char **out)
{
	const struct jval *v;
	int rc;

	*out = NULL;
	if ((rc = field(c, o, key, req, &v)) != 0 || !v)
		return rc;
	if (jv_is_object(v)) {
		struct pctx sub;

		nest(&sub, c, key, NULL);
		return get_id(&sub, v, "id", REQ, out);
	}
	return get_id(c, o, key, req, out);
}

static int get_int(struct pctx *c, const struct jval *o, const char *key, int req, struct stripe_int *out)
{
	const struct jval *v;
	int rc;

	out->set = 0;
	out->v = 0;
	if ((rc = field(c, o, key, req, &v)) != 0 || !v)
		return rc;
	if (!jv_is_int(v))
		return perr(c, key, "is not an integer");
	out->v = v->u.i;
	out->set = 1;
	return 0;
}

/* A count that cannot be negative (quantities). */
static int get_count(struct pctx *c, const struct jval *o, const char *key, int req, struct stripe_int *out)
{
	int rc = get_int(c, o, key, req, out);

	if (rc == 0 && out->set && out->v < 0)
		return perr(c, key, "is negative (%lld)", out->v);
	return rc;
}

static int get_bool(struct pctx *c, const struct jval *o, const char *key, int req, int *out)
{
	const struct jval *v;
	int rc;

	*out = -1;
	if ((rc = field(c, o, key, req, &v)) != 0 || !v)
		return rc;
	if (!jv_is_bool(v))
		return perr(c, key, "is not a boolean");
	*out = jv_is_true(v) ? 1 : 0;
	return 0;
}

static int get_obj(struct pctx *c, const struct jval *o, const char *key, int req, const struct jval **out)
{
	const struct jval *v;
	int rc;

	*out = NULL;
	if ((rc = field(c, o, key, req, &v)) != 0 || !v)
		return rc;
	if (!jv_is_object(v))
		return perr(c, key, "is not an object");
	*out = v;
	return 0;
}

/* An ISO 4217 code: three ASCII letters, stored lowercase in out[4]. */
static int get_currency(struct pctx *c, const struct jval *o, const char *key, int req, char out[4])
{
	const char *s;
	char buf[64];
	int rc, i;

	out[0] = '\0';
	if ((rc = get_str(c, o, key, req, &s)) != 0 || !s)
		return rc;
	for (i = 0; i < 3; i++) {
		char ch = s[i];

		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		if (ch < 'a' || ch > 'z')
			break;
		out[i] = ch;
	}
	if (i < 3 || s[3] != '\0') {
		out[0] = '\0';
		return perr(c, key, "\"%s\" is not a three-letter currency code",
			    excerpt(s, buf, sizeof buf));
	}
	out[3] = '\0';
	return 0;
}

static int get_metadata(struct pctx *c, const struct jval *o, const char *key, struct stripe_metadata *m)
{
	const struct jval *md;
	struct pctx sub;
	int rc;

	if ((rc = get_obj(c, o, key, OPT, &md)) != 0 || !md)
		return rc;
	nest(&sub, c, key, NULL);
	if ((rc = get_str(&sub, md, "tenant_id", OPT, &m->tenant_id)) != 0 ||
	    (rc = get_str(&sub, md, "user_id", OPT, &m->user_id)) != 0 ||
	    (rc = get_str(&sub, md, "trueup_plan", OPT, &m->trueup_plan)) != 0 ||
	    (rc = get_str(&sub, md, "trueup_course_program", OPT, &m->trueup_course_program)) != 0)
		return rc;
	return 0;
}

/* An embedded list object: {"object":"list","data":[...],"has_more":...}. */
static int get_list(struct pctx *c, const struct jval *o, const char *key, int req, const struct jval **data,
		    int *has_more)
{
	const struct jval *l, *type;
	int rc;

	*data = NULL;
	*has_more = 0;
	if ((rc = field(c, o, key, req, &l)) != 0 || !l)
		return rc;
	type = jv_is_object(l) ? jv_get(l, "object") : NULL;
	if (!jv_is_object(l) || (type && !(jv_is_string(type) &&
					     strcmp(jv_str(type), "list") == 0)))
		return perr(c, key, "is not a list object");
	*data = jv_get(l, "data");
	if (!jv_is_array(*data))
		return perr(c, key, ".data is not an array");
	if (jv_get(l, "has_more")) {
		struct pctx sub;

		nest(&sub, c, key, NULL);
		if ((rc = get_bool(&sub, l, "has_more", OPT, has_more)) != 0)
			return rc;
		if (*has_more < 0)
			*has_more = 0;
	}
	return 0;
}

/* The compact JSON of v (its bytes in the body), owned by the page. */
static int dump_raw(struct pctx *c, const struct jval *v, const char **out, size_t *len)
{
	if (!(*out = raw_compact(c->mem, v, len)))
		return oom(c->e);
	return 0;
}

static void *page_calloc(struct pctx *c, size_t n, size_t size)
{
	return mem_keep(c->mem, calloc(n ? n : 1, size), (n ? n : 1) * size);
}

/* --- resources --------------------------------------------------------- */

/* A price object (or a bare price id) embedded at key of o. */
static int parse_price_ref(struct pctx *c, const struct jval *o, const char *key,
			   struct stripe_price_ref *p)
{
	const struct jval *v;
	struct pctx sub;
	int rc;

	if ((rc = field(c, o, key, OPT, &v)) != 0 || !v)
		return rc;
	if (jv_is_string(v))
		return get_id(c, o, key, OPT, &p->id);
	if (!jv_is_object(v))
		return perr(c, key, "is not an object");
	nest(&sub, c, key, NULL);
	if ((rc = get_id(&sub, v, "id", REQ, &p->id)) != 0 ||
	    (rc = get_ref(&sub, v, "product", OPT, &p->product)) != 0 ||
	    (rc = get_str(&sub, v, "lookup_key", OPT, &p->lookup_key)) != 0 ||
	    (rc = get_currency(&sub, v, "currency", OPT, p->currency)) != 0 ||
	    (rc = get_int(&sub, v, "unit_amount", OPT, &p->unit_amount)) != 0)
		return rc;
	{
		struct stripe_metadata m = { 0 };

		if ((rc = get_metadata(&sub, v, "metadata", &m)) != 0)
			return rc;
		p->trueup_plan = m.trueup_plan;
		p->trueup_course_program = m.trueup_course_program;
	}
	return 0;
}

static int parse_customer(struct pctx *c, const struct jval *o, struct stripe_customer *r)
{
	int rc;

	if ((rc = get_str(c, o, "email", OPT, &r->email)) != 0 ||
	    (rc = get_str(c, o, "name", OPT, &r->name)) != 0 ||
	    (rc = get_currency(c, o, "currency", OPT, r->currency)) != 0)
		return rc;
	return get_metadata(c, o, "metadata", &r->metadata);
}

static int parse_product(struct pctx *c, const struct jval *o, struct stripe_product *r)
{
	int rc;

	if ((rc = get_str(c, o, "name", OPT, &r->name)) != 0 ||
	    (rc = get_ref(c, o, "default_price", OPT, &r->default_price)) != 0 ||
	    (rc = get_bool(c, o, "active", OPT, &r->active)) != 0)
		return rc;
	return get_metadata(c, o, "metadata", &r->metadata);
}

static int parse_price(struct pctx *c, const struct jval *o, struct stripe_price *r)
{
	const struct jval *rec;
	int rc;

	if ((rc = get_ref(c, o, "product", REQ, &r->product)) != 0 ||
	    (rc = get_currency(c, o, "currency", REQ, r->currency)) != 0 ||
	    (rc = get_int(c, o, "unit_amount", OPT, &r->unit_amount)) != 0 ||
	    (rc = get_str(c, o, "type", OPT, &r->type)) != 0 ||
	    (rc = get_str(c, o, "lookup_key", OPT, &r->lookup_key)) != 0 ||
	    (rc = get_str(c, o, "nickname", OPT, &r->nickname)) != 0 ||
	    (rc = get_bool(c, o, "active", OPT, &r->active)) != 0 ||
	    (rc = get_obj(c, o, "recurring", OPT, &rec)) != 0)
		return rc;
	if (rec) {
		struct pctx sub;

		nest(&sub, c, "recurring", NULL);
		if ((rc = get_str(&sub, rec, "interval", OPT, &r->recurring_interval)) != 0 ||
		    (rc = get_int(&sub, rec, "interval_count", OPT,
				  &r->recurring_interval_count)) != 0)
			return rc;
	}
	return get_metadata(c, o, "metadata", &r->metadata);
}

/*
 * Element i of the embedded list `list` (data is its array): *cur is the
 * element before it (NULL for i = 0) and becomes this one; sets the
 * element's path prefix.  Call for i = 0, 1, ... in order.
 */
static int element(struct pctx *c, struct pctx *sub, const char *list, const struct jval *data,
		   size_t i, const struct jval **cur)
{
	char name[PCTX_NAME_MAX];

	*cur = i == 0 ? jv_first(data) : jv_next(data, *cur);
	if (!jv_is_object(*cur)) {
		snprintf(name, sizeof name, "%s.data[%zu]", list, i);
		return perr(c, name, "is not an object");
	}
	nest(sub, c, NULL, NULL);
	sub->list = list;
	sub->index = i;
	return 0;
}

/* The "object" member of an element, when present, must be type. */
static int check_type(struct pctx *c, const struct jval *o, const char *type)
{
	const char *t;
	char buf[64];
	int rc;

	if ((rc = get_str(c, o, "object", OPT, &t)) != 0)
		return rc;
	if (t && strcmp(t, type) != 0)
		return perr(c, "object", "is \"%s\", expected \"%s\"", excerpt(t, buf, sizeof buf),
			    type);
	return 0;
}

/* One subscription item at v; c names it. */
static int parse_sub_item_fields(struct pctx *c, const struct jval *v,
				 struct stripe_subscription_item *it)
{
	int rc;

	if ((rc = get_id(c, v, "id", REQ, &it->id)) != 0 ||
	    (rc = check_type(c, v, "subscription_item")) != 0 ||
	    (rc = get_int(c, v, "created", OPT, &it->created)) != 0 ||
	    (rc = get_count(c, v, "quantity", OPT, &it->quantity)) != 0 ||
	    (rc = get_int(c, v, "current_period_start", OPT, &it->current_period_start)) != 0 ||
	    (rc = get_int(c, v, "current_period_end", OPT, &it->current_period_end)) != 0 ||
	    (rc = parse_price_ref(c, v, "price", &it->price)) != 0)
		return rc;
	return dump_raw(c, v, &it->raw_json, &it->raw_len);
}

static int parse_sub_items(struct pctx *c, const struct jval *o, const char *id,
			   struct stripe_subscription *r)
{
	const struct jval *v = NULL;
	const struct jval *data;
	size_t i, n;
	int rc;

	if ((rc = get_list(c, o, "items", REQ, &data, &r->items_has_more)) != 0)
		return rc;
	r->items_present = 1;
	n = data->n;
	if (!(r->items = page_calloc(c, n, sizeof *r->items)))
		return oom(c->e);
	for (i = 0; i < n; i++) {
		struct pctx sub;

		r->items[i].subscription_id = id;
		if ((rc = element(c, &sub, "items", data, i, &v)) != 0 ||
		    (rc = parse_sub_item_fields(&sub, v, &r->items[i])) != 0)
			return rc;
	}
	r->nitems = n;
	return 0;
}

/*
 * current_period_*: the subscription's own (2023 shape) are copied to items
 * that lack them; without them (2025+ shape) the subscription gets the
 * earliest start and latest end of its items.
 */
static void derive_period(struct stripe_subscription *r)
{
	size_t i;

	if (r->current_period_start.set || r->current_period_end.set) {
		r->period_source = "subscription";
		for (i = 0; i < r->nitems; i++) {
			struct stripe_subscription_item *it = &r->items[i];

			if (!it->current_period_start.set && !it->current_period_end.set) {
				it->current_period_start = r->current_period_start;
				it->current_period_end = r->current_period_end;
			}
		}
		return;
	}
	for (i = 0; i < r->nitems; i++) {
		const struct stripe_subscription_item *it = &r->items[i];

		if (it->current_period_start.set &&
		    (!r->current_period_start.set ||
		     it->current_period_start.v < r->current_period_start.v))
			r->current_period_start = it->current_period_start;
		if (it->current_period_end.set &&
		    (!r->current_period_end.set ||
		     it->current_period_end.v > r->current_period_end.v))
			r->current_period_end = it->current_period_end;
	}
	if (r->current_period_start.set || r->current_period_end.set)
		r->period_source = "items";
}

static int parse_subscription(struct pctx *c, const struct jval *o, const char *id,
			      struct stripe_subscription *r)
{
	int rc;

	if ((rc = get_ref(c, o, "customer", REQ, &r->customer)) != 0 ||
	    (rc = get_str(c, o, "status", REQ, &r->status)) != 0 ||
	    (rc = get_currency(c, o, "currency", OPT, r->currency)) != 0 ||
	    (rc = get_ref(c, o, "latest_invoice", OPT, &r->latest_invoice)) != 0 ||
	    (rc = get_int(c, o, "start_date", OPT, &r->start_date)) != 0 ||
	    (rc = get_int(c, o, "cancel_at", OPT, &r->cancel_at)) != 0 ||
	    (rc = get_bool(c, o, "cancel_at_period_end", OPT, &r->cancel_at_period_end)) != 0 ||
	    (rc = get_int(c, o, "canceled_at", OPT, &r->canceled_at)) != 0 ||
	    (rc = get_int(c, o, "ended_at", OPT, &r->ended_at)) != 0 ||
	    (rc = get_int(c, o, "trial_start", OPT, &r->trial_start)) != 0 ||
	    (rc = get_int(c, o, "trial_end", OPT, &r->trial_end)) != 0 ||
	    (rc = get_int(c, o, "current_period_start", OPT, &r->current_period_start)) != 0 ||
	    (rc = get_int(c, o, "current_period_end", OPT, &r->current_period_end)) != 0 ||
	    (rc = get_metadata(c, o, "metadata", &r->metadata)) != 0 ||
	    (rc = parse_sub_items(c, o, id, r)) != 0)
		return rc;
	derive_period(r);
	return 0;
}

/* One checkout line item ("item") at v; c names it. */
static int parse_line_item_fields(struct pctx *c, const struct jval *v, struct stripe_line_item *li)
{
	int rc;

	if ((rc = get_id(c, v, "id", REQ, &li->id)) != 0 ||
	    (rc = check_type(c, v, "item")) != 0 ||
	    (rc = get_str(c, v, "description", OPT, &li->description)) != 0 ||
	    (rc = get_currency(c, v, "currency", REQ, li->currency)) != 0 ||
	    (rc = get_count(c, v, "quantity", OPT, &li->quantity)) != 0 ||
	    (rc = get_int(c, v, "amount_subtotal", OPT, &li->amount_subtotal)) != 0 ||
	    (rc = get_int(c, v, "amount_discount", OPT, &li->amount_discount)) != 0 ||
	    (rc = get_int(c, v, "amount_tax", OPT, &li->amount_tax)) != 0 ||
	    (rc = get_int(c, v, "amount_total", OPT, &li->amount_total)) != 0 ||
	    (rc = parse_price_ref(c, v, "price", &li->price)) != 0)
		return rc;
	return dump_raw(c, v, &li->raw_json, &li->raw_len);
}

static int parse_session(struct pctx *c, const struct jval *o, const char *id,
			 struct stripe_checkout_session *r)
{
	const struct jval *v = NULL;
	const struct jval *data;
	size_t i, n;
	int rc;

	if ((rc = get_ref(c, o, "customer", OPT, &r->customer)) != 0 ||
	    (rc = get_str(c, o, "customer_email", OPT, &r->customer_email)) != 0 ||
	    (rc = get_str(c, o, "status", OPT, &r->status)) != 0 ||
	    (rc = get_str(c, o, "mode", REQ, &r->mode)) != 0 ||
	    (rc = get_str(c, o, "payment_status", REQ, &r->payment_status)) != 0 ||
	    (rc = get_str(c, o, "client_reference_id", OPT, &r->client_reference_id)) != 0 ||
	    (rc = get_ref(c, o, "payment_intent", OPT, &r->payment_intent)) != 0 ||
	    (rc = get_ref(c, o, "subscription", OPT, &r->subscription)) != 0 ||
	    (rc = get_ref(c, o, "invoice", OPT, &r->invoice)) != 0 ||
	    (rc = get_currency(c, o, "currency", OPT, r->currency)) != 0 ||
	    (rc = get_int(c, o, "amount_subtotal", OPT, &r->amount_subtotal)) != 0 ||
	    (rc = get_int(c, o, "amount_total", OPT, &r->amount_total)) != 0 ||
	    (rc = get_int(c, o, "expires_at", OPT, &r->expires_at)) != 0 ||
	    (rc = get_metadata(c, o, "metadata", &r->metadata)) != 0 ||
	    (rc = get_list(c, o, "line_items", OPT, &data, &r->line_items_has_more)) != 0)
		return rc;
	if (!data)
		return 0;
	r->line_items_present = 1;
	n = data->n;
	if (!(r->line_items = page_calloc(c, n, sizeof *r->line_items)))
		return oom(c->e);
	for (i = 0; i < n; i++) {
		struct pctx sub;

		r->line_items[i].session_id = id;
		if ((rc = element(c, &sub, "line_items", data, i, &v)) != 0 ||
		    (rc = parse_line_item_fields(&sub, v, &r->line_items[i])) != 0)
			return rc;
	}
	r->nline_items = n;
	return 0;
}

static int parse_refund(struct pctx *c, const struct jval *o, struct stripe_refund *r)
{
	int rc;

	if ((rc = get_int(c, o, "amount", REQ, &r->amount)) != 0 ||
	    (rc = get_currency(c, o, "currency", REQ, r->currency)) != 0 ||
	    (rc = get_str(c, o, "status", OPT, &r->status)) != 0 ||
	    (rc = get_str(c, o, "reason", OPT, &r->reason)) != 0 ||
	    (rc = get_ref(c, o, "charge", OPT, &r->charge)) != 0 ||
	    (rc = get_ref(c, o, "payment_intent", OPT, &r->payment_intent)) != 0 ||
	    (rc = get_ref(c, o, "customer", OPT, &r->customer)) != 0)
		return rc;
	return get_metadata(c, o, "metadata", &r->metadata);
}

/*
 * An invoice line in either shape: price from `price` (2023) or
 * `pricing.price_details` (2025+); subscription from the line (2023) or
 * from the part of `parent` that `parent.type` names (2025+).
 */
static int parse_invoice_line(struct pctx *c, const struct jval *v, struct stripe_invoice_line *l)
{
	struct stripe_price_ref pr = { 0 };
	const struct jval *period, *pricing, *details, *parent;
	struct pctx sub;
	int rc;

	l->proration = -1;
	if ((rc = get_id(c, v, "id", REQ, &l->id)) != 0 ||
	    (rc = check_type(c, v, "line_item")) != 0 ||
	    (rc = get_int(c, v, "amount", REQ, &l->amount)) != 0 ||
	    (rc = get_currency(c, v, "currency", REQ, l->currency)) != 0 ||
	    (rc = get_count(c, v, "quantity", OPT, &l->quantity)) != 0 ||
	    (rc = get_str(c, v, "description", OPT, &l->description)) != 0 ||
	    (rc = get_ref(c, v, "subscription", OPT, &l->subscription)) != 0 ||
	    (rc = get_ref(c, v, "subscription_item", OPT, &l->subscription_item)) != 0 ||
	    (rc = get_bool(c, v, "proration", OPT, &l->proration)) != 0 ||
	    (rc = parse_price_ref(c, v, "price", &pr)) != 0 ||
	    (rc = get_obj(c, v, "period", OPT, &period)) != 0 ||
	    (rc = get_obj(c, v, "pricing", OPT, &pricing)) != 0 ||
	    (rc = get_obj(c, v, "parent", OPT, &parent)) != 0)
		return rc;
	l->price_id = pr.id;
	l->product = pr.product;
	l->lookup_key = pr.lookup_key;
	if (period) {
		nest(&sub, c, "period", NULL);
		if ((rc = get_int(&sub, period, "start", OPT, &l->period_start)) != 0 ||
		    (rc = get_int(&sub, period, "end", OPT, &l->period_end)) != 0)
			return rc;
	}
	if (pricing) {
		nest(&sub, c, "pricing", NULL);
		if ((rc = get_obj(&sub, pricing, "price_details", OPT, &details)) != 0)
			return rc;
		if (details) {
			const char *price = NULL, *product = NULL;

			nest(&sub, c, "pricing.price_details", NULL);
			if ((rc = get_ref(&sub, details, "price", OPT, &price)) != 0 ||
			    (rc = get_ref(&sub, details, "product", OPT, &product)) != 0)
				return rc;
			if (!l->price_id)
				l->price_id = price;
			if (!l->product)
				l->product = product;
		}
	}
	if (parent) {
		const char *type = NULL;
		const struct jval *d;
		int proration = -1;

		nest(&sub, c, "parent", NULL);
		if ((rc = get_str(&sub, parent, "type", OPT, &type)) != 0)
			return rc;
		if (type && (strcmp(type, "subscription_item_details") == 0 ||
			     strcmp(type, "invoice_item_details") == 0)) {
			const char *s = NULL, *si = NULL;

			if ((rc = get_obj(&sub, parent, type, OPT, &d)) != 0)
				return rc;
			nest(&sub, c, "parent.", type);
			if (d && ((rc = get_ref(&sub, d, "subscription", OPT, &s)) != 0 ||
				  (rc = get_bool(&sub, d, "proration", OPT, &proration)) != 0))
				return rc;
			if (d && strcmp(type, "subscription_item_details") == 0 &&
			    (rc = get_ref(&sub, d, "subscription_item", OPT, &si)) != 0)
				return rc;
			if (!l->subscription)
				l->subscription = s;
			if (!l->subscription_item)
				l->subscription_item = si;
			if (l->proration < 0)
				l->proration = proration;
		}
	}
	return dump_raw(c, v, &l->raw_json, &l->raw_len);
}

static int parse_invoice(struct pctx *c, const struct jval *o, const char *id,
			 struct stripe_invoice *r)
{
	const struct jval *parent = NULL, *details = NULL, *trans, *data;
	const struct jval *v = NULL;
	struct pctx sub;
	size_t i, n;
	int rc;

	if ((rc = get_ref(c, o, "customer", OPT, &r->customer)) != 0 ||
	    (rc = get_str(c, o, "status", OPT, &r->status)) != 0 ||
	    (rc = get_currency(c, o, "currency", REQ, r->currency)) != 0 ||
	    (rc = get_bool(c, o, "paid", OPT, &r->paid)) != 0 ||
	    (rc = get_int(c, o, "amount_due", REQ, &r->amount_due)) != 0 ||
	    (rc = get_int(c, o, "amount_paid", REQ, &r->amount_paid)) != 0 ||
	    (rc = get_int(c, o, "amount_remaining", OPT, &r->amount_remaining)) != 0 ||
	    (rc = get_int(c, o, "subtotal", OPT, &r->subtotal)) != 0 ||
	    (rc = get_int(c, o, "total", REQ, &r->total)) != 0 ||
	    (rc = get_ref(c, o, "charge", OPT, &r->charge)) != 0 ||
	    (rc = get_ref(c, o, "payment_intent", OPT, &r->payment_intent)) != 0 ||
	    (rc = get_str(c, o, "billing_reason", OPT, &r->billing_reason)) != 0 ||
	    (rc = get_str(c, o, "number", OPT, &r->number)) != 0 ||
	    (rc = get_int(c, o, "period_start", OPT, &r->period_start)) != 0 ||
	    (rc = get_int(c, o, "period_end", OPT, &r->period_end)) != 0 ||
	    (rc = get_obj(c, o, "status_transitions", OPT, &trans)) != 0 ||
	    (rc = get_metadata(c, o, "metadata", &r->metadata)) != 0 ||
	    (rc = get_ref(c, o, "subscription", OPT, &r->subscription)) != 0 ||
	    (rc = get_obj(c, o, "parent", OPT, &parent)) != 0)
		return rc;
	if (r->paid < 0)
		r->paid = r->status && strcmp(r->status, "paid") == 0;
	if (trans) {
		nest(&sub, c, "status_transitions", NULL);
		if ((rc = get_int(&sub, trans, "paid_at", OPT, &r->paid_at)) != 0)
			return rc;
	}
	sub = *c;
	if (r->subscription) {
		r->subscription_source = "subscription";
		rc = get_obj(c, o, "subscription_details", OPT, &details);
		nest(&sub, c, "subscription_details", NULL);
	} else if (parent) {
		const char *s = NULL;

		nest(&sub, c, "parent", NULL);
		if ((rc = get_obj(&sub, parent, "subscription_details", OPT, &details)) != 0)
			return rc;
		nest(&sub, c, "parent.subscription_details", NULL);
		if (details && (rc = get_ref(&sub, details, "subscription", OPT, &s)) != 0)
			return rc;
		if ((r->subscription = s) != NULL)
			r->subscription_source = "parent";
	}
	if (rc != 0)
		return rc;
	/* metadata of the invoice, else of its subscription (as copied by Stripe) */
	if (details && !r->metadata.tenant_id && !r->metadata.user_id) {
		struct stripe_metadata m = { 0 };

		if ((rc = get_metadata(&sub, details, "metadata", &m)) != 0)
			return rc;
		r->metadata.tenant_id = m.tenant_id;
		r->metadata.user_id = m.user_id;
	}
	if ((rc = get_list(c, o, "lines", OPT, &data, &r->lines_has_more)) != 0 || !data)
		return rc;
	r->lines_present = 1;
	n = data->n;
	if (!(r->lines = page_calloc(c, n, sizeof *r->lines)))
		return oom(c->e);
	for (i = 0; i < n; i++) {
		r->lines[i].invoice_id = id;
		if ((rc = element(c, &sub, "lines", data, i, &v)) != 0 ||
		    (rc = parse_invoice_line(&sub, v, &r->lines[i])) != 0)
			return rc;
	}
	r->nlines = n;
	return 0;
}

static int parse_row(struct pctx *c, const struct jval *o, enum stripe_kind kind, const char *parent_id,
		     struct stripe_row *row);

/* An event: its data.object is parsed too when trueup keeps rows of it. */
static int parse_event(struct pctx *c, const struct jval *o, struct stripe_event *r)
{
	const struct jval *data, *obj;
	struct pctx sub;
	const char *oid = NULL;
	size_t tl;
	int rc, stub = -1;

	if ((rc = get_str(c, o, "type", REQ, &r->type)) != 0 ||
	    (rc = get_str(c, o, "api_version", OPT, &r->api_version)) != 0 ||
	    (rc = get_obj(c, o, "data", REQ, &data)) != 0)
		return rc;
	nest(&sub, c, "data", NULL);
	if ((rc = get_obj(&sub, data, "object", REQ, &obj)) != 0)
		return rc;
	nest(&sub, c, "data.object", NULL);
	if ((rc = get_str(&sub, obj, "object", REQ, &r->object_type)) != 0 ||
	    (rc = get_id(&sub, obj, "id", OPT, &oid)) != 0 ||
	    (rc = get_bool(&sub, obj, "deleted", OPT, &stub)) != 0)
		return rc;
	r->object_id = oid;
	r->object_kind = stripe_kind_from_object(r->object_type);
	if (r->object_kind == STRIPE_EVENT || stripe_kind_parent(r->object_kind) != STRIPE_NONE)
		r->object_kind = STRIPE_NONE;
	if (r->object_kind != STRIPE_NONE) {
		struct pctx oc = { .e = c->e, .mem = c->mem, .where_index = -1 };
		char where[STRIPE_ID_MAX + 40];

		if (!oid)
			return perr(&sub, "id", "is missing");
		snprintf(where, sizeof where, "event \"%s\": data.object", c->id);
		oc.where = where;
		if (!(r->object = page_calloc(c, 1, sizeof *r->object)))
			return oom(c->e);
		if ((rc = parse_row(&oc, obj, r->object_kind, NULL, r->object)) != 0)
			return err_prefix(c->e, "event \"%s\": data.object", c->id);
		/* customer.subscription.deleted is a cancellation: the object stays */
		tl = strlen(r->type);
		r->deletes = stub == 1 ||
			     (tl > 8 && strcmp(r->type + tl - 8, ".deleted") == 0 &&
			      r->object_kind != STRIPE_SUBSCRIPTION);
	}
	return 0;
}

/*
 * A child from its own page names its parent, when it does, as the
 * parent whose page was asked for: key (a string id) must be parent_id.
 */
static int check_parent(struct pctx *c, const struct jval *o, const char *key,
			const char *parent_id)
{
	const char *ref = NULL;
	char buf[64];
	int rc;

	if ((rc = get_ref(c, o, key, OPT, &ref)) != 0)
		return rc;
	if (ref && strcmp(ref, parent_id) != 0)
		return perr(c, key, "is \"%s\", expected \"%s\"", excerpt(ref, buf, sizeof buf),
			    parent_id);
	return 0;
}

/*
 * One object of kind at o into row (parent_id: a child's parent).  c->where
 * names it until its id is read; from then on messages name the object
 * type and id.
 */
static int parse_row(struct pctx *c, const struct jval *o, enum stripe_kind kind, const char *parent_id,
		     struct stripe_row *row)
{
	const char *want = stripe_kind_object(kind), *type = NULL;
	char buf[64];
	int rc, stub = -1, child = stripe_kind_parent(kind) != STRIPE_NONE;

	c->what = want;
	c->id = NULL;
	c->up = NULL;
	row->kind = kind;
	row->livemode = -1;
	if (!jv_is_object(o)) {
		char where[PCTX_PATH_MAX + 32];

		return err_set(c->e, EXIT_DATAERR, "%s is not an object",
			       where_of(c, where, sizeof where));
	}
	if ((rc = get_id(c, o, "id", REQ, &row->id)) != 0)
		return rc;
	c->id = row->id;
	if ((rc = get_str(c, o, "object", REQ, &type)) != 0)
		return rc;
	if (strcmp(type, want) != 0)
		return perr(c, "object", "is \"%s\", expected \"%s\"",
			    excerpt(type, buf, sizeof buf), want);
	if ((rc = get_bool(c, o, "deleted", OPT, &stub)) != 0 ||
	    (rc = dump_raw(c, o, &row->raw_json, &row->raw_len)) != 0)
		return rc;
	if (stub == 1) {
		if (kind == STRIPE_EVENT || child)
			return perr(c, "deleted", "is true on an object that cannot be deleted");
		row->deleted = 1;
		return 0;
	}
	if ((rc = get_bool(c, o, "livemode", OPT, &row->livemode)) != 0 ||
	    (rc = get_int(c, o, "created", child ? OPT : REQ, &row->created)) != 0)
		return rc;
	switch (kind) {
	case STRIPE_CUSTOMER:
		return parse_customer(c, o, &row->u.customer);
	case STRIPE_PRODUCT:
		return parse_product(c, o, &row->u.product);
	case STRIPE_PRICE:
		return parse_price(c, o, &row->u.price);
	case STRIPE_SUBSCRIPTION:
		return parse_subscription(c, o, row->id, &row->u.subscription);
	case STRIPE_CHECKOUT_SESSION:
		return parse_session(c, o, row->id, &row->u.session);
	case STRIPE_CHECKOUT_LINE_ITEM:
		row->u.line_item.session_id = parent_id;
		return parse_line_item_fields(c, o, &row->u.line_item);
	case STRIPE_SUBSCRIPTION_ITEM:
		row->u.sub_item.subscription_id = parent_id;
		if ((rc = check_parent(c, o, "subscription", parent_id)) != 0)
			return rc;
		return parse_sub_item_fields(c, o, &row->u.sub_item);
	case STRIPE_INVOICE_LINE:
		row->u.invoice_line.invoice_id = parent_id;
		if ((rc = check_parent(c, o, "invoice", parent_id)) != 0)
			return rc;
		return parse_invoice_line(c, o, &row->u.invoice_line);
	case STRIPE_REFUND:
		return parse_refund(c, o, &row->u.refund);
	case STRIPE_INVOICE:
		return parse_invoice(c, o, row->id, &row->u.invoice);
	case STRIPE_EVENT:
		return parse_event(c, o, &row->u.event);
	default:
		return err_set(c->e, EXIT_SOFTWARE, "stripe rows: bad kind %d", (int)kind);
	}
}

/* --- pages ---------------------------------------------------------------- */

/*
 * A new page for the document of body; *root is its top-level value, read
 * from *held, a reference the caller drops (jdoc_unref) once the rows are
 * built.  The page keeps only the document's strings: a queued page costs
 * about half the memory it would with the whole document.  doc: the body
 * already read by the caller (jdoc_parse of exactly these bytes); NULL:
 * read body here.
 */
static int page_start(const char *body, size_t len, struct jdoc *doc, enum stripe_kind kind,
		      const char *label, struct stripe_page **out, const struct jval **root,
		      struct jdoc **held, struct err *e)
{
	struct stripe_page *p;
	char msg[160];
	int rc;

	*out = NULL;
	*held = NULL;
	if (kind <= STRIPE_NONE || kind >= STRIPE_KIND_COUNT)
		return err_set(e, EXIT_SOFTWARE, "stripe rows: bad kind %d", (int)kind);
	if (!body)
		return err_set(e, EXIT_DATAERR, "%s: empty response body", label);
	if (!(p = calloc(1, sizeof *p)) || !(p->mem = calloc(1, sizeof *p->mem))) {
		free(p);
		return oom(e);
	}
	p->kind = kind;
	p->mem->blk_hint = len + 64;
	if (doc) {
		*held = jdoc_ref(doc);
	} else if ((rc = jdoc_parse(body, len, held, msg, sizeof msg)) != 0) {
		stripe_page_free(p);
		if (rc == -2)
			return oom(e);
		return err_set(e, EXIT_DATAERR, "%s: %s", label, msg);
	}
	p->mem->strs = jdoc_strings_ref(*held);
	p->mem->bytes += len + 1;       /* the strings: at most the body's length */
	*root = jdoc_root(*held);
	*out = p;
	return 0;
}

/* A list body: check the envelope, then parse each element of data. */
static int parse_list(const char *body, size_t len, struct jdoc *doc, enum stripe_kind kind,
		      const char *parent_id, struct stripe_page **out, struct err *e)
{
	struct stripe_page *p;
	struct pctx c = { .e = e, .where_index = -1 };
	struct jdoc *held;
	char label[64];
	const struct jval *root, *data, *type, *more, *v = NULL;
	size_t i, n;
	int rc;

	snprintf(label, sizeof label, "%s page", stripe_kind_resource(kind));
	if ((rc = page_start(body, len, doc, kind, label, &p, &root, &held, e)) != 0)
		return rc;
	c.mem = p->mem;
	type = jv_get(root, "object");
	if (!jv_is_string(type) || strcmp(jv_str(type), "list") != 0) {
		rc = err_set(e, EXIT_DATAERR, "%s: not a list object", label);
		goto fail;
	}
	data = jv_get(root, "data");
	more = jv_get(root, "has_more");
	if (!jv_is_array(data)) {
		rc = err_set(e, EXIT_DATAERR, "%s: data is %s", label,
			     data ? "not an array" : "missing");
		goto fail;
	}
	if (!jv_is_bool(more)) {
		rc = err_set(e, EXIT_DATAERR, "%s: has_more is %s", label,
			     more ? "not a boolean" : "missing");
		goto fail;
	}
	p->is_list = 1;
	p->has_more = jv_is_true(more);
	n = data->n;
	if (parent_id && !(parent_id = mem_keep(p->mem, strdup(parent_id), strlen(parent_id) + 1))) {
		rc = oom(e);
		goto fail;
	}
	if (!(p->rows = page_calloc(&c, n, sizeof *p->rows))) {
		rc = oom(e);
		goto fail;
	}
	for (i = 0; i < n; i++) {
		c.where = label;
		c.where_index = (long)i;
		v = i == 0 ? jv_first(data) : jv_next(data, v);
		if ((rc = parse_row(&c, v, kind, parent_id, &p->rows[i])) != 0)
			goto fail;
	}
	p->count = n;
	p->last_id = n ? p->rows[n - 1].id : NULL;
	jdoc_unref(held);
	*out = p;
	return 0;
fail:
	jdoc_unref(held);
	stripe_page_free(p);
	return rc;
}

int stripe_rows_parse_page(const char *body, size_t len, enum stripe_kind kind,
			   struct stripe_page **out, struct err *e)
{
	return stripe_rows_parse_page_doc(NULL, body, len, kind, out, e);
}

int stripe_rows_parse_page_doc(struct jdoc *doc, const char *body, size_t len,
			       enum stripe_kind kind, struct stripe_page **out, struct err *e)
{
	*out = NULL;
	if (stripe_kind_parent(kind) != STRIPE_NONE)
		return err_set(e, EXIT_SOFTWARE, "stripe rows: %s need their parent",
			       stripe_kind_resource(kind));
	return parse_list(body, len, doc, kind, NULL, out, e);
}

int stripe_rows_parse_children(const char *body, size_t len, enum stripe_kind kind,
			       const char *parent_id, struct stripe_page **out, struct err *e)
{
	return stripe_rows_parse_children_doc(NULL, body, len, kind, parent_id, out, e);
}

int stripe_rows_parse_children_doc(struct jdoc *doc, const char *body, size_t len,
				   enum stripe_kind kind, const char *parent_id,
				   struct stripe_page **out, struct err *e)
{
	enum stripe_kind parent = stripe_kind_parent(kind);

	*out = NULL;
	if (parent == STRIPE_NONE)
		return err_set(e, EXIT_SOFTWARE, "stripe rows: %s have no parent",
			       stripe_kind_resource(kind));
	if (!parent_id || !id_ok(parent_id))
		return err_set(e, EXIT_SOFTWARE, "stripe rows: bad %s id",
			       stripe_kind_object(parent));
	return parse_list(body, len, doc, kind, parent_id, out, e);
}

int stripe_rows_parse_line_items(const char *body, size_t len, const char *session_id,
				 struct stripe_page **out, struct err *e)
{
	return stripe_rows_parse_children_doc(NULL, body, len, STRIPE_CHECKOUT_LINE_ITEM,
					      session_id, out, e);
}

int stripe_rows_parse_line_items_doc(struct jdoc *doc, const char *body, size_t len,
				     const char *session_id, struct stripe_page **out,
				     struct err *e)
{
	return stripe_rows_parse_children_doc(doc, body, len, STRIPE_CHECKOUT_LINE_ITEM,
					      session_id, out, e);
}

int stripe_rows_parse_object(const char *body, size_t len, enum stripe_kind kind,
			     struct stripe_page **out, struct err *e)
{
	return stripe_rows_parse_object_doc(NULL, body, len, kind, out, e);
}

int stripe_rows_parse_object_doc(struct jdoc *doc, const char *body, size_t len,
				 enum stripe_kind kind, struct stripe_page **out, struct err *e)
{
	struct stripe_page *p;
	struct pctx c = { .e = e, .where_index = -1 };
	struct jdoc *held;
	char label[64];
	const struct jval *root;
	int rc;

	*out = NULL;
	if (stripe_kind_parent(kind) != STRIPE_NONE)
		return err_set(e, EXIT_SOFTWARE, "stripe rows: %s need their parent",
			       stripe_kind_resource(kind));
	snprintf(label, sizeof label, "%s object", stripe_kind_object(kind));
	if ((rc = page_start(body, len, doc, kind, label, &p, &root, &held, e)) != 0)
		return rc;
	c.mem = p->mem;
	c.where = label;
	if (!(p->rows = page_calloc(&c, 1, sizeof *p->rows))) {
		rc = oom(e);
		goto fail;
	}
	if ((rc = parse_row(&c, root, kind, NULL, &p->rows[0])) != 0)
		goto fail;
	p->count = 1;
	p->last_id = p->rows[0].id;
	jdoc_unref(held);
	*out = p;
	return 0;
fail:
	jdoc_unref(held);
	stripe_page_free(p);
	return rc;
}
