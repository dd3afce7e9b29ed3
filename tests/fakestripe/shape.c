/* shape.c - object templates and the 2023 <-> 2026 shape conversion.
 *
 * Stripe moved fields in API version 2025-03-31.basil: current_period_start
 * and current_period_end left the subscription for its items, and an invoice
 * no longer has subscription/paid/charge/payment_intent at top level but
 * reaches its subscription through parent.subscription_details.subscription.
 * The fake builds and stores objects in either shape and converts subscriptions
 * and invoices to the shape a request is served in.
 */
#include "fake.h"

#include <stdlib.h>
#include <string.h>

static json_t *templates[TMPL_COUNT][2];

/* Parse every template; 0 or -1 with a message on stderr. */
int shape_init(void)
{
	for (int t = 0; t < TMPL_COUNT; t++) {
		for (int s = 0; s < 2; s++) {
			json_error_t je;
			templates[t][s] = json_loads(tmpl_json[t][s], 0, &je);
			if (!templates[t][s]) {
				fprintf(stderr, "fakestripe: template %d/%d: %s\n", t, s, je.text);
				return -1;
			}
		}
	}
	return 0;
}

/* Free the parsed templates. */
void shape_release(void)
{
	for (int t = 0; t < TMPL_COUNT; t++)
		for (int s = 0; s < 2; s++) {
			json_decref(templates[t][s]);
			templates[t][s] = NULL;
		}
}

/* A shallow copy of template t in shape s: a new top-level object whose
 * nested values are shared with the template (read-only: callers replace
 * top-level keys, never modify nested template values in place).  Aborts
 * when out of memory. */
json_t *shape_template(enum tmpl t, enum shape s)
{
	json_t *o = json_copy(templates[t][s == SHAPE_2023 ? 0 : 1]);
	if (!o)
		abort();
	return o;
}

/* Default Stripe-Version answered for a shape. */
const char *shape_version(enum shape s)
{
	return s == SHAPE_2023 ? "2023-08-16" : "2025-03-31.basil";
}

/* Versions before 2025-03-31 get the old shape. */
enum shape shape_from_version(const char *v)
{
	if (!v || !*v)
		return SHAPE_2026;
	return strncmp(v, "2025-03-31", 10) < 0 ? SHAPE_2023 : SHAPE_2026;
}

static void sub_to_2023(json_t *sub)
{
	json_t *items = json_object_get(json_object_get(sub, "items"), "data");
	if (!json_object_get(sub, "current_period_end")) {
		json_t *first = json_array_get(items, 0);
		json_t *cps = json_object_get(first, "current_period_start");
		json_t *cpe = json_object_get(first, "current_period_end");
		json_object_set(sub, "current_period_start", cps ? cps : json_null());
		json_object_set(sub, "current_period_end", cpe ? cpe : json_null());
	}
	size_t i;
	json_t *it;
	json_array_foreach(items, i, it) {
		json_object_del(it, "current_period_start");
		json_object_del(it, "current_period_end");
	}
}

static void sub_to_2026(json_t *sub)
{
	json_t *items = json_object_get(json_object_get(sub, "items"), "data");
	json_t *cps = json_object_get(sub, "current_period_start");
	json_t *cpe = json_object_get(sub, "current_period_end");
	size_t i;
	json_t *it;
	json_array_foreach(items, i, it) {
		if (cpe && !json_object_get(it, "current_period_end")) {
			json_object_set(it, "current_period_start", cps ? cps : json_null());
			json_object_set(it, "current_period_end", cpe);
		}
	}
	json_object_del(sub, "current_period_start");
	json_object_del(sub, "current_period_end");
}

static void invoice_to_2023(json_t *inv)
{
	json_t *parent = json_object_get(inv, "parent");
	if (parent) {
		json_t *sd = json_object_get(parent, "subscription_details");
		json_t *sub = json_object_get(sd, "subscription");
		json_t *md = json_object_get(sd, "metadata");
		json_object_set(inv, "subscription", sub ? sub : json_null());
		json_object_set_new(inv, "subscription_details",
				    json_pack("{s:O}", "metadata", md ? md : json_null()));
	}
	json_object_del(inv, "parent");
	const char *status = json_string_value(json_object_get(inv, "status"));
	json_object_set_new(inv, "paid", json_boolean(status && !strcmp(status, "paid")));
	if (!json_object_get(inv, "paid_out_of_band"))
		json_object_set_new(inv, "paid_out_of_band", json_false());
	if (!json_object_get(inv, "charge"))
		json_object_set_new(inv, "charge", json_null());
	if (!json_object_get(inv, "payment_intent"))
		json_object_set_new(inv, "payment_intent", json_null());
}

static void invoice_to_2026(json_t *inv)
{
	if (!json_object_get(inv, "parent")) {
		json_t *sub = json_object_get(inv, "subscription");
		json_t *md = json_object_get(json_object_get(inv, "subscription_details"), "metadata");
		if (json_is_string(sub))
			json_object_set_new(inv, "parent", json_pack(
				"{s:n, s:{s:O, s:O}, s:s}", "quote_details", "subscription_details",
				"metadata", md ? md : json_null(), "subscription", sub,
				"type", "subscription_details"));
		else
			json_object_set_new(inv, "parent", json_null());
	}
	json_object_set_new(inv, "subscription", json_null());
	json_object_del(inv, "subscription_details");
	json_object_del(inv, "paid");
	json_object_del(inv, "paid_out_of_band");
	json_object_del(inv, "charge");
	json_object_del(inv, "payment_intent");
}

/* Convert subscriptions and invoices (in place); other objects unchanged.
 * Deleted stubs and non-objects are left alone. */
void shape_convert(enum res r, json_t *obj, enum shape s)
{
	if (s == SHAPE_ASIS || !json_is_object(obj) || json_object_get(obj, "deleted"))
		return;
	if (r == R_SUBSCRIPTIONS) {
		if (s == SHAPE_2023)
			sub_to_2023(obj);
		else
			sub_to_2026(obj);
	} else if (r == R_INVOICES) {
		if (s == SHAPE_2023)
			invoice_to_2023(obj);
		else
			invoice_to_2026(obj);
	}
}
