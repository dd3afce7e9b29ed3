# tests/cli/stripe_revenue.jq - revenue per month and currency computed
# straight from a directory of Stripe objects, independently of trueup's
# SQL, for the report tests to compare revenue.csv against:
#   jq -r -n --slurpfile inv invoices.json --slurpfile cs checkout_sessions.json \
#      --slurpfile re refunds.json -f tests/cli/stripe_revenue.jq
# Paid invoices (2023 shape: paid; 2026 shape: status paid) dated by paid_at,
# paid one-time (mode payment) sessions by created, refunds that moved money
# (succeeded/pending) by their own created.  One line per month and
# currency: "YYYY-MM currency gross_minor refunds_minor net_minor".
def month: strftime("%Y-%m");
([$inv[0][] | select((.paid == true or .status == "paid") and .amount_paid > 0)
  | {m: ((.status_transitions.paid_at // .created) | month), c: .currency, g: .amount_paid, r: 0}]
 + [$cs[0][] | select(.mode == "payment" and .status == "complete" and .payment_status == "paid")
  | {m: (.created | month), c: .currency, g: .amount_total, r: 0}]
 + [$re[0][] | select(.status == "succeeded" or .status == "pending")
  | {m: (.created | month), c: .currency, g: 0, r: .amount}])
| group_by([.m, .c])[] | "\(.[0].m) \(.[0].c) \(map(.g) | add) \(map(.r) | add) \(map(.g - .r) | add)"
