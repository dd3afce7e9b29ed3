-- 003_stripe_snapshot.sql - the Stripe snapshot (SPEC "Pulling from Stripe").
--
-- One table per Stripe resource with the fields reconcile and the reports
-- need as typed columns; child tables (subscription items, checkout line
-- items, invoice lines) are replaced together with their parent.  Every
-- row also keeps the object as received (raw_json), the Stripe-Version it
-- was read under and when it was last written (pulled_at, ISO 8601 UTC).
-- Stripe's own times (created, current_period_end, ...) stay integer epoch
-- seconds, as Stripe sends them.  Amounts are integers in the currency's
-- minor unit; the tables are STRICT so a REAL can never get in; currencies
-- are lowercase ISO 4217 codes.
--
-- Deleted objects leave a tombstone, never a hole: deleted_at is set (by a
-- *.deleted event, a deleted stub from a retrieve, or absence from a
-- completed full relist) and the last known row stays.  Nothing here is
-- ever DELETEd except child rows replaced with their parent and the
-- bookkeeping of finished pulls.
--
-- Pull bookkeeping: stripe_pull_runs (one per `trueup pull`),
-- stripe_pull_cursors (one per resource x window/scope of a run, advanced
-- in the same transaction as the rows of each page, so a killed pull
-- resumes where it stopped), stripe_pull_seen (ids met by a full relist,
-- for tombstoning the missing ones) and stripe_sync_state (per resource:
-- the last completed full relist; for 'events' the events cursor).

CREATE TABLE stripe_customers (
  id             TEXT PRIMARY KEY,
  livemode       INTEGER,
  created        INTEGER,
  email          TEXT,
  name           TEXT,
  currency       TEXT CHECK (currency IS NULL OR (length(currency) = 3 AND currency = lower(currency))),
  tenant_id      TEXT,          -- metadata.tenant_id
  user_id        TEXT,          -- metadata.user_id
  raw_json       TEXT NOT NULL,
  stripe_version TEXT,
  pulled_at      TEXT NOT NULL,
  deleted_at     TEXT
) STRICT;
CREATE INDEX stripe_customers_tenant ON stripe_customers(tenant_id);
CREATE INDEX stripe_customers_user ON stripe_customers(user_id);

CREATE TABLE stripe_products (
  id                    TEXT PRIMARY KEY,
  livemode              INTEGER,
  created               INTEGER,
  name                  TEXT,
  active                INTEGER,
  default_price         TEXT,
  trueup_plan           TEXT,
  trueup_course_program TEXT,
  raw_json              TEXT NOT NULL,
  stripe_version        TEXT,
  pulled_at             TEXT NOT NULL,
  deleted_at            TEXT
) STRICT;

CREATE TABLE stripe_prices (
  id                       TEXT PRIMARY KEY,
  livemode                 INTEGER,
  created                  INTEGER,
  product                  TEXT,
  active                   INTEGER,
  currency                 TEXT CHECK (currency IS NULL OR (length(currency) = 3 AND currency = lower(currency))),
  unit_amount              INTEGER,
  type                     TEXT,
  recurring_interval       TEXT,
  recurring_interval_count INTEGER,
  lookup_key               TEXT,
  nickname                 TEXT,
  trueup_plan              TEXT,
  trueup_course_program    TEXT,
  raw_json                 TEXT NOT NULL,
  stripe_version           TEXT,
  pulled_at                TEXT NOT NULL,
  deleted_at               TEXT
) STRICT;
CREATE INDEX stripe_prices_product ON stripe_prices(product);
CREATE INDEX stripe_prices_lookup_key ON stripe_prices(lookup_key);

-- current_period_*: the subscription's own (2023 shape) or derived from its
-- items, min(start) / max(end) (2025+ shape); period_source says which.
CREATE TABLE stripe_subscriptions (
  id                   TEXT PRIMARY KEY,
  livemode             INTEGER,
  created              INTEGER,
  customer             TEXT,
  status               TEXT,
  currency             TEXT CHECK (currency IS NULL OR (length(currency) = 3 AND currency = lower(currency))),
  start_date           INTEGER,
  current_period_start INTEGER,
  current_period_end   INTEGER,
  period_source        TEXT CHECK (period_source IS NULL OR period_source IN ('subscription','items')),
  cancel_at            INTEGER,
  cancel_at_period_end INTEGER,
  canceled_at          INTEGER,
  ended_at             INTEGER,
  trial_start          INTEGER,
  trial_end            INTEGER,
  latest_invoice       TEXT,
  tenant_id            TEXT,
  user_id              TEXT,
  trueup_plan          TEXT,
  items_has_more       INTEGER,   -- the embedded items list was incomplete
  raw_json             TEXT NOT NULL,
  stripe_version       TEXT,
  pulled_at            TEXT NOT NULL,
  deleted_at           TEXT
) STRICT;
CREATE INDEX stripe_subscriptions_customer ON stripe_subscriptions(customer);
CREATE INDEX stripe_subscriptions_tenant ON stripe_subscriptions(tenant_id);
CREATE INDEX stripe_subscriptions_user ON stripe_subscriptions(user_id);
CREATE INDEX stripe_subscriptions_status ON stripe_subscriptions(status);

