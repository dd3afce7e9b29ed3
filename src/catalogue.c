/*
 * catalogue.c - the plan catalogue: plans.json, pricing_page.json and
 * stripe_mapping.json of one catalogue directory, loaded and cross-checked;
 * plus the look-ups the rest of trueup uses (config_plan,
 * config_feature_index, config_map_price).  See config.h for the types and
 * config/README.md for the file formats.
 *
 * Rules checked here, besides types and unknown keys:
 *   - feature codes and plan ids are 1-64 of [A-Za-z0-9_-];
 *   - every plan in plans.json gives every feature a value (enforcement
 *     must be total: "no value" is never the same as false);
 *   - a boolean feature takes true/false; a limit takes a non-negative
 *     integer or "unlimited";
 *   - the pricing page names only known plans and features, and may leave
 *     a feature out (the page says nothing about it: FV_UNSET);
 *   - each mapping has exactly one of price / lookup_key and exactly one of
 *     plan / course_program; price ids look like "price_..."; no price id
 *     or lookup_key is mapped twice; plans exist (course program codes
 *     live in platform data, so only their shape is checked).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_json.h"

struct cat_loader {
	struct catalogue *cat;
	struct config_problems *probs;
	unsigned char *feature_ok;  /* [nfeatures]: type is valid */
	int features_known;         /* the feature list could be read */
	int plans_known;            /* the plan list could be read */
	int nomem;
};

/* "dir/name" into buf; returns buf. */
static const char *file_in(char *buf, size_t bufsz, const char *dir, const char *name)
{
	snprintf(buf, bufsz, "%s/%s", dir, name);
	return buf;
}

/* ---- plans.json: features ---- */

static int add_feature(struct cat_loader *C, const char *code, enum feature_type type,
		       const char *label, int ok)
{
	struct catalogue *cat = C->cat;
	struct feature *nf;
	unsigned char *nok;
	struct feature *ft;

	nf = realloc(cat->features, (cat->nfeatures + 1) * sizeof *nf);
	if (!nf)
		return -1;
	cat->features = nf;
	nok = realloc(C->feature_ok, cat->nfeatures + 1);
	if (!nok)
		return -1;
	C->feature_ok = nok;
	ft = &cat->features[cat->nfeatures];
	memset(ft, 0, sizeof *ft);
	ft->type = type;
	ft->code = strdup(code);
	ft->label = label ? strdup(label) : NULL;
	cat->nfeatures++;
	C->feature_ok[cat->nfeatures - 1] = (unsigned char)ok;
	if (!ft->code || (label && !ft->label))
		return -1;
	return 0;
}

static void load_features(struct cat_loader *C, struct cfg_file *f, json_t *features)
{
	static const struct cfg_key keys[] = { { "type", 1 }, { "label", 0 }, { NULL, 0 } };
	char path[CFG_PATH_MAX], tpath[CFG_PATH_MAX];
	const char *code, *label, *type;
	json_t *def;

	if (!cfg_expect_object(f, features, "$.features"))
		return;
	C->features_known = 1;
	if (json_object_size(features) == 0)
		cfg_problem(f, "$.features", "no features defined");
	json_object_foreach(features, code, def) {
		enum feature_type t = FEATURE_BOOLEAN;
		int ok = 0;

		cfg_path_key(path, sizeof path, "$.features", code);
		if (!cfg_is_ident(code)) {
			cfg_problem(f, path, "invalid feature code (use 1-64 letters, digits, "
				    "\"_\" or \"-\")");
			continue;
		}
		label = NULL;
		if (cfg_expect_object(f, def, path)) {
			cfg_check_keys(f, def, path, keys);
			cfg_get_string(f, def, path, "label", &label);
			if (cfg_get_string(f, def, path, "type", &type) == 1) {
				if (strcmp(type, "boolean") == 0) {
					ok = 1;
				} else if (strcmp(type, "limit") == 0) {
					t = FEATURE_LIMIT;
					ok = 1;
				} else {
					cfg_path_key(tpath, sizeof tpath, path, "type");
					cfg_problem(f, tpath, "unknown feature type \"%.40s\" "
						    "(expected \"boolean\" or \"limit\")", type);
				}
			}
		}
		if (add_feature(C, code, t, label, ok) != 0) {
			C->nomem = 1;
			return;
		}
	}
}

