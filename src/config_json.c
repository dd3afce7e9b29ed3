/*
 * config_json.c - JSON checking helpers of the config module; see
 * config_json.h.  They turn "this key is missing / has the wrong type /
 * is out of range / is a typo" into one problem each, with the JSON path.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "config_json.h"

void cfg_problem(struct cfg_file *f, const char *path, const char *fmt, ...)
{
	char reason[sizeof ((struct config_problem *)0)->reason];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	if (config_problem_add(f->probs, f->file, path, "%s", reason) != 0)
		f->nomem = 1;
}

static int is_word(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return 0;
	return 1;
}

void cfg_path_key(char *dst, size_t dstsz, const char *parent, const char *key)
{
	char esc[128];
	size_t o = 0;
	const char *k;

	if (is_word(key)) {
		snprintf(dst, dstsz, "%s.%s", parent, key);
		return;
	}
	for (k = key; *k && o + 3 < sizeof esc; k++) {
		unsigned char c = (unsigned char)*k;

		if (c == '"' || c == '\\') {
			esc[o++] = '\\';
			esc[o++] = (char)c;
		} else if (c < 0x20) {
			esc[o++] = '?';
		} else {
			esc[o++] = (char)c;
		}
	}
	esc[o] = '\0';
	snprintf(dst, dstsz, "%s[\"%s\"]", parent, esc);
}

void cfg_path_index(char *dst, size_t dstsz, const char *parent, size_t i)
{
	snprintf(dst, dstsz, "%s[%zu]", parent, i);
}

json_t *cfg_load_json(struct cfg_file *f, int *cant_open)
{
	json_error_t jerr;
	struct stat st;
	json_t *root;
	FILE *fp;

	if (cant_open)
		*cant_open = 0;
	fp = fopen(f->file, "r");
	if (!fp) {
		cfg_problem(f, "", "cannot open: %s", strerror(errno));
		if (cant_open)
			*cant_open = 1;
		return NULL;
	}
	if (fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(fp);
		cfg_problem(f, "", "cannot open: %s", strerror(EISDIR));
		if (cant_open)
			*cant_open = 1;
		return NULL;
	}
	root = json_loadf(fp, JSON_REJECT_DUPLICATES, &jerr);
	if (!root && ferror(fp)) {
		cfg_problem(f, "", "cannot read: %s", strerror(errno ? errno : EIO));
		if (cant_open)
			*cant_open = 1;
		fclose(fp);
		return NULL;
	}
	fclose(fp);
	if (!root)
		cfg_problem(f, "", "invalid JSON at line %d, column %d: %s",
			    jerr.line, jerr.column, jerr.text);
	return root;
}

void cfg_describe(const json_t *v, char *buf, size_t bufsz)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		snprintf(buf, bufsz, "an object");
		break;
	case JSON_ARRAY:
		snprintf(buf, bufsz, "an array");
		break;
	case JSON_STRING:
		snprintf(buf, bufsz, "a string");
		break;
	case JSON_INTEGER:
		snprintf(buf, bufsz, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		snprintf(buf, bufsz, "%.17g", json_real_value(v));
		break;
	case JSON_TRUE:
		snprintf(buf, bufsz, "true");
		break;
	case JSON_FALSE:
		snprintf(buf, bufsz, "false");
		break;
	default:
		snprintf(buf, bufsz, "null");
		break;
	}
}

int cfg_expect_object(struct cfg_file *f, const json_t *v, const char *path)
{
	char what[64];

	if (json_is_object(v))
		return 1;
	cfg_describe(v, what, sizeof what);
	cfg_problem(f, path, "expected an object, got %s", what);
	return 0;
}

/*
 * Edit distance of a and b ignoring case, counting a swap of two adjacent
 * letters as one edit (optimal string alignment); capped at 9.
 */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t d[65][65];

	if (la > 64 || lb > 64)
		return 9;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			int ai = tolower((unsigned char)a[i - 1]);
			int bj = tolower((unsigned char)b[j - 1]);
			size_t best = d[i - 1][j - 1] + (ai != bj);

			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && ai == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == bj && d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[la][lb] > 9 ? 9 : d[la][lb];
}

