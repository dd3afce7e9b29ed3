/*
 * sched.c - what `trueup schedule` does at each tick; see sched.h.
 *
 * The loop wakes at the next slot of any job, or after SCHED_MAX_SLEEP
 * seconds at the latest, reads the wall clock and calls sched_tick() for
 * every job with how the clock moved since the previous tick.  Slots are
 * absolute instants computed by cron_next() in the job's zone (which
 * already applies cronie's DST rule: a fixed-time job in a spring-forward
 * gap runs once right after it, once in a fall-back repeat).  Each job
 * remembers last_slot, the newest slot it has dealt with; nothing at or
 * before it ever fires again, except where a far backward jump resets it.
 *
 * Clock steps, after cronie's main loop (its "wakeupKind" cases):
 *  - forward up to 3 hours (a late wake-up, a small step, a suspend of up
 *    to 3 hours): every job with slots in between fires once, for its
 *    newest slot (cronie runs a wildcard job once per skipped minute; we
 *    run it once, since runs of one job never overlap anyway);
 *  - forward more than 3 hours: no catch-up (cronie: "run jobs as if at
 *    the new time"), except what the job's missed-run policy asks for:
 *    "run_once" fires the newest skipped slot if it is at most max_age
 *    seconds old, "skip" drops them (counted, for the log);
 *  - backward up to 3 hours: fixed-time jobs keep last_slot, so a slot is
 *    never repeated (cronie: "the fixed-time jobs probably have already
 *    run"); wildcard jobs follow the wall clock again from now on;
 *  - backward more than 3 hours: every job starts afresh from now (cronie
 *    resets its virtual clock); a fixed-time slot may then run again.
 * Missed runs at start-up: the slots between the stored last slot and now
 * are missed; the policy decides as for a far jump.  A slot less than
 * SCHED_MAX_SLEEP seconds old is never "missed": it would have fired.
 */
#include "sched.h"

#define SCHED_COUNT_MAX 1000

void sched_job_init(struct sched_job *j, const struct cron *c, const struct tz *tz,
		    int run_once, int64_t max_age)
{
	j->cron = c;
	j->tz = tz;
	j->fixed = cron_is_fixed_time(c);
	j->run_once = run_once;
	j->max_age = max_age;
	j->last_slot = 0;
	j->running = 0;
}

int64_t sched_next(const struct sched_job *j)
{
	int64_t next;

	if (cron_next(j->cron, j->tz, j->last_slot, &next) != 0)
		return SCHED_NEVER;
	return next;
}

/* Fill a with the slots in (j->last_slot, now]; returns 1 if any is due. */
static int due_slots(const struct sched_job *j, int64_t now, struct sched_action *a)
{
	int64_t t = j->last_slot, next;

	a->kind = SCHED_NOTHING;
	a->nslots = 0;
	a->first = a->slot = 0;
	while (cron_next(j->cron, j->tz, t, &next) == 0 && next <= now) {
		if (a->nslots == 0)
			a->first = next;
		a->slot = next;
		t = next;
		if (++a->nslots == SCHED_COUNT_MAX) {
			/* many more: jump to the newest directly */
			while (cron_next(j->cron, j->tz, t, &next) == 0 && next <= now &&
			       now - next > SCHED_FAR_JUMP)
				t = next + SCHED_FAR_JUMP;   /* coarse skip, slots stay ordered */
			while (cron_next(j->cron, j->tz, t, &next) == 0 && next <= now)
				a->slot = t = next;
			break;
		}
	}
	return a->nslots > 0;
}

/* Missed slots (in a): the policy's decision; a fresh slot always fires. */
static void decide_missed(const struct sched_job *j, int64_t now, struct sched_action *a)
{
	if (now - a->slot < SCHED_MAX_SLEEP ||
	    (j->run_once && now - a->slot <= j->max_age))
		a->kind = SCHED_FIRE;
	else
		a->kind = SCHED_SKIP_MISSED;
}

void sched_start(struct sched_job *j, int has_stored, int64_t stored, int64_t now,
		 struct sched_action *a)
{
	a->kind = SCHED_NOTHING;
	a->nslots = 0;
	a->first = a->slot = 0;
	if (!has_stored || stored - now > SCHED_FAR_JUMP) {
		j->last_slot = now;   /* new job, or a clock far behind its memory */
		return;
	}
	j->last_slot = stored;
	if (stored >= now || !due_slots(j, now, a))
		return;
	decide_missed(j, now, a);
	j->last_slot = a->slot;
	if (a->kind == SCHED_FIRE && j->running)
		a->kind = SCHED_SKIP_BUSY;
}

enum sched_clock sched_clock_step(int64_t prev, int64_t now)
{
	if (now >= prev)
		return now - prev > SCHED_FAR_JUMP ? SCHED_CLOCK_FAR : SCHED_CLOCK_NORMAL;
	return prev - now > SCHED_FAR_JUMP ? SCHED_CLOCK_BACK_FAR : SCHED_CLOCK_BACK;
}

void sched_tick(struct sched_job *j, enum sched_clock clk, int64_t now,
		struct sched_action *a)
{
	if (clk == SCHED_CLOCK_BACK_FAR || (clk == SCHED_CLOCK_BACK && !j->fixed)) {
		if (j->last_slot > now)
			j->last_slot = now;
	}
	if (!due_slots(j, now, a))
		return;
	if (clk == SCHED_CLOCK_FAR)
		decide_missed(j, now, a);
	else
		a->kind = SCHED_FIRE;
	j->last_slot = a->slot;
	if (a->kind == SCHED_FIRE && j->running)
		a->kind = SCHED_SKIP_BUSY;
}

int64_t sched_sleep_ms(int64_t next, int64_t now_ms)
{
	int64_t ms = (int64_t)SCHED_MAX_SLEEP * 1000;

	if (next != SCHED_NEVER && next < INT64_MAX / 1000) {
		int64_t until = next * 1000 - now_ms;

		if (until < ms)
			ms = until;
	}
	return ms < 0 ? 0 : ms;
}
