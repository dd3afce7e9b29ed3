/*
 * stripe_client.c - Stripe over libcurl's multi interface; see
 * stripe_client.h for the contract and the retry policy.
 *
 * Shape: every stripe_get() makes one transfer (struct sc_xfer) that lives
 * until its callback has run.  A transfer is either on the wait queue
 * (c->qhead..qtail: new, or waiting out a retry backoff) or active (on
 * c->active, attached to an easy handle added to the one multi handle).
 * stripe_run() loops: start what the queue, the concurrency limit and the
 * token buckets allow; curl_multi_perform; finish completed transfers
 * (success, retry = back on the queue with a not-before time, or final
 * error); poll until the next socket event or the next time a bucket or a
 * backoff allows a start.  Easy handles are kept in a pool and reused, so
 * their connections and TLS sessions are too (the multi handle owns the
 * connection cache).
 *
 * The key lives in exactly two places we control: c->key (to scrub it out
 * of messages) and the "Authorization: Bearer" header in c->headers.  Both
 * are wiped before they are freed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "apikey.h"
#include "http.h"
#include "log.h"
#include "ratelimit.h"
#include "stripe_client.h"

#ifndef TRUEUP_VERSION
#define TRUEUP_VERSION "0"
#endif

#define SC_TICK_MS 100             /* longest poll, so the stop flag is seen */
#define SC_DEFAULT_MAX_BODY ((size_t)256 << 20)
#define SC_ENDPOINT_MAX 160
#define SC_BLOCKED_MAX 256         /* endpoints tracked per start pass */

struct sc_xfer {
	struct sc_xfer *next;      /* wait queue or active list */
	struct stripe_client *c;
	char *path, *query, *url;
	char endpoint[SC_ENDPOINT_MAX];
	int ep;                    /* ratelimit / stats index */
	int prio;                  /* queue order: higher first, FIFO within one */
	stripe_done_fn done;
	void *udata;
	uint64_t submitted_ns, not_before_ns;
	int attempts, n429;
	CURL *easy;
	/* the current (or last) attempt */
	char *body;
	size_t len, cap;
	int too_big;
	long status;
	char request_id[128], version[64], should_retry[16];
	char errbuf[CURL_ERROR_SIZE];
	char err_type[64], err_code[64];
	char last_error[ERR_MSG_MAX];
};

struct stripe_client {
	CURLM *multi;
	CURL **idle;               /* easy handle pool */
	int nidle, capidle;
	struct curl_slist *headers;
	char *base, *key, *version;
	int loopback, https;
	struct ratelimit *rl;
	struct stripe_stats *stats;   /* [ratelimit_endpoint_count], parallel to rl */
	int nstats;
	struct sc_xfer *qhead, *qtail;
	struct sc_xfer *active;
	size_t nqueued, nactive;
	size_t concurrency;
	int max_retries;
	struct stripe_client_opts o;
	unsigned long long rng;
	int in_run, cancel_req, stopping;
	void (*tick)(void *);
	void *tick_udata;
	unsigned tick_ms;
	uint64_t last_tick_ns;
};

/* ---- small helpers ------------------------------------------------------ */

static uint64_t sc_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static unsigned long long sc_rand(unsigned long long *s)
{
	/* splitmix64 */
	unsigned long long z = (*s += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

unsigned stripe_backoff_ms(unsigned base_ms, unsigned cap_ms, int n, unsigned long long *rng)
{
	unsigned long long hi = base_ms;
	int i;

	for (i = 1; i < n && hi < cap_ms; i++)
		hi *= 2;
	if (hi > cap_ms)
		hi = cap_ms;
	return (unsigned)(sc_rand(rng) % (hi + 1));
}

/* snprintf that may truncate, on purpose (messages are bounded). */
static void sc_fmt(char *dst, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void sc_fmt(char *dst, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, size, fmt, ap);
	va_end(ap);
}

static char *sc_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);

	if (d)
		memcpy(d, s, n);
	return d;
}

