-- Course completion per program (SPEC "Reports": completion.csv).
-- numeric: completion_rate
-- Over the program's active enrolments: steps of the program, the
-- enrolment x step slots, those COMPLETED, the rate (completed / slots, 4
-- decimals, empty without slots), students who completed every step, and
-- steps booked out of order (prelude _progress.sql).  Refunded and revoked
-- enrolments are counted apart.  State as of the snapshot (no date range).
WITH steps AS (
  SELECT program_id, COUNT(*) AS n FROM main.course_steps GROUP BY program_id
), en AS (
  SELECT e.id, e.program_id,
    (SELECT COUNT(DISTINCT sp.step_id) FROM main.step_progress sp
      WHERE sp.enrolment_id = e.id AND sp.status = 'COMPLETED') AS completed,
    (SELECT COUNT(DISTINCT o.step_id) FROM temp.progress_out_of_order o
      WHERE o.enrolment_id = e.id) AS out_of_order
  FROM main.enrolments e WHERE e.status = 'active'
), agg AS (
  SELECT en.program_id, COUNT(*) AS enrolled, SUM(en.completed) AS completed,
    SUM(en.out_of_order) AS out_of_order,
    SUM(COALESCE(st.n, 0) > 0 AND en.completed >= st.n) AS completed_all
  FROM en LEFT JOIN steps st ON st.program_id = en.program_id
  GROUP BY en.program_id
)
SELECT cp.id AS program_id, cp.code AS program_code, cp.title AS program_title,
  COALESCE(a.enrolled, 0) AS enrolled,
  (SELECT COUNT(*) FROM main.enrolments e WHERE e.program_id = cp.id AND e.status = 'refunded')
    AS refunded,
  (SELECT COUNT(*) FROM main.enrolments e WHERE e.program_id = cp.id AND e.status = 'revoked')
    AS revoked,
  COALESCE(st.n, 0) AS steps,
  COALESCE(a.enrolled, 0) * COALESCE(st.n, 0) AS step_slots,
  COALESCE(a.completed, 0) AS steps_completed,
  CASE WHEN COALESCE(a.enrolled, 0) * COALESCE(st.n, 0) > 0
       THEN printf('%.4f', 1.0 * a.completed / (a.enrolled * st.n)) END AS completion_rate,
  COALESCE(a.completed_all, 0) AS students_completed_all,
  COALESCE(a.out_of_order, 0) AS steps_booked_out_of_order
FROM main.course_programs cp
LEFT JOIN steps st ON st.program_id = cp.id
LEFT JOIN agg a ON a.program_id = cp.id
ORDER BY cp.code
