/*
 * test_ratelimit.c - the token buckets, with a fake clock: capacity and
 * refill, per-endpoint versus global limits, the waiting time computed,
 * and a simulation against a copy of the fake Stripe's own limiter showing
 * that our margins never let it answer 429.
 */
#include <stdint.h>
#include <stdlib.h>

#include "harness.h"
#include "ratelimit.h"

#define MS 1000000ull
#define SEC 1000000000ull

static void test_capacity_and_refill(void)
{
	struct ratelimit *rl = ratelimit_new(10, 0, 1.0);
	int ep, i;

	CHECK(rl != NULL);
	ep = ratelimit_endpoint(rl, "GET /v1/customers");
	CHECK_INT(ep, 0);
	for (i = 0; i < 10; i++)
		CHECK_INT(ratelimit_acquire(rl, ep, 0), 0);
	/* empty: one token takes 1/10 s */
	CHECK_INT(ratelimit_acquire(rl, ep, 0), 100 * MS + 1);
	CHECK_INT(ratelimit_acquire(rl, ep, 50 * MS), 50 * MS + 1);
	CHECK_INT(ratelimit_acquire(rl, ep, 100 * MS + 1), 0);
	CHECK(ratelimit_acquire(rl, ep, 100 * MS + 2) > 0);
	/* a long pause refills to capacity, not beyond */
	for (i = 0; i < 10; i++)
		CHECK_INT(ratelimit_acquire(rl, ep, 60 * SEC), 0);
	CHECK(ratelimit_acquire(rl, ep, 60 * SEC) > 0);
	ratelimit_free(rl);
}

static void test_endpoint_versus_global(void)
{
	struct ratelimit *rl = ratelimit_new(100, 25, 1.0);
	int a, b, i, n;

	a = ratelimit_endpoint(rl, "GET /v1/customers");
	b = ratelimit_endpoint(rl, "GET /v1/prices");
	CHECK_INT(b, 1);
	CHECK_INT(ratelimit_endpoint(rl, "GET /v1/customers"), a);
	CHECK_INT(ratelimit_endpoint_count(rl), 2);
	CHECK_STR(ratelimit_endpoint_name(rl, 1), "GET /v1/prices");
	CHECK(ratelimit_endpoint_name(rl, 2) == NULL);
	for (i = 0; i < 25; i++)
		CHECK_INT(ratelimit_acquire(rl, a, 0), 0);
	/* endpoint a is empty (1/25 s to the next token); b is not */
	CHECK_INT(ratelimit_acquire(rl, a, 0), 40 * MS + 1);
	CHECK_INT(ratelimit_acquire(rl, b, 0), 0);
	/* the refusals above took no global token: 100 - 26 are left */
	n = 0;
	for (i = 0; i < 200; i++) {
		char name[32];

		snprintf(name, sizeof name, "GET /v1/e%d", i);
		if (ratelimit_acquire(rl, ratelimit_endpoint(rl, name), 0) == 0)
			n++;
	}
	CHECK_INT(n, 74);
	/* now the global bucket decides: 1/100 s for everyone */
	CHECK_INT(ratelimit_acquire(rl, b, 0), 10 * MS + 1);
	CHECK_INT(ratelimit_wait_ns(rl, -1, 0), 10 * MS + 1);
	ratelimit_free(rl);
}

static void test_wait_is_the_longer_of_both(void)
{
	struct ratelimit *rl = ratelimit_new(4, 2, 1.0);
	int a = ratelimit_endpoint(rl, "a"), b = ratelimit_endpoint(rl, "b");

	CHECK_INT(ratelimit_acquire(rl, a, 0), 0);
	CHECK_INT(ratelimit_acquire(rl, a, 0), 0);
	CHECK_INT(ratelimit_acquire(rl, b, 0), 0);
	CHECK_INT(ratelimit_acquire(rl, b, 0), 0);
	/* both empty: global needs 1/4 s, endpoint 1/2 s */
	CHECK_INT(ratelimit_wait_ns(rl, a, 0), 500 * MS + 1);
	CHECK_INT(ratelimit_wait_ns(rl, a, 0), 500 * MS + 1);   /* wait_ns takes nothing */
	CHECK_INT(ratelimit_acquire(rl, a, 500 * MS + 1), 0);
	/* global got 2 tokens back, a took one; b has one */
	CHECK_INT(ratelimit_acquire(rl, b, 500 * MS + 1), 0);
	CHECK(ratelimit_acquire(rl, b, 500 * MS + 1) > 0);
	ratelimit_free(rl);
}