/* Wipe and free a string that may hold key bytes. */
static void sc_wipe_free(char *s)
{
	if (!s)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

void stripe_redact(const struct stripe_client *c, char *msg, size_t size)
{
	char tmp[ERR_MSG_MAX * 2];
	size_t klen = c && c->key ? strlen(c->key) : 0;
	char *p;

	if (klen) {
		static const char mask[] = "[REDACTED]";
		char *from = msg;

		while ((p = strstr(from, c->key)) != NULL) {
			size_t tail = strlen(p + klen);

			if (klen >= sizeof mask - 1) {
				memcpy(p, mask, sizeof mask - 1);
				memmove(p + sizeof mask - 1, p + klen, tail + 1);
				from = p + sizeof mask - 1;
			} else {
				memmove(p, p + klen, tail + 1);   /* too short to mask in place */
				from = p;
			}
		}
	}
	log_redact(msg, tmp, sizeof tmp < size ? sizeof tmp : size);
	sc_fmt(msg, size, "%s", tmp);
}

static void sc_debug(struct stripe_client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void sc_debug(struct stripe_client *c, const char *fmt, ...)
{
	char line[ERR_MSG_MAX];
	va_list ap;

	if (!c->o.debug)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	stripe_redact(c, line, sizeof line);
	c->o.debug(c->o.debug_udata, line);
}

/* The stats slot of endpoint ep, growing the array as endpoints appear. */
static struct stripe_stats *sc_stats(struct stripe_client *c, int ep)
{
	if (ep < 0)
		return NULL;
	if (ep >= c->nstats) {
		int n = ep + 16;
		struct stripe_stats *s = realloc(c->stats, (size_t)n * sizeof *s);

		if (!s)
			return NULL;
		memset(s + c->nstats, 0, (size_t)(n - c->nstats) * sizeof *s);
		c->stats = s;
		c->nstats = n;
	}
	return &c->stats[ep];
}

/* ---- policy ------------------------------------------------------------- */

enum stripe_decision stripe_retry_decision(long status, const char *should_retry,
					   const char *error_code)
{
	if (status >= 200 && status < 300)
		return STRIPE_DONE;
	if (should_retry && strcasecmp(should_retry, "false") == 0)
		return STRIPE_FAIL;
	if (should_retry && strcasecmp(should_retry, "true") == 0)
		return STRIPE_RETRY;
	if (status == 429 || (status >= 500 && status <= 599))
		return STRIPE_RETRY;
	if (status == 400 && error_code && strcmp(error_code, "lock_timeout") == 0)
		return STRIPE_RETRY;
	return STRIPE_FAIL;
}

int stripe_curl_retryable(int curl_code)
{
	switch (curl_code) {
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_HTTP2:
	case CURLE_PARTIAL_FILE:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_BAD_CONTENT_ENCODING:
	case CURLE_HTTP2_STREAM:
		return 1;
	default:
		return 0;
	}
}

int stripe_status_exit_code(long status)
{
	if (status == 401 || status == 403)
		return EXIT_NOPERM;
	if (status == 400 || status == 404)
		return EXIT_DATAERR;
	return EXIT_UNAVAILABLE;
}

void stripe_endpoint_key(const char *path, char *buf, size_t bufsz)
{
	size_t o = 0;
	const char *p = path, *seg;
	int nseg = 0;

	if (bufsz == 0)
		return;
#define SC_PUT(ch) do { if (o + 1 < bufsz) buf[o++] = (ch); } while (0)
	SC_PUT('G'); SC_PUT('E'); SC_PUT('T'); SC_PUT(' ');
	while (*p) {
		size_t n, i;
		int id = 0;

		if (*p == '/') {
			SC_PUT('/');
			p++;
			continue;
		}
		seg = p;
		n = strcspn(seg, "/");
		/* segments: "v1", the resource, then ids or sub-resources */
		if (nseg >= 2)
			for (i = 0; i < n; i++)
				if (!((seg[i] >= 'a' && seg[i] <= 'z') || seg[i] == '_'))
					id = 1;
		if (id) {
			SC_PUT('{'); SC_PUT('i'); SC_PUT('d'); SC_PUT('}');
		} else {
			for (i = 0; i < n; i++)
				SC_PUT(seg[i]);
		}
		nseg++;
		p = seg + n;
	}
#undef SC_PUT
	buf[o] = '\0';
}

/* 1 if path is "/v1/..." made of [A-Za-z0-9_.-/] without a ".." segment. */
static int sc_path_ok(const char *path)
{
	const char *p;

	if (strncmp(path, "/v1/", 4) != 0 || strlen(path) > 1024 || strstr(path, "/../") ||
	    strstr(path, "/./") || (strlen(path) >= 3 && strcmp(path + strlen(path) - 3, "/..") == 0))
		return 0;
	for (p = path; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || *p == '.' || *p == '/'))
			return 0;
	return 1;
}

/* ---- libcurl callbacks -------------------------------------------------- */

static size_t sc_on_body(char *data, size_t size, size_t nmemb, void *ud)
{
	struct sc_xfer *x = ud;
	size_t n = size * nmemb, ncap;
	char *nb;

	if (x->len + n + 1 > x->c->o.max_body) {
		x->too_big = 1;
		return 0;
	}
	if (x->len + n + 1 > x->cap) {
		ncap = x->cap ? x->cap : 16384;
		while (ncap < x->len + n + 1)
			ncap *= 2;
		nb = realloc(x->body, ncap);
		if (!nb)
			return 0;
		x->body = nb;
		x->cap = ncap;
	}
	memcpy(x->body + x->len, data, n);
	x->len += n;
	x->body[x->len] = '\0';
	return n;
}

/* Copy header value (len bytes at v, trimmed) into dst. */
static void sc_header_value(char *dst, size_t dstsz, const char *v, size_t len)
{
	while (len && (*v == ' ' || *v == '\t')) {
		v++;
		len--;
	}
	while (len && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' ' ||
		       v[len - 1] == '\t'))
		len--;
	if (len >= dstsz)
		len = dstsz - 1;
	memcpy(dst, v, len);
	dst[len] = '\0';
}

