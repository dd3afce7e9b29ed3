/*
 * test_pull.c - the pull orchestrator (pull.c) against the project's fake
 * Stripe, started here as child processes on port 0.
 *
 * Proves: a full pull equals the fake's data (counts from /_fake/health
 * and db_snapshot_checksum over ids and typed fields) whatever the page
 * size (dividing the totals or not) or window size, in both API shapes,
 * for generated and fixture data; every fault class alone and all mixed
 * at 20 % give the same snapshot; 401, Stripe-Should-Retry: false, 404 and
 * exhausted retries fail with the right exit code and leave the committed
 * snapshot as it was; an interrupted pull resumes to the same snapshot;
 * an incremental pull fetches only what changed and converges to a fresh
 * full pull of the changed account; an old events cursor falls back to a
 * full relist with a warning; a finished relist cannot be finished twice.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "db.h"
#include "db_snapshot.h"
#include "harness.h"
#include "pull.h"

#define KEY "sk_test_unitPullKey0123456789"

#include "fakeserver.h"


/* ---- pulls ---------------------------------------------------------------- */

static char tmpdir[128];
static int ndb;

static struct stripe_config make_cfg(const struct fake *fk, int retries)
{
	struct stripe_config sc;

	memset(&sc, 0, sizeof sc);
	sc.api_base = (char *)fk->base;
	sc.api_version = (char *)"2025-08-27.basil";
	sc.rate_global_per_sec = 10000;
	sc.rate_endpoint_per_sec = 10000;
	sc.connect_timeout_sec = 5;
	sc.request_timeout_sec = 10;
	sc.max_retries = retries;
	sc.concurrency = 8;
	return sc;
}

static struct db *new_db(void)
{
	char path[256];
	struct db *db = NULL;
	struct err e = { 0 };

	snprintf(path, sizeof path, "%s/p%d.db", tmpdir, ndb++);
	if (db_open(path, DB_OPEN_CREATE, &db, &e) != 0)
		printf("  db_open: %s\n", e.msg);
	CHECK(db != NULL);
	return db;
}

static char warnings[4096];

static void on_warn(void *ud, const char *line)
{
	size_t n = strlen(warnings);

	(void)ud;
	snprintf(warnings + n, sizeof warnings - n, "%s\n", line);
}

static volatile sig_atomic_t stop_flag;
static long long stop_after_pages;

static void on_progress(void *ud, const struct pull_result *r)
{
	(void)ud;
	if (stop_after_pages > 0 && r->total.pages >= stop_after_pages)
		stop_flag = 1;
}

struct pull_args {
	int page_size, window_days, full, retries;
	unsigned only;
	const char *key;
};

/* One pull of fk into db; the exit code; e and res filled. */
static int pull(struct db *db, const struct fake *fk, const struct pull_args *a,
		struct pull_result *res, struct err *e)
{
	struct stripe_config sc = make_cfg(fk, a && a->retries ? a->retries : 12);
	struct pull_opts o;
	int rc;

	memset(&o, 0, sizeof o);
	o.page_size = a ? a->page_size : 0;
	o.window_days = a ? a->window_days : 0;
	o.full = a ? a->full : 0;
	o.only = a ? a->only : 0;
	o.client.backoff_base_ms = 2;
	o.client.backoff_cap_ms = 20;
	o.client.seed = 77;
	o.warn = on_warn;
	o.progress = on_progress;
	o.progress_ms = 1;
	o.stop = &stop_flag;
	stop_flag = 0;
	err_clear(e);
	rc = pull_run(db, &sc, a && a->key ? a->key : KEY, &o, res, e);
	CHECK(strstr(e->msg, KEY) == NULL);
	return rc;
}

/*
 * Pull fk into db, stopped (as by SIGTERM) after `first` pages, then
 * first + step, ... until a pull ends: every stop exits 75 and the next
 * pull resumes.  The interrupted pulls (at most 40; the last exit code in
 * *rc), which the caller wants to be several.
 */
static int pull_interrupted(struct db *db, const struct fake *fk, const struct pull_args *a,
			    long long first, long long step, int *rc)
{
	struct db_snapshot_pull_info info;
	struct pull_result res;
	struct err e;
	long long at;
	int rounds = 0, found;

	for (at = first;; at += step) {
		stop_after_pages = at;
		*rc = pull(db, fk, a, &res, &e);
		stop_after_pages = 0;
		if (*rc == 0)
			break;
		CHECK_INT(*rc, EXIT_TEMPFAIL);
		CHECK_CONTAINS(e.msg, "interrupted; run 'trueup pull' again to resume");
		CHECK_INT(db_snapshot_pull_last(db, &info, &found, &e), 0);
		CHECK_STR(info.status, "running");
		CHECK_INT(db_snapshot_require_finished(db, &e), EXIT_TEMPFAIL);
		if (++rounds > 40)
			break;
	}
	return rounds;
}

/* Checksums of every resource: sums[i] for pull_kinds[i]. */
struct sums {
	char s[PULL_NKINDS][DB_SNAPSHOT_CHECKSUM_LEN];
	long long rows[PULL_NKINDS];
};

static void sums_of(struct db *db, int include_deleted, struct sums *out)
{
	struct err e = { 0 };
	int i;

	memset(out, 0, sizeof *out);
	for (i = 0; i < PULL_NKINDS; i++)
		CHECK_INT(db_snapshot_checksum(db, pull_kinds[i], include_deleted, out->s[i],
					       &out->rows[i], &e), 0);
}

/* Equal checksums, resource by resource (skip: a mask of kinds not compared). */
static int sums_equal(const struct sums *a, const struct sums *b, unsigned skip)
{
	int i, same = 1;

	for (i = 0; i < PULL_NKINDS; i++) {
		if (skip & PULL_KIND_BIT(pull_kinds[i]))
			continue;
		if (strcmp(a->s[i], b->s[i]) != 0 || a->rows[i] != b->rows[i]) {
			printf("  %s differs: %lld rows %.12s vs %lld rows %.12s\n",
			       stripe_kind_resource(pull_kinds[i]), a->rows[i], a->s[i], b->rows[i],
			       b->s[i]);
			same = 0;
		}
	}
	return same;
}

