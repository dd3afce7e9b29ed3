/*
 * test_stripe_rows.c - Stripe pages and objects into typed rows: Stripe's
 * own sample objects in the 2023 and 2026 shapes (from
 * ../shared/stripe-openapi/fixtures-subset.json, skipped with a note when
 * that file is absent), the project's fixtures (fixtures/stripe/basic and
 * the pages the fake Stripe serves, fixtures/stripe/pages), zero- and
 * three-decimal currencies, deleted objects and events, and malformed
 * input with its exact one-line message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "harness.h"
#include "jdoc.h"
#include "stripe_rows.h"

#define SUBSET "../shared/stripe-openapi/fixtures-subset.json"
#define PAGES "fixtures/stripe/pages/"
#define BASIC "fixtures/stripe/basic/"

static json_t *load_json(const char *path)
{
	json_error_t jerr;

	return json_load_file(path, 0, &jerr);
}

/* Parse a JSON value (object or page) given as a jansson tree. */
static int parse_value(json_t *v, enum stripe_kind kind, int as_page, struct stripe_page **p,
		       struct err *e)
{
	char *s = json_dumps(v, JSON_COMPACT);
	int rc;

	if (!s)
		return -1;
	rc = as_page ? stripe_rows_parse_page(s, strlen(s), kind, p, e)
		     : stripe_rows_parse_object(s, strlen(s), kind, p, e);
	free(s);
	return rc;
}

static struct stripe_page *parse_file(const char *path, enum stripe_kind kind)
{
	struct stripe_page *p = NULL;
	struct err e = { 0 };
	json_t *v = load_json(path);

	if (!v) {
		printf("  cannot read %s\n", path);
		return NULL;
	}
	if (parse_value(v, kind, 1, &p, &e) != 0)
		printf("  %s: %s\n", path, e.msg);
	json_decref(v);
	return p;
}

static const struct stripe_row *find_row(const struct stripe_page *p, const char *id)
{
	size_t i;

	for (i = 0; p && i < p->count; i++)
		if (strcmp(p->rows[i].id, id) == 0)
			return &p->rows[i];
	return NULL;
}

/* --- Stripe's sample objects, both shapes ---------------------------------------- */

static json_t *subset_resource(const char *version, const char *name)
{
	static json_t *root;
	static int tried;

	if (!tried) {
		tried = 1;
		root = load_json(SUBSET);
		if (!root)
			printf("  note: %s not found; Stripe sample-object cases skipped\n", SUBSET);
	}
	if (!version) {             /* release */
		json_decref(root);
		root = NULL;
		return NULL;
	}
	return root ? json_object_get(json_object_get(root, version), name) : NULL;
}

static struct stripe_page *parse_sample(const char *version, const char *name,
					enum stripe_kind kind)
{
	struct stripe_page *p = NULL;
	struct err e = { 0 };
	json_t *obj = subset_resource(version, name);

	if (!obj)
		return NULL;
	if (parse_value(obj, kind, 0, &p, &e) != 0)
		printf("  %s %s: %s\n", version, name, e.msg);
	CHECK(p != NULL);
	return p;
}

static void test_sample_subscription_shapes(void)
{
	struct stripe_page *p26 = parse_sample("resources", "subscription", STRIPE_SUBSCRIPTION);
	struct stripe_page *p23 = parse_sample("resources_2023_09_12", "subscription",
					       STRIPE_SUBSCRIPTION);

	if (p26) {
		const struct stripe_subscription *s = &p26->rows[0].u.subscription;

		CHECK_STR(p26->rows[0].id, "sub_1Pgc6rB7WZ01zgkWNy0Cn5nw");
		CHECK_INT(p26->rows[0].created.v, 1234567890);
		CHECK_STR(s->customer, "cus_QXg1o8vcGmoR32");
		CHECK_STR(s->status, "active");
		CHECK_STR(s->currency, "usd");
		CHECK_INT(s->nitems, 1);
		/* 2026: the period is on the item; the subscription's is derived */
		CHECK_INT(s->items[0].current_period_start.v, 1896570518);
		CHECK_INT(s->items[0].current_period_end.v, 976287773);
		CHECK_STR(s->period_source, "items");
		CHECK_INT(s->current_period_start.v, 1896570518);
		CHECK_INT(s->current_period_end.v, 976287773);
		CHECK_INT(s->items[0].quantity.v, 1);
		CHECK_STR(s->items[0].price.id, "price_1PgafmB7WZ01zgkW6dKueIc5");
		CHECK_STR(s->items[0].price.product, "prod_QXg1hqf4jFNsqG");
		CHECK_INT(s->items[0].price.unit_amount.v, 2000);
		CHECK_STR(s->items[0].price.currency, "usd");
		CHECK_INT(s->cancel_at.v, 1234567890);
		CHECK_INT(s->canceled_at.v, 1234567890);
		CHECK_INT(s->ended_at.v, 1234567890);
		CHECK_INT(s->trial_end.v, 1234567890);
		CHECK_INT(s->cancel_at_period_end, 1);
		CHECK_INT(p26->rows[0].livemode, 0);
		CHECK(p26->rows[0].raw_json && strstr(p26->rows[0].raw_json, "\"billing_mode\""));
	}
	if (p23) {
		const struct stripe_subscription *s = &p23->rows[0].u.subscription;

		CHECK_STR(p23->rows[0].id, "sub_1NnmX4GPxmnHQRkJrhGrFloA");
		CHECK_STR(s->customer, "cus_Oaxlz8kB0PJWGa");
		/* 2023: the period is on the subscription; items inherit it */
		CHECK_STR(s->period_source, "subscription");
		CHECK_INT(s->current_period_end.v, 1234567890);
		CHECK_INT(s->current_period_start.v, 1234567890);
		CHECK_INT(s->items[0].current_period_end.v, 1234567890);
		CHECK_STR(s->items[0].id, "si_OayUGOTQ3S6pqQ");
		CHECK_STR(s->items[0].price.id, "price_1NnlpZGPxmnHQRkJuWjM7eRV");
		CHECK_INT(s->cancel_at_period_end, 0);
	}
	stripe_page_free(p26);
	stripe_page_free(p23);
}

static void test_sample_invoice_shapes(void)
{
	struct stripe_page *p26 = parse_sample("resources", "invoice", STRIPE_INVOICE);
	struct stripe_page *p23 = parse_sample("resources_2023_09_12", "invoice", STRIPE_INVOICE);

	if (p26) {
		const struct stripe_invoice *i = &p26->rows[0].u.invoice;

		CHECK_STR(p26->rows[0].id, "in_1Pgc6tB7WZ01zgkWu9fdqL6I");
		/* 2026: the subscription comes from parent.subscription_details */
		CHECK_STR(i->subscription, "subscription");
		CHECK_STR(i->subscription_source, "parent");
		CHECK_STR(i->status, "draft");
		CHECK_INT(i->paid, 0);             /* derived: status is not paid */
		CHECK(i->charge == NULL);
		CHECK(i->payment_intent == NULL);
		CHECK_INT(i->amount_due.v, 1000);
		CHECK_INT(i->amount_paid.v, 0);
		CHECK_INT(i->total.v, 1000);
		CHECK_INT(i->nlines, 1);
		CHECK_STR(i->lines[0].id, "il_1Pgc6sB7WZ01zgkWFnxLrLCq");
		CHECK_INT(i->lines[0].amount.v, 1000);
		CHECK(i->lines[0].price_id == NULL);   /* pricing without price_details */
		CHECK(i->lines[0].subscription == NULL);/* parent.type invoice_item_details */
		CHECK_INT(i->lines[0].proration, 1);
		CHECK_INT(i->lines[0].period_start.v, 1721954054);
	}
	if (p23) {
		const struct stripe_invoice *i = &p23->rows[0].u.invoice;

		CHECK_STR(p23->rows[0].id, "in_1NnmX4GPxmnHQRkJyyhHiHYa");
		CHECK(i->subscription == NULL);
		CHECK(i->subscription_source == NULL);
		CHECK_INT(i->paid, 0);
		CHECK_STR(i->lines[0].price_id, "price_1NnlpWGPxmnHQRkJl3IsxEZx");
		CHECK_STR(i->lines[0].product, "prod_Oaxlh23kWPWslc");
		CHECK_INT(i->lines[0].proration, 0);
		CHECK_INT(i->lines[0].period_end.v, 1694109741);
	}
	stripe_page_free(p26);
	stripe_page_free(p23);
}

