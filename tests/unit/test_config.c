/*
 * test_config.c - unit tests of the config module (config.c, catalogue.c,
 * config_json.c): the two shipped catalogues load and read back exactly,
 * and each kind of bad file is reported with the exact file, JSON path
 * and reason.
 *
 * Bad cases are written to a fresh directory under /tmp: a small valid
 * configuration and catalogue (see write_base()) with one file replaced.
 * JSON in this file is written with single quotes, which put() turns into
 * double quotes, to keep the cases readable.
 *
 * Run from the top of the repository (the shipped files are read as
 * config/trueup.json and fixtures/config/tiers.json), or set TRUEUP_TOP.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "harness.h"

static char tmp[256];          /* the case directory */
static char top[PATH_MAX];     /* the repository */

/* ---- helpers ---- */

static void put(const char *rel, const char *json)
{
	char path[512];
	FILE *f;
	const char *s;

	snprintf(path, sizeof path, "%s/%s", tmp, rel);
	f = fopen(path, "w");
	if (!f) {
		printf("cannot write %s: %s\n", path, strerror(errno));
		exit(2);
	}
	for (s = json; *s; s++)
		fputc(*s == '\'' ? '"' : *s, f);
	fclose(f);
}

/* Write raw bytes (no quote translation). */
static void put_raw(const char *rel, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", tmp, rel);
	f = fopen(path, "w");
	if (!f)
		exit(2);
	fputs(text, f);
	fclose(f);
}

#define DB_CAT "'database': 'trueup.db', 'catalogue': 'cat'"
#define STRIPE(extra) "'stripe': {'api_version': '2025-08-27.basil'" extra "}"
#define CONFIG_OK "{" DB_CAT ", " STRIPE("") "}"

#define PLANS_OK \
	"{'features': {'events': {'type': 'boolean', 'label': 'Events'}, 'seats': {'type': 'limit'}},\n" \
	" 'plans': {'basic': {'free': true, 'features': {'events': false, 'seats': 5}},\n" \
	"           'pro': {'name': 'Pro', 'role': 'organizer', 'features': {'events': true, 'seats': 'unlimited'}}}}\n"
#define PRICING_OK \
	"{'plans': {'basic': {'features': {'events': false}},\n" \
	"           'pro': {'features': {'events': true, 'seats': 'unlimited'}}}}\n"
#define MAPPING_OK \
	"{'prices': [{'price': 'price_1QaBcD', 'plan': 'pro'},\n" \
	"            {'lookup_key': 'pro_monthly', 'plan': 'pro'},\n" \
	"            {'lookup_key': 'course_sfz', 'course_program': 'SFZ'}]}\n"

/* A fresh valid configuration and catalogue in tmp. */
static void write_base(void)
{
	char path[512];

	snprintf(path, sizeof path, "%s/cat", tmp);
	mkdir(path, 0755);
	put("trueup.json", CONFIG_OK);
	put("cat/plans.json", PLANS_OK);
	put("cat/pricing_page.json", PRICING_OK);
	put("cat/stripe_mapping.json", MAPPING_OK);
}

static char *tmp_file(const char *rel)
{
	static char buf[4][512];
	static int n;

	n = (n + 1) % 4;
	snprintf(buf[n], sizeof buf[n], "%s/%s", tmp, rel);
	return buf[n];
}

struct result {
	int rc;
	struct config_problems probs;
	struct err e;
};

/* Load tmp/trueup.json into r (problems kept; the config itself freed). */
static void load_tmp(struct result *r)
{
	struct config *cfg = NULL;

	memset(r, 0, sizeof *r);
	r->rc = config_load(tmp_file("trueup.json"), &cfg, &r->probs, &r->e);
	if ((r->rc == 0) != (cfg != NULL))
		printf("  config_load returned %d with cfg %p\n", r->rc, (void *)cfg);
	config_free(cfg);
}

static void dump(const struct result *r)
{
	size_t i;

	for (i = 0; i < r->probs.count; i++)
		printf("    problem %zu: %s | %s | %s\n", i, r->probs.items[i].file,
		       r->probs.items[i].path, r->probs.items[i].reason);
}

/* 1 if r holds the problem (file relative to tmp). */
static int has(const struct result *r, const char *file, const char *path, const char *reason)
{
	size_t i;

	for (i = 0; i < r->probs.count; i++) {
		const struct config_problem *p = &r->probs.items[i];

		if (strcmp(p->file, tmp_file(file)) == 0 && strcmp(p->path, path) == 0 &&
		    strcmp(p->reason, reason) == 0)
			return 1;
	}
	return 0;
}

/*
 * The current base, as modified by the case, must give exactly this one
 * problem, exit code EXIT_CONFIG and e.msg "file: path: reason".
 */
static void expect_only(const char *file, const char *path, const char *reason)
{
	struct result r;
	char msg[1024];

	load_tmp(&r);
	CHECK_INT(r.rc, EXIT_CONFIG);
	CHECK_INT(r.e.code, EXIT_CONFIG);
	CHECK_INT(r.probs.count, 1);
	if (!has(&r, file, path, reason)) {
		printf("  FAIL expected problem: %s | %s | %s\n", file, path, reason);
		dump(&r);
		harness_cur_failed = 1;
	}
	if (path[0])
		snprintf(msg, sizeof msg, "%s: %s: %s", tmp_file(file), path, reason);
	else
		snprintf(msg, sizeof msg, "%s: %s", tmp_file(file), reason);
	if (r.probs.count == 1)
		CHECK_STR(r.e.msg, msg);
	config_problems_free(&r.probs);
}

/* Like expect_only, but the case gives n problems and this is one of them. */
static void expect_among(size_t n, const char *file, const char *path, const char *reason)
{
	struct result r;

	load_tmp(&r);
	CHECK_INT(r.rc, EXIT_CONFIG);
	CHECK_INT(r.probs.count, n);
	if (!has(&r, file, path, reason)) {
		printf("  FAIL expected problem: %s | %s | %s\n", file, path, reason);
		dump(&r);
		harness_cur_failed = 1;
	}
	config_problems_free(&r.probs);
}

static void expect_ok(void)
{
	struct result r;

	load_tmp(&r);
	CHECK_INT(r.rc, 0);
	CHECK_INT(r.probs.count, 0);
	if (r.probs.count)
		dump(&r);
	config_problems_free(&r.probs);
}

static struct config *load_shipped(const char *rel)
{
	struct config_problems probs = { 0 };
	struct config *cfg = NULL;
	struct err e = { 0 };
	char path[PATH_MAX + 64];
	int rc;

	snprintf(path, sizeof path, "%s/%s", top, rel);
	rc = config_load(path, &cfg, &probs, &e);
	CHECK_INT(rc, 0);
	CHECK_INT(probs.count, 0);
	if (rc)
		printf("  %s\n", e.msg);
	config_problems_free(&probs);
	return cfg;
}

