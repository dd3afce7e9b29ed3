-- E3 seat_quantity_drift                                   severity: medium
-- An active stripe-sourced entitlement whose quantity_seats differs from
-- the quantity of its subscription's plan item, while that subscription is
-- live (active or trialing, or past_due inside the grace period; not ended,
-- not tombstoned).  A dead one -- past_due beyond the grace period
-- included -- is E2's business: its entitlement is revoked, not resized.
-- Subject: the entitlement.  Repair: set quantity_seats to Stripe's.
SELECT 'medium' AS severity,
  'entitlement' AS subject_type, e.id AS subject_id, e.tenant_id,
  s.subscription_id AS stripe_object,
  'quantity_seats ' || s.quantity || ' (item ' || s.plan_item_id || ')' AS expected,
  'quantity_seats ' || COALESCE(e.quantity_seats, 'NULL') AS actual,
  'set' AS action,
  'set quantity_seats of ' || e.id || ' from ' || COALESCE(e.quantity_seats, 'NULL')
    || ' to ' || s.quantity AS action_text,
  'entitlements' AS action_table, e.id AS action_row_id, 'quantity_seats' AS action_field,
  e.quantity_seats AS action_before, s.quantity AS action_after
FROM main.entitlements e
JOIN temp.sub_state s ON s.subscription_id = e.stripe_subscription_id
WHERE e.status = 'active' AND e.source = 'stripe'
  AND s.live AND s.ended_at IS NULL
  AND s.quantity IS NOT NULL AND e.quantity_seats IS NOT s.quantity