static size_t sc_on_header(char *data, size_t size, size_t nmemb, void *ud)
{
	struct sc_xfer *x = ud;
	size_t n = size * nmemb;
	static const struct { const char *name; size_t off, sz; } want[] = {
		{ "request-id", offsetof(struct sc_xfer, request_id), sizeof ((struct sc_xfer *)0)->request_id },
		{ "stripe-version", offsetof(struct sc_xfer, version), sizeof ((struct sc_xfer *)0)->version },
		{ "stripe-should-retry", offsetof(struct sc_xfer, should_retry),
		  sizeof ((struct sc_xfer *)0)->should_retry },
	};
	const char *colon;
	size_t i, nl;

	if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		/* a new response (after a 1xx, say): forget the previous headers */
		x->request_id[0] = x->version[0] = x->should_retry[0] = '\0';
		return n;
	}
	colon = memchr(data, ':', n);
	if (!colon)
		return n;
	nl = (size_t)(colon - data);
	for (i = 0; i < sizeof want / sizeof want[0]; i++)
		if (strlen(want[i].name) == nl && strncasecmp(data, want[i].name, nl) == 0)
			sc_header_value((char *)x + want[i].off, want[i].sz, colon + 1,
					n - nl - 1);
	return n;
}

/* ---- client lifecycle --------------------------------------------------- */

/* Options every easy handle gets once, when created. */
static CURL *sc_easy_new(struct stripe_client *c)
{
	CURL *h = curl_easy_init();
	char ua[64];
	int bad = 0;

	if (!h)
		return NULL;
	snprintf(ua, sizeof ua, "trueup/%s", TRUEUP_VERSION);
#define SC_SET(opt, val) do { if (curl_easy_setopt(h, opt, val) != CURLE_OK) bad = 1; } while (0)
	SC_SET(CURLOPT_HTTPGET, 1L);
	SC_SET(CURLOPT_HTTPHEADER, c->headers);
	SC_SET(CURLOPT_USERAGENT, ua);
	SC_SET(CURLOPT_ACCEPT_ENCODING, "gzip");
	/* only the scheme of the base URL (https, or http to loopback) */
#if LIBCURL_VERSION_NUM >= 0x075500
	SC_SET(CURLOPT_PROTOCOLS_STR, c->https ? "https" : "http");
#else
	SC_SET(CURLOPT_PROTOCOLS, (long)(c->https ? CURLPROTO_HTTPS : CURLPROTO_HTTP));
#endif
	SC_SET(CURLOPT_FOLLOWLOCATION, 0L);
	SC_SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SC_SET(CURLOPT_SSL_VERIFYHOST, 2L);
	SC_SET(CURLOPT_CONNECTTIMEOUT_MS, c->o.connect_timeout_ms);
	SC_SET(CURLOPT_TIMEOUT_MS, c->o.timeout_ms);
	SC_SET(CURLOPT_NOSIGNAL, 1L);
	SC_SET(CURLOPT_TCP_KEEPALIVE, 1L);
	SC_SET(CURLOPT_WRITEFUNCTION, sc_on_body);
	SC_SET(CURLOPT_HEADERFUNCTION, sc_on_header);
	if (c->loopback)
		SC_SET(CURLOPT_NOPROXY, "*");
#undef SC_SET
	if (bad) {
		curl_easy_cleanup(h);
		return NULL;
	}
	return h;
}

static void sc_headers_free(struct curl_slist *l)
{
	struct curl_slist *p;

	for (p = l; p; p = p->next)
		if (p->data)
			explicit_bzero(p->data, strlen(p->data));
	curl_slist_free_all(l);
}

/* Append line to *l; -1 (with *l freed and NULL) when memory ran out. */
static int sc_headers_add(struct curl_slist **l, const char *line)
{
	struct curl_slist *n = curl_slist_append(*l, line);

	if (!n) {
		sc_headers_free(*l);
		*l = NULL;
		return -1;
	}
	*l = n;
	return 0;
}

/* Build the fixed request headers; NULL when memory ran out. */
static struct curl_slist *sc_headers_new(const char *key, const char *version)
{
	struct curl_slist *l = NULL;
	size_t sz = strlen(key) + 32;
	char *auth = malloc(sz);
	char ver[128];
	int bad;

