/*
 * test_http.c - the Stripe HTTP client layer: URL policy and query
 * encoding (pure), the retry/exit-code policy table, backoff bounds, and
 * the client itself against the project's fake Stripe (started here as a
 * child process on port 0): auth, pagination chained from callbacks,
 * 401/404/400 not retried, every fault class retried (or not, for
 * Stripe-Should-Retry: false), retries exhausted, network errors and
 * timeouts, cancellation, connection reuse, 20 % mixed faults, and the
 * token bucket keeping a rate-limited fake free of 429s.
 *
 * The fake is $FAKESTRIPE (set by `make test`), else
 * build/default/fakestripe.  Every error message and debug line produced
 * is checked not to contain the key.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "harness.h"
#include "http.h"
#include "stripe_client.h"

#define KEY "sk_test_unitHttpKey0123456789"

/* ---- pure parts ---------------------------------------------------------- */

static void test_query_encoding(void)
{
	struct http_query q = { 0 };

	CHECK_STR(http_query_str(&q), "");
	CHECK_INT(http_query_add(&q, "limit", "100"), 0);
	CHECK_INT(http_query_add(&q, "created[gte]", "1700000000"), 0);
	CHECK_INT(http_query_add(&q, "expand[]", "data.line_items"), 0);
	CHECK_INT(http_query_add(&q, "types[]", "customer.subscription.updated"), 0);
	CHECK_INT(http_query_add(&q, "status", "all"), 0);
	CHECK_STR(http_query_str(&q),
		  "limit=100&created%5Bgte%5D=1700000000&expand%5B%5D=data.line_items"
		  "&types%5B%5D=customer.subscription.updated&status=all");
	http_query_free(&q);
	CHECK(q.buf == NULL);
	CHECK_INT(http_query_add(&q, "q", "a b&c=d/é~_-.+%"), 0);
	CHECK_STR(http_query_str(&q), "q=a%20b%26c%3Dd%2F%C3%A9~_-.%2B%25");
	CHECK_INT(http_query_add(&q, "starting_after", NULL), 0);
	CHECK_STR(http_query_str(&q), "q=a%20b%26c%3Dd%2F%C3%A9~_-.%2B%25&starting_after=");
	http_query_free(&q);
}

static void test_url_policy(void)
{
	static const char *const ok[] = {
		"https://api.stripe.com", "https://api.stripe.com/", "https://example.test:8443/stripe",
		"http://127.0.0.1:12111", "http://127.1.2.3:80", "http://localhost:1",
		"http://LOCALHOST", "http://[::1]:12111", "HTTPS://api.stripe.com",
	};
	static const char *const bad[] = {
		"http://example.com", "http://10.0.0.1:12111", "http://128.0.0.1",
		"http://127.0.0.1.evil.example", "http://localhost.evil.example",
		"http://127.0.0", "http://127.0.0.256", "http://[::2]:1", "ftp://127.0.0.1",
		"file:///etc/passwd", "api.stripe.com", "https://user:pw@api.stripe.com",
		"https://api.stripe.com/?x=1", "https://api.stripe.com/#f", "https://",
		"http://127.0.0.1:0", "http://127.0.0.1:99999", "https://api.stripe.com:x",
		"https://a b", "", "gopher://localhost",
	};
	struct err e;
	size_t i;

	for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		err_clear(&e);
		if (http_base_url_check(ok[i], &e) != 0)
			printf("  refused: %s (%s)\n", ok[i], e.msg);
		CHECK_INT(e.code, 0);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err_clear(&e);
		if (http_base_url_check(bad[i], &e) != EXIT_CONFIG)
			printf("  accepted: %s\n", bad[i]);
		CHECK_INT(e.code, EXIT_CONFIG);
	}
	err_clear(&e);
	http_base_url_check("http://example.com:80", &e);
	CHECK_CONTAINS(e.msg, "plain http is allowed only to a loopback host");
	CHECK_CONTAINS(e.msg, "\"example.com\"");
	CHECK(http_host_is_loopback("127.0.0.1", 9));
	CHECK(!http_host_is_loopback("127.0.0.1x", 10));
}

