/*
 * test_sched.c - the scheduler's decisions (src/sched.c) against an
 * injected clock: a simulated loop that sleeps as `trueup schedule` would
 * (to the next slot, at most SCHED_MAX_SLEEP) steps through days, DST
 * changes, clock jumps, downtime and overlapping runs in milliseconds.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cron.h"
#include "harness.h"
#include "sched.h"
#include "tz.h"

#define MAX_FIRES 256

/* One job under a simulated scheduler loop. */
struct sim {
	struct cron cron;
	struct tz tz;
	struct sched_job j;
	int64_t now, prev;
	int64_t fires[MAX_FIRES];
	int nfires, busy, missed;
	long missed_slots;
	int hold_running;       /* pretend every run lasts forever */
};

static int64_t T(const char *iso)
{
	struct err e = { 0 };
	int64_t t = 0;

	if (tz_parse_iso(iso, &t, &e) != 0)
		printf("  bad time in test: %s (%s)\n", iso, e.msg);
	return t;
}

static int sim_init(struct sim *s, const char *expr, const char *zone, int run_once,
		    int64_t max_age, const char *start)
{
	struct err e = { 0 };

	memset(s, 0, sizeof *s);
	if (cron_parse(&s->cron, expr, &e) != 0 || tz_load(&s->tz, zone, &e) != 0) {
		printf("  setup failed: %s\n", e.msg);
		return -1;
	}
	sched_job_init(&s->j, &s->cron, &s->tz, run_once, max_age);
	s->now = s->prev = T(start);
	s->j.last_slot = s->now;    /* as sched_start does for a new job */
	return 0;
}

static void sim_act(struct sim *s, const struct sched_action *a)
{
	switch (a->kind) {
	case SCHED_FIRE:
		if (s->nfires < MAX_FIRES)
			s->fires[s->nfires++] = a->slot;
		s->j.running = s->hold_running;
		break;
	case SCHED_SKIP_BUSY:
		s->busy++;
		break;
	case SCHED_SKIP_MISSED:
		s->missed++;
		s->missed_slots += a->nslots;
		break;
	default:
		break;
	}
}

/* One tick at s->now. */
static void sim_tick(struct sim *s)
{
	struct sched_action a;

	sched_tick(&s->j, sched_clock_step(s->prev, s->now), s->now, &a);
	sim_act(s, &a);
	s->prev = s->now;
}

/* Run the loop until `until`, sleeping as the real loop does. */
static void sim_until(struct sim *s, int64_t until)
{
	for (;;) {
		int64_t ms = sched_sleep_ms(sched_next(&s->j), s->now * 1000);
		int64_t next = s->now + (ms + 999) / 1000;

		if (next == s->now)
			next++;
		if (next > until)
			break;
		s->now = next;
		sim_tick(s);
	}
	s->now = until;
}

/* The clock is set to now + delta (a step, a suspend), then one tick. */
static void sim_jump(struct sim *s, int64_t delta)
{
	s->now += delta;
	sim_tick(s);
}

static void sim_free(struct sim *s)
{
	tz_free(&s->tz);
}

static void test_nightly_berlin_spring_forward(void)
{
	struct sim s;

	if (sim_init(&s, "30 2 * * *", "Europe/Berlin", 1, 21600, "2026-03-27T12:00:00Z"))
		return;
	sim_until(&s, T("2026-03-31T12:00:00Z"));
	CHECK_INT(s.nfires, 4);
	CHECK_INT(s.fires[0], T("2026-03-28T02:30:00+01:00"));
	CHECK_INT(s.fires[1], T("2026-03-29T03:00:00+02:00"));   /* right after the gap, once */
	CHECK_INT(s.fires[2], T("2026-03-30T02:30:00+02:00"));
	CHECK_INT(s.fires[3], T("2026-03-31T02:30:00+02:00"));
	CHECK_INT(s.busy + s.missed, 0);
	sim_free(&s);
}

