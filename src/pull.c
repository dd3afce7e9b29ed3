/*
 * pull.c - the pull orchestrator; see pull.h for what a pull does.
 *
 * Everything is asynchronous on one stripe_client: a "job" is one stream
 * of requests -- a pager (a cursor of the run: a created-time window of a
 * resource, the line items of one checkout session, one stream of
 * events), a probe of a resource being planned, or the retrieve of one
 * object.  A job's completion callback parses the body, commits the rows
 * with the cursor (db_snapshot_commit: one transaction) and queues its
 * next request; the client runs as many as its concurrency limit and the
 * shared token buckets allow.  The first final error cancels everything
 * that is still pending; the pull run is then marked failed.
 *
 * Children: a parent whose embedded list is incomplete (a checkout
 * session's line items, a subscription's items, an invoice's lines: the
 * first 10 and has_more) gets a child pager, a cursor of the child
 * resource whose scope is the parent id, paging the child endpoint from
 * the top (db_snapshot.c deletes the children it did not list when it
 * completes).
 *
 * Resume: a pull run's plan is its cursors.  Windows of a resource are
 * created in one transaction, so a run either has all of a resource's
 * windows or none (then the resource is planned again); a window split
 * while paged (split_window) inserts the new window and narrows the old
 * one in one transaction, so their union never changes; a parent's child
 * cursor is created before the page that names the parent is committed.
 * Continuing a run pages every cursor that is not done from its committed
 * starting_after.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db_pull.h"
#include "db_snapshot.h"
#include "pull.h"

const enum stripe_kind pull_kinds[PULL_NKINDS] = {
	STRIPE_CUSTOMER, STRIPE_PRODUCT, STRIPE_PRICE, STRIPE_SUBSCRIPTION,
	STRIPE_CHECKOUT_SESSION, STRIPE_REFUND, STRIPE_INVOICE
};

#define ALL_MASK (PULL_KIND_BIT(STRIPE_CUSTOMER) | PULL_KIND_BIT(STRIPE_PRODUCT) | \
		  PULL_KIND_BIT(STRIPE_PRICE) | PULL_KIND_BIT(STRIPE_SUBSCRIPTION) | \
		  PULL_KIND_BIT(STRIPE_CHECKOUT_SESSION) | PULL_KIND_BIT(STRIPE_REFUND) | \
		  PULL_KIND_BIT(STRIPE_INVOICE))

#define DAY 86400LL
#define MAX_PROBES 40           /* per resource, while planning windows */
#define PROBE_FANOUT 4          /* probes in flight per round of the search */
#define MAX_WINDOWS 16          /* automatic windows per resource */
#define MAX_FIXED_WINDOWS 1000  /* --window-days windows per resource */
#define SPLIT_MIN_PAGES 3       /* a window is split when more than this is left */
#define PENDING_BATCH 2000      /* objects retrieved per round of pending events */
#define MARK_BATCH 1000         /* events of kinds we keep no rows of, per commit */
/*
 * Pages are committed by the group's writer thread (db_snapshot_group),
 * which commits its transaction every DB_SNAPSHOT_GROUP_COMMITS pages or
 * DB_SNAPSHOT_GROUP_SEC seconds: a transaction rewrites every index page
 * its rows touch, so the more rows per transaction, the fewer times each
 * index page goes to the WAL.  The counts of the writer's commits come back
 * through sinks: SINK_KIND + kind (a resource's figures), SINK_EARLY + kind
 * (rows written early, see early_line_items) and SINK_NONE.
 */
#define SINK_KIND 0
#define SINK_EARLY STRIPE_KIND_COUNT
#define SINK_NONE (2 * STRIPE_KIND_COUNT)
_Static_assert(SINK_NONE < DB_SNAPSHOT_SINKS, "too few count sinks");
/*
 * An event older than the last full relist of its kind by more than this
 * is superseded by what the relist listed (Stripe's clock against ours;
 * within it, see process_pending).
 */
#define PULL_CLOCK_SKEW_SEC 60

/* --- the API of each resource ----------------------------------------------- */

struct kind_api {
	enum stripe_kind kind;
	const char *path;
	const char *list_name, *list_value;   /* an extra list parameter */
	const char *get_name, *get_value;     /* an extra retrieve parameter */
};

static const struct kind_api apis[] = {
	{ STRIPE_CUSTOMER, "/v1/customers", NULL, NULL, NULL, NULL },
	{ STRIPE_PRODUCT, "/v1/products", NULL, NULL, NULL, NULL },
	{ STRIPE_PRICE, "/v1/prices", NULL, NULL, NULL, NULL },
	{ STRIPE_SUBSCRIPTION, "/v1/subscriptions", "status", "all", NULL, NULL },
	{ STRIPE_CHECKOUT_SESSION, "/v1/checkout/sessions", "expand[]", "data.line_items",
	  "expand[]", "line_items" },
	{ STRIPE_REFUND, "/v1/refunds", NULL, NULL, NULL, NULL },
	{ STRIPE_INVOICE, "/v1/invoices", NULL, NULL, NULL, NULL },
	{ STRIPE_EVENT, "/v1/events", NULL, NULL, NULL, NULL },
};

/*
 * The endpoints of the children of one parent: PREFIX PARENT SUFFIX, or
 * the parent id as the parameter `param` (prefix alone is the path then).
 */
static const struct child_api {
	enum stripe_kind kind;
	const char *prefix, *suffix, *param;
} child_apis[] = {
	{ STRIPE_CHECKOUT_LINE_ITEM, "/v1/checkout/sessions/", "/line_items", NULL },
	{ STRIPE_SUBSCRIPTION_ITEM, "/v1/subscription_items", NULL, "subscription" },
	{ STRIPE_INVOICE_LINE, "/v1/invoices/", "/lines", NULL },
};

static const struct child_api *child_api_of(enum stripe_kind k)
{
	size_t i;

	for (i = 0; i < sizeof child_apis / sizeof child_apis[0]; i++)
		if (child_apis[i].kind == k)
			return &child_apis[i];
	return NULL;
}

static const struct kind_api *api_of(enum stripe_kind k)
{
	size_t i;

	for (i = 0; i < sizeof apis / sizeof apis[0]; i++)
		if (apis[i].kind == k)
			return &apis[i];
	return NULL;
}

/*
 * Event types read by incremental pulls, in two streams (types[] takes at
 * most 20).  charge.refunded is left out: its object is a charge, and the
 * refund it made has refund.created.
 */
#define NSTREAMS 2
static const char *const event_types[NSTREAMS][20] = {
	{ "customer.created", "customer.updated", "customer.deleted",
	  "product.created", "product.updated", "product.deleted",
	  "price.created", "price.updated", "price.deleted",
	  "customer.subscription.created", "customer.subscription.updated",
	  "customer.subscription.deleted", "customer.subscription.paused",
	  "customer.subscription.resumed", "customer.subscription.trial_will_end",
	  "customer.subscription.pending_update_applied",
	  "customer.subscription.pending_update_expired",
	  "refund.created", "refund.updated", "refund.failed" },
	{ "checkout.session.completed", "checkout.session.expired",
	  "checkout.session.async_payment_succeeded", "checkout.session.async_payment_failed",
	  "invoice.created", "invoice.deleted", "invoice.finalized",
	  "invoice.finalization_failed", "invoice.marked_uncollectible", "invoice.paid",
	  "invoice.payment_action_required", "invoice.payment_failed",
	  "invoice.payment_succeeded", "invoice.sent", "invoice.updated", "invoice.voided",
	  "invoice.overdue", "invoice.will_be_due", "charge.refund.updated", NULL },
};
static const char *const stream_scope[NSTREAMS] = { "a", "b" };

/* The kind of the object an event type is about. */
static enum stripe_kind event_type_kind(const char *t)
{
	static const struct { const char *prefix; enum stripe_kind k; } map[] = {
		{ "customer.subscription.", STRIPE_SUBSCRIPTION },
		{ "customer.", STRIPE_CUSTOMER },
		{ "product.", STRIPE_PRODUCT },
		{ "price.", STRIPE_PRICE },
		{ "checkout.session.", STRIPE_CHECKOUT_SESSION },
		{ "invoice.", STRIPE_INVOICE },
		{ "refund.", STRIPE_REFUND },
		{ "charge.refund.", STRIPE_REFUND },
	};
	size_t i;

	for (i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strncmp(t, map[i].prefix, strlen(map[i].prefix)) == 0)
			return map[i].k;
	return STRIPE_NONE;
}

static int in_mask(unsigned mask, enum stripe_kind k)
{
	return k > STRIPE_NONE && k < STRIPE_KIND_COUNT && (mask & PULL_KIND_BIT(k)) != 0;
}

int pull_parse_resources(const char *list, unsigned *mask, struct err *e)
{
	const char *s = list, *end;
	char name[64];
	size_t n;
	int i, found;

	*mask = 0;
	if (!list)
		return err_set(e, EXIT_USAGE, "no resource given");
	for (;;) {
		end = strchr(s, ',');
		n = end ? (size_t)(end - s) : strlen(s);
		if (n == 0)
			return err_set(e, EXIT_USAGE, "empty resource name in \"%s\"", list);
		if (n >= sizeof name)
			return err_set(e, EXIT_USAGE, "unknown resource \"%.40s...\"", s);
		memcpy(name, s, n);
		name[n] = '\0';
		for (found = 0, i = 0; i < PULL_NKINDS; i++)
			if (strcmp(name, stripe_kind_resource(pull_kinds[i])) == 0) {
				*mask |= PULL_KIND_BIT(pull_kinds[i]);
				found = 1;
			}
		if (!found)
			return err_set(e, EXIT_USAGE, "unknown resource \"%s\" (known: customers, "
				       "products, prices, subscriptions, checkout_sessions, refunds, "
				       "invoices)", name);
		if (!end)
			return 0;
		s = end + 1;
	}
}

