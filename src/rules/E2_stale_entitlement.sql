-- E2 stale_entitlement                                     severity: high
-- An active stripe-sourced entitlement whose subscription (its own
-- stripe_subscription_id, else that of its checkout session) is canceled,
-- unpaid, incomplete_expired, ended (ended_at set), past_due beyond the
-- grace period (the other side of E1's "live"), tombstoned in Stripe, not in
-- the snapshot at all, or that names no Stripe object.  An entitlement
-- from a one-time payment session (mode payment, no subscription) is not a
-- subscription entitlement: refunds of those are R1's.  admin_grant and
-- migration entitlements are never E2.
-- Subject: the entitlement.  Repair: revoke (soft: status, reason, time).
WITH ent AS (
  SELECT e.id, e.tenant_id, e.product,
    COALESCE(e.stripe_subscription_id,
             (SELECT cs.subscription FROM main.stripe_checkout_sessions cs
               WHERE cs.id = e.stripe_checkout_session_id)) AS sub_id,
    (SELECT cs.mode FROM main.stripe_checkout_sessions cs
      WHERE cs.id = e.stripe_checkout_session_id) AS session_mode
  FROM main.entitlements e
  WHERE e.status = 'active' AND e.source = 'stripe'
)
SELECT 'high' AS severity,
  'entitlement' AS subject_type, ent.id AS subject_id, ent.tenant_id,
  ent.sub_id AS stripe_object,
  'a live subscription behind the entitlement (active, trialing or past_due within '
    || (SELECT value FROM temp.policy WHERE key = 'past_due_grace_days') || ' days)'
    AS expected,
  CASE WHEN ent.sub_id IS NULL THEN 'no Stripe subscription referenced'
       WHEN s.subscription_id IS NULL THEN 'subscription ' || ent.sub_id || ' not in the Stripe snapshot'
       WHEN s.deleted THEN 'subscription ' || ent.sub_id || ' deleted in Stripe'
       WHEN s.status = 'past_due' THEN 'subscription past_due since '
            || strftime('%Y-%m-%dT%H:%M:%SZ', s.past_due_since, 'unixepoch') || ', beyond the grace period'
       WHEN s.ended_at IS NOT NULL AND s.status NOT IN ('canceled', 'unpaid', 'incomplete_expired')
            THEN 'subscription ended ' || strftime('%Y-%m-%dT%H:%M:%SZ', s.ended_at, 'unixepoch')
       ELSE 'subscription ' || s.status END AS actual,
  'revoke' AS action,
  'revoke entitlement ' || ent.id || ' (' || ent.product || '): status revoked, reason E2' AS action_text,
  'entitlements' AS action_table, ent.id AS action_row_id, 'status' AS action_field,
  'active' AS action_before, 'revoked' AS action_after
FROM ent LEFT JOIN temp.sub_state s ON s.subscription_id = ent.sub_id
WHERE NOT (ent.sub_id IS NULL AND ent.session_mode = 'payment')
  AND (s.subscription_id IS NULL OR s.deleted
       OR s.status IN ('canceled', 'unpaid', 'incomplete_expired')
       OR s.ended_at IS NOT NULL
       OR (s.status = 'past_due' AND NOT s.live))
