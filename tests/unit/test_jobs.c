/*
 * test_jobs.c - job files (src/jobs.c): the shipped jobs load, good files
 * give the right values and defaults, bad ones give every problem with
 * file, JSON path and the exact reason; plus the lock files (src/lock.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "jobs.h"
#include "lock.h"

static char dir[64];

static void write_job(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s.json", dir, name);
	f = fopen(path, "w");
	if (!f)
		return;
	fputs(text, f);
	fclose(f);
}

/* Load job name; returns the rc, problems in *probs (caller frees). */
static int load(const char *name, struct job *j, struct config_problems *probs, struct err *e)
{
	memset(probs, 0, sizeof *probs);
	return job_load(dir, name, "UTC", j, probs, e);
}

/* 1 if some problem has exactly this path and reason. */
static int has(const struct config_problems *p, const char *path, const char *reason)
{
	size_t i;

	for (i = 0; i < p->count; i++)
		if (strcmp(p->items[i].path, path) == 0 && strcmp(p->items[i].reason, reason) == 0)
			return 1;
	for (i = 0; i < p->count; i++)
		printf("    have: %s | %s\n", p->items[i].path, p->items[i].reason);
	return 0;
}

static void test_shipped_jobs_load(void)
{
	struct config_problems probs = { 0 };
	struct job_list list;
	struct err e = { 0 };
	struct job *n, *h;

	CHECK_INT(jobs_load_dir("jobs", "UTC", &list, &probs, &e), 0);
	CHECK_INT(probs.count, 0);
	CHECK_INT(list.count, 2);
	n = job_list_find(&list, "nightly");
	h = job_list_find(&list, "hourly-drift");
	CHECK(n && h);
	if (n && h) {
		CHECK_STR(n->schedule, "30 2 * * *");
		CHECK_STR(n->tz.name, "Europe/Berlin");
		CHECK_INT(n->nsteps, 4);
		CHECK_STR(n->steps[2].text, "repair --apply");
		CHECK_INT(n->steps[2].argc, 2);
		CHECK_STR(n->steps[2].argv[1], "--apply");
		CHECK(n->steps[2].argv[2] == NULL);
		CHECK_INT(n->missed, JOB_MISSED_RUN_ONCE);
		CHECK_INT(n->max_age_seconds, 21600);
		CHECK_INT(h->nsteps, 2);
		CHECK_INT(h->missed, JOB_MISSED_SKIP);
		CHECK_STR(h->tz.name, "UTC");
		CHECK(!cron_is_fixed_time(&h->cron));
		CHECK(cron_is_fixed_time(&n->cron));
	}
	job_list_free(&list);
	config_problems_free(&probs);
}

static void test_minimal_job_defaults(void)
{
	struct config_problems probs;
	struct err e = { 0 };
	struct job j;

	write_job("mini", "{\"name\": \"mini\", \"schedule\": \"@hourly\", \"steps\": [\"status\"]}");
	CHECK_INT(load("mini", &j, &probs, &e), 0);
	CHECK_INT(j.timeout_seconds, JOB_DEFAULT_TIMEOUT);
	CHECK_INT(j.missed, JOB_MISSED_SKIP);
	CHECK_INT(j.enabled, 1);
	CHECK(j.healthcheck_url == NULL);
	CHECK_STR(j.tz.name, "UTC");
	CHECK_INT(j.nsteps, 1);
	job_release(&j);
	config_problems_free(&probs);
}

static void test_full_job(void)
{
	struct config_problems probs;
	struct err e = { 0 };
	struct job j;

	write_job("full", "{\"_c\": 1, \"name\": \"full\", \"description\": \"d\", "
		  "\"schedule\": \"0 9 * * mon-fri\", \"timezone\": \"America/New_York\", "
		  "\"steps\": [\"import  /tmp/x \", \"status\"], \"timeout_seconds\": 60, "
		  "\"missed\": \"run_once\", \"max_age_seconds\": 600, "
		  "\"healthcheck_url\": \"http://127.0.0.1:9/ping/abc\", \"enabled\": false}");
	CHECK_INT(load("full", &j, &probs, &e), 0);
	CHECK_STR(j.tz.name, "America/New_York");
	CHECK_INT(j.steps[0].argc, 2);
	CHECK_STR(j.steps[0].argv[1], "/tmp/x");
	CHECK_INT(j.timeout_seconds, 60);
	CHECK_INT(j.missed, JOB_MISSED_RUN_ONCE);
	CHECK_INT(j.max_age_seconds, 600);
	CHECK_STR(j.healthcheck_url, "http://127.0.0.1:9/ping/abc");
	CHECK_INT(j.enabled, 0);
	job_release(&j);
	config_problems_free(&probs);
}

