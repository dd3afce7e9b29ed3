-- C2 missing_step_progress                                 severity: medium
-- An active enrolment with no progress row (any status) for a step of its
-- program.  Seed 001: progress is seeded on purchase.
-- Subject: enrolment_step:<enrolment id>/<step id>.
-- Repair: seed an UNBOOKED row.
SELECT 'medium' AS severity,
  'enrolment_step' AS subject_type, en.id || '/' || st.id AS subject_id,
  NULL AS tenant_id, en.stripe_checkout_session_id AS stripe_object,
  'a progress row for step ' || COALESCE(st.label, st.id) || ' of ' || en.program_id AS expected,
  'none' AS actual,
  'seed_progress' AS action,
  'seed an UNBOOKED progress row for ' || en.id || ' step ' || st.id AS action_text,
  'step_progress' AS action_table, 'status' AS action_field,
  json_object('enrolment_id', en.id, 'step_id', st.id, 'status', 'UNBOOKED') AS action_after
FROM main.enrolments en
JOIN main.course_steps st ON st.program_id = en.program_id
WHERE en.status = 'active'
  AND NOT EXISTS (SELECT 1 FROM main.step_progress sp
                  WHERE sp.enrolment_id = en.id AND sp.step_id = st.id)