/* kind and n of plan `plan`'s feature `code`, enforced or promised. */
static struct feature_value fv(const struct config *cfg, const char *plan, const char *code,
			       int promised)
{
	const struct plan *p = config_plan(&cfg->cat, plan);
	int i = config_feature_index(&cfg->cat, code);
	struct feature_value none = { FV_UNSET, -999 };

	if (!p || i < 0) {
		printf("  no plan %s or feature %s\n", plan, code);
		return none;
	}
	return promised ? p->promised[i] : p->enforced[i];
}

#define CHECK_BOOL(cfg, plan, code, v) do { \
	struct feature_value v_ = fv(cfg, plan, code, 0); \
	CHECK_INT(v_.kind, FV_BOOL); CHECK_INT(v_.n, v); \
} while (0)
#define CHECK_LIMIT(cfg, plan, code, v) do { \
	struct feature_value v_ = fv(cfg, plan, code, 0); \
	CHECK_INT(v_.kind, FV_LIMIT); CHECK_INT(v_.n, v); \
} while (0)
#define CHECK_UNLIMITED(cfg, plan, code) \
	CHECK_INT(fv(cfg, plan, code, 0).kind, FV_UNLIMITED)

/* ---- the shipped catalogues ---- */

static void test_events_lms_catalogue(void)
{
	struct config *cfg = load_shipped("config/trueup.json");
	static const char *const codes[] = {
		"events", "courses", "courses_per_month", "team", "branding", "certificates",
		"audience"
	};
	const struct plan *p;
	size_t i;

	if (!cfg)
		return;
	CHECK_INT(cfg->cat.nplans, 4);
	CHECK_INT(cfg->cat.nfeatures, 7);
	for (i = 0; i < 7; i++)
		CHECK_STR(cfg->cat.features[i].code, codes[i]);
	CHECK_INT(cfg->cat.features[2].type, FEATURE_LIMIT);
	CHECK_INT(cfg->cat.features[0].type, FEATURE_BOOLEAN);
	CHECK_STR(cfg->cat.plans[0].id, "organizer");
	CHECK_STR(cfg->cat.plans[1].id, "lms");
	CHECK_STR(cfg->cat.plans[2].id, "organization");
	CHECK_STR(cfg->cat.plans[3].id, "attendee");

	/* the seed's verification checks, as enforcement */
	CHECK_BOOL(cfg, "organizer", "events", 1);
	CHECK_BOOL(cfg, "organizer", "courses", 0);
	CHECK_LIMIT(cfg, "organizer", "courses_per_month", 0);
	CHECK_BOOL(cfg, "lms", "events", 0);
	CHECK_BOOL(cfg, "lms", "courses", 1);
	CHECK_LIMIT(cfg, "lms", "courses_per_month", 10);
	CHECK_BOOL(cfg, "organization", "events", 1);
	CHECK_BOOL(cfg, "organization", "courses", 1);
	CHECK_UNLIMITED(cfg, "organization", "courses_per_month");
	CHECK_BOOL(cfg, "organization", "team", 1);
	CHECK_BOOL(cfg, "organization", "branding", 1);
	CHECK_BOOL(cfg, "lms", "team", 0);
	CHECK_BOOL(cfg, "attendee", "events", 0);
	CHECK_BOOL(cfg, "attendee", "courses", 0);
	CHECK_LIMIT(cfg, "organizer", "audience", 500);
	CHECK_UNLIMITED(cfg, "organization", "audience");

	p = config_plan(&cfg->cat, "attendee");
	CHECK(p && p->free == 1);
	p = config_plan(&cfg->cat, "lms");
	CHECK(p && p->free == 0);
	CHECK_STR(p ? p->role : NULL, "course_manager");
	CHECK_STR(p ? p->name : NULL, "LMS");
	CHECK(config_plan(&cfg->cat, "LMS") == NULL);
	CHECK_INT(config_feature_index(&cfg->cat, "audience"), 6);
	CHECK_INT(config_feature_index(&cfg->cat, "seats"), -1);

	/* the two deliberate pricing-page differences */
	CHECK_INT(fv(cfg, "lms", "courses_per_month", 1).kind, FV_UNLIMITED);
	CHECK_INT(fv(cfg, "organizer", "certificates", 1).kind, FV_BOOL);
	CHECK_INT(fv(cfg, "organizer", "certificates", 1).n, 1);
	CHECK_BOOL(cfg, "organizer", "certificates", 0);
	/* and nothing else differs */
	{
		size_t pi, fi, diffs = 0;

		for (pi = 0; pi < cfg->cat.nplans; pi++)
			for (fi = 0; fi < cfg->cat.nfeatures; fi++) {
				const struct feature_value *a = &cfg->cat.plans[pi].enforced[fi];
				const struct feature_value *b = &cfg->cat.plans[pi].promised[fi];

				if (a->kind != b->kind || a->n != b->n)
					diffs++;
			}
		CHECK_INT(diffs, 2);
	}
	config_free(cfg);
}

static void test_events_lms_mapping(void)
{
	struct config *cfg = load_shipped("config/trueup.json");
	const struct price_mapping *m;

	if (!cfg)
		return;
	CHECK_INT(cfg->cat.nmappings, 15);
	m = config_map_price(&cfg->cat, "price_1QisAjIhKtJ0RlgLKOmxgJTe", NULL);
	CHECK(m && m->target == MAP_PLAN);
	CHECK_STR(m ? m->value : NULL, "lms");
	m = config_map_price(&cfg->cat, NULL, "lms_monthly");
	CHECK(m && m->target == MAP_PLAN && m->price_id == NULL);
	CHECK_STR(m ? m->value : NULL, "lms");
	/* price id first, then lookup_key */
	m = config_map_price(&cfg->cat, "price_1QfKtHF4vUCsMehGAkWvj7FA", "lms_monthly");
	CHECK_STR(m ? m->value : NULL, "organization");
	m = config_map_price(&cfg->cat, "price_unknown", "organizer_yearly");
	CHECK_STR(m ? m->value : NULL, "organizer");
	m = config_map_price(&cfg->cat, NULL, "course_sfz");
	CHECK(m && m->target == MAP_COURSE_PROGRAM);
	CHECK_STR(m ? m->value : NULL, "SFZ");
	CHECK(config_map_price(&cfg->cat, "price_nope", "nope") == NULL);
	CHECK(config_map_price(&cfg->cat, NULL, NULL) == NULL);
	CHECK(config_map_price(&cfg->cat, "", "") == NULL);
	config_free(cfg);
}

