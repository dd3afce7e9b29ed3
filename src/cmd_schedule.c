/*
 * cmd_schedule.c - `trueup schedule`: fire the jobs of jobs/ by their cron
 * schedules, on one libuv loop, until SIGTERM or SIGINT.
 *
 * The decisions (what is due, missed runs, clock jumps, overlap) are made
 * by sched.c's pure functions; this file is the I/O around them.  One
 * one-shot timer is re-armed after every tick from the wall clock, for the
 * earliest next slot but never more than SCHED_MAX_SLEEP seconds ahead, so
 * clock steps and suspend/resume are seen within a minute.  Each run is a
 * child process `trueup run JOB --slot T --attempt 1 --definition-from-env`
 * in its own session and process group, handed the job definition the
 * scheduler validated (so an invalid edit of the file cannot break the old
 * definition the scheduler keeps); `run` takes the job's lock, records the run, enforces
 * the job's timeout and pings its health check, so a run started by cron
 * and one started here cannot overlap either.  The last slot of each job is
 * stored in the database (job_slots) before its run starts: at start-up
 * the slots missed while the scheduler was down are decided from it by the
 * job's policy (skip, or run_once within max_age_seconds).
 *
 * Signals: SIGTERM or SIGINT stops scheduling; runs still going get
 * --grace seconds (default 60) to finish, then SIGTERM (a second SIGTERM or
 * SIGINT sends it at once), then SIGKILL SCHED_KILL_GRACE seconds later;
 * then the loop closes every handle and trueup exits 0.  SIGHUP reloads
 * jobs/: a job whose new file has problems keeps its old definition (each
 * problem is logged), a new valid file adds a job, a deleted file removes
 * one (after its run, if one is going).
 *
 * Test-only: TRUEUP_SCHED_TEST_SPEEDUP=N (1-3600) makes the scheduler's
 * clock run N times faster than the real one from the moment it starts
 * (N=60: one real second is one scheduled minute), so a CLI test can watch
 * an every-minute job fire several times in a few seconds.  The slots
 * recorded are the scheduler's (accelerated) times.  Not for production.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "commands.h"
#include "db_jobs.h"
#include "jobs.h"
#include "lock.h"
#include "log.h"
#include "sched.h"
#include "tz.h"

#define SCHED_DEFAULT_GRACE 60
#define SCHED_KILL_GRACE 15         /* after SIGTERM to a run, before SIGKILL */
#define SCHED_MAX_ARGV 20

static const char usage_line[] = "usage: trueup schedule [--grace SECONDS]\n";

static const char usage_schedule[] =
	"Run the scheduler: fire each enabled job of the jobs directory at the times\n"
	"of its cron schedule, as a child 'trueup run JOB', until SIGTERM or SIGINT.\n"
	"Runs missed while the scheduler was down follow each job's \"missed\" policy.\n"
	"  --grace SECONDS   on SIGTERM/SIGINT, how long runs still going may take to\n"
	"                    finish before they are stopped (default 60)\n"
	"SIGHUP reloads the jobs directory (an invalid file keeps the old definition).\n"
	"Exit status: 0 after SIGTERM/SIGINT; 75 another scheduler uses this database;\n"
	"78 invalid jobs at start-up; 66 no jobs directory.\n";

/* One job under the scheduler.  Allocated one by one: libuv keeps &proc. */
struct sjob {
	struct job def;
	struct sched_job s;
	uv_process_t proc;
	int running;            /* proc spawned and not yet exited */
	int removed;            /* deleted by a reload: free once its run has ended */
	struct scheduler *owner;
};

struct scheduler {
	struct cmd_ctx *ctx;
	uv_loop_t loop;
	uv_timer_t tick, grace;
	uv_signal_t sig_term, sig_int, sig_hup;
	struct sjob **jobs;
	size_t njobs, cap;
	int64_t prev_tick;      /* scheduler time of the previous tick, seconds */
	int64_t planned_ms;     /* scheduler time the tick timer was set for */
	int stopping;           /* 0 running, 1 waiting for runs, 2 runs signalled */
	int grace_seconds;
	int closed;
	/* the scheduler's clock: real time, or sped up for tests */
	int speedup;
	int64_t origin_ms;      /* real time at start, ms */
	/* what every run child gets */
	char exe[PATH_MAX];
	char config[PATH_MAX];
	char db[PATH_MAX];
};