/* "customers,prices" of a mask, into buf. */
static void mask_list(unsigned mask, char *buf, size_t sz)
{
	size_t len = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < PULL_NKINDS; i++) {
		int n;

		if (!in_mask(mask, pull_kinds[i]))
			continue;
		n = snprintf(buf + len, sz - len, "%s%s", len ? "," : "",
			     stripe_kind_resource(pull_kinds[i]));
		if (n < 0 || (size_t)n >= sz - len)
			return;
		len += (size_t)n;
	}
}

/* --- a set of ids (objects retrieved in this pull) ------------------------------ */

struct idset {
	char **slot;
	size_t cap, n;
};

static uint64_t id_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

/* Add id: 1 if added, 0 if present, -1 when out of memory. */
static int idset_add(struct idset *s, const char *id)
{
	size_t i;

	if ((s->n + 1) * 2 > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024, j;
		char **ns = calloc(cap, sizeof *ns);

		if (!ns)
			return -1;
		for (j = 0; j < s->cap; j++)
			if (s->slot[j]) {
				for (i = id_hash(s->slot[j]) & (cap - 1); ns[i]; i = (i + 1) & (cap - 1))
					;
				ns[i] = s->slot[j];
			}
		free(s->slot);
		s->slot = ns;
		s->cap = cap;
	}
	for (i = id_hash(id) & (s->cap - 1); s->slot[i]; i = (i + 1) & (s->cap - 1))
		if (strcmp(s->slot[i], id) == 0)
			return 0;
	if (!(s->slot[i] = strdup(id)))
		return -1;
	s->n++;
	return 1;
}

static int idset_has(const struct idset *s, const char *id)
{
	size_t i;

	if (!s->cap)
		return 0;
	for (i = id_hash(id) & (s->cap - 1); s->slot[i]; i = (i + 1) & (s->cap - 1))
		if (strcmp(s->slot[i], id) == 0)
			return 1;
	return 0;
}

static void idset_free(struct idset *s)
{
	size_t i;

	for (i = 0; i < s->cap; i++)
		free(s->slot[i]);
	free(s->slot);
	memset(s, 0, sizeof *s);
}

/* --- the puller ------------------------------------------------------------------ */

enum job_type { JOB_PAGER, JOB_PROBE_TOP, JOB_PROBE_LT, JOB_RETRIEVE };

struct job {
	struct puller *p;
	enum job_type type;
	enum stripe_kind kind;        /* the resource the figures go to */
	enum stripe_kind page_kind;   /* what its pages hold */
	struct db_snapshot_cursor cur;/* JOB_PAGER */
	int stream;                   /* events pager: stream index */
	int recheck;                  /* JOB_RETRIEVE of a non-final object */
	long long t;                  /* JOB_PROBE_LT: created[lt] */
	long long top, listed;        /* JOB_PAGER of a window: first created seen, objects */
	char id[DB_SNAPSHOT_ID_MAX];  /* JOB_RETRIEVE */
};

/* Planning state of one resource's full relist. */
struct rstate {
	int relist;                   /* relisted by the current run */
	int open;                     /* its list cursors not done */
	int finished;                 /* relist finished */
	long long newest, clast, lo, hi, step;
	long long probe_count;        /* objects in the probe page */
	int binary, probes;
	int inflight;                 /* probes of the current round not answered */
	long long early;              /* rows written from the probe page, listed again */
	int lo_known;                 /* lo is a bound found by this process's probes */
	int target;                   /* windows wanted in flight (see split_window) */
	int next_scope;               /* number of the next window's scope "wNNN" */
};

struct puller {
	struct db *db;
	struct db_snapshot_group *group;  /* pages committed together (flushed often) */
	struct stripe_client *c;
	const struct pull_opts *o;
	struct pull_result *res;
	int page_size;
	char limit[8];
	long long now;
	long long run_id, run_start;
	int failed;
	struct err err;
	struct rstate rs[STRIPE_KIND_COUNT];
	int events_open;              /* events streams not done */
	int save_events;              /* the run advances the events cursor */
	struct db_snapshot_events_cursor new_events;
	struct idset fetched;         /* retrieved by this incremental run */
	struct idset applied;         /* written from an event (or left to the window) */
	struct idset windowed;        /* sessions left to the "since" window */
	struct idset fallback;        /* windowed sessions the window did not hold */
	struct idset children;        /* child cursors of run children_run that exist */
	long long children_run;       /* ("RESOURCE/PARENT"; see child_add) */
	int since_started;            /* the "since" window is being paged */
	struct timespec t0;
};

static double elapsed(const struct puller *p)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - p->t0.tv_sec) + (double)(t.tv_nsec - p->t0.tv_nsec) / 1e9;
}

static struct pull_figures *fig(struct puller *p, enum stripe_kind k)
{
	if (k <= STRIPE_NONE || k >= STRIPE_KIND_COUNT)
		k = STRIPE_EVENT;
	return &p->res->res[k];
}

/* Remember the first failure (prefixed with the resource) and stop everything. */
static void fail(struct puller *p, enum stripe_kind k, const struct err *e)
{
	if (p->failed)
		return;
	p->failed = 1;
	p->err = *e;
	if (!p->err.code)
		p->err.code = EXIT_SOFTWARE;
	if (k > STRIPE_NONE)
		err_prefix(&p->err, "%s", k == STRIPE_EVENT ? "events" : stripe_kind_resource(k));
	stripe_cancel(p->c);
}

static void add_counts(struct pull_figures *f, const struct db_snapshot_counts *n)
{
	f->inserted += n->inserted;
	f->updated += n->updated;
	f->unchanged += n->unchanged;
	f->tombstoned += n->tombstoned;
}

/* Add the counts of the writer's finished commits to the figures. */
static void collect(struct puller *p)
{
	struct db_snapshot_counts n;
	int k;

	for (k = STRIPE_NONE + 1; k < STRIPE_KIND_COUNT; k++) {
		memset(&n, 0, sizeof n);
		db_snapshot_group_take(p->group, SINK_KIND + k, &n);
		add_counts(fig(p, (enum stripe_kind)k), &n);
		if (k == STRIPE_EVENT)
			p->res->events_new += n.events_new;
		memset(&n, 0, sizeof n);
		db_snapshot_group_take(p->group, SINK_EARLY + k, &n);
		fig(p, (enum stripe_kind)k)->inserted += n.inserted;
		fig(p, (enum stripe_kind)k)->updated += n.updated;
		p->rs[k].early += n.inserted + n.updated;
	}
	memset(&n, 0, sizeof n);
	db_snapshot_group_take(p->group, SINK_NONE, &n);
}

/*
 * Wait for the writer to commit every page handed to it (before anything
 * else uses the database, and after every run of the client), and take
 * its counts.  0, or -1 with the pull failed.
 */
static int group_flush(struct puller *p)
{
	struct err e = { 0 };
	int rc = db_snapshot_group_flush(p->group, &e);

	collect(p);
	if (rc != 0) {
		fail(p, STRIPE_NONE, &e);
		return -1;
	}
	return 0;
}

/*
 * Hand page *pg with cm to the writer (which takes the page: *pg becomes
 * NULL); its counts go to sink.  0, or -1 with the pull failed.
 */
static int submit(struct puller *p, struct db_snapshot_commit *cm, struct stripe_page **pg,
		  int sink, enum stripe_kind k)
{
	struct err e = { 0 };

	if (db_snapshot_group_submit(p->group, cm, pg, sink,
				     k == STRIPE_EVENT ? "events" : stripe_kind_resource(k), &e) != 0) {
		fail(p, STRIPE_NONE, &e);   /* named by the page that failed */
		return -1;
	}
	return 0;
}

/* Requests, retries and 429s of a response, to its resource. */
static void account(struct puller *p, enum stripe_kind k, const struct stripe_response *r)
{
	struct pull_figures *f = fig(p, k);

	f->requests += r->attempts;
	f->retries += r->attempts > 1 ? r->attempts - 1 : 0;
	f->rate_limited += r->rate_limited;
}

static void tick(void *udata)
{
	struct puller *p = udata;
	int i;

	db_snapshot_group_nudge(p->group);
	collect(p);
	memset(&p->res->total, 0, sizeof p->res->total);
	for (i = 0; i < STRIPE_KIND_COUNT; i++) {
		const struct pull_figures *f = &p->res->res[i];

		p->res->total.objects += f->objects;
		p->res->total.pages += f->pages;
		p->res->total.requests += f->requests;
		p->res->total.retries += f->retries;
		p->res->total.rate_limited += f->rate_limited;
	}
	p->res->elapsed_sec = elapsed(p);
	if (p->o->progress)
		p->o->progress(p->o->udata, p->res);
}

static void warn(struct puller *p, const char *fmt, long long a)
	__attribute__((format(printf, 2, 0)));

static void warn(struct puller *p, const char *fmt, long long a)
{
	char line[256];

	if (!p->o->warn)
		return;
	snprintf(line, sizeof line, fmt, a);
	p->o->warn(p->o->udata, line);
}

static void on_response(void *udata, const struct stripe_response *r, const struct err *e);

/*
 * A request's priority in the client's queue.  A full pull is as long as
 * its busiest endpoint: the line items of checkout sessions, which are
 * only found as session pages arrive and are held to 25/s like any
 * endpoint.  So line-item pages go first, then what reveals them (session
 * pages and the probes that plan the session windows), then the rest,
 * subscription items and invoice lines included: they are few (one parent
 * in hundreds has more than 10) and not what bounds a pull.
 */
static int job_prio(const struct job *j)
{
	if (j->page_kind == STRIPE_CHECKOUT_LINE_ITEM)
		return 2;
	return j->kind == STRIPE_CHECKOUT_SESSION && j->type != JOB_RETRIEVE ? 1 : 0;
}