static void test_bad_job_lists_every_problem(void)
{
	struct config_problems probs;
	struct err e = { 0 };
	struct job j;
	char want[512];

	write_job("bad", "{\"name\": \"other\", \"schedule\": \"0 24 * * *\", "
		  "\"timezone\": \"Mars/Olympus\", \"steps\": [\"pul\", \"run nightly\", 3, \"\", "
		  "\"import 'a b'\", \"status sk_live_abcdefghijklmnop\"], \"timeout_seconds\": 0, "
		  "\"missed\": \"later\", \"healthcheck_url\": \"http://example.com/x\", "
		  "\"enabeld\": true}");
	CHECK_INT(load("bad", &j, &probs, &e), EXIT_CONFIG);
	CHECK(has(&probs, "$.name", "must be \"bad\", the file's base name, got \"other\""));
	CHECK(has(&probs, "$.schedule", "field 2 (hour): 24 is out of range 0-23"));
	CHECK(has(&probs, "$.steps[0]", "'pul' cannot be a step (did you mean \"pull\"?); a step "
		  "is one of init, import, pull, reconcile, repair, report, status"));
	CHECK(has(&probs, "$.steps[1]", "'run' cannot be a step; a step is one of init, import, "
		  "pull, reconcile, repair, report, status"));
	CHECK(has(&probs, "$.steps[2]", "expected a string such as \"pull\" or \"repair --apply\", "
		  "got 3"));
	CHECK(has(&probs, "$.steps[3]", "must not be empty"));
	CHECK(has(&probs, "$.steps[4]", "quotes and backslashes are not supported: a step is a "
		  "trueup command and its arguments separated by blanks"));
	CHECK(has(&probs, "$.steps[5]", "must not contain a secret: keys come from the "
		  "environment or a key file"));
	CHECK(has(&probs, "$.timeout_seconds", "must be greater than 0, got 0"));
	CHECK(has(&probs, "$.missed", "must be \"skip\" or \"run_once\", got \"later\""));
	CHECK(has(&probs, "$.healthcheck_url", "plain http is allowed only to 127.0.0.1, "
		  "localhost or [::1]"));
	CHECK(has(&probs, "$.enabeld", "unknown key (did you mean \"enabled\"?)"));
	CHECK_INT(probs.count, 13);     /* the zone too */
	snprintf(want, sizeof want, "%s/bad.json: $.enabeld: unknown key (did you mean "
		 "\"enabled\"?) (and 12 more problems)", dir);
	CHECK_STR(e.msg, want);
	job_release(&j);
	config_problems_free(&probs);
}

static void test_schedule_never_fires_and_missing_keys(void)
{
	struct config_problems probs;
	struct err e = { 0 };
	struct job j;

	write_job("feb30", "{\"name\": \"feb30\", \"schedule\": \"0 0 30 2 *\", \"steps\": []}");
	CHECK_INT(load("feb30", &j, &probs, &e), EXIT_CONFIG);
	CHECK(has(&probs, "$.schedule", "\"0 0 30 2 *\" never fires: none of its months has any of "
		  "its days of the month"));
	CHECK(has(&probs, "$.steps", "must hold 1 to 32 steps, got 0"));
	config_problems_free(&probs);

	write_job("empty", "{}");
	CHECK_INT(load("empty", &j, &probs, &e), EXIT_CONFIG);
	CHECK(has(&probs, "$.name", "missing required key"));
	CHECK(has(&probs, "$.schedule", "missing required key"));
	CHECK(has(&probs, "$.steps", "missing required key"));
	config_problems_free(&probs);

	write_job("maxage", "{\"name\": \"maxage\", \"schedule\": \"@daily\", \"steps\": [\"status\"],"
		  " \"max_age_seconds\": 600}");
	CHECK_INT(load("maxage", &j, &probs, &e), EXIT_CONFIG);
	CHECK(has(&probs, "$.max_age_seconds", "needs \"missed\": \"run_once\" (the default is "
		  "\"skip\")"));
	config_problems_free(&probs);

	write_job("notjson", "{\"name\": ");
	CHECK_INT(load("notjson", &j, &probs, &e), EXIT_CONFIG);
	CHECK_INT(probs.count, 1);
	CHECK_CONTAINS(probs.items[0].reason, "invalid JSON at line 1");
	config_problems_free(&probs);
}