static int64_t real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The scheduler's wall clock in ms (accelerated under the test speed-up). */
static int64_t sched_now_ms(const struct scheduler *S)
{
	int64_t r = real_ms();

	if (S->speedup <= 1)
		return r;
	return S->origin_ms + (r - S->origin_ms) * S->speedup;
}

static int64_t floor_div1000(int64_t ms)
{
	return ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
}

static void fmt_time(const struct sjob *j, int64_t t, char *buf, size_t sz)
{
	tz_format_iso(&j->def.tz, t, buf, sz);
}

/* ---- runs ---------------------------------------------------------------- */

static void on_proc_closed(uv_handle_t *h)
{
	struct sjob *j = h->data;

	if (j->removed) {
		job_release(&j->def);
		free(j);
	}
}

static void maybe_finish(struct scheduler *S);

static void on_run_exit(uv_process_t *p, int64_t status, int signo)
{
	struct sjob *j = p->data;
	struct scheduler *S = j->owner;

	if (signo)
		log_warn("schedule: job \"%s\": run (pid %d) killed by signal %d", j->def.name,
			 p->pid, signo);
	else if (status == EXIT_TEMPFAIL)
		log_warn("schedule: job \"%s\": run (pid %d) skipped or stopped (exit 75)",
			 j->def.name, p->pid);
	else if (status != 0)
		log_warn("schedule: job \"%s\": run (pid %d) failed with exit %d", j->def.name,
			 p->pid, (int)status);
	else
		log_info("schedule: job \"%s\": run (pid %d) ok", j->def.name, p->pid);
	j->running = 0;
	j->s.running = 0;
	uv_close((uv_handle_t *)p, on_proc_closed);
	maybe_finish(S);
}

extern char **environ;

/*
 * The environment of a run: ours plus TRUEUP_RUN_DEFINITION=<the job file
 * as validated>.  Returns a NULL-terminated array whose last entry (before
 * NULL) is the one allocated string; free it with free_run_env().
 */
static char **run_env(const struct job *def)
{
	static const char name[] = "TRUEUP_RUN_DEFINITION=";
	size_t n = 0, k = 0, i, len;
	char **env, *var;

	while (environ[n])
		n++;
	len = strlen(def->text ? def->text : "");
	if (!(env = calloc(n + 2, sizeof *env)) || !(var = malloc(sizeof name + len))) {
		free(env);
		return NULL;
	}
	memcpy(var, name, sizeof name - 1);
	memcpy(var + sizeof name - 1, def->text ? def->text : "", len + 1);
	for (i = 0; i < n; i++)
		if (strncmp(environ[i], name, sizeof name - 1) != 0)
			env[k++] = environ[i];
	env[k] = var;
	return env;
}

static void free_run_env(char **env)
{
	size_t k = 0;

	if (!env)
		return;
	while (env[k + 1])
		k++;
	free(env[k]);
	free(env);
}

