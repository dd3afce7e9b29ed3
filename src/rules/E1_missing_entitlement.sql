-- E1 missing_entitlement                                   severity: high
-- A Stripe subscription that is live (active or trialing, or past_due
-- inside repair.past_due_grace_days) for a plan, linked to a tenant, while
-- that tenant has no active entitlement for the plan or from the
-- subscription (any source counts: an admin grant of the plan satisfies it).
-- An entitlement of the plan that names another subscription counts only
-- when that subscription is live: one tied to a dead or absent
-- subscription is E2's to revoke, and must not hide this one (repair
-- revokes it and grants this one in the same transaction; see
-- src/repair.h for the order).
-- Subject: the subscription.  Repair: grant (source=stripe), the row to
-- create is action_after.  A live subscription that maps to no plan, or
-- links to no tenant, is M1's.
SELECT 'high' AS severity,
  'subscription' AS subject_type, s.subscription_id AS subject_id,
  s.tenant_id, s.subscription_id AS stripe_object,
  'an active entitlement for plan ' || s.plan AS expected,
  'no active entitlement (subscription ' || s.status || ')' AS actual,
  'grant' AS action,
  'grant ' || s.plan || ' to tenant ' || s.tenant_id || ' (source stripe, '
    || COALESCE(s.quantity, 1) || ' seats)' AS action_text,
  'entitlements' AS action_table,
  json_object('tenant_id', s.tenant_id, 'user_id', s.user_id, 'product', s.plan,
              'quantity_seats', s.quantity, 'status', 'active', 'source', 'stripe',
              'stripe_subscription_id', s.subscription_id) AS action_after
FROM temp.sub_state s
WHERE s.live AND s.plan IS NOT NULL AND s.tenant_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM main.entitlements e
                  WHERE e.tenant_id = s.tenant_id AND e.status = 'active'
                    AND (e.stripe_subscription_id = s.subscription_id
                         OR (e.product = s.plan
                             AND (e.stripe_subscription_id IS NULL
                                  OR EXISTS (SELECT 1 FROM temp.sub_state o
                                             WHERE o.subscription_id = e.stripe_subscription_id
                                               AND o.live)))))