/* The fake's /_fake/health counts equal the snapshot's live rows. */
static void check_counts(const struct fake *fk, const struct sums *s, long long deleted_customers)
{
	static const char *const keys[PULL_NKINDS] = {
		"customers", "products", "prices", "subscriptions", "checkout/sessions", "refunds",
		"invoices"
	};
	json_t *h = fake_ctl(fk, "/_fake/health", NULL), *counts;
	int i;

	CHECK(h != NULL);
	counts = json_object_get(h, "counts");
	for (i = 0; i < PULL_NKINDS; i++) {
		long long want = json_integer_value(json_object_get(counts, keys[i]));

		if (pull_kinds[i] == STRIPE_CUSTOMER)
			want -= deleted_customers;
		if (want != s->rows[i])
			printf("  %s: fake has %lld, snapshot %lld\n", keys[i], want, s->rows[i]);
		CHECK_INT(s->rows[i], want);
	}
	json_decref(h);
}

/*
 * The fake's children (/_fake/children: whole lists, not the first 10 an
 * object embeds) equal the snapshot's child rows.
 */
static void check_children(const struct fake *fk, struct db *db)
{
	static const char *const tables[][2] = {
		{ "subscription_items", "SELECT count(*) FROM stripe_subscription_items" },
		{ "invoice_lines", "SELECT count(*) FROM stripe_invoice_lines" },
		{ "checkout_line_items", "SELECT count(*) FROM stripe_checkout_line_items" },
	};
	json_t *h = fake_ctl(fk, "/_fake/children", NULL);
	size_t i;

	CHECK(h != NULL);
	for (i = 0; h && i < sizeof tables / sizeof tables[0]; i++) {
		long long want = json_integer_value(json_object_get(h, tables[i][0]));
		sqlite3_stmt *st;
		struct err e = { 0 };
		long long have = -1;

		if (db_prepare(db, tables[i][1], &st, &e) == 0) {
			if (sqlite3_step(st) == SQLITE_ROW)
				have = sqlite3_column_int64(st, 0);
			sqlite3_finalize(st);
		}
		if (want != have)
			printf("  %s: fake has %lld, snapshot %lld\n", tables[i][0], want, have);
		CHECK_INT(have, want);
	}
	json_decref(h);
}

static long long count_sql(struct db *db, const char *sql);

static struct fake G;        /* --generate 2000 --seed 5, shape 2026: faults set per test */
static struct sums clean;    /* its fault-free snapshot */
static int have_clean;

static void test_parse_resources(void)
{
	struct err e = { 0 };
	unsigned m = 0;

	CHECK_INT(pull_parse_resources("customers,checkout_sessions", &m, &e), 0);
	CHECK_INT(m, PULL_KIND_BIT(STRIPE_CUSTOMER) | PULL_KIND_BIT(STRIPE_CHECKOUT_SESSION));
	CHECK_INT(pull_parse_resources("customers,charges", &m, &e), EXIT_USAGE);
	CHECK_CONTAINS(e.msg, "\"charges\"");
	CHECK_INT(pull_parse_resources("customers,,prices", &m, &e), EXIT_USAGE);
	CHECK_INT(pull_parse_resources("", &m, &e), EXIT_USAGE);
}

static void test_full_pull_equals_fake(void)
{
	struct pull_result res;
	struct err e;
	struct db *db = new_db();
	struct db_snapshot_pull_info info;
	int found;

	if (!db)
		return;
	fake_faults(&G, "{\"clear\":true}");
	CHECK_INT(pull(db, &G, NULL, &res, &e), 0);
	CHECK(res.did_full);
	CHECK(res.did_incremental);
	sums_of(db, 1, &clean);
	have_clean = 1;
	check_counts(&G, &clean, 0);
	check_children(&G, db);
	CHECK(clean.rows[3] > 0);
	CHECK_INT(db_snapshot_require_finished(db, &e), 0);
	CHECK_INT(db_snapshot_pull_last(db, &info, &found, &e), 0);
	CHECK_STR(info.status, "ok");
	/* canceled subscriptions are there (status=all) */
	{
		sqlite3_stmt *st;
		CHECK_INT(db_prepare(db, "SELECT count(*) FROM stripe_subscriptions WHERE "
				     "status = 'canceled'", &st, &e), 0);
		CHECK(sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) > 0);
		sqlite3_finalize(st);
		CHECK_INT(db_prepare(db, "SELECT count(*) FROM stripe_checkout_sessions s WHERE "
				     "line_items_has_more = 1 AND (SELECT count(*) FROM "
				     "stripe_checkout_line_items l WHERE l.session_id = s.id) <= 10",
				     &st, &e), 0);
		CHECK(sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 0);
		sqlite3_finalize(st);
		/* the generated big subscriptions and invoices: every child fetched */
		CHECK(count_sql(db, "SELECT count(*) FROM stripe_subscriptions WHERE "
				"items_has_more = 1") >= 2);
		CHECK(count_sql(db, "SELECT count(*) FROM stripe_invoices WHERE "
				"lines_has_more = 1") >= 2);
		CHECK_INT(count_sql(db, "SELECT count(*) FROM stripe_subscriptions s WHERE "
				    "items_has_more = 1 AND (SELECT count(*) FROM "
				    "stripe_subscription_items i WHERE i.subscription_id = s.id) "
				    "<= 10"), 0);
		CHECK_INT(count_sql(db, "SELECT count(*) FROM stripe_invoices v WHERE "
				    "lines_has_more = 1 AND (SELECT count(*) FROM "
				    "stripe_invoice_lines l WHERE l.invoice_id = v.id) <= 10"), 0);
	}
	db_close(db);
}

static void test_page_and_window_sizes(void)
{
	static const int sizes[][2] = { { 7, 0 }, { 33, 0 }, { 100, 30 }, { 13, 200 } };
	struct pull_result res;
	struct sums s;
	struct err e;
	size_t i;

	fake_faults(&G, "{\"clear\":true}");
	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		struct pull_args a = { sizes[i][0], sizes[i][1], 0, 0, 0, NULL };
		struct db *db = new_db();

		if (!db)
			return;
		CHECK_INT(pull(db, &G, &a, &res, &e), 0);
		sums_of(db, 1, &s);
		CHECK(sums_equal(&s, &clean, 0));
		db_close(db);
	}
}