	if (!auth)
		return NULL;
	snprintf(auth, sz, "Authorization: Bearer %s", key);
	bad = sc_headers_add(&l, auth);
	explicit_bzero(auth, sz);
	free(auth);
	snprintf(ver, sizeof ver, "Stripe-Version: %s", version);
	if (bad || sc_headers_add(&l, ver) || sc_headers_add(&l, "Accept: application/json"))
		return NULL;
	return l;
}

int stripe_client_new(const struct stripe_config *sc, const char *key,
		      const struct stripe_client_opts *opts, struct stripe_client **out,
		      struct err *e)
{
	struct stripe_client *c;
	double margin, burst;
	const char *host;
	size_t hl;
	int rc;

	*out = NULL;
	rc = http_base_url_check(sc->api_base, e);
	if (rc)
		return rc;
	if (!sc->api_version || !*sc->api_version || strlen(sc->api_version) > 64 ||
	    strpbrk(sc->api_version, "\r\n"))
		return err_set(e, EXIT_CONFIG, "no valid Stripe API version to pin (stripe.api_version)");
	if (!apikey_shape_ok(key))
		return err_set(e, EXIT_CONFIG, "no usable Stripe API key (sk_/rk_, test or live)");
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return err_set(e, EXIT_SOFTWARE, "cannot initialise libcurl");
	c = calloc(1, sizeof *c);
	if (!c) {
		curl_global_cleanup();
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	}
	if (opts)
		c->o = *opts;
	if (!c->o.backoff_base_ms)
		c->o.backoff_base_ms = 500;
	if (!c->o.backoff_cap_ms)
		c->o.backoff_cap_ms = 30000;
	if (c->o.backoff_cap_ms < c->o.backoff_base_ms)
		c->o.backoff_cap_ms = c->o.backoff_base_ms;
	if (!c->o.connect_timeout_ms)
		c->o.connect_timeout_ms = 1000L * (sc->connect_timeout_sec > 0 ? sc->connect_timeout_sec : 10);
	if (!c->o.timeout_ms)
		c->o.timeout_ms = 1000L * (sc->request_timeout_sec > 0 ? sc->request_timeout_sec : 60);
	if (!c->o.max_body)
		c->o.max_body = SC_DEFAULT_MAX_BODY;
	c->rng = c->o.seed ? c->o.seed
			   : sc_now_ns() ^ ((unsigned long long)getpid() << 32) ^ (unsigned long long)time(NULL);
	margin = c->o.rate_margin > 0 && c->o.rate_margin <= 1 ? c->o.rate_margin : 0.95;
	burst = c->o.burst_sec > 0 ? c->o.burst_sec : 0.5;
	c->concurrency = sc->concurrency > 0 ? (size_t)sc->concurrency : 8;
	c->max_retries = sc->max_retries >= 0 ? sc->max_retries : 8;
	host = strstr(sc->api_base, "://") + 3;
	hl = host[0] == '[' ? (size_t)(strchr(host, ']') + 1 - host) : strcspn(host, ":/");
	c->loopback = http_host_is_loopback(host, hl);
	c->https = strncasecmp(sc->api_base, "https://", 8) == 0;
	c->base = sc_strdup(sc->api_base);
	c->key = sc_strdup(key);
	c->version = sc_strdup(sc->api_version);
	c->rl = ratelimit_new(margin * sc->rate_global_per_sec, margin * sc->rate_endpoint_per_sec,
			      burst);
	c->multi = curl_multi_init();
	if (!c->base || !c->key || !c->version || !c->rl || !c->multi ||
	    !(c->headers = sc_headers_new(key, sc->api_version))) {
		stripe_client_free(c);
		return err_set(e, EXIT_SOFTWARE, "cannot set up the Stripe client: out of memory");
	}
	while (strlen(c->base) > 8 && c->base[strlen(c->base) - 1] == '/')
		c->base[strlen(c->base) - 1] = '\0';
	curl_multi_setopt(c->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)c->concurrency);
	curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)c->concurrency);
	curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, (long)c->concurrency + 4);
	*out = c;
	return 0;
}

/* ---- transfers ---------------------------------------------------------- */

static void sc_xfer_free(struct sc_xfer *x)
{
	free(x->path);
	free(x->query);
	free(x->url);
	free(x->body);
	free(x);
}

/* Queue x behind every transfer of its priority or a higher one. */
static void sc_enqueue(struct stripe_client *c, struct sc_xfer *x)
{
	struct sc_xfer **pp;

	c->nqueued++;
	if (!c->qtail || c->qtail->prio >= x->prio) {
		x->next = NULL;
		if (c->qtail)
			c->qtail->next = x;
		else
			c->qhead = x;
		c->qtail = x;
		return;
	}
	for (pp = &c->qhead; (*pp)->prio >= x->prio; pp = &(*pp)->next)
		;
	x->next = *pp;
	*pp = x;
}

