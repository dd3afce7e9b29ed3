/*
 * jobs.c - load and check job definitions (jobs/NAME.json); see jobs.h and
 * jobs/README.md for the format.
 *
 * Checking uses the config module's JSON helpers (config_json.h), so a job
 * file's problems read like the configuration's: "FILE: $.steps[1]:
 * reason", one per problem, all of them.  A job is only handed out when it
 * has no problem at all.  Steps are split on blanks (no quoting): a step is
 * a trueup command and its arguments, never a shell command line.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "config_json.h"
#include "jobs.h"
#include "log.h"

#define NELEM(a) (sizeof (a) / sizeof (a)[0])

/*
 * The commands a step may name.  run, schedule, next and config may not.
 * test-sleep is the hidden test-only command (cmd_test_sleep.c) that the
 * CLI tests use for slow steps; it is deliberately left out of messages.
 */
static const char *const step_commands[] = {
	"init", "import", "pull", "reconcile", "repair", "report", "status", "test-sleep"
};

int job_name_ok(const char *name)
{
	size_t n = strlen(name), i;

	if (n < 1 || n > JOB_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '-' && name[i] != '_')
			return 0;
	return 1;
}

int job_step_known(const char *cmd)
{
	size_t i;

	for (i = 0; i < NELEM(step_commands); i++)
		if (strcmp(step_commands[i], cmd) == 0)
			return 1;
	return 0;
}

static char *dup_str(const char *s, int *nomem)
{
	char *d = strdup(s);

	if (!d)
		*nomem = 1;
	return d;
}

/*
 * A health-check URL: https://..., or plain http:// to a loopback host;
 * no blanks, credentials, query or fragment (the pinger appends /start and
 * /fail).  Returns 1, or 0 with the reason in why.
 */
static int healthcheck_url_ok(const char *url, char *why, size_t whysz)
{
	const char *host, *p;
	size_t hlen;

	if (strncmp(url, "https://", 8) == 0) {
		host = url + 8;
	} else if (strncmp(url, "http://", 7) == 0) {
		host = url + 7;
	} else {
		snprintf(why, whysz, "must be an https:// URL (plain http:// only to a loopback host)");
		return 0;
	}
	for (p = url; *p; p++) {
		if (isspace((unsigned char)*p) || iscntrl((unsigned char)*p) || *p == '?' ||
		    *p == '#' || *p == '@') {
			snprintf(why, whysz, "must not contain blanks, credentials, a query or a fragment");
			return 0;
		}
	}
	hlen = host[0] == '[' ? strcspn(host, "]") + 1 : strcspn(host, ":/");
	if (hlen == 0 || (host[0] == '[' && host[hlen - 1] != ']')) {
		snprintf(why, whysz, "has no host");
		return 0;
	}
	if (url[4] == ':' &&
	    !((hlen == 9 && strncmp(host, "127.0.0.1", 9) == 0) ||
	      (hlen == 9 && strncasecmp(host, "localhost", 9) == 0) ||
	      (hlen == 5 && strncmp(host, "[::1]", 5) == 0))) {
		snprintf(why, whysz, "plain http is allowed only to 127.0.0.1, localhost or [::1]");
		return 0;
	}
	return 1;
}

/* Split text on blanks into st->argv.  Returns 0, or -1 (why filled). */
static int split_step(struct job_step *st, const char *text, int *nomem, char *why,
		      size_t whysz)
{
	const char *p = text, *start;
	char **argv;
	int n = 0;

	if (strpbrk(text, "\"'\\")) {
		snprintf(why, whysz, "quotes and backslashes are not supported: a step is a "
			 "trueup command and its arguments separated by blanks");
		return -1;
	}
	argv = calloc(JOB_STEP_MAX_ARGS + 1, sizeof *argv);
	if (!argv) {
		*nomem = 1;
		return -1;
	}
	st->argv = argv;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		if (n == JOB_STEP_MAX_ARGS) {
			snprintf(why, whysz, "more than %d words", JOB_STEP_MAX_ARGS);
			return -1;
		}
		start = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		argv[n] = strndup(start, (size_t)(p - start));
		if (!argv[n]) {
			*nomem = 1;
			return -1;
		}
		n++;
	}
	st->argc = n;
	if (n == 0) {
		snprintf(why, whysz, "must not be empty");
		return -1;
	}
	return 0;
}

