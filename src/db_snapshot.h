/*
 * db_snapshot.h - the SQL of the Stripe snapshot (tables of
 * src/sql/003_stripe_snapshot.sql): pages of typed rows from stripe_rows.h
 * written together with the pull cursor, tombstones, pull runs, the events
 * cursor, the "is the last pull finished?" check and a checksum per
 * resource.
 *
 * The key guarantee (SPEC "Resumable"): db_snapshot_commit() writes a
 * page's rows AND advances its cursor in ONE transaction, so a pull killed
 * at any moment resumes from the last committed page and converges to the
 * snapshot an uninterrupted pull gives.
 *
 * Write rules:
 *   - rows are upserted by id; a row whose typed fields and raw JSON are
 *     unchanged is not rewritten (counted as unchanged, pulled_at kept);
 * *   - child rows (subscription items, checkout line items, invoice lines)
 *     are replaced with their parent: upserted, and those the parent no
 *     longer lists deleted, when the parent's embedded list is complete
 *     (has_more false); with has_more they are only upserted, and the rest
 *     comes from the child endpoint (/v1/subscription_items,
 *     /v1/checkout/sessions/{id}/line_items, /v1/invoices/{id}/lines),
 *     whose pages are committed on a cursor of the child resource scoped
 *     to the parent id: its rows are upserted like embedded ones (a 2023
 *     subscription item takes its stored subscription's period) and
 *     remembered as seen, and the page that completes the pagination
 *     deletes the parent's children it did not list (and re-derives a
 *     2025+ subscription's period from all its items);
 *   - a parent whose body has no embedded list at all (an event's
 *     snapshot of a checkout session carries no line items) keeps its
 *     children and its line_items_has_more;
 *   - tombstones, never holes: a deleted stub from a retrieve, a *.deleted
 *     event (except customer.subscription.deleted, a cancellation) or
 *     absence from a completed full relist sets deleted_at and keeps the
 *     row; a tombstoned object that is listed again is live again.
 *
 * Every function returns 0 or an exit code and fills e; none prints.
 */
#ifndef TRUEUP_DB_SNAPSHOT_H
#define TRUEUP_DB_SNAPSHOT_H

#include "db.h"
#include "stripe_rows.h"

#define DB_SNAPSHOT_ID_MAX 256

/* --- pull runs ------------------------------------------------------------ */

enum db_snapshot_mode {
	DB_SNAPSHOT_FULL = 0,          /* relist everything (tombstones the missing) */
	DB_SNAPSHOT_INCREMENTAL = 1    /* events since the cursor */
};

/*
 * Start a pull run (status 'running').  resources is a comma-separated list
 * of resource names or NULL for all; command_run_id is the runs.id of the
 * command (0 for none).  *pull_run_id receives the new id.
 */
int db_snapshot_pull_begin(struct db *db, enum db_snapshot_mode mode, const char *resources,
			   long long command_run_id, long long *pull_run_id, struct err *e);

/*
 * Finish a pull run: ok != 0 marks it 'ok' and requires every cursor of the
 * run to be done (else EXIT_SOFTWARE naming the first open one, and the run
 * stays 'running'); ok == 0 marks it 'failed' with error (one line, may be
 * NULL).  Either way the run's full-relist bookkeeping is dropped.
 */
int db_snapshot_pull_finish(struct db *db, long long pull_run_id, int ok, const char *error,
			    struct err *e);

struct db_snapshot_pull_info {
	long long id;
	char mode[16];                 /* "full" / "incremental" */
	char status[16];               /* "running" / "ok" / "failed" */
	char resources[256];
	char started_at[32];
	char finished_at[32];          /* "" while running */
	char error[256];
};

/* The newest pull run into *out; *found = 0 (and out zeroed) when none. */
int db_snapshot_pull_last(struct db *db, struct db_snapshot_pull_info *out, int *found,
			  struct err *e);

/*
 * The check reconcile, repair and report make before reading the snapshot:
 * 0 when the newest pull run finished 'ok'; EXIT_TEMPFAIL when it is still
 * running or was interrupted/failed ("the last stripe pull (run N, started
 * T) has not finished: run 'trueup pull' to complete it"); EXIT_NOINPUT when
 * there has never been a pull.
 */
int db_snapshot_require_finished(struct db *db, struct err *e);

