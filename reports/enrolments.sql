-- One row per enrolment (SPEC "Reports": enrolments.csv).
-- Enrolments with enrolled_at inside --from/--to (all without a range),
-- with the student, the program and the progress of its steps.  Plain SQL
-- over the platform tables (no SQL function of trueup's), ordered by id.
-- The steps of each program are counted once (a join on the per-program
-- counts), not once per enrolment.
SELECT e.id AS enrolment_id,
  e.student_user_id,
  u.email AS student_email,
  e.program_id,
  cp.code AS program_code,
  cp.title AS program_title,
  e.status,
  e.enrolled_at,
  e.stripe_checkout_session_id,
  COALESCE(st.n, 0) AS steps,
  (SELECT COUNT(DISTINCT sp.step_id) FROM main.step_progress sp
    WHERE sp.enrolment_id = e.id AND sp.status = 'BOOKED') AS steps_booked,
  (SELECT COUNT(DISTINCT sp.step_id) FROM main.step_progress sp
    WHERE sp.enrolment_id = e.id AND sp.status = 'COMPLETED') AS steps_completed,
  (SELECT COUNT(DISTINCT o.step_id) FROM temp.progress_out_of_order o
    WHERE o.enrolment_id = e.id) AS steps_booked_out_of_order
FROM main.enrolments e
CROSS JOIN temp.report_params p
LEFT JOIN main.users u ON u.id = e.student_user_id
LEFT JOIN main.course_programs cp ON cp.id = e.program_id
LEFT JOIN (SELECT s.program_id, COUNT(*) AS n FROM main.course_steps s GROUP BY s.program_id) st
  ON st.program_id = e.program_id
WHERE (p.from_utc IS NULL OR e.enrolled_at >= p.from_utc)
  AND (p.to_utc IS NULL OR e.enrolled_at < p.to_utc)
ORDER BY e.id
