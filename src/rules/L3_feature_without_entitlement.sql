-- L3 feature_without_entitlement                           severity: high
-- Usage of a boolean feature the tenant is not entitled to: events on an
-- LMS-only account, courses on an organizer-only one (seed 000), or any
-- boolean feature whose latest usage metric of the same code is above 0
-- (seed 004: enforcement leaks).  Entitled = the tenant's plan or the
-- product of any of its active entitlements (admin grants included) gives
-- the feature true.  Evidence: rows in events / courses (organization =
-- tenant, or no organization and owner = the tenant's owner) and the
-- latest usage value.  Report only.
-- Subject: tenant_feature:<tenant id>/<feature>.
WITH lacking AS (
  SELECT t.id AS tenant_id, t.owner_user_id, t.plan, f.feature
  FROM main.tenants t
  JOIN temp.catalogue_plan_features f ON f.plan = t.plan AND f.kind = 'bool' AND f.value = 0
  WHERE NOT EXISTS (SELECT 1 FROM main.entitlements e
                    JOIN temp.catalogue_plan_features g
                      ON g.plan = e.product AND g.feature = f.feature
                     AND g.kind = 'bool' AND g.value = 1
                    WHERE e.tenant_id = t.id AND e.status = 'active')
), evidence AS (
  SELECT l.*,
    CASE l.feature
      WHEN 'events' THEN
        (SELECT COUNT(*) FROM main.events e WHERE e.organization_id = l.tenant_id)
        + (SELECT COUNT(*) FROM main.events e
            WHERE e.organization_id IS NULL AND e.owner_user_id = l.owner_user_id)
      WHEN 'courses' THEN
        (SELECT COUNT(*) FROM main.courses c WHERE c.organization_id = l.tenant_id)
        + (SELECT COUNT(*) FROM main.courses c
            WHERE c.organization_id IS NULL AND c.owner_user_id = l.owner_user_id)
      ELSE 0 END AS rows_n,
    (SELECT u.value FROM main.usage u WHERE u.tenant_id = l.tenant_id AND u.metric = l.feature
      ORDER BY u.measured_at DESC LIMIT 1) AS usage_n
  FROM lacking l
)
SELECT 'high' AS severity,
  'tenant_feature' AS subject_type, ev.tenant_id || '/' || ev.feature AS subject_id,
  ev.tenant_id, NULL AS stripe_object,
  'no ' || ev.feature || ' (plan ' || ev.plan || ' does not include it)' AS expected,
  CASE WHEN ev.rows_n > 0 THEN ev.rows_n || ' ' || ev.feature || ' rows' ELSE '' END
    || CASE WHEN ev.rows_n > 0 AND COALESCE(ev.usage_n, 0) > 0 THEN '; ' ELSE '' END
    || CASE WHEN COALESCE(ev.usage_n, 0) > 0 THEN 'usage ' || ev.feature || ' = ' || ev.usage_n
            ELSE '' END AS actual,
  'report' AS action,
  'report: ' || ev.feature || ' used without entitlement; enforce it in the backend'
    AS action_text
FROM evidence ev
WHERE ev.rows_n > 0 OR COALESCE(ev.usage_n, 0) > 0
