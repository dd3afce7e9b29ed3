/*
 * test_snapshot.c - the Stripe snapshot in the database: a page's rows and
 * its cursor commit together or not at all; re-applying a page changes
 * nothing; children follow their parent; tombstones (deleted stubs,
 * *.deleted events, full relists); a resumed pull equals an uninterrupted
 * one; the checksum ignores page size, order, time and Stripe-Version; the
 * "last pull unfinished" check; events and their cursor.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "db_snapshot.h"
#include "harness.h"
#include "sql_embed.h"

#define PAGES "fixtures/stripe/pages/"

static char dir[64];
static char path[128];

static struct db *fresh_db(const char *name)
{
	struct db *db = NULL;
	struct err e = { 0 };

	snprintf(path, sizeof path, "%s/%s", dir, name);
	unlink(path);
	if (db_open(path, DB_OPEN_CREATE, &db, &e) != 0)
		printf("  db_open: %s\n", e.msg);
	return db;
}

static long long scalar(struct db *db, const char *sql)
{
	sqlite3_stmt *st;
	long long v = -1;

	if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK)
		return -2;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static char text_buf[16384];

static const char *scalar_text(struct db *db, const char *sql)
{
	sqlite3_stmt *st;

	snprintf(text_buf, sizeof text_buf, "(none)");
	if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK)
		return "(error)";
	if (sqlite3_step(st) == SQLITE_ROW)
		snprintf(text_buf, sizeof text_buf, "%s",
			 sqlite3_column_type(st, 0) == SQLITE_NULL ? "(null)"
			 : (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return text_buf;
}

static struct stripe_page *page_of(json_t *v, enum stripe_kind kind)
{
	struct stripe_page *p = NULL;
	struct err e = { 0 };
	char *s = json_dumps(v, JSON_COMPACT);

	if (s && stripe_rows_parse_page(s, strlen(s), kind, &p, &e) != 0)
		printf("  parse: %s\n", e.msg);
	free(s);
	return p;
}

static json_t *load(const char *file)
{
	char p[256];
	json_error_t jerr;

	snprintf(p, sizeof p, PAGES "%s", file);
	return json_load_file(p, 0, &jerr);
}

static struct stripe_page *load_page(const char *file, enum stripe_kind kind)
{
	json_t *v = load(file);
	struct stripe_page *p = v ? page_of(v, kind) : NULL;

	json_decref(v);
	return p;
}

static struct stripe_page *object_page(const char *body, enum stripe_kind kind)
{
	struct stripe_page *p = NULL;
	struct err e = { 0 };

	if (stripe_rows_parse_object(body, strlen(body), kind, &p, &e) != 0)
		printf("  parse: %s\n", e.msg);
	return p;
}

/* Commit page p (no cursor); returns the rc and fills n. */
static int commit_plain(struct db *db, const struct stripe_page *p, const char *when,
			struct db_snapshot_counts *n)
{
	struct db_snapshot_commit c = { 0 };
	struct err e = { 0 };
	int rc;

	c.page = p;
	c.stripe_version = "2025-03-31.basil";
	c.pulled_at = when;
	memset(n, 0, sizeof *n);
	if ((rc = db_snapshot_commit(db, &c, n, &e)) != 0)
		printf("  commit: %s\n", e.msg);
	return rc;
}

static void open_cursor(struct db *db, long long run, const char *resource, const char *scope,
			struct db_snapshot_cursor *c)
{
	struct err e = { 0 };

	memset(c, 0, sizeof *c);
	c->pull_run_id = run;
	snprintf(c->resource, sizeof c->resource, "%s", resource);
	snprintf(c->scope, sizeof c->scope, "%s", scope);
	if (db_snapshot_cursor_open(db, c, &e) != 0)
		printf("  cursor_open: %s\n", e.msg);
}

static void test_page_and_cursor_commit(void)
{
	struct db *db = fresh_db("a.db");
	struct stripe_page *p = load_page("basic_subscriptions.json", STRIPE_SUBSCRIPTION);
	struct db_snapshot_commit c = { 0 };
	struct db_snapshot_counts n = { 0 };
	struct db_snapshot_cursor cur;
	struct err e = { 0 };
	long long run = 0;

	CHECK(db && p);
	if (!db || !p)
		goto out;
	CHECK_INT(db_snapshot_pull_begin(db, DB_SNAPSHOT_FULL, NULL, 0, &run, &e), 0);
	open_cursor(db, run, "subscriptions", "", &cur);
	CHECK_STR(cur.starting_after, "");
	CHECK_INT(cur.done, 0);
	c.page = p;
	c.stripe_version = "2025-03-31.basil";
	c.cursor = &cur;
	CHECK_INT(db_snapshot_commit(db, &c, &n, &e), 0);
	CHECK_INT(n.inserted, 5);
	CHECK_INT(n.children_written, 6);
	CHECK_INT(cur.done, 1);
	CHECK_INT(cur.pages, 1);
	CHECK_INT(cur.objects, 5);
	CHECK_STR(cur.starting_after, "sub_TuAliceActive01");
	CHECK_INT(scalar(db, "SELECT count(*) FROM stripe_subscriptions"), 5);
	CHECK_INT(scalar(db, "SELECT count(*) FROM stripe_subscription_items"), 6);
	CHECK_STR(scalar_text(db, "SELECT starting_after FROM stripe_pull_cursors"),
		  "sub_TuAliceActive01");
	CHECK_INT(scalar(db, "SELECT done + pages * 10 + objects * 100 FROM stripe_pull_cursors"),
		  511);
	/* both shapes, typed in the database */
	CHECK_INT(scalar(db, "SELECT current_period_end FROM stripe_subscriptions "
			     "WHERE id = 'sub_TuCarolPastDue3'"), 1779321600);
	CHECK_STR(scalar_text(db, "SELECT period_source FROM stripe_subscriptions "
				  "WHERE id = 'sub_TuCarolPastDue3'"), "subscription");
	CHECK_INT(scalar(db, "SELECT current_period_end FROM stripe_subscription_items "
			     "WHERE id = 'si_TuCarolPastD00'"), 1779321600);
	CHECK_INT(scalar(db, "SELECT quantity FROM stripe_subscription_items "
			     "WHERE id = 'si_TuCarolPastD00'"), 12);
	CHECK_STR(scalar_text(db, "SELECT period_source FROM stripe_subscriptions "
				  "WHERE id = 'sub_TuAliceActive01'"), "items");
	CHECK_STR(scalar_text(db, "SELECT typeof(current_period_end) || stripe_version FROM "
				  "stripe_subscriptions WHERE id = 'sub_TuAliceActive01'"),
		  "integer2025-03-31.basil");
	CHECK_STR(scalar_text(db, "SELECT tenant_id FROM stripe_subscriptions "
				  "WHERE id = 'sub_TuAliceActive01'"), "ten_alice");
	CHECK(scalar(db, "SELECT count(*) FROM stripe_subscriptions WHERE raw_json LIKE "
			 "'{\"%' AND pulled_at LIKE '20%Z'") == 5);
	/* a page on a cursor of another resource is refused */
	c.cursor = &cur;
	snprintf(cur.resource, sizeof cur.resource, "invoices");
	CHECK_INT(db_snapshot_commit(db, &c, &n, &e), EXIT_SOFTWARE);
	CHECK_STR(e.msg, "snapshot: a subscriptions page on a invoices cursor");
out:
	stripe_page_free(p);
	db_close(db);
}

static void test_commit_is_atomic(void)
{
	struct db *db = fresh_db("b.db");
	struct stripe_page *p = load_page("basic_invoices.json", STRIPE_INVOICE);
	struct db_snapshot_commit c = { 0 };
	struct db_snapshot_counts n = { 0 };
	struct db_snapshot_cursor cur, ghost;
	struct err e = { 0 };
	long long run = 0;

	CHECK(db && p);
	if (!db || !p)
		goto out;
	CHECK_INT(db_snapshot_pull_begin(db, DB_SNAPSHOT_FULL, NULL, 0, &run, &e), 0);
	open_cursor(db, run, "invoices", "", &cur);
	/* 1: the cursor update fails after the rows were written */
	ghost = cur;
	snprintf(ghost.scope, sizeof ghost.scope, "never-opened");
	c.page = p;
	c.cursor = &ghost;
	CHECK_INT(db_snapshot_commit(db, &c, &n, &e), EXIT_SOFTWARE);
	CHECK_STR(e.msg, "snapshot: cursor invoices/never-opened of pull run 1 is not open");
	CHECK_INT(scalar(db, "SELECT count(*) FROM stripe_invoices"), 0);
	CHECK_INT(scalar(db, "SELECT count(*) FROM stripe_invoice_lines"), 0);
	CHECK_INT(scalar(db, "SELECT count(*) FROM stripe_pull_seen"), 0);
	CHECK_INT(ghost.pages, 0);
	/* 2: the database itself fails at the cursor (a trigger stands in for a crash) */
	CHECK_INT(db_exec(db, "CREATE TEMP TRIGGER boom BEFORE UPDATE ON stripe_pull_cursors "
			  "BEGIN SELECT RAISE(ABORT, 'disk on fire'); END", &e), 0);
	c.cursor = &cur;
	CHECK(db_snapshot_commit(db, &c, &n, &e) != 0);
	CHECK_CONTAINS(e.msg, "disk on fire");
	CHECK_INT(scalar(db, "SELECT count(*) FROM stripe_invoices"), 0);
	CHECK_INT(scalar(db, "SELECT pages FROM stripe_pull_cursors"), 0);
	CHECK(scalar_text(db, "SELECT starting_after FROM stripe_pull_cursors") &&
	      strcmp(text_buf, "(null)") == 0);
	CHECK_INT(cur.pages, 0);
	CHECK_INT(db->in_tx, 0);
	CHECK_INT(db_exec(db, "DROP TRIGGER temp.boom", &e), 0);
	CHECK_INT(db_snapshot_commit(db, &c, &n, &e), 0);
	CHECK_INT(scalar(db, "SELECT count(*) FROM stripe_invoices"), 4);
	CHECK_INT(cur.pages, 1);
out:
	stripe_page_free(p);
	db_close(db);
}

/*
 * Commit groups: commits share one transaction, nothing is visible to
 * another connection before the flush, a failing commit rolls back the
 * group since its last flush, and an unflushed group is rolled back when
 * freed.
 */