int stripe_get(struct stripe_client *c, const char *path, const struct stripe_param *params,
	       size_t nparams, stripe_done_fn done, void *udata, struct err *e)
{
	return stripe_get_prio(c, path, params, nparams, 0, done, udata, e);
}

int stripe_get_prio(struct stripe_client *c, const char *path, const struct stripe_param *params,
		    size_t nparams, int prio, stripe_done_fn done, void *udata, struct err *e)
{
	struct http_query q = { 0 };
	struct sc_xfer *x;
	size_t i, usz;

	if (!path || !sc_path_ok(path))
		return err_set(e, EXIT_DATAERR, "GET \"%.200s\": not a Stripe API path",
			       path ? path : "");
	if (c->stopping)
		return err_set(e, EXIT_TEMPFAIL, "GET %.200s: not sent: requests are being cancelled",
			       path);
	for (i = 0; i < nparams; i++)
		if (!params[i].name || http_query_add(&q, params[i].name, params[i].value)) {
			http_query_free(&q);
			return err_set(e, EXIT_SOFTWARE, "GET %.200s: out of memory", path);
		}
	x = calloc(1, sizeof *x);
	if (!x) {
		http_query_free(&q);
		return err_set(e, EXIT_SOFTWARE, "GET %.200s: out of memory", path);
	}
	x->c = c;
	x->prio = prio;
	x->done = done;
	x->udata = udata;
	x->path = sc_strdup(path);
	x->query = sc_strdup(http_query_str(&q));
	http_query_free(&q);
	usz = strlen(c->base) + strlen(path) + (x->query ? strlen(x->query) : 0) + 2;
	x->url = malloc(usz);
	stripe_endpoint_key(path, x->endpoint, sizeof x->endpoint);
	x->ep = ratelimit_endpoint(c->rl, x->endpoint);
	if (!x->path || !x->query || !x->url || x->ep < 0 || !sc_stats(c, x->ep)) {
		sc_xfer_free(x);
		return err_set(e, EXIT_SOFTWARE, "GET %.200s: out of memory", path);
	}
	snprintf(x->url, usz, "%s%s%s%s", c->base, path, *x->query ? "?" : "", x->query);
	x->submitted_ns = sc_now_ns();
	sc_enqueue(c, x);
	return 0;
}

/* Give x's easy handle back to the pool (or free it). */
static void sc_release_easy(struct stripe_client *c, struct sc_xfer *x)
{
	if (!x->easy)
		return;
	curl_multi_remove_handle(c->multi, x->easy);
	if (c->nidle == c->capidle) {
		int ncap = c->capidle ? c->capidle * 2 : 16;
		CURL **n = realloc(c->idle, (size_t)ncap * sizeof *n);

		if (!n) {
			curl_easy_cleanup(x->easy);
			x->easy = NULL;
			return;
		}
		c->idle = n;
		c->capidle = ncap;
	}
	c->idle[c->nidle++] = x->easy;
	x->easy = NULL;
}

static void sc_unlink_active(struct stripe_client *c, struct sc_xfer *x)
{
	struct sc_xfer **pp;

	for (pp = &c->active; *pp; pp = &(*pp)->next)
		if (*pp == x) {
			*pp = x->next;
			c->nactive--;
			break;
		}
	x->next = NULL;
}

/*
 * Run x's callback with the final outcome (code 0 = success) and free x.
 * doc (may be NULL) is released after the callback.
 */
static void sc_complete(struct stripe_client *c, struct sc_xfer *x, int code, const char *msg,
			struct jdoc *doc, int cancelled)
{
	struct stripe_response r;
	struct stripe_stats *st = sc_stats(c, x->ep);
	struct err e;

	err_clear(&e);
	if (code) {
		e.code = code;
		sc_fmt(e.msg, sizeof e.msg, "%s", msg);
		stripe_redact(c, e.msg, sizeof e.msg);
	}
	if (st) {
		if (cancelled)
			st->cancelled++;
		else if (code)
			st->failed++;
		else
			st->ok++;
	}
	memset(&r, 0, sizeof r);
	r.path = x->path;
	r.query = x->query;
	r.endpoint = x->endpoint;
	r.status = x->status;
	r.body = x->body ? x->body : "";
	r.body_len = x->body ? x->len : 0;
	r.doc = doc;
	r.request_id = x->request_id;
	r.stripe_version = x->version;
	r.error_type = x->err_type;
	r.error_code = x->err_code;
	r.attempts = x->attempts;
	r.rate_limited = x->n429;
	r.cancelled = cancelled;
	r.elapsed_ms = (double)(sc_now_ns() - x->submitted_ns) / 1e6;
	if (x->done)
		x->done(x->udata, &r, &e);
	jdoc_unref(doc);
	sc_xfer_free(x);
}