static void spawn_run(struct scheduler *S, struct sjob *j, int64_t slot)
{
	static const char *const levels[] = { "-q", NULL, NULL, "-v" };
	uv_process_options_t o;
	uv_stdio_container_t io[3];
	char *argv[SCHED_MAX_ARGV], slotbuf[40], when[64];
	struct tm tm;
	time_t tt = (time_t)slot;
	enum log_level lv = log_get_level();
	int n = 0, rc;

	gmtime_r(&tt, &tm);
	strftime(slotbuf, sizeof slotbuf, "%Y-%m-%dT%H:%M:%SZ", &tm);
	argv[n++] = S->exe;
	argv[n++] = "--config";
	argv[n++] = S->config;
	argv[n++] = "--db";
	argv[n++] = S->db;
	argv[n++] = "--log-format";
	argv[n++] = log_get_format() == LOG_JSON ? "json" : "text";
	if (levels[lv])
		argv[n++] = (char *)levels[lv];
	argv[n++] = "run";
	argv[n++] = j->def.name;
	argv[n++] = "--slot";
	argv[n++] = slotbuf;
	argv[n++] = "--attempt";
	argv[n++] = "1";
	argv[n++] = "--definition-from-env";
	argv[n] = NULL;

	memset(&o, 0, sizeof o);
	io[0].flags = UV_IGNORE;
	io[1].flags = UV_INHERIT_FD;
	io[1].data.fd = 1;
	io[2].flags = UV_INHERIT_FD;
	io[2].data.fd = 2;
	o.file = S->exe;
	o.args = argv;
	o.flags = UV_PROCESS_DETACHED;
	o.stdio = io;
	o.stdio_count = 3;
	o.exit_cb = on_run_exit;
	if (!(o.env = run_env(&j->def))) {
		log_error("schedule: job \"%s\": out of memory", j->def.name);
		return;
	}
	j->proc.data = j;
	fmt_time(j, slot, when, sizeof when);
	rc = uv_spawn(&S->loop, &j->proc, &o);
	free_run_env(o.env);
	if (rc != 0) {
		log_error("schedule: job \"%s\": cannot start a run for %s: %s", j->def.name, when,
			  uv_strerror(rc));
		j->proc.data = j;
		uv_close((uv_handle_t *)&j->proc, NULL);
		return;
	}
	j->running = 1;
	j->s.running = 1;
	log_info("schedule: job \"%s\": run for %s started (pid %d)", j->def.name, when,
		 j->proc.pid);
}

/* Act on a decision for j (last_slot already moved on by sched.c). */
static void act(struct scheduler *S, struct sjob *j, const struct sched_action *a,
		int64_t old_slot)
{
	struct db_job_run rec;
	struct err e = { 0 };
	char when[64], why[160];

	if (j->s.last_slot != old_slot &&
	    db_job_slot_set(S->ctx->db, j->def.name, j->s.last_slot, &e) != 0)
		log_error("schedule: job \"%s\": %s", j->def.name, e.msg);
	if (a->kind == SCHED_NOTHING)
		return;
	memset(&rec, 0, sizeof rec);
	rec.job = j->def.name;
	rec.args = NULL;
	rec.has_slot = 1;
	rec.slot = a->slot;
	rec.attempt = 1;
	fmt_time(j, a->slot, when, sizeof when);
	switch (a->kind) {
	case SCHED_FIRE:
		spawn_run(S, j, a->slot);
		return;
	case SCHED_SKIP_BUSY:
		snprintf(why, sizeof why, "the previous run of job \"%s\" is still going",
			 j->def.name);
		log_warn("schedule: job \"%s\": slot %s skipped: %s", j->def.name, when, why);
		break;
	case SCHED_SKIP_MISSED:
	default:
		snprintf(why, sizeof why, "%ld missed run%s skipped (policy %s)", a->nslots,
			 a->nslots == 1 ? "" : "s",
			 j->def.missed == JOB_MISSED_RUN_ONCE ? "run_once, older than max_age_seconds"
							      : "skip");
		log_info("schedule: job \"%s\": %s, the newest for %s", j->def.name, why, when);
		break;
	}
	if (db_job_run_skipped(S->ctx->db, &rec, why, &e) != 0)
		log_error("schedule: job \"%s\": %s", j->def.name, e.msg);
}

/* ---- the tick ------------------------------------------------------------ */

static void on_tick(uv_timer_t *t);

static void arm(struct scheduler *S)
{
	int64_t next = SCHED_NEVER, n, ms;
	size_t i;

	for (i = 0; i < S->njobs; i++) {
		if (!S->jobs[i]->def.enabled)
			continue;
		n = sched_next(&S->jobs[i]->s);
		if (n < next)
			next = n;
	}
	S->planned_ms = sched_now_ms(S);
	ms = sched_sleep_ms(next, S->planned_ms);
	S->planned_ms += ms;
	if (S->speedup > 1)
		ms = (ms + S->speedup - 1) / S->speedup;
	uv_timer_start(&S->tick, on_tick, (uint64_t)ms + 2, 0);
}

