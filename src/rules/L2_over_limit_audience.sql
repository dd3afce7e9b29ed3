-- L2 over_limit_audience                                   severity: medium
-- A tenant whose latest usage of metric 'audience' is above its plan's
-- numeric 'audience' limit (events_lms: organizer 500, lms 1000;
-- classroom_tiers: BASIC 20, EARLY_ADOPTER 10000).  'unlimited' never
-- violates; a plan without an audience feature is not checked.  Report only.
-- Subject: the tenant.
WITH latest AS (
  SELECT u.tenant_id, u.value, u.measured_at,
    ROW_NUMBER() OVER (PARTITION BY u.tenant_id ORDER BY u.measured_at DESC) AS rn
  FROM main.usage u WHERE u.metric = 'audience'
)
SELECT 'medium' AS severity,
  'tenant' AS subject_type, t.id AS subject_id, t.id AS tenant_id, NULL AS stripe_object,
  'audience at most ' || f.value || ' (plan ' || t.plan || ')' AS expected,
  'audience ' || l.value || ' (measured ' || l.measured_at || ')' AS actual,
  'report' AS action,
  'report: ' || (l.value - f.value) || ' over the plan''s audience capacity' AS action_text
FROM latest l
JOIN main.tenants t ON t.id = l.tenant_id
JOIN temp.catalogue_plan_features f
  ON f.plan = t.plan AND f.feature = 'audience' AND f.kind = 'limit'
WHERE l.rn = 1 AND l.value > f.value
