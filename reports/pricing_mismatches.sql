-- Pricing page promises against app enforcement, plan x feature, and leaks seen in the data (SPEC "Reports": pricing_mismatches.csv).
-- For every plan x feature of the catalogue, the pricing page value
-- (pricing_page.json; empty when the page says nothing) against the
-- enforced value (plans.json), one row when they disagree:
--   promise_not_enforced   the page promises it, the app does not give it
--                          (critical: paid-for and missing)
--   value_differs          both give it with different limits: critical
--                          when the app gives less than promised, medium
--                          when more
--   enforced_not_promised  the app gives what the page does not promise
--                          (medium: a revenue leak or an undocumented gate)
-- plus one row per plan x feature with tenants breaking the enforced value
-- in the data (prelude _leaks.sql): enforcement_leak, high, with their
-- count.  observed_violations is that count on every row.
SELECT plan, feature, feature_type, feature_label, pricing_page_value, enforced_value, kind,
  severity, observed_violations, example_tenants
FROM temp.pricing_rows
ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END,
  plan_pos, feature_pos, kind
