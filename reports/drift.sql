-- Every drift finding that is open or repaired (SPEC "Reports": drift.csv).
-- From the findings of `trueup reconcile` (resolved ones, which went away
-- by themselves, are left out), with the rule's name and the tenant's
-- plan; ordered by severity (critical first), rule, subject.
SELECT f.id AS finding_id, f.rule, r.name AS rule_name, f.severity, f.status,
  f.subject_type, f.subject_id, f.tenant_id, t.plan AS tenant_plan, f.stripe_object,
  f.expected, f.actual, f.action, f.action_text,
  f.first_seen, f.last_seen, f.repaired_at, f.reopened, f.last_run_id AS last_reconcile_run
FROM main.findings f
LEFT JOIN temp.rules r ON r.code = f.rule
LEFT JOIN main.tenants t ON t.id = f.tenant_id
WHERE f.status IN ('open', 'repaired')
ORDER BY CASE f.severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END,
  r.position, f.subject
