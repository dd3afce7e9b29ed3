-- 005_repairs.sql - the repair ledger of `trueup repair --apply` (SPEC
-- "Drift rules": every applied repair goes into a ledger with a
-- deterministic idempotency key, before/after values, run id and time).
--
-- One row per platform row a repair inserted or changed.  A repair of one
-- finding is an *action*; its key is
--     <rule>:<subject>#<occurrence>        e.g. E3:entitlement:ent_03#0
-- where occurrence is the finding's reopened count (the same drift
-- returning after it was fixed is a new action), except P1, whose key is
-- P1:<subject> alone, so that a checkout session is provisioned at most
-- once, ever.  Each row change of the action has the entry key
--     <action key>/<table>/<row id>
-- which is UNIQUE: two `repair --apply` processes racing on one finding
-- cannot both record (and so cannot both commit) the same change.  The
-- action and its ledger rows commit in one transaction with the finding's
-- status change.
--
-- before/after are JSON objects of the changed columns only (before is
-- NULL for an inserted row; after holds the whole inserted row).  This
-- is the journal `trueup repair --export` and reports/repairs.csv read.
CREATE TABLE repair_ledger (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  idempotency_key TEXT NOT NULL UNIQUE,    -- entry key, see above
  action_key      TEXT NOT NULL,           -- the action it belongs to
  run_id          INTEGER,                 -- runs.id of the `repair --apply`
  finding_id      INTEGER REFERENCES findings(id),
  rule            TEXT NOT NULL,
  subject         TEXT NOT NULL,
  tenant_id       TEXT,
  stripe_object   TEXT,
  action          TEXT NOT NULL,           -- grant, revoke, set, provision, ...
  table_name      TEXT NOT NULL,
  row_id          TEXT NOT NULL,           -- for composite keys: JSON array of the key
  op              TEXT NOT NULL CHECK (op IN ('insert','update')),
  before          TEXT,
  after           TEXT NOT NULL,
  applied_at      TEXT NOT NULL            -- ISO 8601 UTC
);
CREATE INDEX repair_ledger_action ON repair_ledger(action_key);
CREATE INDEX repair_ledger_run ON repair_ledger(run_id);
