-- 001_platform.sql - platform state (SPEC "Platform state (import contract)")
-- and the run history.  Timestamps are ISO 8601 UTC text
-- ('YYYY-MM-DDTHH:MM:SSZ'), so they sort and compare as strings.
-- Foreign keys are DEFERRABLE INITIALLY DEFERRED: an import loads files in
-- one transaction in an order that cannot satisfy every reference at every
-- statement (a tenant points at its purchase intent and the intent at its
-- tenant), so they are checked at COMMIT; import.c checks them row by row
-- first, to name the file and line.

CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT
);

CREATE TABLE users (
  id         TEXT PRIMARY KEY,
  email      TEXT NOT NULL,
  name       TEXT,
  role       TEXT,
  created_at TEXT
);
CREATE INDEX users_email ON users(email);

CREATE TABLE purchase_intents (
  id                         TEXT PRIMARY KEY,
  user_id                    TEXT REFERENCES users(id) DEFERRABLE INITIALLY DEFERRED,
  tenant_id                  TEXT REFERENCES tenants(id) DEFERRABLE INITIALLY DEFERRED,
  plan                       TEXT,
  stripe_checkout_session_id TEXT,
  status                     TEXT NOT NULL CHECK (status IN
    ('started','awaiting_payment','paid','provisioned','failed','expired')),
  created_at                 TEXT
);
CREATE INDEX purchase_intents_session ON purchase_intents(stripe_checkout_session_id);
CREATE INDEX purchase_intents_tenant ON purchase_intents(tenant_id);

CREATE TABLE tenants (
  id                 TEXT PRIMARY KEY,
  name               TEXT,
  owner_user_id      TEXT REFERENCES users(id) DEFERRABLE INITIALLY DEFERRED,
  plan               TEXT,
  status             TEXT,
  purchase_intent_id TEXT REFERENCES purchase_intents(id) DEFERRABLE INITIALLY DEFERRED,
  created_at         TEXT
);
CREATE INDEX tenants_owner ON tenants(owner_user_id);
CREATE INDEX tenants_plan ON tenants(plan);

