/*
 * http.h - the HTTP policy pieces of the Stripe client that need no network:
 * which URLs trueup may talk to, and how a query string is built.
 *
 * URL policy: https to any host; plain http only to a loopback host
 * (127.0.0.0/8, localhost, [::1]) -- the fake Stripe of the tests.  No
 * credentials, query or fragment in a base URL.  This is checked here again
 * even though config_load checks TRUEUP_STRIPE_API_BASE and the config file
 * by the same rule: the module that opens connections owns the rule.
 *
 * Query strings: application/x-www-form-urlencoded as Stripe reads them,
 * every byte outside [A-Za-z0-9-._~] percent-encoded (so "created[gte]"
 * goes out as "created%5Bgte%5D").
 */
#ifndef TRUEUP_HTTP_H
#define TRUEUP_HTTP_H

#include <stddef.h>

#include "err.h"

/*
 * Check a Stripe API base URL against the policy above.  Returns 0, or
 * EXIT_CONFIG with e naming the URL's scheme/host problem (the URL carries
 * no secret, so its host may be quoted).
 */
int http_base_url_check(const char *url, struct err *e);

/* 1 if host (len bytes, no port; "[::1]" bracketed) is a loopback host. */
int http_host_is_loopback(const char *host, size_t len);

/* A growing query string "a=1&b=2"; zero-initialise, free with http_query_free. */
struct http_query {
	char *buf;        /* NUL-terminated once something was added; may be NULL */
	size_t len, cap;
	int oom;          /* set when an append ran out of memory */
};

/*
 * Append name=value (both percent-encoded) to q, with '&' between pairs.
 * Returns 0, or -1 when memory ran out (q->oom is then set and stays set;
 * q remains valid to free).
 */
int http_query_add(struct http_query *q, const char *name, const char *value);

/* The query built so far ("" when empty).  Valid until the next add/free. */
const char *http_query_str(const struct http_query *q);

/* Release q's buffer and zero it. */
void http_query_free(struct http_query *q);

/*
 * Percent-encode the NUL-terminated s onto q (no separator).  Returns 0 or
 * -1 when memory ran out.
 */
int http_query_encode(struct http_query *q, const char *s);

#endif
