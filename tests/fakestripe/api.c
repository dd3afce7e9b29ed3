/* api.c - what the fake answers: routing, auth, Stripe list semantics,
 * Stripe error objects and the /_fake/ control API.
 *
 * Order of checks for /v1/ requests: auth (401), method (405), route (404),
 * rate limiter (429 rate_limit), injected faults (429/500/503 or a wire fault
 * applied by http.c while sending), then the handler with its parameter
 * validation (400).  Lists are newest first: (created, id) descending.
 */
#include "fake.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_PARAMS 64
#define MAX_TYPES 20

int64_t fake_clock_override;

/* Seconds since the epoch (or --now when given). */
int64_t fake_now(void)
{
	return fake_clock_override ? fake_clock_override : (int64_t)time(NULL);
}

struct param {
	char key[64];
	char val[256];
	int used;
};

struct ctx {
	struct fake *fk;
	const struct request *req;
	struct response *resp;
	enum shape shape;
	char reqid[32];
	char path[512];
	struct param p[MAX_PARAMS];
	int np;
};

/* ---- responses ---------------------------------------------------------- */

static void set_body(struct response *resp, int status, json_t *body)
{
	resp->status = status;
	free(resp->body);
	resp->body = jsonout_dump(body, &resp->body_len);
	json_decref(body);
}

static void add_header(struct response *resp, const char *name, const char *value)
{
	size_t n = strlen(resp->extra_headers);
	snprintf(resp->extra_headers + n, sizeof resp->extra_headers - n, "%s: %s\r\n", name, value);
}

__attribute__((format(printf, 6, 7)))
static void api_error(struct ctx *c, int status, const char *type, const char *code,
		      const char *param, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	json_t *e = json_object();
	if (code) {
		char doc[128];
		snprintf(doc, sizeof doc, "https://stripe.com/docs/error-codes/%s", code);
		for (char *p = doc + 36; *p; p++)
			if (*p == '_')
				*p = '-';
		json_object_set_new(e, "code", json_string(code));
		json_object_set_new(e, "doc_url", json_string(doc));
	}
	json_object_set_new(e, "message", json_string(msg));
	if (param)
		json_object_set_new(e, "param", json_string(param));
	char url[96];
	snprintf(url, sizeof url, "https://dashboard.stripe.com/test/logs/%s", c->reqid);
	json_object_set_new(e, "request_log_url", json_string(url));
	json_object_set_new(e, "request_id", json_string(c->reqid));
	json_object_set_new(e, "type", json_string(type));
	set_body(c->resp, status, json_pack("{s:o}", "error", e));
}

/* ---- query strings ------------------------------------------------------ */

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = tolower(ch);
	return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* Percent-decode [s, s+n) into out; '+' is a space when plus is set.
 * -1 when it does not fit or an escape is malformed. */
static int url_decode(const char *s, size_t n, char *out, size_t outsz, int plus)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		int ch = (unsigned char)s[i];
		if (ch == '%') {
			int h, l;
			if (i + 2 >= n || (h = hexval(s[i + 1])) < 0 || (l = hexval(s[i + 2])) < 0)
				return -1;
			ch = h * 16 + l;
			i += 2;
		} else if (ch == '+' && plus) {
			ch = ' ';
		}
		if (o + 1 >= outsz)
			return -1;
		out[o++] = (char)ch;
	}
	out[o] = 0;
	return 0;
}

/* Split the target into path and parameters; 0 or -1 (400 already set). */
static int parse_target(struct ctx *c)
{
	const char *t = c->req->target;
	const char *q = strchr(t, '?');
	size_t plen = q ? (size_t)(q - t) : strlen(t);
	if (url_decode(t, plen, c->path, sizeof c->path, 0) < 0) {
		api_error(c, 400, "invalid_request_error", NULL, NULL, "Malformed request URL.");
		return -1;
	}
	while (q && *q) {
		q++;
		size_t len = strcspn(q, "&");
		if (len) {
			const char *eq = memchr(q, '=', len);
			size_t klen = eq ? (size_t)(eq - q) : len;
			if (c->np == MAX_PARAMS) {
				api_error(c, 400, "invalid_request_error", NULL, NULL,
					  "Too many query parameters.");
				return -1;
			}
			struct param *p = &c->p[c->np];
			if (url_decode(q, klen, p->key, sizeof p->key, 1) < 0 ||
			    url_decode(eq ? eq + 1 : q + len, eq ? len - klen - 1 : 0, p->val,
				       sizeof p->val, 1) < 0) {
				api_error(c, 400, "invalid_request_error", NULL, NULL,
					  "Malformed or oversized query parameter.");
				return -1;
			}
			p->used = 0;
			c->np++;
		}
		q += len;
	}
	return 0;
}

