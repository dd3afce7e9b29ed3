-- E7 duplicate_entitlement                                 severity: high
-- Several active entitlements of one tenant and product from the same
-- Stripe object (subscription id, else checkout session id).  The oldest
-- (valid_from, then id) is kept; each other one is a finding.  Admin grants
-- are never counted or revoked.
-- Subject: the extra entitlement.  Repair: revoke it (soft).
WITH act AS (
  SELECT e.id, e.tenant_id, e.product,
    COALESCE(e.stripe_subscription_id, e.stripe_checkout_session_id) AS obj,
    ROW_NUMBER() OVER w AS rn, FIRST_VALUE(e.id) OVER w AS keeper,
    COUNT(*) OVER (PARTITION BY e.tenant_id, e.product,
                   COALESCE(e.stripe_subscription_id, e.stripe_checkout_session_id)) AS n
  FROM main.entitlements e
  WHERE e.status = 'active' AND e.source <> 'admin_grant'
    AND COALESCE(e.stripe_subscription_id, e.stripe_checkout_session_id) IS NOT NULL
  WINDOW w AS (PARTITION BY e.tenant_id, e.product,
               COALESCE(e.stripe_subscription_id, e.stripe_checkout_session_id)
               ORDER BY e.valid_from IS NULL, e.valid_from, e.id)
)
SELECT 'high' AS severity,
  'entitlement' AS subject_type, a.id AS subject_id, a.tenant_id, a.obj AS stripe_object,
  'one active ' || a.product || ' entitlement from ' || a.obj || ' (' || a.keeper || ')'
    AS expected,
  a.n || ' active ' || a.product || ' entitlements from ' || a.obj AS actual,
  'revoke' AS action,
  'revoke duplicate entitlement ' || a.id || ' (keep ' || a.keeper || ')' AS action_text,
  'entitlements' AS action_table, a.id AS action_row_id, 'status' AS action_field,
  'active' AS action_before, 'revoked' AS action_after
FROM act a WHERE a.rn > 1
