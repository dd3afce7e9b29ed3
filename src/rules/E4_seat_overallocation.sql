-- E4 seat_overallocation                                   severity: medium
-- An active entitlement with more active seat assignments (released_at
-- NULL) than quantity_seats.  Report only, unless the config's
-- repair.release_overallocated_seats is true: then the proposed action is
-- release_seats of the newest assignments (action_after lists them, newest
-- first).  An admin grant's seats are only ever reported.
-- Subject: the entitlement.
WITH held AS (
  SELECT entitlement_id, COUNT(*) AS n FROM main.seat_assignments
  WHERE released_at IS NULL GROUP BY entitlement_id
), pol AS (
  SELECT (SELECT value FROM temp.policy WHERE key = 'release_overallocated_seats') AS release
)
SELECT 'medium' AS severity,
  'entitlement' AS subject_type, e.id AS subject_id, e.tenant_id,
  COALESCE(e.stripe_subscription_id, e.stripe_checkout_session_id) AS stripe_object,
  'at most ' || e.quantity_seats || ' active seat assignments' AS expected,
  h.n || ' active seat assignments' AS actual,
  CASE WHEN pol.release AND e.source <> 'admin_grant' THEN 'release_seats' ELSE 'report' END
    AS action,
  CASE WHEN pol.release AND e.source <> 'admin_grant'
       THEN 'release the ' || (h.n - e.quantity_seats) || ' newest seat assignments of ' || e.id
       ELSE 'report: ' || (h.n - e.quantity_seats) || ' seats over; releasing is off '
            || '(repair.release_overallocated_seats)' END AS action_text,
  'seat_assignments' AS action_table, e.id AS action_row_id, 'released_at' AS action_field,
  (SELECT json_group_array(json_object('user_id', x.user_id, 'assigned_at', x.assigned_at))
     FROM (SELECT a.user_id, a.assigned_at,
                  ROW_NUMBER() OVER (ORDER BY a.assigned_at DESC, a.user_id DESC) AS rn
             FROM main.seat_assignments a
            WHERE a.entitlement_id = e.id AND a.released_at IS NULL) x
    WHERE x.rn <= h.n - e.quantity_seats) AS action_after
FROM main.entitlements e JOIN held h ON h.entitlement_id = e.id CROSS JOIN pol
WHERE e.status = 'active' AND e.quantity_seats IS NOT NULL AND h.n > e.quantity_seats