/* Value of parameter key (marked used), or NULL. */
static const char *param(struct ctx *c, const char *key)
{
	const char *v = NULL;
	for (int i = 0; i < c->np; i++)
		if (!strcmp(c->p[i].key, key)) {
			c->p[i].used = 1;
			v = c->p[i].val;
		}
	return v;
}

/* Is key an array parameter "name[]" or "name[N]"? */
static int is_array_key(const char *key, const char *name)
{
	size_t n = strlen(name);
	if (strncmp(key, name, n) != 0 || key[n] != '[')
		return 0;
	const char *p = key + n + 1;
	while (isdigit((unsigned char)*p))
		p++;
	return p[0] == ']' && p[1] == 0;
}

/* The first parameter nobody used gets Stripe's unknown-parameter error. */
static int reject_unused(struct ctx *c)
{
	for (int i = 0; i < c->np; i++)
		if (!c->p[i].used) {
			api_error(c, 400, "invalid_request_error", "parameter_unknown", c->p[i].key,
				  "Received unknown parameter: %s", c->p[i].key);
			return -1;
		}
	return 0;
}

static int parse_int(const char *s, int64_t *out)
{
	char *end;
	if (!*s)
		return -1;
	long long v = strtoll(s, &end, 10);
	if (*end)
		return -1;
	*out = v;
	return 0;
}

/* ---- lists -------------------------------------------------------------- */

struct listq {
	int64_t limit;
	const char *after, *before;
	int64_t lo, hi;          /* created range, inclusive */
	const char *status;      /* subscriptions/invoices filter */
	const char *type;        /* events: type (may end in *) */
	const char *types[MAX_TYPES];
	int ntypes;
	int expand_line_items;
};

static int parse_limit(struct ctx *c, struct listq *q)
{
	const char *v = param(c, "limit");
	q->limit = 10;
	if (!v)
		return 0;
	if (parse_int(v, &q->limit) < 0) {
		api_error(c, 400, "invalid_request_error", "parameter_invalid_integer", "limit",
			  "Invalid integer: %s", v);
		return -1;
	}
	if (q->limit < 1 || q->limit > 100) {
		api_error(c, 400, "invalid_request_error", NULL, "limit",
			  "This value must be %s than or equal to %d.",
			  q->limit < 1 ? "greater" : "less", q->limit < 1 ? 1 : 100);
		return -1;
	}
	return 0;
}

static int parse_created(struct ctx *c, struct listq *q)
{
	static const char *const keys[] = {"created", "created[gte]", "created[gt]",
					    "created[lte]", "created[lt]"};
	q->lo = INT64_MIN;
	q->hi = INT64_MAX;
	for (int k = 0; k < 5; k++) {
		const char *v = param(c, keys[k]);
		int64_t t;
		if (!v)
			continue;
		if (parse_int(v, &t) < 0) {
			api_error(c, 400, "invalid_request_error", "parameter_invalid_integer", keys[k],
				  "Invalid integer: %s", v);
			return -1;
		}
		switch (k) {
		case 0: q->lo = q->lo > t ? q->lo : t; q->hi = q->hi < t ? q->hi : t; break;
		case 1: q->lo = q->lo > t ? q->lo : t; break;
		case 2: q->lo = q->lo > t + 1 ? q->lo : t + 1; break;
		case 3: q->hi = q->hi < t ? q->hi : t; break;
		case 4: q->hi = q->hi < t - 1 ? q->hi : t - 1; break;
		}
	}
	return 0;
}

/* expand[] values; only what the fake implements is accepted. */
static int parse_expand(struct ctx *c, const char *allowed, int *flag)
{
	*flag = 0;
	for (int i = 0; i < c->np; i++) {
		if (!is_array_key(c->p[i].key, "expand"))
			continue;
		c->p[i].used = 1;
		if (allowed && !strcmp(c->p[i].val, allowed)) {
			*flag = 1;
			continue;
		}
		api_error(c, 400, "invalid_request_error", NULL, "expand",
			  "This property cannot be expanded (%s).", c->p[i].val);
		return -1;
	}
	return 0;
}

static int parse_cursors(struct ctx *c, struct listq *q)
{
	q->after = param(c, "starting_after");
	q->before = param(c, "ending_before");
	if (q->after && q->before) {
		api_error(c, 400, "invalid_request_error", NULL, "ending_before",
			  "You may only specify one of these parameters: starting_after, ending_before.");
		return -1;
	}
	return 0;
}

