-- The journal of applied repairs (SPEC "Drift rules" and "Reports": repairs.csv).
-- One row per platform row `trueup repair --apply` inserted or changed (the
-- repair_ledger), in the order applied, with the idempotency key a platform
-- replaying the journal de-duplicates on, the table, the row id and the
-- changed fields before and after (JSON objects of the changed columns).
SELECT l.id AS entry_id, l.idempotency_key, l.action_key, l.applied_at, l.run_id,
  l.finding_id, l.rule, l.subject, l.tenant_id, l.stripe_object, l.action,
  l.table_name, l.row_id, l.op, l.before, l.after
FROM main.repair_ledger l
ORDER BY l.id