void cfg_did_you_mean(char *buf, size_t bufsz, const char *word,
		      const char *const *cands, size_t n)
{
	size_t i, d, best_d = 9, len = strlen(word);
	const char *best = NULL;

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		d = edit_distance(word, cands[i]);
		if (d < best_d) {
			best_d = d;
			best = cands[i];
		}
	}
	/* close enough: up to 2 edits, and fewer than a third of the word */
	if (best && best_d <= 2 && best_d * 3 < len + 1)
		snprintf(buf, bufsz, " (did you mean \"%s\"?)", best);
}

void cfg_check_keys(struct cfg_file *f, json_t *obj, const char *path,
		    const struct cfg_key *keys)
{
	const char *names[32];
	char sub[CFG_PATH_MAX], hint[96];
	const char *key;
	size_t n = 0, i;
	json_t *v;

	for (i = 0; keys[i].name && n < sizeof names / sizeof names[0]; i++)
		names[n++] = keys[i].name;
	json_object_foreach(obj, key, v) {
		if (key[0] == '_')
			continue;
		for (i = 0; i < n && strcmp(names[i], key) != 0; i++)
			;
		if (i < n)
			continue;
		cfg_path_key(sub, sizeof sub, path, key);
		cfg_did_you_mean(hint, sizeof hint, key, names, n);
		cfg_problem(f, sub, "unknown key%s", hint);
	}
	for (i = 0; keys[i].name; i++) {
		if (!keys[i].required || json_object_get(obj, keys[i].name))
			continue;
		cfg_path_key(sub, sizeof sub, path, keys[i].name);
		cfg_problem(f, sub, "missing required key");
	}
}

int cfg_get_string(struct cfg_file *f, json_t *obj, const char *path, const char *key,
		   const char **out)
{
	json_t *v = json_object_get(obj, key);
	char sub[CFG_PATH_MAX], what[64];

	if (!v)
		return 0;
	cfg_path_key(sub, sizeof sub, path, key);
	if (!json_is_string(v)) {
		cfg_describe(v, what, sizeof what);
		cfg_problem(f, sub, "expected a string, got %s", what);
		return -1;
	}
	if (json_string_length(v) == 0) {
		cfg_problem(f, sub, "must not be empty");
		return -1;
	}
	*out = json_string_value(v);
	return 1;
}

int cfg_get_int(struct cfg_file *f, json_t *obj, const char *path, const char *key,
		long long min, long long max, long long *out)
{
	json_t *v = json_object_get(obj, key);
	char sub[CFG_PATH_MAX], what[64];
	long long n;

	if (!v)
		return 0;
	cfg_path_key(sub, sizeof sub, path, key);
	if (!json_is_integer(v)) {
		cfg_describe(v, what, sizeof what);
		cfg_problem(f, sub, "expected an integer, got %s", what);
		return -1;
	}
	n = json_integer_value(v);
	if (n < min || n > max) {
		if (min == 1 && n < min)
			cfg_problem(f, sub, "must be greater than 0, got %lld", n);
		else
			cfg_problem(f, sub, "must be between %lld and %lld, got %lld", min, max, n);
		return -1;
	}
	*out = n;
	return 1;
}

int cfg_get_bool(struct cfg_file *f, json_t *obj, const char *path, const char *key,
		 int *out)
{
	json_t *v = json_object_get(obj, key);
	char sub[CFG_PATH_MAX], what[64];

	if (!v)
		return 0;
	if (!json_is_boolean(v)) {
		cfg_path_key(sub, sizeof sub, path, key);
		cfg_describe(v, what, sizeof what);
		cfg_problem(f, sub, "expected true or false, got %s", what);
		return -1;
	}
	*out = json_is_true(v);
	return 1;
}

int cfg_is_ident(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 64 && is_word(s);
}