static int sub_status_valid(const char *s)
{
	static const char *const ok[] = {"active", "all", "canceled", "ended", "incomplete",
		"incomplete_expired", "past_due", "paused", "trialing", "unpaid"};
	for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
		if (!strcmp(s, ok[i]))
			return 1;
	return 0;
}

static int invoice_status_valid(const char *s)
{
	static const char *const ok[] = {"draft", "open", "paid", "uncollectible", "void"};
	for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
		if (!strcmp(s, ok[i]))
			return 1;
	return 0;
}

/* Does the object at pos pass the list's filters? */
static int list_match(struct ctx *c, enum res r, uint64_t pos, const struct listq *q)
{
	const struct store *st = &c->fk->store;
	if (store_is_deleted(st, r, pos))
		return 0;
	if (r == R_SUBSCRIPTIONS) {
		const char *s = store_attr(st, r, pos);
		if (!s)
			s = "";
		int ended = !strcmp(s, "canceled") || !strcmp(s, "incomplete_expired");
		if (!q->status)
			return !ended;
		if (!strcmp(q->status, "all"))
			return 1;
		if (!strcmp(q->status, "ended"))
			return ended;
		return !strcmp(q->status, s);
	}
	if (r == R_INVOICES) {
		if (!q->status)
			return 1;
		const char *s = store_attr(st, r, pos);
		return s && !strcmp(s, q->status);
	}
	if (r == R_EVENTS) {
		const char *t = store_attr(st, r, pos);
		if (!t)
			return 0; /* generator hole */
		if (q->type) {
			size_t n = strlen(q->type);
			if (n && q->type[n - 1] == '*')
				return strncmp(t, q->type, n - 1) == 0;
			return !strcmp(t, q->type);
		}
		if (q->ntypes) {
			for (int i = 0; i < q->ntypes; i++)
				if (!strcmp(t, q->types[i]))
					return 1;
			return 0;
		}
	}
	return 1;
}

/* Children shown in an embedded list (Stripe's first page of them). */
#define EMBED_MAX 10

/* The list object {"object":"list","data":first 10 of all,"has_more","url"}. */
static json_t *embedded_list(json_t *all, const char *url)
{
	size_t n = json_array_size(all);
	json_t *data = json_array();
	for (size_t i = 0; i < n && i < EMBED_MAX; i++)
		json_array_append(data, json_array_get(all, i));
	return json_pack("{s:s, s:o, s:b, s:i, s:s}", "object", "list", "data", data,
			 "has_more", n > EMBED_MAX, "total_count", (int)n, "url", url);
}

/* A subscription's items or an invoice's lines as Stripe embeds them: the
 * store holds the whole list, the object shows the first 10 and has_more
 * (an event's data.object too).  Other objects are left alone. */
static void embed_children(json_t *o, enum res r)
{
	char url[160];
	const char *key, *id = json_string_value(json_object_get(o, "id"));
	if (r == R_EVENTS) {
		json_t *d = json_object_get(json_object_get(o, "data"), "object");
		const char *type = json_string_value(json_object_get(d, "object"));
		if (type && !strcmp(type, "subscription"))
			embed_children(d, R_SUBSCRIPTIONS);
		else if (type && !strcmp(type, "invoice"))
			embed_children(d, R_INVOICES);
		return;
	}
	if (r == R_SUBSCRIPTIONS) {
		key = "items";
		snprintf(url, sizeof url, "/v1/subscription_items?subscription=%s", id ? id : "");
	} else if (r == R_INVOICES) {
		key = "lines";
		snprintf(url, sizeof url, "/v1/invoices/%s/lines", id ? id : "");
	} else {
		return;
	}
	json_t *all = json_object_get(json_object_get(o, key), "data");
	if (json_array_size(all) <= EMBED_MAX)
		return;
	json_object_set_new(o, key, embedded_list(all, url));
}

/* Embed session line items: {"object":"list","data":first 10,...}. */
static void embed_line_items(struct ctx *c, json_t *sess, uint64_t pos)
{
	json_t *all = store_line_items(&c->fk->store, pos, c->shape);
	char url[160];
	snprintf(url, sizeof url, "/v1/checkout/sessions/%s/line_items",
		 json_string_value(json_object_get(sess, "id")));
	json_t *l = embedded_list(all, url);
	json_object_del(l, "total_count");
	json_object_set_new(sess, "line_items", l);
	json_decref(all);
}

