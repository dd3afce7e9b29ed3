/*
 * db_jobs.h - the database side of jobs (db_jobs.c): job run rows and the
 * scheduler's last slot per job.  Part of the db layer (see db.h): all SQL
 * stays in db_*.c; every function returns 0 or an exit code and fills e.
 *
 * Times cross this interface as int64_t seconds since the epoch and are
 * stored as ISO 8601 UTC text ('YYYY-MM-DDTHH:MM:SSZ'), like every other
 * timestamp of the schema.
 */
#ifndef TRUEUP_DB_JOBS_H
#define TRUEUP_DB_JOBS_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"

/* A job run being recorded: what db_job_run_begin/db_job_run_skipped store. */
struct db_job_run {
	const char *job;
	const char *args;       /* JSON array text, or NULL */
	int has_slot;           /* 1: started by the scheduler for slot */
	int64_t slot;
	int attempt;            /* 0: NULL (a manual run) */
};

/*
 * Insert a 'running' row (command 'run') for r, in its own transaction.
 * *run_id gets its id.
 */
int db_job_run_begin(struct db *db, const struct db_job_run *r, long long *run_id,
		     struct err *e);

/*
 * Finish run_id: status ("ok", "failed"), exit code, the signal that ended
 * it (0: none), the per-step results (JSON array text or NULL) and the
 * error line (NULL on success).
 */
int db_job_run_end(struct db *db, long long run_id, const char *status, int exit_code,
		   int signo, const char *steps, const char *error, struct err *e);

/* Record a run of r that did not happen: status 'skipped', exit 75, error why. */
int db_job_run_skipped(struct db *db, const struct db_job_run *r, const char *why,
		       struct err *e);

/*
 * The run row a step child wrote: the newest row with pid = pid and id >
 * after_id.  *found says whether there is one; then *child_id and counts
 * (JSON text, "" when NULL; truncated to countssz) are set.
 */
int db_job_step_run(struct db *db, long long pid, long long after_id, int *found,
		    long long *child_id, char *counts, size_t countssz, struct err *e);

/* The job's stored last slot: *found 0 when the scheduler never saw it. */
int db_job_slot_get(struct db *db, const char *job, int64_t *slot, int *found,
		    struct err *e);

/* Store the job's last slot (insert or replace). */
int db_job_slot_set(struct db *db, const char *job, int64_t slot, struct err *e);

/* One job run, for `trueup status` and the tests. */
struct db_job_run_row {
	long long id;
	char job[72];
	char scheduled_for[32];     /* "" for a manual run */
	int attempt;                /* 0 when NULL */
	char status[16];
	char started_at[32];
	char ended_at[32];          /* "" while running */
	int exit_code;              /* -1 when NULL */
	int signo;                  /* 0 when NULL */
	char error[256];
};

/*
 * Call fn for each of the last `limit` job runs (of job, or of every job
 * when job is NULL), newest first; fn returns 0 to go on.
 */
int db_job_runs_recent(struct db *db, const char *job, int limit,
		       int (*fn)(const struct db_job_run_row *row, void *arg), void *arg,
		       struct err *e);

#endif