static void test_shapes_give_same_typed_values(void)
{
	static const char *const args[] = { "--generate", "2000", "--seed", "5", "--shape",
					     "2023", NULL };
	struct fake old;
	struct pull_result res;
	struct sums s;
	struct err e;
	struct db *db;

	if (fake_start(&old, args) != 0 || !(db = new_db())) {
		CHECK(0);
		return;
	}
	CHECK_INT(pull(db, &old, NULL, &res, &e), 0);
	sums_of(db, 1, &s);
	/*
	 * Fields that differ by version in Stripe itself, not in how trueup reads
	 * them: 2023 invoices carry charge/payment_intent/paid that 2026 ones
	 * lack, and 2023 refunds have no customer.  Those two: same rows only.
	 */
	CHECK(sums_equal(&s, &clean, PULL_KIND_BIT(STRIPE_INVOICE) | PULL_KIND_BIT(STRIPE_REFUND)));
	CHECK_INT(s.rows[5], clean.rows[5]);
	CHECK_INT(s.rows[6], clean.rows[6]);
	db_close(db);
	fake_stop(&old);
}

static void test_fixture_data(void)
{
	static const char *const args[] = { "--data", "fixtures/stripe/basic", "--now",
					    "1777680000", NULL };
	struct pull_args small = { 2, 0, 0, 0, 0, NULL };
	struct fake fx;
	struct pull_result res;
	struct sums a, b;
	struct err e;
	struct db *d1, *d2;

	if (fake_start(&fx, args) != 0 || !(d1 = new_db()) || !(d2 = new_db())) {
		CHECK(0);
		return;
	}
	CHECK_INT(pull(d1, &fx, NULL, &res, &e), 0);
	CHECK_INT(pull(d2, &fx, &small, &res, &e), 0);
	sums_of(d1, 1, &a);
	sums_of(d2, 1, &b);
	CHECK(sums_equal(&a, &b, 0));
	check_counts(&fx, &a, 0);
	db_close(d1);
	db_close(d2);
	fake_stop(&fx);
}

/* A fault rule set on G: the pull still gives the clean snapshot. */
static void fault_case(const char *rules)
{
	struct pull_result res;
	struct sums s;
	struct err e;
	struct db *db = new_db();
	char json[512];

	if (!db || !have_clean)
		return;
	snprintf(json, sizeof json, "{\"clear\":true,\"seed\":3,\"faults\":[%s]}", rules);
	fake_faults(&G, json);
	if (pull(db, &G, NULL, &res, &e) != 0)
		printf("  %s: %s\n", rules, e.msg);
	CHECK_INT(e.code, 0);
	CHECK(res.total.retries > 0);
	sums_of(db, 1, &s);
	CHECK(sums_equal(&s, &clean, 0));
	fake_faults(&G, "{\"clear\":true}");
	db_close(db);
}

static void test_fault_429(void) { fault_case("{\"kind\":\"429\",\"p\":0.2}"); }
static void test_fault_lock_timeout(void) { fault_case("{\"kind\":\"lock_timeout\",\"p\":0.2}"); }
static void test_fault_500(void) { fault_case("{\"kind\":\"500\",\"p\":0.2}"); }
static void test_fault_503(void) { fault_case("{\"kind\":\"503\",\"p\":0.2}"); }
static void test_fault_reset(void) { fault_case("{\"kind\":\"reset\",\"p\":0.2}"); }
static void test_fault_truncate(void) { fault_case("{\"kind\":\"truncate\",\"p\":0.2}"); }
static void test_fault_badjson(void) { fault_case("{\"kind\":\"badjson\",\"p\":0.2}"); }

static void test_faults_mixed(void)
{
	/* seven rules tried in order, about 20 % of requests in all */
	fault_case("{\"kind\":\"429\",\"p\":0.03},{\"kind\":\"lock_timeout\",\"p\":0.03},"
		   "{\"kind\":\"500\",\"p\":0.03},{\"kind\":\"503\",\"p\":0.03},"
		   "{\"kind\":\"reset\",\"p\":0.035},{\"kind\":\"truncate\",\"p\":0.035},"
		   "{\"kind\":\"badjson\",\"p\":0.035}");
}

/* A failing pull on a db holding the clean snapshot: code, message, snapshot untouched. */
static void failing_case(const char *rules, const struct pull_args *a, int want,
			 const char *msg_part)
{
	struct pull_result res;
	struct sums before, after;
	struct err e;
	struct db_snapshot_pull_info info;
	struct pull_args full = { 0, 0, 1, 0, 0, NULL };
	struct db *db = new_db();
	char json[512];
	int found;

	if (!db)
		return;
	fake_faults(&G, "{\"clear\":true}");
	CHECK_INT(pull(db, &G, NULL, &res, &e), 0);
	sums_of(db, 1, &before);
	snprintf(json, sizeof json, "{\"clear\":true,\"faults\":[%s]}", rules);
	fake_faults(&G, json);
	if (!a)
		a = &full;
	CHECK_INT(pull(db, &G, a, &res, &e), want);
	CHECK_CONTAINS(e.msg, msg_part);
	CHECK(strstr(e.msg, KEY) == NULL);
	sums_of(db, 1, &after);
	CHECK(sums_equal(&before, &after, 0));
	CHECK_INT(db_snapshot_pull_last(db, &info, &found, &e), 0);
	CHECK_STR(info.status, "failed");
	CHECK_INT(db_snapshot_require_finished(db, &e), EXIT_TEMPFAIL);
	fake_faults(&G, "{\"clear\":true}");
	db_close(db);
}

static void test_wrong_key_401(void)
{
	struct pull_args a = { 0, 0, 1, 0, 0, "sk_test_wrongKey0123456789" };

	failing_case("", &a, EXIT_NOPERM, "(request req_");
}

static void test_should_retry_false_unavailable(void)
{
	failing_case("{\"kind\":\"503\",\"p\":1,\"path\":\"/v1/prices\",\"retry\":false}", NULL,
		     EXIT_UNAVAILABLE, "prices: ");
}

static void test_retries_exhausted(void)
{
	struct pull_args a = { 0, 0, 1, 2, 0, NULL };

	failing_case("{\"kind\":\"500\",\"p\":1,\"path\":\"/v1/invoices\"}", &a, EXIT_TEMPFAIL,
		     "invoices: ");
}

/*
 * An event about an object Stripe does not have, whose snapshot is not
 * enough (an invoice without its lines, dated after the relist so it is
 * not superseded): the retrieve's 404 fails the pull, the snapshot as it
 * was.
 */