static json_t *list_object(const char *url, json_t *data, int has_more)
{
	return json_pack("{s:s, s:s, s:b, s:o}", "object", "list", "url", url,
			 "has_more", has_more, "data", data);
}

/* One list entry as handle_list serialises it (the object, its children embedded). */
static json_t *list_entry(struct ctx *c, enum res r, uint64_t pos, int expand)
{
	json_t *o = store_object(&c->fk->store, r, pos, c->shape);
	if (!o)
		return NULL;
	if (expand)
		embed_line_items(c, o, pos);
	embed_children(o, r);
	return o;
}

void api_prerender_drop(struct fake *fk)
{
	struct prerender *pr = &fk->pre;
	for (int r = 0; r < R_COUNT; r++)
		for (int x = 0; x < 2; x++) {
			for (uint64_t i = 0; pr->text[r][x] && i < pr->n[r]; i++)
				free(pr->text[r][x][i]);
			free(pr->text[r][x]);
			free(pr->len[r][x]);
			pr->text[r][x] = NULL;
			pr->len[r][x] = NULL;
		}
	memset(pr, 0, sizeof *pr);
}

int api_prerender(struct fake *fk)
{
	struct prerender *pr = &fk->pre;
	struct ctx c;
	memset(&c, 0, sizeof c);
	c.fk = fk;
	c.shape = fk->cfg.shape;
	api_prerender_drop(fk);
	if (c.shape != SHAPE_2023 && c.shape != SHAPE_2026)
		return 0;                   /* per-request shapes: nothing fixed to render */
	pr->shape = c.shape;
	for (int r = 0; r < R_COUNT; r++) {
		if (r == R_EVENTS)
			continue;
		pr->n[r] = store_count(&fk->store, (enum res)r);
		for (int x = 0; x < (r == R_SESSIONS ? 2 : 1); x++) {
			pr->text[r][x] = calloc(pr->n[r] ? pr->n[r] : 1, sizeof *pr->text[r][x]);
			pr->len[r][x] = calloc(pr->n[r] ? pr->n[r] : 1, sizeof *pr->len[r][x]);
			if (!pr->text[r][x] || !pr->len[r][x])
				goto oom;
			for (uint64_t i = 0; i < pr->n[r]; i++) {
				json_t *o = list_entry(&c, (enum res)r, i, x);
				if (o && !(pr->text[r][x][i] = jsonout_dump(o, &pr->len[r][x][i]))) {
					json_decref(o);
					goto oom;
				}
				json_decref(o);
			}
		}
	}
	pr->on = 1;
	return 0;
oom:
	api_prerender_drop(fk);
	return -1;
}

/*
 * The body of a list page: list_object's own dump with the entries spliced
 * into its empty "data" array.  Each entry is copied from its prerendered
 * text or built, serialised and freed on its own, so a page never holds
 * more than one entry's JSON tree (a tree of 100 entries cost the fake a
 * third of its time in malloc and free).
 */
static void list_body(struct ctx *c, enum res r, const uint64_t *found, int nf, int expand,
		      const char *url, int has_more)
{
	const struct prerender *pr = &c->fk->pre;
	int x = r == R_SESSIONS && expand;
	int pre = pr->on && c->shape == pr->shape && pr->text[r][x];
	struct jsonbuf b = {NULL, 0, 0};
	size_t hlen, at;
	json_t *shell = list_object(url, json_array(), has_more);
	char *head = jsonout_dump(shell, &hlen);
	const char *hole = strstr(head, "\"data\":[]");

	json_decref(shell);
	if (!hole)
		abort();                    /* list_object always has it */
	at = (size_t)(hole - head) + strlen("\"data\":[");
	jsonout_append_raw(&b, head, at);
	for (int i = 0, n = 0; i < nf; i++) {
		const char *text = pre && found[i] < pr->n[r] ? pr->text[r][x][found[i]] : NULL;
		json_t *o = text ? NULL : list_entry(c, r, found[i], expand);

		if (!text && !o)
			continue;
		if (n++)
			jsonout_append_raw(&b, ",", 1);
		if (text)
			jsonout_append_raw(&b, text, pr->len[r][x][found[i]]);
		else
			jsonout_append(&b, o);
		json_decref(o);
	}
	jsonout_append_raw(&b, head + at, hlen - at + 1);   /* with the NUL */
	free(head);
	c->resp->status = 200;
	free(c->resp->body);
	c->resp->body = b.p;
	c->resp->body_len = b.len - 1;
}

