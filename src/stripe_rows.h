/*
 * stripe_rows.h - Stripe response bodies (list pages, single objects,
 * events) turned into typed rows for the snapshot.
 *
 * The pull orchestrator hands each response body to one of the parse
 * functions below and gets back a struct stripe_page: the rows of one page
 * (or one retrieved object), typed per resource, with every field that
 * reconcile and the reports need already extracted.  Both API shapes are
 * read (SPEC "Pulling from Stripe"):
 *
 *   - subscription current_period_*: top level (2023) or on the items
 *     (2025+).  Items always get a period (their own, else the
 *     subscription's); the subscription gets its own, else min(start) /
 *     max(end) over its items.  period_source says which.
 *   - invoice subscription: top-level `subscription` (2023) or
 *     `parent.subscription_details.subscription` (2025+); `paid` when
 *     present, else derived as status == "paid".
 *   - invoice line price: `price.id` (2023) or
 *     `pricing.price_details.price` (2025+); the line's subscription from
 *     the line (2023) or `parent.subscription_item_details` (2025+).
 *
 * Validation is strict: a body that is not what was asked for, an object
 * without id or object type, a field of the wrong JSON type, a bad currency
 * code: EXIT_DATAERR with one line naming the object and the field, e.g.
 *   subscription "sub_123": items.data[0].quantity is not an integer
 * and no page.  Amounts are kept as the integers Stripe sent (minor units,
 * whatever the currency's exponent: JPY 5000 is 5000, BHD 3.500 is 3500).
 *
 * Memory: a page owns the parsed JSON document and every string its rows point
 * at; all of it is freed by stripe_page_free().  Nothing outlives the page
 * and nothing is kept between calls, so memory is bounded by one body.
 * The functions are safe on arbitrary bytes (a libFuzzer target).
 */
#ifndef TRUEUP_STRIPE_ROWS_H
#define TRUEUP_STRIPE_ROWS_H

#include <stddef.h>

#include "err.h"

/* The kinds of row the snapshot keeps.  Order is part of no contract. */
enum stripe_kind {
	STRIPE_NONE = 0,
	STRIPE_CUSTOMER,
	STRIPE_PRODUCT,
	STRIPE_PRICE,
	STRIPE_SUBSCRIPTION,
	STRIPE_CHECKOUT_SESSION,
	STRIPE_CHECKOUT_LINE_ITEM,   /* a page of /v1/checkout/sessions/{id}/line_items */
	STRIPE_REFUND,
	STRIPE_INVOICE,
	STRIPE_EVENT,
	STRIPE_SUBSCRIPTION_ITEM,    /* a page of /v1/subscription_items?subscription={id} */
	STRIPE_INVOICE_LINE,         /* a page of /v1/invoices/{id}/lines */
	STRIPE_KIND_COUNT
};

/* An integer Stripe may omit or send as null. */
struct stripe_int {
	long long v;
	int set;        /* 0: absent or null */
};

/* The metadata keys trueup reads (NULL when absent). */
struct stripe_metadata {
	const char *tenant_id;
	const char *user_id;
	const char *trueup_plan;
	const char *trueup_course_program;
};

/* A price as embedded in a subscription item or a line item. */
struct stripe_price_ref {
	const char *id;                 /* NULL when the item has no price */
	const char *product;
	const char *lookup_key;
	char currency[4];               /* lowercase; "" when absent */
	struct stripe_int unit_amount;
	const char *trueup_plan;        /* price metadata */
	const char *trueup_course_program;
};

struct stripe_customer {
	const char *email, *name;
	char currency[4];
	struct stripe_metadata metadata;
};

struct stripe_product {
	const char *name, *default_price;
	int active;                     /* 0/1, -1 when absent */
	struct stripe_metadata metadata;
};

struct stripe_price {
	const char *product, *type, *lookup_key, *nickname, *recurring_interval;
	char currency[4];
	struct stripe_int unit_amount, recurring_interval_count;
	int active;                     /* 0/1, -1 when absent */
	struct stripe_metadata metadata;
};

struct stripe_subscription_item {
	const char *subscription_id;    /* the subscription it belongs to */
	const char *id;
	struct stripe_int created, quantity;
	struct stripe_int current_period_start, current_period_end;
	struct stripe_price_ref price;
	const char *raw_json;           /* the item as received */
	size_t raw_len;                 /* its length (0: unknown, use strlen) */
};

