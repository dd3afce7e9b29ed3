/*
 * sched.h - the scheduler's decisions, as pure functions of the time.
 *
 * No I/O, no clock, no allocation: the caller (cmd_schedule.c) reads the
 * wall clock, persists last_slot and spawns runs; the unit tests drive the
 * same functions with made-up times through days, DST changes, clock jumps
 * and downtime in milliseconds.  The rules are described at the top of
 * sched.c and in the README ("Scheduling").
 */
#ifndef TRUEUP_SCHED_H
#define TRUEUP_SCHED_H

#include <stdint.h>

#include "cron.h"
#include "tz.h"

#define SCHED_MAX_SLEEP 60          /* seconds: the loop never sleeps longer */
#define SCHED_FAR_JUMP (3 * 3600)   /* cronie's limit between "medium" and "large" jumps */
#define SCHED_NEVER INT64_MAX       /* no next slot */

/* One job as the scheduler sees it.  cron and tz are borrowed. */
struct sched_job {
	const struct cron *cron;
	const struct tz *tz;
	int fixed;              /* cron_is_fixed_time() */
	int run_once;           /* missed-run policy: 1 run_once, 0 skip */
	int64_t max_age;        /* run_once: the newest missed slot may be this old */
	int64_t last_slot;      /* every slot <= last_slot has been dealt with */
	int running;            /* set by the caller while a run of the job is going */
};

enum sched_kind {
	SCHED_NOTHING = 0,      /* nothing due */
	SCHED_FIRE,             /* start a run for slot */
	SCHED_SKIP_BUSY,        /* slot due while the previous run goes on: record it skipped */
	SCHED_SKIP_MISSED       /* slots missed, the policy says skip them */
};

/* What to do about one job now.  last_slot has already been moved on. */
struct sched_action {
	enum sched_kind kind;
	int64_t slot;           /* FIRE, SKIP_*: the newest due slot */
	int64_t first;          /* the oldest due slot */
	long nslots;            /* how many slots were due (counting stops at 1000) */
};

/* How the wall clock moved between two ticks. */
enum sched_clock {
	SCHED_CLOCK_NORMAL = 0, /* forward by at most SCHED_FAR_JUMP (late wake-ups included) */
	SCHED_CLOCK_FAR,        /* forward by more than SCHED_FAR_JUMP (suspend, clock set) */
	SCHED_CLOCK_BACK,       /* backward by at most SCHED_FAR_JUMP */
	SCHED_CLOCK_BACK_FAR    /* backward by more */
};

/* Fill j for a job (last_slot 0, not running). */
void sched_job_init(struct sched_job *j, const struct cron *c, const struct tz *tz,
		    int run_once, int64_t max_age);

/*
 * Start-up (or a job added by a reload) at time now.  has_stored/stored is
 * the last slot kept in the database.  Sets j->last_slot and fills *a:
 * FIRE for a missed slot to run now (run_once within max_age, or a slot
 * less than SCHED_MAX_SLEEP old), SKIP_MISSED when missed slots are
 * dropped, else NOTHING.  A job never seen before has missed nothing.
 */
void sched_start(struct sched_job *j, int has_stored, int64_t stored, int64_t now,
		 struct sched_action *a);

/* Classify the step of the wall clock from prev (the last tick) to now. */
enum sched_clock sched_clock_step(int64_t prev, int64_t now);

/*
 * One tick at time now after a clock step clk: decide for j, moving
 * j->last_slot past every slot due.  Slots due after a normal step fire
 * once (several skipped slots of one job give one run, for the newest);
 * after a far forward jump they count as missed (the job's policy); a
 * backward step never repeats a fixed-time job's slot.  A FIRE while
 * j->running becomes SKIP_BUSY.
 */
void sched_tick(struct sched_job *j, enum sched_clock clk, int64_t now,
		struct sched_action *a);

/* The first slot after j->last_slot, or SCHED_NEVER. */
int64_t sched_next(const struct sched_job *j);

/*
 * Milliseconds to sleep at now_ms (epoch milliseconds) before the next
 * tick, given the earliest next slot over all jobs (seconds, or
 * SCHED_NEVER): until that slot, but never more than SCHED_MAX_SLEEP
 * seconds and never negative.
 */
int64_t sched_sleep_ms(int64_t next, int64_t now_ms);

#endif