-- current_period_*: the item's own (2025+ shape) or the subscription's (2023).
CREATE TABLE stripe_subscription_items (
  subscription_id             TEXT NOT NULL REFERENCES stripe_subscriptions(id)
                              DEFERRABLE INITIALLY DEFERRED,
  id                          TEXT NOT NULL,
  created                     INTEGER,
  quantity                    INTEGER,
  price_id                    TEXT,
  lookup_key                  TEXT,
  product                     TEXT,
  unit_amount                 INTEGER,
  currency                    TEXT CHECK (currency IS NULL OR (length(currency) = 3 AND currency = lower(currency))),
  price_trueup_plan           TEXT,
  price_trueup_course_program TEXT,
  current_period_start        INTEGER,
  current_period_end          INTEGER,
  raw_json                    TEXT NOT NULL,
  stripe_version              TEXT,
  pulled_at                   TEXT NOT NULL,
  PRIMARY KEY (subscription_id, id)
) STRICT;
CREATE INDEX stripe_subscription_items_price ON stripe_subscription_items(price_id);
CREATE INDEX stripe_subscription_items_lookup_key ON stripe_subscription_items(lookup_key);

CREATE TABLE stripe_checkout_sessions (
  id                    TEXT PRIMARY KEY,
  livemode              INTEGER,
  created               INTEGER,
  customer              TEXT,
  customer_email        TEXT,
  status                TEXT,
  mode                  TEXT,
  payment_status        TEXT,
  client_reference_id   TEXT,
  currency              TEXT CHECK (currency IS NULL OR (length(currency) = 3 AND currency = lower(currency))),
  amount_subtotal       INTEGER,
  amount_total          INTEGER,
  payment_intent        TEXT,
  subscription          TEXT,
  invoice               TEXT,
  expires_at            INTEGER,
  tenant_id             TEXT,
  user_id               TEXT,
  trueup_plan           TEXT,
  trueup_course_program TEXT,
  line_items_has_more   INTEGER,  -- NULL: not expanded; 1: fetch the line_items endpoint
  raw_json              TEXT NOT NULL,
  stripe_version        TEXT,
  pulled_at             TEXT NOT NULL,
  deleted_at            TEXT
) STRICT;
CREATE INDEX stripe_checkout_sessions_customer ON stripe_checkout_sessions(customer);
CREATE INDEX stripe_checkout_sessions_client_ref ON stripe_checkout_sessions(client_reference_id);
CREATE INDEX stripe_checkout_sessions_subscription ON stripe_checkout_sessions(subscription);
CREATE INDEX stripe_checkout_sessions_payment_intent ON stripe_checkout_sessions(payment_intent);
CREATE INDEX stripe_checkout_sessions_tenant ON stripe_checkout_sessions(tenant_id);
CREATE INDEX stripe_checkout_sessions_user ON stripe_checkout_sessions(user_id);

CREATE TABLE stripe_checkout_line_items (
  session_id                  TEXT NOT NULL REFERENCES stripe_checkout_sessions(id)
                              DEFERRABLE INITIALLY DEFERRED,
  id                          TEXT NOT NULL,
  description                 TEXT,
  quantity                    INTEGER,
  currency                    TEXT CHECK (currency IS NULL OR (length(currency) = 3 AND currency = lower(currency))),
  amount_subtotal             INTEGER,
  amount_discount             INTEGER,
  amount_tax                  INTEGER,
  amount_total                INTEGER,
  price_id                    TEXT,
  lookup_key                  TEXT,
  product                     TEXT,
  unit_amount                 INTEGER,
  price_trueup_plan           TEXT,
  price_trueup_course_program TEXT,
  raw_json                    TEXT NOT NULL,
  stripe_version              TEXT,
  pulled_at                   TEXT NOT NULL,
  PRIMARY KEY (session_id, id)
) STRICT;
CREATE INDEX stripe_checkout_line_items_price ON stripe_checkout_line_items(price_id);

CREATE TABLE stripe_refunds (
  id             TEXT PRIMARY KEY,
  livemode       INTEGER,
  created        INTEGER,
  amount         INTEGER,
  currency       TEXT CHECK (currency IS NULL OR (length(currency) = 3 AND currency = lower(currency))),
  status         TEXT,
  reason         TEXT,
  charge         TEXT,
  payment_intent TEXT,
  customer       TEXT,
  tenant_id      TEXT,
  user_id        TEXT,
  raw_json       TEXT NOT NULL,
  stripe_version TEXT,
  pulled_at      TEXT NOT NULL,
  deleted_at     TEXT
) STRICT;
CREATE INDEX stripe_refunds_charge ON stripe_refunds(charge);
CREATE INDEX stripe_refunds_payment_intent ON stripe_refunds(payment_intent);