static void test_retrieve_404(void)
{
	static const char page[] =
		"{\"object\":\"list\",\"has_more\":false,\"data\":[{\"id\":\"evt_gone1\","
		"\"object\":\"event\",\"type\":\"invoice.updated\","
		"\"created\":4000000000,\"livemode\":false,\"api_version\":\"2025-08-27.basil\","
		"\"data\":{\"object\":{\"id\":\"in_doesNotExist\",\"object\":\"invoice\","
		"\"created\":1,\"livemode\":false,\"status\":\"open\",\"customer\":\"cus_x\","
		"\"currency\":\"usd\",\"amount_due\":100,\"amount_paid\":0,\"total\":100,"
		"\"metadata\":{}}}}]}";
	struct pull_result res;
	struct stripe_page *pg = NULL;
	struct db_snapshot_commit cm;
	struct sums before, after;
	struct err e;
	struct db *db = new_db();

	if (!db)
		return;
	fake_faults(&G, "{\"clear\":true}");
	CHECK_INT(pull(db, &G, NULL, &res, &e), 0);
	sums_of(db, 1, &before);
	CHECK_INT(stripe_rows_parse_page(page, sizeof page - 1, STRIPE_EVENT, &pg, &e), 0);
	memset(&cm, 0, sizeof cm);
	cm.page = pg;
	CHECK_INT(db_snapshot_commit(db, &cm, NULL, &e), 0);
	stripe_page_free(pg);
	CHECK_INT(pull(db, &G, NULL, &res, &e), EXIT_DATAERR);
	CHECK_CONTAINS(e.msg, "invoices: GET /v1/invoices/in_doesNotExist: 404");
	sums_of(db, 1, &after);
	CHECK(sums_equal(&before, &after, 0));
	db_close(db);
}

static long routes(const struct fake *fk, int retrieves, long *events);

/* Commit one event about customer id (created, email) as an events page. */
static void put_customer_event(struct db *db, const char *evt, long long created,
			       const char *id, const char *email)
{
	char page[1024];
	struct stripe_page *pg = NULL;
	struct db_snapshot_commit cm;
	struct err e = { 0 };
	int n;

	n = snprintf(page, sizeof page, "{\"object\":\"list\",\"has_more\":false,\"data\":[{"
		     "\"id\":\"%s\",\"object\":\"event\",\"type\":\"customer.updated\","
		     "\"created\":%lld,\"livemode\":false,\"api_version\":\"2025-08-27.basil\","
		     "\"data\":{\"object\":{\"id\":\"%s\",\"object\":\"customer\","
		     "\"created\":1,\"livemode\":false,\"email\":\"%s\",\"metadata\":{}}}}]}",
		     evt, created, id, email);
	CHECK(n > 0 && (size_t)n < sizeof page);
	CHECK_INT(stripe_rows_parse_page(page, (size_t)n, STRIPE_EVENT, &pg, &e), 0);
	memset(&cm, 0, sizeof cm);
	cm.page = pg;
	CHECK_INT(db_snapshot_commit(db, &cm, NULL, &e), 0);
	stripe_page_free(pg);
}

