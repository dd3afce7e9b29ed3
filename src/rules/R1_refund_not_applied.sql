-- R1 refund_not_applied                                    severity: high
-- A checkout session whose payment is fully refunded (succeeded refunds of
-- its payment intent, in the session's currency, add up to at least its
-- amount_total; currencies are never mixed) while an enrolment or a
-- non-admin entitlement bought with it is still active.  Seeds 001/002:
-- refunds revoke.
-- Subject: the enrolment or the entitlement.  Repair: revoke (an enrolment
-- becomes refunded and its UNBOOKED progress rows are cancelled; an
-- entitlement is revoked, soft).
SELECT 'high' AS severity,
  'enrolment' AS subject_type, en.id AS subject_id, cs.tenant_id,
  cs.session_id AS stripe_object,
  'enrolment refunded (payment refunded ' || cs.refunded || ' of ' || cs.amount_total
    || ' ' || cs.currency || ')' AS expected,
  'enrolment active' AS actual,
  'revoke' AS action,
  'set enrolment ' || en.id || ' refunded and cancel its '
    || (SELECT COUNT(*) FROM main.step_progress sp
         WHERE sp.enrolment_id = en.id AND sp.status = 'UNBOOKED') || ' unbooked steps'
    AS action_text,
  'enrolments' AS action_table, en.id AS action_row_id, 'status' AS action_field,
  'active' AS action_before, 'refunded' AS action_after
FROM temp.session_state cs
JOIN main.enrolments en ON en.stripe_checkout_session_id = cs.session_id
WHERE cs.fully_refunded AND en.status = 'active'
UNION ALL
SELECT 'high', 'entitlement', e.id, e.tenant_id, cs.session_id,
  'entitlement revoked (payment refunded ' || cs.refunded || ' of ' || cs.amount_total
    || ' ' || cs.currency || ')',
  'entitlement active',
  'revoke',
  'revoke entitlement ' || e.id || ' (' || e.product || '): status revoked, reason R1',
  'entitlements', e.id, 'status', 'active', 'revoked'
FROM temp.session_state cs
JOIN main.entitlements e ON e.stripe_checkout_session_id = cs.session_id
WHERE cs.fully_refunded AND e.status = 'active' AND e.source <> 'admin_grant'