static void handle_list(struct ctx *c, enum res r)
{
	struct listq q;
	memset(&q, 0, sizeof q);
	if (parse_limit(c, &q) < 0 || parse_created(c, &q) < 0 || parse_cursors(c, &q) < 0 ||
	    parse_expand(c, r == R_SESSIONS ? "data.line_items" : NULL, &q.expand_line_items) < 0)
		return;
	if (r == R_SUBSCRIPTIONS || r == R_INVOICES) {
		q.status = param(c, "status");
		if (q.status && !(r == R_SUBSCRIPTIONS ? sub_status_valid(q.status) :
				  invoice_status_valid(q.status))) {
			api_error(c, 400, "invalid_request_error", NULL, "status",
				  "Invalid status: must be one of %s", r == R_SUBSCRIPTIONS ?
				  "active, all, canceled, ended, incomplete, incomplete_expired, "
				  "past_due, paused, trialing, or unpaid" :
				  "draft, open, paid, uncollectible, or void");
			return;
		}
	}
	if (r == R_EVENTS) {
		q.type = param(c, "type");
		for (int i = 0; i < c->np; i++) {
			if (!is_array_key(c->p[i].key, "types"))
				continue;
			c->p[i].used = 1;
			if (q.ntypes == MAX_TYPES) {
				api_error(c, 400, "invalid_request_error", NULL, "types",
					  "You may pass at most %d types.", MAX_TYPES);
				return;
			}
			q.types[q.ntypes++] = c->p[i].val;
		}
		if (q.type && q.ntypes) {
			api_error(c, 400, "invalid_request_error", NULL, "types",
				  "You may only specify one of these parameters: type, types.");
			return;
		}
	}
	if (reject_unused(c) < 0)
		return;

	const struct store *st = &c->fk->store;
	uint64_t n = store_count(st, r);
	uint64_t lo = q.lo == INT64_MIN ? 0 : store_lower_bound(st, r, q.lo);
	uint64_t hi = q.hi == INT64_MAX ? n : store_lower_bound(st, r, q.hi + 1);
	if (q.hi < q.lo)
		hi = lo;
	const char *cursor = q.after ? q.after : q.before;
	int64_t cpos = -1;
	if (cursor && (cpos = store_find(st, r, cursor)) < 0) {
		api_error(c, 400, "invalid_request_error", "resource_missing",
			  q.after ? "starting_after" : "ending_before",
			  "No such %s: '%s'", res_info[r].noun, cursor);
		return;
	}
	uint64_t found[100];
	int nf = 0, has_more = 0;
	if (q.before) {
		/* the page just newer than the cursor, ascending, then reversed */
		for (uint64_t pos = (uint64_t)cpos + 1 > lo ? (uint64_t)cpos + 1 : lo; pos < hi; pos++) {
			if (!list_match(c, r, pos, &q))
				continue;
			if (nf == q.limit) {
				has_more = 1;
				break;
			}
			found[nf++] = pos;
		}
		for (int i = 0; i < nf / 2; i++) {
			uint64_t t = found[i];
			found[i] = found[nf - 1 - i];
			found[nf - 1 - i] = t;
		}
	} else {
		uint64_t top = hi;
		if (q.after && (uint64_t)cpos < top)
			top = (uint64_t)cpos;
		for (uint64_t pos = top; pos > lo; pos--) {
			if (!list_match(c, r, pos - 1, &q))
				continue;
			if (nf == q.limit) {
				has_more = 1;
				break;
			}
			found[nf++] = pos - 1;
		}
	}
	char url[64];
	snprintf(url, sizeof url, "/v1/%s", res_info[r].path);
	list_body(c, r, found, nf, q.expand_line_items, url, has_more);
}

static void handle_retrieve(struct ctx *c, enum res r, const char *id)
{
	int expand = 0;
	if (parse_expand(c, r == R_SESSIONS ? "line_items" : NULL, &expand) < 0 ||
	    reject_unused(c) < 0)
		return;
	const struct store *st = &c->fk->store;
	int64_t pos = store_find(st, r, id);
	json_t *o = pos >= 0 ? store_object(st, r, (uint64_t)pos, c->shape) : NULL;
	if (!o) {
		api_error(c, 404, "invalid_request_error", "resource_missing", "id",
			  "No such %s: '%s'", res_info[r].noun, id);
		return;
	}
	if (expand && !json_object_get(o, "deleted"))
		embed_line_items(c, o, (uint64_t)pos);
	embed_children(o, r);
	set_body(c->resp, 200, o);
}

/* One page of the children all (the parent's whole list, in its order):
 * limit, starting_after / ending_before by child id, as Stripe pages. */
