-- _link.sql - the prelude of every reconcile: how Stripe objects map to the
-- catalogue and link to the platform (SPEC "Linking Stripe to the
-- platform", "Configuration": Stripe mapping).  Run once per reconcile,
-- before the rules, after the engine has filled these TEMP tables from the
-- configuration (src/db_findings.c):
--   temp.catalogue_plans(plan, role, free)
--   temp.catalogue_plan_features(plan, feature, kind, value)
--       kind 'bool' (value 0/1), 'limit' (value n) or 'unlimited' (value NULL)
--   temp.catalogue_price_map(price_id, lookup_key, target, value)
--       target 'plan' or 'course_program'; exactly one of price_id/lookup_key
--   temp.policy(key, value): now (epoch seconds), now_iso,
--       past_due_grace_days, release_overallocated_seats (0/1), timezone,
--       month ('YYYY-MM' in the config's timezone), month_start, month_end
--       (that month's bounds as ISO 8601 UTC, end exclusive)
--
-- It builds three TEMP tables the rules read (and sub_plan_item, a step of
-- sub_state):
--
-- item_target: every subscription item and checkout line item with what its
--   price maps to, in the order of the catalogue file's rule: the price id
--   in stripe_mapping, else its lookup_key there, else trueup_plan /
--   trueup_course_program in the price's metadata, else in the product's.
--   A plan named in metadata must exist in the catalogue.  When none of an
--   object's items maps, the object's own trueup_plan /
--   trueup_course_program metadata (subscription or session) is used as a
--   last resort (an addition to the SPEC's chain: a session whose line
--   items were not expanded still maps), as a pseudo item '(metadata)'.
--   target/value are NULL for an item that maps to nothing.
--
-- sub_state: one row per Stripe subscription: status, whether it is live
--   (active or trialing, or past_due for less than past_due_grace_days
--   since its unpaid latest invoice was created, else since its current
--   period started), deleted (tombstoned), its plan (the first item that
--   maps to a plan, by created then id) with that item's quantity, whether
--   anything maps, and its link to the platform.
--
-- session_state: one row per checkout session: paid (complete and paid or
--   no_payment_required), refunded (succeeded refunds of its payment intent
--   in its currency), fully_refunded, its plan and course program, and its
--   link to the platform.
--
-- Links, in the SPEC's order: the local row's stored Stripe id (platform
-- subscriptions/entitlements with the subscription id; purchase intents,
-- entitlements and enrolments with the session id); then metadata
-- tenant_id / user_id on the subscription, the session or the customer;
-- then the session's client_reference_id = purchase intent id.  Only rows
-- that exist on the platform count.  A subscription or session that has a
-- user but no tenant is linked to the tenant that user owns (the lowest id
-- when several).  link_via names the step that linked the tenant (or the
-- user, when there is no tenant).

DROP TABLE IF EXISTS temp.item_target;
CREATE TEMP TABLE item_target AS
WITH items AS (
  SELECT 'subscription' AS source, i.subscription_id AS parent_id, i.id AS item_id,
         i.created AS created, i.price_id,
         COALESCE(i.lookup_key, p.lookup_key) AS lookup_key,
         COALESCE(i.product, p.product) AS product, i.quantity,
         COALESCE(i.price_trueup_plan, p.trueup_plan) AS price_plan,
         COALESCE(i.price_trueup_course_program, p.trueup_course_program) AS price_program
  FROM main.stripe_subscription_items i
  LEFT JOIN main.stripe_prices p ON p.id = i.price_id
  UNION ALL
  SELECT 'checkout_session', li.session_id, li.id, NULL, li.price_id,
         COALESCE(li.lookup_key, p.lookup_key),
         COALESCE(li.product, p.product), li.quantity,
         COALESCE(li.price_trueup_plan, p.trueup_plan),
         COALESCE(li.price_trueup_course_program, p.trueup_course_program)
  FROM main.stripe_checkout_line_items li
  LEFT JOIN main.stripe_prices p ON p.id = li.price_id
), resolved AS (
  SELECT items.*,
    (SELECT m.target || ':' || m.value FROM temp.catalogue_price_map m
      WHERE m.price_id = items.price_id) AS by_price,
    (SELECT m.target || ':' || m.value FROM temp.catalogue_price_map m
      WHERE m.lookup_key = items.lookup_key) AS by_lookup,
    CASE WHEN items.price_plan IN (SELECT plan FROM temp.catalogue_plans)
           THEN 'plan:' || items.price_plan
         WHEN items.price_program IS NOT NULL
           THEN 'course_program:' || items.price_program END AS by_price_meta,
    (SELECT CASE WHEN pr.trueup_plan IN (SELECT plan FROM temp.catalogue_plans)
                   THEN 'plan:' || pr.trueup_plan
                 WHEN pr.trueup_course_program IS NOT NULL
                   THEN 'course_program:' || pr.trueup_course_program END
       FROM main.stripe_products pr WHERE pr.id = items.product) AS by_product_meta
  FROM items
), mapped AS (
  SELECT resolved.*,
    COALESCE(by_price, by_lookup, by_price_meta, by_product_meta) AS t,
    CASE WHEN by_price IS NOT NULL THEN 'price_id'
         WHEN by_lookup IS NOT NULL THEN 'lookup_key'
         WHEN by_price_meta IS NOT NULL THEN 'price_metadata'
         WHEN by_product_meta IS NOT NULL THEN 'product_metadata' END AS via
  FROM resolved
)
SELECT source, parent_id, item_id, created, price_id, lookup_key, product, quantity,
       substr(t, 1, instr(t, ':') - 1) AS target,
       substr(t, instr(t, ':') + 1) AS value, via
FROM mapped;
-- Before the inserts below: their NOT EXISTS probes it (without it, each
-- probe scans the table: quadratic in the sessions that map by metadata).
CREATE INDEX temp.item_target_parent ON item_target(source, parent_id, target);

-- The object's own metadata when none of its items maps.
INSERT INTO temp.item_target
SELECT 'subscription', s.id, '(metadata)', NULL, NULL, NULL, NULL, NULL,
       'plan', s.trueup_plan, 'object_metadata'
FROM main.stripe_subscriptions s
WHERE s.trueup_plan IN (SELECT plan FROM temp.catalogue_plans)
  AND NOT EXISTS (SELECT 1 FROM temp.item_target t
                  WHERE t.source = 'subscription' AND t.parent_id = s.id
                    AND t.target IS NOT NULL);
INSERT INTO temp.item_target
SELECT 'checkout_session', cs.id, '(metadata)', NULL, NULL, NULL, NULL, NULL,
       CASE WHEN cs.trueup_plan IN (SELECT plan FROM temp.catalogue_plans)
            THEN 'plan' ELSE 'course_program' END,
       CASE WHEN cs.trueup_plan IN (SELECT plan FROM temp.catalogue_plans)
            THEN cs.trueup_plan ELSE cs.trueup_course_program END,
       'object_metadata'
FROM main.stripe_checkout_sessions cs
WHERE (cs.trueup_plan IN (SELECT plan FROM temp.catalogue_plans)
       OR cs.trueup_course_program IS NOT NULL)
  AND NOT EXISTS (SELECT 1 FROM temp.item_target t
                  WHERE t.source = 'checkout_session' AND t.parent_id = cs.id
                    AND t.target IS NOT NULL);

-- The plan item of each subscription (the first item that maps to a plan,
-- by created then id), a table of its own with an index: joined as a
-- window-function CTE it was scanned once per subscription.
DROP TABLE IF EXISTS temp.sub_plan_item;
CREATE TEMP TABLE sub_plan_item AS
SELECT parent_id, item_id, plan, quantity FROM (
  SELECT parent_id, item_id, value AS plan, quantity,
         ROW_NUMBER() OVER (PARTITION BY parent_id
                            ORDER BY created IS NULL, created, item_id) AS rn
  FROM temp.item_target
  WHERE source = 'subscription' AND target = 'plan')
WHERE rn = 1;
CREATE UNIQUE INDEX temp.sub_plan_item_parent ON sub_plan_item(parent_id);

-- The link CTEs below are MATERIALIZED and carry only the columns used, so
-- each correlated lookup runs once per object (flattened, the COALESCE
-- and CASE of the final SELECT re-ran them) and raw_json is never copied.
DROP TABLE IF EXISTS temp.sub_state;
CREATE TEMP TABLE sub_state AS
WITH pol AS (
  SELECT (SELECT value FROM temp.policy WHERE key = 'now') AS now,
         (SELECT value FROM temp.policy WHERE key = 'past_due_grace_days') AS grace
), cand AS MATERIALIZED (
  SELECT s.id, s.customer, s.status, s.created, s.ended_at, s.current_period_start,
    s.current_period_end, s.deleted_at,
    (SELECT ls.tenant_id FROM main.subscriptions ls JOIN main.tenants t ON t.id = ls.tenant_id
      WHERE ls.stripe_subscription_id = s.id ORDER BY ls.id LIMIT 1) AS t_local_sub,
    (SELECT e.tenant_id FROM main.entitlements e JOIN main.tenants t ON t.id = e.tenant_id
      WHERE e.stripe_subscription_id = s.id
      ORDER BY e.status = 'active' DESC, e.id LIMIT 1) AS t_local_ent,
    (SELECT t.id FROM main.tenants t WHERE t.id = s.tenant_id) AS t_meta_sub,
    (SELECT cs.tenant_id FROM main.stripe_checkout_sessions cs
      JOIN main.tenants t ON t.id = cs.tenant_id
      WHERE cs.subscription = s.id ORDER BY cs.created DESC, cs.id LIMIT 1) AS t_meta_session,
    (SELECT c.tenant_id FROM main.stripe_customers c JOIN main.tenants t ON t.id = c.tenant_id
      WHERE c.id = s.customer) AS t_meta_customer,
    (SELECT pi.id FROM main.stripe_checkout_sessions cs
      JOIN main.purchase_intents pi ON pi.id = cs.client_reference_id
      WHERE cs.subscription = s.id ORDER BY cs.created DESC, cs.id LIMIT 1) AS intent_id,
    (SELECT ls.user_id FROM main.subscriptions ls JOIN main.users u ON u.id = ls.user_id
      WHERE ls.stripe_subscription_id = s.id ORDER BY ls.id LIMIT 1) AS u_local_sub,
    (SELECT u.id FROM main.users u WHERE u.id = s.user_id) AS u_meta_sub,
    (SELECT cs.user_id FROM main.stripe_checkout_sessions cs JOIN main.users u ON u.id = cs.user_id
      WHERE cs.subscription = s.id ORDER BY cs.created DESC, cs.id LIMIT 1) AS u_meta_session,
    (SELECT c.user_id FROM main.stripe_customers c JOIN main.users u ON u.id = c.user_id
      WHERE c.id = s.customer) AS u_meta_customer,
    COALESCE((SELECT iv.created FROM main.stripe_invoices iv
               WHERE iv.id = s.latest_invoice AND COALESCE(iv.paid, 0) = 0),
             s.current_period_start, s.created) AS past_due_since
  FROM main.stripe_subscriptions s
), linked AS MATERIALIZED (
  SELECT cand.*,
    (SELECT pi.tenant_id FROM main.purchase_intents pi JOIN main.tenants t ON t.id = pi.tenant_id
      WHERE pi.id = cand.intent_id) AS t_intent,
    (SELECT pi.user_id FROM main.purchase_intents pi JOIN main.users u ON u.id = pi.user_id
      WHERE pi.id = cand.intent_id) AS u_intent
  FROM cand
), linked2 AS (
  SELECT linked.*,
    COALESCE(u_local_sub, u_meta_sub, u_meta_session, u_meta_customer, u_intent) AS link_user,
    COALESCE(t_local_sub, t_local_ent, t_meta_sub, t_meta_session, t_meta_customer, t_intent)
      AS link_tenant
  FROM linked
)
SELECT l.id AS subscription_id, l.customer, l.status, l.created, l.ended_at,
  l.current_period_start, l.current_period_end, l.past_due_since,
  l.deleted_at IS NOT NULL AS deleted,
  CASE WHEN l.deleted_at IS NOT NULL THEN 0
       WHEN l.status IN ('active', 'trialing') THEN 1
       WHEN l.status = 'past_due'
            AND l.past_due_since + pol.grace * 86400 > pol.now THEN 1
       ELSE 0 END AS live,
  p.plan, p.item_id AS plan_item_id, p.quantity,
  EXISTS (SELECT 1 FROM temp.item_target t WHERE t.source = 'subscription'
           AND t.parent_id = l.id AND t.target IS NOT NULL) AS mapped,
  COALESCE(l.link_tenant,
           (SELECT MIN(t.id) FROM main.tenants t WHERE t.owner_user_id = l.link_user))
    AS tenant_id,
  l.link_user AS user_id,
  l.intent_id,
  CASE WHEN l.t_local_sub IS NOT NULL THEN 'subscriptions.stripe_subscription_id'
       WHEN l.t_local_ent IS NOT NULL THEN 'entitlements.stripe_subscription_id'
       WHEN l.t_meta_sub IS NOT NULL THEN 'subscription.metadata.tenant_id'
       WHEN l.t_meta_session IS NOT NULL THEN 'checkout_session.metadata.tenant_id'
       WHEN l.t_meta_customer IS NOT NULL THEN 'customer.metadata.tenant_id'
       WHEN l.t_intent IS NOT NULL THEN 'client_reference_id'
       WHEN l.link_user IS NOT NULL THEN 'user'
  END AS link_via
FROM linked2 l CROSS JOIN pol
LEFT JOIN temp.sub_plan_item p ON p.parent_id = l.id;
CREATE UNIQUE INDEX temp.sub_state_id ON sub_state(subscription_id);
CREATE INDEX temp.sub_state_tenant ON sub_state(tenant_id);

DROP TABLE IF EXISTS temp.session_state;
CREATE TEMP TABLE session_state AS
WITH cand AS MATERIALIZED (
  SELECT cs.id, cs.customer, cs.status, cs.mode, cs.payment_status, cs.payment_intent,
    cs.subscription, cs.currency, cs.amount_total, cs.created, cs.expires_at, cs.deleted_at,
    (SELECT pi.id FROM main.purchase_intents pi
      WHERE pi.stripe_checkout_session_id = cs.id ORDER BY pi.id LIMIT 1) AS i_local,
    (SELECT pi.id FROM main.purchase_intents pi WHERE pi.id = cs.client_reference_id) AS i_ref,
    (SELECT e.tenant_id FROM main.entitlements e JOIN main.tenants t ON t.id = e.tenant_id
      WHERE e.stripe_checkout_session_id = cs.id
      ORDER BY e.status = 'active' DESC, e.id LIMIT 1) AS t_local_ent,
    (SELECT en.student_user_id FROM main.enrolments en JOIN main.users u ON u.id = en.student_user_id
      WHERE en.stripe_checkout_session_id = cs.id ORDER BY en.id LIMIT 1) AS u_local_enrol,
    (SELECT t.id FROM main.tenants t WHERE t.id = cs.tenant_id) AS t_meta_session,
    (SELECT u.id FROM main.users u WHERE u.id = cs.user_id) AS u_meta_session,
    (SELECT c.tenant_id FROM main.stripe_customers c JOIN main.tenants t ON t.id = c.tenant_id
      WHERE c.id = cs.customer) AS t_meta_customer,
    (SELECT c.user_id FROM main.stripe_customers c JOIN main.users u ON u.id = c.user_id
      WHERE c.id = cs.customer) AS u_meta_customer,
    (SELECT SUM(r.amount) FROM main.stripe_refunds r
      WHERE r.payment_intent = cs.payment_intent AND r.status = 'succeeded'
        AND r.currency IS cs.currency AND r.deleted_at IS NULL) AS refunded
  FROM main.stripe_checkout_sessions cs
), linked AS MATERIALIZED (
  SELECT cand.*,
    (SELECT pi.tenant_id FROM main.purchase_intents pi JOIN main.tenants t ON t.id = pi.tenant_id
      WHERE pi.id = cand.i_local) AS t_local_intent,
    (SELECT pi.user_id FROM main.purchase_intents pi JOIN main.users u ON u.id = pi.user_id
      WHERE pi.id = cand.i_local) AS u_local_intent,
    (SELECT pi.tenant_id FROM main.purchase_intents pi JOIN main.tenants t ON t.id = pi.tenant_id
      WHERE pi.id = cand.i_ref) AS t_ref_intent,
    (SELECT pi.user_id FROM main.purchase_intents pi JOIN main.users u ON u.id = pi.user_id
      WHERE pi.id = cand.i_ref) AS u_ref_intent
  FROM cand
), linked2 AS (
  SELECT linked.*,
    COALESCE(t_local_intent, t_local_ent, t_meta_session, t_meta_customer, t_ref_intent)
      AS link_tenant,
    COALESCE(u_local_intent, u_local_enrol, u_meta_session, u_meta_customer, u_ref_intent)
      AS link_user
  FROM linked
)
SELECT l.id AS session_id, l.customer, l.status, l.mode, l.payment_status,
  l.status = 'complete' AND l.payment_status IN ('paid', 'no_payment_required') AS paid,
  l.deleted_at IS NOT NULL AS deleted,
  l.payment_intent, l.subscription, l.currency, l.amount_total, l.created, l.expires_at,
  COALESCE(l.refunded, 0) AS refunded,
  COALESCE(l.amount_total, 0) > 0 AND COALESCE(l.refunded, 0) >= l.amount_total
    AS fully_refunded,
  (SELECT t.value FROM temp.item_target t WHERE t.source = 'checkout_session'
    AND t.parent_id = l.id AND t.target = 'plan' ORDER BY t.item_id LIMIT 1) AS plan,
  (SELECT t.value FROM temp.item_target t WHERE t.source = 'checkout_session'
    AND t.parent_id = l.id AND t.target = 'course_program' ORDER BY t.item_id LIMIT 1)
    AS course_program,
  EXISTS (SELECT 1 FROM temp.item_target t WHERE t.source = 'checkout_session'
           AND t.parent_id = l.id AND t.target IS NOT NULL) AS mapped,
  COALESCE(l.i_local, l.i_ref) AS intent_id,
  COALESCE(l.link_tenant,
           (SELECT MIN(t.id) FROM main.tenants t WHERE t.owner_user_id = l.link_user))
    AS tenant_id,
  l.link_user AS user_id,
  CASE WHEN l.t_local_intent IS NOT NULL THEN 'purchase_intents.stripe_checkout_session_id'
       WHEN l.t_local_ent IS NOT NULL THEN 'entitlements.stripe_checkout_session_id'
       WHEN l.t_meta_session IS NOT NULL THEN 'checkout_session.metadata.tenant_id'
       WHEN l.t_meta_customer IS NOT NULL THEN 'customer.metadata.tenant_id'
       WHEN l.t_ref_intent IS NOT NULL THEN 'client_reference_id'
       WHEN l.link_user IS NOT NULL THEN 'user'
  END AS link_via
FROM linked2 l;
CREATE UNIQUE INDEX temp.session_state_id ON session_state(session_id);
CREATE INDEX temp.session_state_tenant ON session_state(tenant_id);
CREATE INDEX temp.session_state_intent ON session_state(intent_id);