/* Check one step (its path is `path`); fills *st on success (returns 1). */
static int load_step(struct cfg_file *f, json_t *v, const char *path, struct job_step *st)
{
	char why[160], hint[96], red[512], what[64];
	const char *s;

	if (!json_is_string(v)) {
		cfg_describe(v, what, sizeof what);
		cfg_problem(f, path, "expected a string such as \"pull\" or \"repair --apply\", got %s",
			    what);
		return 0;
	}
	s = json_string_value(v);
	if (log_redact(s, red, sizeof red) > 0) {
		cfg_problem(f, path, "must not contain a secret: keys come from the environment "
			    "or a key file");
		return 0;
	}
	st->text = dup_str(s, &f->nomem);
	if (!st->text)
		return 0;
	if (split_step(st, s, &f->nomem, why, sizeof why) != 0) {
		if (!f->nomem)
			cfg_problem(f, path, "%s", why);
		return 0;
	}
	if (!job_step_known(st->argv[0])) {
		cfg_did_you_mean(hint, sizeof hint, st->argv[0], step_commands, NELEM(step_commands) - 1);
		cfg_problem(f, path, "'%s' cannot be a step%s; a step is one of init, import, pull, "
			    "reconcile, repair, report, status", st->argv[0], hint);
		return 0;
	}
	return 1;
}

static void load_steps(struct cfg_file *f, json_t *root, struct job *j)
{
	json_t *arr = json_object_get(root, "steps"), *v;
	char path[CFG_PATH_MAX], what[64];
	size_t i, ok = 0;

	if (!arr)
		return;
	if (!json_is_array(arr)) {
		cfg_describe(arr, what, sizeof what);
		cfg_problem(f, "$.steps", "expected an array of steps, got %s", what);
		return;
	}
	if (json_array_size(arr) == 0 || json_array_size(arr) > JOB_MAX_STEPS) {
		cfg_problem(f, "$.steps", "must hold 1 to %d steps, got %zu", JOB_MAX_STEPS,
			    json_array_size(arr));
		return;
	}
	j->steps = calloc(json_array_size(arr), sizeof *j->steps);
	if (!j->steps) {
		f->nomem = 1;
		return;
	}
	j->nsteps = json_array_size(arr);
	json_array_foreach(arr, i, v) {
		cfg_path_index(path, sizeof path, "$.steps", i);
		ok += (size_t)load_step(f, v, path, &j->steps[i]);
	}
	(void)ok;
}

static void load_schedule(struct cfg_file *f, json_t *root, struct job *j)
{
	struct err e = { 0 };
	const char *s;

	if (cfg_get_string(f, root, "$", "schedule", &s) != 1)
		return;
	j->schedule = dup_str(s, &f->nomem);
	if (cron_parse(&j->cron, s, &e) != 0)
		cfg_problem(f, "$.schedule", "%s", e.msg);
	else if (cron_never_fires(&j->cron))
		cfg_problem(f, "$.schedule", "\"%s\" never fires: none of its months has any of "
			    "its days of the month", s);
}

static void load_missed(struct cfg_file *f, json_t *root, struct job *j)
{
	long long n;
	const char *s;
	int r;

	if ((r = cfg_get_string(f, root, "$", "missed", &s)) == 1) {
		if (strcmp(s, "skip") == 0)
			j->missed = JOB_MISSED_SKIP;
		else if (strcmp(s, "run_once") == 0)
			j->missed = JOB_MISSED_RUN_ONCE;
		else
			cfg_problem(f, "$.missed", "must be \"skip\" or \"run_once\", got \"%s\"", s);
	}
	if (cfg_get_int(f, root, "$", "max_age_seconds", 60, 366LL * 86400, &n) == 1) {
		if (j->missed != JOB_MISSED_RUN_ONCE && r == 1)
			cfg_problem(f, "$.max_age_seconds",
				    "only means something with \"missed\": \"run_once\"");
		else if (r == 0)
			cfg_problem(f, "$.max_age_seconds",
				    "needs \"missed\": \"run_once\" (the default is \"skip\")");
		j->max_age_seconds = n;
	}
}