/*
 * The check of a command with an --allow-unfinished option: the newest
 * pull run into *info (zeroed when none), then db_snapshot_require_finished.
 * An unfinished pull is accepted when allow_unfinished and a pull exists:
 * 0, with why it is unfinished in unfinished_msg (msgsz bytes; "" when it
 * is finished).  Otherwise its failure.
 */
int db_snapshot_check_usable(struct db *db, int allow_unfinished,
			     struct db_snapshot_pull_info *info, char *unfinished_msg,
			     size_t msgsz, struct err *e);

/* --- cursors ------------------------------------------------------------- */

/*
 * One pagination of a run: resource (stripe_kind_resource names) and scope
 * ("" for the whole resource; a window name such as "w3", or a parent id
 * for its children: a checkout session's line items, a subscription's
 * items, an invoice's lines).  The window
 * [created_gte, created_lt) is stored with the cursor; has_* = 0 is open.
 */
struct db_snapshot_cursor {
	long long pull_run_id;
	char resource[32];
	char scope[DB_SNAPSHOT_ID_MAX];
	int has_gte, has_lt;
	long long created_gte, created_lt;
	char starting_after[DB_SNAPSHOT_ID_MAX];  /* "" = from the top */
	int done;
	long long pages, objects;
	char updated_at[32];
};

/*
 * Create the cursor (pull_run_id, resource, scope) if it does not exist,
 * with c's window, and load its stored state into c (window included, so a
 * resumed run keeps its windows).  Fails with EXIT_SOFTWARE for an unknown
 * resource or run.
 */
int db_snapshot_cursor_open(struct db *db, struct db_snapshot_cursor *c, struct err *e);

/*
 * Split the window of cursor c (not done, inside the caller's transaction)
 * at created time at, which must lie strictly inside it: a new cursor
 * (run, resource, scope) takes [c's created_gte, at) from the top, and c
 * keeps [at, c's created_lt) from where it is.  The union of the windows
 * is unchanged, so a crash on either side of the commit loses nothing;
 * the caller must stop paging c below at from its next request on (its
 * last committed object must be created at or after at).  Fails with
 * EXIT_SOFTWARE when c is done or unknown, at is outside its window, or
 * scope exists.
 */
int db_snapshot_cursor_split(struct db *db, const struct db_snapshot_cursor *c,
			     const char *scope, long long at, struct err *e);

/* Call fn for each cursor of a run (resource, scope order); fn returns 0 to go on. */
int db_snapshot_cursors_each(struct db *db, long long pull_run_id,
			     int (*fn)(const struct db_snapshot_cursor *c, void *arg), void *arg,
			     struct err *e);

/* --- the page commit ----------------------------------------------------- */

struct db_snapshot_events_cursor {
	int set;                       /* 0: no events handled yet */
	long long created;             /* created of the newest event handled */
	char id[DB_SNAPSHOT_ID_MAX];   /* its id (ties on created) */
};

struct db_snapshot_commit {
	const struct stripe_page *page;     /* rows to write; NULL for none */
	const char *stripe_version;         /* Stripe-Version the page was read under */
	const char *pulled_at;              /* ISO 8601 UTC; NULL = now */
	/*
	 * Advanced in the same transaction: starting_after = the page's last
	 * id (kept when the page is empty), done = !has_more, pages + 1,
	 * objects + count.  Updated in memory on success.  Must be open
	 * (db_snapshot_cursor_open) and of the page's resource.
	 */
	struct db_snapshot_cursor *cursor;
	int mark_events;                    /* mark the pending events of the page's rows processed */
	const char *const *processed_events;/* event ids to mark processed */
	size_t nprocessed_events;
	/*
	 * Loose objects of any snapshot kind but events and children (an
	 * incremental pull's event snapshots): each upserted like a page's row
	 * (children, tombstone for a deleted stub), under object_versions[i]
	 * when that array and entry are not NULL (else stripe_version), and
	 * the pending events of each marked processed.
	 */
	const struct stripe_row *const *objects;
	const char *const *object_versions;
	size_t nobjects;
	int objects_keep_pending;           /* leave the objects' events pending */
	/* Objects (ids) whose pending events are marked processed: superseded. */
	const char *const *processed_objects;
	size_t nprocessed_objects;
	const struct db_snapshot_events_cursor *events_cursor;  /* save it; NULL = leave */
	/* Commit inside this group's transaction (see below); NULL = its own. */
	struct db_snapshot_group *group;
};

