/*
 * fuzz_stripe_page.c - libFuzzer harness over the code that turns a Stripe
 * response body into snapshot rows (stripe_rows.c) and writes them
 * (db_snapshot.c, into an in-memory database).
 *
 * Input: one mode byte, then the body.  The mode picks the kind of rows
 * (1 + byte % 9: customer .. event) and the entry point ((byte / 9) % 5:
 * list page, single object, or a children page: line items of session
 * "cs_fuzz", subscription items of "sub_fuzz", invoice lines of "in_fuzz").
 * Every body that parses is committed; a children page on its cursor (so
 * the page that completes it prunes), into a database that holds the three
 * parents.  The database is reopened every 512 runs so it stays small.
 *
 * Build and run from the top of the repository (clang 14 is installed):
 *
 *   make build/default/sql_embed.c
 *   mkdir -p build/fuzz
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
 *     -std=c11 -D_DEFAULT_SOURCE -Isrc -Ibuild/default \
 *     tests/fuzz/fuzz_stripe_page.c src/stripe_rows.c src/jdoc.c src/db_snapshot.c src/db.c \
 *     src/err.c build/default/sql_embed.c -ljansson -lsqlite3 \
 *     -o build/fuzz/fuzz_stripe_page
 *   build/fuzz/fuzz_stripe_page -max_total_time=60 -max_len=65536 -timeout=10 \
 *     -rss_limit_mb=2048 build/fuzz/corpus_stripe_page tests/fuzz/corpus/stripe_page
 *
 * (the first corpus directory collects new inputs; create it first).
 * The seeds in tests/fuzz/corpus/stripe_page/ are the pages of
 * fixtures/stripe/pages/ with their mode byte (kids_*: 27 subscription
 * items, 36 invoice lines).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "db_snapshot.h"
#include "stripe_rows.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct db *fuzz_db;
static long long fuzz_run;
static unsigned fuzz_runs;

/* The parents of the children pages, and a pull run for their cursors. */
static void fuzz_parents(void)
{
	static const struct { const char *json; enum stripe_kind kind; } parents[] = {
		{ "{\"id\":\"cs_fuzz\",\"object\":\"checkout.session\",\"created\":1,"
		  "\"mode\":\"payment\",\"payment_status\":\"paid\"}", STRIPE_CHECKOUT_SESSION },
		{ "{\"id\":\"sub_fuzz\",\"object\":\"subscription\",\"created\":1,"
		  "\"customer\":\"cus_1\",\"status\":\"active\",\"current_period_start\":1,"
		  "\"current_period_end\":2,\"items\":{\"object\":\"list\",\"has_more\":true,"
		  "\"data\":[]}}", STRIPE_SUBSCRIPTION },
		{ "{\"id\":\"in_fuzz\",\"object\":\"invoice\",\"created\":1,\"currency\":\"usd\","
		  "\"amount_due\":1,\"amount_paid\":1,\"total\":1}", STRIPE_INVOICE },
	};
	struct db_snapshot_commit c;
	struct stripe_page *p;
	struct err e;
	size_t i;

	for (i = 0; i < sizeof parents / sizeof parents[0]; i++) {
		p = NULL;
		if (stripe_rows_parse_object(parents[i].json, strlen(parents[i].json),
					     parents[i].kind, &p, &e) != 0)
			__builtin_trap();
		memset(&c, 0, sizeof c);
		c.page = p;
		if (db_snapshot_commit(fuzz_db, &c, NULL, &e) != 0)
			__builtin_trap();
		stripe_page_free(p);
	}
	if (db_snapshot_pull_begin(fuzz_db, DB_SNAPSHOT_INCREMENTAL, NULL, 0, &fuzz_run, &e) != 0)
		__builtin_trap();
}

static void fuzz_write(const struct stripe_page *p, const char *parent)
{
	struct db_snapshot_commit c;
	struct db_snapshot_counts n;
	struct db_snapshot_cursor cur;
	struct err e;

	if (!fuzz_db || fuzz_runs % 512 == 0) {
		db_close(fuzz_db);
		fuzz_db = NULL;
		if (db_open(":memory:", DB_OPEN_CREATE, &fuzz_db, &e) != 0)
			return;
		fuzz_parents();
	}
	memset(&c, 0, sizeof c);
	memset(&n, 0, sizeof n);
	if (parent) {
		memset(&cur, 0, sizeof cur);
		cur.pull_run_id = fuzz_run;
		snprintf(cur.resource, sizeof cur.resource, "%s", stripe_kind_resource(p->kind));
		snprintf(cur.scope, sizeof cur.scope, "%s", parent);
		if (db_snapshot_cursor_open(fuzz_db, &cur, &e) != 0)
			__builtin_trap();
		c.cursor = &cur;
	}
	c.page = p;
	c.stripe_version = "2025-03-31.basil";
	c.pulled_at = "2026-05-02T00:00:00Z";
	c.mark_events = 1;
	(void)db_snapshot_commit(fuzz_db, &c, &n, &e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct { enum stripe_kind kind; const char *parent; } children[3] = {
		{ STRIPE_CHECKOUT_LINE_ITEM, "cs_fuzz" }, { STRIPE_SUBSCRIPTION_ITEM, "sub_fuzz" },
		{ STRIPE_INVOICE_LINE, "in_fuzz" },
	};
	struct stripe_page *p = NULL;
	struct err e;
	enum stripe_kind kind;
	const char *parent = NULL;
	int how, rc;

	if (size < 1)
		return 0;
	fuzz_runs++;
	kind = (enum stripe_kind)(1 + data[0] % 9);
	how = (data[0] / 9) % 5;
	if (how == 0) {
		rc = stripe_rows_parse_page((const char *)data + 1, size - 1, kind, &p, &e);
	} else if (how == 1) {
		rc = stripe_rows_parse_object((const char *)data + 1, size - 1, kind, &p, &e);
	} else {
		parent = children[how - 2].parent;
		rc = stripe_rows_parse_children((const char *)data + 1, size - 1,
						children[how - 2].kind, parent, &p, &e);
	}
	if (rc == 0) {
		if (!p || (p->count > 0 && !p->rows))
			__builtin_trap();
		fuzz_write(p, parent);
	} else if (p || strchr(e.msg, '\n') || e.code == 0) {
		__builtin_trap();                /* failures leave no page and one line */
	}
	stripe_page_free(p);
	return 0;
}