static void test_sample_other_resources(void)
{
	static const char *const versions[] = { "resources", "resources_2023_09_12" };
	size_t v;

	for (v = 0; v < 2; v++) {
		struct stripe_page *c = parse_sample(versions[v], "customer", STRIPE_CUSTOMER);
		struct stripe_page *pr = parse_sample(versions[v], "product", STRIPE_PRODUCT);
		struct stripe_page *pc = parse_sample(versions[v], "price", STRIPE_PRICE);
		struct stripe_page *cs = parse_sample(versions[v], "checkout.session",
						      STRIPE_CHECKOUT_SESSION);
		struct stripe_page *rf = parse_sample(versions[v], "refund", STRIPE_REFUND);
		struct stripe_page *ev = parse_sample(versions[v], "event", STRIPE_EVENT);

		if (!c)
			return;
		if (c && pr && pc && cs && rf && ev) {
			CHECK_STR(c->rows[0].u.customer.currency, "usd");
			CHECK_STR(pr->rows[0].u.product.name, "T-shirt");
			CHECK_INT(pr->rows[0].u.product.active, 1);
			CHECK_INT(pc->rows[0].u.price.unit_amount.v, 2000);
			CHECK_STR(pc->rows[0].u.price.recurring_interval, "month");
			CHECK_STR(pc->rows[0].u.price.type, "recurring");
			CHECK_STR(cs->rows[0].u.session.mode, "payment");
			CHECK_STR(cs->rows[0].u.session.payment_status, "unpaid");
			CHECK_STR(cs->rows[0].u.session.status, "open");
			CHECK_STR(cs->rows[0].u.session.currency, "");
			CHECK(cs->rows[0].u.session.payment_intent != NULL);
			CHECK_INT(cs->rows[0].u.session.line_items_present, 0);
			CHECK_INT(rf->rows[0].u.refund.amount.v, 100);
			CHECK_STR(rf->rows[0].u.refund.status, "succeeded");
			CHECK(rf->rows[0].u.refund.charge != NULL);
			CHECK_STR(ev->rows[0].u.event.type, "plan.created");
			CHECK_STR(ev->rows[0].u.event.object_type, "plan");
			CHECK_INT(ev->rows[0].u.event.object_kind, STRIPE_NONE);
			CHECK(ev->rows[0].u.event.object == NULL);
			CHECK(ev->rows[0].u.event.object_id != NULL);
		}
		stripe_page_free(c);
		stripe_page_free(pr);
		stripe_page_free(pc);
		stripe_page_free(cs);
		stripe_page_free(rf);
		stripe_page_free(ev);
	}
}

/* Each sample object of ours, wrapped in an event, is parsed as its data.object. */
static void test_sample_objects_in_events(void)
{
	static const struct { const char *name; enum stripe_kind kind; } res[] = {
		{ "customer", STRIPE_CUSTOMER }, { "product", STRIPE_PRODUCT },
		{ "price", STRIPE_PRICE }, { "subscription", STRIPE_SUBSCRIPTION },
		{ "checkout.session", STRIPE_CHECKOUT_SESSION }, { "refund", STRIPE_REFUND },
		{ "invoice", STRIPE_INVOICE },
	};
	static const char *const versions[] = { "resources", "resources_2023_09_12" };
	size_t v, i;

	for (v = 0; v < 2; v++) {
		for (i = 0; i < sizeof res / sizeof res[0]; i++) {
			json_t *obj = subset_resource(versions[v], res[i].name), *evt;
			struct stripe_page *p = NULL;
			struct err e = { 0 };

			if (!obj)
				return;
			evt = json_pack("{s:s, s:s, s:s, s:i, s:{s:O}}", "id", "evt_test1",
					"object", "event", "type", "x.updated", "created", 7,
					"data", "object", obj);
			CHECK_INT(parse_value(evt, STRIPE_EVENT, 0, &p, &e), 0);
			if (p) {
				const struct stripe_event *ev = &p->rows[0].u.event;

				CHECK_INT(ev->object_kind, res[i].kind);
				CHECK(ev->object != NULL);
				if (ev->object)
					CHECK_STR(ev->object->id,
						  json_string_value(json_object_get(obj, "id")));
				CHECK_INT(ev->deletes, 0);
			} else {
				printf("  %s %s: %s\n", versions[v], res[i].name, e.msg);
			}
			stripe_page_free(p);
			json_decref(evt);
		}
	}
}

/* --- the project's fixtures ------------------------------------------------------ */

/*
 * fixtures/stripe/basic/NAME.json as a list page.  Sessions carry their
 * line items as an array there (the fake serves them as a list of the
 * first 10 with has_more): converted the same way.
 */
static struct stripe_page *parse_basic(const char *name, enum stripe_kind kind)
{
	char path[256];
	json_t *arr, *page;
	struct stripe_page *p = NULL;
	struct err e = { 0 };
	size_t i;

	snprintf(path, sizeof path, BASIC "%s", name);
	if (!(arr = load_json(path)))
		return NULL;
	for (i = 0; i < json_array_size(arr); i++) {
		json_t *o = json_array_get(arr, i), *li = json_object_get(o, "line_items");

		if (json_is_array(li)) {
			size_t n = json_array_size(li);
			json_t *data = json_array();
			size_t j;

			for (j = 0; j < n && j < 10; j++)
				json_array_append(data, json_array_get(li, j));
			json_object_set_new(o, "line_items",
					    json_pack("{s:s, s:o, s:b}", "object", "list", "data",
						      data, "has_more", n > 10));
		}
	}
	page = json_pack("{s:s, s:o, s:b}", "object", "list", "data", arr, "has_more", 0);
	if (parse_value(page, kind, 1, &p, &e) != 0)
		printf("  %s: %s\n", path, e.msg);
	json_decref(page);
	return p;
}

