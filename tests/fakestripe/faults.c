/* faults.c - fault injection rules, latency and Stripe-like rate limiting.
 *
 * A rule injects one fault kind into requests whose path starts with its
 * prefix, either with a probability (drawn from the fault RNG, seeded by
 * --fault-seed so runs repeat) or on every Nth matching request.  Rules are
 * tried in order; the first that fires wins.  Rate limiting is two token
 * buckets per request (global and per endpoint), each refilled at its rate and
 * holding at most rate * burst tokens, as Stripe's limiter behaves; a request
 * that finds either bucket empty is answered 429 rate_limit.
 */
#include "fake.h"

#include <stdlib.h>
#include <string.h>

static const char *const kind_names[FK_KIND_COUNT] = {
	"none", "429", "lock_timeout", "500", "503", "reset", "truncate", "badjson"
};

const char *fault_name(enum fault_kind k)
{
	return k < FK_KIND_COUNT ? kind_names[k] : "?";
}

static enum fault_kind kind_by_name(const char *s)
{
	for (int k = 1; k < FK_KIND_COUNT; k++)
		if (!strcmp(kind_names[k], s))
			return (enum fault_kind)k;
	if (!strcmp(s, "rate_limit"))
		return FK_429;
	if (!strcmp(s, "lock"))
		return FK_LOCK;
	return FK_NONE;
}

/* xorshift64* - the fault and mutation RNG. */
uint64_t fake_rand(uint64_t *state)
{
	uint64_t x = *state ? *state : 0x9E3779B97F4A7C15ull;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1Dull;
}

void faults_init(struct faults *f, uint64_t seed)
{
	memset(f, 0, sizeof *f);
	f->seed = seed;
	f->rng = seed ^ 0xFA17;
	f->burst = 1.0;
}

static int default_retry(enum fault_kind k)
{
	return k == FK_500 || k == FK_503 ? 1 : k == FK_LOCK ? 1 : -1;
}

/* KIND:TRIGGER[,path=P][,retry=true|false|none]; TRIGGER is pP (probability
 * 0..1), nN (every Nth) or a bare number (>= 1: every Nth, < 1: probability). */
int faults_add_spec(struct faults *f, const char *spec, char *err, size_t errsz)
{
	if (f->nrules >= FAULT_MAX_RULES) {
		snprintf(err, errsz, "too many fault rules (max %d)", FAULT_MAX_RULES);
		return -1;
	}
	char buf[256];
	snprintf(buf, sizeof buf, "%s", spec);
	char *colon = strchr(buf, ':');
	if (!colon) {
		snprintf(err, errsz, "fault \"%s\": expected KIND:TRIGGER", spec);
		return -1;
	}
	*colon = 0;
	struct fault_rule *r = &f->rule[f->nrules];
	memset(r, 0, sizeof *r);
	r->kind = kind_by_name(buf);
	if (r->kind == FK_NONE) {
		snprintf(err, errsz, "fault \"%s\": unknown kind \"%s\"", spec, buf);
		return -1;
	}
	r->retry = default_retry(r->kind);
	char *save = NULL;
	char *trig = strtok_r(colon + 1, ",", &save);
	if (!trig) {
		snprintf(err, errsz, "fault \"%s\": missing trigger", spec);
		return -1;
	}
	char *end;
	if (trig[0] == 'p') {
		r->prob = strtod(trig + 1, &end);
	} else if (trig[0] == 'n') {
		r->every = strtoull(trig + 1, &end, 10);
	} else {
		double v = strtod(trig, &end);
		if (v >= 1)
			r->every = (uint64_t)v;
		else
			r->prob = v;
	}
	if (*end || r->prob < 0 || r->prob > 1 || (r->prob == 0 && r->every == 0)) {
		snprintf(err, errsz, "fault \"%s\": bad trigger \"%s\"", spec, trig);
		return -1;
	}
	for (char *opt; (opt = strtok_r(NULL, ",", &save));) {
		if (!strncmp(opt, "path=", 5)) {
			snprintf(r->path, sizeof r->path, "%s", opt + 5);
		} else if (!strcmp(opt, "retry=true")) {
			r->retry = 1;
		} else if (!strcmp(opt, "retry=false")) {
			r->retry = 0;
		} else if (!strcmp(opt, "retry=none")) {
			r->retry = -1;
		} else {
			snprintf(err, errsz, "fault \"%s\": unknown option \"%s\"", spec, opt);
			return -1;
		}
	}
	f->nrules++;
	return 0;
}

/* {"faults":[{"kind","p","every","path","retry"}], "clear":bool,
 *  "latency_ms", "jitter_ms", "rate_global", "rate_endpoint", "burst", "seed"} */