/* Queue j's next request; on failure j is freed and the pull fails. */
static void job_send(struct job *j)
{
	struct puller *p = j->p;
	const struct kind_api *api = api_of(j->kind);
	const struct child_api *child = child_api_of(j->page_kind);
	struct stripe_param prm[32];
	char path[512], gte[24], lt[24], tbuf[24];
	size_t n = 0;
	struct err e = { 0 };
	int i;

	if (p->failed) {
		free(j);
		return;
	}
	switch (j->type) {
	case JOB_PAGER:
		if (child && child->param) {
			snprintf(path, sizeof path, "%s", child->prefix);
			prm[n++] = (struct stripe_param){ child->param, j->cur.scope };
		} else if (child) {
			snprintf(path, sizeof path, "%s%s%s", child->prefix, j->cur.scope,
				 child->suffix);
		} else {
			snprintf(path, sizeof path, "%s", api_of(j->page_kind)->path);
		}
		prm[n++] = (struct stripe_param){ "limit", p->limit };
		if (j->cur.starting_after[0])
			prm[n++] = (struct stripe_param){ "starting_after", j->cur.starting_after };
		if (j->cur.has_gte) {
			snprintf(gte, sizeof gte, "%lld", j->cur.created_gte);
			prm[n++] = (struct stripe_param){ "created[gte]", gte };
		}
		if (j->cur.has_lt) {
			snprintf(lt, sizeof lt, "%lld", j->cur.created_lt);
			prm[n++] = (struct stripe_param){ "created[lt]", lt };
		}
		if (j->page_kind == STRIPE_EVENT) {
			for (i = 0; i < 20 && event_types[j->stream][i]; i++)
				if (in_mask(p->o->only ? p->o->only : ALL_MASK,
					    event_type_kind(event_types[j->stream][i])))
					prm[n++] = (struct stripe_param){ "types[]",
									  event_types[j->stream][i] };
		} else if (!child && api->list_name) {
			prm[n++] = (struct stripe_param){ api->list_name, api->list_value };
		}
		break;
	case JOB_PROBE_TOP:
	case JOB_PROBE_LT:
		snprintf(path, sizeof path, "%s", api->path);
		prm[n++] = (struct stripe_param){ "limit", j->type == JOB_PROBE_TOP ? p->limit : "1" };
		if (j->type == JOB_PROBE_LT) {
			snprintf(tbuf, sizeof tbuf, "%lld", j->t);
			prm[n++] = (struct stripe_param){ "created[lt]", tbuf };
		}
		if (api->list_name && (j->type == JOB_PROBE_TOP || j->kind == STRIPE_SUBSCRIPTION))
			prm[n++] = (struct stripe_param){ api->list_name, api->list_value };
		break;
	default:
		snprintf(path, sizeof path, "%s/%s", api->path, j->id);
		if (api->get_name)
			prm[n++] = (struct stripe_param){ api->get_name, api->get_value };
		break;
	}
	if (stripe_get_prio(p->c, path, prm, n, job_prio(j), on_response, j, &e) != 0) {
		fail(p, j->kind, &e);
		free(j);
	}
}

static struct job *job_new(struct puller *p, enum job_type type, enum stripe_kind kind,
			   enum stripe_kind page_kind)
{
	struct job *j = calloc(1, sizeof *j);

	if (!j) {
		struct err e;

		err_set(&e, EXIT_SOFTWARE, "out of memory");
		fail(p, kind, &e);
		return NULL;
	}
	j->p = p;
	j->type = type;
	j->kind = kind;
	j->page_kind = page_kind;
	return j;
}

/* Start paging cursor c (already open) of resource kind. */
static void start_pager(struct puller *p, enum stripe_kind kind, enum stripe_kind page_kind,
			const struct db_snapshot_cursor *c)
{
	struct job *j = job_new(p, JOB_PAGER, kind, page_kind);
	int s;

	if (!j)
		return;
	j->cur = *c;
	for (s = 0; s < NSTREAMS; s++)
		if (page_kind == STRIPE_EVENT && strcmp(c->scope, stream_scope[s]) == 0)
			j->stream = s;
	job_send(j);
}

/*
 * The child cursors (line items, subscription items, invoice lines) of the
 * current run that exist, in the database or queued to the writer: those
 * the run had when this process took it up (resume_children) and those it
 * opened since.  With the set a parent page starts its children without
 * reading the database (the writer thread owns it while the client runs),
 * and a cursor is never paged twice at once (the pagination completing
 * first would forget what the other listed).  Returns 1 when key (of
 * parent kind) is new, 0 when known, -1 with the pull failed.
 */
static int child_add(struct puller *p, const struct db_snapshot_cursor *c)
{
	char key[sizeof c->resource + sizeof c->scope];
	struct err e = { 0 };
	int rc;

	if (p->children_run != p->run_id) {
		idset_free(&p->children);
		p->children_run = p->run_id;
	}
	snprintf(key, sizeof key, "%s/%s", c->resource, c->scope);
	if ((rc = idset_add(&p->children, key)) < 0) {
		err_set(&e, EXIT_SOFTWARE, "out of memory");
		fail(p, stripe_kind_parent(stripe_kind_from_resource(c->resource)), &e);
	}
	return rc;
}

/*
 * Before a page naming parent_id is committed: open the cursor of its
 * children of child_kind (scope = the parent id) on the writer, ahead of
 * the page, and page it, unless the run has it already (paged, being paged
 * or done).  0, or -1 with the pull failed.
 */
static int start_child_pager(struct puller *p, enum stripe_kind child_kind,
			     const char *parent_id)
{
	enum stripe_kind parent = stripe_kind_parent(child_kind);
	struct db_snapshot_cursor c;
	struct err e = { 0 };
	int rc;

	memset(&c, 0, sizeof c);
	c.pull_run_id = p->run_id;
	snprintf(c.resource, sizeof c.resource, "%s", stripe_kind_resource(child_kind));
	snprintf(c.scope, sizeof c.scope, "%s", parent_id);
	if ((rc = child_add(p, &c)) <= 0)
		return rc;
	if (db_snapshot_group_submit_cursor(p->group, &c, stripe_kind_resource(parent), &e) != 0) {
		fail(p, STRIPE_NONE, &e);
		return -1;
	}
	start_pager(p, parent, child_kind, &c);
	return 0;
}

/* The child pagers of the parents of pg whose embedded lists are incomplete. */
static int page_children(struct puller *p, const struct stripe_page *pg)
{
	enum stripe_kind k;
	size_t i;

	for (i = 0; i < pg->count; i++)
		if ((k = stripe_row_more_children(&pg->rows[i])) != STRIPE_NONE &&
		    start_child_pager(p, k, pg->rows[i].id) != 0)
			return -1;
	return 0;
}

/*
 * Every window of kind is done: finish its relist (tombstones) and build
 * the indexes deferred when it began, on the writer after its last page,
 * while the client goes on (the tombstones come back through kind's sink;
 * the early rows are settled in settle_early once the client is done).
 */
static void finish_relist(struct puller *p, enum stripe_kind kind)
{
	struct err e = { 0 };

	if (db_snapshot_group_submit_finish(p->group, p->run_id, kind, p->run_start,
					    SINK_KIND + kind, stripe_kind_resource(kind), &e) != 0) {
		fail(p, STRIPE_NONE, &e);
		return;
	}
	p->rs[kind].finished = 1;
	fig(p, kind)->done = 1;
}

/*
 * Rows written early (early_line_items) were counted then, and again as
 * unchanged when their window listed them: take them off the unchanged
 * ones of each relist that finished (after the writer's counts are in).
 */
static void settle_early(struct puller *p)
{
	int k;

	for (k = 0; k < PULL_NKINDS; k++) {
		struct rstate *rs = &p->rs[pull_kinds[k]];
		struct pull_figures *f = fig(p, pull_kinds[k]);

		if (!rs->finished || !rs->early)
			continue;
		f->unchanged -= rs->early < f->unchanged ? rs->early : f->unchanged;
		rs->early = 0;
	}
}

/* Window number n ("wNNN") of kind's relist in this run, [gte, lt) (has_*: 0 = open), into c. */
static void window_cursor(const struct puller *p, enum stripe_kind kind, int n, int has_gte,
			  long long gte, int has_lt, long long lt, struct db_snapshot_cursor *c)
{
	memset(c, 0, sizeof *c);
	c->pull_run_id = p->run_id;
	snprintf(c->resource, sizeof c->resource, "%s", stripe_kind_resource(kind));
	snprintf(c->scope, sizeof c->scope, "w%03d", n);
	c->has_gte = has_gte;
	c->created_gte = gte;
	c->has_lt = has_lt;
	c->created_lt = lt;
}

/* Cut [lo, newest] of kind into windows, open their cursors in one transaction, page them. */
static void plan_windows(struct puller *p, enum stripe_kind kind)
{
	struct rstate *rs = &p->rs[kind];
	struct db_snapshot_cursor *cs;
	struct err e = { 0 };
	long long span = rs->newest + 1 - rs->lo, k, i, n;
	double est;

	if (span < 1)
		span = 1;
	if (p->o->window_days > 0) {
		k = (span + p->o->window_days * DAY - 1) / (p->o->window_days * DAY);
		if (k > MAX_FIXED_WINDOWS)
			k = MAX_FIXED_WINDOWS;
	} else {
		/* objects per second near the top, times the span, in pages */
		est = (double)rs->probe_count * (double)span /
		      (double)(rs->newest - rs->clast > 0 ? rs->newest - rs->clast : 1);
		k = (long long)(est / p->page_size / 4.0);
		if (k > MAX_WINDOWS)
			k = MAX_WINDOWS;
	}
	if (k < 2)
		k = 2;
	if (k > span)
		k = span > 1 ? span : 1;
	if (!(cs = calloc((size_t)k, sizeof *cs))) {
		err_set(&e, EXIT_SOFTWARE, "out of memory");
		fail(p, kind, &e);
		return;
	}
	for (i = 0; i < k; i++)
		window_cursor(p, kind, (int)i, i > 0, rs->lo + span * i / k, i < k - 1,
			      rs->lo + span * (i + 1) / k, &cs[i]);
	/* on the writer, in one job (so one transaction), before the windows'
	 * pages: the client goes on meanwhile, where a flush here waited for
	 * all the writer had queued (half a second when that was the end of
	 * another resource's relist) */
	n = k;
	if (db_snapshot_group_submit_cursors(p->group, cs, (size_t)n, stripe_kind_resource(kind),
					     &e) != 0)
		goto fail;
	rs->open = (int)n;
	rs->target = (int)n;
	rs->next_scope = (int)n;
	rs->lo_known = rs->binary;
	for (i = 0; i < n; i++)
		start_pager(p, kind, kind, &cs[i]);
	free(cs);
	return;
fail:
	free(cs);
	fail(p, kind, &e);
}

