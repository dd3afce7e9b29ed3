-- _leaks.sql - prelude: enforcement leaks observed in the data (TEMP view),
-- what the app let a tenant do beyond its plan (seed 004: "backend remains
-- source of truth"; seed 000: "hide event organizer flows for LMS-only
-- accounts").  The same tests as rules L2 and L3, read from the data
-- directly so the reports do not depend on when reconcile last ran.
--
-- enforcement_leaks(tenant_id, plan, feature, evidence):
--   a limit feature: the tenant's latest usage of the metric named like the
--     feature is above the plan's enforced limit (a BASIC tenant with
--     audience above 20); 'unlimited' never leaks;
--   a boolean feature the plan does not give, and no active entitlement of
--     the tenant gives: rows in events / courses (organization = tenant, or
--     no organization and owner = the tenant's owner) or a latest usage
--     above 0 (an LMS-only account owning events).
DROP VIEW IF EXISTS temp.enforcement_leaks;
CREATE TEMP VIEW enforcement_leaks AS
WITH latest AS (
  SELECT u.tenant_id, u.metric, u.value,
    ROW_NUMBER() OVER (PARTITION BY u.tenant_id, u.metric ORDER BY u.measured_at DESC) AS rn
  FROM main.usage u
), lacking AS (
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
    (SELECT x.value FROM latest x WHERE x.tenant_id = l.tenant_id AND x.metric = l.feature
      AND x.rn = 1) AS usage_n
  FROM lacking l
)
SELECT t.id AS tenant_id, t.plan, f.feature,
  'usage ' || f.feature || ' = ' || x.value || ' above the limit ' || f.value AS evidence
FROM main.tenants t
JOIN temp.catalogue_plan_features f ON f.plan = t.plan AND f.kind = 'limit'
JOIN latest x ON x.tenant_id = t.id AND x.metric = f.feature AND x.rn = 1
WHERE x.value > f.value
UNION ALL
SELECT ev.tenant_id, ev.plan, ev.feature,
  TRIM(CASE WHEN ev.rows_n > 0 THEN ev.rows_n || ' ' || ev.feature || ' rows ' ELSE '' END
       || CASE WHEN COALESCE(ev.usage_n, 0) > 0 THEN 'usage ' || ev.feature || ' = '
               || ev.usage_n ELSE '' END)
FROM evidence ev
WHERE ev.rows_n > 0 OR COALESCE(ev.usage_n, 0) > 0;