static void test_shipped_settings(void)
{
	struct config *cfg = load_shipped("config/trueup.json");
	static const char *const rules[] = {
		"E1", "E2", "E3", "E5", "E6", "E7", "P1", "P3", "R1", "C1", "C2", "C4", NULL
	};
	char want[PATH_MAX + 64];
	size_t i;

	if (!cfg)
		return;
	snprintf(want, sizeof want, "%s/config/../var/trueup.db", top);
	CHECK_STR(cfg->db_path, want);
	snprintf(want, sizeof want, "%s/config/catalogues/events_lms", top);
	CHECK_STR(cfg->cat.dir, want);
	snprintf(want, sizeof want, "%s/config/../out/reports", top);
	CHECK_STR(cfg->report_out_dir, want);
	snprintf(want, sizeof want, "%s/config/../reports", top);
	CHECK_STR(cfg->reports_dir, want);
	snprintf(want, sizeof want, "%s/config/../jobs", top);
	CHECK_STR(cfg->jobs_dir, want);
	snprintf(want, sizeof want, "%s/config", top);
	CHECK_STR(cfg->dir, want);
	CHECK_STR(cfg->timezone, "UTC");
	CHECK_STR(cfg->stripe.api_base, "https://api.stripe.com");
	CHECK_STR(cfg->stripe.api_version, "2025-08-27.basil");
	CHECK_STR(cfg->stripe.api_key_env, "STRIPE_API_KEY");
	CHECK(cfg->stripe.api_key_file == NULL);
	CHECK_INT(cfg->stripe.rate_global_per_sec, 100);
	CHECK_INT(cfg->stripe.rate_endpoint_per_sec, 25);
	CHECK_INT(cfg->stripe.connect_timeout_sec, 10);
	CHECK_INT(cfg->stripe.request_timeout_sec, 60);
	CHECK_INT(cfg->stripe.max_retries, 8);
	CHECK_INT(cfg->stripe.concurrency, 8);
	CHECK_INT(cfg->repair.past_due_grace_days, 7);
	CHECK_INT(cfg->repair.release_overallocated_seats, 0);
	for (i = 0; rules[i]; i++)
		CHECK_STR(cfg->repair.auto_rules[i], rules[i]);
	CHECK(cfg->repair.auto_rules[i] == NULL);
	config_free(cfg);
}

static void test_tiers_catalogue(void)
{
	struct config *cfg = load_shipped("fixtures/config/tiers.json");
	static const char *const codes[] = {
		"audience", "team_members", "video_upload", "document_upload",
		"certificate_customization", "lesson_download", "course_download",
		"hide_powered_by", "custom_domain", "sso", "scim", "upload_limit_mb"
	};
	static const char *const paid_only[] = {
		"team_members", "video_upload", "document_upload", "certificate_customization",
		"lesson_download", "course_download", "hide_powered_by", "custom_domain"
	};
	size_t i;

	if (!cfg)
		return;
	CHECK_INT(cfg->cat.nplans, 3);
	CHECK_INT(cfg->cat.nfeatures, 12);
	for (i = 0; i < 12; i++)
		CHECK_INT(config_feature_index(&cfg->cat, codes[i]), (int)i);
	CHECK_LIMIT(cfg, "BASIC", "audience", 20);
	CHECK_LIMIT(cfg, "EARLY_ADOPTER", "audience", 10000);
	CHECK_UNLIMITED(cfg, "ENTERPRISE", "audience");
	CHECK_BOOL(cfg, "BASIC", "sso", 0);
	CHECK_BOOL(cfg, "EARLY_ADOPTER", "sso", 0);
	CHECK_BOOL(cfg, "ENTERPRISE", "sso", 1);
	CHECK_BOOL(cfg, "EARLY_ADOPTER", "scim", 0);
	CHECK_BOOL(cfg, "ENTERPRISE", "scim", 1);
	CHECK_LIMIT(cfg, "BASIC", "upload_limit_mb", 2);
	CHECK_LIMIT(cfg, "EARLY_ADOPTER", "upload_limit_mb", 10);
	CHECK_LIMIT(cfg, "ENTERPRISE", "upload_limit_mb", 10);
	for (i = 0; i < sizeof paid_only / sizeof paid_only[0]; i++) {
		CHECK_BOOL(cfg, "BASIC", paid_only[i], 0);
		CHECK_BOOL(cfg, "EARLY_ADOPTER", paid_only[i], 1);
		CHECK_BOOL(cfg, "ENTERPRISE", paid_only[i], 1);
	}
	CHECK(config_plan(&cfg->cat, "BASIC")->free == 1);
	CHECK(config_plan(&cfg->cat, "ENTERPRISE")->free == 0);
	CHECK_STR(config_plan(&cfg->cat, "EARLY_ADOPTER")->name, "Early Adopters");
	/* deliberate differences: custom domain promised Enterprise-only, SCIM not on the page */
	CHECK_INT(fv(cfg, "EARLY_ADOPTER", "custom_domain", 1).kind, FV_BOOL);
	CHECK_INT(fv(cfg, "EARLY_ADOPTER", "custom_domain", 1).n, 0);
	CHECK_INT(fv(cfg, "ENTERPRISE", "scim", 1).kind, FV_UNSET);
	CHECK_INT(fv(cfg, "ENTERPRISE", "sso", 1).n, 1);
	CHECK_INT(fv(cfg, "BASIC", "audience", 1).n, 20);
	CHECK_INT(cfg->cat.nmappings, 8);
	CHECK_STR(config_map_price(&cfg->cat, NULL, "enterprise_yearly")->value, "ENTERPRISE");
	CHECK(config_map_price(&cfg->cat, NULL, "lms_monthly") == NULL);
	config_free(cfg);
}

/* ---- good files in tmp ---- */

static void test_minimal_config_defaults(void)
{
	struct config_problems probs = { 0 };
	struct config *cfg = NULL;
	struct err e = { 0 };

	write_base();
	CHECK_INT(config_load(tmp_file("trueup.json"), &cfg, &probs, &e), 0);
	if (!cfg)
		return;
	CHECK_STR(cfg->db_path, tmp_file("trueup.db"));
	CHECK_STR(cfg->cat.dir, tmp_file("cat"));
	CHECK_STR(cfg->jobs_dir, tmp_file("../jobs"));
	CHECK_STR(cfg->reports_dir, tmp_file("../reports"));
	CHECK_STR(cfg->report_out_dir, tmp_file("../out/reports"));
	CHECK_STR(cfg->timezone, "UTC");
	CHECK_STR(cfg->stripe.api_base, "https://api.stripe.com");
	CHECK_STR(cfg->stripe.api_key_env, "STRIPE_API_KEY");
	CHECK_INT(cfg->stripe.concurrency, 8);
	CHECK_INT(cfg->repair.past_due_grace_days, 7);
	CHECK_STR(cfg->repair.auto_rules[0], "E1");
	CHECK_STR(cfg->repair.auto_rules[11], "C4");
	CHECK(cfg->repair.auto_rules[12] == NULL);
	/* pricing page left "seats" out for basic: unset, not false */
	CHECK_INT(fv(cfg, "basic", "seats", 1).kind, FV_UNSET);
	CHECK_INT(fv(cfg, "basic", "seats", 0).kind, FV_LIMIT);
	CHECK_INT(fv(cfg, "basic", "seats", 0).n, 5);
	CHECK(config_plan(&cfg->cat, "basic")->name == NULL);
	CHECK_STR(cfg->cat.features[0].label, "Events");
	CHECK(cfg->cat.features[1].label == NULL);
	config_free(cfg);
	config_problems_free(&probs);
}