struct db_snapshot_counts {
	long long inserted, updated, unchanged, tombstoned;
	long long children_written, children_deleted;
	long long events_new, events_known, events_processed;
};

/*
 * Write everything c names in one transaction (db_tx_begin/commit): the
 * page's rows (upserts, children, tombstones; an events page inserts new
 * events, and a *.deleted event tombstones its object at once), the
 * full-relist bookkeeping when the cursor's run is a full one, the cursor,
 * the processed marks and the events cursor.  On any failure nothing is
 * written (rolled back) and e says why: EXIT_SOFTWARE for API misuse (a
 * cursor not open, of another resource, a transaction already open),
 * EXIT_TEMPFAIL when locked, EXIT_IOERR, EXIT_DATAERR for a constraint.
 * counts (may be NULL) receives the figures, added to what it holds.
 */
int db_snapshot_commit(struct db *db, struct db_snapshot_commit *c,
		       struct db_snapshot_counts *counts, struct err *e);

/*
 * Commit groups (performance): a pull commits a page every few
 * milliseconds, and each transaction rewrites every index page its rows
 * touch, so committing pages one by one wrote the same index pages to the
 * WAL again and again (about 3x the database's size).  A commit given a
 * group runs inside the group's one open transaction until
 * db_snapshot_group_flush commits them all at once.  A commit that fails
 * rolls back the whole open transaction: itself and every commit of the
 * group since the last flush (a pull fails at its first failed commit, so
 * nothing is lost that the next pull would not fetch again).  The
 * guarantee is unchanged: a page's rows and its cursor are in the same
 * transaction, so a pull killed at any moment resumes from the last
 * flushed page.  While a group is open nothing else may begin a
 * transaction on db: flush first.  The group also keeps its statements
 * between commits and runs a checkpointer thread (see db_snapshot.c).
 */
struct db_snapshot_group;

/* A new (closed) group on db; EXIT_SOFTWARE when out of memory. */
int db_snapshot_group_new(struct db *db, struct db_snapshot_group **out, struct err *e);

/* Commits waiting in the open transaction (0 when none is open). */
size_t db_snapshot_group_pending(const struct db_snapshot_group *g);

/*
 * Commit the group's transaction, if open.  On failure (EXIT_TEMPFAIL,
 * EXIT_IOERR...) everything since the last flush is rolled back.  g may be
 * NULL.
 */
int db_snapshot_group_flush(struct db_snapshot_group *g, struct err *e);

/* Roll back what was not flushed and free g (NULL is fine). */
void db_snapshot_group_free(struct db_snapshot_group *g);

/*
 * The WAL's bound while g writes, in pages (default 16384: 256 MiB): once
 * it holds that many the writer finishes the checkpoint, and the WAL starts
 * over from its beginning.  A quarter of it wakes the checkpointer thread.
 * Call before the first commit; tests use small values.
 */
void db_snapshot_group_set_wal_limit(struct db_snapshot_group *g, int frames);

/*
 * The writer thread (performance).  A pull parses pages on its main thread
 * (HTTP, JSON) while SQLite writes them: with a writer thread the two run on
 * two cores.  After db_snapshot_group_start_writer, commits handed to
 * db_snapshot_group_submit run on that thread, in submission order, inside
 * the group's transaction, which the thread commits every
 * DB_SNAPSHOT_GROUP_COMMITS commits or DB_SNAPSHOT_GROUP_SEC seconds after
 * it opened.  The guarantee is unchanged (a
 * page and its cursor in one transaction).  While the writer has work the
 * connection is its own: the caller must db_snapshot_group_flush (which
 * waits for the queue to drain and commits) before any other use of db.
 * Without a writer (not started, or the thread could not be created)
 * submit commits at once on the caller's thread.  The queue holds at most
 * DB_SNAPSHOT_QUEUE_MAX commits: submit waits for room (memory stays flat
 * when the disk is slower than the network).  While the writer ends a
 * relist (tombstones and index builds: a third of a second for 40,000
 * objects, long enough for the client to fill the queue many times over)
 * and until it has caught up with the queue again, submit takes more, as
 * long as the queued pages hold at most DB_SNAPSHOT_QUEUE_LONG_BYTES
 * (stripe_page_bytes): the client keeps paging instead of standing still.
 */