static void page_children(struct ctx *c, const struct listq *q, json_t *all, const char *url,
			  const char *noun)
{
	size_t n = json_array_size(all), start = 0, end = n;
	const char *cursor = q->after ? q->after : q->before;
	if (cursor) {
		size_t k;
		for (k = 0; k < n; k++)
			if (!strcmp(cursor, json_string_value(json_object_get(json_array_get(all, k), "id"))))
				break;
		if (k == n) {
			api_error(c, 400, "invalid_request_error", "resource_missing",
				  q->after ? "starting_after" : "ending_before", "No such %s: '%s'",
				  noun, cursor);
			return;
		}
		if (q->after)
			start = k + 1;
		else
			end = k;
	}
	int has_more;
	if (q->before) {
		start = end > (size_t)q->limit ? end - (size_t)q->limit : 0;
		has_more = start > 0;
	} else {
		if (end - start > (size_t)q->limit)
			end = start + (size_t)q->limit;
		has_more = end < n;
	}
	json_t *data = json_array();
	for (size_t k = start; k < end; k++)
		json_array_append(data, json_array_get(all, k));
	set_body(c->resp, 200, list_object(url, data, has_more));
}

/* The pagination parameters of a children endpoint; 0 or -1 (400 set).
 * Parameters the caller reads must be read before (reject_unused). */
static int children_query(struct ctx *c, struct listq *q)
{
	int dummy;
	memset(q, 0, sizeof *q);
	if (parse_limit(c, q) < 0 || parse_cursors(c, q) < 0 ||
	    parse_expand(c, NULL, &dummy) < 0 || reject_unused(c) < 0)
		return -1;
	return 0;
}

/* GET /v1/checkout/sessions/{id}/line_items */
static void handle_line_items(struct ctx *c, const char *id)
{
	struct listq q;
	if (children_query(c, &q) < 0)
		return;
	const struct store *st = &c->fk->store;
	int64_t pos = store_find(st, R_SESSIONS, id);
	if (pos < 0) {
		api_error(c, 404, "invalid_request_error", "resource_missing", "id",
			  "No such checkout.session: '%s'", id);
		return;
	}
	json_t *all = store_line_items(st, (uint64_t)pos, c->shape);
	char url[160];
	snprintf(url, sizeof url, "/v1/checkout/sessions/%s/line_items", id);
	page_children(c, &q, all, url, "line item");
	json_decref(all);
}

/* GET /v1/invoices/{id}/lines and GET /v1/subscription_items?subscription=
 * (required): the parent's whole list, paged. */
static void handle_sub_lines(struct ctx *c, enum res r, const char *id)
{
	struct listq q;
	if (r == R_SUBSCRIPTIONS) {
		id = param(c, "subscription");
		if (!id) {
			children_query(c, &q);   /* a bad parameter is told first */
			if (c->resp->status)
				return;
			api_error(c, 400, "invalid_request_error", "parameter_missing",
				  "subscription", "Missing required param: subscription.");
			return;
		}
	}
	if (children_query(c, &q) < 0)
		return;
	const struct store *st = &c->fk->store;
	int64_t pos = store_find(st, r, id);
	json_t *o = pos >= 0 ? store_object(st, r, (uint64_t)pos, c->shape) : NULL;
	if (!o || json_object_get(o, "deleted")) {
		json_decref(o);
		api_error(c, 404, "invalid_request_error", "resource_missing",
			  r == R_SUBSCRIPTIONS ? "subscription" : "invoice", "No such %s: '%s'",
			  res_info[r].noun, id);
		return;
	}
	json_t *all = json_object_get(json_object_get(o, r == R_SUBSCRIPTIONS ? "items" : "lines"),
				      "data");
	char url[160];
	if (r == R_SUBSCRIPTIONS)
		snprintf(url, sizeof url, "/v1/subscription_items");
	else
		snprintf(url, sizeof url, "/v1/invoices/%s/lines", id);
	json_t *none = json_array();
	page_children(c, &q, all ? all : none, url,
		      r == R_SUBSCRIPTIONS ? "subscription item" : "invoice line item");
	json_decref(none);
	json_decref(o);
}

/* ---- control API -------------------------------------------------------- */

static json_t *body_json(struct ctx *c)
{
	json_error_t je;
	if (c->req->body_len == 0)
		return json_object();
	json_t *j = json_loadb(c->req->body, c->req->body_len, 0, &je);
	if (!j)
		api_error(c, 400, "invalid_request_error", NULL, NULL, "Invalid JSON body: %s", je.text);
	return j;
}

