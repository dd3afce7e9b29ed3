/*
 * config.c - loading and checking config/trueup.json; see config.h.
 *
 * The file is read with jansson (duplicate keys rejected), every key is
 * checked against the schema below (unknown keys are errors, so a typo such
 * as "databse" cannot silently fall back to a default), relative paths are
 * resolved against the file's directory, and then the catalogue it names is
 * loaded by catalogue.c.  Every problem is collected in a struct
 * config_problems; config_load succeeds only when there is none.
 *
 * Keys (documented in config/README.md):
 *   database, catalogue            required strings (paths)
 *   timezone                       IANA zone name, default "UTC"
 *   stripe { api_base, api_version (required), api_key_env, api_key_file,
 *            rate_limit { global_per_second, per_endpoint_per_second },
 *            timeouts { connect_seconds, request_seconds },
 *            max_retries, concurrency }   (stripe itself is required)
 *   reports { out_dir, definitions }
 *   jobs_dir
 *   repair { past_due_grace_days, auto_apply, release_overallocated_seats }
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config_json.h"
#include "tz.h"

#define DEFAULT_API_BASE "https://api.stripe.com"
#define DEFAULT_KEY_ENV "STRIPE_API_KEY"

/* Rule codes of SPEC.md that have a repair (E4 only when the policy allows). */
static const char *const repairable_rules[] = {
	"E1", "E2", "E3", "E4", "E5", "E6", "E7", "P1", "P3", "R1", "C1", "C2", "C4"
};
/* The rest: report only. */
static const char *const report_only_rules[] = {
	"P2", "C3", "L1", "L2", "L3", "G1", "M1"
};
/* auto_apply when the key is absent: everything repairable except E4. */
static const char *const default_auto_rules[] = {
	"E1", "E2", "E3", "E5", "E6", "E7", "P1", "P3", "R1", "C1", "C2", "C4"
};

#define NELEM(a) (sizeof (a) / sizeof (a)[0])

/* ---- problem list ---- */

int config_problem_add(struct config_problems *probs, const char *file, const char *path,
		       const char *fmt, ...)
{
	struct config_problem *p;
	va_list ap;

	if (probs->count == probs->cap) {
		size_t ncap = probs->cap ? probs->cap * 2 : 16;
		struct config_problem *n = realloc(probs->items, ncap * sizeof *n);

		if (!n)
			return -1;
		probs->items = n;
		probs->cap = ncap;
	}
	p = &probs->items[probs->count++];
	snprintf(p->file, sizeof p->file, "%s", file ? file : "");
	snprintf(p->path, sizeof p->path, "%s", path ? path : "");
	va_start(ap, fmt);
	vsnprintf(p->reason, sizeof p->reason, fmt, ap);
	va_end(ap);
	return 0;
}

void config_problems_free(struct config_problems *probs)
{
	if (!probs)
		return;
	free(probs->items);
	probs->items = NULL;
	probs->count = probs->cap = 0;
}

/* ---- paths ---- */

/* The directory part of path ("." when it has none); NULL if out of memory. */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *d;

	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	d = malloc((size_t)(slash - path) + 1);
	if (!d)
		return NULL;
	memcpy(d, path, (size_t)(slash - path));
	d[slash - path] = '\0';
	return d;
}

/* rel resolved against dir (rel itself if absolute or dir is "."); malloc'd. */
static char *resolve(const char *dir, const char *rel)
{
	size_t n;
	char *r;

	if (rel[0] == '/' || strcmp(dir, ".") == 0)
		return strdup(rel);
	n = strlen(dir) + 1 + strlen(rel) + 1;
	r = malloc(n);
	if (r)
		snprintf(r, n, "%s/%s", dir, rel);
	return r;
}

/* ---- loading context ---- */

struct loader {
	struct config *cfg;
	struct cfg_file f;
	int nomem;
};

static char *dup_or_flag(struct loader *L, const char *s)
{
	char *d = strdup(s);

	if (!d)
		L->nomem = 1;
	return d;
}