static void test_retry_policy(void)
{
	CHECK_INT(stripe_retry_decision(200, NULL, NULL), STRIPE_DONE);
	CHECK_INT(stripe_retry_decision(200, "false", NULL), STRIPE_DONE);
	CHECK_INT(stripe_retry_decision(429, NULL, "rate_limit"), STRIPE_RETRY);
	CHECK_INT(stripe_retry_decision(429, NULL, "lock_timeout"), STRIPE_RETRY);
	CHECK_INT(stripe_retry_decision(400, NULL, "lock_timeout"), STRIPE_RETRY);
	CHECK_INT(stripe_retry_decision(500, NULL, NULL), STRIPE_RETRY);
	CHECK_INT(stripe_retry_decision(502, NULL, NULL), STRIPE_RETRY);
	CHECK_INT(stripe_retry_decision(503, NULL, NULL), STRIPE_RETRY);
	CHECK_INT(stripe_retry_decision(503, "false", NULL), STRIPE_FAIL);
	CHECK_INT(stripe_retry_decision(500, "FALSE", NULL), STRIPE_FAIL);
	CHECK_INT(stripe_retry_decision(429, "false", "rate_limit"), STRIPE_FAIL);
	CHECK_INT(stripe_retry_decision(409, "true", NULL), STRIPE_RETRY);
	CHECK_INT(stripe_retry_decision(400, "true", "parameter_unknown"), STRIPE_RETRY);
	CHECK_INT(stripe_retry_decision(400, NULL, "parameter_unknown"), STRIPE_FAIL);
	CHECK_INT(stripe_retry_decision(400, NULL, NULL), STRIPE_FAIL);
	CHECK_INT(stripe_retry_decision(401, NULL, NULL), STRIPE_FAIL);
	CHECK_INT(stripe_retry_decision(403, NULL, NULL), STRIPE_FAIL);
	CHECK_INT(stripe_retry_decision(404, NULL, "resource_missing"), STRIPE_FAIL);
	CHECK_INT(stripe_retry_decision(301, NULL, NULL), STRIPE_FAIL);
	CHECK_INT(stripe_status_exit_code(401), EXIT_NOPERM);
	CHECK_INT(stripe_status_exit_code(403), EXIT_NOPERM);
	CHECK_INT(stripe_status_exit_code(400), EXIT_DATAERR);
	CHECK_INT(stripe_status_exit_code(404), EXIT_DATAERR);
	CHECK_INT(stripe_status_exit_code(503), EXIT_UNAVAILABLE);
	CHECK_INT(stripe_status_exit_code(302), EXIT_UNAVAILABLE);
	CHECK(stripe_curl_retryable(CURLE_COULDNT_CONNECT));
	CHECK(stripe_curl_retryable(CURLE_PARTIAL_FILE));
	CHECK(stripe_curl_retryable(CURLE_GOT_NOTHING));
	CHECK(stripe_curl_retryable(CURLE_RECV_ERROR));
	CHECK(stripe_curl_retryable(CURLE_OPERATION_TIMEDOUT));
	CHECK(!stripe_curl_retryable(CURLE_PEER_FAILED_VERIFICATION));
	CHECK(!stripe_curl_retryable(CURLE_UNSUPPORTED_PROTOCOL));
	CHECK(!stripe_curl_retryable(CURLE_WRITE_ERROR));
}

static void test_endpoint_key(void)
{
	char buf[128];

	stripe_endpoint_key("/v1/customers", buf, sizeof buf);
	CHECK_STR(buf, "GET /v1/customers");
	stripe_endpoint_key("/v1/customers/cus_TuBasicAlice01", buf, sizeof buf);
	CHECK_STR(buf, "GET /v1/customers/{id}");
	stripe_endpoint_key("/v1/checkout/sessions", buf, sizeof buf);
	CHECK_STR(buf, "GET /v1/checkout/sessions");
	stripe_endpoint_key("/v1/checkout/sessions/cs_test_a1B2/line_items", buf, sizeof buf);
	CHECK_STR(buf, "GET /v1/checkout/sessions/{id}/line_items");
	stripe_endpoint_key("/v1/events/evt_1Fk00000001abcd", buf, sizeof buf);
	CHECK_STR(buf, "GET /v1/events/{id}");
	stripe_endpoint_key("/v1/customers", buf, 8);
	CHECK_STR(buf, "GET /v1");
}

static void test_backoff(void)
{
	unsigned long long rng = 7, rng2 = 7;
	unsigned max1 = 0, max6 = 0, v;
	int i, zero = 0;

	for (i = 0; i < 2000; i++) {
		v = stripe_backoff_ms(500, 30000, 1, &rng);
		CHECK(v <= 500);
		if (v > max1)
			max1 = v;
		if (v == 0)
			zero++;
		v = stripe_backoff_ms(500, 30000, 6, &rng);
		CHECK(v <= 16000);
		if (v > max6)
			max6 = v;
		CHECK(stripe_backoff_ms(500, 30000, 40, &rng) <= 30000);
	}
	CHECK(max1 > 400);          /* full jitter covers the range */
	CHECK(max6 > 12000);
	CHECK(zero < 50);
	/* same seed, same delays */
	rng = rng2 = 99;
	for (i = 0; i < 10; i++)
		CHECK_INT(stripe_backoff_ms(500, 30000, i + 1, &rng),
			  stripe_backoff_ms(500, 30000, i + 1, &rng2));
}

#include "fakeserver.h"

/* ---- client helpers ----------------------------------------------------- */

/* Every message and debug line seen, to prove the key never shows up. */
static char seen[1 << 16];
static size_t seen_len;
static int key_leaks;

static void remember(const char *s)
{
	size_t n = strlen(s);

	if (strstr(s, KEY) || strstr(s, "WRONGkey"))
		key_leaks++;
	if (seen_len + n + 2 < sizeof seen) {
		memcpy(seen + seen_len, s, n);
		seen_len += n;
		seen[seen_len++] = '\n';
		seen[seen_len] = '\0';
	}
}