static void test_basic_fixtures(void)
{
	struct stripe_page *cus = parse_basic("customers.json", STRIPE_CUSTOMER);
	struct stripe_page *prod = parse_basic("products.json", STRIPE_PRODUCT);
	struct stripe_page *pri = parse_basic("prices.json", STRIPE_PRICE);
	struct stripe_page *sub = parse_basic("subscriptions.json", STRIPE_SUBSCRIPTION);
	struct stripe_page *cs = parse_basic("checkout_sessions.json", STRIPE_CHECKOUT_SESSION);
	struct stripe_page *ref = parse_basic("refunds.json", STRIPE_REFUND);
	struct stripe_page *inv = parse_basic("invoices.json", STRIPE_INVOICE);
	struct stripe_page *evt = parse_basic("events.json", STRIPE_EVENT);
	const struct stripe_row *r;

	CHECK(cus && prod && pri && sub && cs && ref && inv && evt);
	if (!(cus && prod && pri && sub && cs && ref && inv && evt))
		goto out;
	CHECK_INT(cus->count, 5);
	CHECK_INT(sub->count, 5);
	CHECK_INT(cs->count, 6);
	if ((r = find_row(cus, "cus_TuBasicAlice01"))) {
		CHECK_STR(r->u.customer.metadata.tenant_id, "ten_alice");
		CHECK_STR(r->u.customer.metadata.user_id, "usr_alice");
	}
	CHECK(find_row(prod, "prod_TuOrganizer01") &&
	      strcmp(find_row(prod, "prod_TuOrganizer01")->u.product.metadata.trueup_plan,
		     "organizer") == 0);
	/* JPY is zero-decimal, BHD three-decimal: the integers are kept as sent */
	if ((r = find_row(pri, "price_TuCourseJpy"))) {
		CHECK_STR(r->u.price.currency, "jpy");
		CHECK_INT(r->u.price.unit_amount.v, 5000);
		CHECK_STR(r->u.price.lookup_key, "photo101_jpy");
	} else {
		CHECK(!"price_TuCourseJpy");
	}
	if ((r = find_row(pri, "price_TuOrgnMonthlyBhd"))) {
		CHECK_STR(r->u.price.currency, "bhd");
		CHECK_INT(r->u.price.unit_amount.v, 3500);
	} else {
		CHECK(!"price_TuOrgnMonthlyBhd");
	}
	/* Carol's subscription is stored in the 2023 shape */
	if ((r = find_row(sub, "sub_TuCarolPastDue3"))) {
		const struct stripe_subscription *s = &r->u.subscription;

		CHECK_STR(s->period_source, "subscription");
		CHECK_INT(s->current_period_end.v, 1779321600);
		CHECK_INT(s->items[0].current_period_end.v, 1779321600);
		CHECK_INT(s->items[0].quantity.v, 12);
		CHECK_STR(s->items[0].price.currency, "bhd");
		CHECK_STR(s->status, "past_due");
	} else {
		CHECK(!"sub_TuCarolPastDue3");
	}
	if ((r = find_row(sub, "sub_TuEmiTwoItems05"))) {
		const struct stripe_subscription *s = &r->u.subscription;

		CHECK_STR(s->period_source, "items");
		CHECK_INT(s->nitems, 2);
		CHECK_INT(s->current_period_end.v, 1780185600);
		CHECK_INT(s->items[1].quantity.v, 3);
	}
	if ((r = find_row(sub, "sub_TuDaveCanceled04"))) {
		CHECK_STR(r->u.subscription.status, "canceled");
		CHECK(r->u.subscription.canceled_at.set);
	}
	if ((r = find_row(cs, "cs_test_a1TuCarolBulkSeats00006"))) {
		CHECK_INT(r->u.session.line_items_present, 1);
		CHECK_INT(r->u.session.line_items_has_more, 1);
		CHECK_INT(r->u.session.nline_items, 10);
		CHECK_STR(r->u.session.line_items[0].session_id, "cs_test_a1TuCarolBulkSeats00006");
	}
	if ((r = find_row(cs, "cs_test_a1TuEmiCourseJpy000002"))) {
		CHECK_STR(r->u.session.currency, "jpy");
		CHECK_INT(r->u.session.amount_total.v, 5000);
		CHECK_STR(r->u.session.mode, "payment");
		CHECK(r->u.session.client_reference_id != NULL);
		CHECK_INT(r->u.session.line_items_has_more, 0);
	}
	if ((r = find_row(ref, "re_TuEmiFullRefund01"))) {
		CHECK_INT(r->u.refund.amount.v, 5000);
		CHECK_STR(r->u.refund.currency, "jpy");
		CHECK_STR(r->u.refund.payment_intent, "pi_TuEmiCourseJpy01");
		CHECK_STR(r->u.refund.charge, "ch_TuEmiCourseJpy01");
	}
	/* invoices in both shapes side by side */
	if ((r = find_row(inv, "in_TuAlicePaid2026a"))) {
		const struct stripe_invoice *i = &r->u.invoice;

		CHECK_STR(i->subscription, "sub_TuAliceActive01");
		CHECK_STR(i->subscription_source, "parent");
		CHECK_INT(i->paid, 1);
		CHECK_INT(i->amount_paid.v, 49500);
		CHECK_STR(i->lines[0].price_id, "price_TuOrgnMonthlyUsd");
		CHECK_STR(i->lines[0].subscription, "sub_TuAliceActive01");
		CHECK_STR(i->lines[0].subscription_item, "si_TuAliceActiv00");
		CHECK_INT(i->lines[0].quantity.v, 5);
		CHECK_STR(i->metadata.tenant_id, "ten_alice");   /* from the parent */
	} else {
		CHECK(!"in_TuAlicePaid2026a");
	}
	if ((r = find_row(inv, "in_TuEmiPaid2023Shp"))) {
		const struct stripe_invoice *i = &r->u.invoice;

		CHECK_STR(i->subscription, "sub_TuEmiTwoItems05");
		CHECK_STR(i->subscription_source, "subscription");
		CHECK_INT(i->paid, 1);
		CHECK(i->charge != NULL);
		CHECK(i->lines[0].price_id != NULL);
	} else {
		CHECK(!"in_TuEmiPaid2023Shp");
	}
	if ((r = find_row(inv, "in_TuCarolOpen2026b"))) {
		CHECK_STR(r->u.invoice.currency, "bhd");
		CHECK_INT(r->u.invoice.paid, 0);
		CHECK_STR(r->u.invoice.metadata.tenant_id, "ten_carol");
	}
	CHECK_INT(evt->count, 6);
out:
	stripe_page_free(cus);
	stripe_page_free(prod);
	stripe_page_free(pri);
	stripe_page_free(sub);
	stripe_page_free(cs);
	stripe_page_free(ref);
	stripe_page_free(inv);
	stripe_page_free(evt);
}

/* Pages as the fake serves them (fixtures/stripe/pages/, see its README). */
static void test_fake_pages(void)
{
	static const struct { const char *file; enum stripe_kind kind; size_t count; } pages[] = {
		{ "basic_customers.json", STRIPE_CUSTOMER, 5 },
		{ "basic_products.json", STRIPE_PRODUCT, 4 },
		{ "basic_prices.json", STRIPE_PRICE, 6 },
		{ "basic_subscriptions.json", STRIPE_SUBSCRIPTION, 5 },
		{ "basic_checkout_sessions.json", STRIPE_CHECKOUT_SESSION, 6 },
		{ "basic_refunds.json", STRIPE_REFUND, 2 },
		{ "basic_invoices.json", STRIPE_INVOICE, 4 },
		{ "basic_events.json", STRIPE_EVENT, 5 },
		{ "gen_subscriptions_2023.json", STRIPE_SUBSCRIPTION, 8 },
		{ "gen_subscriptions_2026.json", STRIPE_SUBSCRIPTION, 8 },
		{ "gen_invoices_2023.json", STRIPE_INVOICE, 8 },
		{ "gen_invoices_2026.json", STRIPE_INVOICE, 8 },
		{ "gen_checkout_sessions.json", STRIPE_CHECKOUT_SESSION, 8 },
		{ "gen_events.json", STRIPE_EVENT, 10 },
		{ "gen_refunds.json", STRIPE_REFUND, 5 },
	};
	char path[256];
	size_t i;

	for (i = 0; i < sizeof pages / sizeof pages[0]; i++) {
		struct stripe_page *p;

		snprintf(path, sizeof path, PAGES "%s", pages[i].file);
		p = parse_file(path, pages[i].kind);
		CHECK(p != NULL);
		if (!p)
			continue;
		CHECK_INT(p->count, pages[i].count);
		CHECK_INT(p->is_list, 1);
		CHECK_STR(p->last_id, p->rows[p->count - 1].id);
		stripe_page_free(p);
	}
}