static void on_tick(uv_timer_t *t)
{
	struct scheduler *S = t->data;
	struct sched_action a;
	int64_t now_ms = sched_now_ms(S), now = floor_div1000(now_ms), old;
	int64_t late = now_ms - S->planned_ms;
	enum sched_clock clk = sched_clock_step(S->prev_tick, now);
	size_t i;

	/* a wake-up 30 s off the plan is a clock step or a suspend, not jitter */
	if (late > 30000 || late < -30000)
		log_warn("schedule: the clock moved %s by about %lld s while waiting",
			 late > 0 ? "forward" : "back", (long long)((late > 0 ? late : -late) / 1000));
	for (i = 0; i < S->njobs; i++) {
		struct sjob *j = S->jobs[i];

		if (!j->def.enabled) {
			j->s.last_slot = now;   /* disabled: follow the clock silently */
			continue;
		}
		old = j->s.last_slot;
		sched_tick(&j->s, clk, now, &a);
		act(S, j, &a, old);
	}
	S->prev_tick = now;
	arm(S);
}

/* ---- jobs and reloads ---------------------------------------------------- */

static struct sjob *add_job(struct scheduler *S, struct job *def)
{
	struct sjob *j, **nv;

	if (S->njobs == S->cap) {
		size_t ncap = S->cap ? S->cap * 2 : 8;

		if (!(nv = realloc(S->jobs, ncap * sizeof *nv)))
			return NULL;
		S->jobs = nv;
		S->cap = ncap;
	}
	if (!(j = calloc(1, sizeof *j)))
		return NULL;
	j->def = *def;          /* takes ownership */
	memset(def, 0, sizeof *def);
	j->owner = S;
	sched_job_init(&j->s, &j->def.cron, &j->def.tz, j->def.missed == JOB_MISSED_RUN_ONCE,
		       j->def.max_age_seconds);
	S->jobs[S->njobs++] = j;
	return j;
}

/* Start-up decision for a job just added (missed runs). */
static void start_job(struct scheduler *S, struct sjob *j, int64_t now)
{
	struct sched_action a;
	struct err e = { 0 };
	int64_t stored = 0;
	int found = 0;
	char when[64];

	if (db_job_slot_get(S->ctx->db, j->def.name, &stored, &found, &e) != 0)
		log_error("schedule: job \"%s\": %s", j->def.name, e.msg);
	if (!j->def.enabled) {
		j->s.last_slot = now;
		log_info("schedule: job \"%s\" is disabled", j->def.name);
		return;
	}
	sched_start(&j->s, found, stored, now, &a);
	act(S, j, &a, found ? stored : INT64_MIN);
	if (!j->running) {
		int64_t next = sched_next(&j->s);

		if (next == SCHED_NEVER)
			log_warn("schedule: job \"%s\" (\"%s\") will not fire again", j->def.name,
				 j->def.schedule);
		else {
			fmt_time(j, next, when, sizeof when);
			log_info("schedule: job \"%s\" (\"%s\" %s): next run %s", j->def.name,
				 j->def.schedule, j->def.tz.name, when);
		}
	}
}

/* The job name a problem's file names ("DIR/NAME.json"). */
static void problem_job(const struct config_problem *p, char *name, size_t sz)
{
	const char *base = strrchr(p->file, '/');
	size_t len;

	base = base ? base + 1 : p->file;
	len = strlen(base);
	if (len > 5 && strcmp(base + len - 5, ".json") == 0)
		len -= 5;
	snprintf(name, sz, "%.*s", (int)len, base);
}

static void log_problems(const struct config_problems *probs, int level_error)
{
	size_t i;

	for (i = 0; i < probs->count; i++) {
		const struct config_problem *p = &probs->items[i];

		if (level_error)
			log_error("schedule: %s: %s%s%s", p->file, p->path, p->path[0] ? ": " : "",
				  p->reason);
		else
			log_warn("schedule: reload: %s: %s%s%s", p->file, p->path,
				 p->path[0] ? ": " : "", p->reason);
	}
}