static void on_debug(void *ud, const char *line)
{
	(void)ud;
	remember(line);
}

struct outcome {
	int done, ok, failed, cancelled;
	int code;                  /* last error code */
	char msg[ERR_MSG_MAX];     /* last error message */
	long status;
	int attempts;              /* of the last completion */
	int max_attempts;
	char request_id[128], version[64];
	int listed;                /* objects seen (lists) */
	int pages;
	int limit;                 /* pagination: page size to chain with (0: no chain) */
	int status_all;            /* pagination: add status=all to the chained pages */
	struct stripe_client *c;
	int cancel_after;          /* call stripe_cancel after this many completions */
};

static void on_done(void *ud, const struct stripe_response *r, const struct err *e)
{
	struct outcome *o = ud;

	o->done++;
	o->status = r->status;
	o->attempts = r->attempts;
	if (r->attempts > o->max_attempts)
		o->max_attempts = r->attempts;
	snprintf(o->request_id, sizeof o->request_id, "%s", r->request_id);
	snprintf(o->version, sizeof o->version, "%s", r->stripe_version);
	if (r->cancelled)
		o->cancelled++;
	if (e->code) {
		o->failed++;
		o->code = e->code;
		snprintf(o->msg, sizeof o->msg, "%s", e->msg);
		remember(e->msg);
	} else {
		const struct jval *data = jv_get(jdoc_root(r->doc), "data"), *v, *lastv = NULL;

		o->ok++;
		if (jv_is_array(data)) {
			o->listed += (int)data->n;
			o->pages++;
			for (v = jv_first(data); v; v = jv_next(data, v))
				lastv = v;
		}
		if (o->limit && jv_is_true(jv_get(jdoc_root(r->doc), "has_more"))) {
			const char *last = jv_str(jv_get(lastv, "id"));
			char lim[16];
			struct stripe_param p[3] = { { "limit", lim }, { "starting_after", last },
						     { "status", "all" } };
			struct err e2;

			snprintf(lim, sizeof lim, "%d", o->limit);
			err_clear(&e2);
			CHECK_INT(stripe_get(o->c, r->path, p, o->status_all ? 3 : 2, on_done, o, &e2), 0);
		}
	}
	if (o->cancel_after && o->done == o->cancel_after)
		stripe_cancel(o->c);
}

static struct stripe_config make_cfg(const char *base, int retries, int concurrency)
{
	struct stripe_config sc;

	memset(&sc, 0, sizeof sc);
	sc.api_base = (char *)base;
	sc.api_version = (char *)"2025-03-31.basil";
	sc.rate_global_per_sec = 10000;
	sc.rate_endpoint_per_sec = 10000;
	sc.connect_timeout_sec = 5;
	sc.request_timeout_sec = 10;
	sc.max_retries = retries;
	sc.concurrency = concurrency;
	return sc;
}

static struct stripe_client *client(const struct stripe_config *sc, const char *key)
{
	struct stripe_client_opts o;
	struct stripe_client *c = NULL;
	struct err e;

	memset(&o, 0, sizeof o);
	o.backoff_base_ms = 2;
	o.backoff_cap_ms = 20;
	o.seed = 1234;
	o.debug = on_debug;
	err_clear(&e);
	if (stripe_client_new(sc, key, &o, &c, &e) != 0)
		printf("  client: %s\n", e.msg);
	CHECK(c != NULL);
	return c;
}