/* Check the parsed file root into j; problems go to f. */
static void load_root(struct cfg_file *f, json_t *root, const char *name,
		      const char *default_tz, struct job *j)
{
	static const struct cfg_key keys[] = {
		{ "name", 1 }, { "description", 0 }, { "schedule", 1 }, { "timezone", 0 },
		{ "steps", 1 }, { "timeout_seconds", 0 }, { "missed", 0 },
		{ "max_age_seconds", 0 }, { "healthcheck_url", 0 }, { "enabled", 0 },
		{ NULL, 0 }
	};
	struct err e = { 0 };
	const char *s, *zone = default_tz ? default_tz : "UTC";
	char why[160];
	long long n;

	if (!cfg_expect_object(f, root, "$"))
		return;
	cfg_check_keys(f, root, "$", keys);
	if (cfg_get_string(f, root, "$", "name", &s) == 1 && strcmp(s, name) != 0)
		cfg_problem(f, "$.name", "must be \"%s\", the file's base name, got \"%s\"", name, s);
	(void)cfg_get_string(f, root, "$", "description", &s);
	load_schedule(f, root, j);
	if (cfg_get_string(f, root, "$", "timezone", &s) == 1)
		zone = s;
	if (tz_load(&j->tz, zone, &e) != 0)
		cfg_problem(f, json_object_get(root, "timezone") ? "$.timezone" : "",
			    "%s%s", json_object_get(root, "timezone") ? "" : "default timezone: ",
			    e.msg);
	load_steps(f, root, j);
	if (cfg_get_int(f, root, "$", "timeout_seconds", 1, JOB_MAX_TIMEOUT, &n) == 1)
		j->timeout_seconds = (int)n;
	load_missed(f, root, j);
	if (cfg_get_string(f, root, "$", "healthcheck_url", &s) == 1) {
		if (!healthcheck_url_ok(s, why, sizeof why))
			cfg_problem(f, "$.healthcheck_url", "%s", why);
		else
			j->healthcheck_url = dup_str(s, &f->nomem);
	}
	(void)cfg_get_bool(f, root, "$", "enabled", &j->enabled);
}

static void first_problem(struct err *e, const struct config_problems *probs, size_t from)
{
	const struct config_problem *p = &probs->items[from];
	size_t more = probs->count - from - 1;

	if (p->path[0])
		err_set(e, EXIT_CONFIG, "%s: %s: %s", p->file, p->path, p->reason);
	else
		err_set(e, EXIT_CONFIG, "%s: %s", p->file, p->reason);
	if (more) {
		size_t len = strlen(e->msg);

		snprintf(e->msg + len, sizeof e->msg - len, " (and %zu more problem%s)", more,
			 more == 1 ? "" : "s");
	}
}

#define JOB_TEXT_MAX (1 << 20)

/* Read file into *text (NUL-terminated, caller frees); a problem on failure. */
static char *read_text(struct cfg_file *f)
{
	char *buf = NULL, *nb;
	size_t len = 0, cap = 0, n;
	FILE *fp = fopen(f->file, "r");

	if (!fp) {
		cfg_problem(f, "", "cannot open: %s", strerror(errno));
		return NULL;
	}
	do {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 8192;
			if (cap > JOB_TEXT_MAX + 8192 || !(nb = realloc(buf, cap))) {
				if (cap > JOB_TEXT_MAX + 8192)
					cfg_problem(f, "", "larger than %d bytes", JOB_TEXT_MAX);
				else
					f->nomem = 1;
				free(buf);
				fclose(fp);
				return NULL;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len - 1, fp);
		len += n;
	} while (n > 0);
	if (ferror(fp)) {
		cfg_problem(f, "", "cannot read: %s", strerror(errno ? errno : EIO));
		free(buf);
		fclose(fp);
		return NULL;
	}
	fclose(fp);
	buf[len] = '\0';
	return buf;
}