static void test_full_config_values(void)
{
	struct config_problems probs = { 0 };
	struct config *cfg = NULL;
	struct err e = { 0 };

	write_base();
	put("trueup.json",
	    "{'_comment': 'comments are keys starting with _',\n"
	    " 'database': '/var/lib/trueup/t.db', 'catalogue': 'cat', 'timezone': 'Europe/Berlin',\n"
	    " 'stripe': {'api_base': 'http://127.0.0.1:12111/', 'api_version': '2024-06-20',\n"
	    "   'api_key_env': 'MY_KEY', 'api_key_file': 'secrets/key',\n"
	    "   'rate_limit': {'global_per_second': 25, 'per_endpoint_per_second': 25},\n"
	    "   'timeouts': {'connect_seconds': 3, 'request_seconds': 30},\n"
	    "   'max_retries': 0, 'concurrency': 2},\n"
	    " 'reports': {'out_dir': 'out', 'definitions': '/usr/share/trueup/reports'},\n"
	    " 'jobs_dir': 'jobs',\n"
	    " 'repair': {'past_due_grace_days': 0, 'auto_apply': ['E4', 'E1'],\n"
	    "            'release_overallocated_seats': true}}");
	CHECK_INT(config_load(tmp_file("trueup.json"), &cfg, &probs, &e), 0);
	if (!cfg) {
		printf("  %s\n", e.msg);
		return;
	}
	CHECK_STR(cfg->db_path, "/var/lib/trueup/t.db");
	CHECK_STR(cfg->timezone, "Europe/Berlin");
	CHECK_STR(cfg->stripe.api_base, "http://127.0.0.1:12111");
	CHECK_STR(cfg->stripe.api_version, "2024-06-20");
	CHECK_STR(cfg->stripe.api_key_env, "MY_KEY");
	CHECK_STR(cfg->stripe.api_key_file, tmp_file("secrets/key"));
	CHECK_INT(cfg->stripe.rate_global_per_sec, 25);
	CHECK_INT(cfg->stripe.rate_endpoint_per_sec, 25);
	CHECK_INT(cfg->stripe.connect_timeout_sec, 3);
	CHECK_INT(cfg->stripe.request_timeout_sec, 30);
	CHECK_INT(cfg->stripe.max_retries, 0);
	CHECK_INT(cfg->stripe.concurrency, 2);
	CHECK_STR(cfg->report_out_dir, tmp_file("out"));
	CHECK_STR(cfg->reports_dir, "/usr/share/trueup/reports");
	CHECK_STR(cfg->jobs_dir, tmp_file("jobs"));
	CHECK_INT(cfg->repair.past_due_grace_days, 0);
	CHECK_INT(cfg->repair.release_overallocated_seats, 1);
	CHECK_STR(cfg->repair.auto_rules[0], "E4");
	CHECK_STR(cfg->repair.auto_rules[1], "E1");
	CHECK(cfg->repair.auto_rules[2] == NULL);
	config_free(cfg);
	config_problems_free(&probs);
}

static void test_empty_auto_apply(void)
{
	struct config_problems probs = { 0 };
	struct config *cfg = NULL;
	struct err e = { 0 };

	write_base();
	put("trueup.json", "{" DB_CAT ", " STRIPE("") ", 'repair': {'auto_apply': []}}");
	CHECK_INT(config_load(tmp_file("trueup.json"), &cfg, &probs, &e), 0);
	CHECK(cfg && cfg->repair.auto_rules && cfg->repair.auto_rules[0] == NULL);
	config_free(cfg);
	config_problems_free(&probs);
}

static void test_loopback_http_allowed(void)
{
	write_base();
	put("trueup.json", "{" DB_CAT ", " STRIPE(", 'api_base': 'http://localhost:8080'") "}");
	expect_ok();
	put("trueup.json", "{" DB_CAT ", " STRIPE(", 'api_base': 'http://[::1]:12111'") "}");
	expect_ok();
	put("trueup.json", "{" DB_CAT ", " STRIPE(", 'api_base': 'https://stripe.internal:8443/proxy'") "}");
	expect_ok();
}

static void test_env_api_base(void)
{
	struct config_problems probs = { 0 };
	struct config *cfg = NULL;
	struct err e = { 0 };

	write_base();
	setenv("TRUEUP_STRIPE_API_BASE", "http://127.0.0.1:12111", 1);
	CHECK_INT(config_load(tmp_file("trueup.json"), &cfg, &probs, &e), 0);
	CHECK_STR(cfg ? cfg->stripe.api_base : NULL, "http://127.0.0.1:12111");
	config_free(cfg);
	cfg = NULL;
	setenv("TRUEUP_STRIPE_API_BASE", "http://stripe.example.com", 1);
	CHECK_INT(config_load(tmp_file("trueup.json"), &cfg, &probs, &e), EXIT_CONFIG);
	CHECK(cfg == NULL);
	CHECK_STR(e.msg, "TRUEUP_STRIPE_API_BASE (environment): plain http is allowed only to "
		  "127.0.0.1, localhost or [::1], not \"stripe.example.com\"");
	unsetenv("TRUEUP_STRIPE_API_BASE");
	config_problems_free(&probs);
}

/* ---- bad files: trueup.json ---- */

static void test_bad_missing_config_file(void)
{
	struct result r;

	write_base();
	unlink(tmp_file("trueup.json"));
	load_tmp(&r);
	CHECK_INT(r.rc, EXIT_NOINPUT);
	CHECK_INT(r.probs.count, 1);
	CHECK(has(&r, "trueup.json", "", "cannot open: No such file or directory"));
	{
		char msg[600];

		snprintf(msg, sizeof msg, "%s: cannot open: No such file or directory",
			 tmp_file("trueup.json"));
		CHECK_STR(r.e.msg, msg);
	}
	config_problems_free(&r.probs);
}

static void test_bad_invalid_json(void)
{
	write_base();
	put("trueup.json", "{\n  'database': 'x.db',\n  'catalogue': 'cat'\n  'stripe': {}\n}\n");
	expect_only("trueup.json", "",
		    "invalid JSON at line 4, column 10: '}' expected near '\"stripe\"'");
	put_raw("trueup.json", "");
	expect_only("trueup.json", "",
		    "invalid JSON at line 1, column 0: '[' or '{' expected near end of file");
}

static void test_bad_duplicate_key(void)
{
	write_base();
	put("trueup.json", "{" DB_CAT ", " STRIPE("") ",\n 'database': 'other.db'}");
	expect_only("trueup.json", "",
		    "invalid JSON at line 2, column 11: duplicate object key near '\"database\"'");
}

static void test_bad_top_not_object(void)
{
	write_base();
	put("trueup.json", "[1, 2]");
	expect_only("trueup.json", "$", "expected an object, got an array");
}