static void probe_lt(struct puller *p, enum stripe_kind kind, long long t)
{
	struct job *j = job_new(p, JOB_PROBE_LT, kind, kind);

	if (!j)
		return;
	j->t = t;
	p->rs[kind].probes++;
	p->rs[kind].inflight++;
	job_send(j);
}

/*
 * Next round of the search for the oldest object (lo: none older; hi: one
 * exists).  A round sends up to PROBE_FANOUT probes at once (each a
 * round trip: with 150 ms of latency a one-at-a-time search held back the
 * windows, and so the line items, for seconds): while no lower bound is
 * known, at hi - step * 4^i; then at the PROBE_FANOUT inner points of
 * [lo, hi], which cuts the range by PROBE_FANOUT + 1 per round.
 */
static void probe_next(struct puller *p, enum stripe_kind kind)
{
	struct rstate *rs = &p->rs[kind];
	long long tol = (rs->newest - rs->lo) / 64, t[PROBE_FANOUT];
	int i, n = 0;

	if (tol < 60)
		tol = 60;
	if (rs->probes >= MAX_PROBES || (rs->binary && rs->hi - rs->lo <= tol)) {
		plan_windows(p, kind);
		return;
	}
	if (!rs->binary) {
		for (i = 0; i < PROBE_FANOUT; i++, rs->step *= 4) {
			if (rs->hi - rs->step <= 0) {
				if (n == 0) {          /* nothing left above 0: search [0, hi] */
					rs->binary = 1;
					rs->lo = 0;
					probe_next(p, kind);
					return;
				}
				break;
			}
			t[n++] = rs->hi - rs->step;
		}
	} else {
		for (i = 1; i <= PROBE_FANOUT; i++) {
			long long x = rs->lo + (rs->hi - rs->lo) * i / (PROBE_FANOUT + 1);

			if (x > rs->lo && x < rs->hi && (n == 0 || x > t[n - 1]))
				t[n++] = x;
		}
	}
	for (i = 0; i < n && rs->probes < MAX_PROBES; i++)
		probe_lt(p, kind, t[i]);
	if (rs->inflight == 0)
		plan_windows(p, kind);
}

/*
 * Write page pg without a cursor (a retrieved object, or rows a window
 * lists again), its sessions' line items started first.  0, or -1 with the
 * pull failed.
 */
static int commit_loose(struct puller *p, struct job *j, struct stripe_page **pg,
			const char *version, int sink)
{
	struct db_snapshot_commit cm;

	if (page_children(p, *pg) != 0)
		return -1;
	memset(&cm, 0, sizeof cm);
	cm.page = *pg;
	cm.stripe_version = version;
	cm.mark_events = 1;
	return submit(p, &cm, pg, sink, j->kind);
}

/*
 * The first page of checkout sessions, while their windows are planned:
 * when it names sessions with more line items than it embeds, write its
 * sessions now (without a cursor: the window that lists them again writes
 * them as unchanged and records them as met) and start those line items,
 * so the pull's busiest endpoint starts a planning phase earlier.
 */
static void early_line_items(struct puller *p, struct job *j, struct stripe_page **pg,
			     const char *version)
{
	size_t i;
	int any = 0;

	for (i = 0; i < (*pg)->count; i++)
		any |= !(*pg)->rows[i].deleted && (*pg)->rows[i].u.session.line_items_present &&
		       (*pg)->rows[i].u.session.line_items_has_more;
	if (any)   /* counted in collect(): figures and rs->early */
		commit_loose(p, j, pg, version, SINK_EARLY + j->kind);
}

/* The first page of kind: all of it, or the start of planning its windows. */
static void on_probe_top(struct puller *p, struct job *j, struct stripe_page **pgp,
			 const char *version)
{
	struct rstate *rs = &p->rs[j->kind];
	struct stripe_page *pg = *pgp;
	struct db_snapshot_commit cm;
	struct db_snapshot_cursor c;
	struct err e = { 0 };
	size_t count = pg->count;

	if (pg->has_more && pg->count > 0) {
		rs->newest = pg->rows[0].created.v;
		rs->clast = pg->rows[pg->count - 1].created.v;
		rs->probe_count = (long long)pg->count;
		rs->hi = rs->clast;
		rs->step = 2 * (rs->newest - rs->clast) > DAY ? 2 * (rs->newest - rs->clast) : DAY;
		if (j->kind == STRIPE_CHECKOUT_SESSION)
			early_line_items(p, j, pgp, version);
		probe_next(p, j->kind);
		return;
	}
	/* the whole resource fits one page: that is the relist */
	memset(&c, 0, sizeof c);
	c.pull_run_id = p->run_id;
	snprintf(c.resource, sizeof c.resource, "%s", stripe_kind_resource(j->kind));
	snprintf(c.scope, sizeof c.scope, "all");
	if (group_flush(p) != 0)
		return;
	if (db_snapshot_cursor_open(p->db, &c, &e) != 0) {
		fail(p, j->kind, &e);
		return;
	}
	if (page_children(p, pg) != 0)
		return;
	memset(&cm, 0, sizeof cm);
	cm.page = pg;
	cm.stripe_version = version;
	cm.cursor = &c;
	cm.mark_events = 1;
	if (submit(p, &cm, pgp, SINK_KIND + j->kind, j->kind) != 0)
		return;
	fig(p, j->kind)->objects += (long long)count;
	fig(p, j->kind)->pages++;
	finish_relist(p, j->kind);
}

static void on_probe_lt(struct puller *p, struct job *j, const struct stripe_page *pg)
{
	struct rstate *rs = &p->rs[j->kind];

	/*
	 * An empty answer proves nothing is older than t (lo); an object
	 * proves one exists at its created (hi).  Nothing else: the probes of
	 * a round answer in any order, so an object above a hi that a lower
	 * probe of the round set says nothing about lo (taking it as "empty"
	 * once put a third of the customers in the oldest window).
	 */
	rs->inflight--;
	if (pg->count == 0) {
		if (!rs->binary || j->t > rs->lo)
			rs->lo = j->t;
		rs->binary = 1;
	} else if (pg->rows[0].created.v < rs->hi) {
		rs->hi = pg->rows[0].created.v;
	}
	if (rs->inflight == 0 && !p->failed)
		probe_next(p, j->kind);
}

/*
 * Work stealing between the windows of a relist.  Windows are cut by time
 * before anything is known of how the objects are spread over it, so some
 * finish early and the last ones page alone, one request per round trip,
 * while the endpoint and the global budget have room.  So when a resource
 * has fewer windows in flight than it was planned with (rs->target), the
 * window j, between two of its requests (the page ending at created `last`
 * is committed, or queued to be), gives the older half of what it has left
 * to a new window: [its created_gte, at) from the top, and j goes on in
 * [at, ...).  The split is one writer job ahead of j's next page, so a
 * crash on either side of it loses nothing (db_snapshot_cursor_split).
 * "Half" is by time at the density j has seen; it is worth it only with
 * more than SPLIT_MIN_PAGES pages left.  The oldest window's lower end is
 * open: it is split only when this process found the oldest object (lo).
 */
static void split_window(struct puller *p, struct job *j, long long last)
{
	struct rstate *rs = &p->rs[j->kind];
	struct db_snapshot_cursor c;
	struct err e = { 0 };
	long long lo, at;
	double left;

	if (!rs->relist || rs->open >= rs->target || j->page_kind != j->kind ||
	    j->cur.scope[0] != 'w' || (!j->cur.has_gte && !rs->lo_known))
		return;
	lo = j->cur.has_gte ? j->cur.created_gte : rs->lo;
	if (last - lo < 2 || j->listed <= 0)
		return;
	left = (double)j->listed * (double)(last - lo) /
	       (double)(j->top - last > 0 ? j->top - last : 1);
	if (left <= (double)SPLIT_MIN_PAGES * p->page_size)
		return;
	at = lo + (last - lo) / 2;
	window_cursor(p, j->kind, rs->next_scope, j->cur.has_gte, j->cur.created_gte, 1, at, &c);
	if (db_snapshot_group_submit_split(p->group, &j->cur, c.scope, at,
					   stripe_kind_resource(j->kind), &e) != 0) {
		fail(p, STRIPE_NONE, &e);
		return;
	}
	rs->next_scope++;
	j->cur.has_gte = 1;
	j->cur.created_gte = at;
	rs->open++;
	start_pager(p, j->kind, j->kind, &c);
}