static void test_commit_group(void)
{
	struct db *db = fresh_db("g.db"), *other = NULL;
	struct stripe_page *inv = load_page("basic_invoices.json", STRIPE_INVOICE);
	struct stripe_page *cus = load_page("basic_customers.json", STRIPE_CUSTOMER);
	struct db_snapshot_commit c = { 0 };
	struct db_snapshot_counts n = { 0 };
	struct db_snapshot_group *g = NULL;
	struct db_snapshot_cursor ci, cc, ghost;
	struct err e = { 0 };
	long long run = 0;

	CHECK(db && inv && cus);
	if (!db || !inv || !cus)
		goto out;
	CHECK_INT(db_open(path, DB_OPEN_EXISTING, &other, &e), 0);
	CHECK_INT(db_snapshot_pull_begin(db, DB_SNAPSHOT_FULL, NULL, 0, &run, &e), 0);
	open_cursor(db, run, "invoices", "", &ci);
	open_cursor(db, run, "customers", "", &cc);
	CHECK_INT(db_snapshot_group_new(db, &g, &e), 0);
	CHECK_INT(db_snapshot_group_pending(g), 0);
	c.group = g;
	c.page = inv;
	c.cursor = &ci;
	CHECK_INT(db_snapshot_commit(db, &c, &n, &e), 0);
	CHECK_INT(ci.pages, 1);
	/* a commit outside the group while it is open is refused */
	c.group = NULL;
	c.page = cus;
	c.cursor = &cc;
	CHECK_INT(db_snapshot_commit(db, &c, &n, &e), EXIT_SOFTWARE);
	CHECK_STR(e.msg, "snapshot: commit inside an open transaction");
	c.group = g;
	CHECK_INT(db_snapshot_commit(db, &c, &n, &e), 0);
	CHECK_INT(db_snapshot_group_pending(g), 2);
	CHECK_INT(scalar(db, "SELECT count(*) FROM stripe_invoices"), 4);
	CHECK_INT(scalar(other, "SELECT count(*) FROM stripe_invoices"), 0);
	CHECK_INT(db_snapshot_group_flush(g, &e), 0);
	CHECK_INT(db_snapshot_group_pending(g), 0);
	CHECK_INT(db->in_tx, 0);
	CHECK_INT(scalar(other, "SELECT count(*) FROM stripe_invoices"), 4);
	CHECK_INT(scalar(other, "SELECT count(*) FROM stripe_customers"),
		  (long long)cus->count);
	CHECK_INT(scalar(other, "SELECT sum(pages) FROM stripe_pull_cursors"), 2);
	/* a failing commit rolls back the group since the last flush */
	c.page = inv;
	c.cursor = &ci;
	CHECK_INT(db_snapshot_commit(db, &c, &n, &e), 0);
	CHECK_INT(ci.pages, 2);
	ghost = cc;
	snprintf(ghost.scope, sizeof ghost.scope, "never-opened");
	c.page = cus;
	c.cursor = &ghost;
	CHECK_INT(db_snapshot_commit(db, &c, &n, &e), EXIT_SOFTWARE);
	CHECK_INT(db_snapshot_group_pending(g), 0);
	CHECK_INT(db->in_tx, 0);
	CHECK_INT(scalar(db, "SELECT pages FROM stripe_pull_cursors WHERE resource = 'invoices'"),
		  1);
	/* an unflushed group is rolled back when freed */
	c.page = inv;
	c.cursor = &ci;
	CHECK_INT(db_snapshot_commit(db, &c, &n, &e), 0);
	db_snapshot_group_free(g);
	g = NULL;
	CHECK_INT(db->in_tx, 0);
	CHECK_INT(scalar(db, "SELECT pages FROM stripe_pull_cursors WHERE resource = 'invoices'"),
		  1);
out:
	db_snapshot_group_free(g);
	stripe_page_free(inv);
	stripe_page_free(cus);
	db_close(other);
	db_close(db);
}

static void test_reapply_changes_nothing(void)
{
	static const struct { const char *file; enum stripe_kind kind; } pages[] = {
		{ "basic_customers.json", STRIPE_CUSTOMER },
		{ "basic_products.json", STRIPE_PRODUCT },
		{ "basic_prices.json", STRIPE_PRICE },
		{ "basic_subscriptions.json", STRIPE_SUBSCRIPTION },
		{ "basic_checkout_sessions.json", STRIPE_CHECKOUT_SESSION },
		{ "basic_refunds.json", STRIPE_REFUND },
		{ "basic_invoices.json", STRIPE_INVOICE },
	};
	struct db *db = fresh_db("c.db");
	struct db_snapshot_counts n;
	size_t i;
	long long total = 0;

	CHECK(db != NULL);
	for (i = 0; db && i < sizeof pages / sizeof pages[0]; i++) {
		struct stripe_page *p = load_page(pages[i].file, pages[i].kind);

		CHECK(p != NULL);
		if (!p)
			continue;
		CHECK_INT(commit_plain(db, p, "2026-05-01T00:00:00Z", &n), 0);
		CHECK_INT(n.inserted, (long long)p->count);
		total += (long long)p->count;
		CHECK_INT(commit_plain(db, p, "2026-05-02T00:00:00Z", &n), 0);
		CHECK_INT(n.inserted, 0);
		CHECK_INT(n.updated, 0);
		CHECK_INT(n.unchanged, (long long)p->count);
		CHECK_INT(n.children_written, 0);
		CHECK_INT(n.children_deleted, 0);
		stripe_page_free(p);
	}
	if (db) {
		CHECK_INT(total, 32);
		/* the second pass rewrote nothing, not even pulled_at */
		CHECK_INT(scalar(db, "SELECT count(*) FROM stripe_customers "
				     "WHERE pulled_at <> '2026-05-01T00:00:00Z'"), 0);
		CHECK_INT(scalar(db, "SELECT count(*) FROM stripe_checkout_line_items "
				     "WHERE pulled_at <> '2026-05-01T00:00:00Z'"), 0);
		/* money stays integral in the database */
		CHECK_STR(scalar_text(db, "SELECT typeof(unit_amount) || ':' || unit_amount FROM "
					  "stripe_prices WHERE id = 'price_TuCourseJpy'"),
			  "integer:5000");
		CHECK_STR(scalar_text(db, "SELECT currency || ':' || unit_amount FROM stripe_prices "
					  "WHERE id = 'price_TuOrgnMonthlyBhd'"), "bhd:3500");
		CHECK_STR(scalar_text(db, "SELECT subscription || '/' || paid FROM stripe_invoices "
					  "WHERE id = 'in_TuAlicePaid2026a'"),
			  "sub_TuAliceActive01/1");
		CHECK_STR(scalar_text(db, "SELECT subscription || '/' || paid FROM stripe_invoices "
					  "WHERE id = 'in_TuEmiPaid2023Shp'"),
			  "sub_TuEmiTwoItems05/1");
		CHECK_STR(scalar_text(db, "SELECT price_id FROM stripe_invoice_lines "
					  "WHERE invoice_id = 'in_TuAlicePaid2026a'"),
			  "price_TuOrgnMonthlyUsd");
		CHECK_STR(scalar_text(db, "SELECT client_reference_id FROM stripe_checkout_sessions "
					  "WHERE id = 'cs_test_a1TuEmiCourseJpy000002'"),
			  "pint_emi_1");
	}
	db_close(db);
}

/* A changed object is updated; its children follow (added, changed, pruned). */
static void test_children_follow_parent(void)
{
	struct db *db = fresh_db("d.db");
	json_t *v = load("basic_subscriptions.json"), *sub = NULL, *items;
	struct stripe_page *p = NULL;
	struct db_snapshot_counts n;
	size_t i;

	CHECK(db && v);
	if (!db || !v)
		goto out;
	p = page_of(v, STRIPE_SUBSCRIPTION);
	CHECK_INT(commit_plain(db, p, NULL, &n), 0);
	stripe_page_free(p);
	for (i = 0; i < json_array_size(json_object_get(v, "data")); i++) {
		json_t *s = json_array_get(json_object_get(v, "data"), i);

		if (strcmp(json_string_value(json_object_get(s, "id")), "sub_TuEmiTwoItems05") == 0)
			sub = s;
	}
	CHECK(sub != NULL);
	if (!sub)
		goto out;
	/* drop the first item, change the second's quantity */
	items = json_object_get(json_object_get(sub, "items"), "data");
	json_array_remove(items, 0);
	json_object_set_new(json_array_get(items, 0), "quantity", json_integer(7));
	p = page_of(v, STRIPE_SUBSCRIPTION);
	CHECK_INT(commit_plain(db, p, NULL, &n), 0);
	CHECK_INT(n.updated, 1);
	CHECK_INT(n.unchanged, 4);
	CHECK_INT(n.children_written, 1);
	CHECK_INT(n.children_deleted, 1);
	CHECK_INT(scalar(db, "SELECT count(*) FROM stripe_subscription_items "
			     "WHERE subscription_id = 'sub_TuEmiTwoItems05'"), 1);
	CHECK_INT(scalar(db, "SELECT quantity FROM stripe_subscription_items "
			     "WHERE subscription_id = 'sub_TuEmiTwoItems05'"), 7);
	stripe_page_free(p);
out:
	json_decref(v);
	db_close(db);
}

/* Embedded line items with has_more, completed from the line_items endpoint. */
static void test_line_items_completed(void)
{
	struct db *db = fresh_db("e.db");
	struct stripe_page *s = load_page("basic_checkout_sessions.json", STRIPE_CHECKOUT_SESSION);
	struct stripe_page *li = NULL;
	struct db_snapshot_commit c = { 0 };
	struct db_snapshot_counts n = { 0 };
	struct db_snapshot_cursor cur;
	struct err e = { 0 };
	json_t *v = load("basic_line_items_bulk.json");
	char *body = v ? json_dumps(v, JSON_COMPACT) : NULL;
	long long run = 0;

	CHECK(db && s && body);
	if (!db || !s || !body)
		goto out;
	CHECK_INT(stripe_rows_parse_line_items(body, strlen(body), "cs_test_a1TuCarolBulkSeats00006",
					       &li, &e), 0);
	CHECK_INT(commit_plain(db, s, NULL, &n), 0);
	CHECK_INT(scalar(db, "SELECT line_items_has_more FROM stripe_checkout_sessions WHERE "
			     "id = 'cs_test_a1TuCarolBulkSeats00006'"), 1);
	CHECK_INT(scalar(db, "SELECT count(*) FROM stripe_checkout_line_items WHERE "
			     "session_id = 'cs_test_a1TuCarolBulkSeats00006'"), 10);
	CHECK_INT(db_snapshot_pull_begin(db, DB_SNAPSHOT_INCREMENTAL, "checkout_sessions", 0, &run,
					 &e), 0);
	open_cursor(db, run, "checkout_line_items", "cs_test_a1TuCarolBulkSeats00006", &cur);
	c.page = li;
	c.cursor = &cur;
	CHECK_INT(db_snapshot_commit(db, &c, &n, &e), 0);
	CHECK_INT(scalar(db, "SELECT count(*) FROM stripe_checkout_line_items WHERE "
			     "session_id = 'cs_test_a1TuCarolBulkSeats00006'"), 12);
	CHECK_INT(scalar(db, "SELECT sum(quantity) > 0 FROM stripe_checkout_line_items"), 1);
	/* the session page again (unchanged): the 12 stay */
	CHECK_INT(commit_plain(db, s, NULL, &n), 0);
	CHECK_INT(n.unchanged, 6);
	CHECK_INT(scalar(db, "SELECT count(*) FROM stripe_checkout_line_items WHERE "
			     "session_id = 'cs_test_a1TuCarolBulkSeats00006'"), 12);
	CHECK_INT(cur.done, 1);
	CHECK_INT(db_snapshot_pull_finish(db, run, 1, NULL, &e), 0);
out:
	free(body);
	json_decref(v);
	stripe_page_free(s);
	stripe_page_free(li);
	db_close(db);
}

/* A subscription sub_A: 2023 shape (its own period) or 2026 (periods on the items). */
#define KID_SUB(period, items, more) "{\"id\":\"sub_A\",\"object\":\"subscription\"," \
	"\"created\":1,\"customer\":\"cus_1\",\"status\":\"active\"" period ",\"items\":" \
	"{\"object\":\"list\",\"has_more\":" more ",\"data\":[" items "]}}"
#define KID_ITEM(id, q, period) "{\"id\":\"" id "\",\"object\":\"subscription_item\"," \
	"\"quantity\":" q ",\"subscription\":\"sub_A\",\"price\":{\"id\":\"price_1\"," \
	"\"object\":\"price\",\"currency\":\"usd\",\"unit_amount\":500}" period "}"
