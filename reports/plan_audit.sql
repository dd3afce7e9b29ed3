-- One row per plan: tenants, live subscriptions, open drift by rule, pricing mismatches and the seed 000 verification checks (SPEC "Reports": plan_audit.csv).
-- Every plan of the catalogue, then any plan tenants have that the
-- catalogue lacks (in_catalogue = no).  open_* counts open findings whose
-- tenant is on the plan (findings without a tenant are in drift.csv
-- only).  The checks are pass / fail, or n/a where they do not apply:
--   check_lms_courses_not_events      role course_manager: the plan gives
--       courses, not events, and no tenant on it has events
--   check_organizer_events_not_courses  role organizer: the reverse
--   check_organization_both           role organization_admin: events,
--       courses and team
--   check_data_respects_plan          no enforcement leak on the plan
--   check_courses_have_owner          no course created by an owner of a
--       tenant on the plan lacks both an organization and an owner
WITH plans AS (
  SELECT cp.plan, ci.name, cp.role, cp.free, 1 AS in_catalogue, ci.position
  FROM temp.catalogue_plans cp JOIN temp.catalogue_plan_info ci ON ci.plan = cp.plan
  UNION ALL
  SELECT DISTINCT t.plan, NULL, NULL, NULL, 0, 1000000
  FROM main.tenants t
  WHERE t.plan IS NOT NULL AND t.plan NOT IN (SELECT plan FROM temp.catalogue_plans)
), feat AS (
  SELECT p.plan,
    (SELECT value FROM temp.catalogue_plan_features WHERE plan = p.plan AND feature = 'courses'
       AND kind = 'bool') AS courses,
    (SELECT value FROM temp.catalogue_plan_features WHERE plan = p.plan AND feature = 'events'
       AND kind = 'bool') AS events,
    (SELECT value FROM temp.catalogue_plan_features WHERE plan = p.plan AND feature = 'team'
       AND kind = 'bool') AS team
  FROM plans p
), findings_by_plan AS (
  SELECT t.plan,
    COALESCE(SUM(f.rule = 'E1'), 0) AS open_E1,
    COALESCE(SUM(f.rule = 'E2'), 0) AS open_E2,
    COALESCE(SUM(f.rule = 'E3'), 0) AS open_E3,
    COALESCE(SUM(f.rule = 'E4'), 0) AS open_E4,
    COALESCE(SUM(f.rule = 'E5'), 0) AS open_E5,
    COALESCE(SUM(f.rule = 'E6'), 0) AS open_E6,
    COALESCE(SUM(f.rule = 'E7'), 0) AS open_E7,
    COALESCE(SUM(f.rule = 'P1'), 0) AS open_P1,
    COALESCE(SUM(f.rule = 'P2'), 0) AS open_P2,
    COALESCE(SUM(f.rule = 'P3'), 0) AS open_P3,
    COALESCE(SUM(f.rule = 'R1'), 0) AS open_R1,
    COALESCE(SUM(f.rule = 'C1'), 0) AS open_C1,
    COALESCE(SUM(f.rule = 'C2'), 0) AS open_C2,
    COALESCE(SUM(f.rule = 'C3'), 0) AS open_C3,
    COALESCE(SUM(f.rule = 'C4'), 0) AS open_C4,
    COALESCE(SUM(f.rule = 'L1'), 0) AS open_L1,
    COALESCE(SUM(f.rule = 'L2'), 0) AS open_L2,
    COALESCE(SUM(f.rule = 'L3'), 0) AS open_L3,
    COALESCE(SUM(f.rule = 'G1'), 0) AS open_G1,
    COALESCE(SUM(f.rule = 'M1'), 0) AS open_M1,
    COUNT(*) AS open_findings,
    COALESCE(SUM(f.severity = 'critical'), 0) AS open_critical
  FROM main.findings f JOIN main.tenants t ON t.id = f.tenant_id
  WHERE f.status = 'open'
  GROUP BY t.plan
), orphans AS (
  SELECT t.plan, COUNT(DISTINCT c.id) AS n
  FROM main.tenants t
  JOIN main.courses c ON c.organization_id IS NULL AND c.owner_user_id IS NULL
   AND c.created_by = t.owner_user_id
  GROUP BY t.plan
), leaks AS (
  SELECT plan, COUNT(DISTINCT tenant_id) AS tenants,
    COALESCE(SUM(feature = 'events'), 0) AS events,
    COALESCE(SUM(feature = 'courses'), 0) AS courses
  FROM temp.enforcement_leaks GROUP BY plan
), pricing AS (
  SELECT plan, COALESCE(SUM(kind <> 'enforcement_leak'), 0) AS n,
    COALESCE(SUM(kind <> 'enforcement_leak' AND severity = 'critical'), 0) AS critical
  FROM temp.pricing_rows GROUP BY plan
)
SELECT p.plan, COALESCE(p.name, '') AS plan_name, COALESCE(p.role, '') AS role,
  CASE p.in_catalogue WHEN 1 THEN 'yes' ELSE 'no' END AS in_catalogue,
  (SELECT COUNT(*) FROM main.tenants t WHERE t.plan = p.plan) AS tenants,
  (SELECT COUNT(*) FROM temp.sub_state s WHERE s.plan = p.plan AND s.live = 1)
    AS live_subscriptions,
  COALESCE(fb.open_findings, 0) AS open_findings,
  COALESCE(fb.open_critical, 0) AS open_critical,
  COALESCE(fb.open_E1, 0) AS open_E1,
  COALESCE(fb.open_E2, 0) AS open_E2,
  COALESCE(fb.open_E3, 0) AS open_E3,
  COALESCE(fb.open_E4, 0) AS open_E4,
  COALESCE(fb.open_E5, 0) AS open_E5,
  COALESCE(fb.open_E6, 0) AS open_E6,
  COALESCE(fb.open_E7, 0) AS open_E7,
  COALESCE(fb.open_P1, 0) AS open_P1,
  COALESCE(fb.open_P2, 0) AS open_P2,
  COALESCE(fb.open_P3, 0) AS open_P3,
  COALESCE(fb.open_R1, 0) AS open_R1,
  COALESCE(fb.open_C1, 0) AS open_C1,
  COALESCE(fb.open_C2, 0) AS open_C2,
  COALESCE(fb.open_C3, 0) AS open_C3,
  COALESCE(fb.open_C4, 0) AS open_C4,
  COALESCE(fb.open_L1, 0) AS open_L1,
  COALESCE(fb.open_L2, 0) AS open_L2,
  COALESCE(fb.open_L3, 0) AS open_L3,
  COALESCE(fb.open_G1, 0) AS open_G1,
  COALESCE(fb.open_M1, 0) AS open_M1,
  COALESCE(pr.n, 0) AS pricing_mismatches,
  COALESCE(pr.critical, 0) AS pricing_mismatches_critical,
  COALESCE(lk.tenants, 0) AS tenants_with_leaks,
  CASE fe.courses WHEN 1 THEN 'yes' WHEN 0 THEN 'no' ELSE '' END AS can_manage_courses,
  CASE fe.events WHEN 1 THEN 'yes' WHEN 0 THEN 'no' ELSE '' END AS can_manage_events,
  CASE WHEN p.role IS NOT 'course_manager' THEN 'n/a'
       WHEN fe.courses = 1 AND fe.events = 0 AND COALESCE(lk.events, 0) = 0 THEN 'pass'
       ELSE 'fail' END AS check_lms_courses_not_events,
  CASE WHEN p.role IS NOT 'organizer' THEN 'n/a'
       WHEN fe.events = 1 AND fe.courses = 0 AND COALESCE(lk.courses, 0) = 0 THEN 'pass'
       ELSE 'fail' END AS check_organizer_events_not_courses,
  CASE WHEN p.role IS NOT 'organization_admin' THEN 'n/a'
       WHEN fe.events = 1 AND fe.courses = 1 AND fe.team IS NOT 0 THEN 'pass'
       ELSE 'fail' END AS check_organization_both,
  CASE WHEN COALESCE(lk.tenants, 0) = 0 THEN 'pass' ELSE 'fail' END AS check_data_respects_plan,
  CASE WHEN COALESCE(o.n, 0) = 0 THEN 'pass' ELSE 'fail' END AS check_courses_have_owner
FROM plans p
LEFT JOIN feat fe ON fe.plan = p.plan
LEFT JOIN findings_by_plan fb ON fb.plan = p.plan
LEFT JOIN orphans o ON o.plan = p.plan
LEFT JOIN leaks lk ON lk.plan = p.plan
LEFT JOIN pricing pr ON pr.plan = p.plan
ORDER BY p.position, p.plan