/* A page of a pager: commit it with its cursor, then ask for the next. */
static void on_pager(struct puller *p, struct job *j, struct stripe_page **pgp,
		     const char *version)
{
	struct stripe_page *pg = *pgp;
	struct db_snapshot_commit cm;
	struct err e = { 0 };
	int last_stream = 0, sink = SINK_NONE, has_more = pg->has_more;
	enum stripe_kind page_kind = pg->kind;
	size_t count = pg->count;
	long long last = count ? pg->rows[count - 1].created.v : 0;

	if (count && !j->listed)
		j->top = pg->rows[0].created.v;
	j->listed += (long long)count;
	if (pg->has_more && pg->count == 0) {
		err_set(&e, EXIT_DATAERR, "GET %s page after \"%s\": has_more with no data",
			j->cur.resource, j->cur.starting_after);
		fail(p, j->kind, &e);
		free(j);
		return;
	}
	if (page_children(p, pg) != 0) {
		free(j);
		return;
	}
	memset(&cm, 0, sizeof cm);
	cm.page = pg;
	cm.stripe_version = version;
	cm.cursor = &j->cur;
	cm.mark_events = pg->kind != STRIPE_EVENT;
	if (pg->kind == STRIPE_EVENT && !pg->has_more && p->events_open == 1) {
		last_stream = 1;
		if (p->save_events)
			cm.events_cursor = &p->new_events;
	}
	if (page_kind == j->kind || page_kind == STRIPE_EVENT)   /* not line-item pages */
		sink = SINK_KIND + j->kind;
	if (submit(p, &cm, pgp, sink, j->kind) != 0) {
		free(j);
		return;
	}
	if (sink != SINK_NONE)
		fig(p, j->kind)->objects += (long long)count;
	fig(p, j->kind)->pages++;
	if (has_more) {
		split_window(p, j, last);
		job_send(j);
		return;
	}
	if (page_kind == STRIPE_EVENT) {
		p->events_open--;
		if (last_stream)
			fig(p, STRIPE_EVENT)->done = 1;
	} else if (page_kind == j->kind && p->rs[j->kind].relist && --p->rs[j->kind].open == 0) {
		finish_relist(p, j->kind);
	}
	free(j);
}

/* A retrieved object: commit it (its events become processed). */
static void on_retrieve(struct puller *p, struct job *j, struct stripe_page **pg,
			const char *version)
{
	if (commit_loose(p, j, pg, version, SINK_KIND + j->kind) != 0)
		return;
	fig(p, j->kind)->objects++;
	fig(p, j->kind)->retrieved++;
	if (j->recheck)
		fig(p, j->kind)->rechecked++;
}

static void on_response(void *udata, const struct stripe_response *r, const struct err *e)
{
	struct job *j = udata;
	struct puller *p = j->p;
	struct stripe_page *pg = NULL;
	struct err pe = { 0 };
	int rc;

	account(p, j->kind, r);
	if (e->code || p->failed) {
		if (e->code && !r->cancelled)
			fail(p, j->kind, e);
		free(j);
		return;
	}
	/* r->doc is the client's parse of the body (validated there, retried
	 * when truncated or invalid): the rows are read from it, no second parse */
	if (j->type == JOB_RETRIEVE)
		rc = stripe_rows_parse_object_doc(r->doc, r->body, r->body_len, j->kind, &pg,
						   &pe);
	else if (child_api_of(j->page_kind))
		rc = stripe_rows_parse_children_doc(r->doc, r->body, r->body_len, j->page_kind,
						    j->cur.scope, &pg, &pe);
	else
		rc = stripe_rows_parse_page_doc(r->doc, r->body, r->body_len, j->page_kind, &pg,
						 &pe);
	if (rc != 0) {
		err_prefix(&pe, "GET %s%s%s (request %s)", r->path, r->query[0] ? "?" : "",
			   r->query, r->request_id[0] ? r->request_id : "none");
		fail(p, j->kind, &pe);
		free(j);
		return;
	}
	/* a page handed to the writer is its own (pg becomes NULL) */
	switch (j->type) {
	case JOB_PAGER:
		on_pager(p, j, &pg, r->stripe_version);
		j = NULL;   /* on_pager sent or freed it */
		break;
	case JOB_PROBE_TOP:
		on_probe_top(p, j, &pg, r->stripe_version);
		break;
	case JOB_PROBE_LT:
		on_probe_lt(p, j, pg);
		break;
	default:
		on_retrieve(p, j, &pg, r->stripe_version);
		break;
	}
	stripe_page_free(pg);
	free(j);
}

/* Run the client until idle; 0, or the failure / interruption. */
static int run_client(struct puller *p, struct err *e)
{
	struct err re = { 0 };
	int rc = stripe_run(p->c, p->o->stop, &re);

	group_flush(p);
	if (p->o->stop && *p->o->stop)
		return err_set(e, EXIT_TEMPFAIL, "interrupted; run 'trueup pull' again to resume");
	if (p->failed) {
		*e = p->err;
		return e->code;
	}
	if (rc != 0) {
		*e = re;
		return rc;
	}
	return 0;
}

/* --- runs -------------------------------------------------------------------------- */

struct cursor_list {
	struct db_snapshot_cursor *v;
	size_t n, cap;
	int oom;
};

static int collect_cursor(const struct db_snapshot_cursor *c, void *arg)
{
	struct cursor_list *l = arg;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		struct db_snapshot_cursor *nv = realloc(l->v, cap * sizeof *nv);

		if (!nv) {
			l->oom = 1;
			return 1;
		}
		l->v = nv;
		l->cap = cap;
	}
	l->v[l->n++] = *c;
	return 0;
}

static int load_cursors(struct puller *p, struct cursor_list *l, struct err *e)
{
	int rc;

	memset(l, 0, sizeof *l);
	if ((rc = db_snapshot_cursors_each(p->db, p->run_id, collect_cursor, l, e)) != 0)
		return rc;
	if (l->oom)
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	return 0;
}

/* Mark the run failed (unless interrupted: it stays running, to resume). */
static int run_failed(struct puller *p, int rc, struct err *e)
{
	struct err fe = { 0 };

	if (p->o->stop && *p->o->stop)
		return rc;
	/* the writer idle first (a failure of its own is e's cause already) */
	db_snapshot_group_flush(p->group, &fe);
	memset(&fe, 0, sizeof fe);
	if (db_snapshot_pull_finish(p->db, p->run_id, 0, e->msg, &fe) != 0)
		return rc;
	return rc;
}

/*
 * Page the child cursors of the run that are not done, and an incremental
 * run's "since" window of sessions (a full run pages its own windows).
 */
static void resume_children(struct puller *p, const struct cursor_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		enum stripe_kind k = stripe_kind_from_resource(l->v[i].resource);

		if (child_api_of(k)) {
			int rc = child_add(p, &l->v[i]);

			if (rc < 0)
				return;
			if (rc == 1 && !l->v[i].done)
				start_pager(p, stripe_kind_parent(k), k, &l->v[i]);
		} else if (l->v[i].done) {
			continue;
		} else if (k == STRIPE_CHECKOUT_SESSION && strcmp(l->v[i].scope, "since") == 0 &&
			 !p->since_started) {
			p->since_started = 1;
			start_pager(p, STRIPE_CHECKOUT_SESSION, STRIPE_CHECKOUT_SESSION, &l->v[i]);
		}
	}
}

/*
 * A relist that has deferred indexes (a first one, or one resumed) writes
 * through a rollback journal until the pull ends: db_snapshot_group_bulk.
 */
static int bulk_load(struct puller *p, struct err *e)
{
	int any, on, rc;

	if (group_flush(p) != 0) {
		*e = p->err;
		return e->code;
	}
	if ((rc = db_snapshot_indexes_deferred(p->db, &any, e)) != 0 || !any)
		return rc;
	return db_snapshot_group_bulk(p->group, &on, e);
}

/* The full relist of the kinds in mask, in run p->run_id (new or resumed). */
static int run_full(struct puller *p, unsigned mask, struct err *e)
{
	struct cursor_list l;
	struct db_snapshot_cursor start;
	struct db_snapshot_commit cm;
	struct db_snapshot_events_cursor ec;
	size_t i;
	int k, rc, any;

	memset(p->rs, 0, sizeof p->rs);
	idset_free(&p->children);
	/* the run's start: relist epoch and, for a relist of everything, the events cursor */
	memset(&start, 0, sizeof start);
	start.pull_run_id = p->run_id;
	snprintf(start.resource, sizeof start.resource, "events");
	snprintf(start.scope, sizeof start.scope, "start");
	start.has_gte = 1;
	start.created_gte = p->now;
	if ((rc = db_snapshot_cursor_open(p->db, &start, e)) != 0 ||
	    (rc = load_cursors(p, &l, e)) != 0)
		return run_failed(p, rc, e);
	p->run_start = start.created_gte;
	for (k = 0; k < PULL_NKINDS; k++) {
		enum stripe_kind kind = pull_kinds[k];
		struct rstate *rs = &p->rs[kind];

		if (!in_mask(mask, kind))
			continue;
		rs->relist = 1;
		fig(p, kind)->active = 1;
		fig(p, kind)->full = 1;
		for (any = 0, i = 0; i < l.n; i++)
			if (stripe_kind_from_resource(l.v[i].resource) == kind) {
				int w;

				any = 1;
				/* a resumed relist: as many windows as it had, numbered on */
				if (sscanf(l.v[i].scope, "w%d", &w) == 1 && w >= rs->next_scope)
					rs->next_scope = w + 1;
				if (rs->target < MAX_WINDOWS)
					rs->target++;
				if (!l.v[i].done) {
					rs->open++;
					start_pager(p, kind, kind, &l.v[i]);
				}
			}
		if (any && rs->open == 0)
			finish_relist(p, kind);
		else if (!any) {
			struct job *j;
			int deferred;

			/* a first relist into empty tables: indexes built at its end
			 * (after a flush: an earlier finish_relist may have queued a
			 * restore on the writer) */
			if (group_flush(p) != 0) {
				free(l.v);
				*e = p->err;
				return run_failed(p, e->code, e);
			}
			if ((rc = db_snapshot_defer_indexes(p->db, kind, &deferred, e)) != 0) {
				free(l.v);
				return run_failed(p, rc, e);
			}
			j = job_new(p, JOB_PROBE_TOP, kind, kind);

			if (j)
				job_send(j);
		}
	}
	resume_children(p, &l);
	free(l.v);
	if ((rc = bulk_load(p, e)) != 0)
		return run_failed(p, rc, e);
	if ((rc = run_client(p, e)) != 0)
		return run_failed(p, rc, e);
	settle_early(p);
	for (k = 0; k < PULL_NKINDS; k++)
		if (p->rs[pull_kinds[k]].relist && !p->rs[pull_kinds[k]].finished)
			return run_failed(p, err_set(e, EXIT_SOFTWARE, "pull: the relist of %s "
						     "did not finish",
						     stripe_kind_resource(pull_kinds[k])), e);
	memset(&cm, 0, sizeof cm);
	memset(&ec, 0, sizeof ec);
	cm.cursor = &start;
	if (mask == ALL_MASK) {
		ec.set = 1;
		ec.created = p->run_start;
		cm.events_cursor = &ec;
	}
	if ((rc = db_snapshot_commit(p->db, &cm, NULL, e)) != 0 ||
	    (rc = db_snapshot_pull_finish(p->db, p->run_id, 1, NULL, e)) != 0)
		return run_failed(p, rc, e);
	p->res->did_full = 1;
	return 0;
}