#define P2023 ",\"current_period_start\":100,\"current_period_end\":200"
#define PITEM(a, b) ",\"current_period_start\":" #a ",\"current_period_end\":" #b

/* Commit a children page body (kind, parent) on cursor c; the rc. */
static int commit_children(struct db *db, const char *body, enum stripe_kind kind,
			   const char *parent, struct db_snapshot_cursor *c,
			   struct db_snapshot_counts *n)
{
	struct stripe_page *p = NULL;
	struct db_snapshot_commit cm = { 0 };
	struct err e = { 0 };
	int rc;

	if ((rc = stripe_rows_parse_children(body, strlen(body), kind, parent, &p, &e)) != 0) {
		printf("  parse: %s\n", e.msg);
		return rc;
	}
	cm.page = p;
	cm.cursor = c;
	memset(n, 0, sizeof *n);
	if ((rc = db_snapshot_commit(db, &cm, n, &e)) != 0)
		printf("  commit: %s\n", e.msg);
	stripe_page_free(p);
	return rc;
}

/*
 * Children from their own pages: only upserted while the pagination has
 * more; the page that completes it deletes the children it did not list
 * (a 2023 item takes its subscription's period; a 2026 subscription's
 * period spans all its items then).  Both kinds, both shapes; a child page
 * of another parent than its cursor's is refused.
 */
static void test_children_pages_complete(void)
{
	struct db *db = fresh_db("kids.db");
	struct stripe_page *p = NULL;
	struct db_snapshot_counts n = { 0 };
	struct db_snapshot_cursor cur;
	struct err e = { 0 };
	long long run = 0;

	if (!db) {
		CHECK(0);
		return;
	}
	/* 2023: three embedded items of more */
	p = object_page(KID_SUB(P2023, KID_ITEM("si_1", "1", "") "," KID_ITEM("si_2", "1", "") ","
				KID_ITEM("si_3", "1", ""), "true"), STRIPE_SUBSCRIPTION);
	CHECK_INT(commit_plain(db, p, NULL, &n), 0);
	stripe_page_free(p);
	CHECK_INT(db_snapshot_pull_begin(db, DB_SNAPSHOT_INCREMENTAL, NULL, 0, &run, &e), 0);
	open_cursor(db, run, "subscription_items", "sub_A", &cur);
	CHECK_INT(commit_children(db, "{\"object\":\"list\",\"has_more\":true,\"data\":["
				  KID_ITEM("si_1", "7", "") "," KID_ITEM("si_2", "1", "") "]}",
				  STRIPE_SUBSCRIPTION_ITEM, "sub_A", &cur, &n), 0);
	/* more to come: si_3 (not listed yet) stays, si_1 is updated */
	CHECK_INT(n.children_deleted, 0);
	CHECK_INT(n.updated, 1);
	CHECK_INT(scalar(db, "SELECT count(*) FROM stripe_subscription_items"), 3);
	CHECK_INT(scalar(db, "SELECT quantity FROM stripe_subscription_items WHERE id = 'si_1'"), 7);
	CHECK_INT(scalar(db, "SELECT count(*) FROM stripe_pull_seen"), 2);
	CHECK_INT(commit_children(db, "{\"object\":\"list\",\"has_more\":false,\"data\":["
				  KID_ITEM("si_4", "2", "") "]}",
				  STRIPE_SUBSCRIPTION_ITEM, "sub_A", &cur, &n), 0);
	/* complete: si_3 was not listed, si_4 has the subscription's period */
	CHECK_INT(cur.done, 1);
	CHECK_INT(n.children_deleted, 1);
	CHECK_STR(scalar_text(db, "SELECT group_concat(id) FROM (SELECT id FROM "
			      "stripe_subscription_items ORDER BY id)"), "si_1,si_2,si_4");
	CHECK_STR(scalar_text(db, "SELECT current_period_start || '-' || current_period_end FROM "
			      "stripe_subscription_items WHERE id = 'si_4'"), "100-200");
	CHECK_INT(scalar(db, "SELECT count(*) FROM stripe_pull_seen"), 0);
	/* a page of another parent on this cursor is refused */
	open_cursor(db, run, "subscription_items", "sub_Z", &cur);
	CHECK_INT(commit_children(db, "{\"object\":\"list\",\"has_more\":false,\"data\":["
				  KID_ITEM("si_9", "1", "") "]}",
				  STRIPE_SUBSCRIPTION_ITEM, "sub_A", &cur, &n), EXIT_SOFTWARE);
	CHECK_INT(scalar(db, "SELECT count(*) FROM stripe_subscription_items"), 3);

	/* 2026: the subscription spans its embedded items, then all of them */
	p = object_page(KID_SUB("", KID_ITEM("si_1", "1", PITEM(100, 200)), "true"),
			STRIPE_SUBSCRIPTION);
	CHECK_INT(commit_plain(db, p, NULL, &n), 0);
	stripe_page_free(p);
	CHECK_STR(scalar_text(db, "SELECT period_source || current_period_end FROM "
			      "stripe_subscriptions"), "items200");
	open_cursor(db, run, "subscription_items", "sub_A", &cur);
	CHECK_INT(commit_children(db, "{\"object\":\"list\",\"has_more\":false,\"data\":["
				  KID_ITEM("si_1", "1", PITEM(100, 200)) ","
				  KID_ITEM("si_5", "1", PITEM(50, 900)) "]}",
				  STRIPE_SUBSCRIPTION_ITEM, "sub_A", &cur, &n), 0);
	CHECK_STR(scalar_text(db, "SELECT current_period_start || '-' || current_period_end FROM "
			      "stripe_subscriptions"), "50-900");
	CHECK_STR(scalar_text(db, "SELECT group_concat(id) FROM (SELECT id FROM "
			      "stripe_subscription_items ORDER BY id)"), "si_1,si_5");

	/* invoice lines: the same rule */
	p = object_page("{\"id\":\"in_A\",\"object\":\"invoice\",\"created\":1,\"currency\":\"usd\","
			"\"amount_due\":3,\"amount_paid\":3,\"total\":3,\"lines\":{\"object\":\"list\","
			"\"has_more\":true,\"data\":[{\"id\":\"il_1\",\"object\":\"line_item\","
			"\"amount\":1,\"currency\":\"usd\"},{\"id\":\"il_2\",\"object\":\"line_item\","
			"\"amount\":1,\"currency\":\"usd\"}]}}", STRIPE_INVOICE);
	CHECK_INT(commit_plain(db, p, NULL, &n), 0);
	stripe_page_free(p);
	open_cursor(db, run, "invoice_lines", "in_A", &cur);
	CHECK_INT(commit_children(db, "{\"object\":\"list\",\"has_more\":false,\"data\":["
				  "{\"id\":\"il_1\",\"object\":\"line_item\",\"amount\":1,"
				  "\"currency\":\"usd\",\"invoice\":\"in_A\"},{\"id\":\"il_3\","
				  "\"object\":\"line_item\",\"amount\":1,\"currency\":\"usd\","
				  "\"pricing\":{\"price_details\":{\"price\":\"price_9\"}}}]}",
				  STRIPE_INVOICE_LINE, "in_A", &cur, &n), 0);
	CHECK_INT(n.children_deleted, 1);
	CHECK_STR(scalar_text(db, "SELECT group_concat(id || ':' || coalesce(price_id, '-')) FROM "
			      "(SELECT id, price_id FROM stripe_invoice_lines ORDER BY id)"),
		  "il_1:-,il_3:price_9");
	/* the refused sub_Z cursor is still open */
	CHECK_INT(db_snapshot_pull_finish(db, run, 1, NULL, &e), EXIT_SOFTWARE);
	CHECK_CONTAINS(e.msg, "subscription_items/sub_Z is not done");
	db_close(db);
}

/*
 * A database at schema version `version` in dir/file (path), built from the
 * embedded migrations before the one named next, with the SQL of setup run
 * on it; the open handle (sqlite3_close it), or NULL after a failed CHECK.
 */
static sqlite3 *old_version_db(const char *file, int version, const char *next,
			       const char *setup)
{
	sqlite3 *h = NULL;
	char uv[64];
	int i, ok;

	snprintf(path, sizeof path, "%s/%s", dir, file);
	unlink(path);
	CHECK(embedded_sql_count > version);
	if (embedded_sql_count <= version)
		return NULL;
	CHECK_STR(embedded_sql[version].name, next);
	ok = sqlite3_open(path, &h) == SQLITE_OK;
	for (i = 0; ok && i < version; i++)
		ok = sqlite3_exec(h, embedded_sql[i].text, NULL, NULL, NULL) == SQLITE_OK;
	snprintf(uv, sizeof uv, "PRAGMA user_version = %d", version);
	ok = ok && sqlite3_exec(h, uv, NULL, NULL, NULL) == SQLITE_OK &&
	     sqlite3_exec(h, setup, NULL, NULL, NULL) == SQLITE_OK;
	CHECK(ok);
	if (!ok) {
		sqlite3_close(h);
		return NULL;
	}
	return h;
}

/*
 * Migration 006 rebuilds stripe_pull_cursors with the two child resources:
 * the rows of a version-5 database stay, STRICT and the key too.
 */
static void test_migration_child_cursors(void)
{
	sqlite3 *h;
	struct db *db = NULL;
	struct db_snapshot_cursor c;
	struct err e = { 0 };

	h = old_version_db("v5.db", 5, "006_child_cursors.sql",
			   "INSERT INTO stripe_pull_runs (mode, started_at, status) VALUES "
			   "('full', 'x', 'running'); "
			   "INSERT INTO stripe_pull_cursors (pull_run_id, resource, scope, "
			   "starting_after, pages, updated_at) VALUES (1, 'checkout_line_items', "
			   "'cs_1', 'li_5', 2, 'x'), (1, 'customers', 'w000', NULL, 0, 'x')");
	if (!h)
		return;
	/* version 5 knows no subscription_items cursor */
	CHECK(sqlite3_exec(h, "INSERT INTO stripe_pull_cursors (pull_run_id, resource, "
			   "updated_at) VALUES (1, 'subscription_items', 'x')", NULL, NULL,
			   NULL) != SQLITE_OK);
	sqlite3_close(h);
	CHECK_INT(db_open(path, DB_OPEN_CREATE, &db, &e), 0);
	if (!db)
		return;
	CHECK_INT(scalar(db, "PRAGMA user_version"), db_latest_version());
	CHECK_STR(scalar_text(db, "SELECT group_concat(resource || '/' || scope || '/' || "
			      "coalesce(starting_after, '') || '/' || pages) FROM (SELECT * FROM "
			      "stripe_pull_cursors ORDER BY resource)"),
		  "checkout_line_items/cs_1/li_5/2,customers/w000//0");
	CHECK_INT(scalar(db, "SELECT sql LIKE '%STRICT' AND sql LIKE '%PRIMARY KEY (pull_run_id, "
			     "resource, scope)%' FROM sqlite_master WHERE name = "
			     "'stripe_pull_cursors'"), 1);
	CHECK_INT(scalar(db, "SELECT count(*) FROM sqlite_master WHERE name = "
			     "'stripe_pull_cursors_new'"), 0);
	memset(&c, 0, sizeof c);
	c.pull_run_id = 1;
	snprintf(c.resource, sizeof c.resource, "subscription_items");
	snprintf(c.scope, sizeof c.scope, "sub_1");
	CHECK_INT(db_snapshot_cursor_open(db, &c, &e), 0);
	snprintf(c.resource, sizeof c.resource, "invoice_lines");
	CHECK_INT(db_snapshot_cursor_open(db, &c, &e), 0);
	CHECK_INT(scalar(db, "SELECT count(*) FROM stripe_pull_cursors"), 4);
	db_close(db);
}