/* The same generated objects read in both shapes give the same typed values. */
static void test_fake_pages_shapes_agree(void)
{
	struct stripe_page *s23 = parse_file(PAGES "gen_subscriptions_2023.json",
					     STRIPE_SUBSCRIPTION);
	struct stripe_page *s26 = parse_file(PAGES "gen_subscriptions_2026.json",
					     STRIPE_SUBSCRIPTION);
	struct stripe_page *i23 = parse_file(PAGES "gen_invoices_2023.json", STRIPE_INVOICE);
	struct stripe_page *i26 = parse_file(PAGES "gen_invoices_2026.json", STRIPE_INVOICE);
	size_t i, j;

	CHECK(s23 && s26 && i23 && i26);
	for (i = 0; s23 && s26 && i < s23->count && i < s26->count; i++) {
		const struct stripe_subscription *a = &s23->rows[i].u.subscription;
		const struct stripe_subscription *b = &s26->rows[i].u.subscription;

		CHECK_STR(s23->rows[i].id, s26->rows[i].id);
		CHECK_STR(a->customer, b->customer);
		CHECK_STR(a->status, b->status);
		CHECK_STR(a->period_source, "subscription");
		CHECK_STR(b->period_source, "items");
		CHECK_INT(a->nitems, b->nitems);
		for (j = 0; j < a->nitems && j < b->nitems; j++) {
			CHECK_INT(a->items[j].quantity.v, b->items[j].quantity.v);
			CHECK_STR(a->items[j].price.id, b->items[j].price.id);
			CHECK(b->items[j].current_period_end.set);
		}
	}
	for (i = 0; i23 && i26 && i < i23->count && i < i26->count; i++) {
		const struct stripe_invoice *a = &i23->rows[i].u.invoice;
		const struct stripe_invoice *b = &i26->rows[i].u.invoice;

		CHECK_STR(i23->rows[i].id, i26->rows[i].id);
		CHECK(a->subscription != NULL);
		CHECK_STR(a->subscription, b->subscription);   /* top level vs parent */
		CHECK_STR(a->subscription_source, "subscription");
		CHECK_STR(b->subscription_source, "parent");
		CHECK_INT(a->paid, b->paid);                  /* flag vs status */
		CHECK_INT(a->amount_paid.v, b->amount_paid.v);
		CHECK_INT(a->nlines, b->nlines);
		for (j = 0; j < a->nlines && j < b->nlines; j++) {
			CHECK_STR(a->lines[j].price_id, b->lines[j].price_id);
			CHECK_INT(a->lines[j].amount.v, b->lines[j].amount.v);
			CHECK_STR(a->lines[j].subscription, b->lines[j].subscription);
		}
	}
	stripe_page_free(s23);
	stripe_page_free(s26);
	stripe_page_free(i23);
	stripe_page_free(i26);
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n + 1)) && fread(buf, 1, (size_t)n, f) == (size_t)n) {
		buf[n] = '\0';
		*len = (size_t)n;
	} else {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static void test_line_item_pages_and_retrieve(void)
{
	struct stripe_page *p = NULL;
	struct err e = { 0 };
	size_t len = 0;
	char *body = read_file(PAGES "basic_line_items_bulk_p2.json", &len);

	CHECK(body != NULL);
	CHECK_INT(stripe_rows_parse_line_items(body, len, "cs_test_a1TuCarolBulkSeats00006", &p,
					       &e), 0);
	if (p) {
		CHECK_INT(p->count, 5);
		CHECK_INT(p->has_more, 1);
		CHECK_STR(p->last_id, "li_Seats0000609");
		CHECK_INT(p->rows[0].kind, STRIPE_CHECKOUT_LINE_ITEM);
		CHECK_STR(p->rows[0].u.line_item.session_id, "cs_test_a1TuCarolBulkSeats00006");
		CHECK_STR(p->rows[0].id, "li_Seats0000605");
		CHECK(p->rows[0].u.line_item.quantity.set);
		CHECK(p->rows[0].u.line_item.price.id != NULL);
		CHECK(p->rows[0].raw_json != NULL);
	}
	stripe_page_free(p);
	free(body);
	p = NULL;
	body = read_file(PAGES "gen_customer_object.json", &len);
	CHECK_INT(stripe_rows_parse_object(body, len, STRIPE_CUSTOMER, &p, &e), 0);
	if (p) {
		CHECK_INT(p->is_list, 0);
		CHECK_INT(p->count, 1);
		CHECK_STR(p->rows[0].id, "cus_1Fk0000000U98Xx");
		CHECK(p->rows[0].u.customer.metadata.tenant_id != NULL);
	}
	stripe_page_free(p);
	free(body);
}

/*
 * The _doc variants read the caller's document (the client's parse) and
 * give the same rows and raw JSON as parsing the body here; the page holds
 * its own reference, so the caller may drop the document first.
 */
static void test_parse_from_tree(void)
{
	static const struct { const char *file; enum stripe_kind kind; int list; } cases[] = {
		{ "gen_subscriptions_2026.json", STRIPE_SUBSCRIPTION, 1 },
		{ "gen_invoices_2023.json", STRIPE_INVOICE, 1 },
		{ "gen_checkout_sessions.json", STRIPE_CHECKOUT_SESSION, 1 },
		{ "gen_events.json", STRIPE_EVENT, 1 },
		{ "basic_line_items_bulk_p2.json", STRIPE_CHECKOUT_LINE_ITEM, 1 },
		{ "gen_customer_object.json", STRIPE_CUSTOMER, 0 },
	};
	static const char sess[] = "cs_test_a1TuCarolBulkSeats00006";
	char path[256];
	size_t i, k;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct stripe_page *a = NULL, *b = NULL;
		struct err e = { 0 };
		size_t len = 0;
		char *body;
		struct jdoc *tree = NULL;

		snprintf(path, sizeof path, PAGES "%s", cases[i].file);
		body = read_file(path, &len);
		CHECK(body != NULL);
		if (!body)
			continue;
		CHECK_INT(jdoc_parse(body, len, &tree, NULL, 0), 0);
		if (cases[i].kind == STRIPE_CHECKOUT_LINE_ITEM) {
			CHECK_INT(stripe_rows_parse_line_items(body, len, sess, &a, &e), 0);
			CHECK_INT(stripe_rows_parse_line_items_doc(tree, body, len, sess, &b, &e), 0);
		} else if (cases[i].list) {
			CHECK_INT(stripe_rows_parse_page(body, len, cases[i].kind, &a, &e), 0);
			CHECK_INT(stripe_rows_parse_page_doc(tree, body, len, cases[i].kind, &b, &e), 0);
		} else {
			CHECK_INT(stripe_rows_parse_object(body, len, cases[i].kind, &a, &e), 0);
			CHECK_INT(stripe_rows_parse_object_doc(tree, body, len, cases[i].kind, &b, &e),
				  0);
		}
		jdoc_unref(tree);
		free(body);
		CHECK(a && b);
		if (a && b) {
			CHECK_INT(a->count, b->count);
			CHECK_INT(a->has_more, b->has_more);
			for (k = 0; k < a->count && k < b->count; k++) {
				CHECK_STR(a->rows[k].id, b->rows[k].id);
				CHECK_STR(a->rows[k].raw_json, b->rows[k].raw_json);
			}
		}
		stripe_page_free(a);
		stripe_page_free(b);
	}
}

/*
 * What a parsed page holds, for the writer's queue budget: at least its
 * body's length (the decoded strings are sized by it) plus the raw JSON of
 * its rows, and nothing for NULL; a page of 100 subscriptions more than
 * one of a single customer.
 */
static void test_page_bytes(void)
{
	struct stripe_page *big = NULL, *small = NULL;
	struct err e = { 0 };
	size_t len = 0, slen = 0, raw = 0, k;
	char *body = read_file(PAGES "gen_subscriptions_2026.json", &len);
	char *one = read_file(PAGES "gen_customer_object.json", &slen);

	CHECK(body && one);
	if (!body || !one)
		goto out;
	CHECK_INT(stripe_rows_parse_page(body, len, STRIPE_SUBSCRIPTION, &big, &e), 0);
	CHECK_INT(stripe_rows_parse_object(one, slen, STRIPE_CUSTOMER, &small, &e), 0);
	CHECK(big && small);
	if (!big || !small)
		goto out;
	for (k = 0; k < big->count; k++)
		raw += strlen(big->rows[k].raw_json);
	CHECK(raw > 0);
	CHECK(stripe_page_bytes(big) >= len + raw);
	CHECK(stripe_page_bytes(big) < 4 * len);
	CHECK(stripe_page_bytes(small) >= slen);
	CHECK(stripe_page_bytes(small) < stripe_page_bytes(big));
	CHECK_INT(stripe_page_bytes(NULL), 0);
out:
	stripe_page_free(big);
	stripe_page_free(small);
	free(body);
	free(one);
}

