/*
 * stripe_client.h - the one module that talks HTTP to Stripe.
 *
 * From "GET this list page" to "here is the parsed response, or a final
 * error": several requests in flight on one libcurl multi handle
 * (connections kept alive and reused), a shared token bucket per SPEC
 * (global + per endpoint), and the retry policy of SPEC "Pulling from
 * Stripe".  Read-only: it only ever sends GET.
 *
 * Use:
 *     stripe_client_new(&cfg->stripe, key, NULL, &c, &e);
 *     stripe_get(c, "/v1/customers", params, n, on_page, ctx, &e);
 *     stripe_run(c, &stop_flag, &e);    // returns when nothing is left
 *     stripe_client_free(c);
 * A completion callback may call stripe_get again (the next page) and
 * stripe_cancel; it must not call stripe_run or stripe_client_free.  Every
 * request submitted gets exactly one callback (success, final error or
 * cancellation).  Everything runs on the caller's thread, inside
 * stripe_run.
 *
 * Retry policy (per attempt):
 *   - 2xx with a body that parses as a JSON object: success.
 *   - 2xx whose body is not JSON (truncated, cut off): retried.
 *   - Stripe-Should-Retry: false -> never retried; true -> always retried.
 *   - 429 (rate_limit, lock_timeout), 5xx, 400 with code lock_timeout: retried.
 *   - network errors (connect failure, reset, timeout, partial body, bad
 *     gzip: curl 5,6,7,8,16,18,28,35,52,55,56,61,92): retried.
 *   - anything else (400, 401, 403, 404, a TLS certificate failure, ...):
 *     final at once.
 * Retries wait a full-jitter exponential backoff: uniform in
 * [0, min(cap, base * 2^(n-1))] before retry n (base 500 ms, cap 30 s by
 * default), and then the token bucket like any request.  At most
 * cfg->max_retries retries (so max_retries + 1 attempts).
 *
 * Exit codes of final errors (e->code in the callback):
 *   EXIT_NOPERM      401, 403
 *   EXIT_DATAERR     400, 404 (a request Stripe refused: a bad parameter or
 *                    an id that does not exist), a response too large, a bad
 *                    path handed to stripe_get
 *   EXIT_UNAVAILABLE 429/5xx answered with Stripe-Should-Retry: false, any
 *                    other non-2xx status, a non-retryable network/TLS error
 *   EXIT_TEMPFAIL    retries exhausted (the message names the last error),
 *                    or cancelled / interrupted
 *   EXIT_SOFTWARE    out of memory
 * Messages are one line: "GET /v1/subscriptions: 401 invalid_request_error:
 * Invalid API Key provided: sk_****... (request req_abc)".  Every message
 * (and every debug line) has the client's own key removed and then goes
 * through log_redact(), so no key can leak through Stripe's text either.
 *
 * Rate limiting: one global bucket at rate_margin * rate_global_per_sec and
 * one per endpoint ("GET /v1/customers", "GET /v1/customers/{id}", ...) at
 * rate_margin * rate_endpoint_per_sec, each holding burst_sec seconds of
 * tokens (at least 1).  A request is not sent until both buckets give it a
 * token; retries take tokens too.  A 429 rate_limit empties that endpoint's
 * bucket.
 */
#ifndef TRUEUP_STRIPE_CLIENT_H
#define TRUEUP_STRIPE_CLIENT_H

#include <signal.h>
#include <stddef.h>

#include "config.h"
#include "jdoc.h"
#include "err.h"

struct stripe_client;

/* Tuning knobs; a zero field means "the default".  Pass NULL for all defaults. */
struct stripe_client_opts {
	unsigned backoff_base_ms;     /* default 500 */
	unsigned backoff_cap_ms;      /* default 30000 */
	double rate_margin;           /* share of the configured rates used; default 0.95 */
	double burst_sec;             /* bucket capacity in seconds of its rate; default 0.5 */
	long connect_timeout_ms;      /* default cfg->connect_timeout_sec * 1000 */
	long timeout_ms;              /* whole request; default cfg->request_timeout_sec * 1000 */
	unsigned long long seed;      /* jitter RNG seed; default from clock and pid */
	size_t max_body;              /* largest response accepted; default 256 MiB */
	/* Optional: one line per attempt and per retry decision (already
	 * redacted); route it to log_debug() from the command layer. */
	void (*debug)(void *udata, const char *line);
	void *debug_udata;
};