/* Replace *slot (freeing it) with the resolved path of rel. */
static void set_path(struct loader *L, char **slot, const char *rel)
{
	char *r = resolve(L->cfg->dir, rel);

	if (!r) {
		L->nomem = 1;
		return;
	}
	free(*slot);
	*slot = r;
}

static void set_string(struct loader *L, char **slot, const char *s)
{
	char *d = dup_or_flag(L, s);

	if (d) {
		free(*slot);
		*slot = d;
	}
}

/* ---- value checks ---- */

/* 1 if host (no port) is a loopback name plain http may go to. */
static int is_loopback(const char *host, size_t len)
{
	static const char *const names[] = { "127.0.0.1", "localhost", "[::1]" };
	size_t i;

	for (i = 0; i < NELEM(names); i++)
		if (strlen(names[i]) == len && strncasecmp(host, names[i], len) == 0)
			return 1;
	return 0;
}

/*
 * Check a Stripe API base URL: https://host[:port][/path], or plain http to
 * a loopback host.  Returns 1, or 0 with the reason in why.
 */
static int api_base_ok(const char *url, char *why, size_t whysz)
{
	const char *host, *end, *p;
	size_t hlen;
	int https;

	if (strncmp(url, "https://", 8) == 0) {
		https = 1;
		host = url + 8;
	} else if (strncmp(url, "http://", 7) == 0) {
		https = 0;
		host = url + 7;
	} else {
		snprintf(why, whysz, "must be an https:// URL (plain http:// only to a loopback host)");
		return 0;
	}
	for (p = url; *p; p++) {
		if (isspace((unsigned char)*p) || iscntrl((unsigned char)*p) ||
		    *p == '?' || *p == '#' || *p == '@') {
			snprintf(why, whysz, "must not contain spaces, credentials, a query or a fragment");
			return 0;
		}
	}
	if (host[0] == '[') {
		end = strchr(host, ']');
		end = end ? end + 1 : host + strlen(host);
	} else {
		end = host + strcspn(host, ":/");
	}
	hlen = (size_t)(end - host);
	if (hlen == 0) {
		snprintf(why, whysz, "has no host");
		return 0;
	}
	if (*end == ':') {
		char *stop;
		long port;

		errno = 0;
		port = strtol(end + 1, &stop, 10);
		if (stop == end + 1 || (*stop && *stop != '/') || port < 1 || port > 65535 || errno) {
			snprintf(why, whysz, "has a bad port");
			return 0;
		}
	}
	if (!https && !is_loopback(host, hlen)) {
		snprintf(why, whysz, "plain http is allowed only to 127.0.0.1, localhost or [::1], "
			 "not \"%.*s\"", (int)(hlen > 100 ? 100 : hlen), host);
		return 0;
	}
	return 1;
}

/* "2025-08-27" or "2025-08-27.basil". */
static int api_version_ok(const char *v)
{
	static const char shape[] = "dddd-dd-dd";
	size_t i;

	for (i = 0; shape[i]; i++) {
		if (shape[i] == 'd' ? !isdigit((unsigned char)v[i]) : v[i] != shape[i])
			return 0;
	}
	if (v[i] == '\0')
		return 1;
	if (v[i] != '.' || !v[i + 1])
		return 0;
	for (i++; v[i]; i++)
		if (!islower((unsigned char)v[i]))
			return 0;
	return 1;
}

static int env_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n > 128 || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return 0;
	return 1;
}

/* ---- sections ---- */