static void test_nightly_berlin_fall_back(void)
{
	struct sim s;

	if (sim_init(&s, "30 2 * * *", "Europe/Berlin", 1, 21600, "2026-10-24T12:00:00Z"))
		return;
	sim_until(&s, T("2026-10-27T12:00:00Z"));
	CHECK_INT(s.nfires, 3);
	CHECK_INT(s.fires[0], T("2026-10-25T02:30:00+02:00"));   /* first pass only */
	CHECK_INT(s.fires[1], T("2026-10-26T02:30:00+01:00"));
	CHECK_INT(s.fires[2], T("2026-10-27T02:30:00+01:00"));
	sim_free(&s);
}

static void test_every_15_min_new_york_fall_back_follows_real_time(void)
{
	struct sim s;

	if (sim_init(&s, "*/15 * * * *", "America/New_York", 0, 0, "2026-11-01T00:50:00-04:00"))
		return;
	sim_until(&s, T("2026-11-01T02:05:00-05:00"));
	/* 01:00..01:45 EDT, 01:00..01:45 EST, 02:00 EST */
	CHECK_INT(s.nfires, 9);
	CHECK_INT(s.fires[0], T("2026-11-01T01:00:00-04:00"));
	CHECK_INT(s.fires[4], T("2026-11-01T01:00:00-05:00"));
	CHECK_INT(s.fires[8], T("2026-11-01T02:00:00-05:00"));
	sim_free(&s);
}

static void test_fire_exactly_on_time_in_a_quiet_week(void)
{
	struct sim s;
	int i, ok = 1;

	if (sim_init(&s, "17 * * * *", "UTC", 0, 0, "2026-05-04T00:00:00Z"))
		return;
	sim_until(&s, T("2026-05-11T00:00:00Z"));
	CHECK_INT(s.nfires, 7 * 24);
	for (i = 0; i < s.nfires; i++)
		ok &= s.fires[i] == T("2026-05-04T00:17:00Z") + (int64_t)i * 3600;
	CHECK(ok);
	sim_free(&s);
}

static void test_jump_forward_10_min_runs_skipped_slot_once(void)
{
	struct sim s;

	/* hourly at :17; at 10:10 the clock steps to 10:20: 10:17 runs once */
	if (sim_init(&s, "17 * * * *", "UTC", 0, 0, "2026-05-04T10:00:00Z"))
		return;
	sim_until(&s, T("2026-05-04T10:10:00Z"));
	CHECK_INT(s.nfires, 0);
	sim_jump(&s, 600);
	CHECK_INT(s.nfires, 1);
	CHECK_INT(s.fires[0], T("2026-05-04T10:17:00Z"));
	sim_until(&s, T("2026-05-04T12:00:00Z"));
	CHECK_INT(s.nfires, 2);
	CHECK_INT(s.fires[1], T("2026-05-04T11:17:00Z"));
	sim_free(&s);
}

static void test_jump_forward_10_min_every_minute_job_runs_once(void)
{
	struct sim s;

	if (sim_init(&s, "* * * * *", "UTC", 0, 0, "2026-05-04T10:00:00Z"))
		return;
	sim_until(&s, T("2026-05-04T10:05:00Z"));
	CHECK_INT(s.nfires, 5);
	sim_jump(&s, 600);
	CHECK_INT(s.nfires, 6);          /* ten skipped minutes, one run */
	CHECK_INT(s.fires[5], T("2026-05-04T10:15:00Z"));
	sim_until(&s, T("2026-05-04T10:17:00Z"));
	CHECK_INT(s.nfires, 8);
	sim_free(&s);
}

static void test_jump_forward_5h_run_once_within_max_age(void)
{
	struct sim s;

	/* Berlin midnight, suspend until 05:00: 02:30 is 2.5 h old, max age 6 h */
	if (sim_init(&s, "30 2 * * *", "Europe/Berlin", 1, 21600, "2026-06-09T22:00:00Z"))
		return;
	sim_jump(&s, 5 * 3600);
	CHECK_INT(s.nfires, 1);
	CHECK_INT(s.fires[0], T("2026-06-10T02:30:00+02:00"));
	sim_until(&s, T("2026-06-11T12:00:00Z"));
	CHECK_INT(s.nfires, 2);
	CHECK_INT(s.fires[1], T("2026-06-11T02:30:00+02:00"));
	sim_free(&s);
}