struct stripe_subscription {
	const char *customer, *status, *latest_invoice;
	char currency[4];
	struct stripe_int start_date, cancel_at, canceled_at, ended_at, trial_start, trial_end;
	int cancel_at_period_end;       /* 0/1, -1 when absent */
	struct stripe_int current_period_start, current_period_end;
	const char *period_source;      /* "subscription", "items" or NULL */
	struct stripe_metadata metadata;
	struct stripe_subscription_item *items;
	size_t nitems;
	int items_present;              /* 0: no items list in the body */
	int items_has_more;             /* the embedded list is incomplete */
};

/* A checkout session line item ("item"), embedded or from its own page. */
struct stripe_line_item {
	const char *session_id;         /* the session it belongs to */
	const char *id, *description;
	char currency[4];
	struct stripe_int quantity, amount_subtotal, amount_discount, amount_tax, amount_total;
	struct stripe_price_ref price;
	const char *raw_json;
	size_t raw_len;
};

struct stripe_checkout_session {
	const char *customer, *customer_email, *status, *mode, *payment_status;
	const char *client_reference_id, *payment_intent, *subscription, *invoice;
	char currency[4];
	struct stripe_int amount_subtotal, amount_total, expires_at;
	struct stripe_metadata metadata;
	struct stripe_line_item *line_items;
	size_t nline_items;
	int line_items_present;         /* 0: not expanded */
	int line_items_has_more;        /* fetch the line_items endpoint for the rest */
};

struct stripe_refund {
	const char *status, *reason, *charge, *payment_intent, *customer;
	char currency[4];
	struct stripe_int amount;
	struct stripe_metadata metadata;
};

struct stripe_invoice_line {
	const char *invoice_id;         /* the invoice it belongs to */
	const char *id, *description;
	char currency[4];
	struct stripe_int amount, quantity, period_start, period_end;
	const char *price_id, *product, *lookup_key;
	const char *subscription, *subscription_item;
	int proration;                  /* 0/1, -1 when absent */
	const char *raw_json;
	size_t raw_len;
};

struct stripe_invoice {
	const char *customer, *subscription, *status, *charge, *payment_intent;
	const char *billing_reason, *number;
	const char *subscription_source;/* "subscription" (2023), "parent" (2025+) or NULL */
	char currency[4];
	int paid;                       /* 0/1 (derived from status when absent) */
	struct stripe_int amount_due, amount_paid, amount_remaining, subtotal, total;
	struct stripe_int period_start, period_end, paid_at;
	struct stripe_metadata metadata;
	struct stripe_invoice_line *lines;
	size_t nlines;
	int lines_present;
	int lines_has_more;
};

struct stripe_row;

struct stripe_event {
	const char *type, *api_version;
	const char *object_type;        /* data.object.object */
	const char *object_id;          /* data.object.id (NULL when it has none) */
	enum stripe_kind object_kind;   /* STRIPE_NONE for types trueup keeps no rows of */
	struct stripe_row *object;      /* parsed data.object when object_kind is set */
	int deletes;                    /* a *.deleted event: tombstone object_id */
};

/* One object of a page. */
struct stripe_row {
	enum stripe_kind kind;
	const char *id;
	struct stripe_int created;
	int livemode;                   /* 0/1, -1 when absent */
	int deleted;                    /* {"id":..,"deleted":true}: only id is set */
	const char *raw_json;           /* compact JSON of the object as received */
	size_t raw_len;                 /* its length (0: unknown, use strlen) */
	union {
		struct stripe_customer customer;
		struct stripe_product product;
		struct stripe_price price;
		struct stripe_subscription subscription;
		struct stripe_checkout_session session;
		struct stripe_line_item line_item;
		struct stripe_subscription_item sub_item;
		struct stripe_invoice_line invoice_line;
		struct stripe_refund refund;
		struct stripe_invoice invoice;
		struct stripe_event event;
	} u;
};

struct stripe_page_mem;

/* A parsed page (or a retrieved object: is_list 0, count 1). */
struct stripe_page {
	enum stripe_kind kind;
	int is_list;
	int has_more;                   /* ask for the next page */
	const char *last_id;            /* starting_after for the next page; NULL if empty */
	size_t count;
	struct stripe_row *rows;
	struct stripe_page_mem *mem;    /* private: what the page owns */
};

/*
 * Parse a list page body ({"object":"list","data":[...],"has_more":...}) of
 * kind (not a child kind: see below).  On success *out is a page the
 * caller frees with stripe_page_free().  On failure *out is NULL and e
 * holds EXIT_DATAERR and one line naming the object and field
 * (EXIT_SOFTWARE when out of memory).
 */
