-- 007_pull_bulk.sql - bookkeeping that makes a full pull cheaper to write.
--
-- 1. written_run: which full relist wrote each Stripe row.  A full relist
--    tombstones the live rows of a resource that it did not meet.  It used
--    to record every object it met in stripe_pull_seen; now a row the
--    relist inserted or changed carries the relist's pull run id in
--    written_run (set by the same upsert), and only the rows it met
--    unchanged go to stripe_pull_seen: one index insertion less per new or
--    changed object.  Rows written outside a full relist (an incremental
--    pull's events and retrieves) get NULL.  Not a typed field of the
--    snapshot: checksums leave it out.
ALTER TABLE stripe_customers ADD COLUMN written_run INTEGER;
ALTER TABLE stripe_products ADD COLUMN written_run INTEGER;
ALTER TABLE stripe_prices ADD COLUMN written_run INTEGER;
ALTER TABLE stripe_subscriptions ADD COLUMN written_run INTEGER;
ALTER TABLE stripe_checkout_sessions ADD COLUMN written_run INTEGER;
ALTER TABLE stripe_refunds ADD COLUMN written_run INTEGER;
ALTER TABLE stripe_invoices ADD COLUMN written_run INTEGER;

-- 2. Deferred indexes.  The first full relist of a resource into empty
--    tables (a new snapshot, or a resource pulled for the first time)
--    drops the secondary indexes of the resource's table and child table
--    and keeps their definitions here, in the same transaction; the end
--    of that relist builds them again from these rows (one sort each
--    instead of a B-tree insertion per row and index: the pull writes
--    about half as much).  A pull killed in between resumes with the rows
--    still here and builds the indexes when the relist ends, and every
--    pull that ends builds whatever is left; until then the last pull is
--    unfinished, so reconcile, repair and report refuse to read the
--    snapshot anyway.  A later migration that changes a stripe_* index
--    must look here too (DROP INDEX IF EXISTS, and update the row).
CREATE TABLE stripe_deferred_indexes (
  name TEXT PRIMARY KEY,    -- the index
  tbl  TEXT NOT NULL,       -- its table
  sql  TEXT NOT NULL        -- its CREATE INDEX statement, from sqlite_master
) STRICT;
