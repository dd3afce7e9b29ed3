/*
 * fuzz_stripe_page.c - libFuzzer harness over the code that turns a Stripe
 * response body into snapshot rows (stripe_rows.c) and writes them
 * (db_snapshot.c, into an in-memory database).
 *
 * Input: one mode byte, then the body.  The mode picks the kind of rows
 * (1 + byte % 9: customer .. event) and the entry point ((byte / 9) % 3:
 * list page, single object, line items page of session "cs_fuzz").  Every
 * body that parses is committed; the database is reopened every 512 runs
 * so it stays small.
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
 * fixtures/stripe/pages/ with their mode byte.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "db_snapshot.h"
#include "stripe_rows.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct db *fuzz_db;
static unsigned fuzz_runs;

static void fuzz_write(const struct stripe_page *p)
{
	struct db_snapshot_commit c;
	struct db_snapshot_counts n;
	struct err e;

	if (!fuzz_db || fuzz_runs % 512 == 0) {
		db_close(fuzz_db);
		fuzz_db = NULL;
		if (db_open(":memory:", DB_OPEN_CREATE, &fuzz_db, &e) != 0)
			return;
	}
	memset(&c, 0, sizeof c);
	memset(&n, 0, sizeof n);
	c.page = p;
	c.stripe_version = "2025-03-31.basil";
	c.pulled_at = "2026-05-02T00:00:00Z";
	c.mark_events = 1;
	(void)db_snapshot_commit(fuzz_db, &c, &n, &e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stripe_page *p = NULL;
	struct err e;
	enum stripe_kind kind;
	int how, rc;

	if (size < 1)
		return 0;
	fuzz_runs++;
	kind = (enum stripe_kind)(1 + data[0] % 9);
	how = (data[0] / 9) % 3;
	if (how == 0)
		rc = stripe_rows_parse_page((const char *)data + 1, size - 1, kind, &p, &e);
	else if (how == 1)
		rc = stripe_rows_parse_object((const char *)data + 1, size - 1, kind, &p, &e);
	else
		rc = stripe_rows_parse_line_items((const char *)data + 1, size - 1, "cs_fuzz", &p,
						  &e);
	if (rc == 0) {
		if (!p || (p->count > 0 && !p->rows))
			__builtin_trap();
		fuzz_write(p);
	} else if (p || strchr(e.msg, '\n') || e.code == 0) {
		__builtin_trap();                /* failures leave no page and one line */
	}
	stripe_page_free(p);
	return 0;
}