static void test_jump_forward_5h_skip_policy_does_not_catch_up(void)
{
	struct sim s;

	if (sim_init(&s, "30 2 * * *", "Europe/Berlin", 0, 0, "2026-06-09T22:00:00Z"))
		return;
	sim_jump(&s, 5 * 3600);
	CHECK_INT(s.nfires, 0);
	CHECK_INT(s.missed, 1);
	CHECK_INT(s.missed_slots, 1);
	sim_until(&s, T("2026-06-11T12:00:00Z"));
	CHECK_INT(s.nfires, 1);
	CHECK_INT(s.fires[0], T("2026-06-11T02:30:00+02:00"));
	sim_free(&s);
}

static void test_jump_forward_5h_run_once_beyond_max_age(void)
{
	struct sim s;

	/* max age 1 h: the 02:30 slot is 2.5 h old at 05:00 */
	if (sim_init(&s, "30 2 * * *", "Europe/Berlin", 1, 3600, "2026-06-09T22:00:00Z"))
		return;
	sim_jump(&s, 5 * 3600);
	CHECK_INT(s.nfires, 0);
	CHECK_INT(s.missed, 1);
	sim_free(&s);
}

static void test_jump_back_1h_fixed_time_job_does_not_repeat(void)
{
	struct sim s;

	if (sim_init(&s, "30 2 * * *", "Europe/Berlin", 1, 21600, "2026-06-09T22:00:00Z"))
		return;
	sim_until(&s, T("2026-06-10T02:40:00+02:00"));
	CHECK_INT(s.nfires, 1);
	sim_jump(&s, -3600);                    /* back to 01:40 */
	sim_until(&s, T("2026-06-10T23:00:00+02:00"));
	CHECK_INT(s.nfires, 1);                 /* 02:30 is not run twice */
	sim_until(&s, T("2026-06-11T12:00:00+02:00"));
	CHECK_INT(s.nfires, 2);
	CHECK_INT(s.fires[1], T("2026-06-11T02:30:00+02:00"));
	sim_free(&s);
}

static void test_jump_back_1h_wildcard_job_follows_the_clock(void)
{
	struct sim s;

	if (sim_init(&s, "0 * * * *", "UTC", 0, 0, "2026-06-10T09:30:00Z"))
		return;
	sim_until(&s, T("2026-06-10T10:20:00Z"));
	CHECK_INT(s.nfires, 1);                 /* 10:00 */
	sim_jump(&s, -3600);                    /* 09:20 */
	sim_until(&s, T("2026-06-10T10:30:00Z"));
	CHECK_INT(s.nfires, 2);                 /* cronie: wildcard jobs run by the wall clock */
	CHECK_INT(s.fires[1], T("2026-06-10T10:00:00Z"));
	sim_free(&s);
}

static void test_jump_back_5h_starts_afresh(void)
{
	struct sim s;

	if (sim_init(&s, "30 2 * * *", "UTC", 0, 0, "2026-06-10T02:00:00Z"))
		return;
	sim_until(&s, T("2026-06-10T06:00:00Z"));
	CHECK_INT(s.nfires, 1);
	sim_jump(&s, -5 * 3600);                /* 01:00: far back, like cronie: reset */
	sim_until(&s, T("2026-06-10T03:00:00Z"));
	CHECK_INT(s.nfires, 2);
	sim_free(&s);
}

static void test_clock_step_classes(void)
{
	CHECK_INT(sched_clock_step(1000, 1060), SCHED_CLOCK_NORMAL);
	CHECK_INT(sched_clock_step(1000, 1000 + SCHED_FAR_JUMP), SCHED_CLOCK_NORMAL);
	CHECK_INT(sched_clock_step(1000, 1001 + SCHED_FAR_JUMP), SCHED_CLOCK_FAR);
	CHECK_INT(sched_clock_step(1000, 999), SCHED_CLOCK_BACK);
	CHECK_INT(sched_clock_step(SCHED_FAR_JUMP + 1000, 999), SCHED_CLOCK_BACK_FAR);
}

static void test_sleep_is_capped_and_never_negative(void)
{
	CHECK_INT(sched_sleep_ms(SCHED_NEVER, 5000), 60000);
	CHECK_INT(sched_sleep_ms(3600, 5000), 60000);
	CHECK_INT(sched_sleep_ms(10, 5000), 5000);
	CHECK_INT(sched_sleep_ms(10, 10000), 0);
	CHECK_INT(sched_sleep_ms(10, 12000), 0);
}