static void test_missing_and_bad_names(void)
{
	struct config_problems probs;
	struct err e = { 0 };
	struct job j;
	char want[256];

	CHECK_INT(load("nosuch", &j, &probs, &e), EXIT_NOINPUT);
	snprintf(want, sizeof want, "no job \"nosuch\" in \"%s\" (no file nosuch.json)", dir);
	CHECK_STR(e.msg, want);
	CHECK_INT(load("../etc/passwd", &j, &probs, &e), EXIT_USAGE);
	CHECK_CONTAINS(e.msg, "is not a job name");
	CHECK(job_name_ok("hourly-drift"));
	CHECK(!job_name_ok(""));
	CHECK(!job_name_ok("a b"));
	CHECK(job_step_known("pull"));
	CHECK(!job_step_known("schedule"));
	config_problems_free(&probs);
}

static int no_pull(const char *cmd)
{
	return strcmp(cmd, "pull") != 0;
}

static void test_check_all_warns_for_unavailable_steps(void)
{
	struct config_problems probs = { 0 }, warn = { 0 };
	struct config cfg;
	struct err e = { 0 };
	char summary[64];

	memset(&cfg, 0, sizeof cfg);
	cfg.jobs_dir = "jobs";
	cfg.timezone = "UTC";
	CHECK_INT(jobs_check_all(&cfg, no_pull, &probs, &warn, summary, sizeof summary, &e), 0);
	CHECK_STR(summary, "2 jobs");
	CHECK_INT(probs.count, 0);
	CHECK_INT(warn.count, 2);       /* pull in nightly and in hourly-drift */
	if (warn.count > 0) {
		CHECK_STR(warn.items[0].path, "$.steps[0]");
		CHECK_STR(warn.items[0].reason, "'pull' is not available in this build: 'trueup run "
			  "hourly-drift' fails at this step until it is");
	}
	config_problems_free(&probs);
	config_problems_free(&warn);
	cfg.jobs_dir = "/nonexistent-jobs-dir";
	CHECK_INT(jobs_check_all(&cfg, no_pull, &probs, &warn, summary, sizeof summary, &e), 0);
	CHECK_STR(summary, "0 jobs");
}

static void test_lock_held_then_free(void)
{
	struct err e = { 0 };
	char path[128];
	int a = -1, b = -1;

	CHECK_INT(lock_job_path(path, sizeof path, dir, "j", &e), 0);
	CHECK_CONTAINS(path, ".lock.j");
	CHECK_INT(lock_acquire(path, 0, &a, &e), 0);
	CHECK_INT(lock_acquire(path, 0, &b, &e), EXIT_TEMPFAIL);   /* a second description */
	CHECK_CONTAINS(e.msg, "is held by pid ");
	lock_release(a);
	CHECK_INT(lock_acquire(path, 0, &b, &e), 0);
	lock_release(b);
	CHECK_INT(lock_acquire("/nonexistent-dir/x.lock", 0, &a, &e), EXIT_CANTCREAT);
	CHECK_INT(lock_job_path(path, 8, dir, "j", &e), EXIT_SOFTWARE);
}

static void cleanup(void)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("  could not remove %s\n", dir);
}

int main(void)
{
	snprintf(dir, sizeof dir, "/tmp/trueup-test-jobs.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_shipped_jobs_load);
	RUN(test_minimal_job_defaults);
	RUN(test_full_job);
	RUN(test_bad_job_lists_every_problem);
	RUN(test_schedule_never_fires_and_missing_keys);
	RUN(test_missing_and_bad_names);
	RUN(test_check_all_warns_for_unavailable_steps);
	RUN(test_lock_held_then_free);
	cleanup();
	return harness_done();
}
