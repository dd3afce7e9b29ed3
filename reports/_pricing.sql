-- _pricing.sql - prelude: the pricing page against the enforcement registry
-- (TEMP view pricing_rows), shared by pricing_mismatches.csv (which lists
-- it) and plan_audit.csv (which counts it per plan).  See
-- pricing_mismatches.sql for the kinds and severities.  Reads the
-- catalogue tables of the report context and temp.enforcement_leaks
-- (_leaks.sql).
DROP VIEW IF EXISTS temp.pricing_rows;
CREATE TEMP VIEW pricing_rows AS
WITH pairs AS (
  SELECT cp.plan, ci.position AS plan_pos, cf.feature, cf.type, cf.label, cf.position,
    e.kind AS ek, e.value AS ev, pr.kind AS pk, pr.value AS pv
  FROM temp.catalogue_plans cp
  JOIN temp.catalogue_plan_info ci ON ci.plan = cp.plan
  CROSS JOIN temp.catalogue_features cf
  LEFT JOIN temp.catalogue_plan_features e ON e.plan = cp.plan AND e.feature = cf.feature
  LEFT JOIN temp.catalogue_promises pr ON pr.plan = cp.plan AND pr.feature = cf.feature
), g AS (
  SELECT pairs.*,
    COALESCE(ek = 'unlimited' OR (ek IN ('bool', 'limit') AND ev > 0), 0) AS e_gives,
    COALESCE(pk = 'unlimited' OR (pk IN ('bool', 'limit') AND pv > 0), 0) AS p_gives,
    COALESCE((pk = 'unlimited' AND ek IS NOT 'unlimited')
             OR (pk = 'limit' AND ek = 'limit' AND ev < pv), 0) AS e_less
  FROM pairs
), judged AS (
  SELECT g.*,
    CASE
      WHEN pk IS NULL THEN CASE WHEN e_gives THEN 'enforced_not_promised' END
      WHEN ek IS pk AND ev IS pv THEN NULL
      WHEN p_gives AND NOT e_gives THEN 'promise_not_enforced'
      WHEN e_gives AND NOT p_gives THEN 'enforced_not_promised'
      WHEN e_gives AND p_gives THEN 'value_differs'
    END AS kind
  FROM g
), leaks AS (
  SELECT plan, feature, COUNT(DISTINCT tenant_id) AS n,
    (SELECT group_concat(tenant_id, ' ') FROM
       (SELECT DISTINCT l2.tenant_id FROM temp.enforcement_leaks l2
         WHERE l2.plan = l.plan AND l2.feature = l.feature ORDER BY l2.tenant_id LIMIT 10))
      AS examples
  FROM temp.enforcement_leaks l GROUP BY plan, feature
), rows_ AS (
  SELECT j.plan, j.plan_pos, j.feature, j.position, j.type, j.label, j.ek, j.ev, j.pk, j.pv,
    j.kind,
    CASE j.kind WHEN 'promise_not_enforced' THEN 'critical'
                WHEN 'value_differs' THEN CASE WHEN j.e_less THEN 'critical' ELSE 'medium' END
                ELSE 'medium' END AS severity
  FROM judged j WHERE j.kind IS NOT NULL
  UNION ALL
  SELECT j.plan, j.plan_pos, j.feature, j.position, j.type, j.label, j.ek, j.ev, j.pk, j.pv,
    'enforcement_leak', 'high'
  FROM g j JOIN leaks lk ON lk.plan = j.plan AND lk.feature = j.feature
)
SELECT r.plan, r.plan_pos, r.position AS feature_pos, r.feature, r.type AS feature_type, r.label AS feature_label,
  CASE r.pk WHEN 'unlimited' THEN 'unlimited'
            WHEN 'bool' THEN CASE r.pv WHEN 1 THEN 'true' ELSE 'false' END
            WHEN 'limit' THEN CAST(r.pv AS TEXT) ELSE '' END AS pricing_page_value,
  CASE r.ek WHEN 'unlimited' THEN 'unlimited'
            WHEN 'bool' THEN CASE r.ev WHEN 1 THEN 'true' ELSE 'false' END
            WHEN 'limit' THEN CAST(r.ev AS TEXT) ELSE '' END AS enforced_value,
  r.kind, r.severity,
  COALESCE(lk.n, 0) AS observed_violations,
  COALESCE(lk.examples, '') AS example_tenants
FROM rows_ r
LEFT JOIN leaks lk ON lk.plan = r.plan AND lk.feature = r.feature;