/* ---- feature values (plans.json and pricing_page.json) ---- */

/*
 * Parse the value v of feature ft (at path) into *out.  Returns 1, or 0
 * after recording a problem.
 */
static int parse_value(struct cfg_file *f, const char *path, const struct feature *ft,
		       json_t *v, struct feature_value *out)
{
	char what[64];

	cfg_describe(v, what, sizeof what);
	if (ft->type == FEATURE_BOOLEAN) {
		if (!json_is_boolean(v)) {
			cfg_problem(f, path, "feature \"%s\" is a boolean: expected true or false, "
				    "got %s", ft->code, what);
			return 0;
		}
		out->kind = FV_BOOL;
		out->n = json_is_true(v);
		return 1;
	}
	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0) {
			cfg_problem(f, path, "feature \"%s\" is a limit: must not be negative, "
				    "got %s", ft->code, what);
			return 0;
		}
		out->kind = FV_LIMIT;
		out->n = json_integer_value(v);
		return 1;
	}
	if (json_is_string(v) && strcmp(json_string_value(v), "unlimited") == 0) {
		out->kind = FV_UNLIMITED;
		out->n = 0;
		return 1;
	}
	if (json_is_real(v))
		cfg_problem(f, path, "feature \"%s\" is a limit: must be a whole number, got %s",
			    ft->code, what);
	else if (json_is_string(v))
		cfg_problem(f, path, "feature \"%s\" is a limit: expected a non-negative integer "
			    "or \"unlimited\", got \"%.40s\"", ft->code, json_string_value(v));
	else
		cfg_problem(f, path, "feature \"%s\" is a limit: expected a non-negative integer "
			    "or \"unlimited\", got %s", ft->code, what);
	return 0;
}

/* The codes of the catalogue's features, for "did you mean" (caller frees). */
static const char **feature_codes(const struct catalogue *cat)
{
	const char **v = calloc(cat->nfeatures + 1, sizeof *v);
	size_t i;

	if (v)
		for (i = 0; i < cat->nfeatures; i++)
			v[i] = cat->features[i].code;
	return v;
}

static const char **plan_ids(const struct catalogue *cat)
{
	const char **v = calloc(cat->nplans + 1, sizeof *v);
	size_t i;

	if (v)
		for (i = 0; i < cat->nplans; i++)
			v[i] = cat->plans[i].id;
	return v;
}

/*
 * Read the feature map obj (at path) into vals [nfeatures].  When
 * require_all, a feature left out is a problem.
 */
static void load_values(struct cat_loader *C, struct cfg_file *f, json_t *obj,
			const char *path, struct feature_value *vals, int require_all)
{
	const struct catalogue *cat = C->cat;
	char sub[CFG_PATH_MAX], hint[96];
	const char **codes;
	const char *code;
	json_t *v;
	size_t i;

	if (!cfg_expect_object(f, obj, path) || !C->features_known)
		return;
	codes = feature_codes(cat);
	if (!codes) {
		C->nomem = 1;
		return;
	}
	json_object_foreach(obj, code, v) {
		int idx = config_feature_index(cat, code);

		cfg_path_key(sub, sizeof sub, path, code);
		if (idx < 0) {
			cfg_did_you_mean(hint, sizeof hint, code, codes, cat->nfeatures);
			cfg_problem(f, sub, "unknown feature \"%.60s\"%s", code, hint);
			continue;
		}
		if (!C->feature_ok[idx])
			continue;
		parse_value(f, sub, &cat->features[idx], v, &vals[idx]);
	}
	free(codes);
	if (!require_all)
		return;
	for (i = 0; i < cat->nfeatures; i++)
		if (!json_object_get(obj, cat->features[i].code))
			cfg_problem(f, path, "missing value for feature \"%s\"",
				    cat->features[i].code);
}

