-- 008_unused_indexes.sql - drop the snapshot indexes no query searches.
--
-- 003 indexed most reference columns of the Stripe tables in advance.
-- The query plan of every statement trueup runs (the whole `make test`
-- suite and `make demo`, each statement's EXPLAIN QUERY PLAN recorded;
-- see bench/README.md, "eighth session") searches six of them: sessions
-- by subscription and payment intent, invoices by charge and payment
-- intent, refunds by payment intent, subscriptions by status.  Reconcile,
-- repair and the reports reach everything else through primary keys (a
-- child table's key starts with its parent's id).  The nineteen below
-- appeared only in `count(*)` and emptiness checks, which any index of
-- the table serves as well.  The planner has no statistics (no ANALYZE),
-- so its plans do not depend on the data: the same holds at any size.
-- Each of these indexes cost a full scan of its table when a first
-- relist ends (1.7 GB of reads at 200k objects, all of them together)
-- and a B-tree insertion per row written after.
--
-- A pull interrupted before its relist ended keeps the definitions of the
-- indexes it dropped in stripe_deferred_indexes (007); those rows go too,
-- or the relist's end would build the indexes again (by name: an index of
-- someone's own that was deferred with them stays).
DROP INDEX IF EXISTS stripe_customers_tenant;
DROP INDEX IF EXISTS stripe_customers_user;
DROP INDEX IF EXISTS stripe_prices_product;
DROP INDEX IF EXISTS stripe_prices_lookup_key;
DROP INDEX IF EXISTS stripe_subscriptions_customer;
DROP INDEX IF EXISTS stripe_subscriptions_tenant;
DROP INDEX IF EXISTS stripe_subscriptions_user;
DROP INDEX IF EXISTS stripe_subscription_items_price;
DROP INDEX IF EXISTS stripe_subscription_items_lookup_key;
DROP INDEX IF EXISTS stripe_checkout_sessions_customer;
DROP INDEX IF EXISTS stripe_checkout_sessions_client_ref;
DROP INDEX IF EXISTS stripe_checkout_sessions_tenant;
DROP INDEX IF EXISTS stripe_checkout_sessions_user;
DROP INDEX IF EXISTS stripe_checkout_line_items_price;
DROP INDEX IF EXISTS stripe_refunds_charge;
DROP INDEX IF EXISTS stripe_invoices_customer;
DROP INDEX IF EXISTS stripe_invoices_subscription;
DROP INDEX IF EXISTS stripe_invoice_lines_price;
DROP INDEX IF EXISTS stripe_invoice_lines_subscription;
DELETE FROM stripe_deferred_indexes WHERE name IN (
  'stripe_customers_tenant', 'stripe_customers_user', 'stripe_prices_product',
  'stripe_prices_lookup_key', 'stripe_subscriptions_customer',
  'stripe_subscriptions_tenant', 'stripe_subscriptions_user',
  'stripe_subscription_items_price', 'stripe_subscription_items_lookup_key',
  'stripe_checkout_sessions_customer', 'stripe_checkout_sessions_client_ref',
  'stripe_checkout_sessions_tenant', 'stripe_checkout_sessions_user',
  'stripe_checkout_line_items_price', 'stripe_refunds_charge',
  'stripe_invoices_customer', 'stripe_invoices_subscription',
  'stripe_invoice_lines_price', 'stripe_invoice_lines_subscription');
