-- 004_findings.sql - drift findings of `trueup reconcile` (SPEC "Drift rules").
--
-- A finding is identified by (rule, subject): subject is
-- "<subject_type>:<subject_id>", e.g. "entitlement:ent_03",
-- "tenant:t_org1", "checkout_session:cs_test_...".  Re-running reconcile
-- updates the row (last_seen, last_run_id and the current expected/actual/
-- action); it never adds a second one.  Status:
--   open      the rule yields the subject (again) in its latest evaluation
--   repaired  `trueup repair --apply` fixed it (set by repair, later)
--   resolved  the rule was evaluated and no longer yields the subject: the
--             drift went away by itself
-- A resolved or repaired finding the rule yields again is re-opened
-- (reopened counts how often); first_seen stays the first sighting.
--
-- The proposed action is machine-readable for repair: action is a verb
-- (grant, revoke, set, release_seats, assign_seat, provision, enrol,
-- seed_progress, report, none), action_table/action_row_id/action_field
-- name the platform row and column, action_before/action_after the values
-- (action_after may be a JSON object for a row to create); action_text is
-- the same for people.  report and none change nothing.
--
-- reconcile_runs: one row per reconcile, with the pull it read.

CREATE TABLE reconcile_runs (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  command_run_id INTEGER,          -- runs.id of the `trueup reconcile` (NULL from tests)
  pull_run_id    INTEGER,          -- stripe_pull_runs.id it read (NULL: none)
  pull_status    TEXT,             -- that pull's status when read ('ok' unless --allow-unfinished)
  rules          TEXT NOT NULL,    -- comma-separated rule codes evaluated
  now            TEXT NOT NULL,    -- the time the rules saw (ISO 8601 UTC)
  started_at     TEXT NOT NULL,
  finished_at    TEXT,
  found          INTEGER,          -- findings yielded by the rules
  created        INTEGER,          -- of them new
  reopened       INTEGER,          -- of them re-opened
  resolved       INTEGER           -- open findings no longer yielded
);

CREATE TABLE findings (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  rule            TEXT NOT NULL,   -- E1 ... G1, M1
  subject         TEXT NOT NULL,   -- subject_type || ':' || subject_id
  subject_type    TEXT NOT NULL,
  subject_id      TEXT NOT NULL,
  severity        TEXT NOT NULL CHECK (severity IN ('critical','high','medium','info')),
  tenant_id       TEXT,
  stripe_object   TEXT,            -- the Stripe object id involved, if any
  expected        TEXT,
  actual          TEXT,
  action          TEXT NOT NULL,
  action_text     TEXT,
  action_table    TEXT,
  action_row_id   TEXT,
  action_field    TEXT,
  action_before   TEXT,
  action_after    TEXT,
  status          TEXT NOT NULL CHECK (status IN ('open','repaired','resolved')),
  first_seen      TEXT NOT NULL,
  last_seen       TEXT NOT NULL,
  first_run_id    INTEGER NOT NULL REFERENCES reconcile_runs(id),
  last_run_id     INTEGER NOT NULL REFERENCES reconcile_runs(id),
  resolved_at     TEXT,
  resolved_run_id INTEGER,
  repaired_at     TEXT,
  reopened        INTEGER NOT NULL DEFAULT 0,
  UNIQUE (rule, subject)
);
CREATE INDEX findings_status ON findings(status, rule, severity);
CREATE INDEX findings_rule_run ON findings(rule, status, last_run_id);
CREATE INDEX findings_tenant ON findings(tenant_id);