int stripe_rows_parse_page(const char *body, size_t len, enum stripe_kind kind,
			   struct stripe_page **out, struct err *e);

/*
 * Parse a list page of the children of one parent: kind is
 *   STRIPE_CHECKOUT_LINE_ITEM  /v1/checkout/sessions/{parent_id}/line_items
 *   STRIPE_SUBSCRIPTION_ITEM   /v1/subscription_items?subscription={parent_id}
 *   STRIPE_INVOICE_LINE        /v1/invoices/{parent_id}/lines
 * Rows are read exactly as the parent's embedded list is read (both
 * shapes), with their parent id set (copied): u.line_item.session_id,
 * u.sub_item.subscription_id, u.invoice_line.invoice_id.  A child naming
 * another parent (an item's `subscription`, a line's `invoice`) is
 * EXIT_DATAERR.  A bad kind or parent id is EXIT_SOFTWARE.  Same ownership
 * and failures as stripe_rows_parse_page().
 */
int stripe_rows_parse_children(const char *body, size_t len, enum stripe_kind kind,
			       const char *parent_id, struct stripe_page **out, struct err *e);

/* stripe_rows_parse_children(body, len, STRIPE_CHECKOUT_LINE_ITEM, session_id, ...). */
int stripe_rows_parse_line_items(const char *body, size_t len, const char *session_id,
				 struct stripe_page **out, struct err *e);

/*
 * Parse one object of kind (a retrieve, or an event with kind
 * STRIPE_EVENT); a deleted stub ({"id":..,"object":..,"deleted":true}) is a
 * row with deleted = 1.  The page has is_list 0 and count 1.  Same
 * ownership and failures as stripe_rows_parse_page().
 */
int stripe_rows_parse_object(const char *body, size_t len, enum stripe_kind kind,
			     struct stripe_page **out, struct err *e);

/*
 * The same, for a body the caller has read already (the client checks
 * every response body with jdoc_parse; reading it again here would cost
 * as much as the first time).  doc must be jdoc_parse of exactly
 * body[0..len): the page takes a reference to it (jdoc_ref), and copies
 * the raw JSON of each object out of body, which is only read during the
 * call.  doc NULL: parse body, as the functions above.
 */
struct jdoc;
int stripe_rows_parse_page_doc(struct jdoc *doc, const char *body, size_t len,
			       enum stripe_kind kind, struct stripe_page **out, struct err *e);
int stripe_rows_parse_children_doc(struct jdoc *doc, const char *body, size_t len,
				   enum stripe_kind kind, const char *parent_id,
				   struct stripe_page **out, struct err *e);
int stripe_rows_parse_line_items_doc(struct jdoc *doc, const char *body, size_t len,
				     const char *session_id, struct stripe_page **out,
				     struct err *e);
int stripe_rows_parse_object_doc(struct jdoc *doc, const char *body, size_t len,
				 enum stripe_kind kind, struct stripe_page **out, struct err *e);

/*
 * Children: the kind of the children of a parent kind (STRIPE_NONE for a
 * kind without), the parent kind of a child kind (STRIPE_NONE for a kind
 * that is not a child), and the kind of children a parsed row has more of
 * than its body embeds (its embedded list has has_more: page them with
 * stripe_rows_parse_children), else STRIPE_NONE.
 */
enum stripe_kind stripe_kind_child(enum stripe_kind parent);
enum stripe_kind stripe_kind_parent(enum stripe_kind child);
enum stripe_kind stripe_row_more_children(const struct stripe_row *r);

/* Free a page and everything its rows point at; NULL is fine. */
void stripe_page_free(struct stripe_page *p);

/*
 * About how many bytes of memory p holds (its rows, their raw JSON and the
 * decoded strings they point into); 0 for NULL.  What a queue of pages
 * waiting for the database is bounded by.
 */
size_t stripe_page_bytes(const struct stripe_page *p);

/* Stripe's object type of kind ("customer", "checkout.session", "item"...). */
const char *stripe_kind_object(enum stripe_kind kind);

/* trueup's resource name of kind ("customers", "checkout_sessions"...). */
const char *stripe_kind_resource(enum stripe_kind kind);

/* The kind of a resource name or of a Stripe object type; STRIPE_NONE if none. */
enum stripe_kind stripe_kind_from_resource(const char *name);
enum stripe_kind stripe_kind_from_object(const char *type);

#endif