-- subscription: top-level (2023) or parent.subscription_details (2025+);
-- paid: Stripe's flag (2023) or status = 'paid' (2025+); charge and
-- payment_intent exist in the 2023 shape only.
CREATE TABLE stripe_invoices (
  id               TEXT PRIMARY KEY,
  livemode         INTEGER,
  created          INTEGER,
  customer         TEXT,
  subscription     TEXT,
  status           TEXT,
  paid             INTEGER,
  currency         TEXT CHECK (currency IS NULL OR (length(currency) = 3 AND currency = lower(currency))),
  amount_due       INTEGER,
  amount_paid      INTEGER,
  amount_remaining INTEGER,
  subtotal         INTEGER,
  total            INTEGER,
  charge           TEXT,
  payment_intent   TEXT,
  billing_reason   TEXT,
  number           TEXT,
  period_start     INTEGER,
  period_end       INTEGER,
  paid_at          INTEGER,      -- status_transitions.paid_at
  tenant_id        TEXT,
  user_id          TEXT,
  lines_has_more   INTEGER,
  raw_json         TEXT NOT NULL,
  stripe_version   TEXT,
  pulled_at        TEXT NOT NULL,
  deleted_at       TEXT
) STRICT;
CREATE INDEX stripe_invoices_customer ON stripe_invoices(customer);
CREATE INDEX stripe_invoices_subscription ON stripe_invoices(subscription);
CREATE INDEX stripe_invoices_payment_intent ON stripe_invoices(payment_intent);
CREATE INDEX stripe_invoices_charge ON stripe_invoices(charge);

-- price_id: price.id (2023) or pricing.price_details.price (2025+).
CREATE TABLE stripe_invoice_lines (
  invoice_id        TEXT NOT NULL REFERENCES stripe_invoices(id) DEFERRABLE INITIALLY DEFERRED,
  id                TEXT NOT NULL,
  amount            INTEGER,
  currency          TEXT CHECK (currency IS NULL OR (length(currency) = 3 AND currency = lower(currency))),
  quantity          INTEGER,
  description       TEXT,
  price_id          TEXT,
  product           TEXT,
  lookup_key        TEXT,
  subscription      TEXT,
  subscription_item TEXT,
  proration         INTEGER,
  period_start      INTEGER,
  period_end        INTEGER,
  raw_json          TEXT NOT NULL,
  stripe_version    TEXT,
  pulled_at         TEXT NOT NULL,
  PRIMARY KEY (invoice_id, id)
) STRICT;
CREATE INDEX stripe_invoice_lines_price ON stripe_invoice_lines(price_id);
CREATE INDEX stripe_invoice_lines_subscription ON stripe_invoice_lines(subscription);

-- Events from /v1/events, de-duplicated by id.  processed: the object it
-- names has been re-fetched (or tombstoned) since.
CREATE TABLE stripe_events (
  id             TEXT PRIMARY KEY,
  type           TEXT NOT NULL,
  created        INTEGER NOT NULL,
  livemode       INTEGER,
  api_version    TEXT,
  object_type    TEXT,
  object_id      TEXT,
  processed      INTEGER NOT NULL DEFAULT 0 CHECK (processed IN (0, 1)),
  processed_at   TEXT,
  raw_json       TEXT NOT NULL,
  stripe_version TEXT,
  pulled_at      TEXT NOT NULL
) STRICT;
CREATE INDEX stripe_events_pending ON stripe_events(processed, created, id);
CREATE INDEX stripe_events_object ON stripe_events(object_id);

CREATE TABLE stripe_pull_runs (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  mode           TEXT NOT NULL CHECK (mode IN ('full','incremental')),
  resources      TEXT,          -- comma-separated resource names, NULL = all
  command_run_id INTEGER,       -- runs.id of the command that pulled
  started_at     TEXT NOT NULL,
  finished_at    TEXT,
  status         TEXT NOT NULL CHECK (status IN ('running','ok','failed')),
  error          TEXT
) STRICT;

-- One pagination of one resource (or of one window of its created times,
-- or of one parent, such as the line items of a session: scope) in a run.
CREATE TABLE stripe_pull_cursors (
  pull_run_id    INTEGER NOT NULL REFERENCES stripe_pull_runs(id),
  resource       TEXT NOT NULL CHECK (resource IN ('customers','products','prices',
                   'subscriptions','checkout_sessions','checkout_line_items','refunds',
                   'invoices','events')),
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

CREATE TABLE stripe_pull_seen (
  pull_run_id INTEGER NOT NULL,
  resource    TEXT NOT NULL,
  id          TEXT NOT NULL,
  PRIMARY KEY (pull_run_id, resource, id)
) STRICT, WITHOUT ROWID;

CREATE TABLE stripe_sync_state (
  resource            TEXT PRIMARY KEY,
  last_full_at        INTEGER,  -- epoch seconds of the last completed full relist
  last_full_run_id    INTEGER,
  events_created      INTEGER,  -- 'events' only: the newest event handled
  events_id           TEXT,
  updated_at          TEXT NOT NULL
) STRICT;
