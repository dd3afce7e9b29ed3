/*
 * jobs.h - job definitions: jobs/NAME.json, loaded and checked.
 *
 * A job is a named list of trueup commands ("steps") with a cron schedule
 * in an IANA time zone, a timeout, a policy for runs missed while the
 * scheduler was down and an optional health-check URL.  The format is in
 * jobs/README.md; `trueup config check` lists every problem with file, JSON
 * path and reason, `trueup run`, `next JOB`, `schedule` and `status` load
 * jobs through here.  Loading reads the job file and the zone's TZif file;
 * nothing is printed.
 */
#ifndef TRUEUP_JOBS_H
#define TRUEUP_JOBS_H

#include <stddef.h>

#include "config.h"
#include "cron.h"
#include "err.h"
#include "tz.h"

#define JOB_NAME_MAX 64             /* letters, digits, '-', '_' */
#define JOB_MAX_STEPS 32
#define JOB_STEP_MAX_ARGS 32        /* command included */
#define JOB_DEFAULT_TIMEOUT 3600    /* seconds, the whole job */
#define JOB_MAX_TIMEOUT 604800      /* one week */
#define JOB_DEFAULT_MAX_AGE 86400   /* seconds, for "missed": "run_once" */

enum job_missed { JOB_MISSED_SKIP = 0, JOB_MISSED_RUN_ONCE = 1 };

/* One step: "repair --apply" split on blanks into argv ("repair", "--apply"). */
struct job_step {
	char *text;         /* as written in the file */
	char **argv;        /* argc words, then NULL */
	int argc;
};

struct job {
	char name[JOB_NAME_MAX + 1];
	char *file;                 /* path of the job file */
	char *schedule;             /* the cron expression as written */
	struct cron cron;
	struct tz tz;               /* the job's zone, loaded */
	struct job_step *steps;
	size_t nsteps;
	int timeout_seconds;        /* the whole job, all steps */
	enum job_missed missed;
	long long max_age_seconds;  /* for JOB_MISSED_RUN_ONCE */
	char *healthcheck_url;      /* NULL when none */
	int enabled;                /* 0: `trueup schedule` does not fire it */
	char *text;                 /* the file's JSON as loaded (the scheduler hands it to run) */
};

struct job_list {
	struct job *items;
	size_t count;
};

/* 1 if name is a valid job name (1-64 of [A-Za-z0-9_-]), else 0. */
int job_name_ok(const char *name);

/*
 * 1 if cmd may be a job step (init, import, pull, reconcile, repair, report,
 * status, and the test-only test-sleep), whether or not this build has it;
 * 0 otherwise.
 */
int job_step_known(const char *cmd);

/*
 * Load and check DIR/NAME.json into *j, the zone defaulting to default_tz
 * (NULL: "UTC").  Every problem is appended to probs (may be NULL).
 * Returns 0 with *j filled (release with job_release), or: EXIT_USAGE for
 * a name that is not a job name, EXIT_NOINPUT when the file does not exist
 * (e: "no job \"NAME\" in DIR"), EXIT_CONFIG when the file has problems
 * (e: the first as "FILE: PATH: reason", with " (and N more problems)"),
 * EXIT_SOFTWARE when memory ran out.  On failure *j holds nothing to free
 * (job_release is harmless).
 */
int job_load(const char *dir, const char *name, const char *default_tz, struct job *j,
	     struct config_problems *probs, struct err *e);

/*
 * Like job_load(), but from text, the content DIR/NAME.json had when the
 * scheduler loaded it (problems are reported against that file name).
 * Returns 0, EXIT_USAGE for a bad name, EXIT_CONFIG (first problem in e),
 * or EXIT_SOFTWARE.
 */
int job_load_text(const char *dir, const char *name, const char *text, const char *default_tz,
		  struct job *j, struct err *e);

/*
 * Load every DIR/\*.json (in name order) into *list: valid jobs are added,
 * the problems of invalid ones appended to probs (each names its file).
 * Returns 0 even when some jobs are invalid; EXIT_NOINPUT when DIR does not
 * exist, EXIT_IOERR when it cannot be read, EXIT_SOFTWARE when memory ran
 * out (e filled).  *list is the caller's (job_list_free) in every case.
 */
int jobs_load_dir(const char *dir, const char *default_tz, struct job_list *list,
		  struct config_problems *probs, struct err *e);

/* Release what job_load() filled and zero *j.  j may be NULL. */
void job_release(struct job *j);

/* Release every job of list and zero it.  list may be NULL. */
void job_list_free(struct job_list *list);

/* The job named name in list, or NULL. */
struct job *job_list_find(struct job_list *list, const char *name);

/*
 * The `config check` checker: load every job of cfg->jobs_dir (a missing
 * directory means no jobs), appending problems to probs and, to warnings,
 * each step whose command this build does not have (available(cmd) == 0;
 * available may be NULL to skip that check).  summary gets "N jobs".
 * Returns 0, or an exit code with e filled for a failure that is not a
 * problem of the files (memory, an unreadable directory).
 */
int jobs_check_all(const struct config *cfg, int (*available)(const char *cmd),
		   struct config_problems *probs, struct config_problems *warnings,
		   char *summary, size_t summarysz, struct err *e);

#endif
