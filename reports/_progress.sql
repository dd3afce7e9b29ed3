-- _progress.sql - prelude: steps booked out of order (TEMP view).
--
-- progress_out_of_order(enrolment_id, step_id, program_id, step_order): a
-- BOOKED or COMPLETED progress row of a step while an earlier step of the
-- same program (lower step_order) has no BOOKED/COMPLETED row for that
-- enrolment, or has one booked later than this one.  The sequence is
-- advisory (seed 002: students may skip ahead), so this is counted, not
-- flagged.  A step booked twice (rule C3) gives two rows: count distinct
-- step_id per enrolment.
DROP VIEW IF EXISTS temp.progress_out_of_order;
CREATE TEMP VIEW progress_out_of_order AS
SELECT sp.enrolment_id, sp.step_id, st.program_id, st.step_order
FROM main.step_progress sp
JOIN main.course_steps st ON st.id = sp.step_id
WHERE sp.status IN ('BOOKED', 'COMPLETED')
  AND EXISTS (
    SELECT 1 FROM main.course_steps prev
    WHERE prev.program_id = st.program_id AND prev.step_order < st.step_order
      AND NOT EXISTS (
        SELECT 1 FROM main.step_progress pp
        WHERE pp.enrolment_id = sp.enrolment_id AND pp.step_id = prev.id
          AND pp.status IN ('BOOKED', 'COMPLETED')
          AND (pp.booked_at IS NULL OR sp.booked_at IS NULL OR pp.booked_at <= sp.booked_at)));