static void test_bad_unknown_key_typo(void)
{
	write_base();
	/* the typo is caught, and so is the key it should have been */
	put("trueup.json", "{'databse': 'x.db', 'catalogue': 'cat', " STRIPE("") "}");
	expect_among(2, "trueup.json", "$.databse", "unknown key (did you mean \"database\"?)");
	expect_among(2, "trueup.json", "$.database", "missing required key");
	put("trueup.json", "{" DB_CAT ", " STRIPE(", 'max_retrys': 3") "}");
	expect_only("trueup.json", "$.stripe.max_retrys",
		    "unknown key (did you mean \"max_retries\"?)");
	put("trueup.json", "{" DB_CAT ", " STRIPE("") ", 'colour': 'blue'}");
	expect_only("trueup.json", "$.colour", "unknown key");
}

static void test_bad_missing_required(void)
{
	write_base();
	put("trueup.json", "{'database': 'x.db', " STRIPE("") "}");
	expect_only("trueup.json", "$.catalogue", "missing required key");
	put("trueup.json", "{" DB_CAT "}");
	expect_only("trueup.json", "$.stripe", "missing required key");
	put("trueup.json", "{" DB_CAT ", 'stripe': {}}");
	expect_only("trueup.json", "$.stripe.api_version", "missing required key");
}

static void test_bad_wrong_types(void)
{
	write_base();
	put("trueup.json", "{'database': 42, 'catalogue': 'cat', " STRIPE("") "}");
	expect_only("trueup.json", "$.database", "expected a string, got 42");
	put("trueup.json", "{" DB_CAT ", " STRIPE(", 'max_retries': '8'") "}");
	expect_only("trueup.json", "$.stripe.max_retries", "expected an integer, got a string");
	put("trueup.json", "{" DB_CAT ", " STRIPE(", 'concurrency': 2.5") "}");
	expect_only("trueup.json", "$.stripe.concurrency", "expected an integer, got 2.5");
	put("trueup.json", "{" DB_CAT ", 'stripe': 'https://api.stripe.com'}");
	expect_only("trueup.json", "$.stripe", "expected an object, got a string");
	put("trueup.json", "{" DB_CAT ", " STRIPE("") ", 'repair': {'release_overallocated_seats': 1}}");
	expect_only("trueup.json", "$.repair.release_overallocated_seats",
		    "expected true or false, got 1");
	put("trueup.json", "{'database': null, 'catalogue': 'cat', " STRIPE("") "}");
	expect_only("trueup.json", "$.database", "expected a string, got null");
}

static void test_bad_api_version(void)
{
	write_base();
	put("trueup.json", "{" DB_CAT ", 'stripe': {'api_version': 'latest'}}");
	expect_only("trueup.json", "$.stripe.api_version",
		    "not a Stripe API version like \"2025-08-27.basil\"");
	put("trueup.json", "{" DB_CAT ", 'stripe': {'api_version': '2025-8-27.basil'}}");
	expect_only("trueup.json", "$.stripe.api_version",
		    "not a Stripe API version like \"2025-08-27.basil\"");
}

static void test_bad_timezone(void)
{
	write_base();
	put("trueup.json", "{" DB_CAT ", 'timezone': 'Mars/Olympus', " STRIPE("") "}");
	expect_only("trueup.json", "$.timezone", "unknown time zone \"Mars/Olympus\"");
	put("trueup.json", "{" DB_CAT ", 'timezone': '../../etc/passwd', " STRIPE("") "}");
	expect_only("trueup.json", "$.timezone", "invalid time zone name \"../../etc/passwd\"");
	put("trueup.json", "{" DB_CAT ", 'timezone': '/etc/localtime', " STRIPE("") "}");
	expect_only("trueup.json", "$.timezone", "invalid time zone name \"/etc/localtime\"");
	put("trueup.json", "{" DB_CAT ", 'timezone': 'Europe', " STRIPE("") "}");
	expect_only("trueup.json", "$.timezone", "unknown time zone \"Europe\"");
	put("trueup.json", "{" DB_CAT ", 'timezone': '', " STRIPE("") "}");
	expect_only("trueup.json", "$.timezone", "must not be empty");
}

static void test_bad_api_base(void)
{
	write_base();
	put("trueup.json", "{" DB_CAT ", " STRIPE(", 'api_base': 'http://example.com'") "}");
	expect_only("trueup.json", "$.stripe.api_base",
		    "plain http is allowed only to 127.0.0.1, localhost or [::1], not \"example.com\"");
	put("trueup.json", "{" DB_CAT ", " STRIPE(", 'api_base': 'http://127.0.0.2:80'") "}");
	expect_only("trueup.json", "$.stripe.api_base",
		    "plain http is allowed only to 127.0.0.1, localhost or [::1], not \"127.0.0.2\"");
	put("trueup.json", "{" DB_CAT ", " STRIPE(", 'api_base': 'ftp://api.stripe.com'") "}");
	expect_only("trueup.json", "$.stripe.api_base",
		    "must be an https:// URL (plain http:// only to a loopback host)");
	put("trueup.json", "{" DB_CAT ", " STRIPE(", 'api_base': 'https://user:pw@api.stripe.com'") "}");
	expect_only("trueup.json", "$.stripe.api_base",
		    "must not contain spaces, credentials, a query or a fragment");
	put("trueup.json", "{" DB_CAT ", " STRIPE(", 'api_base': 'https://api.stripe.com:99999'") "}");
	expect_only("trueup.json", "$.stripe.api_base", "has a bad port");
	put("trueup.json", "{" DB_CAT ", " STRIPE(", 'api_base': 'https://'") "}");
	expect_only("trueup.json", "$.stripe.api_base", "has no host");
}

static void test_bad_rate_limits(void)
{
	write_base();
	put("trueup.json", "{" DB_CAT ", " STRIPE(", 'rate_limit': {'global_per_second': 0, "
		"'per_endpoint_per_second': -5}") "}");
	expect_among(2, "trueup.json", "$.stripe.rate_limit.global_per_second",
		     "must be greater than 0, got 0");
	expect_among(2, "trueup.json", "$.stripe.rate_limit.per_endpoint_per_second",
		     "must be greater than 0, got -5");
	put("trueup.json", "{" DB_CAT ", " STRIPE(", 'rate_limit': {'per_endpoint_per_second': 200}") "}");
	expect_only("trueup.json", "$.stripe.rate_limit.per_endpoint_per_second",
		    "must not exceed global_per_second (100), got 200");
	put("trueup.json", "{" DB_CAT ", " STRIPE(", 'timeouts': {'request_seconds': 0}") "}");
	expect_only("trueup.json", "$.stripe.timeouts.request_seconds",
		    "must be greater than 0, got 0");
	put("trueup.json", "{" DB_CAT ", " STRIPE(", 'max_retries': -1") "}");
	expect_only("trueup.json", "$.stripe.max_retries", "must be between 0 and 100, got -1");
}