static struct stripe_page *parse_str(const char *s, enum stripe_kind kind, int as_page,
				     struct err *e)
{
	struct stripe_page *p = NULL;

	if (as_page)
		stripe_rows_parse_page(s, strlen(s), kind, &p, e);
	else
		stripe_rows_parse_object(s, strlen(s), kind, &p, e);
	return p;
}

static void test_currency_case_and_deleted(void)
{
	struct err e = { 0 };
	struct stripe_page *p;

	p = parse_str("{\"id\":\"price_1\",\"object\":\"price\",\"created\":1,\"product\":"
		      "\"prod_1\",\"currency\":\"JPY\",\"unit_amount\":5000}", STRIPE_PRICE, 0, &e);
	CHECK(p != NULL);
	if (p) {
		CHECK_STR(p->rows[0].u.price.currency, "jpy");
		CHECK_INT(p->rows[0].u.price.unit_amount.v, 5000);
	}
	stripe_page_free(p);
	p = parse_str("{\"id\":\"price_2\",\"object\":\"price\",\"created\":1,\"product\":"
		      "{\"id\":\"prod_9\",\"object\":\"product\"},\"currency\":\"bhd\","
		      "\"unit_amount\":3500}", STRIPE_PRICE, 0, &e);
	CHECK(p != NULL);
	if (p) {
		CHECK_STR(p->rows[0].u.price.product, "prod_9");   /* expanded reference */
		CHECK_INT(p->rows[0].u.price.unit_amount.v, 3500);
	}
	stripe_page_free(p);
	/* a retrieve of a deleted customer */
	p = parse_str("{\"id\":\"cus_9\",\"object\":\"customer\",\"deleted\":true}",
		      STRIPE_CUSTOMER, 0, &e);
	CHECK(p != NULL);
	if (p) {
		CHECK_INT(p->rows[0].deleted, 1);
		CHECK_STR(p->rows[0].id, "cus_9");
	}
	stripe_page_free(p);
	/* customer.deleted tombstones; customer.subscription.deleted does not */
	p = parse_str("{\"object\":\"list\",\"has_more\":false,\"data\":["
		      "{\"id\":\"evt_1\",\"object\":\"event\",\"type\":\"customer.deleted\","
		      "\"created\":5,\"data\":{\"object\":{\"id\":\"cus_9\",\"object\":\"customer\","
		      "\"created\":1,\"email\":\"a@b.c\"}}},"
		      "{\"id\":\"evt_2\",\"object\":\"event\",\"type\":\"customer.subscription.deleted\","
		      "\"created\":6,\"data\":{\"object\":{\"id\":\"sub_9\",\"object\":\"subscription\","
		      "\"created\":1,\"customer\":\"cus_9\",\"status\":\"canceled\",\"items\":"
		      "{\"object\":\"list\",\"data\":[],\"has_more\":false}}}},"
		      "{\"id\":\"evt_3\",\"object\":\"event\",\"type\":\"balance.available\","
		      "\"created\":7,\"data\":{\"object\":{\"object\":\"balance\"}}}]}",
		      STRIPE_EVENT, 1, &e);
	CHECK(p != NULL);
	if (p) {
		CHECK_INT(p->rows[0].u.event.deletes, 1);
		CHECK_STR(p->rows[0].u.event.object_id, "cus_9");
		CHECK_INT(p->rows[0].u.event.object_kind, STRIPE_CUSTOMER);
		CHECK_STR(p->rows[0].u.event.object->u.customer.email, "a@b.c");
		CHECK_INT(p->rows[1].u.event.deletes, 0);
		CHECK_STR(p->rows[1].u.event.object->u.subscription.status, "canceled");
		CHECK_INT(p->rows[2].u.event.object_kind, STRIPE_NONE);
		CHECK(p->rows[2].u.event.object_id == NULL);
	}
	stripe_page_free(p);
}

/* --- malformed input: exact messages ------------------------------------------- */

#define SUB_OK "{\"id\":\"sub_123\",\"object\":\"subscription\",\"created\":1,\"customer\":" \
	"\"cus_1\",\"status\":\"active\",\"items\":{\"object\":\"list\",\"has_more\":false," \
	"\"data\":[{\"id\":\"si_1\",\"object\":\"subscription_item\",\"quantity\":%s," \
	"\"price\":{\"id\":\"price_1\",\"object\":\"price\",\"currency\":\"usd\"}}]}}"

/* body (a page or an object of kind) is refused with msg. */
static void check_refused(const char *body, enum stripe_kind kind, int as_page, const char *msg)
{
	struct err e = { 0 };
	struct stripe_page *p = parse_str(body, kind, as_page, &e);

	CHECK(p == NULL);
	CHECK_INT(e.code, EXIT_DATAERR);
	CHECK_STR(e.msg, msg);
	stripe_page_free(p);
}

