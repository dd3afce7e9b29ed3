/*
 * ratelimit.h - the shared token buckets that keep trueup under Stripe's
 * rate limits.
 *
 * One global bucket plus one bucket per endpoint (a route template such as
 * "GET /v1/customers" or "GET /v1/customers/{id}").  Each bucket refills
 * continuously at its rate (tokens per second) up to its capacity
 * (rate * burst seconds, at least 1 token) and starts full.  A request may
 * be sent only when both its endpoint bucket and the global bucket hold a
 * whole token; it then takes one from each.  When either is short it takes
 * nothing and is told how long to wait.  This is the same arithmetic as the
 * fake Stripe's limiter (tests/fakestripe/faults.c), run at a slightly lower
 * rate and with a smaller capacity by the caller, so trueup never causes a
 * 429 itself.
 *
 * Pure logic: the clock is an argument (nanoseconds from any monotonic
 * origin), so the unit tests are deterministic.  Not thread-safe; the
 * Stripe client uses it from its one event loop.
 */
#ifndef TRUEUP_RATELIMIT_H
#define TRUEUP_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

struct ratelimit;

/*
 * A limiter with global_rate tokens/s overall and endpoint_rate tokens/s per
 * endpoint; a rate <= 0 means "no limit" for that level.  Capacity of each
 * bucket is max(1, floor(rate * burst_sec)).  Returns NULL when memory ran
 * out or burst_sec <= 0.  Free with ratelimit_free.
 */
struct ratelimit *ratelimit_new(double global_rate, double endpoint_rate, double burst_sec);

/* Release rl.  rl may be NULL. */
void ratelimit_free(struct ratelimit *rl);

/*
 * The index of the bucket for endpoint (created full on first use; the name
 * is copied, truncated to 127 bytes).  Returns -1 when memory ran out.
 * Indexes are stable for the life of rl and count up from 0.
 */
int ratelimit_endpoint(struct ratelimit *rl, const char *endpoint);

/* The name of endpoint index i, or NULL if i is out of range. */
const char *ratelimit_endpoint_name(const struct ratelimit *rl, int i);

/* Number of endpoints seen so far. */
int ratelimit_endpoint_count(const struct ratelimit *rl);

/*
 * Try to take one token from endpoint ep's bucket and from the global
 * bucket at time now_ns.  Returns 0 when both were taken; otherwise takes
 * nothing and returns the nanoseconds to wait until both would hold a token
 * (> 0).  now_ns must not go backwards between calls.
 */
uint64_t ratelimit_acquire(struct ratelimit *rl, int ep, uint64_t now_ns);

/*
 * Like ratelimit_acquire but takes nothing: the nanoseconds until a token
 * would be available in both buckets (0 if one is available now).
 */
uint64_t ratelimit_wait_ns(struct ratelimit *rl, int ep, uint64_t now_ns);

/*
 * Empty endpoint ep's bucket at now_ns (used when the server answered 429
 * rate_limit anyway: the next request on that endpoint waits a full token).
 */
void ratelimit_drain(struct ratelimit *rl, int ep, uint64_t now_ns);

#endif