static void test_bad_api_key_env(void)
{
	struct result r;

	write_base();
	put("trueup.json", "{" DB_CAT ", " STRIPE(", 'api_key_env': ''") "}");
	expect_only("trueup.json", "$.stripe.api_key_env", "must not be empty");
	put("trueup.json", "{" DB_CAT ", " STRIPE(", 'api_key_env': 'MY KEY'") "}");
	expect_only("trueup.json", "$.stripe.api_key_env", "not a valid environment variable name");
	/* a pasted key is refused and never echoed */
	put("trueup.json", "{" DB_CAT ", " STRIPE(", 'api_key_env': 'sk_test_51Habcdefg'") "}");
	expect_only("trueup.json", "$.stripe.api_key_env",
		    "must name an environment variable that holds the key, not the key itself");
	load_tmp(&r);
	CHECK(strstr(r.e.msg, "51Habcdefg") == NULL);
	config_problems_free(&r.probs);
	put("trueup.json", "{" DB_CAT ", " STRIPE(", 'api_key': 'sk_live_abc'") "}");
	load_tmp(&r);
	CHECK_INT(r.rc, EXIT_CONFIG);
	CHECK(strstr(r.e.msg, "sk_live_abc") == NULL);
	CHECK(has(&r, "trueup.json", "$.stripe.api_key", "unknown key"));
	config_problems_free(&r.probs);
}

static void test_bad_catalogue_dir(void)
{
	char reason[700];

	write_base();
	put("trueup.json", "{'database': 'x.db', 'catalogue': 'nowhere', " STRIPE("") "}");
	snprintf(reason, sizeof reason, "catalogue directory \"%s\": No such file or directory",
		 tmp_file("nowhere"));
	expect_only("trueup.json", "$.catalogue", reason);
	put("trueup.json", "{'database': 'x.db', 'catalogue': 'trueup.json', " STRIPE("") "}");
	snprintf(reason, sizeof reason, "catalogue \"%s\" is not a directory",
		 tmp_file("trueup.json"));
	expect_only("trueup.json", "$.catalogue", reason);
}

static void test_bad_repair(void)
{
	write_base();
	put("trueup.json", "{" DB_CAT ", " STRIPE("") ", 'repair': {'auto_apply': "
		"['E1', 'L1', 'X9', 'E1', 7]}}");
	expect_among(4, "trueup.json", "$.repair.auto_apply[1]",
		     "rule \"L1\" only reports; it has no repair");
	expect_among(4, "trueup.json", "$.repair.auto_apply[2]", "unknown rule \"X9\"");
	expect_among(4, "trueup.json", "$.repair.auto_apply[3]", "rule \"E1\" is listed twice");
	expect_among(4, "trueup.json", "$.repair.auto_apply[4]",
		     "expected a rule code such as \"E1\", got 7");
	put("trueup.json", "{" DB_CAT ", " STRIPE("") ", 'repair': {'auto_apply': 'E1'}}");
	expect_only("trueup.json", "$.repair.auto_apply",
		    "expected an array of rule codes, got a string");
	put("trueup.json", "{" DB_CAT ", " STRIPE("") ", 'repair': {'past_due_grace_days': 400}}");
	expect_only("trueup.json", "$.repair.past_due_grace_days",
		    "must be between 0 and 365, got 400");
}

/* ---- bad files: the catalogue ---- */

static void test_bad_catalogue_file_missing(void)
{
	write_base();
	unlink(tmp_file("cat/pricing_page.json"));
	expect_only("cat/pricing_page.json", "", "cannot open: No such file or directory");
}

static void test_bad_plans_shape(void)
{
	write_base();
	put("cat/plans.json", "{'features': {'events': {'type': 'boolean'}}, 'plan': {}}");
	/* "plans" is missing, "plan" unknown; later files then name unknown plans */
	{
		struct result r;

		load_tmp(&r);
		CHECK(has(&r, "cat/plans.json", "$.plan", "unknown key (did you mean \"plans\"?)"));
		CHECK(has(&r, "cat/plans.json", "$.plans", "missing required key"));
		config_problems_free(&r.probs);
	}
	put("cat/plans.json", "{'features': {'events': {'type': 'bool'}}, "
		"'plans': {'p': {'features': {'events': true}}}}");
	put("cat/pricing_page.json", "{'plans': {}}");
	put("cat/stripe_mapping.json", "{'prices': []}");
	expect_only("cat/plans.json", "$.features.events.type",
		    "unknown feature type \"bool\" (expected \"boolean\" or \"limit\")");
	put("cat/plans.json", "{'features': {'bad code': {'type': 'boolean'}}, "
		"'plans': {'p': {'features': {}}}}");
	expect_only("cat/plans.json", "$.features[\"bad code\"]",
		    "invalid feature code (use 1-64 letters, digits, \"_\" or \"-\")");
	put("cat/plans.json", "{'features': {}, 'plans': {}}");
	expect_among(2, "cat/plans.json", "$.features", "no features defined");
	expect_among(2, "cat/plans.json", "$.plans", "no plans defined");
}

static void test_bad_plans_unreadable_no_cascade(void)
{
	write_base();
	/* a broken plans.json does not make every plan elsewhere "unknown" */
	put("cat/plans.json", "{'features': {'events': {'type': 'boolean'}},\n 'plans': {'basic': }}");
	expect_only("cat/plans.json", "",
		    "invalid JSON at line 2, column 21: unexpected token near '}'");
	put("cat/plans.json", PLANS_OK);
	put("cat/pricing_page.json", "[]");
	expect_only("cat/pricing_page.json", "$", "expected an object, got an array");
}

static void test_bad_config_is_directory(void)
{
	struct result r;
	char path[600], msg[700];
	struct config *cfg = NULL;

	write_base();
	snprintf(path, sizeof path, "%s/cat", tmp);
	memset(&r, 0, sizeof r);
	r.rc = config_load(path, &cfg, &r.probs, &r.e);
	CHECK_INT(r.rc, EXIT_NOINPUT);
	CHECK(cfg == NULL);
	snprintf(msg, sizeof msg, "%s: cannot open: Is a directory", path);
	CHECK_STR(r.e.msg, msg);
	config_problems_free(&r.probs);
}

static void test_bad_negative_limit(void)
{
	write_base();
	put("cat/plans.json", "{'features': {'events': {'type': 'boolean'}, 'seats': {'type': 'limit'}},"
		" 'plans': {'basic': {'features': {'events': false, 'seats': -1}},"
		" 'pro': {'features': {'events': true, 'seats': 'unlimited'}}}}");
	expect_only("cat/plans.json", "$.plans.basic.features.seats",
		    "feature \"seats\" is a limit: must not be negative, got -1");
}

static void test_bad_non_integer_limit(void)
{
	write_base();
	put("cat/plans.json", "{'features': {'events': {'type': 'boolean'}, 'seats': {'type': 'limit'}},"
		" 'plans': {'basic': {'features': {'events': false, 'seats': 2.5}},"
		" 'pro': {'features': {'events': true, 'seats': 'infinite'}}}}");
	expect_among(2, "cat/plans.json", "$.plans.basic.features.seats",
		     "feature \"seats\" is a limit: must be a whole number, got 2.5");
	expect_among(2, "cat/plans.json", "$.plans.pro.features.seats",
		     "feature \"seats\" is a limit: expected a non-negative integer or "
		     "\"unlimited\", got \"infinite\"");
	put("cat/plans.json", "{'features': {'events': {'type': 'boolean'}, 'seats': {'type': 'limit'}},"
		" 'plans': {'basic': {'features': {'events': false, 'seats': true}},"
		" 'pro': {'features': {'events': true, 'seats': 3}}}}");
	expect_only("cat/plans.json", "$.plans.basic.features.seats",
		    "feature \"seats\" is a limit: expected a non-negative integer or "
		    "\"unlimited\", got true");
}