static void load_stripe(struct loader *L, json_t *root)
{
	static const struct cfg_key keys[] = {
		{ "api_base", 0 }, { "api_version", 1 }, { "api_key_env", 0 },
		{ "api_key_file", 0 }, { "rate_limit", 0 }, { "timeouts", 0 },
		{ "max_retries", 0 }, { "concurrency", 0 }, { NULL, 0 }
	};
	static const struct cfg_key rate_keys[] = {
		{ "global_per_second", 0 }, { "per_endpoint_per_second", 0 }, { NULL, 0 }
	};
	static const struct cfg_key timeout_keys[] = {
		{ "connect_seconds", 0 }, { "request_seconds", 0 }, { NULL, 0 }
	};
	struct stripe_config *sc = &L->cfg->stripe;
	struct cfg_file *f = &L->f;
	json_t *st = json_object_get(root, "stripe"), *sub;
	const char *s;
	char why[160];
	long long n;
	int rate_global_ok = 1, rate_endpoint_ok = 1;

	if (!st || !cfg_expect_object(f, st, "$.stripe"))
		return;
	cfg_check_keys(f, st, "$.stripe", keys);
	if (cfg_get_string(f, st, "$.stripe", "api_base", &s) == 1) {
		if (!api_base_ok(s, why, sizeof why))
			cfg_problem(f, "$.stripe.api_base", "%s", why);
		else
			set_string(L, &sc->api_base, s);
	}
	if (cfg_get_string(f, st, "$.stripe", "api_version", &s) == 1) {
		if (!api_version_ok(s))
			cfg_problem(f, "$.stripe.api_version",
				    "not a Stripe API version like \"2025-08-27.basil\"");
		else
			set_string(L, &sc->api_version, s);
	}
	if (cfg_get_string(f, st, "$.stripe", "api_key_env", &s) == 1) {
		/* never echo the value: someone may have pasted the key itself */
		if (strncmp(s, "sk_", 3) == 0 || strncmp(s, "rk_", 3) == 0)
			cfg_problem(f, "$.stripe.api_key_env", "must name an environment variable "
				    "that holds the key, not the key itself");
		else if (!env_name_ok(s))
			cfg_problem(f, "$.stripe.api_key_env", "not a valid environment variable name");
		else
			set_string(L, &sc->api_key_env, s);
	}
	if (cfg_get_string(f, st, "$.stripe", "api_key_file", &s) == 1)
		set_path(L, &sc->api_key_file, s);

	sub = json_object_get(st, "rate_limit");
	if (sub && cfg_expect_object(f, sub, "$.stripe.rate_limit")) {
		cfg_check_keys(f, sub, "$.stripe.rate_limit", rate_keys);
		if (cfg_get_int(f, sub, "$.stripe.rate_limit", "global_per_second", 1, 10000, &n) == 1)
			sc->rate_global_per_sec = (int)n;
		else if (json_object_get(sub, "global_per_second"))
			rate_global_ok = 0;
		if (cfg_get_int(f, sub, "$.stripe.rate_limit", "per_endpoint_per_second", 1, 10000,
				&n) == 1)
			sc->rate_endpoint_per_sec = (int)n;
		else if (json_object_get(sub, "per_endpoint_per_second"))
			rate_endpoint_ok = 0;
		if (rate_global_ok && rate_endpoint_ok &&
		    sc->rate_endpoint_per_sec > sc->rate_global_per_sec)
			cfg_problem(f, "$.stripe.rate_limit.per_endpoint_per_second",
				    "must not exceed global_per_second (%d), got %d",
				    sc->rate_global_per_sec, sc->rate_endpoint_per_sec);
	}
	sub = json_object_get(st, "timeouts");
	if (sub && cfg_expect_object(f, sub, "$.stripe.timeouts")) {
		cfg_check_keys(f, sub, "$.stripe.timeouts", timeout_keys);
		if (cfg_get_int(f, sub, "$.stripe.timeouts", "connect_seconds", 1, 300, &n) == 1)
			sc->connect_timeout_sec = (int)n;
		if (cfg_get_int(f, sub, "$.stripe.timeouts", "request_seconds", 1, 3600, &n) == 1)
			sc->request_timeout_sec = (int)n;
	}
	if (cfg_get_int(f, st, "$.stripe", "max_retries", 0, 100, &n) == 1)
		sc->max_retries = (int)n;
	if (cfg_get_int(f, st, "$.stripe", "concurrency", 1, 256, &n) == 1)
		sc->concurrency = (int)n;
}