/* Start x's next attempt.  Returns 0, or -1 (x untouched) when libcurl failed. */
static int sc_start(struct stripe_client *c, struct sc_xfer *x)
{
	CURL *h = c->nidle ? c->idle[--c->nidle] : sc_easy_new(c);
	struct stripe_stats *st;

	if (!h)
		return -1;
	x->len = 0;
	if (x->body)
		x->body[0] = '\0';
	x->too_big = 0;
	x->status = 0;
	x->request_id[0] = x->version[0] = x->should_retry[0] = '\0';
	x->errbuf[0] = '\0';
	x->err_type[0] = x->err_code[0] = '\0';
	if (curl_easy_setopt(h, CURLOPT_URL, x->url) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_PRIVATE, x) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_WRITEDATA, x) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_HEADERDATA, x) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->errbuf) != CURLE_OK ||
	    curl_multi_add_handle(c->multi, h) != CURLM_OK) {
		curl_easy_cleanup(h);
		return -1;
	}
	x->easy = h;
	x->attempts++;
	x->next = c->active;
	c->active = x;
	c->nactive++;
	if ((st = sc_stats(c, x->ep)) != NULL) {
		st->requests++;
		if (x->attempts > 1)
			st->retries++;
	}
	return 0;
}

/*
 * Start every queued transfer that may go now.  Returns the nanoseconds
 * until the next one could (UINT64_MAX if none is waiting on time).
 * Transfers that cannot be started at all are moved to *failed.
 */
static uint64_t sc_start_ready(struct stripe_client *c, uint64_t now, struct sc_xfer **failed)
{
	unsigned char blocked[SC_BLOCKED_MAX];
	struct sc_xfer **pp = &c->qhead, *x, *prev = NULL;
	uint64_t wake = UINT64_MAX, w;

	memset(blocked, 0, sizeof blocked);
	while ((x = *pp) != NULL && c->nactive < c->concurrency) {
		if (x->not_before_ns > now) {
			if (x->not_before_ns - now < wake)
				wake = x->not_before_ns - now;
		} else if (x->ep >= SC_BLOCKED_MAX || !blocked[x->ep]) {
			w = ratelimit_acquire(c->rl, x->ep, now);
			if (w) {
				if (w < wake)
					wake = w;
				if (x->ep < SC_BLOCKED_MAX)
					blocked[x->ep] = 1;
				if (ratelimit_wait_ns(c->rl, -1, now))
					break;      /* the global bucket is empty: nobody goes */
			} else {
				*pp = x->next;
				if (c->qtail == x)
					c->qtail = prev;
				c->nqueued--;
				if (sc_start(c, x)) {
					x->next = *failed;
					*failed = x;
				}
				continue;
			}
		}
		prev = x;
		pp = &x->next;
	}
	return wake;
}

/* Fill x->err_type/err_code and msg from a Stripe error body (doc may be NULL). */
static void sc_describe_http(struct sc_xfer *x, const struct jdoc *doc, char *msg, size_t size)
{
	const struct jval *eo = jv_get(jdoc_root(doc), "error");
	const char *type = jv_str(jv_get(eo, "type"));
	const char *code = jv_str(jv_get(eo, "code"));
	const char *text = jv_str(jv_get(eo, "message"));
	char tc[160];

	snprintf(x->err_type, sizeof x->err_type, "%s", type ? type : "");
	snprintf(x->err_code, sizeof x->err_code, "%s", code ? code : "");
	if (type && code)
		snprintf(tc, sizeof tc, "%s (%s)", type, code);
	else
		snprintf(tc, sizeof tc, "%s", type ? type : code ? code : "error");
	if (x->request_id[0])
		snprintf(msg, size, "%ld %s: %s (request %s)", x->status, tc,
			 text ? text : "no Stripe error message", x->request_id);
	else
		snprintf(msg, size, "%ld %s: %s", x->status, tc,
			 text ? text : "no Stripe error message");
}

/*
 * An attempt of x ended with curl result res.  Decide: complete it (success
 * or final error) or queue a retry.
 */