#define DB_SNAPSHOT_GROUP_COMMITS 256
#define DB_SNAPSHOT_GROUP_SEC 1.0
#define DB_SNAPSHOT_QUEUE_MAX 8
#define DB_SNAPSHOT_QUEUE_LONG_BYTES (16u << 20)
#define DB_SNAPSHOT_SINKS 64       /* count sinks: 0 .. DB_SNAPSHOT_SINKS - 1 */

/*
 * A bulk load (performance): until db_snapshot_group_free, g's connection
 * writes through a rollback journal (TRUNCATE, synchronous = FULL) instead
 * of the WAL, and the checkpointer stops.  In WAL every page is written
 * twice, into the WAL and by a checkpoint into the database, which then
 * syncs it again; a first relist appends nearly every page it writes, and a
 * rollback journal keeps only the pages a transaction overwrites.  Commits
 * stay atomic and survive kill -9 (the next open rolls a hot journal back)
 * and an OS crash.  The price is concurrency: another process reads only
 * between the writer's transactions (once a transaction outgrows the page
 * cache it holds the database until its commit, about a second), so a
 * read waits up to that long, and a write until the pull ends or the busy
 * timeout.  db_snapshot_group_free switches back to WAL (or the next
 * db_open does).  Call with nothing pending (after
 * db_snapshot_group_flush).  *on = 1 when switched; 0 when another
 * connection has the database open (the switch needs it alone: the group
 * goes on in WAL).
 */
int db_snapshot_group_bulk(struct db_snapshot_group *g, int *on, struct err *e);

/* Start g's writer thread; 0 (also when it could not start: synchronous). */
int db_snapshot_group_start_writer(struct db_snapshot_group *g, struct err *e);

/*
 * Hand commit c to g: c->page must be *page (or NULL), which g takes (*page
 * becomes NULL; freed even on failure); c->stripe_version, c->cursor (its
 * state before this commit), c->mark_events and c->events_cursor are
 * copied; the other members must be 0.  c->cursor is advanced in memory at
 * once, as a successful commit advances it.  The commit's counts are added
 * to sink (see db_snapshot_group_take); a failure is prefixed with what
 * (may be "").
 * Returns 0, or the first failure of any earlier commit of g (the writer
 * drops everything after it; the group's open transaction is rolled back).
 */
int db_snapshot_group_submit(struct db_snapshot_group *g, struct db_snapshot_commit *c,
			     struct stripe_page **page, int sink, const char *what, struct err *e);

/*
 * Open cursor c (as db_snapshot_cursor_open) on the writer, before the
 * commits submitted after it.  For a cursor the caller knows does not exist
 * yet: c is not read back (the caller's copy is the new cursor's state).
 */
int db_snapshot_group_submit_cursor(struct db_snapshot_group *g,
				    const struct db_snapshot_cursor *c, const char *what,
				    struct err *e);

/*
 * Open the n cursors of cs (as db_snapshot_group_submit_cursor) in one job,
 * so in one transaction: all of them or none (a resource's windows).
 */
int db_snapshot_group_submit_cursors(struct db_snapshot_group *g,
				     const struct db_snapshot_cursor *cs, size_t n,
				     const char *what, struct err *e);

/*
 * db_snapshot_cursor_split of c at `at` into a new cursor scope, on the
 * writer, after the commits submitted before it and before those after.
 */
int db_snapshot_group_submit_split(struct db_snapshot_group *g,
				   const struct db_snapshot_cursor *c, const char *scope,
				   long long at, const char *what, struct err *e);

/*
 * db_snapshot_full_relist_finish, then db_snapshot_restore_indexes of kind,
 * on the writer in the group's transaction, after the commits submitted
 * before it (so after the relist's last page); the rows it tombstoned are
 * counted in sink.
 */
int db_snapshot_group_submit_finish(struct db_snapshot_group *g, long long pull_run_id,
				    enum stripe_kind kind, long long relist_epoch, int sink,
				    const char *what, struct err *e);

/* Add the counts of sink's finished commits to *out and zero them. */
void db_snapshot_group_take(struct db_snapshot_group *g, int sink,
			    struct db_snapshot_counts *out);

