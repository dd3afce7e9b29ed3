-- E5 plan_drift                                            severity: high
-- A tenant whose plan differs from the plan of its live subscription's
-- price (the newest live one when it has several).  Repair: set
-- tenants.plan — except that an LMS plan never becomes an organizer role
-- (seed 000): when the tenant's current plan gives the role
-- course_manager and the new one the role organizer (roles from the
-- catalogue), the action is report only.
-- Subject: the tenant.
WITH cand AS (
  SELECT s.*, ROW_NUMBER() OVER (PARTITION BY s.tenant_id
                                 ORDER BY s.created DESC, s.subscription_id DESC) AS rn
  FROM temp.sub_state s
  WHERE s.live AND s.plan IS NOT NULL AND s.tenant_id IS NOT NULL
), drift AS (
  SELECT t.id, t.plan AS old_plan, c.plan AS new_plan, c.subscription_id,
    COALESCE(op.role = 'course_manager' AND np.role = 'organizer', 0) AS blocked
  FROM cand c JOIN main.tenants t ON t.id = c.tenant_id
  LEFT JOIN temp.catalogue_plans op ON op.plan = t.plan
  LEFT JOIN temp.catalogue_plans np ON np.plan = c.plan
  WHERE c.rn = 1 AND t.plan IS NOT c.plan
)
SELECT 'high' AS severity,
  'tenant' AS subject_type, d.id AS subject_id, d.id AS tenant_id,
  d.subscription_id AS stripe_object,
  'plan ' || d.new_plan AS expected,
  'plan ' || COALESCE(d.old_plan, 'NULL') AS actual,
  CASE WHEN d.blocked THEN 'report' ELSE 'set' END AS action,
  CASE WHEN d.blocked
       THEN 'report: an LMS plan never becomes an organizer role; check ' || d.id || ' by hand'
       ELSE 'set plan of ' || d.id || ' from ' || COALESCE(d.old_plan, 'NULL') || ' to ' || d.new_plan
  END AS action_text,
  'tenants' AS action_table, d.id AS action_row_id, 'plan' AS action_field,
  d.old_plan AS action_before, d.new_plan AS action_after
FROM drift d
