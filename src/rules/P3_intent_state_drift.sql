-- P3 intent_state_drift                                    severity: medium
-- A purchase intent whose status disagrees with its checkout session (its
-- stored session id, else the newest session whose client_reference_id is
-- the intent): the session is complete and paid while the intent is still
-- started, awaiting_payment, failed or expired (-> paid); or the session
-- expired while the intent is started or awaiting_payment (-> expired).
-- provisioned intents are left alone (P1/P2 look at those).
-- Subject: the intent.  Repair: set status.
WITH pair AS (
  SELECT pi.id, pi.tenant_id, pi.status,
    COALESCE((SELECT cs.session_id FROM temp.session_state cs
               WHERE cs.session_id = pi.stripe_checkout_session_id),
             (SELECT cs.session_id FROM temp.session_state cs
               WHERE cs.intent_id = pi.id ORDER BY cs.created DESC, cs.session_id DESC
               LIMIT 1)) AS session_id
  FROM main.purchase_intents pi
), judged AS (
  SELECT pair.*, cs.status AS session_status, cs.payment_status,
    CASE WHEN cs.paid AND pair.status IN ('started', 'awaiting_payment', 'failed', 'expired')
           THEN 'paid'
         WHEN cs.status = 'expired' AND pair.status IN ('started', 'awaiting_payment')
           THEN 'expired' END AS target
  FROM pair JOIN temp.session_state cs ON cs.session_id = pair.session_id
  WHERE NOT cs.deleted
)
SELECT 'medium' AS severity,
  'purchase_intent' AS subject_type, j.id AS subject_id, j.tenant_id,
  j.session_id AS stripe_object,
  'status ' || j.target || ' (session ' || j.session_status || ', payment '
    || COALESCE(j.payment_status, 'NULL') || ')' AS expected,
  'status ' || j.status AS actual,
  'set' AS action,
  'set status of purchase intent ' || j.id || ' from ' || j.status || ' to ' || j.target
    AS action_text,
  'purchase_intents' AS action_table, j.id AS action_row_id, 'status' AS action_field,
  j.status AS action_before, j.target AS action_after
FROM judged j WHERE j.target IS NOT NULL