/* Start-up after downtime: the stored last slot decides. */
static void start(const char *expr, const char *zone, int run_once, int64_t max_age,
		  int has_stored, const char *stored, const char *now, struct sched_action *a,
		  int64_t *last)
{
	struct sched_job j;
	struct cron c;
	struct tz tz;
	struct err e = { 0 };

	memset(a, 0, sizeof *a);
	if (cron_parse(&c, expr, &e) != 0 || tz_load(&tz, zone, &e) != 0) {
		printf("  setup failed: %s\n", e.msg);
		return;
	}
	sched_job_init(&j, &c, &tz, run_once, max_age);
	sched_start(&j, has_stored, has_stored ? T(stored) : 0, T(now), a);
	*last = j.last_slot;
	tz_free(&tz);
}

static void test_missed_run_once_within_max_age(void)
{
	struct sched_action a;
	int64_t last;

	start("30 2 * * *", "Europe/Berlin", 1, 21600, 1, "2026-06-09T02:30:00+02:00",
	      "2026-06-10T04:00:00+02:00", &a, &last);
	CHECK_INT(a.kind, SCHED_FIRE);
	CHECK_INT(a.slot, T("2026-06-10T02:30:00+02:00"));
	CHECK_INT(a.nslots, 1);
	CHECK_INT(last, a.slot);
}

static void test_missed_run_once_beyond_max_age(void)
{
	struct sched_action a;
	int64_t last;

	start("30 2 * * *", "Europe/Berlin", 1, 3600, 1, "2026-06-09T02:30:00+02:00",
	      "2026-06-10T04:00:00+02:00", &a, &last);
	CHECK_INT(a.kind, SCHED_SKIP_MISSED);
	CHECK_INT(last, T("2026-06-10T02:30:00+02:00"));
}

static void test_missed_skip(void)
{
	struct sched_action a;
	int64_t last;

	start("30 2 * * *", "Europe/Berlin", 0, 0, 1, "2026-06-07T02:30:00+02:00",
	      "2026-06-10T04:00:00+02:00", &a, &last);
	CHECK_INT(a.kind, SCHED_SKIP_MISSED);
	CHECK_INT(a.nslots, 3);
	CHECK_INT(a.first, T("2026-06-08T02:30:00+02:00"));
	CHECK_INT(a.slot, T("2026-06-10T02:30:00+02:00"));
}

static void test_missed_three_days_run_once_runs_newest_once(void)
{
	struct sched_action a;
	int64_t last;

	start("30 2 * * *", "Europe/Berlin", 1, 86400, 1, "2026-06-07T02:30:00+02:00",
	      "2026-06-10T04:00:00+02:00", &a, &last);
	CHECK_INT(a.kind, SCHED_FIRE);
	CHECK_INT(a.nslots, 3);
	CHECK_INT(a.slot, T("2026-06-10T02:30:00+02:00"));
}

static void test_missed_nothing_and_new_job(void)
{
	struct sched_action a;
	int64_t last;

	start("30 2 * * *", "UTC", 1, 86400, 1, "2026-06-10T02:30:00Z", "2026-06-10T04:00:00Z",
	      &a, &last);
	CHECK_INT(a.kind, SCHED_NOTHING);
	CHECK_INT(last, T("2026-06-10T02:30:00Z"));
	start("30 2 * * *", "UTC", 1, 86400, 0, NULL, "2026-06-10T04:00:00Z", &a, &last);
	CHECK_INT(a.kind, SCHED_NOTHING);
	CHECK_INT(last, T("2026-06-10T04:00:00Z"));
}

static void test_missed_fresh_slot_fires_even_with_skip(void)
{
	struct sched_action a;
	int64_t last;

	/* restarted 20 s after a slot: it would have fired, it is not "missed" */
	start("0 * * * *", "UTC", 0, 0, 1, "2026-06-10T01:00:00Z", "2026-06-10T02:00:20Z", &a,
	      &last);
	CHECK_INT(a.kind, SCHED_FIRE);
	CHECK_INT(a.slot, T("2026-06-10T02:00:00Z"));
}

