-- 008_unused_indexes.sql - drop the snapshot indexes no query reads.
--
-- 003 indexed most reference columns of the Stripe tables in advance.
-- The query plan of every statement trueup runs (the whole `make test`
-- suite and `make demo`, each statement's EXPLAIN QUERY PLAN recorded;
-- see bench/README.md, "eighth session") uses none of these nine: reconcile,
-- repair and the reports reach sessions, invoices and subscriptions
-- through their ids, subscriptions, payment intents and charges, never
-- through customer, client_reference_id or tenant_id.  The planner has no
-- statistics (no ANALYZE), so its plans do not depend on the data and the
-- same holds at any size.  Each of these indexes cost a full scan of its
-- table at the end of every first relist (0.4 GB of reads for the three
-- of the sessions at 40k sessions) and a B-tree insertion per row after.
--
-- A pull interrupted before its relist ended keeps the definitions of the
-- indexes it dropped in stripe_deferred_indexes (007); those rows go too,
-- or the relist's end would build the indexes again.
DROP INDEX IF EXISTS stripe_customers_tenant;
DROP INDEX IF EXISTS stripe_subscriptions_customer;
DROP INDEX IF EXISTS stripe_subscriptions_tenant;
DROP INDEX IF EXISTS stripe_checkout_sessions_customer;
DROP INDEX IF EXISTS stripe_checkout_sessions_client_ref;
DROP INDEX IF EXISTS stripe_checkout_sessions_tenant;
DROP INDEX IF EXISTS stripe_refunds_charge;
DROP INDEX IF EXISTS stripe_invoices_customer;
DROP INDEX IF EXISTS stripe_invoice_lines_price;
DELETE FROM stripe_deferred_indexes WHERE name IN (
  'stripe_customers_tenant', 'stripe_subscriptions_customer', 'stripe_subscriptions_tenant',
  'stripe_checkout_sessions_customer', 'stripe_checkout_sessions_client_ref',
  'stripe_checkout_sessions_tenant', 'stripe_refunds_charge', 'stripe_invoices_customer',
  'stripe_invoice_lines_price');
