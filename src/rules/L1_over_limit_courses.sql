-- L1 over_limit_courses                                    severity: medium
-- A tenant whose plan has a numeric courses_per_month limit (not
-- unlimited; plans without courses at all are L3's) and that created more
-- courses than that in the current calendar month.  "This month" is the
-- month of the reconcile's time in the config's timezone (policy month,
-- month_start, month_end; UTC bounds computed by the engine).  A tenant's
-- courses: organization_id = tenant, or no organization and owner = the
-- tenant's owner (LMS-only ownership, seed 000).  Report only.
-- Subject: tenant_month:<tenant id>/<YYYY-MM> (each month is its own case).
WITH pol AS (
  SELECT (SELECT value FROM temp.policy WHERE key = 'month') AS month,
         (SELECT value FROM temp.policy WHERE key = 'month_start') AS m0,
         (SELECT value FROM temp.policy WHERE key = 'month_end') AS m1
), lim AS (
  SELECT t.id, t.plan, t.owner_user_id, f.value AS lim
  FROM main.tenants t
  JOIN temp.catalogue_plan_features f
    ON f.plan = t.plan AND f.feature = 'courses_per_month' AND f.kind = 'limit'
  WHERE NOT EXISTS (SELECT 1 FROM temp.catalogue_plan_features c
                    WHERE c.plan = t.plan AND c.feature = 'courses'
                      AND c.kind = 'bool' AND c.value = 0)
), made AS (
  SELECT lim.*, pol.month,
    (SELECT COUNT(*) FROM main.courses c
      WHERE c.organization_id = lim.id AND c.created_at >= pol.m0 AND c.created_at < pol.m1)
    + (SELECT COUNT(*) FROM main.courses c
        WHERE c.organization_id IS NULL AND c.owner_user_id = lim.owner_user_id
          AND c.created_at >= pol.m0 AND c.created_at < pol.m1) AS n
  FROM lim CROSS JOIN pol
)
SELECT 'medium' AS severity,
  'tenant_month' AS subject_type, m.id || '/' || m.month AS subject_id, m.id AS tenant_id,
  NULL AS stripe_object,
  'at most ' || m.lim || ' courses created in ' || m.month || ' (plan ' || m.plan || ')'
    AS expected,
  m.n || ' courses created in ' || m.month AS actual,
  'report' AS action,
  'report: ' || (m.n - m.lim) || ' courses over the monthly limit' AS action_text
FROM made m WHERE m.n > m.lim