/* ---- plans.json: plans ---- */

static struct plan *add_plan(struct cat_loader *C, const char *id)
{
	struct catalogue *cat = C->cat;
	size_t nf = cat->nfeatures ? cat->nfeatures : 1;
	struct plan *np, *p;

	np = realloc(cat->plans, (cat->nplans + 1) * sizeof *np);
	if (!np)
		return NULL;
	cat->plans = np;
	p = &cat->plans[cat->nplans++];
	memset(p, 0, sizeof *p);
	p->id = strdup(id);
	p->enforced = calloc(nf, sizeof *p->enforced);
	p->promised = calloc(nf, sizeof *p->promised);
	if (!p->id || !p->enforced || !p->promised)
		return NULL;
	return p;
}

static void load_plans(struct cat_loader *C, struct cfg_file *f, json_t *plans)
{
	static const struct cfg_key keys[] = {
		{ "name", 0 }, { "role", 0 }, { "free", 0 }, { "features", 1 }, { NULL, 0 }
	};
	char path[CFG_PATH_MAX], fpath[CFG_PATH_MAX];
	const char *id, *s;
	struct plan *p;
	json_t *def, *fv;
	int b;

	if (!cfg_expect_object(f, plans, "$.plans"))
		return;
	C->plans_known = 1;
	if (json_object_size(plans) == 0)
		cfg_problem(f, "$.plans", "no plans defined");
	json_object_foreach(plans, id, def) {
		cfg_path_key(path, sizeof path, "$.plans", id);
		if (!cfg_is_ident(id)) {
			cfg_problem(f, path, "invalid plan id (use 1-64 letters, digits, "
				    "\"_\" or \"-\")");
			continue;
		}
		p = add_plan(C, id);
		if (!p) {
			C->nomem = 1;
			return;
		}
		if (!cfg_expect_object(f, def, path))
			continue;
		cfg_check_keys(f, def, path, keys);
		if (cfg_get_string(f, def, path, "name", &s) == 1 && !(p->name = strdup(s)))
			C->nomem = 1;
		if (cfg_get_string(f, def, path, "role", &s) == 1 && !(p->role = strdup(s)))
			C->nomem = 1;
		if (cfg_get_bool(f, def, path, "free", &b) == 1)
			p->free = b;
		fv = json_object_get(def, "features");
		cfg_path_key(fpath, sizeof fpath, path, "features");
		if (fv)
			load_values(C, f, fv, fpath, p->enforced, 1);
	}
}

static void load_plans_file(struct cat_loader *C, const char *dir)
{
	static const struct cfg_key keys[] = {
		{ "features", 1 }, { "plans", 1 }, { NULL, 0 }
	};
	char file[512];
	struct cfg_file f = { C->probs, file_in(file, sizeof file, dir, "plans.json"), 0 };
	json_t *root = cfg_load_json(&f, NULL), *v;

	if (root && cfg_expect_object(&f, root, "$")) {
		cfg_check_keys(&f, root, "$", keys);
		if ((v = json_object_get(root, "features")) != NULL)
			load_features(C, &f, v);
		if (!C->nomem && (v = json_object_get(root, "plans")) != NULL)
			load_plans(C, &f, v);
	}
	json_decref(root);
	C->nomem |= f.nomem;
}

/* ---- pricing_page.json ---- */