static void test_bad_boolean_given_number(void)
{
	write_base();
	put("cat/plans.json", "{'features': {'events': {'type': 'boolean'}, 'seats': {'type': 'limit'}},"
		" 'plans': {'basic': {'features': {'events': 1, 'seats': 1}},"
		" 'pro': {'features': {'events': true, 'seats': 3}}}}");
	expect_only("cat/plans.json", "$.plans.basic.features.events",
		    "feature \"events\" is a boolean: expected true or false, got 1");
	put("cat/pricing_page.json", "{'plans': {'pro': {'features': {'events': 'yes'}}}}");
	put("cat/plans.json", PLANS_OK);
	expect_only("cat/pricing_page.json", "$.plans.pro.features.events",
		    "feature \"events\" is a boolean: expected true or false, got a string");
}

static void test_bad_unknown_feature_in_plan(void)
{
	write_base();
	put("cat/plans.json", "{'features': {'events': {'type': 'boolean'}, 'seats': {'type': 'limit'}},"
		" 'plans': {'basic': {'features': {'evnets': false, 'seats': 1}},"
		" 'pro': {'features': {'events': true, 'seats': 3}}}}");
	expect_among(2, "cat/plans.json", "$.plans.basic.features.evnets",
		     "unknown feature \"evnets\" (did you mean \"events\"?)");
	expect_among(2, "cat/plans.json", "$.plans.basic.features",
		     "missing value for feature \"events\"");
}

static void test_bad_plan_missing_feature(void)
{
	write_base();
	put("cat/plans.json", "{'features': {'events': {'type': 'boolean'}, 'seats': {'type': 'limit'}},"
		" 'plans': {'basic': {'features': {'events': false}},"
		" 'pro': {'features': {'events': true, 'seats': 3}}}}");
	expect_only("cat/plans.json", "$.plans.basic.features", "missing value for feature \"seats\"");
	put("cat/plans.json", "{'features': {'events': {'type': 'boolean'}, 'seats': {'type': 'limit'}},"
		" 'plans': {'basic': {'name': 'Basic'},"
		" 'pro': {'features': {'events': true, 'seats': 3}}}}");
	expect_only("cat/plans.json", "$.plans.basic.features", "missing required key");
}

static void test_bad_plan_fields(void)
{
	write_base();
	put("cat/plans.json", "{'features': {'events': {'type': 'boolean'}, 'seats': {'type': 'limit'}},"
		" 'plans': {'basic': {'free': 'yes', 'nmae': 'B', 'features': {'events': false, 'seats': 1}},"
		" 'pro': {'features': {'events': true, 'seats': 3}}}}");
	expect_among(2, "cat/plans.json", "$.plans.basic.free", "expected true or false, got a string");
	expect_among(2, "cat/plans.json", "$.plans.basic.nmae", "unknown key (did you mean \"name\"?)");
}

static void test_bad_pricing_unknown_plan(void)
{
	write_base();
	put("cat/pricing_page.json", "{'plans': {'PRO': {'features': {'events': true}},"
		" 'gold': {'features': {'events': true}}}}");
	expect_among(2, "cat/pricing_page.json", "$.plans.PRO",
		     "unknown plan \"PRO\" (not in plans.json) (did you mean \"pro\"?)");
	expect_among(2, "cat/pricing_page.json", "$.plans.gold", "unknown plan \"gold\" (not in plans.json)");
	put("cat/pricing_page.json", "{'plans': {'pro': {'features': {'seets': 3}}}}");
	expect_only("cat/pricing_page.json", "$.plans.pro.features.seets",
		    "unknown feature \"seets\" (did you mean \"seats\"?)");
	put("cat/pricing_page.json", "{'plans': {'pro': {'features': {}, 'price': '$9'}}}");
	expect_only("cat/pricing_page.json", "$.plans.pro.price", "unknown key");
}

static void test_bad_mapping_unknown_plan(void)
{
	write_base();
	put("cat/stripe_mapping.json", "{'prices': [{'price': 'price_1QaBcD', 'plan': 'prp'}]}");
	expect_only("cat/stripe_mapping.json", "$.prices[0].plan",
		    "unknown plan \"prp\" (not in plans.json) (did you mean \"pro\"?)");
}

static void test_bad_mapping_duplicates(void)
{
	write_base();
	put("cat/stripe_mapping.json", "{'prices': [{'price': 'price_1QaBcD', 'plan': 'pro'},\n"
		" {'lookup_key': 'pro_monthly', 'plan': 'pro'},\n"
		" {'price': 'price_1QaBcD', 'plan': 'basic'}]}");
	expect_only("cat/stripe_mapping.json", "$.prices[2].price",
		    "price \"price_1QaBcD\" is already mapped at $.prices[0]");
	put("cat/stripe_mapping.json", "{'prices': [{'price': 'price_1QaBcD', 'plan': 'pro'},\n"
		" {'lookup_key': 'pro_monthly', 'plan': 'pro'},\n"
		" {'lookup_key': 'pro_monthly', 'course_program': 'SFZ'}]}");
	expect_only("cat/stripe_mapping.json", "$.prices[2].lookup_key",
		    "lookup_key \"pro_monthly\" is already mapped at $.prices[1]");
}

static void test_bad_mapping_shape(void)
{
	write_base();
	put("cat/stripe_mapping.json", "{'prices': [{'price': 'price_1QaBcD', "
		"'lookup_key': 'pro_monthly', 'plan': 'pro'}]}");
	expect_only("cat/stripe_mapping.json", "$.prices[0]",
		    "give either \"price\" or \"lookup_key\", not both");
	put("cat/stripe_mapping.json", "{'prices': [{'plan': 'pro'}]}");
	expect_only("cat/stripe_mapping.json", "$.prices[0]", "missing \"price\" or \"lookup_key\"");
	put("cat/stripe_mapping.json", "{'prices': [{'lookup_key': 'x', 'plan': 'pro', "
		"'course_program': 'SFZ'}]}");
	expect_only("cat/stripe_mapping.json", "$.prices[0]",
		    "give either \"plan\" or \"course_program\", not both");
	put("cat/stripe_mapping.json", "{'prices': [{'lookup_key': 'x'}]}");
	expect_only("cat/stripe_mapping.json", "$.prices[0]", "missing \"plan\" or \"course_program\"");
	put("cat/stripe_mapping.json", "{'prices': [{'price': 'prod_QaBcD', 'plan': 'pro'}]}");
	expect_only("cat/stripe_mapping.json", "$.prices[0].price",
		    "\"prod_QaBcD\" is not a Stripe price id (price_ followed by letters and digits)");
	put("cat/stripe_mapping.json", "{'prices': [{'lookup_key': 'c', 'course_program': 'S F Z'}]}");
	expect_only("cat/stripe_mapping.json", "$.prices[0].course_program",
		    "invalid course program code (use 1-64 letters, digits, \"_\" or \"-\")");
	put("cat/stripe_mapping.json", "{'prices': ['price_1QaBcD']}");
	expect_only("cat/stripe_mapping.json", "$.prices[0]", "expected an object, got a string");
	put("cat/stripe_mapping.json", "{'prices': {'price_1QaBcD': 'pro'}}");
	expect_only("cat/stripe_mapping.json", "$.prices", "expected an array, got an object");
	put("cat/stripe_mapping.json", "{'prices': [{'price': 'price_1QaBcD', 'plan': 'pro', "
		"'product': 'prod_1'}]}");
	expect_only("cat/stripe_mapping.json", "$.prices[0].product", "unknown key");
}