/* One query parameter; name and value are raw (the client encodes them). */
struct stripe_param {
	const char *name;    /* e.g. "created[gte]", "expand[]", "types[]" */
	const char *value;
};

/* What a completion callback is given.  Everything is borrowed: valid only
 * during the callback (jdoc_ref() doc to keep it). */
struct stripe_response {
	const char *path;          /* "/v1/customers" as submitted */
	const char *query;         /* encoded query sent ("" if none) */
	const char *endpoint;      /* rate/stats key, e.g. "GET /v1/customers/{id}" */
	long status;               /* HTTP status of the last attempt; 0 if none */
	const char *body;          /* last attempt's body, NUL-terminated ("" if none) */
	size_t body_len;
	struct jdoc *doc;          /* body read as a JSON object, or NULL (jdoc_parse:
				    * a 2xx body that does not parse is retried like a
				    * truncated one; callers read rows from this
				    * document, see stripe_rows_parse_*_doc) */
	const char *request_id;    /* Request-Id header of the last attempt, or "" */
	const char *stripe_version;/* Stripe-Version header of the last attempt, or "" */
	const char *error_type;    /* Stripe error object of a failed answer, or "" */
	const char *error_code;
	int attempts;              /* attempts sent (1 = no retry) */
	int rate_limited;          /* 429 answers this request got */
	int cancelled;             /* 1 if cancelled/interrupted before completing */
	double elapsed_ms;         /* from stripe_get to this callback */
};

/*
 * Completion callback: e->code is 0 on success (r->doc is then the page or
 * object), otherwise the final error (exit code + one-line message).
 */
typedef void (*stripe_done_fn)(void *udata, const struct stripe_response *r,
			       const struct err *e);

/* Counters, per endpoint and in total. */
struct stripe_stats {
	unsigned long requests;      /* attempts sent */
	unsigned long ok;            /* requests completed successfully */
	unsigned long failed;        /* requests completed with a final error */
	unsigned long cancelled;     /* requests cancelled/interrupted */
	unsigned long retries;       /* attempts that were retries */
	unsigned long rate_limited;  /* 429 answers (rate_limit and lock_timeout) */
	unsigned long net_errors;    /* attempts that failed below HTTP */
	unsigned long connects;      /* new connections libcurl opened */
	unsigned long long bytes;    /* response body bytes received */
};

/*
 * Create a client for sc (api_base, api_version, rates, timeouts,
 * max_retries, concurrency) with API key key (apikey_shape_ok; copied, the
 * copy is wiped on free; the caller still owns and frees key).  Checks the base URL again
 * (https, or http to loopback only) and initialises libcurl (refcounted:
 * curl_global_init here, curl_global_cleanup in stripe_client_free).
 * Returns 0 and *out, or EXIT_CONFIG (bad URL, missing version, bad key
 * shape: never echoed) / EXIT_SOFTWARE (libcurl or memory) with *out NULL.
 */
int stripe_client_new(const struct stripe_config *sc, const char *key,
		      const struct stripe_client_opts *opts, struct stripe_client **out,
		      struct err *e);

/*
 * Cancel what is still pending (each gets its callback with cancelled=1 and
 * EXIT_TEMPFAIL), wipe the key, release everything.  c may be NULL.  Not
 * from inside a callback.
 */
void stripe_client_free(struct stripe_client *c);

/*
 * Queue GET path?params (nparams pairs, copied and URL-encoded; params may
 * be NULL when nparams is 0).  path starts with "/v1/" and holds only
 * [A-Za-z0-9_.-/] (no query, no ".."): EXIT_DATAERR otherwise.  Nothing is
 * sent until stripe_run.  done(udata, ...) is called exactly once, from
 * stripe_run (or stripe_client_free), unless this returns non-zero.
 * Returns 0, EXIT_DATAERR (bad path), EXIT_TEMPFAIL (the client is being
 * cancelled) or EXIT_SOFTWARE (memory).
 */
int stripe_get(struct stripe_client *c, const char *path, const struct stripe_param *params,
	       size_t nparams, stripe_done_fn done, void *udata, struct err *e);

