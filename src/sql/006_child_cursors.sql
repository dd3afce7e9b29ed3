-- 006_child_cursors.sql - pull cursors for the children fetched beyond the
-- first embedded page: the items of a subscription
-- (GET /v1/subscription_items?subscription=...) and the lines of an
-- invoice (GET /v1/invoices/{id}/lines), each a cursor whose scope is the
-- parent id, like a checkout session's line items.
--
-- SQLite cannot alter a CHECK, so stripe_pull_cursors is rebuilt: a new
-- table with the two new resource names, the rows copied, the old table
-- dropped and the new one renamed, all inside this migration's
-- transaction (db.c applies each migration in one).  Nothing refers to
-- stripe_pull_cursors, so the rename rewrites no other schema object.

CREATE TABLE stripe_pull_cursors_new (
  pull_run_id    INTEGER NOT NULL REFERENCES stripe_pull_runs(id),
  resource       TEXT NOT NULL CHECK (resource IN ('customers','products','prices',
                   'subscriptions','checkout_sessions','checkout_line_items','refunds',
                   'invoices','events','subscription_items','invoice_lines')),
  scope          TEXT NOT NULL DEFAULT '',
  created_gte    INTEGER,       -- window [created_gte, created_lt); NULL = open
  created_lt     INTEGER,
  starting_after TEXT,          -- id of the last object committed; NULL = from the top
  done           INTEGER NOT NULL DEFAULT 0 CHECK (done IN (0, 1)),
  pages          INTEGER NOT NULL DEFAULT 0,
  objects        INTEGER NOT NULL DEFAULT 0,
  updated_at     TEXT NOT NULL,
  PRIMARY KEY (pull_run_id, resource, scope)
) STRICT;

INSERT INTO stripe_pull_cursors_new (pull_run_id, resource, scope, created_gte, created_lt,
                                     starting_after, done, pages, objects, updated_at)
  SELECT pull_run_id, resource, scope, created_gte, created_lt, starting_after, done, pages,
         objects, updated_at
  FROM stripe_pull_cursors;

DROP TABLE stripe_pull_cursors;
ALTER TABLE stripe_pull_cursors_new RENAME TO stripe_pull_cursors;