static void sc_finish(struct stripe_client *c, struct sc_xfer *x, CURLcode res, uint64_t now)
{
	struct stripe_stats *st = sc_stats(c, x->ep);
	enum stripe_decision d;
	char what[ERR_MSG_MAX], msg[ERR_MSG_MAX];
	struct jdoc *doc = NULL;
	int final_code = EXIT_UNAVAILABLE;
	long nconn = 0;

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->status);
	if (st && curl_easy_getinfo(x->easy, CURLINFO_NUM_CONNECTS, &nconn) == CURLE_OK && nconn > 0)
		st->connects += (unsigned long)nconn;
	sc_unlink_active(c, x);
	sc_release_easy(c, x);
	if (st)
		st->bytes += x->len;
	if (res != CURLE_OK) {
		if (st)
			st->net_errors++;
		x->status = 0;
		if (x->too_big) {
			d = STRIPE_FAIL;
			final_code = EXIT_DATAERR;
			snprintf(what, sizeof what, "response larger than %zu bytes", c->o.max_body);
		} else {
			d = stripe_curl_retryable(res) ? STRIPE_RETRY : STRIPE_FAIL;
			final_code = res == CURLE_OUT_OF_MEMORY ? EXIT_SOFTWARE : EXIT_UNAVAILABLE;
			snprintf(what, sizeof what, "network error (curl %d: %s)", (int)res,
				 x->errbuf[0] ? x->errbuf : curl_easy_strerror(res));
		}
	} else {
		/* the one parse of the body: stripe_rows reads this document
		 * (stripe_rows_parse_*_doc), so it rejects what stripe_rows
		 * rejects: duplicate keys, NUL in strings, bad UTF-8 */
		if (x->len && jdoc_parse(x->body, x->len, &doc, NULL, 0) == 0 &&
		    !jv_is_object(jdoc_root(doc))) {
			jdoc_unref(doc);
			doc = NULL;
		}
		if (x->status == 429 && st) {
			st->rate_limited++;
			x->n429++;
		}
		if (x->status >= 200 && x->status < 300) {
			if (doc) {
				sc_debug(c, "GET %s%s%s: %ld, %zu bytes (request %s, attempt %d)",
					 x->path, *x->query ? "?" : "", x->query, x->status, x->len,
					 x->request_id[0] ? x->request_id : "-", x->attempts);
				sc_complete(c, x, 0, "", doc, 0);
				return;
			}
			d = STRIPE_RETRY;
			snprintf(what, sizeof what, "%ld with a body that is not a JSON object "
				 "(%zu bytes, truncated?)%s%s%s", x->status, x->len,
				 x->request_id[0] ? " (request " : "", x->request_id,
				 x->request_id[0] ? ")" : "");
		} else {
			sc_describe_http(x, doc, what, sizeof what);
			d = stripe_retry_decision(x->status, x->should_retry[0] ? x->should_retry : NULL,
						  x->err_code);
			final_code = stripe_status_exit_code(x->status);
			if (x->status == 429 && strcmp(x->err_code, "lock_timeout") != 0)
				ratelimit_drain(c->rl, x->ep, now);
		}
	}
	if (d == STRIPE_RETRY && x->attempts <= c->max_retries) {
		unsigned ms = stripe_backoff_ms(c->o.backoff_base_ms, c->o.backoff_cap_ms,
						x->attempts, &c->rng);

		sc_fmt(x->last_error, sizeof x->last_error, "%s", what);
		sc_debug(c, "GET %s: %s; retry %d of %d in %u ms", x->path, what, x->attempts,
			 c->max_retries, ms);
		jdoc_unref(doc);
		x->not_before_ns = now + (uint64_t)ms * 1000000u;
		sc_enqueue(c, x);
		return;
	}
	if (d == STRIPE_RETRY) {
		sc_fmt(msg, sizeof msg, "GET %s: giving up after %d attempts: %s", x->path,
			 x->attempts, what);
		final_code = EXIT_TEMPFAIL;
	} else {
		sc_fmt(msg, sizeof msg, "GET %s: %s", x->path, what);
	}
	sc_debug(c, "%s", msg);
	sc_complete(c, x, final_code, msg, doc, 0);
}

/* Complete every transfer, queued or active, as cancelled. */
static void sc_cancel_all(struct stripe_client *c, int code, const char *why)
{
	struct sc_xfer *x;
	char msg[ERR_MSG_MAX];

	c->stopping = 1;
	while ((x = c->active) != NULL) {
		c->active = x->next;
		c->nactive--;
		sc_release_easy(c, x);
		sc_fmt(msg, sizeof msg, "GET %s: %s", x->path, why);
		sc_complete(c, x, code, msg, NULL, 1);
	}
	while ((x = c->qhead) != NULL) {
		c->qhead = x->next;
		if (!c->qhead)
			c->qtail = NULL;
		c->nqueued--;
		sc_fmt(msg, sizeof msg, "GET %s: %s", x->path, why);
		sc_complete(c, x, code, msg, NULL, 1);
	}
}

/* Finish every transfer libcurl says is done; returns how many. */
static int sc_read_done(struct stripe_client *c)
{
	CURLMsg *m;
	int left, n = 0;

	while ((m = curl_multi_info_read(c->multi, &left)) != NULL) {
		struct sc_xfer *x = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		if (!x)
			continue;
		sc_finish(c, x, m->data.result, sc_now_ns());
		n++;
	}
	return n;
}

static void sc_maybe_tick(struct stripe_client *c, uint64_t now)
{
	if (!c->tick || now - c->last_tick_ns < (uint64_t)c->tick_ms * 1000000u)
		return;
	c->last_tick_ns = now;
	c->tick(c->tick_udata);
}

