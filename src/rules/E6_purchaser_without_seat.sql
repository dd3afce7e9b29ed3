-- E6 purchaser_without_seat                                severity: medium
-- An active entitlement with seats (quantity_seats > 0) of a tenant whose
-- owner holds no active seat on it while seats are free.  Admin grants are
-- left alone (G1).
-- Subject: the entitlement.  Repair: assign a seat to the owner.
WITH held AS (
  SELECT entitlement_id, COUNT(*) AS n FROM main.seat_assignments
  WHERE released_at IS NULL GROUP BY entitlement_id
)
SELECT 'medium' AS severity,
  'entitlement' AS subject_type, e.id AS subject_id, e.tenant_id,
  COALESCE(e.stripe_subscription_id, e.stripe_checkout_session_id) AS stripe_object,
  'owner ' || t.owner_user_id || ' holds a seat' AS expected,
  'owner holds no seat; ' || COALESCE(h.n, 0) || ' of ' || e.quantity_seats || ' seats in use'
    AS actual,
  'assign_seat' AS action,
  'assign a seat of ' || e.id || ' to owner ' || t.owner_user_id AS action_text,
  'seat_assignments' AS action_table, e.id AS action_row_id, 'user_id' AS action_field,
  t.owner_user_id AS action_after
FROM main.entitlements e
JOIN main.tenants t ON t.id = e.tenant_id
LEFT JOIN held h ON h.entitlement_id = e.id
WHERE e.status = 'active' AND e.source <> 'admin_grant'
  AND e.quantity_seats > 0 AND t.owner_user_id IS NOT NULL
  AND COALESCE(h.n, 0) < e.quantity_seats
  AND NOT EXISTS (SELECT 1 FROM main.seat_assignments a
                  WHERE a.entitlement_id = e.id AND a.user_id = t.owner_user_id
                    AND a.released_at IS NULL)
