/*
 * config_json.h - the JSON checking helpers behind config.c and catalogue.c.
 *
 * Private to the config module (config.c, catalogue.c, config_json.c) and
 * the checkers of files it points to (jobs.c); nothing else should include
 * it.  A struct cfg_file names the file being checked and the problem list
 * its problems go to; the helpers read one key of an object, check its
 * type and range, and record a problem
 * ("file: $.json.path: reason") when it is wrong, so a caller can check a
 * whole file and report everything at once.
 *
 * JSON paths are written "$.stripe.rate_limit.global_per_second",
 * "$.prices[3].price"; a key that is not a plain word is written
 * $["odd key"].  Keys starting with "_" are comments and are ignored in
 * objects with a fixed set of keys.
 */
#ifndef TRUEUP_CONFIG_JSON_H
#define TRUEUP_CONFIG_JSON_H

#include <stddef.h>

#include <jansson.h>

#include "config.h"

#define CFG_PATH_MAX 256

struct cfg_file {
	struct config_problems *probs;
	const char *file;   /* as it appears in problems */
	int nomem;          /* set when a problem could not be recorded */
};

/* One key an object may hold; lists end with { NULL, 0 }. */
struct cfg_key {
	const char *name;
	int required;
};

/* Append a problem at JSON path `path` ("" for the file as a whole). */
void cfg_problem(struct cfg_file *f, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* dst = parent + ".key" (or ["key"]), and parent + "[i]"; truncated to dstsz. */
void cfg_path_key(char *dst, size_t dstsz, const char *parent, const char *key);
void cfg_path_index(char *dst, size_t dstsz, const char *parent, size_t i);

/*
 * Load f->file with duplicate keys rejected.  Returns the new JSON value
 * (caller decrefs) or NULL after recording a problem; *cant_open (may be
 * NULL) is set to 1 when the file could not be opened or read at all.
 */
json_t *cfg_load_json(struct cfg_file *f, int *cant_open);

/* "an object", "a string", "-3", "true", ...: what a value is, for messages. */
void cfg_describe(const json_t *v, char *buf, size_t bufsz);

/* 1 if v is an object; else records "expected an object, got ..." and returns 0. */
int cfg_expect_object(struct cfg_file *f, const json_t *v, const char *path);

/*
 * Check the keys of obj against keys: records an unknown key (with a
 * "did you mean" when one is close) and each missing required key.
 * Keys that start with "_" are comments and always allowed.
 */
void cfg_check_keys(struct cfg_file *f, json_t *obj, const char *path,
		    const struct cfg_key *keys);

/*
 * Typed getters for obj[key] (obj's path is `path`).  Each returns 1 and
 * sets *out when the key is present and valid, 0 when it is absent (out
 * untouched), -1 after recording a problem.  Strings must be non-empty;
 * *out points into obj (copy it before obj is released).
 */
int cfg_get_string(struct cfg_file *f, json_t *obj, const char *path, const char *key,
		   const char **out);
int cfg_get_int(struct cfg_file *f, json_t *obj, const char *path, const char *key,
		long long min, long long max, long long *out);
int cfg_get_bool(struct cfg_file *f, json_t *obj, const char *path, const char *key,
		 int *out);

/*
 * Write ` (did you mean "x"?)` into buf when one of the n candidates is
 * close to word (edit distance, ignoring case), else "".
 */
void cfg_did_you_mean(char *buf, size_t bufsz, const char *word,
		      const char *const *cands, size_t n);

/* 1 if s is 1..64 characters of [A-Za-z0-9_-] (plan ids, feature codes). */
int cfg_is_ident(const char *s);

/*
 * Load the catalogue in directory dir (plans.json, pricing_page.json,
 * stripe_mapping.json) into cat, recording every problem in probs.
 * Returns 0, or -1 when memory ran out (problems may be missing then).
 * cat is filled as far as possible either way; release it with
 * catalogue_release() (which leaves it zeroed).
 */
int catalogue_load(struct catalogue *cat, const char *dir, struct config_problems *probs);
void catalogue_release(struct catalogue *cat);

#endif