static void test_bad_several_at_once(void)
{
	struct result r;
	char msg[1024];

	write_base();
	put("trueup.json", "{'databse': 'x.db', 'catalogue': 'cat', 'timezone': 'Nowhere/City',\n"
		" " STRIPE(", 'api_base': 'http://example.com', 'rate_limit': {'global_per_second': 0}") "}");
	put("cat/plans.json", "{'features': {'events': {'type': 'boolean'}, 'seats': {'type': 'limit'}},"
		" 'plans': {'basic': {'features': {'events': 3, 'seats': -2}},"
		" 'pro': {'features': {'events': true}}}}");
	put("cat/stripe_mapping.json", "{'prices': [{'price': 'price_1QaBcD', 'plan': 'gold'},"
		" {'price': 'price_1QaBcD', 'plan': 'pro'}]}");
	load_tmp(&r);
	CHECK_INT(r.rc, EXIT_CONFIG);
	CHECK_INT(r.probs.count, 9);
	if (r.probs.count != 9)
		dump(&r);
	CHECK(has(&r, "trueup.json", "$.databse", "unknown key (did you mean \"database\"?)"));
	CHECK(has(&r, "trueup.json", "$.database", "missing required key"));
	CHECK(has(&r, "trueup.json", "$.timezone", "unknown time zone \"Nowhere/City\""));
	CHECK(has(&r, "trueup.json", "$.stripe.api_base",
		  "plain http is allowed only to 127.0.0.1, localhost or [::1], not \"example.com\""));
	CHECK(has(&r, "trueup.json", "$.stripe.rate_limit.global_per_second",
		  "must be greater than 0, got 0"));
	CHECK(has(&r, "cat/plans.json", "$.plans.basic.features.events",
		  "feature \"events\" is a boolean: expected true or false, got 3"));
	CHECK(has(&r, "cat/plans.json", "$.plans.basic.features.seats",
		  "feature \"seats\" is a limit: must not be negative, got -2"));
	CHECK(has(&r, "cat/plans.json", "$.plans.pro.features", "missing value for feature \"seats\""));
	CHECK(has(&r, "cat/stripe_mapping.json", "$.prices[0].plan",
		  "unknown plan \"gold\" (not in plans.json)"));
	/* entry 0 was bad, so entry 1 is the first mapping of that price */
	CHECK(!has(&r, "cat/stripe_mapping.json", "$.prices[1].price",
		   "price \"price_1QaBcD\" is already mapped at $.prices[0]"));
	/* problems come in file order; e.msg is the first plus the count */
	CHECK_STR(r.probs.items[0].path, "$.databse");
	snprintf(msg, sizeof msg, "%s: $.databse: unknown key (did you mean \"database\"?) "
		 "(and 8 more problems)", tmp_file("trueup.json"));
	CHECK_STR(r.e.msg, msg);
	config_problems_free(&r.probs);
}

static void test_problem_list_reuse(void)
{
	struct config_problems probs = { 0 };
	size_t i;

	for (i = 0; i < 100; i++)
		CHECK_INT(config_problem_add(&probs, "f.json", "$.x", "problem %zu", i), 0);
	CHECK_INT(probs.count, 100);
	CHECK_STR(probs.items[99].reason, "problem 99");
	CHECK_STR(probs.items[0].file, "f.json");
	config_problems_free(&probs);
	CHECK_INT(probs.count, 0);
	CHECK(probs.items == NULL);
	config_problems_free(NULL);
	config_free(NULL);
}

/* ---- main ---- */

/* Remove the files the cases write, then the directories. */
static void cleanup(void)
{
	static const char *const files[] = {
		"trueup.json", "cat/plans.json", "cat/pricing_page.json",
		"cat/stripe_mapping.json", "cat", NULL
	};
	size_t i;

	for (i = 0; files[i]; i++)
		remove(tmp_file(files[i]));
	if (rmdir(tmp) != 0)
		printf("cannot remove %s: %s\n", tmp, strerror(errno));
}

int main(void)
{
	const char *t = getenv("TRUEUP_TOP");

	if (t && *t)
		snprintf(top, sizeof top, "%s", t);
	else if (!getcwd(top, sizeof top))
		return 2;
	unsetenv("TRUEUP_STRIPE_API_BASE");
	unsetenv("TZDIR");
	snprintf(tmp, sizeof tmp, "/tmp/trueup-test-config.XXXXXX");
	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		return 2;
	}

	RUN(test_events_lms_catalogue);
	RUN(test_events_lms_mapping);
	RUN(test_shipped_settings);
	RUN(test_tiers_catalogue);
	RUN(test_minimal_config_defaults);
	RUN(test_full_config_values);
	RUN(test_empty_auto_apply);
	RUN(test_loopback_http_allowed);
	RUN(test_env_api_base);
	RUN(test_bad_missing_config_file);
	RUN(test_bad_invalid_json);
	RUN(test_bad_duplicate_key);
	RUN(test_bad_top_not_object);
	RUN(test_bad_unknown_key_typo);
	RUN(test_bad_missing_required);
	RUN(test_bad_wrong_types);
	RUN(test_bad_api_version);
	RUN(test_bad_timezone);
	RUN(test_bad_api_base);
	RUN(test_bad_rate_limits);
	RUN(test_bad_api_key_env);
	RUN(test_bad_catalogue_dir);
	RUN(test_bad_repair);
	RUN(test_bad_catalogue_file_missing);
	RUN(test_bad_plans_shape);
	RUN(test_bad_plans_unreadable_no_cascade);
	RUN(test_bad_config_is_directory);
	RUN(test_bad_negative_limit);
	RUN(test_bad_non_integer_limit);
	RUN(test_bad_boolean_given_number);
	RUN(test_bad_unknown_feature_in_plan);
	RUN(test_bad_plan_missing_feature);
	RUN(test_bad_plan_fields);
	RUN(test_bad_pricing_unknown_plan);
	RUN(test_bad_mapping_unknown_plan);
	RUN(test_bad_mapping_duplicates);
	RUN(test_bad_mapping_shape);
	RUN(test_bad_several_at_once);
	RUN(test_problem_list_reuse);

	cleanup();
	return harness_done();
}