int stripe_run(struct stripe_client *c, const volatile sig_atomic_t *stop, struct err *e)
{
	int running, n, rc = 0;

	if (c->in_run)
		return err_set(e, EXIT_SOFTWARE, "stripe_run called from a callback");
	c->in_run = 1;
	c->stopping = 0;
	c->cancel_req = 0;
	c->last_tick_ns = sc_now_ns();
	for (;;) {
		struct sc_xfer *failed = NULL, *x;
		uint64_t now, wake;
		long timeout_ms;

		if (stop && *stop) {
			sc_cancel_all(c, EXIT_TEMPFAIL, "interrupted");
			rc = err_set(e, EXIT_TEMPFAIL, "interrupted");
			break;
		}
		if (c->cancel_req) {
			sc_cancel_all(c, EXIT_TEMPFAIL, "cancelled");
			break;
		}
		now = sc_now_ns();
		wake = sc_start_ready(c, now, &failed);
		while ((x = failed) != NULL) {
			char msg[ERR_MSG_MAX];

			failed = x->next;
			sc_fmt(msg, sizeof msg, "GET %s: cannot start a libcurl transfer", x->path);
			sc_complete(c, x, EXIT_SOFTWARE, msg, NULL, 0);
		}
		if (!c->active && !c->qhead)
			break;
		if (curl_multi_perform(c->multi, &running) != CURLM_OK) {
			sc_cancel_all(c, EXIT_SOFTWARE, "libcurl failed");
			rc = err_set(e, EXIT_SOFTWARE, "libcurl multi interface failed");
			break;
		}
		n = sc_read_done(c);
		sc_maybe_tick(c, sc_now_ns());
		if (n > 0)
			continue;      /* slots freed, retries queued: start them first */
		timeout_ms = SC_TICK_MS;
		if (wake != UINT64_MAX && (long)((wake + 999999) / 1000000) < timeout_ms)
			timeout_ms = (long)((wake + 999999) / 1000000);
		if (curl_multi_poll(c->multi, NULL, 0, (int)timeout_ms, NULL) != CURLM_OK) {
			sc_cancel_all(c, EXIT_SOFTWARE, "libcurl failed");
			rc = err_set(e, EXIT_SOFTWARE, "libcurl multi interface failed");
			break;
		}
	}
	c->stopping = 0;
	c->cancel_req = 0;
	c->in_run = 0;
	return rc;
}

void stripe_cancel(struct stripe_client *c)
{
	c->cancel_req = 1;
	c->stopping = 1;
}

void stripe_client_set_tick(struct stripe_client *c, void (*fn)(void *udata), void *udata,
			    unsigned interval_ms)
{
	c->tick = fn;
	c->tick_udata = udata;
	c->tick_ms = interval_ms;
}

size_t stripe_pending(const struct stripe_client *c)
{
	return c->nqueued;
}

size_t stripe_in_flight(const struct stripe_client *c)
{
	return c->nactive;
}

static void sc_stats_add(struct stripe_stats *t, const struct stripe_stats *s)
{
	t->requests += s->requests;
	t->ok += s->ok;
	t->failed += s->failed;
	t->cancelled += s->cancelled;
	t->retries += s->retries;
	t->rate_limited += s->rate_limited;
	t->net_errors += s->net_errors;
	t->connects += s->connects;
	t->bytes += s->bytes;
}

void stripe_stats_total(const struct stripe_client *c, struct stripe_stats *out)
{
	int i, n = ratelimit_endpoint_count(c->rl);

	memset(out, 0, sizeof *out);
	for (i = 0; i < n && i < c->nstats; i++)
		sc_stats_add(out, &c->stats[i]);
}

int stripe_stats_endpoints(const struct stripe_client *c)
{
	return ratelimit_endpoint_count(c->rl);
}

const char *stripe_stats_endpoint(const struct stripe_client *c, int i,
				  struct stripe_stats *out)
{
	memset(out, 0, sizeof *out);
	if (i < 0 || i >= ratelimit_endpoint_count(c->rl))
		return NULL;
	if (i < c->nstats)
		*out = c->stats[i];
	return ratelimit_endpoint_name(c->rl, i);
}

void stripe_client_free(struct stripe_client *c)
{
	int i;

	if (!c)
		return;
	sc_cancel_all(c, EXIT_TEMPFAIL, "cancelled: the Stripe client was closed");
	for (i = 0; i < c->nidle; i++)
		curl_easy_cleanup(c->idle[i]);
	free(c->idle);
	if (c->multi)
		curl_multi_cleanup(c->multi);
	sc_headers_free(c->headers);
	sc_wipe_free(c->key);
	free(c->base);
	free(c->version);
	ratelimit_free(c->rl);
	free(c->stats);
	explicit_bzero(c, sizeof *c);
	free(c);
	curl_global_cleanup();
}