static void test_malformed(void)
{
	static const struct {
		enum stripe_kind kind;
		int page;
		const char *body;
		const char *msg;
	} cases[] = {
		{ STRIPE_SUBSCRIPTION, 1, "not json",
		  "subscriptions page: invalid JSON at line 1 column 1: '[' or '{' expected" },
		{ STRIPE_SUBSCRIPTION, 1, "",
		  "subscriptions page: invalid JSON at line 1 column 1: '[' or '{' expected" },
		{ STRIPE_SUBSCRIPTION, 1, "[]", "subscriptions page: not a list object" },
		{ STRIPE_SUBSCRIPTION, 1, "{\"object\":\"subscription\",\"id\":\"sub_1\"}",
		  "subscriptions page: not a list object" },
		{ STRIPE_SUBSCRIPTION, 1, "{\"object\":\"list\",\"data\":{},\"has_more\":false}",
		  "subscriptions page: data is not an array" },
		{ STRIPE_SUBSCRIPTION, 1, "{\"object\":\"list\",\"data\":[]}",
		  "subscriptions page: has_more is missing" },
		{ STRIPE_INVOICE, 1, "{\"object\":\"list\",\"data\":[],\"has_more\":\"no\"}",
		  "invoices page: has_more is not a boolean" },
		{ STRIPE_SUBSCRIPTION, 1, "{\"object\":\"list\",\"data\":[1],\"has_more\":false}",
		  "subscriptions page: data[0] is not an object" },
		{ STRIPE_SUBSCRIPTION, 1,
		  "{\"object\":\"list\",\"data\":[{\"object\":\"subscription\"}],\"has_more\":false}",
		  "subscriptions page: data[0]: id is missing" },
		{ STRIPE_CUSTOMER, 1,
		  "{\"object\":\"list\",\"data\":[{\"id\":7,\"object\":\"customer\"}],\"has_more\":false}",
		  "customers page: data[0]: id is not a string" },
		{ STRIPE_CUSTOMER, 1,
		  "{\"object\":\"list\",\"data\":[{\"id\":\"cus 1\",\"object\":\"customer\"}],"
		  "\"has_more\":false}",
		  "customers page: data[0]: id is not a valid id (\"cus 1\")" },
		{ STRIPE_SUBSCRIPTION, 0, "{\"id\":\"sub_1\",\"created\":1}",
		  "subscription \"sub_1\": object is missing" },
		{ STRIPE_SUBSCRIPTION, 0, "{\"id\":\"in_1\",\"object\":\"invoice\",\"created\":1}",
		  "subscription \"in_1\": object is \"invoice\", expected \"subscription\"" },
		{ STRIPE_SUBSCRIPTION, 0, "{\"id\":\"sub_1\",\"object\":\"subscription\","
		  "\"created\":1,\"status\":\"active\"}",
		  "subscription \"sub_1\": customer is missing" },
		{ STRIPE_SUBSCRIPTION, 0, "{\"id\":\"sub_1\",\"object\":\"subscription\","
		  "\"created\":1,\"customer\":{\"object\":\"customer\"},\"status\":\"active\"}",
		  "subscription \"sub_1\": customer.id is missing" },
		{ STRIPE_SUBSCRIPTION, 0, "{\"id\":\"sub_1\",\"object\":\"subscription\","
		  "\"created\":\"yesterday\"}",
		  "subscription \"sub_1\": created is not an integer" },
		{ STRIPE_SUBSCRIPTION, 0, "{\"id\":\"sub_1\",\"object\":\"subscription\","
		  "\"created\":1,\"customer\":\"cus_1\",\"status\":\"active\",\"items\":[]}",
		  "subscription \"sub_1\": items is not a list object" },
		{ STRIPE_REFUND, 0, "{\"id\":\"re_1\",\"object\":\"refund\",\"created\":1,"
		  "\"amount\":\"100\",\"currency\":\"usd\"}",
		  "refund \"re_1\": amount is not an integer" },
		{ STRIPE_REFUND, 0, "{\"id\":\"re_1\",\"object\":\"refund\",\"created\":1,"
		  "\"amount\":10.5,\"currency\":\"usd\"}",
		  "refund \"re_1\": amount is not an integer" },
		{ STRIPE_REFUND, 0, "{\"id\":\"re_1\",\"object\":\"refund\",\"created\":1,"
		  "\"amount\":100}",
		  "refund \"re_1\": currency is missing" },
		{ STRIPE_PRICE, 0, "{\"id\":\"price_1\",\"object\":\"price\",\"created\":1,"
		  "\"product\":\"prod_1\",\"currency\":\"usdollar\"}",
		  "price \"price_1\": currency \"usdollar\" is not a three-letter currency code" },
		{ STRIPE_PRICE, 0, "{\"id\":\"price_1\",\"object\":\"price\",\"created\":1,"
		  "\"product\":\"prod_1\",\"currency\":\"u$d\"}",
		  "price \"price_1\": currency \"u$d\" is not a three-letter currency code" },
		{ STRIPE_CUSTOMER, 0, "{\"id\":\"cus_1\",\"object\":\"customer\",\"created\":1,"
		  "\"metadata\":{\"tenant_id\":42}}",
		  "customer \"cus_1\": metadata.tenant_id is not a string" },
		{ STRIPE_CUSTOMER, 0, "{\"id\":\"cus_1\",\"object\":\"customer\",\"created\":1,"
		  "\"livemode\":\"no\"}",
		  "customer \"cus_1\": livemode is not a boolean" },
		{ STRIPE_INVOICE, 0, "{\"id\":\"in_1\",\"object\":\"invoice\",\"created\":1,"
		  "\"currency\":\"usd\",\"amount_due\":0,\"amount_paid\":0,\"total\":0,"
		  "\"parent\":{\"subscription_details\":{\"subscription\":5}}}",
		  "invoice \"in_1\": parent.subscription_details.subscription is not a string" },
		{ STRIPE_INVOICE, 0, "{\"id\":\"in_1\",\"object\":\"invoice\",\"created\":1,"
		  "\"currency\":\"usd\",\"amount_due\":0,\"amount_paid\":0,\"total\":0,"
		  "\"lines\":{\"object\":\"list\",\"has_more\":false,\"data\":[{\"id\":\"il_1\","
		  "\"object\":\"line_item\",\"amount\":5,\"currency\":\"usd\",\"pricing\":"
		  "{\"price_details\":{\"price\":[]}}}]}}",
		  "invoice \"in_1\": lines.data[0].pricing.price_details.price is not a string" },
		{ STRIPE_EVENT, 0, "{\"id\":\"evt_1\",\"object\":\"event\",\"type\":\"x.y\","
		  "\"created\":1,\"data\":{}}",
		  "event \"evt_1\": data.object is missing" },
		{ STRIPE_EVENT, 0, "{\"id\":\"evt_1\",\"object\":\"event\",\"type\":\"x.y\","
		  "\"created\":1,\"data\":{\"object\":{\"id\":\"sub_1\",\"object\":\"subscription\","
		  "\"created\":1,\"customer\":\"cus_1\"}}}",
		  "event \"evt_1\": data.object: subscription \"sub_1\": status is missing" },
		{ STRIPE_CUSTOMER, 0, "{\"id\":\"cus_1\",\"id\":\"cus_2\",\"object\":\"customer\"}",
		  "customer object: invalid JSON at line 1 column 20: duplicate object key" },
		{ STRIPE_CUSTOMER, 0, "{\"id\":\"cus_1\",\"object\":\"customer\",\"created\":"
		  "99999999999999999999}",
		  "customer object: invalid JSON at line 1 column 45: too big integer" },
		{ STRIPE_EVENT, 0, "{\"id\":\"evt_1\",\"object\":\"event\",\"deleted\":true}",
		  "event \"evt_1\": deleted is true on an object that cannot be deleted" },
	};
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		check_refused(cases[i].body, cases[i].kind, cases[i].page, cases[i].msg);
}

/*
 * Messages name the object's index in its page and the element's index in
 * its list past the first (both are spelled out only when a message needs
 * them), and nested paths come out whole.
 */
static void test_error_paths_indexed(void)
{
	char body[4096];
	size_t i, len = 0;

	/* the thirteenth customer of a page */
	len += (size_t)snprintf(body + len, sizeof body - len, "{\"object\":\"list\",\"data\":[");
	for (i = 0; i < 12; i++)
		len += (size_t)snprintf(body + len, sizeof body - len,
					"{\"id\":\"cus_%zu\",\"object\":\"customer\",\"created\":1},", i);
	snprintf(body + len, sizeof body - len,
		 "{\"id\":\"cus 12\",\"object\":\"customer\",\"created\":1}],\"has_more\":false}");
	check_refused(body, STRIPE_CUSTOMER, 1,
		      "customers page: data[12]: id is not a valid id (\"cus 12\")");

	/* the second line of an invoice, two objects deep */
	check_refused("{\"object\":\"list\",\"has_more\":false,\"data\":[{\"id\":\"in_1\","
		      "\"object\":\"invoice\",\"created\":1,\"currency\":\"usd\",\"amount_due\":0,"
		      "\"amount_paid\":0,\"total\":0,\"lines\":{\"object\":\"list\",\"has_more\":false,"
		      "\"data\":[{\"id\":\"il_1\",\"object\":\"line_item\",\"amount\":5,"
		      "\"currency\":\"usd\"},{\"id\":\"il_2\",\"object\":\"line_item\",\"amount\":5,"
		      "\"currency\":\"usd\",\"pricing\":{\"price_details\":{\"price\":[]}}}]}}]}",
		      STRIPE_INVOICE, 1,
		      "invoice \"in_1\": lines.data[1].pricing.price_details.price is not a string");

	/* an element that is not an object, after one that is */
	check_refused("{\"id\":\"sub_1\",\"object\":\"subscription\",\"created\":1,\"customer\":"
		      "\"cus_1\",\"status\":\"active\",\"items\":{\"object\":\"list\",\"has_more\":false,"
		      "\"data\":[{\"id\":\"si_1\",\"object\":\"subscription_item\",\"quantity\":1,"
		      "\"price\":{\"id\":\"price_1\",\"object\":\"price\",\"currency\":\"usd\"}},7]}}",
		      STRIPE_SUBSCRIPTION, 0, "subscription \"sub_1\": items.data[1] is not an object");
}

/*
 * An id takes exactly the characters A-Z a-z 0-9 _ - . : (each of the 255
 * characters U+0001..U+00FF tried in the middle of a customer's id).
 */
