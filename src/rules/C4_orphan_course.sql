-- C4 orphan_course                                         severity: medium
-- A course with neither an organization nor an owner (seed 000: backfill
-- owner from created_by).  Report only when created_by is not a user.
-- Subject: the course.  Repair: owner_user_id = created_by.
SELECT 'medium' AS severity,
  'course' AS subject_type, c.id AS subject_id, NULL AS tenant_id, NULL AS stripe_object,
  'an organization or an owner' AS expected,
  'neither (created_by ' || COALESCE(c.created_by, 'NULL') || ')' AS actual,
  CASE WHEN u.id IS NULL THEN 'report' ELSE 'set' END AS action,
  CASE WHEN u.id IS NULL THEN 'report: no creator to make owner'
       ELSE 'set owner of course ' || c.id || ' to its creator ' || u.id END AS action_text,
  'courses' AS action_table, c.id AS action_row_id, 'owner_user_id' AS action_field,
  NULL AS action_before, u.id AS action_after
FROM main.courses c
LEFT JOIN main.users u ON u.id = c.created_by
WHERE c.organization_id IS NULL AND c.owner_user_id IS NULL