static int in_list(const char *s, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(s, list[i]) == 0)
			return 1;
	return 0;
}

/* Set the policy's rule list to a copy of the n codes (NULL-terminated). */
static void set_rules(struct loader *L, const char *const *codes, size_t n)
{
	char **r = calloc(n + 1, sizeof *r);
	size_t i;

	if (!r) {
		L->nomem = 1;
		return;
	}
	for (i = 0; i < n; i++) {
		r[i] = dup_or_flag(L, codes[i]);
		if (!r[i])
			break;
	}
	L->cfg->repair.auto_rules = r;
}

static void load_auto_apply(struct loader *L, json_t *arr)
{
	const char *codes[NELEM(repairable_rules)];
	char path[CFG_PATH_MAX], what[64];
	struct cfg_file *f = &L->f;
	size_t i, n = 0;
	int ok = 1;
	json_t *v;

	if (!json_is_array(arr)) {
		cfg_describe(arr, what, sizeof what);
		cfg_problem(f, "$.repair.auto_apply", "expected an array of rule codes, got %s", what);
		return;
	}
	json_array_foreach(arr, i, v) {
		const char *code;

		cfg_path_index(path, sizeof path, "$.repair.auto_apply", i);
		if (!json_is_string(v)) {
			cfg_describe(v, what, sizeof what);
			cfg_problem(f, path, "expected a rule code such as \"E1\", got %s", what);
			ok = 0;
			continue;
		}
		code = json_string_value(v);
		if (in_list(code, report_only_rules, NELEM(report_only_rules))) {
			cfg_problem(f, path, "rule \"%s\" only reports; it has no repair", code);
			ok = 0;
		} else if (!in_list(code, repairable_rules, NELEM(repairable_rules))) {
			cfg_problem(f, path, "unknown rule \"%.40s\"", code);
			ok = 0;
		} else if (in_list(code, codes, n)) {
			cfg_problem(f, path, "rule \"%s\" is listed twice", code);
			ok = 0;
		} else {
			codes[n++] = code;
		}
	}
	if (ok)
		set_rules(L, codes, n);
}

static void load_repair(struct loader *L, json_t *root)
{
	static const struct cfg_key keys[] = {
		{ "past_due_grace_days", 0 }, { "auto_apply", 0 },
		{ "release_overallocated_seats", 0 }, { NULL, 0 }
	};
	struct repair_policy *rp = &L->cfg->repair;
	json_t *r = json_object_get(root, "repair"), *aa = NULL;
	long long n;
	int b;

	if (r && cfg_expect_object(&L->f, r, "$.repair")) {
		cfg_check_keys(&L->f, r, "$.repair", keys);
		if (cfg_get_int(&L->f, r, "$.repair", "past_due_grace_days", 0, 365, &n) == 1)
			rp->past_due_grace_days = (int)n;
		if (cfg_get_bool(&L->f, r, "$.repair", "release_overallocated_seats", &b) == 1)
			rp->release_overallocated_seats = b;
		aa = json_object_get(r, "auto_apply");
	}
	if (aa)
		load_auto_apply(L, aa);
	else
		set_rules(L, default_auto_rules, NELEM(default_auto_rules));
}

