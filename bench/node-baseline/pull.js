#!/usr/bin/env node
// bench/node-baseline/pull.js - the baseline of bench/pull_vs_node: the
// script a user would otherwise write to snapshot Stripe into SQLite.
//
// The official `stripe` package's auto-pagination (`for await ... of
// stripe.X.list({limit: 100})`), resources one after another as a typical
// script does, each object written with `better-sqlite3` into a table per
// resource (id, a few typed columns, the raw JSON), one transaction per page
// of 100 objects, the database in WAL mode (as better-sqlite3's README
// recommends).  Child rows (subscription items, line items, invoice lines)
// are left inside the raw JSON: less work than trueup does.
//
//   STRIPE_API_KEY=sk_test_... node pull.js PORT DB_FILE
//
// Talks plain HTTP to the fake Stripe on 127.0.0.1:PORT (Stripe
// constructor options host/port/protocol).  Prints one JSON line:
//   {"objects":N,"ms":N,"objs_per_s":N,"pages":N,"by_resource":{...}}
'use strict';

const Stripe = require('stripe');
const Database = require('better-sqlite3');

const [port, dbFile] = process.argv.slice(2);
if (!port || !dbFile || !process.env.STRIPE_API_KEY) {
	console.error('usage: STRIPE_API_KEY=... node pull.js PORT DB_FILE');
	process.exit(2);
}

const stripe = new Stripe(process.env.STRIPE_API_KEY, {
	host: '127.0.0.1',
	port: Number(port),
	protocol: 'http',
});

const db = new Database(dbFile);
db.pragma('journal_mode = WAL');

// resource -> [table, list(), typed columns (name -> getter)]
const ref = (v) => (v && typeof v === 'object' ? v.id : v) ?? null;
const md = (o, k) => (o.metadata && o.metadata[k]) ?? null;
const resources = [
	['customers', () => stripe.customers.list({ limit: 100 }), {
		email: (o) => o.email ?? null, tenant_id: (o) => md(o, 'tenant_id'),
	}],
	['products', () => stripe.products.list({ limit: 100 }), {
		name: (o) => o.name ?? null, active: (o) => (o.active ? 1 : 0),
	}],
	['prices', () => stripe.prices.list({ limit: 100 }), {
		product: (o) => ref(o.product), unit_amount: (o) => o.unit_amount ?? null,
		currency: (o) => o.currency ?? null,
	}],
	['subscriptions', () => stripe.subscriptions.list({ limit: 100, status: 'all' }), {
		customer: (o) => ref(o.customer), status: (o) => o.status ?? null,
		tenant_id: (o) => md(o, 'tenant_id'),
		quantity: (o) => (o.items?.data ?? []).reduce((n, it) => n + (it.quantity ?? 0), 0),
	}],
	['checkout_sessions', () => stripe.checkout.sessions.list({
		limit: 100, expand: ['data.line_items'] }), {
		customer: (o) => ref(o.customer), status: (o) => o.status ?? null,
		client_reference_id: (o) => o.client_reference_id ?? null,
		amount_total: (o) => o.amount_total ?? null,
	}],
	['invoices', () => stripe.invoices.list({ limit: 100 }), {
		customer: (o) => ref(o.customer), status: (o) => o.status ?? null,
		subscription: (o) => ref(o.subscription ?? o.parent?.subscription_details?.subscription),
		amount_paid: (o) => o.amount_paid ?? null,
	}],
	['refunds', () => stripe.refunds.list({ limit: 100 }), {
		charge: (o) => ref(o.charge), amount: (o) => o.amount ?? null,
		status: (o) => o.status ?? null,
	}],
];

async function main() {
	const t0 = process.hrtime.bigint();
	const byResource = {};
	let objects = 0;
	let pages = 0;

	for (const [table, list, cols] of resources) {
		const names = Object.keys(cols);
		db.exec(`CREATE TABLE IF NOT EXISTS ${table} (id TEXT PRIMARY KEY, ` +
			names.map((n) => `${n}`).join(', ') + ', raw_json TEXT NOT NULL)');
		const ins = db.prepare(`INSERT OR REPLACE INTO ${table} (id, ${names.join(', ')}, ` +
			`raw_json) VALUES (?, ${names.map(() => '?').join(', ')}, ?)`);
		const writePage = db.transaction((batch) => {
			for (const o of batch)
				ins.run(o.id, ...names.map((n) => cols[n](o)), JSON.stringify(o));
		});
		let batch = [];
		let n = 0;
		for await (const o of list()) {
			batch.push(o);
			if (batch.length === 100) {
				writePage(batch);
				pages++;
				batch = [];
			}
			n++;
		}
		if (batch.length) {
			writePage(batch);
			pages++;
		}
		byResource[table] = n;
		objects += n;
	}
	const ms = Number(process.hrtime.bigint() - t0) / 1e6;
	db.close();
	console.log(JSON.stringify({
		objects, ms: Math.round(ms), objs_per_s: Math.round(objects / (ms / 1000)), pages,
		by_resource: byResource,
	}));
}

main().catch((err) => {
	console.error(`pull.js: ${err.message}`);
	process.exit(1);
});
