/*
 * config.h - trueup's configuration and plan catalogue, loaded and checked.
 *
 * config/trueup.json names the database, the Stripe connection, report
 * and job directories, the default timezone, repair policies and the
 * catalogue directory.  Relative paths in it are relative to the directory
 * of the config file (so cron can run trueup from anywhere).
 *
 * The catalogue directory holds three files (see config/README.md):
 *   plans.json         features (code -> type) and plans (id -> feature
 *                      values): the enforcement registry
 *   pricing_page.json  what the public pricing page promises, same keys
 *   stripe_mapping.json  Stripe price id / lookup_key -> plan or course
 *                      program
 * A feature value is a boolean, a non-negative integer limit, or the string
 * "unlimited".
 *
 * Loading collects every problem found (file, JSON path, reason) instead of
 * stopping at the first, so `trueup config check` can list them all.
 */
#ifndef TRUEUP_CONFIG_H
#define TRUEUP_CONFIG_H

#include <stddef.h>

#include "err.h"

/* One problem found while loading: where and why. */
struct config_problem {
	char file[256];   /* path of the file as given/resolved */
	char path[256];   /* JSON path, e.g. "$.plans.lms.features.courses" ("" for the file) */
	char reason[256]; /* lowercase, no trailing full stop */
};

struct config_problems {
	struct config_problem *items;
	size_t count, cap;
};

enum feature_type { FEATURE_BOOLEAN, FEATURE_LIMIT };

/* A feature value: FV_UNSET where a plan says nothing about the feature. */
enum fv_kind { FV_UNSET = 0, FV_BOOL, FV_LIMIT, FV_UNLIMITED };
struct feature_value {
	enum fv_kind kind;
	long long n;      /* FV_BOOL: 0/1; FV_LIMIT: the limit (>= 0) */
};

struct feature {
	char *code;
	enum feature_type type;
	char *label;      /* may be NULL */
};

struct plan {
	char *id;
	char *name;       /* display name; may be NULL */
	char *role;       /* the account role the plan gives ("organizer", "course_manager", ...); may be NULL */
	int free;         /* 1 for a free plan that needs no payment (e.g. attendee) */
	struct feature_value *enforced;  /* [catalogue.nfeatures], from plans.json */
	struct feature_value *promised;  /* [catalogue.nfeatures], from pricing_page.json */
};

enum mapping_target { MAP_PLAN, MAP_COURSE_PROGRAM };
struct price_mapping {
	char *price_id;     /* Stripe price id, or NULL */
	char *lookup_key;   /* Stripe price lookup_key, or NULL (exactly one is set) */
	enum mapping_target target;
	char *value;        /* plan id, or course program code */
};

struct catalogue {
	char *dir;
	struct feature *features;
	size_t nfeatures;
	struct plan *plans;
	size_t nplans;
	struct price_mapping *mappings;
	size_t nmappings;
};

struct repair_policy {
	int past_due_grace_days;         /* default 7 */
	char **auto_rules;               /* rule codes repair --apply may apply; NULL-terminated */
	int release_overallocated_seats; /* E4: release newest assignments (default 0) */
};

struct stripe_config {
	char *api_base;             /* default "https://api.stripe.com" */
	char *api_version;          /* pinned Stripe-Version */
	char *api_key_env;          /* default "STRIPE_API_KEY" */
	char *api_key_file;         /* NULL unless set; resolved path */
	int rate_global_per_sec;    /* default 100 */
	int rate_endpoint_per_sec;  /* default 25 */
	int connect_timeout_sec;    /* default 10 */
	int request_timeout_sec;    /* default 60 */
	int max_retries;            /* default 8 */
	int concurrency;            /* requests in flight, default 8 */
};

struct config {
	char *path;             /* the config file */
	char *dir;              /* its directory */
	char *db_path;          /* resolved */
	char *timezone;         /* IANA name, default "UTC" */
	char *report_out_dir;   /* resolved */
	char *reports_dir;      /* report definitions, resolved */
	char *report_timezone;  /* reports.timezone; NULL: the top-level timezone */
	int report_period_day;  /* reports.period: 0 "month" (default), 1 "day" */
	char *jobs_dir;         /* resolved */
	struct stripe_config stripe;
	struct repair_policy repair;
	struct catalogue cat;
};

/*
 * Load the config file at path and the catalogue it names, checking
 * everything.  Every problem found is appended to probs (which the caller
 * initialises to zero and frees with config_problems_free).  Returns 0 and
 * sets *out (free with config_free) when there is no problem; otherwise
 * returns EXIT_CONFIG (EXIT_NOINPUT if the config file itself cannot be
 * opened) with *out NULL and e holding the first problem as one line
 * "file: path: reason", followed by " (and N more problems)" when there
 * are several.  EXIT_SOFTWARE if memory ran out.
 *
 * The environment variable TRUEUP_STRIPE_API_BASE, when set and
 * non-empty, replaces stripe.api_base (checked by the same rule: https, or
 * plain http to a loopback host only).
 */
int config_load(const char *path, struct config **out, struct config_problems *probs,
		struct err *e);

/* Release cfg and everything it owns.  cfg may be NULL. */
void config_free(struct config *cfg);

/* Release the items of probs and zero it (it can be reused).  probs may be NULL. */
void config_problems_free(struct config_problems *probs);

/*
 * Append one problem (file, JSON path, printf-style reason; each truncated
 * to its field) to probs, for checkers of other files (jobs, reports) that
 * report through the same list.  Returns 0, or -1 when memory ran out
 * (probs is left as it was).
 */
int config_problem_add(struct config_problems *probs, const char *file, const char *path,
		       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Look-ups; NULL or -1 when absent. */
const struct plan *config_plan(const struct catalogue *cat, const char *id);
int config_feature_index(const struct catalogue *cat, const char *code);
/* The mapping for a Stripe price: by price id first, then by lookup_key. */
const struct price_mapping *config_map_price(const struct catalogue *cat,
					     const char *price_id, const char *lookup_key);

#endif