/* The email of customer id in the snapshot, into buf ("" when none). */
static void customer_email(struct db *db, const char *id, char *buf, size_t sz)
{
	sqlite3_stmt *st;
	struct err e = { 0 };

	buf[0] = '\0';
	if (db_prepare(db, "SELECT email FROM stripe_customers WHERE id = ?1", &st, &e) != 0)
		return;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(buf, sz, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
}

/*
 * Event snapshots are applied newest first and never over a newer state:
 * of two pending events the newest wins whatever order they were stored
 * in; an event stored later but older than one applied is only marked;
 * an event older than the last full relist is superseded by it.  None of
 * it costs a request but the events pages.
 */
static void test_event_order(void)
{
	struct pull_result res;
	struct err e;
	struct db *db = new_db();
	char a[DB_SNAPSHOT_ID_MAX], b[DB_SNAPSHOT_ID_MAX], email[128];
	sqlite3_stmt *st;
	long events;

	if (!db)
		return;
	fake_faults(&G, "{\"clear\":true}");
	CHECK_INT(pull(db, &G, NULL, &res, &e), 0);
	a[0] = b[0] = '\0';
	CHECK_INT(db_prepare(db, "SELECT id FROM stripe_customers ORDER BY id LIMIT 2", &st, &e), 0);
	if (sqlite3_step(st) == SQLITE_ROW)
		snprintf(a, sizeof a, "%s", (const char *)sqlite3_column_text(st, 0));
	if (sqlite3_step(st) == SQLITE_ROW)
		snprintf(b, sizeof b, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	CHECK(a[0] && b[0]);
	/* newest stored first, then an older one: the newest wins */
	put_customer_event(db, "evt_ord2", 4000000010LL, a, "new@example.test");
	put_customer_event(db, "evt_ord1", 4000000000LL, a, "old@example.test");
	/* older than the relist: superseded */
	put_customer_event(db, "evt_ord0", 1000, b, "ancient@example.test");
	fake_faults(&G, "{\"clear\":true}");
	CHECK_INT(pull(db, &G, NULL, &res, &e), 0);
	CHECK(res.did_incremental && !res.did_full);
	customer_email(db, a, email, sizeof email);
	CHECK_STR(email, "new@example.test");
	customer_email(db, b, email, sizeof email);
	CHECK(strcmp(email, "ancient@example.test") != 0);
	CHECK_INT(res.res[STRIPE_CUSTOMER].applied, 1);
	CHECK_INT(routes(&G, 1, &events), 0);
	CHECK_INT(routes(&G, 0, &events), 0);
	/* stored after the newest was applied, but older: only marked */
	put_customer_event(db, "evt_ord1b", 4000000005LL, a, "stale@example.test");
	CHECK_INT(pull(db, &G, NULL, &res, &e), 0);
	customer_email(db, a, email, sizeof email);
	CHECK_STR(email, "new@example.test");
	CHECK_INT(res.res[STRIPE_CUSTOMER].applied, 0);
	CHECK_INT(count_sql(db, "SELECT count(*) FROM stripe_events WHERE processed = 0"), 0);
	db_close(db);
}

static void test_interrupt_and_resume(void)
{
	struct pull_args a = { 20, 0, 0, 0, 0, NULL };
	struct sums s;
	struct err e;
	struct db *db = new_db();
	int rc;

	if (!db)
		return;
	fake_faults(&G, "{\"clear\":true}");
	CHECK(pull_interrupted(db, &G, &a, 5, 17, &rc) >= 2);
	CHECK_INT(rc, 0);
	CHECK_INT(db_snapshot_require_finished(db, &e), 0);
	sums_of(db, 1, &s);
	CHECK(sums_equal(&s, &clean, 0));
	db_close(db);
}

/* Sum of by_path counters whose route matches: lists (no {id}) or retrieves. */
static long routes(const struct fake *fk, int retrieves, long *events)
{
	json_t *j = fake_ctl(fk, "/_fake/stats", NULL), *bp, *v;
	const char *k;
	long n = 0;

	*events = 0;
	if (!j)
		return -1;
	bp = json_object_get(j, "by_path");
	json_object_foreach(bp, k, v) {
		int is_events = strcmp(k, "GET /v1/events") == 0;
		size_t kl = strlen(k);
		int is_get = kl > 4 && strcmp(k + kl - 4, "{id}") == 0;

		if (is_events)
			*events += (long)json_integer_value(v);
		else if (retrieves ? is_get : !is_get && strncmp(k, "GET /v1/", 8) == 0)
			n += (long)json_integer_value(v);
	}
	json_decref(j);
	return n;
}

/* The first id a query gives, into buf ("" when none). */
static void first_id(struct db *db, const char *sql, char *buf, size_t sz)
{
	sqlite3_stmt *st;
	struct err e = { 0 };

	buf[0] = '\0';
	if (db_prepare(db, sql, &st, &e) != 0)
		return;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(buf, sz, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
}

/* Requests the fake counted on one route ("GET /v1/checkout/sessions"). */
static long route(const struct fake *fk, const char *key)
{
	json_t *j = fake_ctl(fk, "/_fake/stats", NULL);
	long n;

	if (!j)
		return -1;
	n = (long)json_integer_value(json_object_get(json_object_get(j, "by_path"), key));
	json_decref(j);
	return n;
}

/* Rows of one SQL count over db (-1 on error). */
static long long count_sql(struct db *db, const char *sql)
{
	sqlite3_stmt *st;
	struct err e = { 0 };
	long long n = -1;

	if (db_prepare(db, sql, &st, &e) != 0)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/*
 * Incremental: the changed objects come from their newest events'
 * data.object, so the requests are exactly
 *   - the events pages (two streams),
 *   - no retrieve but the re-checks (the fake's subscriptions have at most
 *     3 items, so every event holds them all; invoices hold their lines),
 *   - one list page of checkout sessions when sessions were added (the
 *     "since" window: the added sessions, with their line items; the fake
 *     dates added objects now, after every generated one, and 40
 *     mutations add fewer than 100 sessions), and
 *   - one line_items page per added session with more line items than
 *     the expanded list holds (line_items_has_more = 1 in the snapshot),
 *   - one subscription_items page per changed subscription, and one lines
 *     page per changed invoice, with more than the event embeds (a big
 *     subscription and a big invoice are changed on purpose: the fake's
 *     update of a subscription changes its last item, beyond the first 10).
 * Sessions that only changed keep the line items the snapshot has.
 */
static void test_incremental(void)
{
	static const char *const args[] = { "--generate", "2000", "--seed", "9", NULL };
	struct fake m;
	struct pull_result res;
	struct sums a, b;
	struct err e;
	struct db *d1, *d2;
	json_t *mut, *list, *it, *ids;
	size_t i;
	long events, changed = 0, lists, gets, sessions_added = 0, windows, li_pages;
	long sub_pages, line_pages;
	long long li_more, sub_more, line_more, applied = 0;
	char sql[8192], big_sub[DB_SNAPSHOT_ID_MAX], big_inv[DB_SNAPSHOT_ID_MAX], body[512];
	char in_changed[4096];
	json_t *one;
	size_t len, clen;

	if (fake_start(&m, args) != 0 || !(d1 = new_db()) || !(d2 = new_db())) {
		CHECK(0);
		return;
	}
	CHECK_INT(pull(d1, &m, NULL, &res, &e), 0);
	first_id(d1, "SELECT id FROM stripe_subscriptions WHERE items_has_more = 1 ORDER BY id",
		 big_sub, sizeof big_sub);
	first_id(d1, "SELECT id FROM stripe_invoices WHERE lines_has_more = 1 ORDER BY id",
		 big_inv, sizeof big_inv);
	CHECK(big_sub[0] && big_inv[0]);
	mut = fake_ctl(&m, "/_fake/mutate", "{\"count\":40,\"seed\":4}");
	CHECK(mut != NULL);
	list = json_object_get(mut, "mutations");
	snprintf(body, sizeof body, "{\"resource\":\"subscriptions\",\"action\":\"update\","
		 "\"id\":\"%s\"}", big_sub);
	one = fake_ctl(&m, "/_fake/mutate", body);
	CHECK(one != NULL);
	json_array_extend(list, json_object_get(one, "mutations"));
	json_decref(one);
	snprintf(body, sizeof body, "{\"resource\":\"invoices\",\"action\":\"pay\","
		 "\"id\":\"%s\"}", big_inv);
	one = fake_ctl(&m, "/_fake/mutate", body);
	CHECK(one != NULL);
	json_array_extend(list, json_object_get(one, "mutations"));
	json_decref(one);
	/* objects with a change that is not a deletion; the sessions added */
	ids = json_object();
	clen = (size_t)snprintf(in_changed, sizeof in_changed, "id IN (''");
	len = (size_t)snprintf(sql, sizeof sql, "SELECT count(*) FROM stripe_checkout_sessions "
			       "WHERE line_items_has_more = 1 AND id IN (''");
	json_array_foreach(list, i, it) {
		const char *act = json_string_value(json_object_get(it, "action"));
		const char *id = json_string_value(json_object_get(it, "id"));

		if (strcmp(act, "delete") != 0) {
			json_object_set_new(ids, id, json_true());
			if (clen < sizeof in_changed)
				clen += (size_t)snprintf(in_changed + clen, sizeof in_changed - clen,
							 ",'%s'", id);
		}
		if (strcmp(act, "add") == 0 && strncmp(id, "cs_", 3) == 0) {
			sessions_added++;
			if (len < sizeof sql)
				len += (size_t)snprintf(sql + len, sizeof sql - len, ",'%s'", id);
		}
	}
	if (len < sizeof sql)
		len += (size_t)snprintf(sql + len, sizeof sql - len, ")");
	CHECK(len < sizeof sql);
	if (clen < sizeof in_changed)
		clen += (size_t)snprintf(in_changed + clen, sizeof in_changed - clen, ")");
	CHECK(clen < sizeof in_changed);
	changed = (long)json_object_size(ids);
	json_decref(ids);
	CHECK(changed > 20);
	CHECK(sessions_added > 0);
	fake_faults(&m, "{\"clear\":true}");   /* zero the counters */
	if (pull(d1, &m, NULL, &res, &e) != 0)
		printf("  incremental: %s\n", e.msg);
	CHECK_INT(e.code, 0);
	CHECK(!res.did_full);
	CHECK(res.did_incremental);
	lists = routes(&m, 0, &events);
	gets = routes(&m, 1, &events);
	windows = route(&m, "GET /v1/checkout/sessions");
	li_pages = route(&m, "GET /v1/checkout/sessions/{id}/line_items");
	sub_pages = route(&m, "GET /v1/subscription_items");
	line_pages = route(&m, "GET /v1/invoices/{id}/lines");
	li_more = count_sql(d1, sql);
	snprintf(sql, sizeof sql, "SELECT count(*) FROM stripe_subscriptions WHERE "
		 "items_has_more = 1 AND %s", in_changed);
	sub_more = count_sql(d1, sql);
	snprintf(sql, sizeof sql, "SELECT count(*) FROM stripe_invoices WHERE "
		 "lines_has_more = 1 AND %s", in_changed);
	line_more = count_sql(d1, sql);
	CHECK(events >= 2);
	CHECK_INT(windows, 1);
	CHECK_INT(li_pages, li_more);
	CHECK(sub_more >= 1 && line_more >= 1);
	CHECK_INT(sub_pages, sub_more);
	CHECK_INT(line_pages, line_more);
	CHECK_INT(lists, windows + li_pages + sub_pages + line_pages);
	{
		long long rechecked = 0;
		int k;

		for (k = 0; k < PULL_NKINDS; k++) {
			rechecked += res.res[pull_kinds[k]].rechecked;
			applied += res.res[pull_kinds[k]].applied;
		}
		CHECK_INT(gets - rechecked, 0);
		/* every changed object but the added sessions came from its event */
		CHECK_INT(applied, changed - sessions_added);
	}
	CHECK(res.events_new >= changed);
	/* a fresh full pull of the changed account gives the same live snapshot */
	CHECK_INT(pull(d2, &m, NULL, &res, &e), 0);
	sums_of(d1, 0, &a);
	sums_of(d2, 0, &b);
	CHECK(sums_equal(&a, &b, 0));
	/* nothing changed: no list, no retrieve */
	fake_faults(&m, "{\"clear\":true}");
	CHECK_INT(pull(d1, &m, NULL, &res, &e), 0);
	CHECK_INT(routes(&m, 0, &events), 0);
	CHECK_INT(routes(&m, 1, &events), 0);
	/* an events cursor 30 days old: full relist, with a warning */
	warnings[0] = '\0';
	CHECK_INT(db_exec(d1, "UPDATE stripe_sync_state SET events_created = events_created - "
			  "30 * 86400 WHERE resource = 'events'", &e), 0);
	CHECK_INT(pull(d1, &m, NULL, &res, &e), 0);
	CHECK(res.did_full);
	CHECK_CONTAINS(warnings, "days old");
	sums_of(d1, 0, &a);
	CHECK(sums_equal(&a, &b, 0));
	json_decref(mut);
	db_close(d1);
	db_close(d2);
	fake_stop(&m);
}

/* --- children beyond the first 10 (fixtures/stripe/children) ------------------- */

#define KIDS "fixtures/stripe/children"

/* A snapshot of the fixture's objects written whole (every child embedded). */
static int kids_reference(struct sums *ref)
{
	static const struct { const char *file; enum stripe_kind kind; } files[] = {
		{ "customers.json", STRIPE_CUSTOMER }, { "products.json", STRIPE_PRODUCT },
		{ "prices.json", STRIPE_PRICE }, { "subscriptions.json", STRIPE_SUBSCRIPTION },
		{ "invoices.json", STRIPE_INVOICE },
	};
	struct db *db = new_db();
	size_t f, i;
	int ok = db != NULL;

	for (f = 0; ok && f < sizeof files / sizeof files[0]; f++) {
		char path[256];
		json_error_t je;
		json_t *arr, *o;

		snprintf(path, sizeof path, KIDS "/%s", files[f].file);
		if (!(arr = json_load_file(path, 0, &je))) {
			printf("  %s: %s\n", path, je.text);
			ok = 0;
			break;
		}
		json_array_foreach(arr, i, o) {
			char *text = json_dumps(o, JSON_COMPACT);
			struct stripe_page *pg = NULL;
			struct db_snapshot_commit cm;
			struct err e = { 0 };

			memset(&cm, 0, sizeof cm);
			if (!text || stripe_rows_parse_object(text, strlen(text), files[f].kind, &pg,
							      &e) != 0) {
				printf("  %s[%zu]: %s\n", path, i, e.msg);
				ok = 0;
			} else {
				cm.page = pg;
				if (db_snapshot_commit(db, &cm, NULL, &e) != 0) {
					printf("  %s[%zu]: %s\n", path, i, e.msg);
					ok = 0;
				}
			}
			stripe_page_free(pg);
			free(text);
		}
		json_decref(arr);
	}
	if (ok) {
		sums_of(db, 1, ref);
		CHECK_INT(count_sql(db, "SELECT count(*) FROM stripe_subscription_items"),
			  23 + 12 + 2);
		CHECK_INT(count_sql(db, "SELECT count(*) FROM stripe_invoice_lines"), 31 + 14 + 1);
	}
	if (db)
		db_close(db);
	CHECK(ok);
	return ok ? 0 : -1;
}

static long ceil_div(long a, long b)
{
	return (a + b - 1) / b;
}

/*
 * Subscriptions of 23 (2026 shape, items with periods of their own), 12
 * (2023 shape) and 2 items, invoices of 31 (2026), 14 (2023) and 1 lines,
 * served as stored: for page sizes that divide the lists (1, 23, 31) and
 * that do not (7, 100), the snapshot equals the fixture's objects written
 * whole, with one child page per page size of children of each parent
 * whose embedded list is incomplete; a second pull asks for nothing.
 */
static void test_children_beyond_ten(void)
{
	static const char *const args[] = { "--data", KIDS, "--shape", "asis", "--now",
					    "1777680000", NULL };
	static const int sizes[] = { 1, 7, 23, 31, 100 };
	struct fake fx;
	struct pull_result res;
	struct sums ref, s;
	struct err e;
	size_t i;
	long events;

	if (kids_reference(&ref) != 0 || fake_start(&fx, args) != 0) {
		CHECK(0);
		return;
	}
	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		struct pull_args a = { sizes[i], 0, 0, 0, 0, NULL };
		struct db *db = new_db();

		if (!db)
			break;
		fake_faults(&fx, "{\"clear\":true}");
		CHECK_INT(pull(db, &fx, &a, &res, &e), 0);
		sums_of(db, 1, &s);
		if (!sums_equal(&s, &ref, 0))
			printf("  page size %d\n", sizes[i]);
		CHECK(sums_equal(&s, &ref, 0));
		check_children(&fx, db);
		CHECK_INT(route(&fx, "GET /v1/subscription_items"),
			  ceil_div(23, sizes[i]) + ceil_div(12, sizes[i]));
		CHECK_INT(route(&fx, "GET /v1/invoices/{id}/lines"),
			  ceil_div(31, sizes[i]) + ceil_div(14, sizes[i]));
		CHECK_INT(count_sql(db, "SELECT count(*) FROM stripe_pull_seen"), 0);
		/* nothing changed: the next pull is incremental and lists nothing */
		fake_faults(&fx, "{\"clear\":true}");
		CHECK_INT(pull(db, &fx, &a, &res, &e), 0);
		CHECK(res.did_incremental && !res.did_full);
		CHECK_INT(routes(&fx, 0, &events), 0);
		db_close(db);
	}
	fake_stop(&fx);
}

/*
 * Faults on the child endpoints alone (500, reset, truncate, badjson, 429
 * at 30 %) and interruptions in the middle of child paging (page size 1:
 * 80 child pages) converge to the same snapshot.
 */
static void test_children_faults_and_resume(void)
{
	static const char *const args[] = { "--data", KIDS, "--shape", "asis", "--now",
					    "1777680000", NULL };
	struct pull_args a7 = { 7, 0, 0, 0, 0, NULL }, a1 = { 1, 0, 0, 0, 0, NULL };
	struct fake fx;
	struct pull_result res;
	struct sums ref, s;
	struct err e;
	struct db *db;
	int rc;

	if (kids_reference(&ref) != 0 || fake_start(&fx, args) != 0) {
		CHECK(0);
		return;
	}
	fake_faults(&fx, "{\"clear\":true,\"seed\":5,\"faults\":["
		    "{\"kind\":\"500\",\"p\":0.1,\"path\":\"/v1/subscription_items\"},"
		    "{\"kind\":\"reset\",\"p\":0.1,\"path\":\"/v1/subscription_items\"},"
		    "{\"kind\":\"429\",\"p\":0.1,\"path\":\"/v1/subscription_items\"},"
		    "{\"kind\":\"truncate\",\"p\":0.15,\"path\":\"/v1/invoices/in_\"},"
		    "{\"kind\":\"badjson\",\"p\":0.15,\"path\":\"/v1/invoices/in_\"}]}");
	if ((db = new_db()) != NULL) {
		if (pull(db, &fx, &a7, &res, &e) != 0)
			printf("  faults: %s\n", e.msg);
		CHECK_INT(e.code, 0);
		CHECK(res.res[STRIPE_SUBSCRIPTION].retries > 0);
		CHECK(res.res[STRIPE_INVOICE].retries > 0);
		sums_of(db, 1, &s);
		CHECK(sums_equal(&s, &ref, 0));
		db_close(db);
	}
	fake_faults(&fx, "{\"clear\":true}");
	if ((db = new_db()) != NULL) {
		CHECK(pull_interrupted(db, &fx, &a1, 4, 9, &rc) >= 3);
		CHECK_INT(rc, 0);
		sums_of(db, 1, &s);
		CHECK(sums_equal(&s, &ref, 0));
		check_children(&fx, db);
		db_close(db);
	}
	fake_stop(&fx);
}

/* --only: the others are neither listed nor touched. */
/* --- windows split while they are paged (pull.c split_window) ------------------ */

#define SKEW_DENSE 390          /* customers one minute apart, the day before now */
#define SKEW_SPARSE 10          /* customers spread over the two years before */
#define SKEW_NOW 1777680000LL

/*
 * An account whose customers are all but a few created in one day of two
 * years: written to dir/customers.json from basic/'s first customer with
 * new ids and created times.  0 or -1.
 */
static int write_skewed(const char *dir)
{
	json_error_t je;
	json_t *in = json_load_file("fixtures/stripe/basic/customers.json", 0, &je), *out;
	char path[300], id[32];
	int i, rc = -1;

	if (!in || !json_is_array(in) || !json_array_size(in)) {
		printf("  basic customers: %s\n", in ? "not an array" : je.text);
		json_decref(in);
		return -1;
	}
	out = json_array();
	for (i = 0; out && i < SKEW_DENSE + SKEW_SPARSE; i++) {
		json_t *c = json_deep_copy(json_array_get(in, 0));
		long long created = i < SKEW_SPARSE
			? SKEW_NOW - 2 * 365 * 86400LL + i * 70 * 86400LL
			: SKEW_NOW - 86400 + (i - SKEW_SPARSE) * 60LL;

		snprintf(id, sizeof id, "cus_TuSkew%06d", i);
		if (!c || json_object_set_new(c, "id", json_string(id)) != 0 ||
		    json_object_set_new(c, "created", json_integer(created)) != 0 ||
		    json_array_append_new(out, c) != 0) {
			json_decref(out);
			out = NULL;
		}
	}
	snprintf(path, sizeof path, "%s/customers.json", dir);
	if (out && json_dump_file(out, path, JSON_COMPACT) == 0)
		rc = 0;
	json_decref(out);
	json_decref(in);
	return rc;
}

/*
 * The windows of a relist are cut by time before anything is known of how
 * the objects spread over it; here 16 windows of 45 days, and all but a few
 * customers in the newest.  When the others finish, the newest gives half
 * of what it has left to a new window (again and again): the pull makes
 * new cursors, and lists each customer exactly once (the cursors' objects
 * add up to the customers: the windows never overlap) and all of them (the
 * snapshot is the account).  Interrupted at several points, each time
 * while windows are being split, the resumed pull ends in the same
 * snapshot, still listing each customer once.
 */
static void test_windows_split(void)
{
	char dir[256];
	const char *args[] = { "--data", dir, "--now", "1777680000", NULL };
	struct pull_args a = { 5, 0, 0, 0, PULL_KIND_BIT(STRIPE_CUSTOMER), NULL };
	struct pull_result res;
	struct sums ref, s;
	struct fake fx;
	struct err e;
	struct db *db;
	int rc;

	snprintf(dir, sizeof dir, "%s/skewed", tmpdir);
	if (mkdir(dir, 0700) != 0 || write_skewed(dir) != 0 || fake_start(&fx, args) != 0) {
		CHECK(0);
		return;
	}
	if (!(db = new_db()))
		goto out;
	CHECK_INT(pull(db, &fx, &a, &res, &e), 0);
	CHECK_INT(count_sql(db, "SELECT count(*) FROM stripe_customers"), SKEW_DENSE + SKEW_SPARSE);
	CHECK(count_sql(db, "SELECT count(*) FROM stripe_pull_cursors WHERE resource = "
			"'customers'") > 16);
	CHECK_INT(count_sql(db, "SELECT sum(objects) FROM stripe_pull_cursors WHERE resource = "
			    "'customers'"), SKEW_DENSE + SKEW_SPARSE);
	CHECK_INT(res.res[STRIPE_CUSTOMER].objects, SKEW_DENSE + SKEW_SPARSE);
	sums_of(db, 1, &ref);
	db_close(db);

	if (!(db = new_db()))
		goto out;
	CHECK(pull_interrupted(db, &fx, &a, 10, 13, &rc) >= 3);
	CHECK_INT(rc, 0);
	CHECK_INT(db_snapshot_require_finished(db, &e), 0);
	sums_of(db, 1, &s);
	CHECK(sums_equal(&s, &ref, 0));
	CHECK(count_sql(db, "SELECT count(*) FROM stripe_pull_cursors WHERE resource = "
			"'customers'") > 16);
	CHECK_INT(count_sql(db, "SELECT sum(objects) FROM stripe_pull_cursors WHERE resource = "
			    "'customers'"), SKEW_DENSE + SKEW_SPARSE);
	db_close(db);
out:
	fake_stop(&fx);
}

static void test_only(void)
{
	struct pull_args a = { 0, 0, 0, 0, PULL_KIND_BIT(STRIPE_PRICE), NULL };
	struct pull_result res;
	struct sums s;
	struct err e;
	long events;
	struct db *db = new_db();

	if (!db)
		return;
	fake_faults(&G, "{\"clear\":true}");
	CHECK_INT(pull(db, &G, &a, &res, &e), 0);
	CHECK_INT(routes(&G, 0, &events), 1);
	sums_of(db, 1, &s);
	CHECK_INT(s.rows[0], 0);
	CHECK_INT(s.rows[2], clean.rows[2]);
	CHECK_STR(s.s[2], clean.s[2]);
	db_close(db);
}

static void test_relist_finish_twice_is_harmless(void)
{
	static const char page[] =
		"{\"object\":\"list\",\"has_more\":false,\"data\":[{\"id\":\"prod_A\","
		"\"object\":\"product\",\"created\":100,\"livemode\":false,\"name\":\"A\","
		"\"active\":true,\"metadata\":{}}]}";
	struct db_snapshot_cursor c;
	struct db_snapshot_commit cm;
	struct stripe_page *pg = NULL;
	struct err e = { 0 };
	struct db *db = new_db();
	long long run, tomb = -1, rows;
	char sum[DB_SNAPSHOT_CHECKSUM_LEN];

	if (!db)
		return;
	CHECK_INT(db_snapshot_pull_begin(db, DB_SNAPSHOT_FULL, NULL, 0, &run, &e), 0);
	memset(&c, 0, sizeof c);
	c.pull_run_id = run;
	snprintf(c.resource, sizeof c.resource, "products");
	CHECK_INT(db_snapshot_cursor_open(db, &c, &e), 0);
	CHECK_INT(stripe_rows_parse_page(page, sizeof page - 1, STRIPE_PRODUCT, &pg, &e), 0);
	memset(&cm, 0, sizeof cm);
	cm.page = pg;
	cm.cursor = &c;
	CHECK_INT(db_snapshot_commit(db, &cm, NULL, &e), 0);
	stripe_page_free(pg);
	CHECK_INT(db_snapshot_full_relist_finish(db, run, STRIPE_PRODUCT, 1000, &tomb, &e), 0);
	CHECK_INT(tomb, 0);
	CHECK_INT(db_snapshot_full_relist_finish(db, run, STRIPE_PRODUCT, 1000, &tomb, &e), 0);
	CHECK_INT(tomb, 0);
	CHECK_INT(db_snapshot_checksum(db, STRIPE_PRODUCT, 0, sum, &rows, &e), 0);
	CHECK_INT(rows, 1);
	db_close(db);
}

int main(void)
{
	static const char *const args[] = { "--generate", "2000", "--seed", "5", NULL };
	char cmd[160];
	int have;

	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	snprintf(tmpdir, sizeof tmpdir, "/tmp/trueup-test-pull.XXXXXX");
	if (!mkdtemp(tmpdir)) {
		printf("mkdtemp failed\n");
		return 1;
	}
	RUN(test_parse_resources);
	RUN(test_relist_finish_twice_is_harmless);
	have = fake_start(&G, args) == 0;
	CHECK(have);
	if (have) {
		RUN(test_full_pull_equals_fake);
		RUN(test_page_and_window_sizes);
		RUN(test_shapes_give_same_typed_values);
		RUN(test_fixture_data);
		RUN(test_fault_429);
		RUN(test_fault_lock_timeout);
		RUN(test_fault_500);
		RUN(test_fault_503);
		RUN(test_fault_reset);
		RUN(test_fault_truncate);
		RUN(test_fault_badjson);
		RUN(test_faults_mixed);
		RUN(test_wrong_key_401);
		RUN(test_should_retry_false_unavailable);
		RUN(test_retries_exhausted);
		RUN(test_retrieve_404);
		RUN(test_interrupt_and_resume);
		RUN(test_event_order);
		RUN(test_only);
		RUN(test_incremental);
		RUN(test_children_beyond_ten);
		RUN(test_children_faults_and_resume);
		RUN(test_windows_split);
		fake_stop(&G);
	}
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		printf("could not remove %s\n", tmpdir);
	curl_global_cleanup();
	return harness_done();
}