static void handle_control(struct ctx *c)
{
	struct fake *fk = c->fk;
	const char *m = c->req->method;
	char err[256] = "";
	c->resp->control = 1;
	snprintf(c->resp->route, sizeof c->resp->route, "%s %s", m, c->path);
	if (!strcmp(c->path, "/_fake/stats") && !strcmp(m, "GET")) {
		set_body(c->resp, 200, reqlog_stats(&fk->log));
	} else if (!strcmp(c->path, "/_fake/stats/reset") && !strcmp(m, "POST")) {
		reqlog_reset(&fk->log);
		set_body(c->resp, 200, json_pack("{s:b}", "ok", 1));
	} else if (!strcmp(c->path, "/_fake/faults") && !strcmp(m, "GET")) {
		set_body(c->resp, 200, faults_to_json(&fk->faults));
	} else if (!strcmp(c->path, "/_fake/faults") && !strcmp(m, "POST")) {
		json_t *j = body_json(c);
		if (!j)
			return;
		if (faults_apply_json(&fk->faults, j, err, sizeof err) < 0)
			api_error(c, 400, "invalid_request_error", NULL, NULL, "%s", err);
		else
			set_body(c->resp, 200, faults_to_json(&fk->faults));
		json_decref(j);
	} else if (!strcmp(c->path, "/_fake/mutate") && !strcmp(m, "POST")) {
		json_t *j = body_json(c);
		if (!j)
			return;
		json_t *res = store_mutate(&fk->store, j, err, sizeof err);
		api_prerender_drop(fk);     /* rendered entries are stale now */
		if (!res)
			api_error(c, 400, "invalid_request_error", NULL, NULL, "%s", err);
		else
			set_body(c->resp, 200, res);
		json_decref(j);
	} else if (!strcmp(c->path, "/_fake/children") && !strcmp(m, "GET")) {
		set_body(c->resp, 200, store_child_counts(&fk->store));
	} else if (!strcmp(c->path, "/_fake/health") && !strcmp(m, "GET")) {
		json_t *counts = json_object();
		for (int r = 0; r < R_COUNT; r++)
			json_object_set_new(counts, res_info[r].path,
					    json_integer((json_int_t)store_count(&fk->store, (enum res)r)));
		set_body(c->resp, 200, json_pack("{s:b, s:o, s:I, s:s}", "ok", 1, "counts", counts,
			"now", (json_int_t)fake_now(), "shape",
			fk->cfg.shape == SHAPE_2023 ? "2023" : fk->cfg.shape == SHAPE_2026 ? "2026" :
			fk->cfg.shape == SHAPE_AUTO ? "auto" : "asis"));
	} else {
		api_error(c, 404, "invalid_request_error", NULL, NULL,
			  "Unknown control endpoint (%s %s).", m, c->path);
	}
}

/* ---- dispatch ----------------------------------------------------------- */

static int auth_ok(struct ctx *c)
{
	const char *a = c->req->auth;
	if (!a || !*a) {
		api_error(c, 401, "invalid_request_error", NULL, NULL,
			  "You did not provide an API key. You need to provide your API key in the "
			  "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
			  "YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, "
			  "or we can help at https://support.stripe.com/.");
		return 0;
	}
	const char *k = c->fk->cfg.key;
	if (strncmp(a, "Bearer ", 7) != 0 || strcmp(a + 7, k) != 0) {
		/* never echo any part of a key */
		api_error(c, 401, "invalid_request_error", NULL, NULL,
			  "Invalid API Key provided: sk_****. You can find your API keys at "
			  "https://dashboard.stripe.com/apikeys.");
		return 0;
	}
	return 1;
}

/* Find the resource for path after "/v1/"; *rest gets what follows it. */
static enum res route_resource(const char *p, const char **rest)
{
	for (int r = 0; r < R_COUNT; r++) {
		size_t n = strlen(res_info[r].path);
		if (!strncmp(p, res_info[r].path, n) && (p[n] == 0 || p[n] == '/')) {
			*rest = p + n;
			return (enum res)r;
		}
	}
	return R_COUNT;
}

static void make_request_id(struct fake *fk, char *buf, size_t size)
{
	static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	uint64_t s = ++fk->req_serial * 0x9E3779B97F4A7C15ull;
	uint64_t v = fake_rand(&s);
	char tail[15];
	for (int k = 0; k < 14; k++) {
		tail[k] = b62[v % 62];
		v = v / 62 ^ (fk->req_serial << (k % 7));
	}
	tail[14] = 0;
	snprintf(buf, size, "req_%s", tail);
}

