-- M1 unmapped_stripe_object                                severity: high
-- An addition to the SPEC's table: a Stripe object that matters and maps
-- to nothing is itself a finding, never silently ignored.  Objects that
-- matter: live subscriptions and complete, paid checkout sessions (not
-- tombstoned).  Nothing: none of its prices maps to a plan or course
-- program (price id, lookup_key, price or product metadata, object
-- metadata); or it maps but links to nothing on the platform that could
-- take it: a plan subscription with no tenant and no purchase intent, a
-- plan session with no purchase intent, tenant or user, a course session
-- or subscription with no user or tenant.  Report only.
-- Subject: the subscription or session.
SELECT 'high' AS severity,
  'subscription' AS subject_type, s.subscription_id AS subject_id, s.tenant_id,
  s.subscription_id AS stripe_object,
  CASE WHEN NOT s.mapped THEN 'a price mapped to a plan or course program'
       ELSE 'a platform tenant for the subscription' END AS expected,
  CASE WHEN NOT s.mapped
       THEN 'no mapping for '
            || COALESCE((SELECT group_concat(COALESCE(t.price_id, '?')
                                 || COALESCE(' (' || t.lookup_key || ')', ''), ', ')
                          FROM temp.item_target t
                          WHERE t.source = 'subscription' AND t.parent_id = s.subscription_id),
                        'a subscription without items')
       ELSE 'no tenant, user or purchase intent linked'
            || COALESCE(' (user ' || s.user_id || ' owns no tenant)', '') END AS actual,
  'report' AS action,
  'report: map the price in stripe_mapping.json or link the subscription to a tenant'
    AS action_text
FROM temp.sub_state s
WHERE s.live
  AND (NOT s.mapped
       OR (s.plan IS NOT NULL AND s.tenant_id IS NULL AND s.intent_id IS NULL)
       OR (s.plan IS NULL AND s.tenant_id IS NULL AND s.user_id IS NULL
           AND s.intent_id IS NULL))
UNION ALL
SELECT 'high', 'checkout_session', cs.session_id, cs.tenant_id, cs.session_id,
  CASE WHEN NOT cs.mapped THEN 'a price mapped to a plan or course program'
       ELSE 'a purchase intent, tenant or user for the session' END,
  CASE WHEN NOT cs.mapped
       THEN 'no mapping for '
            || COALESCE((SELECT group_concat(COALESCE(t.price_id, '?')
                                 || COALESCE(' (' || t.lookup_key || ')', ''), ', ')
                          FROM temp.item_target t
                          WHERE t.source = 'checkout_session' AND t.parent_id = cs.session_id),
                        'a session without line items')
       ELSE 'no purchase intent, tenant or user linked' END,
  'report',
  'report: map the price in stripe_mapping.json or link the session to the platform'
FROM temp.session_state cs
WHERE cs.paid AND NOT cs.deleted
  AND (NOT cs.mapped
       OR (cs.plan IS NOT NULL AND cs.intent_id IS NULL AND cs.tenant_id IS NULL
           AND cs.user_id IS NULL)
       OR (cs.plan IS NULL AND cs.course_program IS NOT NULL AND cs.user_id IS NULL))
