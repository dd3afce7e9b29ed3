-- G1 admin_grant                                           severity: info
-- Every entitlement with source admin_grant (free licences given by
-- support), whatever its status, listed for audit.  Admin grants are
-- sacred: no rule proposes changing one (the engine also refuses any
-- proposal that would), and this one never does.
-- Subject: the entitlement.  Action: none.
SELECT 'info' AS severity,
  'entitlement' AS subject_type, e.id AS subject_id, e.tenant_id, NULL AS stripe_object,
  'never changed by reconciliation' AS expected,
  'admin grant of ' || e.product || ' (' || e.status || ')'
    || CASE WHEN e.granted_by IS NOT NULL THEN ' by ' || e.granted_by ELSE '' END
    || CASE WHEN e.valid_until IS NOT NULL THEN ', valid until ' || e.valid_until ELSE '' END
    AS actual,
  'none' AS action,
  'none: admin grants are listed for audit, never changed' AS action_text
FROM main.entitlements e
WHERE e.source = 'admin_grant'
