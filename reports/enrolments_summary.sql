-- Per course program and period: new, refunded and active enrolments (SPEC "Reports": enrolments_summary.csv).
-- Periods are months or days (--period) in the reporting time zone, from
-- the period of the first enrolment (or --from) to the period of the run
-- (or --to), every period listed even when nothing happened.  new: enrolled
-- in the period; refunded: status 'refunded', dated by the latest refund of
-- the enrolment's checkout session (by its payment intent; the enrolment
-- date when there is none); active_at_period_end: enrolled before the
-- period's end and not ended by then (a refunded enrolment ends at its
-- refund; a revoked one, whose revocation time the platform does not
-- export, counts as never active).
WITH RECURSIVE ev AS (
  SELECT e.id, e.program_id, epoch(e.enrolled_at) AS enrolled, e.status,
    CASE WHEN e.status = 'refunded' THEN
      COALESCE((SELECT MAX(r.created) FROM main.stripe_checkout_sessions cs
                JOIN main.stripe_refunds r ON r.payment_intent = cs.payment_intent
                WHERE cs.id = e.stripe_checkout_session_id
                  AND r.status IN ('succeeded', 'pending') AND r.deleted_at IS NULL),
               epoch(e.enrolled_at)) END AS refunded_at
  FROM main.enrolments e
  WHERE e.enrolled_at IS NOT NULL
), ends AS (
  SELECT program_id, CASE status WHEN 'refunded' THEN refunded_at ELSE enrolled END AS ended
  FROM ev WHERE status IN ('refunded', 'revoked')
), bounds AS (
  SELECT period_start(COALESCE(p.from_epoch, (SELECT MIN(enrolled) FROM ev))) AS first,
         COALESCE(p.to_epoch, period_end(p.now)) AS stop
  FROM temp.report_params p
), periods(s, e) AS (
  SELECT first, period_end(first) FROM bounds WHERE first IS NOT NULL AND first < stop
  UNION ALL
  SELECT periods.e, period_end(periods.e) FROM periods, bounds WHERE periods.e < bounds.stop
), new_c AS (
  SELECT program_id, period_start(enrolled) AS s, COUNT(*) AS n FROM ev GROUP BY 1, 2
), refund_c AS (
  SELECT program_id, period_start(refunded_at) AS s, COUNT(*) AS n FROM ev
  WHERE refunded_at IS NOT NULL GROUP BY 1, 2
), end_c AS (
  SELECT program_id, period_start(ended) AS s, COUNT(*) AS n FROM ends GROUP BY 1, 2
)
SELECT cp.id AS program_id, cp.code AS program_code,
  period_of(pr.s) AS period,
  iso_utc(pr.s) AS interval_start_utc,
  iso_utc(pr.e) AS interval_end_utc,
  COALESCE((SELECT n FROM new_c WHERE program_id = cp.id AND s = pr.s), 0) AS new,
  COALESCE((SELECT n FROM refund_c WHERE program_id = cp.id AND s = pr.s), 0) AS refunded,
  COALESCE((SELECT SUM(n) FROM new_c WHERE program_id = cp.id AND s < pr.e), 0)
    - COALESCE((SELECT SUM(n) FROM end_c WHERE program_id = cp.id AND s < pr.e), 0)
    AS active_at_period_end
FROM main.course_programs cp CROSS JOIN periods pr
ORDER BY cp.code, pr.s