/* Submit one GET and run to completion. */
static void get1(struct stripe_client *c, const char *path, const struct stripe_param *p,
		 size_t np, struct outcome *o)
{
	struct err e;

	err_clear(&e);
	o->c = c;
	CHECK_INT(stripe_get(c, path, p, np, on_done, o, &e), 0);
	CHECK_INT(stripe_run(c, NULL, &e), 0);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct fake F;      /* --generate 600 --seed 3, faults set per test */
static int have_fake;

/* ---- against the fake --------------------------------------------------- */

static void test_get_with_auth(void)
{
	struct stripe_config sc = make_cfg(F.base, 3, 4);
	struct stripe_client *c = client(&sc, KEY);
	struct stripe_param p[] = { { "limit", "3" } };
	struct outcome o;
	struct stripe_stats st;

	if (!c)
		return;
	memset(&o, 0, sizeof o);
	fake_faults(&F, "{\"clear\":true}");
	get1(c, "/v1/customers", p, 1, &o);
	CHECK_INT(o.ok, 1);
	CHECK_INT(o.status, 200);
	CHECK_INT(o.listed, 3);
	CHECK_INT(o.attempts, 1);
	CHECK(strncmp(o.request_id, "req_", 4) == 0);
	CHECK_STR(o.version, "2025-03-31.basil");   /* our pinned version, echoed */
	CHECK_INT(fake_count(&F, "by_path", "GET /v1/customers"), 1);
	stripe_stats_total(c, &st);
	CHECK_INT(st.requests, 1);
	CHECK_INT(st.ok, 1);
	CHECK(st.bytes > 100);
	CHECK_INT(stripe_stats_endpoints(c), 1);
	CHECK_STR(stripe_stats_endpoint(c, 0, &st), "GET /v1/customers");
	CHECK_INT(st.requests, 1);
	CHECK(stripe_stats_endpoint(c, 1, &st) == NULL);
	CHECK_INT(st.requests, 0);
	stripe_client_free(c);
}

static void test_pagination_from_callbacks(void)
{
	struct stripe_config sc = make_cfg(F.base, 3, 4);
	struct stripe_client *c = client(&sc, KEY);
	struct stripe_param p[] = { { "limit", "7" } }, ps[] = { { "limit", "100" },
								 { "status", "all" } };
	struct outcome o, os;
	json_t *h;
	long ncus, nsub;

	if (!c)
		return;
	h = fake_ctl(&F, "/_fake/health", NULL);
	ncus = (long)json_integer_value(json_object_get(json_object_get(h, "counts"), "customers"));
	nsub = (long)json_integer_value(json_object_get(json_object_get(h, "counts"), "subscriptions"));
	json_decref(h);
	CHECK(ncus > 50);
	memset(&o, 0, sizeof o);
	memset(&os, 0, sizeof os);
	o.limit = 7;
	os.limit = 100;
	os.status_all = 1;
	os.c = c;
	CHECK_INT(stripe_get(c, "/v1/subscriptions", ps, 2, on_done, &os, NULL), 0);
	get1(c, "/v1/customers", p, 1, &o);
	CHECK_INT(o.failed, 0);
	CHECK_INT(o.listed, ncus);
	CHECK_INT(o.pages, (ncus + 6) / 7);
	CHECK_INT(os.listed, nsub);     /* status=all: canceled ones too */
	stripe_client_free(c);
}

static void test_wrong_key_401_not_retried(void)
{
	struct stripe_config sc = make_cfg(F.base, 5, 4);
	struct stripe_client *c = client(&sc, "sk_test_WRONGkey0123456789");
	struct outcome o;
	struct stripe_stats st;

	if (!c)
		return;
	memset(&o, 0, sizeof o);
	fake_faults(&F, "{\"clear\":true}");
	get1(c, "/v1/subscriptions", NULL, 0, &o);
	CHECK_INT(o.failed, 1);
	CHECK_INT(o.code, EXIT_NOPERM);
	CHECK_INT(o.status, 401);
	CHECK_INT(o.attempts, 1);
	CHECK_CONTAINS(o.msg, "GET /v1/subscriptions: 401 invalid_request_error: "
		       "Invalid API Key provided: ");
	CHECK_CONTAINS(o.msg, "(request req_");
	CHECK(strstr(o.msg, "WRONGkey") == NULL);
	CHECK_INT(fake_count(&F, "by_status", "401"), 1);   /* auth comes before routing */
	stripe_stats_total(c, &st);
	CHECK_INT(st.failed, 1);
	CHECK_INT(st.retries, 0);
	stripe_client_free(c);
}

static void test_404_and_400_not_retried(void)
{
	struct stripe_config sc = make_cfg(F.base, 5, 4);
	struct stripe_client *c = client(&sc, KEY);
	struct stripe_param bad[] = { { "colour", "blue" } };
	struct outcome o;

	if (!c)
		return;
	memset(&o, 0, sizeof o);
	fake_faults(&F, "{\"clear\":true}");
	get1(c, "/v1/customers/cus_doesNotExist1", NULL, 0, &o);
	CHECK_INT(o.code, EXIT_DATAERR);
	CHECK_INT(o.status, 404);
	CHECK_CONTAINS(o.msg, "GET /v1/customers/cus_doesNotExist1: 404 invalid_request_error "
		       "(resource_missing): ");
	CHECK_CONTAINS(o.msg, "(request req_");
	CHECK_INT(fake_count(&F, "by_path", "GET /v1/customers/{id}"), 1);
	memset(&o, 0, sizeof o);
	get1(c, "/v1/prices", bad, 1, &o);
	CHECK_INT(o.code, EXIT_DATAERR);
	CHECK_INT(o.status, 400);
	CHECK_CONTAINS(o.msg, "parameter_unknown");
	CHECK_INT(fake_count(&F, "by_path", "GET /v1/prices"), 1);
	/* a path we refuse to build */
	CHECK_INT(stripe_get(c, "/v1/customers?limit=1", NULL, 0, on_done, &o, NULL), EXIT_DATAERR);
	CHECK_INT(stripe_get(c, "/v1/../etc", NULL, 0, on_done, &o, NULL), EXIT_DATAERR);
	CHECK_INT(stripe_get(c, "/v2/x", NULL, 0, on_done, &o, NULL), EXIT_DATAERR);
	stripe_client_free(c);
}

/* One fault kind on every 3rd request to /v1/products: 12 requests all succeed. */
static void fault_retried(const char *kind)
{
	struct stripe_config sc = make_cfg(F.base, 8, 4);
	struct stripe_client *c = client(&sc, KEY);
	struct stripe_param p[] = { { "limit", "5" } };
	struct outcome o;
	struct stripe_stats st;
	char rule[256];
	long faults;
	int i;

	if (!c)
		return;
	snprintf(rule, sizeof rule, "{\"clear\":true,\"faults\":[{\"kind\":\"%s\",\"every\":3,"
		 "\"path\":\"/v1/products\"}]}", kind);
	fake_faults(&F, rule);
	memset(&o, 0, sizeof o);
	o.c = c;
	for (i = 0; i < 12; i++)
		CHECK_INT(stripe_get(c, "/v1/products", p, 1, on_done, &o, NULL), 0);
	CHECK_INT(stripe_run(c, NULL, NULL), 0);
	CHECK_INT(o.ok, 12);
	CHECK_INT(o.failed, 0);
	CHECK_INT(o.listed, 60);
	stripe_stats_total(c, &st);
	faults = fake_count(&F, "by_path", "GET /v1/products") - 12;
	if (faults < 1 || (long)st.retries != faults)
		printf("  %s: %ld faults, %lu retries\n", kind, faults, st.retries);
	CHECK(faults >= 4);
	CHECK_INT(st.retries, faults);
	if (!strcmp(kind, "429") || !strcmp(kind, "lock_timeout"))
		CHECK_INT(st.rate_limited, faults);
	if (!strcmp(kind, "reset") || !strcmp(kind, "truncate"))
		CHECK_INT(st.net_errors, faults);
	stripe_client_free(c);
}

/* Queued requests start by priority, in submission order within one. */
static int prio_order[8], prio_n;

static void on_prio(void *ud, const struct stripe_response *r, const struct err *e)
{
	(void)r;
	CHECK_INT(e->code, 0);
	if (prio_n < 8)
		prio_order[prio_n++] = (int)(long)ud;
}

static void test_priority_order(void)
{
	struct stripe_config sc = make_cfg(F.base, 0, 1);
	struct stripe_client *c = client(&sc, KEY);
	static const int prio[6] = { 0, 0, 2, 1, 2, 0 };
	static const int want[6] = { 2, 4, 3, 0, 1, 5 };
	struct stripe_param p[] = { { "limit", "1" } };
	long i;

	if (!c)
		return;
	prio_n = 0;
	for (i = 0; i < 6; i++)
		CHECK_INT(stripe_get_prio(c, "/v1/products", p, 1, prio[i], on_prio, (void *)i, NULL),
			  0);
	CHECK_INT(stripe_run(c, NULL, NULL), 0);
	CHECK_INT(prio_n, 6);
	for (i = 0; i < 6 && i < prio_n; i++)
		CHECK_INT(prio_order[i], want[i]);
	stripe_client_free(c);
}

static void test_fault_429(void) { fault_retried("429"); }
static void test_fault_lock_timeout(void) { fault_retried("lock_timeout"); }
static void test_fault_500(void) { fault_retried("500"); }
static void test_fault_503(void) { fault_retried("503"); }
static void test_fault_reset(void) { fault_retried("reset"); }
static void test_fault_truncate(void) { fault_retried("truncate"); }
static void test_fault_badjson(void) { fault_retried("badjson"); }

static void test_should_retry_false(void)
{
	struct stripe_config sc = make_cfg(F.base, 8, 4);
	struct stripe_client *c = client(&sc, KEY);
	struct outcome o;

	if (!c)
		return;
	fake_faults(&F, "{\"clear\":true,\"faults\":[{\"kind\":\"503\",\"every\":1,"
		    "\"retry\":false}]}");
	memset(&o, 0, sizeof o);
	get1(c, "/v1/invoices", NULL, 0, &o);
	CHECK_INT(o.failed, 1);
	CHECK_INT(o.code, EXIT_UNAVAILABLE);
	CHECK_INT(o.attempts, 1);
	CHECK_CONTAINS(o.msg, "GET /v1/invoices: 503 api_error: ");
	CHECK_INT(fake_count(&F, "by_path", "GET /v1/invoices"), 1);
	/* and a 429 told not to retry is not retried either */
	fake_faults(&F, "{\"clear\":true,\"faults\":[{\"kind\":\"429\",\"every\":1,"
		    "\"retry\":false}]}");
	memset(&o, 0, sizeof o);
	get1(c, "/v1/invoices", NULL, 0, &o);
	CHECK_INT(o.code, EXIT_UNAVAILABLE);
	CHECK_INT(fake_count(&F, "by_path", "GET /v1/invoices"), 1);
	stripe_client_free(c);
}

static void test_retries_exhausted(void)
{
	struct stripe_config sc = make_cfg(F.base, 3, 4);
	struct stripe_client *c = client(&sc, KEY);
	struct outcome o;

	if (!c)
		return;
	fake_faults(&F, "{\"clear\":true,\"faults\":[{\"kind\":\"500\",\"every\":1}]}");
	memset(&o, 0, sizeof o);
	get1(c, "/v1/refunds", NULL, 0, &o);
	CHECK_INT(o.failed, 1);
	CHECK_INT(o.code, EXIT_TEMPFAIL);
	CHECK_INT(o.attempts, 4);
	CHECK_CONTAINS(o.msg, "GET /v1/refunds: giving up after 4 attempts: 500 api_error: ");
	CHECK_CONTAINS(o.msg, "(request req_");
	CHECK_INT(fake_count(&F, "by_path", "GET /v1/refunds"), 4);
	fake_faults(&F, "{\"clear\":true,\"faults\":[{\"kind\":\"badjson\",\"every\":1}]}");
	memset(&o, 0, sizeof o);
	get1(c, "/v1/refunds", NULL, 0, &o);
	CHECK_INT(o.code, EXIT_TEMPFAIL);
	CHECK_CONTAINS(o.msg, "giving up after 4 attempts: 200 with a body that is not a JSON object");
	fake_faults(&F, "{\"clear\":true}");
	stripe_client_free(c);
}

static void test_network_errors(void)
{
	struct stripe_config sc;
	struct stripe_client *c;
	struct outcome o;
	char base[64];
	int port;

	/* a port nobody listens on: the fake's, once it is gone */
	{
		struct fake tmp;
		static const char *const args[] = { "--generate", "10", NULL };

		if (fake_start(&tmp, args) != 0)
			return;
		port = tmp.port;
		fake_stop(&tmp);
	}
	snprintf(base, sizeof base, "http://127.0.0.1:%d", port);
	sc = make_cfg(base, 2, 2);
	c = client(&sc, KEY);
	if (!c)
		return;
	memset(&o, 0, sizeof o);
	get1(c, "/v1/customers", NULL, 0, &o);
	CHECK_INT(o.code, EXIT_TEMPFAIL);
	CHECK_INT(o.attempts, 3);
	CHECK_INT(o.status, 0);
	CHECK_CONTAINS(o.msg, "GET /v1/customers: giving up after 3 attempts: network error (curl 7: ");
	stripe_client_free(c);
}

static void test_timeout_retried(void)
{
	struct stripe_config sc = make_cfg(F.base, 1, 2);
	struct stripe_client_opts op;
	struct stripe_client *c = NULL;
	struct outcome o;
	struct err e;

	memset(&op, 0, sizeof op);
	op.backoff_base_ms = 1;
	op.timeout_ms = 150;
	op.debug = on_debug;
	err_clear(&e);
	CHECK_INT(stripe_client_new(&sc, KEY, &op, &c, &e), 0);
	if (!c)
		return;
	fake_faults(&F, "{\"clear\":true,\"latency_ms\":600}");
	memset(&o, 0, sizeof o);
	get1(c, "/v1/prices", NULL, 0, &o);
	CHECK_INT(o.code, EXIT_TEMPFAIL);
	CHECK_CONTAINS(o.msg, "giving up after 2 attempts: network error (curl 28: ");
	fake_faults(&F, "{\"clear\":true,\"latency_ms\":0}");
	stripe_client_free(c);
}

static void test_mixed_faults(void)
{
	static const char *const paths[] = { "/v1/customers", "/v1/products", "/v1/prices",
					     "/v1/invoices" };
	struct stripe_config sc = make_cfg(F.base, 8, 8);
	struct stripe_client *c = client(&sc, KEY);
	struct stripe_param p[] = { { "limit", "4" } };
	struct outcome o;
	struct stripe_stats st;
	long faulted;
	json_t *j;
	int i;

	if (!c)
		return;
	fake_faults(&F, "{\"clear\":true,\"seed\":5,\"faults\":["
		    "{\"kind\":\"429\",\"p\":0.03},{\"kind\":\"lock_timeout\",\"p\":0.03},"
		    "{\"kind\":\"500\",\"p\":0.03},{\"kind\":\"503\",\"p\":0.03},"
		    "{\"kind\":\"reset\",\"p\":0.03},{\"kind\":\"truncate\",\"p\":0.03},"
		    "{\"kind\":\"badjson\",\"p\":0.04}]}");
	memset(&o, 0, sizeof o);
	o.c = c;
	for (i = 0; i < 200; i++)
		CHECK_INT(stripe_get(c, paths[i % 4], p, 1, on_done, &o, NULL), 0);
	CHECK_INT(stripe_run(c, NULL, NULL), 0);
	CHECK_INT(o.ok, 200);
	CHECK_INT(o.failed, 0);
	CHECK_INT(o.listed, 800);
	stripe_stats_total(c, &st);
	j = fake_ctl(&F, "/_fake/stats", NULL);
	faulted = (long)json_integer_value(json_object_get(j, "requests")) - 200;
	json_decref(j);
	CHECK(st.retries >= 20);        /* ~20 % of ~250 attempts */
	CHECK(o.max_attempts >= 2);
	CHECK_INT((long)st.requests, 200 + (long)st.retries);
	CHECK(faulted >= (long)st.retries);   /* the fake also counts control requests */
	fake_faults(&F, "{\"clear\":true}");
	stripe_client_free(c);
}

static void test_connection_reuse(void)
{
	struct stripe_config sc = make_cfg(F.base, 3, 1);
	struct stripe_client *c = client(&sc, KEY);
	struct outcome o;
	long before;
	int i;

	if (!c)
		return;
	fake_faults(&F, "{\"clear\":true}");
	memset(&o, 0, sizeof o);
	o.c = c;
	for (i = 0; i < 30; i++)
		stripe_get(c, "/v1/products", NULL, 0, on_done, &o, NULL);
	before = fake_count(&F, "by_path", "GET /v1/products");
	CHECK_INT(stripe_run(c, NULL, NULL), 0);
	CHECK_INT(o.ok, 30);
	CHECK_INT(fake_count(&F, "by_path", "GET /v1/products") - before, 30);
	/* libcurl reports the connections it opened per transfer through the
	 * client's stats; with concurrency 1 and keep-alive, one does */
	{
		struct stripe_stats st;

		stripe_stats_total(c, &st);
		CHECK_INT(st.connects, 1);
	}
	stripe_client_free(c);
}

static volatile sig_atomic_t stop_flag;

static void on_tick(void *ud)
{
	(void)ud;
	stop_flag = 1;
}

static void test_cancel_and_stop(void)
{
	struct stripe_config sc = make_cfg(F.base, 3, 2);
	struct stripe_client *c = client(&sc, KEY);
	struct outcome o;
	struct err e;
	int i;

	if (!c)
		return;
	fake_faults(&F, "{\"clear\":true,\"latency_ms\":50}");
	memset(&o, 0, sizeof o);
	o.c = c;
	o.cancel_after = 1;
	for (i = 0; i < 10; i++)
		stripe_get(c, "/v1/customers", NULL, 0, on_done, &o, NULL);
	CHECK_INT(stripe_pending(c), 10);
	CHECK_INT(stripe_run(c, NULL, NULL), 0);
	CHECK_INT(o.done, 10);
	/* the first completion cancels the rest; one finishing in the same
	 * poll round is still reported as the success it was */
	CHECK(o.ok >= 1 && o.ok <= 2);
	CHECK_INT(o.ok + o.cancelled, 10);
	CHECK_INT(o.code, EXIT_TEMPFAIL);
	CHECK_CONTAINS(o.msg, "GET /v1/customers: cancelled");
	CHECK_INT(stripe_pending(c) + stripe_in_flight(c), 0);
	/* the stop flag (set from the tick here, by a signal handler in real life) */
	memset(&o, 0, sizeof o);
	o.c = c;
	for (i = 0; i < 10; i++)
		stripe_get(c, "/v1/customers", NULL, 0, on_done, &o, NULL);
	stop_flag = 0;
	stripe_client_set_tick(c, on_tick, NULL, 10);
	err_clear(&e);
	CHECK_INT(stripe_run(c, &stop_flag, &e), EXIT_TEMPFAIL);
	CHECK_STR(e.msg, "interrupted");
	CHECK_INT(o.done, 10);
	CHECK(o.cancelled >= 8);
	stripe_client_set_tick(c, NULL, NULL, 0);
	/* usable again afterwards; requests left at free are cancelled */
	memset(&o, 0, sizeof o);
	get1(c, "/v1/customers", NULL, 0, &o);
	CHECK_INT(o.ok, 1);
	memset(&o, 0, sizeof o);
	stripe_get(c, "/v1/customers", NULL, 0, on_done, &o, NULL);
	stripe_client_free(c);
	CHECK_INT(o.cancelled, 1);
	fake_faults(&F, "{\"clear\":true,\"latency_ms\":0}");
}

static void test_client_refuses_bad_setup(void)
{
	struct stripe_config sc = make_cfg("http://example.com", 3, 2);
	struct stripe_client *c = NULL;
	struct err e;

	err_clear(&e);
	CHECK_INT(stripe_client_new(&sc, KEY, NULL, &c, &e), EXIT_CONFIG);
	CHECK(c == NULL);
	CHECK_CONTAINS(e.msg, "plain http is allowed only to a loopback host");
	sc = make_cfg("http://127.0.0.1.nip.io:80", 3, 2);
	CHECK_INT(stripe_client_new(&sc, KEY, NULL, &c, &e), EXIT_CONFIG);
	sc = make_cfg("ftp://127.0.0.1", 3, 2);
	CHECK_INT(stripe_client_new(&sc, KEY, NULL, &c, &e), EXIT_CONFIG);
	sc = make_cfg("https://api.stripe.com", 3, 2);
	sc.api_version = NULL;
	CHECK_INT(stripe_client_new(&sc, KEY, NULL, &c, &e), EXIT_CONFIG);
	sc = make_cfg("https://api.stripe.com", 3, 2);
	CHECK_INT(stripe_client_new(&sc, "sk_test_x\r\nX-Evil: 1", NULL, &c, &e), EXIT_CONFIG);
	CHECK(strstr(e.msg, "sk_test_x") == NULL);
	CHECK_INT(stripe_client_new(&sc, "pk_test_publishable123", NULL, &c, &e), EXIT_CONFIG);
	CHECK(strstr(e.msg, "publishable") == NULL);
	CHECK_INT(stripe_client_new(&sc, KEY, NULL, &c, &e), 0);
	{
		/* our key is masked wherever it turns up, whatever its context */
		char m[256];

		snprintf(m, sizeof m, "x%sy and Bearer %s and (%s)", KEY, KEY, KEY);
		stripe_redact(c, m, sizeof m);
		CHECK(strstr(m, "unitHttpKey") == NULL);
		CHECK_CONTAINS(m, "x[REDACTED]y and Bearer [REDACTED] and ([REDACTED])");
		snprintf(m, sizeof m, "Invalid API Key provided: sk_test_****1234");
		stripe_redact(c, m, sizeof m);
		CHECK(strstr(m, "sk_test_*") == NULL);
	}
	stripe_client_free(c);
}

/* Rate limits on: 150 requests over 3 endpoints, concurrency 8, no 429. */
static void test_rate_limit_no_429(void)
{
	static const char *const args[] = { "--generate", "200", "--rate-global", "100",
					    "--rate-endpoint", "25", NULL };
	static const char *const paths[] = { "/v1/customers", "/v1/products", "/v1/prices" };
	struct fake R;
	struct stripe_config sc;
	struct stripe_client *c;
	struct stripe_param p[] = { { "limit", "1" } };
	struct outcome o;
	struct stripe_stats st;
	double t0, el;
	int i;

	if (fake_start(&R, args) != 0) {
		CHECK(!"fake started");
		return;
	}
	sc = make_cfg(R.base, 8, 8);
	sc.rate_global_per_sec = 100;
	sc.rate_endpoint_per_sec = 25;
	c = client(&sc, KEY);
	if (!c) {
		fake_stop(&R);
		return;
	}
	memset(&o, 0, sizeof o);
	o.c = c;
	for (i = 0; i < 150; i++)
		CHECK_INT(stripe_get(c, paths[i % 3], p, 1, on_done, &o, NULL), 0);
	t0 = now_s();
	CHECK_INT(stripe_run(c, NULL, NULL), 0);
	el = now_s() - t0;
	CHECK_INT(o.ok, 150);
	CHECK_INT(fake_count(&R, "rate_limited", NULL), 0);
	stripe_stats_total(c, &st);
	CHECK_INT(st.rate_limited, 0);
	CHECK_INT(st.requests, 150);
	/* 50 per endpoint at <= 25/s after a burst of at most 25: >= 1 s,
	 * and with our bucket (23.75/s after 11) about 1.6 s.  Lower bound only. */
	if (el < 1.0)
		printf("  150 requests took %.3f s\n", el);
	CHECK(el >= 1.0);
	stripe_client_free(c);
	fake_stop(&R);
}

int main(void)
{
	static const char *const args[] = { "--generate", "600", "--seed", "3", NULL };

	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	RUN(test_query_encoding);
	RUN(test_url_policy);
	RUN(test_retry_policy);
	RUN(test_endpoint_key);
	RUN(test_backoff);
	RUN(test_client_refuses_bad_setup);
	have_fake = fake_start(&F, args) == 0;
	CHECK(have_fake);
	if (have_fake) {
		RUN(test_get_with_auth);
		RUN(test_pagination_from_callbacks);
		RUN(test_wrong_key_401_not_retried);
		RUN(test_404_and_400_not_retried);
		RUN(test_priority_order);
		RUN(test_fault_429);
		RUN(test_fault_lock_timeout);
		RUN(test_fault_500);
		RUN(test_fault_503);
		RUN(test_fault_reset);
		RUN(test_fault_truncate);
		RUN(test_fault_badjson);
		RUN(test_should_retry_false);
		RUN(test_retries_exhausted);
		RUN(test_timeout_retried);
		RUN(test_mixed_faults);
		RUN(test_connection_reuse);
		RUN(test_cancel_and_stop);
		RUN(test_network_errors);
		RUN(test_rate_limit_no_429);
		fake_stop(&F);
	} else {
		harness_failed++;
	}
	/* no message or debug line of this whole run held a key */
	if (key_leaks)
		printf("  FAIL: a key appeared in %d messages\n", key_leaks);
	CHECK_INT(key_leaks, 0);
	if (key_leaks || seen_len < 1000)
		harness_failed++;
	else
		harness_passed++;
	printf("%s   key_never_in_messages (%zu bytes of messages checked)\n",
	       key_leaks ? "FAIL" : "ok", seen_len);
	if (getenv("TEST_HTTP_VERBOSE"))
		fputs(seen, stdout);
	curl_global_cleanup();
	return harness_done();
}
