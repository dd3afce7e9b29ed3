/*
 * db_pull.h - the queries of the pull orchestrator (pull.c) that are not
 * page commits: which snapshot objects sit in a non-final state whose
 * deadline passed in a time window, so an incremental pull re-checks them
 * even when no event said they changed (an open checkout session past
 * expires_at, a trial past trial_end, an incomplete subscription past
 * Stripe's 23 hours, a refund still pending a day after it was made).
 * Also the reads behind applying events' object snapshots: the newest
 * event of an object and whether a session's line items are known.
 * The snapshot tables themselves belong to db_snapshot.c.
 */
#ifndef TRUEUP_DB_PULL_H
#define TRUEUP_DB_PULL_H

#include "db.h"
#include "stripe_rows.h"

/*
 * Call fn(kind, id, arg) for each live (not tombstoned) object of the kinds
 * in mask (bits 1 << enum stripe_kind; sessions, subscriptions and refunds
 * are the ones that have such states) whose deadline falls in
 * [from, to), at most limit of them (<= 0: no limit), sessions first, each
 * kind by id.  fn returns 0 to go on.  Do not write to the database from
 * fn.  Returns 0 or an exit code with e filled (EXIT_IOERR, EXIT_TEMPFAIL).
 */
int db_pull_recheck_each(struct db *db, unsigned mask, long long from, long long to,
			 long long limit,
			 int (*fn)(enum stripe_kind kind, const char *id, void *arg), void *arg,
			 struct err *e);

/* The newest stored event about an object (db_pull_newest_event). */
struct db_pull_event {
	char id[256];
	char type[128];
	long long created;
	int processed;                /* already applied or superseded */
	char *raw_json;               /* the event as received; the caller frees it */
};

/*
 * The newest event (by created, then id) stored about object_id, pending
 * or processed, into *out (*found = 0 when there is none; raw_json NULL).
 * Returns 0 or an exit code with e filled (EXIT_SOFTWARE out of memory).
 */
int db_pull_newest_event(struct db *db, const char *object_id, struct db_pull_event *out,
			 int *found, struct err *e);

/*
 * Does the snapshot hold the line items of checkout session id (a row
 * whose line_items_has_more is set: they were listed, expanded or paged)?
 * *known = 1/0.
 */
int db_pull_line_items_known(struct db *db, const char *id, int *known, struct err *e);

#endif