static void load_reports(struct loader *L, json_t *root)
{
	static const struct cfg_key keys[] = {
		{ "out_dir", 0 }, { "definitions", 0 }, { "timezone", 0 }, { "period", 0 },
		{ NULL, 0 }
	};
	json_t *r = json_object_get(root, "reports");
	const char *s;
	struct err e;
	struct tz tz;

	if (!r || !cfg_expect_object(&L->f, r, "$.reports"))
		return;
	cfg_check_keys(&L->f, r, "$.reports", keys);
	if (cfg_get_string(&L->f, r, "$.reports", "out_dir", &s) == 1)
		set_path(L, &L->cfg->report_out_dir, s);
	if (cfg_get_string(&L->f, r, "$.reports", "definitions", &s) == 1)
		set_path(L, &L->cfg->reports_dir, s);
	if (cfg_get_string(&L->f, r, "$.reports", "timezone", &s) == 1) {
		err_clear(&e);
		if (tz_load(&tz, s, &e) != 0)
			cfg_problem(&L->f, "$.reports.timezone", "%s", e.msg);
		else
			set_string(L, &L->cfg->report_timezone, s);
		tz_free(&tz);
	}
	if (cfg_get_string(&L->f, r, "$.reports", "period", &s) == 1) {
		if (strcmp(s, "month") == 0 || strcmp(s, "day") == 0)
			L->cfg->report_period_day = strcmp(s, "day") == 0;
		else
			cfg_problem(&L->f, "$.reports.period", "must be \"month\" or \"day\", got "
				    "\"%s\"", s);
	}
}

static void load_timezone(struct loader *L, json_t *root)
{
	const char *s;
	struct err e;
	struct tz tz;

	if (cfg_get_string(&L->f, root, "$", "timezone", &s) != 1)
		return;
	err_clear(&e);
	if (tz_load(&tz, s, &e) != 0) {
		cfg_problem(&L->f, "$.timezone", "%s", e.msg);
		return;
	}
	tz_free(&tz);
	set_string(L, &L->cfg->timezone, s);
}

/*
 * Check the catalogue key; returns 1 when cfg->cat.dir names an existing
 * directory the catalogue can be loaded from.
 */
static int load_catalogue_key(struct loader *L, json_t *root)
{
	struct stat st;
	const char *s;

	if (cfg_get_string(&L->f, root, "$", "catalogue", &s) != 1)
		return 0;
	set_path(L, &L->cfg->cat.dir, s);
	if (!L->cfg->cat.dir)
		return 0;
	if (stat(L->cfg->cat.dir, &st) != 0) {
		cfg_problem(&L->f, "$.catalogue", "catalogue directory \"%s\": %s",
			    L->cfg->cat.dir, strerror(errno));
		return 0;
	}
	if (!S_ISDIR(st.st_mode)) {
		cfg_problem(&L->f, "$.catalogue", "catalogue \"%s\" is not a directory",
			    L->cfg->cat.dir);
		return 0;
	}
	return 1;
}

static int load_top(struct loader *L, json_t *root)
{
	static const struct cfg_key keys[] = {
		{ "database", 1 }, { "catalogue", 1 }, { "timezone", 0 }, { "stripe", 1 },
		{ "reports", 0 }, { "jobs_dir", 0 }, { "repair", 0 }, { NULL, 0 }
	};
	const char *s;
	int cat_ok;

	if (!cfg_expect_object(&L->f, root, "$"))
		return 0;
	cfg_check_keys(&L->f, root, "$", keys);
	if (cfg_get_string(&L->f, root, "$", "database", &s) == 1)
		set_path(L, &L->cfg->db_path, s);
	cat_ok = load_catalogue_key(L, root);
	load_timezone(L, root);
	load_stripe(L, root);
	load_reports(L, root);
	if (cfg_get_string(&L->f, root, "$", "jobs_dir", &s) == 1)
		set_path(L, &L->cfg->jobs_dir, s);
	load_repair(L, root);
	return cat_ok;
}

/* Defaults; paths are relative to the config file's directory. */
static void set_defaults(struct loader *L)
{
	struct config *c = L->cfg;

	set_string(L, &c->timezone, "UTC");
	set_path(L, &c->report_out_dir, "../out/reports");
	set_path(L, &c->reports_dir, "../reports");
	set_path(L, &c->jobs_dir, "../jobs");
	set_string(L, &c->stripe.api_base, DEFAULT_API_BASE);
	set_string(L, &c->stripe.api_key_env, DEFAULT_KEY_ENV);
	c->stripe.rate_global_per_sec = 100;
	c->stripe.rate_endpoint_per_sec = 25;
	c->stripe.connect_timeout_sec = 10;
	c->stripe.request_timeout_sec = 60;
	c->stripe.max_retries = 8;
	c->stripe.concurrency = 8;
	c->repair.past_due_grace_days = 7;
	c->repair.release_overallocated_seats = 0;
}

