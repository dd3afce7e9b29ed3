/*
 * ratelimit.c - global + per-endpoint token buckets with an injected clock;
 * see ratelimit.h.
 *
 * A bucket is refilled lazily whenever it is looked at: tokens grow by
 * elapsed * rate, capped at capacity.  Token counts are doubles; a small
 * epsilon absorbs rounding so that waiting exactly the time we computed is
 * always enough.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"

#define RL_NAME_MAX 128
#define RL_EPS 1e-9

struct rl_bucket {
	char name[RL_NAME_MAX];
	double tokens;
	uint64_t last_ns;
	int started;
};

struct ratelimit {
	double global_rate, endpoint_rate;
	double global_cap, endpoint_cap;
	struct rl_bucket global;
	struct rl_bucket *ep;
	int nep, capep;
};

static double rl_capacity(double rate, double burst_sec)
{
	double cap = floor(rate * burst_sec);

	return cap < 1 ? 1 : cap;
}

struct ratelimit *ratelimit_new(double global_rate, double endpoint_rate, double burst_sec)
{
	struct ratelimit *rl;

	if (!(burst_sec > 0))
		return NULL;
	rl = calloc(1, sizeof *rl);
	if (!rl)
		return NULL;
	rl->global_rate = global_rate > 0 ? global_rate : 0;
	rl->endpoint_rate = endpoint_rate > 0 ? endpoint_rate : 0;
	rl->global_cap = rl_capacity(rl->global_rate, burst_sec);
	rl->endpoint_cap = rl_capacity(rl->endpoint_rate, burst_sec);
	return rl;
}

void ratelimit_free(struct ratelimit *rl)
{
	if (!rl)
		return;
	free(rl->ep);
	free(rl);
}

int ratelimit_endpoint(struct ratelimit *rl, const char *endpoint)
{
	int i;

	for (i = 0; i < rl->nep; i++)
		if (strncmp(rl->ep[i].name, endpoint, RL_NAME_MAX - 1) == 0)
			return i;
	if (rl->nep == rl->capep) {
		int ncap = rl->capep ? rl->capep * 2 : 16;
		struct rl_bucket *n = realloc(rl->ep, (size_t)ncap * sizeof *n);

		if (!n)
			return -1;
		rl->ep = n;
		rl->capep = ncap;
	}
	memset(&rl->ep[rl->nep], 0, sizeof rl->ep[rl->nep]);
	snprintf(rl->ep[rl->nep].name, RL_NAME_MAX, "%s", endpoint);
	return rl->nep++;
}

const char *ratelimit_endpoint_name(const struct ratelimit *rl, int i)
{
	return i >= 0 && i < rl->nep ? rl->ep[i].name : NULL;
}

int ratelimit_endpoint_count(const struct ratelimit *rl)
{
	return rl->nep;
}

/* Bring b up to date at now (a bucket starts full at its first use). */
static void rl_refill(struct rl_bucket *b, double rate, double cap, uint64_t now)
{
	if (!b->started) {
		b->started = 1;
		b->tokens = cap;
	} else if (now > b->last_ns) {
		b->tokens += (double)(now - b->last_ns) / 1e9 * rate;
		if (b->tokens > cap)
			b->tokens = cap;
	}
	if (now > b->last_ns)
		b->last_ns = now;
}

/* Nanoseconds until b (already refilled) holds one token; 0 if it does. */
static uint64_t rl_bucket_wait(const struct rl_bucket *b, double rate)
{
	double need = 1.0 - b->tokens;

	if (need <= RL_EPS)
		return 0;
	return (uint64_t)ceil(need / rate * 1e9) + 1;
}

uint64_t ratelimit_wait_ns(struct ratelimit *rl, int ep, uint64_t now_ns)
{
	uint64_t w = 0, we;
	struct rl_bucket *b = ep >= 0 && ep < rl->nep ? &rl->ep[ep] : NULL;

	if (rl->global_rate > 0) {
		rl_refill(&rl->global, rl->global_rate, rl->global_cap, now_ns);
		w = rl_bucket_wait(&rl->global, rl->global_rate);
	}
	if (b && rl->endpoint_rate > 0) {
		rl_refill(b, rl->endpoint_rate, rl->endpoint_cap, now_ns);
		we = rl_bucket_wait(b, rl->endpoint_rate);
		if (we > w)
			w = we;
	}
	return w;
}

uint64_t ratelimit_acquire(struct ratelimit *rl, int ep, uint64_t now_ns)
{
	uint64_t w = ratelimit_wait_ns(rl, ep, now_ns);

	if (w)
		return w;
	if (rl->global_rate > 0)
		rl->global.tokens -= 1.0;
	if (ep >= 0 && ep < rl->nep && rl->endpoint_rate > 0)
		rl->ep[ep].tokens -= 1.0;
	return 0;
}

void ratelimit_drain(struct ratelimit *rl, int ep, uint64_t now_ns)
{
	if (ep < 0 || ep >= rl->nep || rl->endpoint_rate <= 0)
		return;
	rl_refill(&rl->ep[ep], rl->endpoint_rate, rl->endpoint_cap, now_ns);
	if (rl->ep[ep].tokens > 0)
		rl->ep[ep].tokens = 0;
}