static void test_id_characters(void)
{
	char body[128], want[64];
	unsigned c;

	for (c = 1; c < 256; c++) {
		struct err e = { 0 };
		struct stripe_page *p;
		char ch[8];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			 c == '_' || c == '-' || c == '.' || c == ':';

		if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80)
			snprintf(ch, sizeof ch, "\\u%04x", c);
		else
			snprintf(ch, sizeof ch, "%c", (char)c);
		snprintf(body, sizeof body, "{\"id\":\"cus_a%sb\",\"object\":\"customer\",\"created\":1}",
			 ch);
		p = parse_str(body, STRIPE_CUSTOMER, 0, &e);
		if (ok) {
			CHECK(p != NULL);
			snprintf(want, sizeof want, "cus_a%cb", (char)c);
			if (p)
				CHECK_STR(p->rows[0].id, want);
		} else {
			CHECK(p == NULL);
			CHECK(strstr(e.msg, "id is not a valid id") != NULL);
		}
		stripe_page_free(p);
	}
}

/* Quantity errors inside a list element name the element path. */
static void test_malformed_item_paths(void)
{
	static const struct { const char *q; const char *msg; } cases[] = {
		{ "\"2\"", "subscription \"sub_123\": items.data[0].quantity is not an integer" },
		{ "-1", "subscription \"sub_123\": items.data[0].quantity is negative (-1)" },
		{ "true", "subscription \"sub_123\": items.data[0].quantity is not an integer" },
	};
	char body[1024];
	size_t i;
	struct err e = { 0 };
	struct stripe_page *p;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(body, sizeof body, SUB_OK, cases[i].q);
		check_refused(body, STRIPE_SUBSCRIPTION, 0, cases[i].msg);
	}
	snprintf(body, sizeof body, SUB_OK, "4");
	p = parse_str(body, STRIPE_SUBSCRIPTION, 0, &e);
	CHECK(p != NULL);
	if (p)
		CHECK_INT(p->rows[0].u.subscription.items[0].quantity.v, 4);
	stripe_page_free(p);
	/* a line items page whose rows are invoice line items */
	p = NULL;
	{
		const char *b = "{\"object\":\"list\",\"has_more\":false,\"data\":"
				"[{\"id\":\"li_1\",\"object\":\"line_item\"}]}";

		CHECK_INT(stripe_rows_parse_line_items(b, strlen(b), "cs_1", &p, &e), EXIT_DATAERR);
		CHECK_STR(e.msg, "item \"li_1\": object is \"line_item\", expected \"item\"");
	}
	stripe_page_free(p);
}

/*
 * One fixture object of fixtures/stripe/children/FILE (id) parsed whole:
 * every child embedded, has_more false.
 */
static struct stripe_page *kids_object(const char *file, const char *id, enum stripe_kind kind)
{
	char path[256];
	json_t *arr = NULL, *o;
	struct stripe_page *p = NULL;
	struct err e = { 0 };
	size_t i;

	snprintf(path, sizeof path, "fixtures/stripe/children/%s", file);
	arr = load_json(path);
	json_array_foreach(arr, i, o) {
		const char *oid = json_string_value(json_object_get(o, "id"));
		char *text;

		if (!oid || strcmp(oid, id) != 0 || !(text = json_dumps(o, JSON_COMPACT)))
			continue;
		CHECK_INT(stripe_rows_parse_object(text, strlen(text), kind, &p, &e), 0);
		free(text);
	}
	json_decref(arr);
	CHECK(p != NULL);
	return p;
}

/* A children page of fixtures/stripe/pages/ (kind, parent). */
static struct stripe_page *kids_page(const char *file, enum stripe_kind kind, const char *parent)
{
	struct stripe_page *p = NULL;
	struct err e = { 0 };
	size_t len = 0;
	char path[256], *body;

	snprintf(path, sizeof path, PAGES "%s", file);
	body = read_file(path, &len);
	CHECK(body != NULL);
	if (body && stripe_rows_parse_children(body, len, kind, parent, &p, &e) != 0)
		printf("  %s: %s\n", file, e.msg);
	free(body);
	CHECK(p != NULL);
	return p;
}

/*
 * Subscription items and invoice lines from their own pages (items and
 * lines 10.. of the fixtures' big subscriptions and invoices, both shapes)
 * read as the embedded ones: same ids, quantities, prices, periods (a 2023
 * item has none of its own: the embedded copy takes the subscription's,
 * db_snapshot does the same for a page), subscriptions and proration.
 */
static void test_children_pages(void)
{
	static const struct { const char *page, *file, *parent; int y2023; } subs[] = {
		{ "kids_subscription_items_2026.json", "subscriptions.json", "sub_TuKidsBig23Items", 0 },
		{ "kids_subscription_items_2023.json", "subscriptions.json", "sub_TuKidsOld12Items", 1 },
	}, invs[] = {
		{ "kids_invoice_lines_2026.json", "invoices.json", "in_TuKidsNew31Lines", 0 },
		{ "kids_invoice_lines_2023.json", "invoices.json", "in_TuKidsOld14Lines", 1 },
	};
	size_t k, i;

	for (k = 0; k < 2; k++) {
		struct stripe_page *pg = kids_page(subs[k].page, STRIPE_SUBSCRIPTION_ITEM, subs[k].parent);
		struct stripe_page *whole = kids_object(subs[k].file, subs[k].parent,
							STRIPE_SUBSCRIPTION);
		const struct stripe_subscription *s;

		if (!pg || !whole)
			goto next_sub;
		s = &whole->rows[0].u.subscription;
		CHECK_INT(s->nitems, 10 + pg->count);
		CHECK_INT(pg->has_more, 0);
		CHECK_INT(pg->kind, STRIPE_SUBSCRIPTION_ITEM);
		CHECK_INT(stripe_row_more_children(&whole->rows[0]), STRIPE_NONE);
		for (i = 0; i < pg->count && 10 + i < s->nitems; i++) {
			const struct stripe_row *r = &pg->rows[i];
			const struct stripe_subscription_item *a = &r->u.sub_item, *b = &s->items[10 + i];

			CHECK_INT(r->kind, STRIPE_SUBSCRIPTION_ITEM);
			CHECK_STR(r->id, b->id);
			CHECK_STR(a->id, b->id);
			CHECK_STR(a->subscription_id, subs[k].parent);
			CHECK_STR(b->subscription_id, subs[k].parent);
			CHECK_INT(a->quantity.v, b->quantity.v);
			CHECK_STR(a->price.id, b->price.id);
			CHECK_STR(a->price.currency, b->price.currency);
			CHECK_INT(a->price.unit_amount.v, b->price.unit_amount.v);
			CHECK_INT(a->created.v, b->created.v);
			CHECK_STR(r->raw_json, a->raw_json);
			/* 2023: no period on the item; embedded ones take the subscription's */
			CHECK_INT(a->current_period_end.set, !subs[k].y2023);
			CHECK(b->current_period_end.set);
			if (!subs[k].y2023)
				CHECK_INT(a->current_period_end.v, b->current_period_end.v);
		}
next_sub:
		stripe_page_free(pg);
		stripe_page_free(whole);
	}
	for (k = 0; k < 2; k++) {
		struct stripe_page *pg = kids_page(invs[k].page, STRIPE_INVOICE_LINE, invs[k].parent);
		struct stripe_page *whole = kids_object(invs[k].file, invs[k].parent, STRIPE_INVOICE);
		const struct stripe_invoice *v;

		if (!pg || !whole)
			goto next_inv;
		v = &whole->rows[0].u.invoice;
		CHECK_INT(v->nlines, 10 + pg->count);
		for (i = 0; i < pg->count && 10 + i < v->nlines; i++) {
			const struct stripe_row *r = &pg->rows[i];
			const struct stripe_invoice_line *a = &r->u.invoice_line, *b = &v->lines[10 + i];

			CHECK_INT(r->kind, STRIPE_INVOICE_LINE);
			CHECK_STR(a->id, b->id);
			CHECK_STR(a->invoice_id, invs[k].parent);
			CHECK_STR(b->invoice_id, invs[k].parent);
			CHECK_INT(a->amount.v, b->amount.v);
			CHECK_INT(a->quantity.v, b->quantity.v);
			CHECK_STR(a->currency, b->currency);
			CHECK(a->price_id != NULL);
			CHECK_STR(a->price_id, b->price_id);
			CHECK_STR(a->product, b->product);
			CHECK_STR(a->subscription, b->subscription);
			CHECK_STR(a->subscription_item, b->subscription_item);
			CHECK_INT(a->proration, b->proration);
			CHECK_INT(a->period_end.v, b->period_end.v);
		}
		/* the price of line 10 (2023: a price object; 2026: pricing.price_details) */
		if (pg->count)
			CHECK_STR(pg->rows[0].u.invoice_line.price_id, "price_TuOrgMonthlyUsd");
next_inv:
		stripe_page_free(pg);
		stripe_page_free(whole);
	}
}