/*
 * Pending events, one batch: the objects they name (each once, oldest
 * event first) and the events of kinds we keep no rows of, to mark.
 */
struct pending {
	struct puller *p;
	unsigned mask;
	int mark_others;
	char (*ids)[DB_SNAPSHOT_ID_MAX];
	enum stripe_kind *kinds;
	size_t n;
	char (*marks)[DB_SNAPSHOT_ID_MAX];
	size_t nmarks;
	struct idset batch;
	int oom;
};

static int collect_pending(const struct db_snapshot_event_ref *ev, void *arg)
{
	struct pending *b = arg;
	enum stripe_kind k = stripe_kind_from_object(ev->object_type);
	int i, known = 0;

	for (i = 0; i < PULL_NKINDS; i++)
		known |= pull_kinds[i] == k;
	if (!known || !ev->object_id[0]) {
		if (b->mark_others && b->nmarks < MARK_BATCH)
			snprintf(b->marks[b->nmarks++], DB_SNAPSHOT_ID_MAX, "%s", ev->id);
		return 0;
	}
	if (!in_mask(b->mask, k))
		return 0;
	switch (idset_add(&b->batch, ev->object_id)) {
	case -1:
		b->oom = 1;
		return 1;
	case 0:
		return 0;
	default:
		break;
	}
	snprintf(b->ids[b->n], DB_SNAPSHOT_ID_MAX, "%s", ev->object_id);
	b->kinds[b->n++] = k;
	return b->n >= PENDING_BATCH;
}

static void start_retrieve(struct puller *p, enum stripe_kind kind, const char *id, int recheck)
{
	struct job *j = job_new(p, JOB_RETRIEVE, kind, kind);

	if (!j)
		return;
	snprintf(j->id, sizeof j->id, "%s", id);
	j->recheck = recheck;
	job_send(j);
}

/* What an incremental pull does with one changed object. */
enum act {
	ACT_MARK,       /* superseded: its newest event is applied, or older than a relist */
	ACT_APPLY,      /* write its newest event's data.object */
	ACT_APPLY_LI,   /* the same, then page its children (line items, items, lines) */
	ACT_WINDOW,     /* a new session: re-listed with its line items (the "since" window) */
	ACT_RETRIEVE    /* the snapshot is not enough: GET it */
};

/* The decisions of one batch, and what they keep alive until the commit. */
struct act_plan {
	enum act *act;
	struct stripe_page **pages;    /* the parsed newest event of each object, or NULL */
	char **versions;               /* its api_version (owned), or NULL */
	long long *created;            /* ACT_WINDOW: the session's created */
};

static void plan_free(struct act_plan *pl, size_t n)
{
	size_t i;

	for (i = 0; pl->pages && i < n; i++)
		stripe_page_free(pl->pages[i]);
	for (i = 0; pl->versions && i < n; i++)
		free(pl->versions[i]);
	free(pl->act);
	free(pl->pages);
	free(pl->versions);
	free(pl->created);
	memset(pl, 0, sizeof *pl);
}

/* The object of the newest event of object i (NULL: none parsed). */
static const struct stripe_row *plan_object(const struct act_plan *pl, size_t i)
{
	const struct stripe_page *pg = pl->pages[i];

	return pg && pg->count == 1 ? pg->rows[0].u.event.object : NULL;
}

/*
 * Decide what to do with object (kind, id), whose events are pending:
 *   - its newest stored event (created, then id) is processed, or older
 *     than the last full relist of its kind (by more than
 *     PULL_CLOCK_SKEW_SEC: Stripe's clock against ours): the snapshot is
 *     already newer than every pending event; mark them processed;
 *   - else the newest event's data.object is the object's state after its
 *     last change we know of: apply it, then page its children when its
 *     embedded list is incomplete (a subscription's items, an invoice's
 *     lines, a session's line items: has_more), unless it is not enough --
 *     a subscription without items, an invoice without lines (retrieve
 *     those), a checkout session without line items whose
 *     line items the snapshot does not hold yet (a new session: re-listed
 *     in the "since" window when created after window_floor, else applied
 *     and its line items paged).  A session's line items never change once
 *     it exists, so a known session keeps those it has.
 * Taking the newest event, never a pending older one, is what keeps an
 * older snapshot from overwriting a newer state; see process_pending for
 * the rest of the argument.
 */
static int decide(struct puller *p, enum stripe_kind kind, const char *id,
		  const long long *last_full, long long window_floor, int no_window,
		  struct act_plan *pl, size_t i, struct err *e)
{
	struct db_pull_event ev;
	struct err pe = { 0 };
	const struct stripe_row *obj;
	int rc, found, known;

	pl->act[i] = ACT_RETRIEVE;
	if ((rc = db_pull_newest_event(p->db, id, &ev, &found, e)) != 0)
		return rc;
	if (!found)
		return 0;
	if (ev.processed || (last_full[kind] > 0 &&
			     ev.created < last_full[kind] - PULL_CLOCK_SKEW_SEC)) {
		pl->act[i] = ACT_MARK;
		free(ev.raw_json);
		return 0;
	}
	rc = stripe_rows_parse_object(ev.raw_json, strlen(ev.raw_json), STRIPE_EVENT,
				      &pl->pages[i], &pe);
	free(ev.raw_json);
	if (rc != 0)
		return 0;   /* stored events were validated; retrieve anyway */
	obj = plan_object(pl, i);
	if (!obj || obj->kind != kind || !obj->id || strcmp(obj->id, id) != 0)
		return 0;
	if (pl->pages[i]->rows[0].u.event.api_version &&
	    !(pl->versions[i] = strdup(pl->pages[i]->rows[0].u.event.api_version)))
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	if (obj->deleted) {
		pl->act[i] = ACT_APPLY;
		return 0;
	}
	switch (kind) {
	case STRIPE_SUBSCRIPTION:
		if (obj->u.subscription.items_present)
			pl->act[i] = obj->u.subscription.items_has_more ? ACT_APPLY_LI : ACT_APPLY;
		return 0;
	case STRIPE_INVOICE:
		if (obj->u.invoice.lines_present)
			pl->act[i] = obj->u.invoice.lines_has_more ? ACT_APPLY_LI : ACT_APPLY;
		return 0;
	case STRIPE_CHECKOUT_SESSION:
		if (obj->u.session.line_items_present) {
			pl->act[i] = obj->u.session.line_items_has_more ? ACT_APPLY_LI : ACT_APPLY;
			return 0;
		}
		if ((rc = db_pull_line_items_known(p->db, id, &known, e)) != 0)
			return rc;
		if (known)
			pl->act[i] = ACT_APPLY;
		else if (!no_window && obj->created.set && obj->created.v >= window_floor) {
			pl->act[i] = ACT_WINDOW;
			pl->created[i] = obj->created.v;
		} else {
			pl->act[i] = ACT_APPLY_LI;
		}
		return 0;
	default:
		pl->act[i] = ACT_APPLY;
		return 0;
	}
}

/*
 * The "since" window of this incremental run: checkout sessions created
 * at or after gte, listed with their line items.  Returns 1 when the
 * window covers created (it is being paged, or will be), 0 when it is
 * done already (the session was not in it: page its line items instead),
 * -1 on failure (p failed).
 */
static int since_window(struct puller *p, long long gte, long long created)
{
	struct db_snapshot_cursor c;
	struct err e = { 0 };

	memset(&c, 0, sizeof c);
	c.pull_run_id = p->run_id;
	snprintf(c.resource, sizeof c.resource, "%s", stripe_kind_resource(STRIPE_CHECKOUT_SESSION));
	snprintf(c.scope, sizeof c.scope, "since");
	c.has_gte = 1;
	c.created_gte = gte;
	if (db_snapshot_cursor_open(p->db, &c, &e) != 0) {
		fail(p, STRIPE_CHECKOUT_SESSION, &e);
		return -1;
	}
	if (c.done || (c.has_gte && created < c.created_gte))
		return 0;
	if (!p->since_started) {
		p->since_started = 1;
		fig(p, STRIPE_CHECKOUT_SESSION)->active = 1;
		start_pager(p, STRIPE_CHECKOUT_SESSION, STRIPE_CHECKOUT_SESSION, &c);
	}
	return 1;
}

/*
 * Commit the snapshots of the objects of b planned act, a transaction per
 * resource (for its figures); ACT_APPLY_LI leaves their events pending.
 * rows and vers: room for b->n entries.
 */
static int commit_acts(struct puller *p, const struct pending *b, const struct act_plan *pl,
		       enum act act, const struct stripe_row **rows, const char **vers,
		       struct err *e)
{
	struct db_snapshot_counts n;
	struct db_snapshot_commit cm;
	size_t i, nrows;
	int k, rc;

	for (k = 0; k < PULL_NKINDS; k++) {
		nrows = 0;
		for (i = 0; i < b->n; i++)
			if (pl->act[i] == act && b->kinds[i] == pull_kinds[k]) {
				vers[nrows] = pl->versions[i];
				rows[nrows++] = plan_object(pl, i);
			}
		if (!nrows)
			continue;
		memset(&cm, 0, sizeof cm);
		memset(&n, 0, sizeof n);
		cm.objects = rows;
		cm.object_versions = vers;
		cm.nobjects = nrows;
		cm.objects_keep_pending = act == ACT_APPLY_LI;
		if ((rc = db_snapshot_commit(p->db, &cm, &n, e)) != 0)
			return rc;
		add_counts(fig(p, pull_kinds[k]), &n);
	}
	return 0;
}