CREATE TABLE memberships (
  tenant_id TEXT NOT NULL REFERENCES tenants(id) DEFERRABLE INITIALLY DEFERRED,
  user_id   TEXT NOT NULL REFERENCES users(id) DEFERRABLE INITIALLY DEFERRED,
  role      TEXT,
  PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX memberships_user ON memberships(user_id);

CREATE TABLE subscriptions (
  id                     TEXT PRIMARY KEY,
  tenant_id              TEXT REFERENCES tenants(id) DEFERRABLE INITIALLY DEFERRED,
  user_id                TEXT REFERENCES users(id) DEFERRABLE INITIALLY DEFERRED,
  plan                   TEXT,
  stripe_subscription_id TEXT,
  status                 TEXT,
  quantity               INTEGER CHECK (quantity IS NULL OR quantity >= 0),
  current_period_end     TEXT
);
CREATE INDEX subscriptions_stripe ON subscriptions(stripe_subscription_id);
CREATE INDEX subscriptions_tenant ON subscriptions(tenant_id);

CREATE TABLE entitlements (
  id                         TEXT PRIMARY KEY,
  tenant_id                  TEXT REFERENCES tenants(id) DEFERRABLE INITIALLY DEFERRED,
  user_id                    TEXT REFERENCES users(id) DEFERRABLE INITIALLY DEFERRED,
  product                    TEXT NOT NULL,
  quantity_seats             INTEGER CHECK (quantity_seats IS NULL OR quantity_seats >= 0),
  status                     TEXT NOT NULL CHECK (status IN ('active','revoked')),
  source                     TEXT NOT NULL CHECK (source IN ('stripe','admin_grant','migration')),
  stripe_subscription_id     TEXT,
  stripe_checkout_session_id TEXT,
  granted_by                 TEXT,
  valid_from                 TEXT,
  valid_until                TEXT,
  -- set by repairs (soft revocation); not part of the import contract
  revoked_reason             TEXT,
  revoked_at                 TEXT
);
CREATE INDEX entitlements_tenant ON entitlements(tenant_id, product);
CREATE INDEX entitlements_subscription ON entitlements(stripe_subscription_id);
CREATE INDEX entitlements_session ON entitlements(stripe_checkout_session_id);

CREATE TABLE seat_assignments (
  entitlement_id TEXT NOT NULL REFERENCES entitlements(id) DEFERRABLE INITIALLY DEFERRED,
  user_id        TEXT NOT NULL REFERENCES users(id) DEFERRABLE INITIALLY DEFERRED,
  assigned_at    TEXT NOT NULL,
  released_at    TEXT,
  PRIMARY KEY (entitlement_id, user_id, assigned_at)
);
CREATE INDEX seat_assignments_user ON seat_assignments(user_id);

CREATE TABLE courses (
  id              TEXT PRIMARY KEY,
  slug            TEXT,
  title           TEXT,
  organization_id TEXT REFERENCES tenants(id) DEFERRABLE INITIALLY DEFERRED,
  owner_user_id   TEXT REFERENCES users(id) DEFERRABLE INITIALLY DEFERRED,
  created_by      TEXT REFERENCES users(id) DEFERRABLE INITIALLY DEFERRED,
  created_at      TEXT
);
CREATE INDEX courses_org ON courses(organization_id, created_at);
CREATE INDEX courses_owner ON courses(owner_user_id, created_at);

CREATE TABLE events (
  id              TEXT PRIMARY KEY,
  organization_id TEXT REFERENCES tenants(id) DEFERRABLE INITIALLY DEFERRED,
  owner_user_id   TEXT REFERENCES users(id) DEFERRABLE INITIALLY DEFERRED,
  created_by      TEXT REFERENCES users(id) DEFERRABLE INITIALLY DEFERRED,
  created_at      TEXT
);
CREATE INDEX events_org ON events(organization_id);
CREATE INDEX events_owner ON events(owner_user_id);

CREATE TABLE course_programs (
  id    TEXT PRIMARY KEY,
  code  TEXT NOT NULL UNIQUE,
  title TEXT
);

CREATE TABLE course_steps (
  id         TEXT PRIMARY KEY,
  program_id TEXT NOT NULL REFERENCES course_programs(id) DEFERRABLE INITIALLY DEFERRED,
  step_order INTEGER NOT NULL CHECK (step_order >= 0),
  label      TEXT,
  title      TEXT
);
CREATE INDEX course_steps_program ON course_steps(program_id, step_order);

CREATE TABLE enrolments (
  id                         TEXT PRIMARY KEY,
  student_user_id            TEXT NOT NULL REFERENCES users(id) DEFERRABLE INITIALLY DEFERRED,
  program_id                 TEXT NOT NULL REFERENCES course_programs(id) DEFERRABLE INITIALLY DEFERRED,
  stripe_checkout_session_id TEXT,
  status                     TEXT NOT NULL CHECK (status IN ('active','revoked','refunded')),
  enrolled_at                TEXT
);
CREATE INDEX enrolments_session ON enrolments(stripe_checkout_session_id);
CREATE INDEX enrolments_program ON enrolments(program_id);

CREATE TABLE step_progress (
  id           TEXT PRIMARY KEY,
  enrolment_id TEXT NOT NULL REFERENCES enrolments(id) DEFERRABLE INITIALLY DEFERRED,
  step_id      TEXT NOT NULL REFERENCES course_steps(id) DEFERRABLE INITIALLY DEFERRED,
  status       TEXT NOT NULL CHECK (status IN
    ('UNBOOKED','BOOKED','COMPLETED','MISSED','CANCELLED')),
  booked_at    TEXT,
  completed_at TEXT
);
CREATE INDEX step_progress_enrolment ON step_progress(enrolment_id, step_id);

CREATE TABLE usage (
  tenant_id   TEXT NOT NULL REFERENCES tenants(id) DEFERRABLE INITIALLY DEFERRED,
  metric      TEXT NOT NULL,
  value       INTEGER NOT NULL,
  measured_at TEXT NOT NULL,
  PRIMARY KEY (tenant_id, metric, measured_at)
);

-- One row per invocation of a command that changes data (and per job run).
CREATE TABLE runs (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  command       TEXT NOT NULL,
  args          TEXT,
  job           TEXT,
  scheduled_for TEXT,
  started_at    TEXT NOT NULL,
  ended_at      TEXT,
  status        TEXT NOT NULL CHECK (status IN ('running','ok','failed','skipped')),
  exit_code     INTEGER,
  counts        TEXT,     -- JSON object, per-command figures
  error         TEXT,
  pid           INTEGER
);
CREATE INDEX runs_command ON runs(command, started_at);