/*
 * Without a writer thread: commit the open transaction if it is due
 * (DB_SNAPSHOT_GROUP_SEC); call it now and then.  A writer does this itself.
 */
void db_snapshot_group_nudge(struct db_snapshot_group *g);

/*
 * End the full relist of kind in a full pull run, in one transaction: all
 * of the run's cursors of that resource must be done (else EXIT_SOFTWARE);
 * rows of kind that are live, fall inside the run's windows and were not
 * met by the relist get deleted_at; stripe_sync_state.last_full_at of the
 * resource becomes relist_epoch.  *tombstoned (may be NULL) = rows marked.
 * Calling it again for a kind this run has finished does nothing (0, and
 * *tombstoned 0), so a resumed pull may repeat it safely.
 */
int db_snapshot_full_relist_finish(struct db *db, long long pull_run_id, enum stripe_kind kind,
				   long long relist_epoch, long long *tombstoned, struct err *e);

/*
 * Deferred indexes (007_pull_bulk.sql): a relist that starts on empty
 * tables writes faster without their secondary indexes and builds them
 * once at its end.  db_snapshot_defer_indexes drops the secondary indexes
 * of kind's table and child table when both tables are empty (*deferred =
 * how many; 0 when not empty), keeping their definitions;
 * db_snapshot_restore_indexes builds those of kind (STRIPE_NONE: every
 * deferred index) again.  Each in one transaction; kind must be a
 * top-level resource (not events or line items).
 */
int db_snapshot_defer_indexes(struct db *db, enum stripe_kind kind, int *deferred,
			      struct err *e);

/* *any = 1 when some index is deferred (a first relist, or one interrupted, has not ended). */
int db_snapshot_indexes_deferred(struct db *db, int *any, struct err *e);
int db_snapshot_restore_indexes(struct db *db, enum stripe_kind kind, struct err *e);

/* --- sync state and events ------------------------------------------------ */

/* When the resource was last fully relisted: *found = 0 if never. */
int db_snapshot_last_full(struct db *db, enum stripe_kind kind, long long *epoch, int *found,
			  struct err *e);

/* The saved events cursor (out->set = 0 when none). */
int db_snapshot_events_cursor_get(struct db *db, struct db_snapshot_events_cursor *out,
				  struct err *e);

struct db_snapshot_event_ref {
	char id[DB_SNAPSHOT_ID_MAX];
	char type[128];
	long long created;
	char object_type[64];
	char object_id[DB_SNAPSHOT_ID_MAX];  /* "" when the object has no id */
};

/*
 * Call fn for each unprocessed event, oldest first (created, id), at most
 * limit (<= 0: all).  fn returns 0 to go on.  Do not write from fn.
 */
int db_snapshot_events_pending(struct db *db, long long limit,
			       int (*fn)(const struct db_snapshot_event_ref *ev, void *arg),
			       void *arg, struct err *e);

/* --- checks ---------------------------------------------------------------- */

#define DB_SNAPSHOT_CHECKSUM_LEN 65   /* 64 hex digits + NUL */

/*
 * sha256 over the canonical lines of kind (db_snapshot_rows_each), as 64
 * lowercase hex digits into out.  Covers ids and typed fields of the
 * resource and its children (a subscription's items, a session's line
 * items, an invoice's lines), ordered by id: independent of page size,
 * order, timing, Stripe-Version and raw JSON, and of how line items were
 * fetched.  include_deleted = 0 leaves tombstones (and their children) out;
 * 1 adds them with a deleted flag.  *rows (may be NULL) = parent rows.
 */
int db_snapshot_checksum(struct db *db, enum stripe_kind kind, int include_deleted,
			 char out[DB_SNAPSHOT_CHECKSUM_LEN], long long *rows, struct err *e);

/*
 * The canonical lines behind the checksum, one per row:
 * "TABLE\tv1\tv2...\n" (NULL as \N; tab, newline, CR and backslash
 * escaped), parents by id, then each child table by (parent, id).  For
 * diffing two snapshots.  fn returns 0 to go on.
 */
int db_snapshot_rows_each(struct db *db, enum stripe_kind kind, int include_deleted,
			  int (*fn)(const char *line, size_t len, void *arg), void *arg,
			  struct err *e);

#endif