static int has_problem(const struct config_problems *probs, const char *name)
{
	char pn[JOB_NAME_MAX + 8];
	size_t i;

	for (i = 0; i < probs->count; i++) {
		problem_job(&probs->items[i], pn, sizeof pn);
		if (strcmp(pn, name) == 0)
			return 1;
	}
	return 0;
}

/* Drop S->jobs[i] (its run, if any, keeps it alive until it ends). */
static void remove_job(struct scheduler *S, size_t i)
{
	struct sjob *j = S->jobs[i];

	memmove(&S->jobs[i], &S->jobs[i + 1], (S->njobs - i - 1) * sizeof *S->jobs);
	S->njobs--;
	j->removed = 1;
	if (!j->running) {
		job_release(&j->def);
		free(j);
	}
}

static void reload(struct scheduler *S)
{
	struct config_problems probs = { 0 };
	struct job_list list;
	struct err e = { 0 };
	int64_t now = floor_div1000(sched_now_ms(S));
	size_t i, kept = 0, added = 0, changed = 0, removed = 0;
	int rc;

	log_info("schedule: SIGHUP: reloading %s", S->ctx->cfg->jobs_dir);
	rc = jobs_load_dir(S->ctx->cfg->jobs_dir, S->ctx->cfg->timezone, &list, &probs, &e);
	if (rc != 0) {
		log_error("schedule: reload: %s; keeping every job as it was", e.msg);
		job_list_free(&list);
		config_problems_free(&probs);
		return;
	}
	log_problems(&probs, 0);
	for (i = S->njobs; i-- > 0;) {
		struct sjob *j = S->jobs[i];
		struct job *nj = job_list_find(&list, j->def.name);
		int64_t last = j->s.last_slot;

		if (nj) {
			job_release(&j->def);
			j->def = *nj;
			memset(nj, 0, sizeof *nj);   /* taken: an empty name is never found */
			sched_job_init(&j->s, &j->def.cron, &j->def.tz,
				       j->def.missed == JOB_MISSED_RUN_ONCE, j->def.max_age_seconds);
			j->s.last_slot = last;
			j->s.running = j->running;
			changed++;
		} else if (has_problem(&probs, j->def.name)) {
			log_warn("schedule: reload: job \"%s\" keeps its old definition (its file "
				 "has problems)", j->def.name);
			kept++;
		} else {
			log_info("schedule: reload: job \"%s\" removed", j->def.name);
			remove_job(S, i);
			removed++;
		}
	}
	for (i = 0; i < list.count; i++) {
		struct sjob *j;

		if (!list.items[i].name[0])
			continue;
		if (!(j = add_job(S, &list.items[i]))) {
			log_error("schedule: reload: out of memory");
			break;
		}
		start_job(S, j, now);
		added++;
	}
	log_info("schedule: reload done: %zu job%s reloaded, %zu added, %zu removed, %zu kept "
		 "as they were", changed, changed == 1 ? "" : "s", added, removed, kept);
	job_list_free(&list);
	config_problems_free(&probs);
	if (!S->stopping) {
		uv_timer_stop(&S->tick);
		arm(S);
	}
}

/* ---- stopping ------------------------------------------------------------ */

static void close_all(struct scheduler *S)
{
	if (S->closed)
		return;
	S->closed = 1;
	uv_close((uv_handle_t *)&S->tick, NULL);
	uv_close((uv_handle_t *)&S->grace, NULL);
	uv_close((uv_handle_t *)&S->sig_term, NULL);
	uv_close((uv_handle_t *)&S->sig_int, NULL);
	uv_close((uv_handle_t *)&S->sig_hup, NULL);
}

static size_t running_count(const struct scheduler *S)
{
	size_t i, n = 0;

	for (i = 0; i < S->njobs; i++)
		n += (size_t)S->jobs[i]->running;
	return n;
}

static void signal_runs(struct scheduler *S, int signo)
{
	size_t i;

	for (i = 0; i < S->njobs; i++) {
		if (!S->jobs[i]->running)
			continue;
		log_warn("schedule: job \"%s\": sending %s to its run (pid %d)", S->jobs[i]->def.name,
			 signo == SIGKILL ? "SIGKILL" : "SIGTERM", S->jobs[i]->proc.pid);
		kill(-S->jobs[i]->proc.pid, signo);
	}
}