/* Children pages: one line naming the child and the field, or the page. */
static void test_children_malformed(void)
{
	static const struct {
		enum stripe_kind kind;
		const char *body, *msg;
	} cases[] = {
		{ STRIPE_SUBSCRIPTION_ITEM, "{\"object\":\"list\",\"has_more\":false,\"data\":[{\"id\":"
		  "\"si_1\",\"object\":\"subscription_item\",\"subscription\":\"sub_B\"}]}",
		  "subscription_item \"si_1\": subscription is \"sub_B\", expected \"sub_A\"" },
		{ STRIPE_SUBSCRIPTION_ITEM, "{\"object\":\"list\",\"has_more\":false,\"data\":[{\"id\":"
		  "\"si_1\",\"object\":\"subscription_item\",\"quantity\":-2}]}",
		  "subscription_item \"si_1\": quantity is negative (-2)" },
		{ STRIPE_SUBSCRIPTION_ITEM, "{\"object\":\"list\",\"has_more\":false,\"data\":[{\"id\":"
		  "\"si_1\",\"object\":\"subscription_item\",\"price\":{\"id\":7}}]}",
		  "subscription_item \"si_1\": price.id is not a string" },
		{ STRIPE_SUBSCRIPTION_ITEM, "{\"object\":\"list\",\"has_more\":false,\"data\":[{\"id\":"
		  "\"si_1\",\"object\":\"subscription_item\",\"deleted\":true}]}",
		  "subscription_item \"si_1\": deleted is true on an object that cannot be deleted" },
		{ STRIPE_SUBSCRIPTION_ITEM, "{\"object\":\"list\",\"data\":[]}",
		  "subscription_items page: has_more is missing" },
		{ STRIPE_INVOICE_LINE, "{\"object\":\"list\",\"has_more\":false,\"data\":[{\"id\":"
		  "\"il_1\",\"object\":\"line_item\",\"invoice\":\"in_B\",\"amount\":1,"
		  "\"currency\":\"usd\"}]}",
		  "line_item \"il_1\": invoice is \"in_B\", expected \"sub_A\"" },
		{ STRIPE_INVOICE_LINE, "{\"object\":\"list\",\"has_more\":false,\"data\":[{\"id\":"
		  "\"il_1\",\"object\":\"line_item\",\"amount\":\"1\",\"currency\":\"usd\"}]}",
		  "line_item \"il_1\": amount is not an integer" },
		{ STRIPE_INVOICE_LINE, "{\"object\":\"list\",\"has_more\":false,\"data\":[{\"id\":"
		  "\"il_1\",\"object\":\"line_item\",\"amount\":1,\"currency\":\"usd\","
		  "\"pricing\":{\"price_details\":{\"price\":5}}}]}",
		  "line_item \"il_1\": pricing.price_details.price is not a string" },
		{ STRIPE_INVOICE_LINE, "{\"object\":\"list\",\"has_more\":false,\"data\":[{\"id\":"
		  "\"il_1\",\"object\":\"item\",\"amount\":1,\"currency\":\"usd\"}]}",
		  "line_item \"il_1\": object is \"item\", expected \"line_item\"" },
		{ STRIPE_INVOICE_LINE, "{\"object\":\"list\",\"has_more\":false,\"data\":[7]}",
		  "invoice_lines page: data[0] is not an object" },
	};
	struct stripe_page *p;
	struct err e = { 0 };
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		p = NULL;
		CHECK_INT(stripe_rows_parse_children(cases[i].body, strlen(cases[i].body),
						     cases[i].kind, "sub_A", &p, &e), EXIT_DATAERR);
		CHECK(p == NULL);
		CHECK_STR(e.msg, cases[i].msg);
		stripe_page_free(p);
	}
	/* children need their parent, and only children have one */
	p = NULL;
	CHECK_INT(stripe_rows_parse_page("{}", 2, STRIPE_INVOICE_LINE, &p, &e), EXIT_SOFTWARE);
	CHECK_INT(stripe_rows_parse_object("{}", 2, STRIPE_SUBSCRIPTION_ITEM, &p, &e),
		  EXIT_SOFTWARE);
	CHECK_INT(stripe_rows_parse_children("{}", 2, STRIPE_INVOICE, "in_1", &p, &e),
		  EXIT_SOFTWARE);
	CHECK_INT(stripe_rows_parse_children("{}", 2, STRIPE_INVOICE_LINE, "bad id", &p, &e),
		  EXIT_SOFTWARE);
	CHECK(p == NULL);
}

static void test_kind_names(void)
{
	CHECK_INT(stripe_kind_from_resource("checkout_sessions"), STRIPE_CHECKOUT_SESSION);
	CHECK_INT(stripe_kind_from_resource("nope"), STRIPE_NONE);
	CHECK_INT(stripe_kind_from_object("checkout.session"), STRIPE_CHECKOUT_SESSION);
	CHECK_STR(stripe_kind_resource(STRIPE_CHECKOUT_LINE_ITEM), "checkout_line_items");
	CHECK_STR(stripe_kind_object(STRIPE_INVOICE), "invoice");
	CHECK_STR(stripe_kind_object(STRIPE_KIND_COUNT), "");
	CHECK_STR(stripe_kind_resource(STRIPE_SUBSCRIPTION_ITEM), "subscription_items");
	CHECK_STR(stripe_kind_resource(STRIPE_INVOICE_LINE), "invoice_lines");
	CHECK_INT(stripe_kind_from_resource("invoice_lines"), STRIPE_INVOICE_LINE);
	CHECK_INT(stripe_kind_child(STRIPE_SUBSCRIPTION), STRIPE_SUBSCRIPTION_ITEM);
	CHECK_INT(stripe_kind_child(STRIPE_CUSTOMER), STRIPE_NONE);
	CHECK_INT(stripe_kind_parent(STRIPE_INVOICE_LINE), STRIPE_INVOICE);
	CHECK_INT(stripe_kind_parent(STRIPE_CHECKOUT_LINE_ITEM), STRIPE_CHECKOUT_SESSION);
	CHECK_INT(stripe_kind_parent(STRIPE_INVOICE), STRIPE_NONE);
}

int main(void)
{
	RUN(test_sample_subscription_shapes);
	RUN(test_sample_invoice_shapes);
	RUN(test_sample_other_resources);
	RUN(test_sample_objects_in_events);
	RUN(test_basic_fixtures);
	RUN(test_fake_pages);
	RUN(test_fake_pages_shapes_agree);
	RUN(test_parse_from_tree);
	RUN(test_page_bytes);
	RUN(test_line_item_pages_and_retrieve);
	RUN(test_currency_case_and_deleted);
	RUN(test_malformed);
	RUN(test_malformed_item_paths);
	RUN(test_error_paths_indexed);
	RUN(test_id_characters);
	RUN(test_children_pages);
	RUN(test_children_malformed);
	RUN(test_kind_names);
	subset_resource(NULL, NULL);
	return harness_done();
}