static void test_small_rates_and_unlimited(void)
{
	struct ratelimit *rl = ratelimit_new(0, 0.5, 0.5);
	int a = ratelimit_endpoint(rl, "a"), i;

	/* capacity never below one token */
	CHECK_INT(ratelimit_acquire(rl, a, 0), 0);
	CHECK_INT(ratelimit_acquire(rl, a, 0), 2 * SEC + 1);
	ratelimit_free(rl);
	rl = ratelimit_new(0, 0, 1);
	a = ratelimit_endpoint(rl, "a");
	for (i = 0; i < 100000; i++)
		if (ratelimit_acquire(rl, a, 0))
			break;
	CHECK_INT(i, 100000);
	ratelimit_free(rl);
	CHECK(ratelimit_new(10, 10, 0) == NULL);
}

static void test_drain(void)
{
	struct ratelimit *rl = ratelimit_new(100, 10, 1.0);
	int a = ratelimit_endpoint(rl, "a");

	CHECK_INT(ratelimit_acquire(rl, a, 0), 0);
	ratelimit_drain(rl, a, 0);
	CHECK_INT(ratelimit_acquire(rl, a, 0), 100 * MS + 1);
	CHECK_INT(ratelimit_acquire(rl, a, 100 * MS + 1), 0);
	ratelimit_free(rl);
}

/* Sending whenever allowed for 10 s gives capacity + rate * 10 requests. */
static void test_sustained_rate(void)
{
	struct ratelimit *rl = ratelimit_new(100, 25, 0.5);
	int a = ratelimit_endpoint(rl, "a");
	uint64_t t = 0, w;
	int n = 0;

	while (t <= 10 * SEC + MS) {   /* rounding adds ~1 ns a wait */
		w = ratelimit_acquire(rl, a, t);
		if (w == 0)
			n++;
		else
			t += w;
	}
	CHECK_INT(n, 12 + 250);
	ratelimit_free(rl);
}

/* The fake Stripe's bucket (tests/fakestripe/faults.c), copied. */
struct fake_bucket { double tokens; uint64_t last; };

static int fake_admit(struct fake_bucket *b, double rate, double burst, uint64_t now)
{
	double cap = rate * burst < 1 ? 1 : rate * burst;

	if (b->last == 0)
		b->tokens = cap;
	else if (now > b->last)
		b->tokens += (double)(now - b->last) / 1e9 * rate;
	if (b->tokens > cap)
		b->tokens = cap;
	if (now > b->last)
		b->last = now;
	if (b->tokens < 1)
		return 0;
	b->tokens -= 1;
	return 1;
}

/*
 * 3 endpoints sending as fast as our limiter (95 %, half a second of burst)
 * allows, each request reaching the fake 0..80 ms later (in send order per
 * endpoint): the fake (100/25 per s, 1 s of burst) never refuses one.
 */
static int simulate(double grate, double erate, double burst, int *sent_out)
{
	struct ratelimit *rl = ratelimit_new(grate, erate, burst);
	struct fake_bucket fg = { 0, 0 }, fe[3] = { { 0, 0 }, { 0, 0 }, { 0, 0 } };
	uint64_t t = 1, w, arrive[3] = { 1, 1, 1 };
	unsigned long long rng = 42;
	int ep[3], i, sent = 0, refused = 0;

	for (i = 0; i < 3; i++) {
		char name[8];

		snprintf(name, sizeof name, "e%d", i);
		ep[i] = ratelimit_endpoint(rl, name);
	}
	while (t < 20 * SEC) {
		uint64_t next = UINT64_MAX;

		for (i = 0; i < 3; i++) {
			w = ratelimit_acquire(rl, ep[i], t);
			if (w == 0) {
				uint64_t at;

				rng = rng * 6364136223846793005ull + 1442695040888963407ull;
				at = t + (rng >> 33) % (80 * MS);
				if (at < arrive[i])
					at = arrive[i];
				arrive[i] = at;
				sent++;
				/* the global bucket sees arrivals slightly out of order
				 * between endpoints; feed it in this order anyway */
				if (!fake_admit(&fe[i], 25, 1, at) || !fake_admit(&fg, 100, 1, at))
					refused++;
				next = t;
			} else if (t + w < next) {
				next = t + w;
			}
		}
		t = next;
	}
	ratelimit_free(rl);
	*sent_out = sent;
	return refused;
}

static void test_never_exceeds_the_fake(void)
{
	int sent;

	CHECK_INT(simulate(95, 23.75, 0.5, &sent), 0);
	CHECK(sent > 3 * 23 * 19);
	/* and the simulation can fail: without the margins the fake refuses */
	CHECK(simulate(100, 25, 1.0, &sent) > 0);
}

int main(void)
{
	RUN(test_capacity_and_refill);
	RUN(test_endpoint_versus_global);
	RUN(test_wait_is_the_longer_of_both);
	RUN(test_small_rates_and_unlimited);
	RUN(test_drain);
	RUN(test_sustained_rate);
	RUN(test_never_exceeds_the_fake);
	return harness_done();
}