static void maybe_finish(struct scheduler *S)
{
	if (S->stopping && running_count(S) == 0) {
		log_info("schedule: stopped");
		close_all(S);
	}
}

static void on_grace(uv_timer_t *t)
{
	struct scheduler *S = t->data;

	if (S->stopping == 1) {
		S->stopping = 2;
		signal_runs(S, SIGTERM);
		uv_timer_start(&S->grace, on_grace, SCHED_KILL_GRACE * 1000, 0);
	} else {
		signal_runs(S, SIGKILL);
	}
}

static void on_stop_signal(uv_signal_t *s, int signum)
{
	struct scheduler *S = s->data;
	size_t n;

	if (S->stopping) {
		if (S->stopping == 1) {   /* asked twice: do not wait for the grace */
			uv_timer_stop(&S->grace);
			on_grace(&S->grace);
		}
		return;
	}
	S->stopping = 1;
	uv_timer_stop(&S->tick);
	n = running_count(S);
	log_info("schedule: %s: no more runs will start%s", signum == SIGINT ? "SIGINT" : "SIGTERM",
		 n ? "; waiting for the runs still going" : "");
	if (n)
		uv_timer_start(&S->grace, on_grace, (uint64_t)S->grace_seconds * 1000, 0);
	maybe_finish(S);
}

static void on_hup(uv_signal_t *s, int signum)
{
	(void)signum;
	reload(s->data);
}

/* ---- set-up -------------------------------------------------------------- */

static int parse_args(int argc, char **argv, struct scheduler *S)
{
	static const struct option opts[] = {
		{ "grace", required_argument, NULL, 'g' },
		{ NULL, 0, NULL, 0 }
	};
	char *end;
	long n;
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'g':
			errno = 0;
			n = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || n < 0 || n > 86400) {
				log_error("schedule: --grace: '%s' is not a number of seconds from 0 "
					  "to 86400", optarg);
				return EXIT_USAGE;
			}
			S->grace_seconds = (int)n;
			break;
		case ':':
			log_error("schedule: option '%s' needs a value", argv[optind - 1]);
			fputs(usage_line, stderr);
			return EXIT_USAGE;
		default:
			log_error("schedule: unknown option '%s'", argv[optind - 1]);
			fputs(usage_line, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		log_error("schedule: unexpected argument '%s'", argv[optind]);
		fputs(usage_line, stderr);
		return EXIT_USAGE;
	}
	return 0;
}

static int paths_init(struct scheduler *S, struct err *e)
{
	size_t len = sizeof S->exe;
	char cwd[PATH_MAX];

	if (uv_exepath(S->exe, &len) != 0)
		return err_set(e, EXIT_SOFTWARE, "cannot find this program's path");
	if (!realpath(S->ctx->config_path, S->config))
		return err_set(e, EXIT_NOINPUT, "config \"%s\": %s", S->ctx->config_path,
			       strerror(errno));
	if (S->ctx->db_path[0] == '/')
		snprintf(S->db, sizeof S->db, "%s", S->ctx->db_path);
	else if (!getcwd(cwd, sizeof cwd) ||
		 (size_t)snprintf(S->db, sizeof S->db, "%s/%s", cwd, S->ctx->db_path) >= sizeof S->db)
		return err_set(e, EXIT_SOFTWARE, "cannot make the database path absolute");
	return 0;
}

static int speedup_from_env(void)
{
	const char *s = getenv("TRUEUP_SCHED_TEST_SPEEDUP");
	char *end;
	long n;

	if (!s || !*s)
		return 1;
	n = strtol(s, &end, 10);
	if (*end || n < 1 || n > 3600)
		return 1;
	log_warn("schedule: TRUEUP_SCHED_TEST_SPEEDUP=%ld: the clock runs %ld times fast "
		 "(for tests only)", n, n);
	return (int)n;
}

