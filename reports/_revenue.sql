-- _revenue.sql - prelude: the money the revenue reports count, one row per
-- Stripe object that moved it (TEMP views; the plan mapping is the link
-- prelude's, src/rules/_link.sql: temp.sub_state, temp.session_state).
--
-- revenue_invoice_items / revenue_session_items: what an invoice or a
-- checkout session was for: its plan (the subscription's plan for an
-- invoice; the session's plan or course program), else the Stripe product
-- of its first line (by id; looked up only when there is no plan), else
-- 'unmapped'.  The invoice view also carries the invoice columns the charge
-- rows need, so revenue_lines reads each invoice once (no self-join).
--
-- revenue_lines(reporting_category, source_type, source_id, effective_at,
--   currency, amount, customer, item_type, item, tenant_id, charge_source_id):
--   'charge' rows: paid invoices (either API shape: stripe_invoices.paid is
--     Stripe's flag or status = 'paid'), amount_paid > 0, dated by
--     status_transitions.paid_at (else created); and paid one-time checkout
--     sessions (mode 'payment', complete, payment_status 'paid',
--     amount_total > 0), dated by created.  Subscription-mode sessions are
--     left out: their money is their subscription's first invoice, which is
--     counted once, as an invoice.
--   'refund' rows: refunds succeeded or pending (failed and canceled ones
--     moved no money), dated by the refund's own created, attributed to the
--     payment they refund (the payment-mode session with the same
--     payment_intent, else the invoice with that payment_intent or charge);
--     charge_source_id names it.
--   amount is positive, in the currency's minor unit.  Tombstoned objects
--   (deleted_at) are left out.
DROP VIEW IF EXISTS temp.revenue_lines;
DROP VIEW IF EXISTS temp.revenue_invoice_items;
DROP VIEW IF EXISTS temp.revenue_session_items;

CREATE TEMP VIEW revenue_invoice_items AS
SELECT x.id AS invoice_id,
  CASE WHEN x.plan IS NOT NULL THEN 'plan'
       WHEN x.product IS NOT NULL THEN 'product' ELSE 'unmapped' END AS item_type,
  COALESCE(x.plan, x.product, '') AS item,
  x.tenant_id, x.deleted_at, x.paid, x.amount_paid, x.paid_at, x.created, x.currency, x.customer
FROM (SELECT i.id, s.plan, COALESCE(s.tenant_id, i.tenant_id) AS tenant_id, i.deleted_at, i.paid,
        i.amount_paid, i.paid_at, i.created, i.currency, i.customer,
        CASE WHEN s.plan IS NULL THEN
          (SELECT l.product FROM main.stripe_invoice_lines l WHERE l.invoice_id = i.id
            ORDER BY l.id LIMIT 1) END AS product
      FROM main.stripe_invoices i
      LEFT JOIN temp.sub_state s ON s.subscription_id = i.subscription) x;

CREATE TEMP VIEW revenue_session_items AS
SELECT x.session_id,
  CASE WHEN x.plan IS NOT NULL THEN 'plan'
       WHEN x.course_program IS NOT NULL THEN 'course_program'
       WHEN x.product IS NOT NULL THEN 'product' ELSE 'unmapped' END AS item_type,
  COALESCE(x.plan, x.course_program, x.product, '') AS item,
  x.tenant_id
FROM (SELECT ss.session_id, ss.plan, ss.course_program, ss.tenant_id,
        CASE WHEN ss.plan IS NULL AND ss.course_program IS NULL THEN
          (SELECT l.product FROM main.stripe_checkout_line_items l
            WHERE l.session_id = ss.session_id ORDER BY l.id LIMIT 1) END AS product
      FROM temp.session_state ss) x;

CREATE TEMP VIEW revenue_lines AS
SELECT 'charge' AS reporting_category, 'invoice' AS source_type, it.invoice_id AS source_id,
  COALESCE(it.paid_at, it.created) AS effective_at, it.currency, it.amount_paid AS amount,
  it.customer, it.item_type, it.item, it.tenant_id, NULL AS charge_source_id
FROM temp.revenue_invoice_items it
WHERE it.deleted_at IS NULL AND it.paid = 1 AND it.amount_paid > 0
UNION ALL
SELECT 'charge', 'checkout_session', cs.id, cs.created, cs.currency, cs.amount_total,
  cs.customer, si.item_type, si.item, si.tenant_id, NULL
FROM main.stripe_checkout_sessions cs
JOIN temp.revenue_session_items si ON si.session_id = cs.id
WHERE cs.deleted_at IS NULL AND cs.mode = 'payment' AND cs.status = 'complete'
  AND cs.payment_status = 'paid' AND cs.amount_total > 0
UNION ALL
SELECT 'refund', 'refund', r.id, r.created, r.currency, r.amount, r.customer,
  COALESCE(si.item_type, it.item_type, 'unmapped'), COALESCE(si.item, it.item, ''),
  COALESCE(si.tenant_id, it.tenant_id, r.tenant_id), COALESCE(r.sid, r.iid)
FROM (SELECT r.*,
        (SELECT cs.id FROM main.stripe_checkout_sessions cs
          WHERE cs.payment_intent = r.payment_intent AND cs.mode = 'payment'
          ORDER BY cs.id LIMIT 1) AS sid,
        COALESCE((SELECT iv.id FROM main.stripe_invoices iv
                   WHERE iv.payment_intent = r.payment_intent ORDER BY iv.id LIMIT 1),
                 (SELECT iv.id FROM main.stripe_invoices iv
                   WHERE iv.charge = r.charge ORDER BY iv.id LIMIT 1)) AS iid
      FROM main.stripe_refunds r
      WHERE r.deleted_at IS NULL AND r.status IN ('succeeded', 'pending') AND r.amount > 0) r
LEFT JOIN temp.revenue_session_items si ON si.session_id = r.sid
LEFT JOIN temp.revenue_invoice_items it ON it.invoice_id = r.iid AND r.sid IS NULL;