/*
 * stripe_get with a priority: queued requests (new ones and retries
 * waiting for their turn) start highest priority first, in submission
 * order within a priority; stripe_get is priority 0.  When the global
 * bucket is what holds requests back, this decides who gets its tokens:
 * the pull gives the requests on its longest path (checkout line items,
 * then the session pages that reveal them) precedence.
 */
int stripe_get_prio(struct stripe_client *c, const char *path, const struct stripe_param *params,
		    size_t nparams, int prio, stripe_done_fn done, void *udata, struct err *e);

/*
 * Run until no request is queued, waiting or in flight.  Callbacks run from
 * here and may queue more.  When *stop (may be NULL) becomes non-zero --
 * a signal handler's flag -- every pending request is cancelled (callbacks
 * with cancelled=1) and EXIT_TEMPFAIL "interrupted" is returned; the flag
 * is looked at least every 100 ms.  Returns 0 when idle (whatever the
 * individual requests' outcomes, which the callbacks saw), EXIT_SOFTWARE
 * when libcurl failed (pending requests are then cancelled too).
 */
int stripe_run(struct stripe_client *c, const volatile sig_atomic_t *stop, struct err *e);

/*
 * Cancel every queued and in-flight request (from a callback, typically
 * after a final error): stripe_run completes them with cancelled=1 and
 * EXIT_TEMPFAIL, refuses new stripe_get calls until it returns, and then
 * returns 0.
 */
void stripe_cancel(struct stripe_client *c);

/*
 * Have stripe_run call fn(udata) about every interval_ms (for a progress
 * line).  fn NULL turns it off.  fn may call stripe_cancel.
 */
void stripe_client_set_tick(struct stripe_client *c, void (*fn)(void *udata), void *udata,
			    unsigned interval_ms);

/* Requests queued or waiting for a retry, and requests in flight. */
size_t stripe_pending(const struct stripe_client *c);
size_t stripe_in_flight(const struct stripe_client *c);

/* Totals over all endpoints into *out. */
void stripe_stats_total(const struct stripe_client *c, struct stripe_stats *out);

/* Number of endpoints seen so far (indexes 0..n-1 for stripe_stats_endpoint). */
int stripe_stats_endpoints(const struct stripe_client *c);

/*
 * Counters of endpoint i into *out; returns its name ("GET /v1/customers"),
 * or NULL (and *out zeroed) when i is out of range.
 */
const char *stripe_stats_endpoint(const struct stripe_client *c, int i,
				  struct stripe_stats *out);

/*
 * Make the NUL-terminated msg (buffer size size) safe to show, in place:
 * every occurrence of c's key becomes "[REDACTED]", then log_redact()
 * masks anything else shaped like a key or a Bearer token.  Every message
 * and debug line of the client already went through this; callers may use
 * it on text of their own that quotes Stripe data.  c may be NULL.
 */
void stripe_redact(const struct stripe_client *c, char *msg, size_t size);

/* ---- policy, exposed for the unit tests and for callers' messages ---- */

enum stripe_decision { STRIPE_DONE = 0, STRIPE_RETRY = 1, STRIPE_FAIL = 2 };

/*
 * What to do with an HTTP answer: status, the Stripe-Should-Retry header
 * ("true"/"false"/NULL) and the Stripe error code (NULL if none).  2xx is
 * STRIPE_DONE (the caller still checks the body is JSON).
 */
enum stripe_decision stripe_retry_decision(long status, const char *should_retry,
					   const char *error_code);

/* 1 if curl error code curl_code (a CURLcode) is a transient network error. */
int stripe_curl_retryable(int curl_code);

/* The exit code of a final (non-retried) HTTP error status. */
int stripe_status_exit_code(long status);

/*
 * The rate-limit/stats key of GET path into buf: "GET " + path with every
 * id segment (after "/v1/x", any segment holding a character outside
 * [a-z_]) replaced by "{id}" -- "GET /v1/checkout/sessions/{id}/line_items".
 * Truncated to bufsz.
 */
void stripe_endpoint_key(const char *path, char *buf, size_t bufsz);

/*
 * The full-jitter backoff before retry n (1-based): uniform in
 * [0, min(cap_ms, base_ms * 2^(n-1))] milliseconds, from the 64-bit RNG
 * state *rng (advanced).
 */
unsigned stripe_backoff_ms(unsigned base_ms, unsigned cap_ms, int n, unsigned long long *rng);

#endif
