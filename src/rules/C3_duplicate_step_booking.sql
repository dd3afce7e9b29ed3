-- C3 duplicate_step_booking                                severity: medium
-- More than one BOOKED or COMPLETED progress row for one enrolment and
-- step (seed 001: a step cannot be booked twice).  A MISSED or CANCELLED
-- row next to a new booking is a rebooking, not a duplicate.  Report only.
-- Subject: enrolment_step:<enrolment id>/<step id>.
SELECT 'medium' AS severity,
  'enrolment_step' AS subject_type, sp.enrolment_id || '/' || sp.step_id AS subject_id,
  NULL AS tenant_id, en.stripe_checkout_session_id AS stripe_object,
  'at most one BOOKED or COMPLETED row' AS expected,
  COUNT(*) || ' rows: ' || group_concat(sp.id || ' ' || sp.status, ', ') AS actual,
  'report' AS action,
  'report: step ' || sp.step_id || ' of ' || sp.enrolment_id || ' is booked more than once'
    AS action_text
FROM main.step_progress sp
JOIN main.enrolments en ON en.id = sp.enrolment_id
WHERE sp.status IN ('BOOKED', 'COMPLETED')
GROUP BY sp.enrolment_id, sp.step_id
HAVING COUNT(*) > 1