/*
 * Check text (the content of file, whose base name is name) into j,
 * problems to probs.  j->text keeps a copy of text on success.
 */
static int load_text(const char *file, const char *name, const char *text,
		     const char *default_tz, struct job *j, struct config_problems *probs,
		     struct err *e)
{
	struct cfg_file f = { probs, file, 0 };
	size_t before = probs->count;
	json_error_t jerr;
	json_t *root;

	memset(j, 0, sizeof *j);
	tz_init_utc(&j->tz);
	j->timeout_seconds = JOB_DEFAULT_TIMEOUT;
	j->missed = JOB_MISSED_SKIP;
	j->max_age_seconds = JOB_DEFAULT_MAX_AGE;
	j->enabled = 1;
	snprintf(j->name, sizeof j->name, "%s", name);
	if (!job_name_ok(name))
		cfg_problem(&f, "", "the file name must be a job name (1 to %d letters, digits, "
			    "'-' or '_') followed by .json", JOB_NAME_MAX);
	if (text) {
		root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
		if (!root)
			cfg_problem(&f, "", "invalid JSON at line %d, column %d: %s", jerr.line,
				    jerr.column, jerr.text);
		else {
			load_root(&f, root, name, default_tz, j);
			json_decref(root);
		}
		j->text = dup_str(text, &f.nomem);
	}
	j->file = dup_str(file, &f.nomem);
	if (f.nomem) {
		job_release(j);
		return err_set(e, EXIT_SOFTWARE, "out of memory loading \"%s\"", file);
	}
	if (probs->count > before) {
		first_problem(e, probs, before);
		job_release(j);
		return EXIT_CONFIG;
	}
	return 0;
}

/* Load file (whose base name is name) into j, problems to probs. */
static int load_file(const char *file, const char *name, const char *default_tz,
		     struct job *j, struct config_problems *probs, struct err *e)
{
	struct cfg_file f = { probs, file, 0 };
	char *text = read_text(&f);
	int rc;

	if (f.nomem)
		return err_set(e, EXIT_SOFTWARE, "out of memory loading \"%s\"", file);
	rc = load_text(file, name, text, default_tz, j, probs, e);
	free(text);
	return rc;
}

int job_load_text(const char *dir, const char *name, const char *text, const char *default_tz,
		  struct job *j, struct err *e)
{
	struct config_problems own = { 0 };
	char file[1024];
	int rc;

	memset(j, 0, sizeof *j);
	tz_init_utc(&j->tz);
	if (!job_name_ok(name))
		return err_set(e, EXIT_USAGE, "\"%s\" is not a job name (1 to %d letters, digits, "
			       "'-' or '_')", name, JOB_NAME_MAX);
	snprintf(file, sizeof file, "%s/%s.json", dir, name);
	rc = load_text(file, name, text, default_tz, j, &own, e);
	config_problems_free(&own);
	return rc;
}

int job_load(const char *dir, const char *name, const char *default_tz, struct job *j,
	     struct config_problems *probs, struct err *e)
{
	struct config_problems own = { 0 };
	char file[1024];
	struct stat st;
	int rc;

	memset(j, 0, sizeof *j);
	tz_init_utc(&j->tz);
	if (!job_name_ok(name))
		return err_set(e, EXIT_USAGE, "\"%s\" is not a job name (1 to %d letters, digits, "
			       "'-' or '_')", name, JOB_NAME_MAX);
	snprintf(file, sizeof file, "%s/%s.json", dir, name);
	if (stat(file, &st) != 0 && errno == ENOENT)
		return err_set(e, EXIT_NOINPUT, "no job \"%s\" in \"%s\" (no file %s.json)", name,
			       dir, name);
	rc = load_file(file, name, default_tz, j, probs ? probs : &own, e);
	config_problems_free(&own);
	return rc;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.json names in dir, sorted, into *names (count *n; free each and the array). */
static int list_json(const char *dir, char ***names, size_t *n, struct err *e)
{
	struct dirent *de;
	size_t cap = 0, len;
	char **v = NULL, **nv;
	DIR *d;

	*names = NULL;
	*n = 0;
	if (!(d = opendir(dir)))
		return err_set(e, errno == ENOENT ? EXIT_NOINPUT : EXIT_IOERR,
			       "jobs directory \"%s\": %s", dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len <= 5 || strcmp(de->d_name + len - 5, ".json") != 0 || de->d_name[0] == '.')
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			if (!(nv = realloc(v, cap * sizeof *v)))
				goto nomem;
			v = nv;
		}
		if (!(v[*n] = strndup(de->d_name, len - 5)))
			goto nomem;
		(*n)++;
	}
	closedir(d);
	if (*n)
		qsort(v, *n, sizeof *v, cmp_names);
	*names = v;
	return 0;
