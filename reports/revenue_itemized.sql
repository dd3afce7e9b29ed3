-- Every charge and refund behind revenue.csv, one row each, to tie out object by object.
-- numeric: amount
-- Like Stripe's itemized balance reports: reporting_category 'charge'
-- (a paid invoice or a paid one-time checkout session) or 'refund'
-- (signed negative), created_utc and created (in the reporting zone),
-- the period it falls in, and what it was for.  Only activity inside
-- --from/--to.
SELECT l.source_id, l.reporting_category, l.source_type,
  iso_utc(l.effective_at) AS created_utc,
  local_time(l.effective_at) AS created,
  period_of(l.effective_at) AS period,
  l.currency,
  money(CASE l.reporting_category WHEN 'refund' THEN -l.amount ELSE l.amount END, l.currency)
    AS amount,
  CASE l.reporting_category WHEN 'refund' THEN -l.amount ELSE l.amount END AS amount_minor,
  l.item_type AS plan_or_product_type,
  l.item AS plan_or_product,
  l.customer AS customer_id,
  l.tenant_id,
  l.charge_source_id AS refunded_source_id
FROM temp.revenue_lines l
WHERE in_range(l.effective_at)
ORDER BY l.effective_at, l.source_id