void api_handle(struct fake *fk, const struct request *req, struct response *resp)
{
	struct ctx c;
	memset(resp, 0, sizeof *resp);
	c.fk = fk;
	c.req = req;
	c.resp = resp;
	c.np = 0;
	c.path[0] = 0;
	make_request_id(fk, c.reqid, sizeof c.reqid);
	add_header(resp, "Request-Id", c.reqid);
	c.shape = fk->cfg.shape == SHAPE_AUTO ? shape_from_version(req->version) : fk->cfg.shape;
	snprintf(resp->version, sizeof resp->version, "%s",
		 req->version && *req->version ? req->version :
		 fk->cfg.version ? fk->cfg.version : shape_version(c.shape));
	snprintf(resp->route, sizeof resp->route, "%s (unrouted)", req->method);
	if (parse_target(&c) < 0)
		return;
	if (!strncmp(c.path, "/_fake/", 7)) {
		handle_control(&c);
		return;
	}
	if (!auth_ok(&c))
		return;
	const char *rest = "";
	enum res r = strncmp(c.path, "/v1/", 4) ? R_COUNT : route_resource(c.path + 4, &rest);
	char id[256] = "";
	/* a children endpoint: the suffix of its route */
	const char *child = NULL;
	if (!strcmp(c.path, "/v1/subscription_items")) {
		r = R_SUBSCRIPTIONS;
		child = "";
	}
	if (r != R_COUNT && !child && *rest == '/') {
		const char *s = rest + 1;
		size_t n = strcspn(s, "/");
		if (n == 0 || n >= sizeof id) {
			r = R_COUNT;
		} else {
			memcpy(id, s, n);
			id[n] = 0;
			if (s[n] == '/') {
				if ((r == R_SESSIONS && !strcmp(s + n, "/line_items")) ||
				    (r == R_INVOICES && !strcmp(s + n, "/lines")))
					child = s + n;
				else
					r = R_COUNT;
			}
		}
	}
	if (r == R_COUNT) {
		api_error(&c, 404, "invalid_request_error", NULL, NULL,
			  "Unrecognized request URL (%s: %s). Please see https://stripe.com/docs or we "
			  "can help at https://support.stripe.com/.", req->method, c.path);
		return;
	}
	if (child && !id[0])
		snprintf(resp->route, sizeof resp->route, "%s %s", req->method, c.path);
	else
		snprintf(resp->route, sizeof resp->route, "%s /v1/%s%s%s", req->method,
			 res_info[r].path, id[0] ? "/{id}" : "", child ? child : "");
	if (strcmp(req->method, "GET") != 0) {
		add_header(resp, "Allow", "GET");
		api_error(&c, 405, "invalid_request_error", NULL, NULL,
			  "The fake Stripe is read-only: %s %s is not allowed (trueup never writes "
			  "to Stripe).", req->method, c.path);
		return;
	}
	if (!faults_rate_admit(&fk->faults, resp->route, uv_hrtime())) {
		resp->rate_limited = 1;
		api_error(&c, 429, "invalid_request_error", "rate_limit", NULL,
			  "Request rate limit exceeded. Learn more about rate limits here "
			  "https://stripe.com/docs/rate-limits.");
		return;
	}
	int retry = -1;
	enum fault_kind f = faults_pick(&fk->faults, c.path, &retry);
	resp->fault = f;
	if (retry >= 0)
		add_header(resp, "Stripe-Should-Retry", retry ? "true" : "false");
	switch (f) {
	case FK_429:
		api_error(&c, 429, "invalid_request_error", "rate_limit", NULL,
			  "Request rate limit exceeded. Learn more about rate limits here "
			  "https://stripe.com/docs/rate-limits.");
		return;
	case FK_LOCK:
		api_error(&c, 429, "invalid_request_error", "lock_timeout", NULL,
			  "This object cannot be accessed right now because another API request or "
			  "Stripe process is currently accessing it.");
		return;
	case FK_500:
		api_error(&c, 500, "api_error", NULL, NULL,
			  "An unknown error occurred (injected by the fake).");
		return;
	case FK_503:
		api_error(&c, 503, "api_error", NULL, NULL,
			  "Stripe is temporarily unavailable (injected by the fake).");
		return;
	default:
		break;
	}
	if (child && r == R_SESSIONS)
		handle_line_items(&c, id);
	else if (child)
		handle_sub_lines(&c, r, id);
	else if (id[0])
		handle_retrieve(&c, r, id);
	else
		handle_list(&c, r);
}