static void test_tombstones(void)
{
	struct db *db = fresh_db("f.db");
	struct stripe_page *cus = load_page("basic_customers.json", STRIPE_CUSTOMER), *p = NULL;
	struct db_snapshot_counts n;
	struct err e = { 0 };
	char sum1[DB_SNAPSHOT_CHECKSUM_LEN], sum2[DB_SNAPSHOT_CHECKSUM_LEN];
	long long rows = 0;

	CHECK(db && cus);
	if (!db || !cus)
		goto out;
	CHECK_INT(commit_plain(db, cus, NULL, &n), 0);
	CHECK_INT(db_snapshot_checksum(db, STRIPE_CUSTOMER, 0, sum1, &rows, &e), 0);
	CHECK_INT(rows, 5);
	/* a retrieve answers "deleted": the row stays, marked */
	p = object_page("{\"id\":\"cus_TuBasicBob0002\",\"object\":\"customer\",\"deleted\":true}",
			STRIPE_CUSTOMER);
	CHECK_INT(commit_plain(db, p, "2026-05-03T00:00:00Z", &n), 0);
	CHECK_INT(n.tombstoned, 1);
	CHECK_STR(scalar_text(db, "SELECT email || ' ' || deleted_at FROM stripe_customers "
				  "WHERE id = 'cus_TuBasicBob0002'"),
		  "bob@example.test 2026-05-03T00:00:00Z");
	CHECK_INT(commit_plain(db, p, NULL, &n), 0);       /* again: nothing new */
	CHECK_INT(n.tombstoned, 0);
	CHECK_INT(n.unchanged, 1);
	stripe_page_free(p);
	CHECK_INT(db_snapshot_checksum(db, STRIPE_CUSTOMER, 0, sum2, &rows, &e), 0);
	CHECK_INT(rows, 4);
	CHECK(strcmp(sum1, sum2) != 0);
	CHECK_INT(db_snapshot_checksum(db, STRIPE_CUSTOMER, 1, sum2, &rows, &e), 0);
	CHECK_INT(rows, 5);
	/* an unknown deleted object leaves a bare tombstone, not a hole */
	p = object_page("{\"id\":\"prod_Gone\",\"object\":\"product\",\"deleted\":true}",
			STRIPE_PRODUCT);
	CHECK_INT(commit_plain(db, p, NULL, &n), 0);
	CHECK_INT(n.tombstoned, 1);
	CHECK_INT(scalar(db, "SELECT count(*) FROM stripe_products WHERE id = 'prod_Gone' AND "
			     "deleted_at IS NOT NULL"), 1);
	stripe_page_free(p);
	/* customer.deleted of an object never seen: its last state, tombstoned */
	p = object_page("{\"id\":\"evt_del1\",\"object\":\"event\",\"type\":\"customer.deleted\","
			"\"created\":1777600000,\"data\":{\"object\":{\"id\":\"cus_New\",\"object\":"
			"\"customer\",\"created\":1777000000,\"email\":\"n@x.test\","
			"\"metadata\":{\"tenant_id\":\"ten_n\"}}}}", STRIPE_EVENT);
	CHECK_INT(commit_plain(db, p, NULL, &n), 0);
	CHECK_INT(n.events_new, 1);
	CHECK_INT(n.tombstoned, 1);
	CHECK_STR(scalar_text(db, "SELECT tenant_id || ' ' || deleted_at FROM stripe_customers "
				  "WHERE id = 'cus_New'"), "ten_n 2026-05-01T01:46:40Z");
	CHECK_INT(scalar(db, "SELECT processed FROM stripe_events WHERE id = 'evt_del1'"), 1);
	stripe_page_free(p);
	/* listed again: alive again */
	CHECK_INT(commit_plain(db, cus, NULL, &n), 0);
	CHECK_INT(n.updated, 1);
	CHECK_INT(scalar(db, "SELECT count(*) FROM stripe_customers WHERE id = "
			     "'cus_TuBasicBob0002' AND deleted_at IS NULL"), 1);
	CHECK_INT(db_snapshot_checksum(db, STRIPE_CUSTOMER, 0, sum2, &rows, &e), 0);
	CHECK_STR(sum2, sum1);
out:
	stripe_page_free(cus);
	db_close(db);
}

/* A slice [from, to) of a list page's data as a page; has_more = more. */
static struct stripe_page *slice(json_t *v, size_t from, size_t to, int more,
				 enum stripe_kind kind)
{
	json_t *data = json_object_get(v, "data"), *arr = json_array(), *pg;
	struct stripe_page *p;
	size_t i;

	for (i = from; i < to && i < json_array_size(data); i++)
		json_array_append(arr, json_array_get(data, i));
	pg = json_pack("{s:s, s:o, s:b}", "object", "list", "data", arr, "has_more", more);
	p = page_of(pg, kind);
	json_decref(pg);
	return p;
}

static void test_full_relist_tombstones(void)
{
	struct db *db = fresh_db("g.db");
	json_t *v = load("basic_customers.json");
	struct stripe_page *all = NULL, *part = NULL;
	struct db_snapshot_commit c = { 0 };
	struct db_snapshot_counts n = { 0 };
	struct db_snapshot_cursor cur;
	struct err e = { 0 };
	long long run = 0, marked = -1, epoch = 0;
	int found = 0;

	CHECK(db && v);
	if (!db || !v)
		goto out;
	all = slice(v, 0, 5, 0, STRIPE_CUSTOMER);
	part = slice(v, 1, 5, 0, STRIPE_CUSTOMER);       /* the newest one is gone */
	CHECK_INT(commit_plain(db, all, NULL, &n), 0);
	CHECK_INT(db_snapshot_pull_begin(db, DB_SNAPSHOT_FULL, NULL, 0, &run, &e), 0);
	open_cursor(db, run, "customers", "", &cur);
	/* not done yet: refused */
	CHECK_INT(db_snapshot_full_relist_finish(db, run, STRIPE_CUSTOMER, 1777680000, &marked, &e),
		  EXIT_SOFTWARE);
	CHECK_STR(e.msg, "snapshot: relist of customers in pull run 1 is not done (cursor customers)");
	c.page = part;
	c.cursor = &cur;
	CHECK_INT(db_snapshot_commit(db, &c, &n, &e), 0);
	CHECK_INT(scalar(db, "SELECT count(*) FROM stripe_pull_seen"), 4);
	CHECK_INT(db_snapshot_full_relist_finish(db, run, STRIPE_CUSTOMER, 1777680000, &marked, &e),
		  0);
	CHECK_INT(marked, 1);
	CHECK_STR(scalar_text(db, "SELECT group_concat(id) FROM stripe_customers "
				  "WHERE deleted_at IS NOT NULL"),
		  json_string_value(json_object_get(json_array_get(json_object_get(v, "data"), 0),
						    "id")));
	CHECK_INT(scalar(db, "SELECT count(*) FROM stripe_customers"), 5);
	CHECK_INT(db_snapshot_last_full(db, STRIPE_CUSTOMER, &epoch, &found, &e), 0);
	CHECK_INT(found, 1);
	CHECK_INT(epoch, 1777680000);
	CHECK_INT(scalar(db, "SELECT count(*) FROM stripe_pull_seen"), 0);
	CHECK_INT(db_snapshot_pull_finish(db, run, 1, NULL, &e), 0);
	/* a windowed relist only judges objects inside its windows */
	CHECK_INT(db_snapshot_pull_begin(db, DB_SNAPSHOT_FULL, NULL, 0, &run, &e), 0);
	memset(&cur, 0, sizeof cur);
	cur.pull_run_id = run;
	snprintf(cur.resource, sizeof cur.resource, "customers");
	snprintf(cur.scope, sizeof cur.scope, "w0");
	cur.has_gte = 1;
	cur.created_gte = 0;
	cur.has_lt = 1;
	cur.created_lt = 1;                               /* before every customer */
	CHECK_INT(db_snapshot_cursor_open(db, &cur, &e), 0);
	CHECK_INT(cur.has_lt, 1);
	CHECK_INT(cur.created_lt, 1);
	c.page = NULL;
	c.cursor = &cur;
	CHECK_INT(db_snapshot_commit(db, &c, &n, &e), 0);
	CHECK_INT(cur.done, 1);
	CHECK_INT(db_snapshot_full_relist_finish(db, run, STRIPE_CUSTOMER, 1777690000, &marked, &e),
		  0);
	CHECK_INT(marked, 0);
	CHECK_INT(db_snapshot_pull_finish(db, run, 1, NULL, &e), 0);
	/* an incremental run cannot relist */
	CHECK_INT(db_snapshot_pull_begin(db, DB_SNAPSHOT_INCREMENTAL, NULL, 0, &run, &e), 0);
	CHECK_INT(db_snapshot_full_relist_finish(db, run, STRIPE_CUSTOMER, 1, &marked, &e),
		  EXIT_SOFTWARE);
out:
	stripe_page_free(all);
	stripe_page_free(part);
	json_decref(v);
	db_close(db);
}

struct sums {
	char s[8][DB_SNAPSHOT_CHECKSUM_LEN];
};

static const enum stripe_kind sum_kinds[8] = {
	STRIPE_CUSTOMER, STRIPE_PRODUCT, STRIPE_PRICE, STRIPE_SUBSCRIPTION,
	STRIPE_CHECKOUT_SESSION, STRIPE_REFUND, STRIPE_INVOICE, STRIPE_EVENT
};

static const char *const sum_files[8] = {
	"basic_customers.json", "basic_products.json", "basic_prices.json",
	"gen_subscriptions_2026.json", "gen_checkout_sessions.json", "gen_refunds.json",
	"gen_invoices_2026.json", "gen_events.json"
};

/* Load every sum file into db in pages of `size`, in forward or reverse page order. */
static void load_all(struct db *db, size_t size, int reverse, const char *version,
		     struct sums *out)
{
	struct db_snapshot_counts n;
	struct err e = { 0 };
	size_t f, k;

	for (f = 0; f < 8; f++) {
		json_t *v = load(sum_files[f]);
		size_t total = json_array_size(json_object_get(v, "data"));
		size_t npages = (total + size - 1) / size;

		for (k = 0; k < npages; k++) {
			size_t pg = reverse ? npages - 1 - k : k;
			struct stripe_page *p = slice(v, pg * size, pg * size + size,
						      pg + 1 < npages, sum_kinds[f]);
			struct db_snapshot_commit c = { 0 };

			c.page = p;
			c.stripe_version = version;
			CHECK(p != NULL);
			CHECK_INT(db_snapshot_commit(db, &c, &n, &e), 0);
			stripe_page_free(p);
		}
		json_decref(v);
		CHECK_INT(db_snapshot_checksum(db, sum_kinds[f], 0, out->s[f], NULL, &e), 0);
	}
}