static void test_missed_huge_downtime_is_bounded(void)
{
	struct sched_action a;
	int64_t last;

	/* an every-minute job down for two years: counting stops, newest found */
	start("* * * * *", "UTC", 0, 0, 1, "2024-06-10T00:00:00Z", "2026-06-10T00:00:30Z", &a,
	      &last);
	CHECK_INT(a.kind, SCHED_FIRE);          /* 30 s old: fresh */
	CHECK_INT(a.slot, T("2026-06-10T00:00:00Z"));
	CHECK_INT(a.nslots, 1000);
}

static void test_stored_slot_in_the_future(void)
{
	struct sched_action a;
	int64_t last;

	/* clock behind the database by 1 h: keep the slot, nothing repeats */
	start("30 2 * * *", "UTC", 1, 86400, 1, "2026-06-10T02:30:00Z", "2026-06-10T01:40:00Z",
	      &a, &last);
	CHECK_INT(a.kind, SCHED_NOTHING);
	CHECK_INT(last, T("2026-06-10T02:30:00Z"));
	/* far behind (a day): start afresh from now */
	start("30 2 * * *", "UTC", 1, 86400, 1, "2026-06-11T02:30:00Z", "2026-06-10T01:40:00Z",
	      &a, &last);
	CHECK_INT(last, T("2026-06-10T01:40:00Z"));
}

static void test_no_overlap_busy_slot_is_skipped(void)
{
	struct sim s;

	if (sim_init(&s, "*/5 * * * *", "UTC", 0, 0, "2026-06-10T10:00:00Z"))
		return;
	s.hold_running = 1;
	sim_until(&s, T("2026-06-10T10:16:00Z"));
	CHECK_INT(s.nfires, 1);                 /* 10:05 fired; 10:10 and 10:15 busy */
	CHECK_INT(s.busy, 2);
	s.j.running = 0;                        /* the run ends */
	s.hold_running = 0;
	sim_until(&s, T("2026-06-10T10:21:00Z"));
	CHECK_INT(s.nfires, 2);
	CHECK_INT(s.fires[1], T("2026-06-10T10:20:00Z"));
	sim_free(&s);
}

static void test_never_firing_schedule_sleeps_a_minute(void)
{
	struct sim s;

	if (sim_init(&s, "0 0 30 2 *", "UTC", 0, 0, "2026-06-10T10:00:00Z"))
		return;
	CHECK(sched_next(&s.j) == SCHED_NEVER);
	sim_until(&s, T("2026-06-10T12:00:00Z"));
	CHECK_INT(s.nfires, 0);
	sim_free(&s);
}

int main(void)
{
	RUN(test_nightly_berlin_spring_forward);
	RUN(test_nightly_berlin_fall_back);
	RUN(test_every_15_min_new_york_fall_back_follows_real_time);
	RUN(test_fire_exactly_on_time_in_a_quiet_week);
	RUN(test_jump_forward_10_min_runs_skipped_slot_once);
	RUN(test_jump_forward_10_min_every_minute_job_runs_once);
	RUN(test_jump_forward_5h_run_once_within_max_age);
	RUN(test_jump_forward_5h_skip_policy_does_not_catch_up);
	RUN(test_jump_forward_5h_run_once_beyond_max_age);
	RUN(test_jump_back_1h_fixed_time_job_does_not_repeat);
	RUN(test_jump_back_1h_wildcard_job_follows_the_clock);
	RUN(test_jump_back_5h_starts_afresh);
	RUN(test_clock_step_classes);
	RUN(test_sleep_is_capped_and_never_negative);
	RUN(test_missed_run_once_within_max_age);
	RUN(test_missed_run_once_beyond_max_age);
	RUN(test_missed_skip);
	RUN(test_missed_three_days_run_once_runs_newest_once);
	RUN(test_missed_nothing_and_new_job);
	RUN(test_missed_fresh_slot_fires_even_with_skip);
	RUN(test_missed_huge_downtime_is_bounded);
	RUN(test_stored_slot_in_the_future);
	RUN(test_no_overlap_busy_slot_is_skipped);
	RUN(test_never_firing_schedule_sleeps_a_minute);
	return harness_done();
}