static void load_pricing_file(struct cat_loader *C, const char *dir)
{
	static const struct cfg_key keys[] = { { "url", 0 }, { "plans", 1 }, { NULL, 0 } };
	static const struct cfg_key plan_keys[] = { { "features", 1 }, { NULL, 0 } };
	char file[512], path[CFG_PATH_MAX], fpath[CFG_PATH_MAX], hint[96];
	struct cfg_file f = { C->probs, file_in(file, sizeof file, dir, "pricing_page.json"), 0 };
	json_t *root = cfg_load_json(&f, NULL), *plans, *def, *fv;
	struct feature_value *scratch = NULL;
	const char **ids = NULL;
	const char *id, *s;

	if (!root || !cfg_expect_object(&f, root, "$"))
		goto out;
	cfg_check_keys(&f, root, "$", keys);
	cfg_get_string(&f, root, "$", "url", &s);
	plans = json_object_get(root, "plans");
	if (!plans || !cfg_expect_object(&f, plans, "$.plans"))
		goto out;
	ids = plan_ids(C->cat);
	scratch = calloc(C->cat->nfeatures + 1, sizeof *scratch);
	if (!ids || !scratch) {
		C->nomem = 1;
		goto out;
	}
	json_object_foreach(plans, id, def) {
		const struct plan *p = config_plan(C->cat, id);
		struct feature_value *vals = p ? p->promised : scratch;

		cfg_path_key(path, sizeof path, "$.plans", id);
		if (!p && C->plans_known) {
			cfg_did_you_mean(hint, sizeof hint, id, ids, C->cat->nplans);
			cfg_problem(&f, path, "unknown plan \"%.60s\" (not in plans.json)%s",
				    id, hint);
		}
		if (!cfg_expect_object(&f, def, path))
			continue;
		cfg_check_keys(&f, def, path, plan_keys);
		fv = json_object_get(def, "features");
		cfg_path_key(fpath, sizeof fpath, path, "features");
		if (fv)
			load_values(C, &f, fv, fpath, vals, 0);
	}
out:
	free(scratch);
	free(ids);
	json_decref(root);
	C->nomem |= f.nomem;
}

/* ---- stripe_mapping.json ---- */

