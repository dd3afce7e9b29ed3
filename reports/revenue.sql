-- Gross, refunds and net per period x currency x plan or product (SPEC "Reports": revenue.csv).
-- numeric: gross, refunds, net
-- One row per period (month or day in the reporting time zone, an interval
-- [interval_start_utc, interval_end_utc)) x currency x what was sold.  Gross
-- counts paid invoices and paid one-time checkout sessions, refunds are
-- dated by the refund, net = gross - refunds; currencies are never summed
-- together.  Amounts twice: decimal by the currency's exponent, and in
-- minor units (*_minor).  Only activity inside --from/--to.  See
-- reports/README.md and the prelude _revenue.sql.
SELECT period_of(l.effective_at) AS period,
  iso_utc(period_start(l.effective_at)) AS interval_start_utc,
  iso_utc(period_end(l.effective_at)) AS interval_end_utc,
  p.timezone,
  l.currency,
  l.item_type AS plan_or_product_type,
  l.item AS plan_or_product,
  SUM(l.reporting_category = 'charge') AS count,
  money(SUM(CASE WHEN l.reporting_category = 'charge' THEN l.amount ELSE 0 END), l.currency)
    AS gross,
  SUM(l.reporting_category = 'refund') AS refund_count,
  money(SUM(CASE WHEN l.reporting_category = 'refund' THEN l.amount ELSE 0 END), l.currency)
    AS refunds,
  money(SUM(CASE WHEN l.reporting_category = 'charge' THEN l.amount ELSE -l.amount END),
        l.currency) AS net,
  SUM(CASE WHEN l.reporting_category = 'charge' THEN l.amount ELSE 0 END) AS gross_minor,
  SUM(CASE WHEN l.reporting_category = 'refund' THEN l.amount ELSE 0 END) AS refunds_minor,
  SUM(CASE WHEN l.reporting_category = 'charge' THEN l.amount ELSE -l.amount END) AS net_minor,
  currency_exponent(l.currency) AS currency_exponent
FROM temp.revenue_lines l CROSS JOIN temp.report_params p
WHERE in_range(l.effective_at)
GROUP BY period_start(l.effective_at), l.currency, l.item_type, l.item
ORDER BY period_start(l.effective_at), l.currency, l.item_type, l.item