/*
 * Act on one batch of changed objects: decide each (decide()), then
 *   1. commit the snapshots of objects whose children must be paged,
 *      leaving their events pending, and open their child cursors
 *      (a pull killed in between decides them again: nothing is lost);
 *   2. commit every other snapshot, each object's pending events marked
 *      processed with it, and the superseded objects' marks, in one
 *      transaction;
 *   3. queue the retrieves, the child pagers and the "since" window.
 * The caller runs the client.
 */
static int apply_batch(struct puller *p, const struct pending *b, const long long *last_full,
		       long long window_floor, struct err *e)
{
	struct act_plan pl;
	const struct stripe_row **rows = NULL;
	const char **vers = NULL, **marks = NULL;
	size_t i, nmarks = 0;
	long long gte = 0;
	int rc = 0, any_window = 0;
	struct db_snapshot_commit cm;

	memset(&pl, 0, sizeof pl);
	pl.act = calloc(b->n, sizeof *pl.act);
	pl.pages = calloc(b->n, sizeof *pl.pages);
	pl.versions = calloc(b->n, sizeof *pl.versions);
	pl.created = calloc(b->n, sizeof *pl.created);
	rows = calloc(b->n, sizeof *rows);
	vers = calloc(b->n, sizeof *vers);
	marks = calloc(b->n, sizeof *marks);
	if (!pl.act || !pl.pages || !pl.versions || !pl.created || !rows || !vers || !marks) {
		rc = err_set(e, EXIT_SOFTWARE, "out of memory");
		goto out;
	}
	for (i = 0; i < b->n; i++) {
		const char *id = b->ids[i];
		int again = idset_has(&p->applied, id) || idset_has(&p->fetched, id);

		/* a windowed session still pending was not in the window: page its
		 * items instead, once; anything else pending again is a bug */
		if (again && (!idset_has(&p->windowed, id) || idset_has(&p->fallback, id))) {
			rc = err_set(e, EXIT_SOFTWARE, "pull: events of \"%s\" stay pending after it "
				     "was fetched", id);
			goto out;
		}
		if (again && idset_add(&p->fallback, id) < 0)
			goto oom;
		if ((rc = decide(p, b->kinds[i], id, last_full, window_floor, again, &pl, i, e)) != 0)
			goto out;
		if (pl.act[i] == ACT_WINDOW && (!any_window || pl.created[i] < gte)) {
			gte = pl.created[i];
			any_window = 1;
		}
	}
	/* the window: open (or find) it; sessions it cannot cover page their items */
	for (i = 0; any_window && i < b->n; i++) {
		int w;

		if (pl.act[i] != ACT_WINDOW)
			continue;
		if ((w = since_window(p, gte, pl.created[i])) < 0) {
			rc = p->err.code;
			*e = p->err;
			goto out;
		}
		if (w == 0)
			pl.act[i] = ACT_APPLY_LI;
		else if (idset_add(&p->windowed, b->ids[i]) < 0 || idset_add(&p->applied, b->ids[i]) < 0)
			goto oom;
	}
	/* 1. objects with children to page: rows first, events left pending */
	if ((rc = commit_acts(p, b, &pl, ACT_APPLY_LI, rows, vers, e)) != 0)
		goto out;
	for (i = 0; i < b->n; i++)
		if (pl.act[i] == ACT_APPLY_LI &&
		    start_child_pager(p, stripe_kind_child(b->kinds[i]), b->ids[i]) != 0) {
			rc = p->err.code;
			*e = p->err;
			goto out;
		}
	/* the cursors went to the writer: the commits below are direct */
	if (group_flush(p) != 0) {
		rc = p->err.code;
		*e = p->err;
		goto out;
	}
	/* 2. the other snapshots, each object's events marked with it; then the marks */
	if ((rc = commit_acts(p, b, &pl, ACT_APPLY, rows, vers, e)) != 0)
		goto out;
	for (i = 0; i < b->n; i++)
		if (pl.act[i] == ACT_MARK || pl.act[i] == ACT_APPLY_LI)
			marks[nmarks++] = b->ids[i];
	if (nmarks) {
		memset(&cm, 0, sizeof cm);
		cm.processed_objects = marks;
		cm.nprocessed_objects = nmarks;
		if ((rc = db_snapshot_commit(p->db, &cm, NULL, e)) != 0)
			goto out;
	}
	/* figures: applied snapshots go to their resource */
	for (i = 0; i < b->n; i++) {
		struct pull_figures *f = fig(p, b->kinds[i]);

		f->active = 1;
		if (pl.act[i] == ACT_APPLY || pl.act[i] == ACT_APPLY_LI) {
			f->objects++;
			f->applied++;
			if (idset_add(&p->applied, b->ids[i]) < 0)
				goto oom;
		}
	}
	/* 3. retrieves (the window and the child pagers are queued already) */
	for (i = 0; i < b->n; i++)
		if (pl.act[i] == ACT_RETRIEVE) {
			if (idset_add(&p->fetched, b->ids[i]) < 0)
				goto oom;
			start_retrieve(p, b->kinds[i], b->ids[i], 0);
		}
	goto out;
oom:
	rc = err_set(e, EXIT_SOFTWARE, "out of memory");
out:
	plan_free(&pl, b->n);
	free(rows);
	free(vers);
	free(marks);
	return rc;
}

/*
 * Handle the objects of pending events until none is left (one batch of
 * PENDING_BATCH objects a round; each round's requests run before the
 * next).
 *
 * Ordering.  An object takes the data.object of its NEWEST stored event,
 * and only when that event is not processed: a processed newest event
 * means the snapshot already holds that state or a newer one (it was
 * applied, or the object was listed or retrieved after the event was
 * stored).  Older pending events are marked processed with it.  Events of
 * a window are all read before any is applied, so the newest of them is
 * the object's state at its last change up to the window's end, the pull's
 * start.  A full relist lists after the pull's start, so an event older
 * than the relist's start (minus PULL_CLOCK_SKEW_SEC) never overwrites
 * what it listed; within that margin, or when a relist ran in the same
 * pull and the object changed again after the pull's start, the event
 * can be older than the listed state -- only by changes whose events come
 * after this window, which the next incremental pull reads and applies.
 * Retrieves and the "since" window read the current state and mark the
 * object's events processed, so they are never overwritten either.
 */
static int process_pending(struct puller *p, unsigned mask, int mark_others,
			   long long window_floor, struct err *e)
{
	struct pending b;
	const char **marks = NULL;
	long long last_full[STRIPE_KIND_COUNT];
	size_t i;
	int rc = 0, k, found;

	memset(&b, 0, sizeof b);
	memset(last_full, 0, sizeof last_full);
	for (k = 0; k < PULL_NKINDS; k++) {
		long long t = 0;

		if ((rc = db_snapshot_last_full(p->db, pull_kinds[k], &t, &found, e)) != 0)
			return rc;
		last_full[pull_kinds[k]] = found ? t : 0;
	}
	b.p = p;
	b.mask = mask;
	b.mark_others = mark_others;
	b.ids = malloc(PENDING_BATCH * sizeof *b.ids);
	b.kinds = malloc(PENDING_BATCH * sizeof *b.kinds);
	b.marks = malloc(MARK_BATCH * sizeof *b.marks);
	marks = malloc(MARK_BATCH * sizeof *marks);
	if (!b.ids || !b.kinds || !b.marks || !marks) {
		rc = err_set(e, EXIT_SOFTWARE, "out of memory");
		goto out;
	}
	for (;;) {
		b.n = 0;
		b.nmarks = 0;
		idset_free(&b.batch);
		if ((rc = db_snapshot_events_pending(p->db, 0, collect_pending, &b, e)) != 0)
			goto out;
		if (b.oom) {
			rc = err_set(e, EXIT_SOFTWARE, "out of memory");
			goto out;
		}
		if (b.n == 0 && b.nmarks == 0)
			break;
		if (b.nmarks) {
			struct db_snapshot_commit cm;

			memset(&cm, 0, sizeof cm);
			for (i = 0; i < b.nmarks; i++)
				marks[i] = b.marks[i];
			cm.processed_events = marks;
			cm.nprocessed_events = b.nmarks;
			if ((rc = db_snapshot_commit(p->db, &cm, NULL, e)) != 0)
				goto out;
		}
		if (b.n && (rc = apply_batch(p, &b, last_full, window_floor, e)) != 0)
			goto out;
		if ((rc = run_client(p, e)) != 0)
			goto out;
	}
out:
	idset_free(&b.batch);
	free(b.ids);
	free(b.kinds);
	free(b.marks);
	free(marks);
	return rc;
}

struct recheck {
	struct puller *p;
	char (*ids)[DB_SNAPSHOT_ID_MAX];
	enum stripe_kind *kinds;
	size_t n;
};

static int collect_recheck(enum stripe_kind kind, const char *id, void *arg)
{
	struct recheck *r = arg;

	if (idset_has(&r->p->fetched, id))
		return 0;
	snprintf(r->ids[r->n], DB_SNAPSHOT_ID_MAX, "%s", id);
	r->kinds[r->n++] = kind;
	return r->n >= PULL_RECHECK_MAX;
}

/* Retrieve objects whose non-final state had a deadline in [from, to). */
static int recheck(struct puller *p, unsigned mask, long long from, long long to,
		   struct err *e)
{
	struct recheck r;
	size_t i;
	int rc;

