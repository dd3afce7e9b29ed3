-- P1 unprovisioned_payment                                 severity: high
-- A checkout session that is complete and paid for a plan (not fully
-- refunded, not tombstoned) whose purchase intent (by stored session id,
-- else client_reference_id) is not provisioned or has no existing tenant;
-- or, with no purchase intent, that links to a user but to no tenant.
-- Seed 003: a tenant only after payment, provisioned exactly once.
-- Subject: the session, so that repair provisions at most once per session.
-- Repair: provision (tenant, owner membership, entitlement, owner seat);
-- report only when no user is known.  A paid session that links to nothing
-- at all is M1's.
SELECT 'high' AS severity,
  'checkout_session' AS subject_type, cs.session_id AS subject_id,
  COALESCE(t.id, cs.tenant_id) AS tenant_id, cs.session_id AS stripe_object,
  'purchase intent provisioned with a tenant on plan ' || cs.plan AS expected,
  CASE WHEN cs.intent_id IS NULL THEN 'no purchase intent and no tenant'
       WHEN pi.tenant_id IS NULL THEN 'purchase intent ' || pi.id || ' ' || pi.status || ', no tenant'
       WHEN t.id IS NULL THEN 'purchase intent ' || pi.id || ' ' || pi.status
            || ', tenant ' || pi.tenant_id || ' does not exist'
       ELSE 'purchase intent ' || pi.id || ' ' || pi.status END AS actual,
  CASE WHEN COALESCE(pi.user_id, cs.user_id) IS NULL THEN 'report' ELSE 'provision' END AS action,
  CASE WHEN COALESCE(pi.user_id, cs.user_id) IS NULL
       THEN 'report: no user to provision for'
       ELSE 'provision ' || cs.plan || ' for user ' || COALESCE(pi.user_id, cs.user_id)
            || ' once: tenant, owner membership, entitlement, owner seat' END AS action_text,
  'purchase_intents' AS action_table, cs.intent_id AS action_row_id, 'status' AS action_field,
  pi.status AS action_before,
  json_object('purchase_intent_id', cs.intent_id, 'user_id', COALESCE(pi.user_id, cs.user_id),
              'tenant_id', t.id, 'plan', cs.plan, 'stripe_checkout_session_id', cs.session_id,
              'stripe_subscription_id', cs.subscription,
              'quantity_seats', (SELECT s.quantity FROM temp.sub_state s
                                  WHERE s.subscription_id = cs.subscription),
              'status', 'provisioned') AS action_after
FROM temp.session_state cs
LEFT JOIN main.purchase_intents pi ON pi.id = cs.intent_id
LEFT JOIN main.tenants t ON t.id = pi.tenant_id
WHERE cs.paid AND NOT cs.deleted AND NOT cs.fully_refunded AND cs.plan IS NOT NULL
  AND ((cs.intent_id IS NOT NULL AND (pi.status <> 'provisioned' OR t.id IS NULL))
       OR (cs.intent_id IS NULL AND cs.tenant_id IS NULL AND cs.user_id IS NOT NULL))
