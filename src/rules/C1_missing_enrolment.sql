-- C1 missing_enrolment                                     severity: high
-- A complete, paid, not fully refunded checkout session for a course
-- program (by its line items' prices) with a known buyer and no enrolment
-- bought with it (in that program).  Seed 001: a purchase enrols and seeds
-- progress.  Report only when the program code is not in course_programs.
-- A paid course session with no buyer is M1's.
-- Subject: checkout_session:<session id>/<program code>.
-- Repair: enrol and seed UNBOOKED progress for every step.
SELECT 'high' AS severity,
  'checkout_session' AS subject_type, cs.session_id || '/' || it.value AS subject_id,
  cs.tenant_id, cs.session_id AS stripe_object,
  'an enrolment of ' || cs.user_id || ' in ' || it.value AS expected,
  'no enrolment for the session' AS actual,
  CASE WHEN cp.id IS NULL THEN 'report' ELSE 'enrol' END AS action,
  CASE WHEN cp.id IS NULL THEN 'report: course program ' || it.value || ' does not exist'
       ELSE 'enrol ' || cs.user_id || ' in ' || cp.id || ' and seed '
            || (SELECT COUNT(*) FROM main.course_steps st WHERE st.program_id = cp.id)
            || ' UNBOOKED steps' END AS action_text,
  'enrolments' AS action_table,
  json_object('student_user_id', cs.user_id, 'program_id', cp.id,
              'stripe_checkout_session_id', cs.session_id, 'status', 'active') AS action_after
FROM temp.session_state cs
JOIN temp.item_target it ON it.source = 'checkout_session' AND it.parent_id = cs.session_id
                        AND it.target = 'course_program'
LEFT JOIN main.course_programs cp ON cp.code = it.value
WHERE cs.paid AND NOT cs.deleted AND NOT cs.fully_refunded AND cs.user_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM main.enrolments en
                  WHERE en.stripe_checkout_session_id = cs.session_id
                    AND (cp.id IS NULL OR en.program_id = cp.id))
GROUP BY cs.session_id, it.value