static int price_id_ok(const char *s)
{
	size_t n = strlen(s);

	if (strncmp(s, "price_", 6) != 0 || n == 6 || n > 255)
		return 0;
	for (s += 6; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}

static int lookup_key_ok(const char *s)
{
	size_t n = strlen(s);

	if (n > 200)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

/* Index of an earlier mapping with the same price id (or lookup_key), or -1. */
static long find_dup(const struct catalogue *cat, const char *price, const char *lookup)
{
	size_t i;

	for (i = 0; i < cat->nmappings; i++) {
		const struct price_mapping *m = &cat->mappings[i];

		if (price && m->price_id && strcmp(m->price_id, price) == 0)
			return (long)i;
		if (lookup && m->lookup_key && strcmp(m->lookup_key, lookup) == 0)
			return (long)i;
	}
	return -1;
}

static int add_mapping(struct catalogue *cat, const char *price, const char *lookup,
		       enum mapping_target target, const char *value)
{
	struct price_mapping *nm, *m;

	nm = realloc(cat->mappings, (cat->nmappings + 1) * sizeof *nm);
	if (!nm)
		return -1;
	cat->mappings = nm;
	m = &cat->mappings[cat->nmappings++];
	memset(m, 0, sizeof *m);
	m->target = target;
	m->price_id = price ? strdup(price) : NULL;
	m->lookup_key = lookup ? strdup(lookup) : NULL;
	m->value = strdup(value);
	if ((price && !m->price_id) || (lookup && !m->lookup_key) || !m->value)
		return -1;
	return 0;
}

/*
 * Check one mapping entry.  Entries are kept in the order of the file; the
 * i-th stored mapping is not necessarily entry i, so duplicates name the
 * earlier entry by the index saved in entry_of.
 */
static void load_mapping(struct cat_loader *C, struct cfg_file *f, json_t *ent, size_t i,
			 const char **ids, size_t *entry_of)
{
	static const struct cfg_key keys[] = {
		{ "price", 0 }, { "lookup_key", 0 }, { "plan", 0 }, { "course_program", 0 },
		{ NULL, 0 }
	};
	char path[CFG_PATH_MAX], sub[CFG_PATH_MAX], hint[96];
	const char *price = NULL, *lookup = NULL, *plan = NULL, *program = NULL;
	int rp, rl, rpl, rc, ok = 1;
	long dup;

	cfg_path_index(path, sizeof path, "$.prices", i);
	if (!cfg_expect_object(f, ent, path))
		return;
	cfg_check_keys(f, ent, path, keys);
	rp = cfg_get_string(f, ent, path, "price", &price);
	rl = cfg_get_string(f, ent, path, "lookup_key", &lookup);
	rpl = cfg_get_string(f, ent, path, "plan", &plan);
	rc = cfg_get_string(f, ent, path, "course_program", &program);
	if (rp < 0 || rl < 0 || rpl < 0 || rc < 0)
		ok = 0;
	if (json_object_get(ent, "price") && json_object_get(ent, "lookup_key")) {
		cfg_problem(f, path, "give either \"price\" or \"lookup_key\", not both");
		ok = 0;
	} else if (!json_object_get(ent, "price") && !json_object_get(ent, "lookup_key")) {
		cfg_problem(f, path, "missing \"price\" or \"lookup_key\"");
		ok = 0;
	}
	if (json_object_get(ent, "plan") && json_object_get(ent, "course_program")) {
		cfg_problem(f, path, "give either \"plan\" or \"course_program\", not both");
		ok = 0;
	} else if (!json_object_get(ent, "plan") && !json_object_get(ent, "course_program")) {
		cfg_problem(f, path, "missing \"plan\" or \"course_program\"");
		ok = 0;
	}
	if (rp == 1 && !price_id_ok(price)) {
		cfg_path_key(sub, sizeof sub, path, "price");
		cfg_problem(f, sub, "\"%.60s\" is not a Stripe price id (price_ followed by "
			    "letters and digits)", price);
		ok = 0;
	}
	if (rl == 1 && !lookup_key_ok(lookup)) {
		cfg_path_key(sub, sizeof sub, path, "lookup_key");
		cfg_problem(f, sub, "not a Stripe lookup_key (at most 200 characters, "
			    "no control characters)");
		ok = 0;
	}
	if (rpl == 1 && !config_plan(C->cat, plan) && C->plans_known) {
		cfg_path_key(sub, sizeof sub, path, "plan");
		cfg_did_you_mean(hint, sizeof hint, plan, ids, C->cat->nplans);
		cfg_problem(f, sub, "unknown plan \"%.60s\" (not in plans.json)%s", plan, hint);
		ok = 0;
	}
	if (rc == 1 && !cfg_is_ident(program)) {
		cfg_path_key(sub, sizeof sub, path, "course_program");
		cfg_problem(f, sub, "invalid course program code (use 1-64 letters, digits, "
			    "\"_\" or \"-\")");
		ok = 0;
	}
	dup = find_dup(C->cat, rp == 1 ? price : NULL, rl == 1 ? lookup : NULL);
	if (dup >= 0) {
		cfg_path_key(sub, sizeof sub, path, rp == 1 ? "price" : "lookup_key");
		cfg_problem(f, sub, "%s \"%.60s\" is already mapped at $.prices[%zu]",
			    rp == 1 ? "price" : "lookup_key", rp == 1 ? price : lookup,
			    entry_of[dup]);
		ok = 0;
	}
	if (!ok || !(rp == 1 || rl == 1) || !(rpl == 1 || rc == 1))
		return;
	entry_of[C->cat->nmappings] = i;
	if (add_mapping(C->cat, rp == 1 ? price : NULL, rl == 1 ? lookup : NULL,
			rpl == 1 ? MAP_PLAN : MAP_COURSE_PROGRAM, rpl == 1 ? plan : program) != 0)
		C->nomem = 1;
}

static void load_mapping_file(struct cat_loader *C, const char *dir)
{
	static const struct cfg_key keys[] = { { "prices", 1 }, { NULL, 0 } };
	char file[512], what[64];
	struct cfg_file f = { C->probs, file_in(file, sizeof file, dir, "stripe_mapping.json"),
			      0 };
	json_t *root = cfg_load_json(&f, NULL), *prices, *ent;
	const char **ids = NULL;
	size_t *entry_of = NULL, i;

	if (!root || !cfg_expect_object(&f, root, "$"))
		goto out;
	cfg_check_keys(&f, root, "$", keys);
	prices = json_object_get(root, "prices");
	if (!prices)
		goto out;
	if (!json_is_array(prices)) {
		cfg_describe(prices, what, sizeof what);
		cfg_problem(&f, "$.prices", "expected an array, got %s", what);
		goto out;
	}
	ids = plan_ids(C->cat);
	entry_of = calloc(json_array_size(prices) + 1, sizeof *entry_of);
	if (!ids || !entry_of) {
		C->nomem = 1;
		goto out;
	}
	json_array_foreach(prices, i, ent) {
		load_mapping(C, &f, ent, i, ids, entry_of);
		if (C->nomem)
			break;
	}
out:
	free(entry_of);
	free(ids);
	json_decref(root);
	C->nomem |= f.nomem;
}

/* ---- public ---- */

int catalogue_load(struct catalogue *cat, const char *dir, struct config_problems *probs)
{
	struct cat_loader C;

	memset(&C, 0, sizeof C);
	C.cat = cat;
	C.probs = probs;
	if (!cat->dir && !(cat->dir = strdup(dir)))
		return -1;
	load_plans_file(&C, dir);
	if (!C.nomem)
		load_pricing_file(&C, dir);
	if (!C.nomem)
		load_mapping_file(&C, dir);
	free(C.feature_ok);
	return C.nomem ? -1 : 0;
}

void catalogue_release(struct catalogue *cat)
{
	size_t i;

	if (!cat)
		return;
	for (i = 0; i < cat->nfeatures; i++) {
		free(cat->features[i].code);
		free(cat->features[i].label);
	}
	free(cat->features);
	for (i = 0; i < cat->nplans; i++) {
		free(cat->plans[i].id);
		free(cat->plans[i].name);
		free(cat->plans[i].role);
		free(cat->plans[i].enforced);
		free(cat->plans[i].promised);
	}
	free(cat->plans);
	for (i = 0; i < cat->nmappings; i++) {
		free(cat->mappings[i].price_id);
		free(cat->mappings[i].lookup_key);
		free(cat->mappings[i].value);
	}
	free(cat->mappings);
	free(cat->dir);
	memset(cat, 0, sizeof *cat);
}

const struct plan *config_plan(const struct catalogue *cat, const char *id)
{
	size_t i;

	if (!cat || !id)
		return NULL;
	for (i = 0; i < cat->nplans; i++)
		if (cat->plans[i].id && strcmp(cat->plans[i].id, id) == 0)
			return &cat->plans[i];
	return NULL;
}

int config_feature_index(const struct catalogue *cat, const char *code)
{
	size_t i;

	if (!cat || !code)
		return -1;
	for (i = 0; i < cat->nfeatures; i++)
		if (cat->features[i].code && strcmp(cat->features[i].code, code) == 0)
			return (int)i;
	return -1;
}

const struct price_mapping *config_map_price(const struct catalogue *cat,
					     const char *price_id, const char *lookup_key)
{
	size_t i;

	if (!cat)
		return NULL;
	if (price_id && *price_id)
		for (i = 0; i < cat->nmappings; i++)
			if (cat->mappings[i].price_id &&
			    strcmp(cat->mappings[i].price_id, price_id) == 0)
				return &cat->mappings[i];
	if (lookup_key && *lookup_key)
		for (i = 0; i < cat->nmappings; i++)
			if (cat->mappings[i].lookup_key &&
			    strcmp(cat->mappings[i].lookup_key, lookup_key) == 0)
				return &cat->mappings[i];
	return NULL;
}