static void test_checksum_independent_of_paging(void)
{
	struct db *a = fresh_db("h1.db"), *b = fresh_db("h2.db"), *c = fresh_db("h3.db");
	struct sums sa, sb, sc;
	struct stripe_page *p;
	struct db_snapshot_counts n;
	char after[DB_SNAPSHOT_CHECKSUM_LEN];
	struct err e = { 0 };
	size_t f;

	CHECK(a && b && c);
	if (!a || !b || !c)
		goto out;
	load_all(a, 100, 0, "2025-03-31.basil", &sa);
	load_all(b, 3, 1, "2026-01-28.clover", &sb);
	load_all(c, 1, 0, NULL, &sc);
	for (f = 0; f < 8; f++) {
		CHECK_INT(strlen(sa.s[f]), 64);
		CHECK_STR(sb.s[f], sa.s[f]);
		CHECK_STR(sc.s[f], sa.s[f]);
	}
	/* a changed typed field changes it */
	p = object_page("{\"id\":\"cus_TuBasicAlice01\",\"object\":\"customer\",\"created\":"
			"1767312000,\"email\":\"alice@new.test\",\"livemode\":false}",
			STRIPE_CUSTOMER);
	CHECK_INT(commit_plain(c, p, NULL, &n), 0);
	CHECK_INT(n.updated, 1);
	CHECK_INT(db_snapshot_checksum(c, STRIPE_CUSTOMER, 0, after, NULL, &e), 0);
	CHECK(strcmp(after, sa.s[0]) != 0);
	stripe_page_free(p);
	/* known value: sha256 of an empty resource */
	{
		struct db *d = fresh_db("h4.db");

		CHECK_INT(db_snapshot_checksum(d, STRIPE_REFUND, 0, after, NULL, &e), 0);
		CHECK_STR(after, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
		CHECK_INT(db_snapshot_checksum(d, STRIPE_CHECKOUT_LINE_ITEM, 0, after, NULL, &e),
			  EXIT_SOFTWARE);
		db_close(d);
	}
out:
	db_close(a);
	db_close(b);
	db_close(c);
}

static int collect_line(const char *line, size_t len, void *arg)
{
	char *buf = arg;
	size_t have = strlen(buf);

	if (have + len < 1024)
		memcpy(buf + have, line, len + 1);
	return 0;
}

static void test_rows_each_lines(void)
{
	struct db *db = fresh_db("i.db");
	struct stripe_page *p = load_page("basic_refunds.json", STRIPE_REFUND);
	struct db_snapshot_counts n;
	struct err e = { 0 };
	char text[1024] = "";

	CHECK(db && p);
	if (!db || !p)
		goto out;
	CHECK_INT(commit_plain(db, p, NULL, &n), 0);
	CHECK_INT(db_snapshot_rows_each(db, STRIPE_REFUND, 0, collect_line, text, &e), 0);
	/* refunds carry no livemode; Dave's partial refund gives no reason */
	CHECK_STR(text, "stripe_refunds\tre_TuDavePartial0002\t\\N\t1771977600\t4900\tusd\t"
			"succeeded\t\\N\tch_TuDaveCourseUsd1\t"
			"pi_TuDaveCourseUsd1\tcus_TuBasicDave004\t\\N\t\\N\n"
			"stripe_refunds\tre_TuEmiFullRefund01\t\\N\t1771113600\t5000\tjpy\t"
			"succeeded\trequested_by_customer\tch_TuEmiCourseJpy01\t"
			"pi_TuEmiCourseJpy01\tcus_TuBasicEmi0005\t\\N\t\\N\n");
out:
	stripe_page_free(p);
	db_close(db);
}

/* Kill a pull after its first page, reopen, resume: same snapshot as one clean pass. */
static void test_resume_equals_clean(void)
{
	struct db *clean = fresh_db("j2.db"), *db = fresh_db("j.db");
	json_t *v = load("gen_subscriptions_2026.json");
	struct db_snapshot_commit c = { 0 };
	struct db_snapshot_counts n = { 0 };
	struct db_snapshot_cursor cur;
	struct db_snapshot_pull_info info;
	struct stripe_page *p;
	struct err e = { 0 };
	char s1[DB_SNAPSHOT_CHECKSUM_LEN], s2[DB_SNAPSHOT_CHECKSUM_LEN];
	long long run = 0;
	int found = 0;

	CHECK(db && clean && v);
	if (!db || !clean || !v)
		goto out;
	p = slice(v, 0, 8, 0, STRIPE_SUBSCRIPTION);
	CHECK_INT(commit_plain(clean, p, NULL, &n), 0);
	stripe_page_free(p);
	CHECK_INT(db_snapshot_pull_begin(db, DB_SNAPSHOT_FULL, "subscriptions", 0, &run, &e), 0);
	open_cursor(db, run, "subscriptions", "", &cur);
	p = slice(v, 0, 3, 1, STRIPE_SUBSCRIPTION);
	c.page = p;
	c.cursor = &cur;
	CHECK_INT(db_snapshot_commit(db, &c, &n, &e), 0);
	stripe_page_free(p);
	db_close(db);                                    /* "kill -9" */
	db = NULL;
	CHECK_INT(db_open(path, DB_OPEN_EXISTING, &db, &e), 0);
	if (!db)
		goto out;
	CHECK_INT(db_snapshot_require_finished(db, &e), EXIT_TEMPFAIL);
	CHECK_CONTAINS(e.msg, "has not finished: run 'trueup pull' to complete it");
	CHECK_INT(db_snapshot_pull_last(db, &info, &found, &e), 0);
	CHECK_INT(found, 1);
	CHECK_STR(info.status, "running");
	open_cursor(db, info.id, "subscriptions", "", &cur);
	CHECK_INT(cur.pages, 1);
	CHECK_INT(cur.done, 0);
	CHECK_STR(cur.starting_after,
		  json_string_value(json_object_get(json_array_get(json_object_get(v, "data"), 2),
						    "id")));
	p = slice(v, 3, 8, 0, STRIPE_SUBSCRIPTION);
	c.page = p;
	c.cursor = &cur;
	CHECK_INT(db_snapshot_commit(db, &c, &n, &e), 0);
	stripe_page_free(p);
	CHECK_INT(db_snapshot_full_relist_finish(db, info.id, STRIPE_SUBSCRIPTION, 1777680000, NULL,
						 &e), 0);
	CHECK_INT(db_snapshot_pull_finish(db, info.id, 1, NULL, &e), 0);
	CHECK_INT(db_snapshot_require_finished(db, &e), 0);
	CHECK_INT(db_snapshot_checksum(db, STRIPE_SUBSCRIPTION, 1, s1, NULL, &e), 0);
	CHECK_INT(db_snapshot_checksum(clean, STRIPE_SUBSCRIPTION, 1, s2, NULL, &e), 0);
	CHECK_STR(s1, s2);
	CHECK_INT(scalar(db, "PRAGMA integrity_check = 1") == -1, 0);
out:
	json_decref(v);
	db_close(db);
	db_close(clean);
}

static int count_cursor(const struct db_snapshot_cursor *c, void *arg)
{
	(void)c;
	(*(int *)arg)++;
	return 0;
}

static void test_unfinished_pull(void)
{
	struct db *db = fresh_db("k.db");
	struct db_snapshot_commit c = { 0 };
	struct db_snapshot_counts n = { 0 };
	struct db_snapshot_cursor cur;
	struct db_snapshot_pull_info info;
	struct err e = { 0 };
	long long run = 0;
	int found = -1, ncur = 0;

	CHECK(db != NULL);
	if (!db)
		return;
	CHECK_INT(db_snapshot_pull_last(db, &info, &found, &e), 0);
	CHECK_INT(found, 0);
	CHECK_INT(db_snapshot_require_finished(db, &e), EXIT_NOINPUT);
	CHECK_STR(e.msg, "no stripe snapshot yet: run 'trueup pull' first");
	CHECK_INT(db_snapshot_pull_begin(db, DB_SNAPSHOT_INCREMENTAL, "customers", 0, &run, &e), 0);
	CHECK_INT(db_snapshot_require_finished(db, &e), EXIT_TEMPFAIL);
	open_cursor(db, run, "customers", "", &cur);
	CHECK_INT(db_snapshot_cursors_each(db, run, count_cursor, &ncur, &e), 0);
	CHECK_INT(ncur, 1);
	CHECK_INT(db_snapshot_pull_finish(db, run, 1, NULL, &e), EXIT_SOFTWARE);
	CHECK_STR(e.msg, "pull run 1 cannot finish: cursor customers is not done");
	CHECK_INT(db_snapshot_require_finished(db, &e), EXIT_TEMPFAIL);
	c.cursor = &cur;                                  /* an empty last page */
	CHECK_INT(db_snapshot_commit(db, &c, &n, &e), 0);
	CHECK_INT(db_snapshot_pull_finish(db, run, 1, NULL, &e), 0);
	CHECK_INT(db_snapshot_require_finished(db, &e), 0);
	CHECK_INT(db_snapshot_pull_begin(db, DB_SNAPSHOT_FULL, NULL, 7, &run, &e), 0);
	CHECK_INT(db_snapshot_pull_finish(db, run, 0, "stripe answered 401", &e), 0);
	CHECK_INT(db_snapshot_require_finished(db, &e), EXIT_TEMPFAIL);
	CHECK_CONTAINS(e.msg, ") failed: stripe answered 401: run 'trueup pull' to complete it");
	CHECK_INT(db_snapshot_pull_last(db, &info, &found, &e), 0);
	CHECK_STR(info.status, "failed");
	CHECK_STR(info.mode, "full");
	CHECK_INT(info.id, run);
	/* unknown resource and run */
	memset(&cur, 0, sizeof cur);
	cur.pull_run_id = run;
	snprintf(cur.resource, sizeof cur.resource, "charges");
	CHECK_INT(db_snapshot_cursor_open(db, &cur, &e), EXIT_SOFTWARE);
	cur.pull_run_id = 999;
	snprintf(cur.resource, sizeof cur.resource, "customers");
	CHECK_INT(db_snapshot_cursor_open(db, &cur, &e), EXIT_SOFTWARE);
	CHECK_STR(e.msg, "snapshot: no pull run 999");
	db_close(db);
}

static int collect_event(const struct db_snapshot_event_ref *ev, void *arg)
{
	char *buf = arg;
	size_t len = strlen(buf);

	snprintf(buf + len, 1024 - len, "%s%s", len ? "," : "", ev->id);
	return 0;
}

static void test_events(void)
{
	struct db *db = fresh_db("l.db");
	struct stripe_page *ev = load_page("basic_events.json", STRIPE_EVENT), *obj = NULL;
	struct db_snapshot_commit c = { 0 };
	struct db_snapshot_counts n = { 0 };
	struct db_snapshot_events_cursor ec = { 0 }, got;
	struct err e = { 0 };
	char ids[1024] = "";
	const char *done[] = { "evt_TuBobSubCreated01" };
	json_t *subs = load("basic_subscriptions.json");
	char *body = NULL;

	CHECK(db && ev && subs);
	if (!db || !ev || !subs)
		goto out;
	CHECK_INT(db_snapshot_events_cursor_get(db, &got, &e), 0);
	CHECK_INT(got.set, 0);
	c.page = ev;
	CHECK_INT(db_snapshot_commit(db, &c, &n, &e), 0);
	CHECK_INT(n.events_new, 5);
	memset(&n, 0, sizeof n);
	CHECK_INT(db_snapshot_commit(db, &c, &n, &e), 0);    /* overlap window: de-duplicated */
	CHECK_INT(n.events_new, 0);
	CHECK_INT(n.events_known, 5);
	CHECK_INT(db_snapshot_events_pending(db, 0, collect_event, ids, &e), 0);
	CHECK_STR(ids, "evt_TuBobSubCreated01,evt_TuAliceInvPaid002,evt_TuCarolSubUpdate3,"
		       "evt_TuCarolCsComplet4,evt_TuCarolInvFinal05");
	/* re-fetched Carol's subscription: her events are processed with it */
	body = json_dumps(json_array_get(json_object_get(subs, "data"), 2), JSON_COMPACT);
	CHECK(strstr(body, "sub_TuCarolPastDue3") != NULL);
	CHECK_INT(stripe_rows_parse_object(body, strlen(body), STRIPE_SUBSCRIPTION, &obj, &e), 0);
	memset(&c, 0, sizeof c);
	c.page = obj;
	c.mark_events = 1;
	c.processed_events = done;
	c.nprocessed_events = 1;
	ec.set = 1;
	ec.created = 1776733200;
	snprintf(ec.id, sizeof ec.id, "evt_TuCarolInvFinal05");
	c.events_cursor = &ec;
	memset(&n, 0, sizeof n);
	CHECK_INT(db_snapshot_commit(db, &c, &n, &e), 0);
	CHECK_INT(n.events_processed, 2);
	ids[0] = '\0';
	CHECK_INT(db_snapshot_events_pending(db, 2, collect_event, ids, &e), 0);
	CHECK_STR(ids, "evt_TuAliceInvPaid002,evt_TuCarolCsComplet4");
	CHECK_INT(db_snapshot_events_cursor_get(db, &got, &e), 0);
	CHECK_INT(got.set, 1);
	CHECK_INT(got.created, 1776733200);
	CHECK_STR(got.id, "evt_TuCarolInvFinal05");
	CHECK_STR(scalar_text(db, "SELECT object_type || ' ' || object_id FROM stripe_events "
				  "WHERE id = 'evt_TuCarolCsComplet4'"),
		  "checkout.session cs_test_a1TuCarolBulkSeats00006");
out:
	free(body);
	json_decref(subs);
	stripe_page_free(ev);
	stripe_page_free(obj);
	db_close(db);
}

/* Hand page *p on cursor cur to g's writer (db_snapshot_group_submit). */
static int submit_on(struct db_snapshot_group *g, struct stripe_page **p,
		     struct db_snapshot_cursor *cur, int sink, const char *what, struct err *e)
{
	struct db_snapshot_commit c = { 0 };

	c.page = *p;
	c.cursor = cur;
	c.stripe_version = "2025-08-27.basil";
	return db_snapshot_group_submit(g, &c, p, sink, what, e);
}

/*
 * A fresh database `name` in a full pull run (*run), a second connection to
 * read it with (*other) and a commit group (*g, its writer not started):
 * the database, or NULL (a failure is checked).
 */
static struct db *writer_group(const char *name, struct db **other, long long *run,
			       struct db_snapshot_group **g)
{
	struct db *db = fresh_db(name);
	struct err e = { 0 };

	CHECK(db != NULL);
	if (!db)
		return NULL;
	CHECK_INT(db_open(path, DB_OPEN_EXISTING, other, &e), 0);
	CHECK_INT(db_snapshot_pull_begin(db, DB_SNAPSHOT_FULL, NULL, 0, run, &e), 0);
	CHECK_INT(db_snapshot_group_new(db, g, &e), 0);
	return db;
}

/*
 * The writer thread: submitted commits run in order on it, their counts
 * come back through sinks, flush makes them visible; a commit made
 * directly while the writer runs is refused; a failure is reported by the
 * next submit and by flush, named by the failing commit's label, and
 * takes the open transaction with it.
 */
static void test_group_writer(void)
{
	struct db *db, *other = NULL;
	struct stripe_page *inv = NULL, *cus = NULL;
	struct db_snapshot_commit c = { 0 };
	struct db_snapshot_counts n = { 0 };
	struct db_snapshot_group *g = NULL;
	struct db_snapshot_cursor ci, cc, li, ghost;
	struct err e = { 0 };
	long long run = 0;
	int i;

	if (!(db = writer_group("w.db", &other, &run, &g)))
		return;
	open_cursor(db, run, "invoices", "", &ci);
	open_cursor(db, run, "customers", "", &cc);
	CHECK_INT(db_snapshot_group_start_writer(g, &e), 0);
	/* more pages than the queue holds: submit waits for room */
	for (i = 0; i < 3 * DB_SNAPSHOT_QUEUE_MAX; i++) {
		inv = load_page("basic_invoices.json", STRIPE_INVOICE);
		CHECK(inv != NULL);
		CHECK_INT(submit_on(g, &inv, &ci, 3, "invoices", &e), 0);
		CHECK(inv == NULL);                      /* the writer's now */
	}
	CHECK_INT(ci.pages, 3 * DB_SNAPSHOT_QUEUE_MAX);  /* advanced in memory at once */
	/* the writer owns the connection: a direct grouped commit is refused */
	cus = load_page("basic_customers.json", STRIPE_CUSTOMER);
	memset(&c, 0, sizeof c);
	c.group = g;
	c.page = cus;
	c.cursor = &cc;
	CHECK_INT(db_snapshot_commit(db, &c, &n, &e), EXIT_SOFTWARE);
	CHECK_STR(e.msg, "snapshot: a group with a writer thread takes commits through "
		  "db_snapshot_group_submit");
	/* a cursor opened on the writer, then its first page */
	memset(&li, 0, sizeof li);
	li.pull_run_id = run;
	snprintf(li.resource, sizeof li.resource, "customers");
	snprintf(li.scope, sizeof li.scope, "w1");
	CHECK_INT(db_snapshot_group_submit_cursor(g, &li, "customers", &e), 0);
	c.group = NULL;
	c.cursor = &li;
	CHECK_INT(db_snapshot_group_submit(g, &c, &cus, 4, "customers", &e), 0);
	CHECK_INT(db_snapshot_group_flush(g, &e), 0);
	CHECK_INT(scalar(other, "SELECT count(*) FROM stripe_invoices"), 4);
	CHECK_INT(scalar(other, "SELECT pages FROM stripe_pull_cursors WHERE resource = 'invoices'"),
		  3 * DB_SNAPSHOT_QUEUE_MAX);
	CHECK_INT(scalar(other, "SELECT pages FROM stripe_pull_cursors WHERE scope = 'w1'"), 1);
	CHECK_INT(scalar(other, "SELECT written_run FROM stripe_invoices LIMIT 1"), run);
	memset(&n, 0, sizeof n);
	db_snapshot_group_take(g, 3, &n);
	CHECK_INT(n.inserted, 4);
	CHECK_INT(n.unchanged, 4 * (3 * DB_SNAPSHOT_QUEUE_MAX - 1));
	memset(&n, 0, sizeof n);
	db_snapshot_group_take(g, 3, &n);               /* taken: zero now */
	CHECK_INT(n.unchanged, 0);
	db_snapshot_group_take(g, 4, &n);
	CHECK(n.inserted > 0);
	/* a failure: the page on a cursor that was never opened */
	inv = load_page("basic_invoices.json", STRIPE_INVOICE);
	ghost = ci;
	snprintf(ghost.scope, sizeof ghost.scope, "never-opened");
	memset(&c, 0, sizeof c);
	c.page = inv;
	c.cursor = &ghost;
	CHECK_INT(db_snapshot_group_submit(g, &c, &inv, 3, "invoices", &e), 0);
	CHECK_INT(db_snapshot_group_flush(g, &e), EXIT_SOFTWARE);
	CHECK_STR(e.msg, "invoices: snapshot: cursor invoices/never-opened of pull run 1 is not "
		  "open");
	inv = load_page("basic_invoices.json", STRIPE_INVOICE);
	memset(&c, 0, sizeof c);
	c.page = inv;
	c.cursor = &ci;
	memset(&e, 0, sizeof e);
	CHECK_INT(db_snapshot_group_submit(g, &c, &inv, 3, "invoices", &e), EXIT_SOFTWARE);
	CHECK(inv == NULL);                              /* freed all the same */
	CHECK_STR(e.msg, "invoices: snapshot: cursor invoices/never-opened of pull run 1 is not "
		  "open");
	/* what the writer cannot take is refused up front */
	memset(&c, 0, sizeof c);
	c.nprocessed_objects = 1;
	CHECK_INT(db_snapshot_group_submit(g, &c, NULL, 3, "x", &e), EXIT_SOFTWARE);
	db_snapshot_group_free(g);
	g = NULL;
	CHECK_INT(db->in_tx, 0);
	CHECK_INT(scalar(db, "SELECT pages FROM stripe_pull_cursors WHERE resource = 'invoices'"),
		  3 * DB_SNAPSHOT_QUEUE_MAX);
	db_snapshot_group_free(g);
	db_close(other);
	db_close(db);
}

/*
 * The end of a relist builds its deferred indexes on the writer one per
 * turn, the pages queued meanwhile going between the builds: by the flush
 * every index is built (those of a fresh database again), none is left
 * deferred, and every page submitted after the relist's end has landed.
 */
static void test_group_restore_in_turns(void)
{
	const char *all = "SELECT group_concat(name || ':' || sql, ';') FROM "
			  "(SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name)";
	struct db *db, *other = NULL;
	struct stripe_page *pg = NULL;
	struct db_snapshot_group *g = NULL;
	struct db_snapshot_cursor cs, cc;
	struct err e = { 0 };
	char *before = NULL;
	long long run = 0;
	int i, deferred = -1;

	if (!(db = writer_group("rt.db", &other, &run, &g)))
		return;
	before = strdup(scalar_text(db, all));
	CHECK_INT(db_snapshot_defer_indexes(db, STRIPE_INVOICE, &deferred, &e), 0);
	CHECK_INT(deferred, 2);        /* stripe_invoices: charge, payment_intent */
	open_cursor(db, run, "invoices", "", &cs);
	open_cursor(db, run, "customers", "", &cc);
	CHECK_INT(db_snapshot_group_start_writer(g, &e), 0);
	pg = load_page("basic_invoices.json", STRIPE_INVOICE);
	CHECK(pg != NULL);
	CHECK_INT(submit_on(g, &pg, &cs, 3, "invoices", &e), 0);
	CHECK_INT(db_snapshot_group_submit_finish(g, run, STRIPE_INVOICE, 0, 3,
						  "invoices", &e), 0);
	for (i = 0; i < 3 * DB_SNAPSHOT_QUEUE_MAX; i++) {
		pg = load_page("basic_customers.json", STRIPE_CUSTOMER);
		CHECK(pg != NULL);
		CHECK_INT(submit_on(g, &pg, &cc, 4, "customers", &e), 0);
	}
	CHECK_INT(db_snapshot_group_flush(g, &e), 0);
	CHECK_INT(scalar(other, "SELECT count(*) FROM stripe_deferred_indexes"), 0);
	CHECK(before && strcmp(scalar_text(other, all), before) == 0);
	CHECK(scalar(other, "SELECT count(*) FROM stripe_invoices") > 0);
	CHECK_INT(scalar(other, "SELECT pages FROM stripe_pull_cursors WHERE resource = "
			 "'customers'"), 3 * DB_SNAPSHOT_QUEUE_MAX);
	CHECK_INT(scalar(other, "SELECT last_full_run_id FROM stripe_sync_state WHERE resource = "
			 "'invoices'"), run);
	CHECK_STR(scalar_text(other, "PRAGMA integrity_check"), "ok");
	free(before);
	db_snapshot_group_free(g);
	db_close(other);
	db_close(db);
}

/*
 * A resource's windows are opened on the writer in one job, so in one
 * transaction: all of them, before the pages submitted after them; a
 * window that cannot be opened takes the others with it.
 */
static void test_group_cursors(void)
{
	struct db *db, *other = NULL;
	struct stripe_page *cus = NULL;
	struct db_snapshot_group *g = NULL;
	struct db_snapshot_cursor w[3];
	struct err e = { 0 };
	long long run = 0;
	int i;

	if (!(db = writer_group("wc.db", &other, &run, &g)))
		return;
	CHECK_INT(db_snapshot_group_start_writer(g, &e), 0);
	memset(w, 0, sizeof w);
	for (i = 0; i < 3; i++) {
		w[i].pull_run_id = run;
		snprintf(w[i].resource, sizeof w[i].resource, "customers");
		snprintf(w[i].scope, sizeof w[i].scope, "w%03d", i);
		w[i].has_gte = i > 0;
		w[i].created_gte = 1000 * i;
		w[i].has_lt = i < 2;
		w[i].created_lt = 1000 * (i + 1);
	}
	CHECK_INT(db_snapshot_group_submit_cursors(g, w, 3, "customers", &e), 0);
	CHECK_INT(db_snapshot_group_submit_cursors(g, w, 0, "customers", &e), 0);   /* nothing */
	cus = load_page("basic_customers.json", STRIPE_CUSTOMER);
	CHECK(cus != NULL);
	CHECK_INT(submit_on(g, &cus, &w[2], 4, "customers", &e), 0);
	CHECK_INT(db_snapshot_group_flush(g, &e), 0);
	CHECK_INT(scalar(other, "SELECT count(*) FROM stripe_pull_cursors WHERE resource = "
			 "'customers' AND scope LIKE 'w%'"), 3);
	CHECK_INT(scalar(other, "SELECT created_lt FROM stripe_pull_cursors WHERE scope = 'w001'"),
		  2000);
	CHECK_INT(scalar(other, "SELECT pages FROM stripe_pull_cursors WHERE scope = 'w002'"), 1);
	/* the writer keeps its cursor statements: w002 (no upper end) must not
	 * take w001's created_lt from the statement it reused */
	CHECK_INT(scalar(other, "SELECT count(*) FROM stripe_pull_cursors WHERE scope = 'w002' "
			 "AND created_gte = 2000 AND created_lt IS NULL"), 1);
	/* the second window of the next batch cannot be opened: neither is */
	snprintf(w[0].scope, sizeof w[0].scope, "w003");
	snprintf(w[1].resource, sizeof w[1].resource, "nope");
	CHECK_INT(db_snapshot_group_submit_cursors(g, w, 2, "customers", &e), 0);
	CHECK_INT(db_snapshot_group_flush(g, &e), EXIT_SOFTWARE);
	CHECK_STR(e.msg, "customers: snapshot: unknown resource \"nope\"");
	CHECK_INT(scalar(other, "SELECT count(*) FROM stripe_pull_cursors WHERE scope = 'w003'"), 0);
	db_snapshot_group_free(g);
	db_close(other);
	db_close(db);
}

/*
 * The WAL stays bounded while a group writes: a checkpoint beside a busy
 * writer never copies all of it, and without the writer finishing one it
 * grew to the size of everything written.  200 pages of the 5 customers of
 * basic_customers.json, each given a new id and an 8 KB description, write
 * about 9 MB; the bound is 64 pages (1 MiB).
 */
static void test_group_wal_bounded(void)
{
	struct db *db = fresh_db("wal.db");
	struct db_snapshot_group *g = NULL;
	struct db_snapshot_cursor cc;
	struct err e = { 0 };
	char wal[160], pad[8193];
	json_t *page = load("basic_customers.json");
	struct stat sb;
	long long run = 0, max_wal = 0, n;
	int i;
	size_t k;

	CHECK(db != NULL && page != NULL);
	if (!db || !page) {
		json_decref(page);
		db_close(db);
		return;
	}
	memset(pad, 'x', sizeof pad - 1);
	pad[sizeof pad - 1] = '\0';
	snprintf(wal, sizeof wal, "%s-wal", path);
	CHECK_INT(db_snapshot_pull_begin(db, DB_SNAPSHOT_FULL, NULL, 0, &run, &e), 0);
	open_cursor(db, run, "customers", "", &cc);
	CHECK_INT(db_snapshot_group_new(db, &g, &e), 0);
	db_snapshot_group_set_wal_limit(g, 64);
	CHECK_INT(db_snapshot_group_start_writer(g, &e), 0);
	for (i = 0; i < 200; i++) {
		json_t *data = json_object_get(page, "data"), *o;
		struct stripe_page *p;
		char id[64];

		json_array_foreach(data, k, o) {
			snprintf(id, sizeof id, "cus_Wal%04d_%zu", i, k);
			json_object_set_new(o, "id", json_string(id));
			json_object_set_new(o, "description", json_string(pad));
		}
		p = page_of(page, STRIPE_CUSTOMER);
		CHECK(p != NULL);
		CHECK_INT(submit_on(g, &p, &cc, 3, "customers", &e), 0);
		if (i % 10 == 9) {
			CHECK_INT(db_snapshot_group_flush(g, &e), 0);
			if (stat(wal, &sb) == 0 && sb.st_size > max_wal)
				max_wal = sb.st_size;
		}
	}
	CHECK_INT(db_snapshot_group_flush(g, &e), 0);
	n = 200 * (long long)json_array_size(json_object_get(page, "data"));
	CHECK(n >= 800);
	CHECK_INT(scalar(db, "SELECT count(*) FROM stripe_customers"), n);
	CHECK(scalar(db, "SELECT sum(length(raw_json)) FROM stripe_customers") >= n * 8192);
	/* the limit plus the commits that found the checkpointer busy; never
	 * the ~9 MB written */
	CHECK(max_wal > 0);
	CHECK(max_wal < 4 * 64 * 16408);
	if (max_wal >= 4 * 64 * 16408)
		printf("  WAL grew to %lld bytes\n", max_wal);
	db_snapshot_group_free(g);
	json_decref(page);
	db_close(db);
}

/*
 * A bulk load's rollback journal: not taken while another connection has
 * the database open (WAL stays); otherwise kept until the group ends, and
 * a connection opened meanwhile, which cannot switch the database back to
 * WAL, reads the committed rows instead of failing; WAL again at the end,
 * no journal file left.  A bulk load with a commit pending is refused.
 */
static void test_group_bulk(void)
{
	struct db *db, *other = NULL, *reader = NULL;
	struct db_snapshot_group *g = NULL, *g2 = NULL;
	struct db_snapshot_cursor cc;
	struct stripe_page *cus;
	struct err e = { 0 };
	char journal[160];
	long long run = 0;
	int on = -1;

	if (!(db = writer_group("bulk.db", &other, &run, &g)))
		return;
	snprintf(journal, sizeof journal, "%s-journal", path);
	open_cursor(db, run, "customers", "", &cc);
	CHECK_INT(db_snapshot_group_bulk(g, &on, &e), 0);
	CHECK_INT(on, 0);
	CHECK_STR(scalar_text(db, "PRAGMA journal_mode"), "wal");
	db_close(other);
	CHECK_INT(db_snapshot_group_bulk(g, &on, &e), 0);
	CHECK_INT(on, 1);
	CHECK_STR(scalar_text(db, "PRAGMA journal_mode"), "truncate");
	CHECK_INT(scalar(db, "PRAGMA synchronous"), 2);
	/* without a writer thread the group's transaction stays open */
	cus = load_page("basic_customers.json", STRIPE_CUSTOMER);
	CHECK(cus != NULL);
	CHECK_INT(submit_on(g, &cus, &cc, 3, "customers", &e), 0);
	CHECK_INT((long long)db_snapshot_group_pending(g), 1);
	CHECK_INT(db_open(path, DB_OPEN_EXISTING, &reader, &e), 0);
	if (reader) {
		CHECK(strcmp(scalar_text(reader, "PRAGMA journal_mode"), "wal") != 0);
		CHECK_INT(scalar(reader, "PRAGMA synchronous"), 2);
		CHECK_INT(scalar(reader, "SELECT count(*) FROM stripe_customers"), 0);
		db_close(reader);
	}
	CHECK_INT(db_snapshot_group_flush(g, &e), 0);
	CHECK_INT(scalar(db, "SELECT count(*) FROM stripe_customers"), 5);
	CHECK(access(journal, F_OK) == 0);
	db_snapshot_group_free(g);
	CHECK_STR(scalar_text(db, "PRAGMA journal_mode"), "wal");
	CHECK_INT(scalar(db, "PRAGMA synchronous"), 1);
	CHECK(access(journal, F_OK) != 0);
	/* nothing may be pending */
	CHECK_INT(db_snapshot_group_new(db, &g2, &e), 0);
	cus = load_page("basic_customers.json", STRIPE_CUSTOMER);
	CHECK_INT(submit_on(g2, &cus, &cc, 3, "customers", &e), 0);
	CHECK_INT(db_snapshot_group_bulk(g2, &on, &e), EXIT_SOFTWARE);
	CHECK_INT(on, 0);
	db_snapshot_group_free(g2);
	CHECK_STR(scalar_text(db, "PRAGMA journal_mode"), "wal");
	CHECK_STR(scalar_text(db, "PRAGMA integrity_check"), "ok");
	db_close(db);
}

/*
 * A full relist records in stripe_pull_seen only the objects it met
 * unchanged; those it inserted or changed carry written_run, and neither
 * kind is tombstoned.
 */
static void test_relist_written_rows(void)
{
	struct db *db = fresh_db("r.db");
	json_t *v = load("basic_customers.json");
	struct stripe_page *old = NULL, *listed = NULL;
	struct db_snapshot_commit c = { 0 };
	struct db_snapshot_counts n = { 0 };
	struct db_snapshot_cursor cur;
	struct err e = { 0 };
	long long run = 0, marked = -1;

	CHECK(db && v);
	if (!db || !v)
		goto out;
	old = slice(v, 1, 5, 0, STRIPE_CUSTOMER);        /* 1..4 in the snapshot */
	listed = slice(v, 0, 3, 0, STRIPE_CUSTOMER);     /* 0 new, 1..2 unchanged, 3..4 gone */
	CHECK_INT(commit_plain(db, old, NULL, &n), 0);
	CHECK_INT(db_snapshot_pull_begin(db, DB_SNAPSHOT_FULL, NULL, 0, &run, &e), 0);
	open_cursor(db, run, "customers", "", &cur);
	c.page = listed;
	c.cursor = &cur;
	memset(&n, 0, sizeof n);
	CHECK_INT(db_snapshot_commit(db, &c, &n, &e), 0);
	CHECK_INT(n.inserted, 1);
	CHECK_INT(n.unchanged, 2);
	CHECK_INT(scalar(db, "SELECT count(*) FROM stripe_pull_seen"), 2);
	CHECK_INT(scalar(db, "SELECT count(*) FROM stripe_customers WHERE written_run = 1"), 1);
	CHECK_INT(db_snapshot_full_relist_finish(db, run, STRIPE_CUSTOMER, 1777680000, &marked, &e),
		  0);
	CHECK_INT(marked, 2);
	CHECK_INT(scalar(db, "SELECT count(*) FROM stripe_customers WHERE deleted_at IS NULL"), 3);
out:
	stripe_page_free(old);
	stripe_page_free(listed);
	json_decref(v);
	db_close(db);
}

/*
 * Deferred indexes: only on empty tables, the child table's with the
 * parent's, definitions kept and built again exactly; all at once with
 * STRIPE_NONE.
 */
/*
 * A window split while it is paged: the new cursor takes the lower part
 * from the top, the cursor keeps its position with its lower end raised;
 * refused outside a transaction, at the window's ends or outside it, for a
 * done cursor and for a scope that exists; an open lower end is inherited.
 */
static void test_cursor_split(void)
{
	struct db *db = fresh_db("split.db");
	struct db_snapshot_cursor w0, w1, top, got;
	struct err e = { 0 };
	long long run = 0;

	CHECK(db != NULL);
	if (!db)
		return;
	CHECK_INT(db_snapshot_pull_begin(db, DB_SNAPSHOT_FULL, "customers", 0, &run, &e), 0);
	memset(&w1, 0, sizeof w1);
	w1.pull_run_id = run;
	snprintf(w1.resource, sizeof w1.resource, "customers");
	snprintf(w1.scope, sizeof w1.scope, "w001");
	w1.has_gte = w1.has_lt = 1;
	w1.created_gte = 1000;
	w1.created_lt = 2000;
	CHECK_INT(db_snapshot_cursor_open(db, &w1, &e), 0);
	open_cursor(db, run, "customers", "w000", &w0);   /* open at both ends */
	CHECK_INT(db_exec(db, "UPDATE stripe_pull_cursors SET starting_after = 'cus_B', pages = 3, "
			  "objects = 30 WHERE scope = 'w001'", &e), 0);

	CHECK_INT(db_snapshot_cursor_split(db, &w1, "w002", 1500, &e), EXIT_SOFTWARE);
	CHECK_CONTAINS(e.msg, "outside a transaction");
	CHECK_INT(db_tx_begin(db, &e), 0);
	CHECK_INT(db_snapshot_cursor_split(db, &w1, "w002", 1000, &e), EXIT_SOFTWARE);
	CHECK_STR(e.msg, "snapshot: cannot split cursor customers/w001 of pull run 1 at 1000 "
		  "into w002");
	CHECK_INT(db_snapshot_cursor_split(db, &w1, "w002", 2000, &e), EXIT_SOFTWARE);
	CHECK_INT(db_snapshot_cursor_split(db, &w1, "w002", 2500, &e), EXIT_SOFTWARE);
	CHECK_INT(db_snapshot_cursor_split(db, &w1, "w000", 1500, &e), EXIT_SOFTWARE);
	CHECK_INT(db_snapshot_cursor_split(db, &w1, "w002", 1500, &e), 0);
	CHECK_INT(db_snapshot_cursor_split(db, &w0, "w003", 500, &e), 0);
	CHECK_INT(db_tx_commit(db, &e), 0);

	memset(&got, 0, sizeof got);
	got.pull_run_id = run;
	snprintf(got.resource, sizeof got.resource, "customers");
	snprintf(got.scope, sizeof got.scope, "w002");
	CHECK_INT(db_snapshot_cursor_open(db, &got, &e), 0);
	CHECK(got.has_gte && got.created_gte == 1000 && got.has_lt && got.created_lt == 1500);
	CHECK(got.starting_after[0] == '\0' && got.pages == 0 && !got.done);
	top = w1;
	CHECK_INT(db_snapshot_cursor_open(db, &top, &e), 0);
	CHECK(top.has_gte && top.created_gte == 1500 && top.has_lt && top.created_lt == 2000);
	CHECK_STR(top.starting_after, "cus_B");
	CHECK_INT(top.pages, 3);
	CHECK_INT(scalar(db, "SELECT count(*) FROM stripe_pull_cursors WHERE scope = 'w003' AND "
			 "created_gte IS NULL AND created_lt = 500"), 1);
	CHECK_INT(scalar(db, "SELECT count(*) FROM stripe_pull_cursors WHERE scope = 'w000' AND "
			 "created_gte = 500 AND created_lt IS NULL"), 1);
	/* a done cursor is not split */
	CHECK_INT(db_exec(db, "UPDATE stripe_pull_cursors SET done = 1 WHERE scope = 'w001'", &e),
		  0);
	CHECK_INT(db_tx_begin(db, &e), 0);
	CHECK_INT(db_snapshot_cursor_split(db, &w1, "w004", 1700, &e), EXIT_SOFTWARE);
	db_tx_rollback(db);
	db_close(db);
}

/*
 * Migration 008 drops the indexes no query reads, also from the deferred
 * indexes of a version-7 pull that was interrupted before its relist
 * ended (else that relist's end would build them again); the deferred
 * indexes it keeps are still there.
 */
static void test_migration_unused_indexes(void)
{
	const char *gone = "'stripe_customers_tenant', 'stripe_customers_user', "
			   "'stripe_prices_product', 'stripe_prices_lookup_key', "
			   "'stripe_subscriptions_customer', 'stripe_subscriptions_tenant', "
			   "'stripe_subscriptions_user', 'stripe_subscription_items_price', "
			   "'stripe_subscription_items_lookup_key', "
			   "'stripe_checkout_sessions_customer', 'stripe_checkout_sessions_client_ref', "
			   "'stripe_checkout_sessions_tenant', 'stripe_checkout_sessions_user', "
			   "'stripe_checkout_line_items_price', 'stripe_refunds_charge', "
			   "'stripe_invoices_customer', 'stripe_invoices_subscription', "
			   "'stripe_invoice_lines_price', 'stripe_invoice_lines_subscription'";
	char q[1024];
	sqlite3 *h;
	struct db *db = NULL;
	struct err e = { 0 };

	/* what db_snapshot_defer_indexes leaves for the sessions' relist */
	h = old_version_db("v7.db", 7, "008_unused_indexes.sql",
			   "INSERT INTO stripe_deferred_indexes (name, tbl, sql) "
			   "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' "
			   "AND tbl_name = 'stripe_checkout_sessions' AND sql IS NOT NULL; "
			   "DROP INDEX stripe_checkout_sessions_customer; "
			   "DROP INDEX stripe_checkout_sessions_client_ref; "
			   "DROP INDEX stripe_checkout_sessions_subscription; "
			   "DROP INDEX stripe_checkout_sessions_payment_intent; "
			   "DROP INDEX stripe_checkout_sessions_tenant; "
			   "DROP INDEX stripe_checkout_sessions_user");
	if (!h)
		return;
	sqlite3_close(h);
	CHECK_INT(db_open(path, DB_OPEN_CREATE, &db, &e), 0);
	if (!db)
		return;
	CHECK_INT(scalar(db, "PRAGMA user_version"), db_latest_version());
	snprintf(q, sizeof q, "SELECT count(*) FROM sqlite_master WHERE name IN (%s)", gone);
	CHECK_INT(scalar(db, q), 0);
	CHECK_STR(scalar_text(db, "SELECT group_concat(name) FROM (SELECT name FROM "
			      "stripe_deferred_indexes ORDER BY name)"),
		  "stripe_checkout_sessions_payment_intent,stripe_checkout_sessions_subscription");
	/* the relist's end builds the two it kept, and only those */
	CHECK_INT(db_snapshot_restore_indexes(db, STRIPE_NONE, &e), 0);
	CHECK_INT(scalar(db, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND "
			     "tbl_name = 'stripe_checkout_sessions' AND sql IS NOT NULL"), 2);
	CHECK_INT(scalar(db, "SELECT count(*) FROM stripe_deferred_indexes"), 0);
	/* what is left: the six that reconcile, repair, the reports and the pull search */
	CHECK_STR(scalar_text(db, "SELECT group_concat(name) FROM (SELECT name FROM sqlite_master "
			      "WHERE type = 'index' AND sql IS NOT NULL AND tbl_name LIKE 'stripe%' "
			      "AND tbl_name NOT IN ('stripe_events', 'stripe_pull_runs') "
			      "ORDER BY name)"),
		  "stripe_checkout_sessions_payment_intent,stripe_checkout_sessions_subscription,"
		  "stripe_invoices_charge,stripe_invoices_payment_intent,"
		  "stripe_refunds_payment_intent,stripe_subscriptions_status");
	db_close(db);
}

static void test_deferred_indexes(void)
{
	struct db *db = fresh_db("d.db");
	struct stripe_page *ref = load_page("basic_refunds.json", STRIPE_REFUND);
	struct db_snapshot_counts n = { 0 };
	struct err e = { 0 };
	const char *all = "SELECT group_concat(name || ':' || sql, ';') FROM "
			  "(SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name)";
	char *before = NULL, *after = NULL;
	int deferred = -1;

	CHECK(db && ref);
	if (!db || !ref)
		goto out;
	before = strdup(scalar_text(db, all));
	CHECK_INT(db_snapshot_defer_indexes(db, STRIPE_SUBSCRIPTION, &deferred, &e), 0);
	CHECK_INT(deferred, 1);        /* stripe_subscriptions' status; its items have none */
	CHECK_INT(scalar(db, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND "
			     "tbl_name IN ('stripe_subscriptions', 'stripe_subscription_items') "
			     "AND sql IS NOT NULL"), 0);
	CHECK_INT(scalar(db, "SELECT count(*) FROM stripe_deferred_indexes"), 1);
	CHECK_INT(db_snapshot_defer_indexes(db, STRIPE_INVOICE, &deferred, &e), 0);
	CHECK_INT(deferred, 2);        /* stripe_invoices: charge, payment_intent */
	/* a table with rows keeps its indexes */
	CHECK_INT(commit_plain(db, ref, NULL, &n), 0);
	CHECK_INT(db_snapshot_defer_indexes(db, STRIPE_REFUND, &deferred, &e), 0);
	CHECK_INT(deferred, 0);
	CHECK_INT(scalar(db, "SELECT count(*) FROM sqlite_master WHERE name = "
			     "'stripe_refunds_payment_intent'"), 1);
	CHECK_INT(db_snapshot_defer_indexes(db, STRIPE_EVENT, &deferred, &e), EXIT_SOFTWARE);
	/* one resource's, then the rest */
	CHECK_INT(db_snapshot_restore_indexes(db, STRIPE_INVOICE, &e), 0);
	CHECK_INT(scalar(db, "SELECT count(*) FROM stripe_deferred_indexes"), 1);
	CHECK_INT(db_snapshot_restore_indexes(db, STRIPE_NONE, &e), 0);
	CHECK_INT(scalar(db, "SELECT count(*) FROM stripe_deferred_indexes"), 0);
	after = strdup(scalar_text(db, all));
	CHECK(before && after && strcmp(before, after) == 0);
	CHECK_INT(db_snapshot_restore_indexes(db, STRIPE_NONE, &e), 0);   /* nothing left */
	CHECK_STR(scalar_text(db, "PRAGMA integrity_check"), "ok");
out:
	free(before);
	free(after);
	stripe_page_free(ref);
	db_close(db);
}

int main(void)
{
	snprintf(dir, sizeof dir, "/tmp/trueup-snap-XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_page_and_cursor_commit);
	RUN(test_commit_is_atomic);
	RUN(test_commit_group);
	RUN(test_group_writer);
	RUN(test_group_cursors);
	RUN(test_group_wal_bounded);
	RUN(test_group_bulk);
	RUN(test_reapply_changes_nothing);
	RUN(test_children_follow_parent);
	RUN(test_line_items_completed);
	RUN(test_children_pages_complete);
	RUN(test_migration_child_cursors);
	RUN(test_migration_unused_indexes);
	RUN(test_tombstones);
	RUN(test_full_relist_tombstones);
	RUN(test_relist_written_rows);
	RUN(test_deferred_indexes);
	RUN(test_group_restore_in_turns);
	RUN(test_cursor_split);
	RUN(test_checksum_independent_of_paging);
	RUN(test_rows_each_lines);
	RUN(test_resume_equals_clean);
	RUN(test_unfinished_pull);
	RUN(test_events);
	{
		char cmd[160];

		snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			printf("  could not remove %s\n", dir);
	}
	return harness_done();
}