	memset(&r, 0, sizeof r);
	r.p = p;
	r.ids = malloc(PULL_RECHECK_MAX * sizeof *r.ids);
	r.kinds = malloc(PULL_RECHECK_MAX * sizeof *r.kinds);
	if (!r.ids || !r.kinds) {
		rc = err_set(e, EXIT_SOFTWARE, "out of memory");
		goto out;
	}
	if ((rc = db_pull_recheck_each(p->db, mask, from, to, PULL_RECHECK_MAX, collect_recheck,
				       &r, e)) != 0)
		goto out;
	for (i = 0; i < r.n; i++) {
		if (idset_add(&p->fetched, r.ids[i]) < 0) {
			rc = err_set(e, EXIT_SOFTWARE, "out of memory");
			goto out;
		}
		start_retrieve(p, r.kinds[i], r.ids[i], 1);
	}
	if (r.n)
		rc = run_client(p, e);
out:
	free(r.ids);
	free(r.kinds);
	return rc;
}

/* An incremental pull of the kinds in mask (all: it advances the events cursor). */
static int run_incremental(struct puller *p, unsigned mask, struct err *e)
{
	struct db_snapshot_events_cursor ev;
	struct db_snapshot_cursor c[NSTREAMS];
	struct cursor_list l;
	long long from = 0, to = p->now + 1;
	size_t i;
	int s, t, rc, have = 0, nstreams = 0, k;

	memset(p->rs, 0, sizeof p->rs);
	memset(c, 0, sizeof c);
	idset_free(&p->fetched);
	idset_free(&p->applied);
	idset_free(&p->windowed);
	idset_free(&p->fallback);
	idset_free(&p->children);
	p->since_started = 0;
	p->save_events = mask == ALL_MASK;
	p->events_open = 0;
	fig(p, STRIPE_EVENT)->active = 1;
	for (k = 0; k < PULL_NKINDS; k++)
		if (in_mask(mask, pull_kinds[k]))
			fig(p, pull_kinds[k])->active = 1;
	if ((rc = load_cursors(p, &l, e)) != 0)
		return run_failed(p, rc, e);
	for (i = 0; i < l.n; i++)
		if (strcmp(l.v[i].resource, "events") == 0 && l.v[i].has_gte && l.v[i].has_lt) {
			from = l.v[i].created_gte;
			to = l.v[i].created_lt;
			have = 1;
		}
	if (!have) {
		if ((rc = db_snapshot_events_cursor_get(p->db, &ev, e)) != 0) {
			free(l.v);
			return run_failed(p, rc, e);
		}
		from = ev.created - PULL_OVERLAP_SEC;
	}
	p->new_events.set = 1;
	p->new_events.created = to - 1;
	p->new_events.id[0] = '\0';
	for (s = 0; s < NSTREAMS; s++) {
		int types = 0;

		for (t = 0; t < 20 && event_types[s][t]; t++)
			types += in_mask(mask, event_type_kind(event_types[s][t]));
		if (!types)
			continue;
		c[s].pull_run_id = p->run_id;
		snprintf(c[s].resource, sizeof c[s].resource, "events");
		snprintf(c[s].scope, sizeof c[s].scope, "%s", stream_scope[s]);
		c[s].has_gte = c[s].has_lt = 1;
		c[s].created_gte = from;
		c[s].created_lt = to;
		if ((rc = db_snapshot_cursor_open(p->db, &c[s], e)) != 0) {
			free(l.v);
			return run_failed(p, rc, e);
		}
		nstreams++;
		if (!c[s].done)
			p->events_open++;
	}
	for (s = 0; s < NSTREAMS; s++)
		if (c[s].resource[0] && !c[s].done)
			start_pager(p, STRIPE_EVENT, STRIPE_EVENT, &c[s]);
	resume_children(p, &l);
	free(l.v);
	if ((rc = run_client(p, e)) != 0)
		return run_failed(p, rc, e);
	fig(p, STRIPE_EVENT)->done = 1;
	if ((rc = process_pending(p, mask, mask == ALL_MASK, from - DAY, e)) != 0 ||
	    (rc = recheck(p, mask, from, to, e)) != 0)
		return run_failed(p, rc, e);
	for (k = 0; k < PULL_NKINDS; k++)
		if (in_mask(mask, pull_kinds[k]))
			fig(p, pull_kinds[k])->done = 1;
	if ((rc = db_snapshot_pull_finish(p->db, p->run_id, 1, NULL, e)) != 0)
		return run_failed(p, rc, e);
	p->res->did_incremental = 1;
	return 0;
}

/* Continue the newest pull run when it is still running (*relisted: the kinds it relisted). */
static int resume(struct puller *p, unsigned *relisted, struct err *e)
{
	struct db_snapshot_pull_info info;
	unsigned mask = ALL_MASK;
	int rc, found;

	*relisted = 0;
	if ((rc = db_snapshot_pull_last(p->db, &info, &found, e)) != 0)
		return rc;
	if (!found || strcmp(info.status, "running") != 0)
		return 0;
	if (info.resources[0] && (rc = pull_parse_resources(info.resources, &mask, e)) != 0) {
		err_set(e, EXIT_SOFTWARE, "pull run %lld: bad resources \"%s\"", info.id,
			info.resources);
		return rc;
	}
	p->run_id = info.id;
	p->res->resumed = 1;
	p->res->last_run_id = info.id;
	if (strcmp(info.mode, "full") == 0) {
		if ((rc = run_full(p, mask, e)) == 0)
			*relisted = mask;
		return rc;
	}
	return run_incremental(p, mask, e);
}

/* Which of the requested kinds need a full relist (warnings on the way). */
static int plan_full(struct puller *p, unsigned want, unsigned *full, int *events_ok,
		     struct err *e)
{
	struct db_snapshot_events_cursor ev;
	long long last;
	int k, rc, found;

	*full = 0;
	if ((rc = db_snapshot_events_cursor_get(p->db, &ev, e)) != 0)
		return rc;
	*events_ok = ev.set && p->now - ev.created <= PULL_STALE_DAYS * DAY;
	if (ev.set && !*events_ok)
		warn(p, "the events cursor is %lld days old (Stripe keeps events 30 days): "
		     "relisting everything", (p->now - ev.created) / DAY);
	for (k = 0; k < PULL_NKINDS; k++) {
		enum stripe_kind kind = pull_kinds[k];

		if (!in_mask(want, kind))
			continue;
		if ((rc = db_snapshot_last_full(p->db, kind, &last, &found, e)) != 0)
			return rc;
		if (found && p->now - last > PULL_STALE_DAYS * DAY && *events_ok) {
			char line[160];

			snprintf(line, sizeof line, "the last full relist of %s is %lld days old: "
				 "relisting it", stripe_kind_resource(kind), (p->now - last) / DAY);
			if (p->o->warn)
				p->o->warn(p->o->udata, line);
		}
		if (p->o->full || !found || p->now - last > PULL_STALE_DAYS * DAY || !*events_ok)
			*full |= PULL_KIND_BIT(kind);
	}
	return 0;
}

int pull_run(struct db *db, const struct stripe_config *sc, const char *key,
	     const struct pull_opts *o, struct pull_result *res, struct err *e)
{
	struct puller p;
	unsigned want = o->only ? o->only & ALL_MASK : ALL_MASK, full = 0, relisted = 0;
	char list[256];
	int rc, events_ok = 0;

	memset(res, 0, sizeof *res);
	memset(&p, 0, sizeof p);
	clock_gettime(CLOCK_MONOTONIC, &p.t0);
	p.db = db;
	p.o = o;
	p.res = res;
	p.page_size = o->page_size > 0 && o->page_size <= 100 ? o->page_size : 100;
	snprintf(p.limit, sizeof p.limit, "%d", p.page_size);
	p.now = o->now > 0 ? o->now : (long long)time(NULL);
	res->res[STRIPE_EVENT].active = 0;
	if ((rc = db_snapshot_group_new(db, &p.group, e)) != 0)
		return rc;
	if ((rc = db_snapshot_group_start_writer(p.group, e)) != 0) {
		db_snapshot_group_free(p.group);
		return rc;
	}
	if ((rc = stripe_client_new(sc, key, &o->client, &p.c, e)) != 0) {
		db_snapshot_group_free(p.group);
		return rc;
	}
	stripe_client_set_tick(p.c, tick, &p, o->progress_ms ? o->progress_ms : 200);
	if ((rc = resume(&p, &relisted, e)) != 0)
		goto out;
	if ((rc = plan_full(&p, want, &full, &events_ok, e)) != 0)
		goto out;
	/* what the resumed run relisted is as fresh as a relist now would be */
	full &= ~relisted;
	if (full) {
		mask_list(full, list, sizeof list);
		if ((rc = db_snapshot_pull_begin(db, DB_SNAPSHOT_FULL,
						 full == ALL_MASK ? NULL : list, 0, &p.run_id,
						 e)) != 0)
			goto out;
		res->last_run_id = p.run_id;
		p.failed = 0;
		if ((rc = run_full(&p, full, e)) != 0)
			goto out;
		if (full == ALL_MASK)
			events_ok = 1;
	}
	if (events_ok) {
		mask_list(want, list, sizeof list);
		if ((rc = db_snapshot_pull_begin(db, DB_SNAPSHOT_INCREMENTAL,
						 want == ALL_MASK ? NULL : list, 0, &p.run_id,
						 e)) != 0)
			goto out;
		res->last_run_id = p.run_id;
		rc = run_incremental(&p, want, e);
	}
out:
	tick(&p);
	group_flush(&p);
	/* indexes a failed relist left deferred (an interrupted one resumes) */
	if (!(o->stop && *o->stop)) {
		struct err ie = { 0 };

		if (db_snapshot_restore_indexes(db, STRIPE_NONE, &ie) != 0 && rc == 0) {
			*e = ie;
			rc = ie.code;
		}
	}
	stripe_client_free(p.c);
	db_snapshot_group_free(p.group);
	idset_free(&p.fetched);
	idset_free(&p.applied);
	idset_free(&p.windowed);
	idset_free(&p.fallback);
	idset_free(&p.children);
	return rc;
}