/* Load the jobs; refuse to start when any is invalid. */
static int load_jobs(struct scheduler *S)
{
	struct config_problems probs = { 0 };
	struct job_list list;
	struct err e = { 0 };
	size_t i;
	int rc;

	rc = jobs_load_dir(S->ctx->cfg->jobs_dir, S->ctx->cfg->timezone, &list, &probs, &e);
	if (rc == 0 && probs.count) {
		log_problems(&probs, 1);
		log_error("schedule: %zu problem%s in the job files; see 'trueup config check'",
			  probs.count, probs.count == 1 ? "" : "s");
		rc = EXIT_CONFIG;
	} else if (rc != 0) {
		log_error("schedule: %s", e.msg);
	}
	for (i = 0; rc == 0 && i < list.count; i++) {
		if (!add_job(S, &list.items[i])) {
			log_error("schedule: out of memory");
			rc = EXIT_SOFTWARE;
		}
	}
	job_list_free(&list);
	config_problems_free(&probs);
	return rc;
}

static void free_jobs(struct scheduler *S)
{
	size_t i;

	for (i = 0; i < S->njobs; i++) {
		job_release(&S->jobs[i]->def);
		free(S->jobs[i]);
	}
	free(S->jobs);
	S->jobs = NULL;
	S->njobs = S->cap = 0;
}

static int run_loop(struct scheduler *S)
{
	int64_t now;
	size_t i;

	uv_timer_init(&S->loop, &S->tick);
	uv_timer_init(&S->loop, &S->grace);
	uv_signal_init(&S->loop, &S->sig_term);
	uv_signal_init(&S->loop, &S->sig_int);
	uv_signal_init(&S->loop, &S->sig_hup);
	S->tick.data = S->grace.data = S;
	S->sig_term.data = S->sig_int.data = S->sig_hup.data = S;
	uv_signal_start(&S->sig_term, on_stop_signal, SIGTERM);
	uv_signal_start(&S->sig_int, on_stop_signal, SIGINT);
	uv_signal_start(&S->sig_hup, on_hup, SIGHUP);

	S->origin_ms = real_ms();
	now = floor_div1000(sched_now_ms(S));
	S->prev_tick = now;
	log_info("schedule: started with %zu job%s from %s (pid %ld)", S->njobs,
		 S->njobs == 1 ? "" : "s", S->ctx->cfg->jobs_dir, (long)getpid());
	for (i = 0; i < S->njobs; i++)
		start_job(S, S->jobs[i], now);
	arm(S);
	uv_run(&S->loop, UV_RUN_DEFAULT);
	return 0;
}

int cmd_schedule(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct scheduler *S;
	struct err e = { 0 };
	char lockpath[PATH_MAX + 32];
	int rc, fd = -1;

	if (cmd_wants_help(argc, argv)) {
		out_printf("%s%s", usage_line, usage_schedule);
		return EXIT_OK;
	}
	if (!(S = calloc(1, sizeof *S))) {
		log_error("schedule: out of memory");
		return EXIT_SOFTWARE;
	}
	S->ctx = ctx;
	S->grace_seconds = SCHED_DEFAULT_GRACE;
	if ((rc = parse_args(argc, argv, S)) != 0)
		goto out;
	if ((rc = paths_init(S, &e)) != 0) {
		log_error("schedule: %s", e.msg);
		goto out;
	}
	snprintf(lockpath, sizeof lockpath, "%s.scheduler.lock", ctx->db_path);
	if ((rc = lock_acquire(lockpath, 0, &fd, &e)) != 0) {
		log_error("schedule: another scheduler uses this database: %s", e.msg);
		goto out;
	}
	S->speedup = speedup_from_env();
	if ((rc = load_jobs(S)) != 0)
		goto out;
	if ((rc = uv_loop_init(&S->loop)) != 0) {
		log_error("schedule: cannot start the event loop: %s", uv_strerror(rc));
		rc = EXIT_SOFTWARE;
		goto out;
	}
	rc = run_loop(S);
	if (uv_loop_close(&S->loop) != 0)
		log_warn("schedule: the event loop still had handles open at exit");
out:
	free_jobs(S);
	free(S);
	lock_release(fd);
	return rc;
}