nomem:
	closedir(d);
	while (*n)
		free(v[--*n]);
	free(v);
	return err_set(e, EXIT_SOFTWARE, "out of memory listing \"%s\"", dir);
}

int jobs_load_dir(const char *dir, const char *default_tz, struct job_list *list,
		  struct config_problems *probs, struct err *e)
{
	char **names, file[1024];
	size_t n, i;
	int rc = 0, r;

	memset(list, 0, sizeof *list);
	if ((r = list_json(dir, &names, &n, e)) != 0)
		return r;
	if (n && !(list->items = calloc(n, sizeof *list->items)))
		rc = err_set(e, EXIT_SOFTWARE, "out of memory loading jobs");
	for (i = 0; i < n; i++) {
		struct err je = { 0 };

		if (rc == 0) {
			snprintf(file, sizeof file, "%s/%s.json", dir, names[i]);
			r = load_file(file, names[i], default_tz, &list->items[list->count], probs,
				      &je);
			if (r == 0)
				list->count++;
			else if (r == EXIT_SOFTWARE)
				rc = err_set(e, r, "%s", je.msg);
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

void job_release(struct job *j)
{
	size_t i;
	int k;

	if (!j)
		return;
	for (i = 0; j->steps && i < j->nsteps; i++) {
		free(j->steps[i].text);
		for (k = 0; j->steps[i].argv && j->steps[i].argv[k]; k++)
			free(j->steps[i].argv[k]);
		free(j->steps[i].argv);
	}
	free(j->steps);
	free(j->file);
	free(j->schedule);
	free(j->healthcheck_url);
	free(j->text);
	tz_free(&j->tz);
	memset(j, 0, sizeof *j);
}

void job_list_free(struct job_list *list)
{
	size_t i;

	if (!list)
		return;
	for (i = 0; i < list->count; i++)
		job_release(&list->items[i]);
	free(list->items);
	memset(list, 0, sizeof *list);
}

struct job *job_list_find(struct job_list *list, const char *name)
{
	size_t i;

	for (i = 0; i < list->count; i++)
		if (strcmp(list->items[i].name, name) == 0)
			return &list->items[i];
	return NULL;
}

int jobs_check_all(const struct config *cfg, int (*available)(const char *cmd),
		   struct config_problems *probs, struct config_problems *warnings,
		   char *summary, size_t summarysz, struct err *e)
{
	struct job_list list;
	char path[CFG_PATH_MAX];
	size_t i, k;
	int rc;

	rc = jobs_load_dir(cfg->jobs_dir, cfg->timezone, &list, probs, e);
	if (rc == EXIT_NOINPUT) {
		snprintf(summary, summarysz, "0 jobs");
		return 0;
	}
	if (rc != 0) {
		job_list_free(&list);
		return rc;
	}
	for (i = 0; available && warnings && i < list.count; i++) {
		const struct job *j = &list.items[i];

		for (k = 0; k < j->nsteps; k++) {
			if (available(j->steps[k].argv[0]))
				continue;
			cfg_path_index(path, sizeof path, "$.steps", k);
			if (config_problem_add(warnings, j->file, path,
					       "'%s' is not available in this build: 'trueup run %s' "
					       "fails at this step until it is", j->steps[k].argv[0],
					       j->name) != 0) {
				job_list_free(&list);
				return err_set(e, EXIT_SOFTWARE, "out of memory");
			}
		}
	}
	snprintf(summary, summarysz, "%zu job%s", list.count, list.count == 1 ? "" : "s");
	job_list_free(&list);
	return 0;
}
