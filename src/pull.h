/*
 * pull.h - `trueup pull` without the printing: Stripe into the snapshot,
 * complete, incremental, concurrent and resumable (SPEC "Pulling from
 * Stripe").  The command layer (cmd_pull.c) parses options, loads the key
 * and prints; everything else is here, on top of stripe_client.h (HTTP,
 * retries, token bucket), stripe_rows.h (pages into typed rows) and
 * db_snapshot.h (rows + cursor in one transaction).
 *
 * One call of pull_run() may make up to three pull runs (rows of
 * stripe_pull_runs), in this order:
 *   1. the newest pull run when it is still 'running' (a pull that was
 *      killed or interrupted): it is continued from its committed
 *      cursors, with the windows it planned, never started over (the
 *      resources it relisted are not relisted again in 2.);
 *   2. a full relist of the resources that need one: every resource on
 *      the first pull, with --full, when its last full relist is older
 *      than PULL_STALE_DAYS, and all of them when the events cursor is
 *      missing or older than that (events live 30 days at Stripe);
 *   3. an incremental pull: /v1/events since the events cursor minus
 *      PULL_OVERLAP_SEC; each changed object takes the data.object of its
 *      newest event (Stripe's events carry full snapshots), and is
 *      retrieved only where that snapshot is not enough (a subscription
 *      without items, an invoice without lines; one whose embedded items
 *      or lines have more is applied and its children paged); new
 *      checkout sessions, whose events carry no line items, are re-listed
 *      with their line items in one created-time window; plus a bounded
 *      re-check of objects whose non-final state had a deadline pass in
 *      that window (open sessions past expires_at, trials past trial_end,
 *      incomplete subscriptions past 23 h, pending refunds).  See
 *      process_pending() in pull.c for the ordering rules.
 *
 * Full relist: per resource, a probe page (limit = page size) tells
 * whether the resource fits one page; if not, a binary search with
 * limit=1 created[lt] probes finds the oldest object, and [oldest,
 * newest] is cut into created-time windows (automatic count from the
 * probe's density, or --window-days), each a cursor of its own; when a
 * resource has fewer windows in flight than it was planned with, one of
 * them gives the older half of what it has left to a new window (see
 * split_window in pull.c: time windows are cut before anything is known of
 * how the objects spread over them).  All
 * windows of all resources are paged at once (the client's concurrency
 * limit and shared token bucket decide what goes), each page committed
 * with its cursor; when every window of a resource is done its relist is
 * finished (absent rows tombstoned).  The events cursor is set to the
 * full run's start time when it relisted every resource.  A parent whose
 * embedded children (subscription items, invoice lines, session line
 * items) have more gets a child pager (cursor scope = the parent id).
 *
 * Threads: the client and the parsing run on the caller's thread; the
 * parsed pages go to the writer thread of a db_snapshot_group, which owns
 * the database connection while the client runs (see db_snapshot.h);
 * whatever else pull.c does with the database comes after a flush.
 *
 * Nothing here prints or exits; progress is reported through a callback.
 */
#ifndef TRUEUP_PULL_H
#define TRUEUP_PULL_H

#include <signal.h>

#include "config.h"
#include "db.h"
#include "err.h"
#include "stripe_client.h"
#include "stripe_rows.h"

#define PULL_STALE_DAYS 25          /* older full relist / events cursor: relist */
#define PULL_OVERLAP_SEC 300        /* events window overlap */
#define PULL_RECHECK_MAX 1000       /* non-final objects re-checked per run, at most */

/* The resources a pull knows, in summary order (a bit per enum stripe_kind). */
extern const enum stripe_kind pull_kinds[7];
#define PULL_NKINDS 7
#define PULL_KIND_BIT(k) (1u << (unsigned)(k))

/*
 * Parse a comma-separated resource list ("customers,prices") into a mask
 * of PULL_KIND_BIT()s.  Returns 0, or EXIT_USAGE with a message naming
 * the unknown or empty entry.
 */
int pull_parse_resources(const char *list, unsigned *mask, struct err *e);

/* Figures of one resource (or of the events, kind STRIPE_EVENT). */
struct pull_figures {
	long long objects;           /* rows received (list pages + retrieves) */
	long long inserted, updated, unchanged, tombstoned;
	long long pages, requests, retries, rate_limited;
	long long retrieved;         /* objects retrieved by id (incremental) */
	long long applied;           /* objects written from an event's data.object */
	long long rechecked;         /* of those, re-checks of non-final states */
	int active;                  /* part of this pull */
	int full;                    /* fully relisted */
	int done;                    /* its part of the pull has finished */
};

struct pull_result {
	struct pull_figures res[STRIPE_KIND_COUNT];   /* by enum stripe_kind */
	struct pull_figures total;
	long long last_run_id;       /* the newest pull run made or continued */
	int resumed;                 /* an interrupted pull run was continued */
	int did_full, did_incremental;
	long long events_new;        /* events stored by this pull */
	double elapsed_sec;
};

struct pull_opts {
	int full;                    /* --full: relist the chosen resources */
	unsigned only;               /* mask of PULL_KIND_BIT; 0 = every resource */
	int window_days;             /* > 0: windows of that many days; 0 = automatic */
	int page_size;               /* 1..100; 0 = 100 */
	long long now;               /* epoch seconds; 0 = time(NULL) (tests pass one) */
	const volatile sig_atomic_t *stop;   /* a signal handler's flag; may be NULL */
	struct stripe_client_opts client;    /* tuning for the client (debug hook, backoff) */
	/* Called about every progress_ms (0: 200) while requests run, with the
	 * figures so far; may be NULL. */
	void (*progress)(void *udata, const struct pull_result *r);
	/* Warnings (a full relist forced by an old cursor ...), one line each;
	 * may be NULL. */
	void (*warn)(void *udata, const char *line);
	void *udata;
	unsigned progress_ms;
};

/*
 * Pull Stripe (sc, key: see stripe_client_new) into db per o, filling
 * *res (zeroed first).  Returns 0 when every pull run it made finished
 * 'ok'.  On failure: a final HTTP error (EXIT_NOPERM 401/403, EXIT_DATAERR
 * 400/404 or a body that is not what was asked for, EXIT_UNAVAILABLE,
 * EXIT_TEMPFAIL retries exhausted), a database error (EXIT_TEMPFAIL
 * locked, EXIT_IOERR) or EXIT_SOFTWARE: the pull run is marked 'failed'
 * with e's message ("pull: subscriptions: GET /v1/subscriptions: 401 ...
 * (request req_...)"), rows committed before stay, and rows it never
 * reached keep their previous state.  When *o->stop became non-zero:
 * EXIT_TEMPFAIL "interrupted; run 'trueup pull' again to resume" and the
 * run stays 'running', to be continued by the next pull_run().
 */
int pull_run(struct db *db, const struct stripe_config *sc, const char *key,
	     const struct pull_opts *o, struct pull_result *res, struct err *e);

#endif
