-- P2 unpaid_tenant                                         severity: critical
-- A tenant (status NULL or not closed/deleted/archived/suspended/canceled)
-- on a plan that is not free in the catalogue (an unknown plan counts as
-- paid) with no paid purchase (a complete, paid, not fully refunded
-- checkout session linked to it or to its purchase intent), no live
-- subscription linked to it, and no active admin grant.  Seed 003: no
-- tenant before payment.  Report only.
-- Subject: the tenant.
SELECT 'critical' AS severity,
  'tenant' AS subject_type, t.id AS subject_id, t.id AS tenant_id, NULL AS stripe_object,
  'a paid purchase, a live subscription or an admin grant' AS expected,
  'none for tenant on plan ' || COALESCE(t.plan, 'NULL')
    || CASE WHEN t.purchase_intent_id IS NOT NULL
            THEN ' (purchase intent ' || t.purchase_intent_id || ' '
                 || COALESCE((SELECT status FROM main.purchase_intents
                               WHERE id = t.purchase_intent_id), '?') || ')'
            ELSE '' END AS actual,
  'report' AS action,
  'report: tenant ' || t.id || ' exists without payment' AS action_text
FROM main.tenants t
LEFT JOIN temp.catalogue_plans p ON p.plan = t.plan
WHERE NOT COALESCE(p.free, 0)
  AND COALESCE(lower(t.status), 'active') NOT IN
      ('closed', 'deleted', 'archived', 'suspended', 'canceled', 'cancelled', 'inactive')
  AND NOT EXISTS (SELECT 1 FROM temp.sub_state s WHERE s.tenant_id = t.id AND s.live)
  AND NOT EXISTS (SELECT 1 FROM temp.session_state cs
                  WHERE cs.tenant_id = t.id AND cs.paid AND NOT cs.deleted
                    AND NOT cs.fully_refunded)
  AND NOT EXISTS (SELECT 1 FROM main.purchase_intents pi
                  JOIN temp.session_state cs ON cs.intent_id = pi.id
                  WHERE (pi.id = t.purchase_intent_id OR pi.tenant_id = t.id)
                    AND cs.paid AND NOT cs.deleted AND NOT cs.fully_refunded)
  AND NOT EXISTS (SELECT 1 FROM main.entitlements e
                  WHERE e.tenant_id = t.id AND e.source = 'admin_grant'
                    AND e.status = 'active')