int faults_apply_json(struct faults *f, json_t *cfg, char *err, size_t errsz)
{
	if (!json_is_object(cfg)) {
		snprintf(err, errsz, "body must be a JSON object");
		return -1;
	}
	struct faults saved = *f;
	json_t *v;
	if (json_is_true(json_object_get(cfg, "clear")))
		f->nrules = 0;
	if ((v = json_object_get(cfg, "seed")) && json_is_integer(v)) {
		f->seed = (uint64_t)json_integer_value(v);
		f->rng = f->seed ^ 0xFA17;
	}
	if ((v = json_object_get(cfg, "latency_ms")) && json_is_integer(v))
		f->latency_ms = (unsigned)json_integer_value(v);
	if ((v = json_object_get(cfg, "jitter_ms")) && json_is_integer(v))
		f->jitter_ms = (unsigned)json_integer_value(v);
	if ((v = json_object_get(cfg, "rate_global")) && json_is_number(v))
		f->rate_global = json_number_value(v);
	if ((v = json_object_get(cfg, "rate_endpoint")) && json_is_number(v))
		f->rate_endpoint = json_number_value(v);
	if ((v = json_object_get(cfg, "burst")) && json_is_number(v) && json_number_value(v) > 0)
		f->burst = json_number_value(v);
	json_t *list = json_object_get(cfg, "faults");
	size_t i;
	json_array_foreach(list, i, v) {
		const char *kind = json_string_value(json_object_get(v, "kind"));
		double p = json_number_value(json_object_get(v, "p"));
		json_int_t every = json_integer_value(json_object_get(v, "every"));
		const char *path = json_string_value(json_object_get(v, "path"));
		json_t *retry = json_object_get(v, "retry");
		char spec[256];
		if (every > 0)
			snprintf(spec, sizeof spec, "%s:n%lld", kind ? kind : "", (long long)every);
		else
			snprintf(spec, sizeof spec, "%s:p%.17g", kind ? kind : "", p);
		if (faults_add_spec(f, spec, err, errsz) < 0) {
			*f = saved;
			return -1;
		}
		struct fault_rule *r = &f->rule[f->nrules - 1];
		if (path)
			snprintf(r->path, sizeof r->path, "%s", path);
		if (json_is_boolean(retry))
			r->retry = json_is_true(retry);
		else if (json_is_null(retry))
			r->retry = -1;
	}
	return 0;
}

json_t *faults_to_json(const struct faults *f)
{
	json_t *rules = json_array();
	for (int i = 0; i < f->nrules; i++) {
		const struct fault_rule *r = &f->rule[i];
		json_array_append_new(rules, json_pack("{s:s, s:f, s:I, s:s, s:o, s:I}",
			"kind", fault_name(r->kind), "p", r->prob, "every", (json_int_t)r->every,
			"path", r->path, "retry", r->retry < 0 ? json_null() : json_boolean(r->retry),
			"seen", (json_int_t)r->seen));
	}
	return json_pack("{s:o, s:I, s:i, s:i, s:f, s:f, s:f}", "faults", rules,
			 "seed", (json_int_t)f->seed, "latency_ms", (int)f->latency_ms,
			 "jitter_ms", (int)f->jitter_ms, "rate_global", f->rate_global,
			 "rate_endpoint", f->rate_endpoint, "burst", f->burst);
}

/* Refill b (rate tokens/s, capacity rate*burst, full at first use). */
static void bucket_refill(struct bucket *b, double rate, double burst, uint64_t now)
{
	double cap = rate * burst;
	if (cap < 1)
		cap = 1;
	if (b->last_ns == 0) {
		b->tokens = cap;
	} else {
		b->tokens += (double)(now - b->last_ns) / 1e9 * rate;
		if (b->tokens > cap)
			b->tokens = cap;
	}
	b->last_ns = now;
}

/* A request takes a token from the global and its endpoint bucket, or from
 * neither when either is empty (a refused request costs nothing). */
int faults_rate_admit(struct faults *f, const char *endpoint, uint64_t now_ns)
{
	struct bucket *eb = NULL;
	if (f->rate_endpoint > 0) {
		for (int i = 0; i < f->nep && !eb; i++)
			if (!strcmp(f->ep[i].key, endpoint))
				eb = &f->ep[i];
		if (!eb && f->nep < RATE_MAX_BUCKETS) {
			eb = &f->ep[f->nep++];
			memset(eb, 0, sizeof *eb);
			snprintf(eb->key, sizeof eb->key, "%s", endpoint);
		}
		if (eb)
			bucket_refill(eb, f->rate_endpoint, f->burst, now_ns);
	}
	if (f->rate_global > 0)
		bucket_refill(&f->global, f->rate_global, f->burst, now_ns);
	if ((eb && eb->tokens < 1) || (f->rate_global > 0 && f->global.tokens < 1))
		return 0;
	if (eb)
		eb->tokens -= 1;
	if (f->rate_global > 0)
		f->global.tokens -= 1;
	return 1;
}

enum fault_kind faults_pick(struct faults *f, const char *path, int *retry)
{
	for (int i = 0; i < f->nrules; i++) {
		struct fault_rule *r = &f->rule[i];
		if (r->path[0] && strncmp(path, r->path, strlen(r->path)) != 0)
			continue;
		r->seen++;
		int fire = r->every ? r->seen % r->every == 0 :
			   (double)(fake_rand(&f->rng) >> 11) / 9007199254740992.0 < r->prob;
		if (fire) {
			*retry = r->retry;
			return r->kind;
		}
	}
	*retry = -1;
	return FK_NONE;
}

unsigned faults_latency(struct faults *f)
{
	unsigned ms = f->latency_ms;
	if (f->jitter_ms)
		ms += (unsigned)(fake_rand(&f->rng) % (f->jitter_ms + 1u));
	return ms;
}