static void apply_env(struct loader *L)
{
	const char *base = getenv("TRUEUP_STRIPE_API_BASE");
	struct cfg_file envf = { L->f.probs, "TRUEUP_STRIPE_API_BASE (environment)", 0 };
	char why[160];

	if (!base || !*base)
		return;
	if (!api_base_ok(base, why, sizeof why)) {
		cfg_problem(&envf, "", "%s", why);
		L->nomem |= envf.nomem;
		return;
	}
	set_string(L, &L->cfg->stripe.api_base, base);
}

/* Strip trailing slashes from the API base so callers can append "/v1/...". */
static void trim_api_base(char *s)
{
	size_t n;

	if (!s)
		return;
	n = strlen(s);
	while (n > 8 && s[n - 1] == '/')
		s[--n] = '\0';
}

int config_load(const char *path, struct config **out, struct config_problems *probs,
		struct err *e)
{
	struct loader L;
	size_t first = probs->count, more;
	int cant_open = 0, cat_ok = 0;
	json_t *root;

	*out = NULL;
	memset(&L, 0, sizeof L);
	L.f.probs = probs;
	L.f.file = path;
	L.cfg = calloc(1, sizeof *L.cfg);
	if (!L.cfg)
		return err_set(e, EXIT_SOFTWARE, "\"%s\": out of memory", path);
	L.cfg->path = dup_or_flag(&L, path);
	L.cfg->dir = dir_of(path);
	if (!L.cfg->path || !L.cfg->dir) {
		config_free(L.cfg);
		return err_set(e, EXIT_SOFTWARE, "\"%s\": out of memory", path);
	}
	set_defaults(&L);
	root = cfg_load_json(&L.f, &cant_open);
	if (root) {
		cat_ok = load_top(&L, root);
		json_decref(root);
	}
	apply_env(&L);
	trim_api_base(L.cfg->stripe.api_base);
	if (cat_ok && catalogue_load(&L.cfg->cat, L.cfg->cat.dir, probs) != 0)
		L.nomem = 1;
	if (L.nomem || L.f.nomem) {
		config_free(L.cfg);
		return err_set(e, EXIT_SOFTWARE, "\"%s\": out of memory", path);
	}
	if (probs->count == first) {
		*out = L.cfg;
		return 0;
	}
	config_free(L.cfg);
	{
		const struct config_problem *p = &probs->items[first];
		int code = cant_open ? EXIT_NOINPUT : EXIT_CONFIG;

		more = probs->count - first - 1;
		if (p->path[0])
			err_set(e, code, "%s: %s: %s", p->file, p->path, p->reason);
		else
			err_set(e, code, "%s: %s", p->file, p->reason);
		if (more) {
			size_t len = strlen(e->msg);

			snprintf(e->msg + len, sizeof e->msg - len, " (and %zu more problem%s)",
				 more, more == 1 ? "" : "s");
		}
		return code;
	}
}

void config_free(struct config *cfg)
{
	char **r;

	if (!cfg)
		return;
	free(cfg->path);
	free(cfg->dir);
	free(cfg->db_path);
	free(cfg->timezone);
	free(cfg->report_out_dir);
	free(cfg->reports_dir);
	free(cfg->report_timezone);
	free(cfg->jobs_dir);
	free(cfg->stripe.api_base);
	free(cfg->stripe.api_version);
	free(cfg->stripe.api_key_env);
	free(cfg->stripe.api_key_file);
	for (r = cfg->repair.auto_rules; r && *r; r++)
		free(*r);
	free(cfg->repair.auto_rules);
	catalogue_release(&cfg->cat);
	free(cfg);
}
