/*
 * cmd_run.c - `trueup run JOB`: run one job from jobs/ now, for system cron,
 * systemd timers and `trueup schedule` alike.
 *
 * Order of events: load and check jobs/JOB.json; take the job's lock
 * (lock.h; "DB.lock.JOB", non-blocking: held means another run of the job
 * is going, so this one is recorded 'skipped' and exits 75); record the run
 * ('running'); ping the health check's /start; run the steps in order, each
 * as a child process of this same binary (so a crash or leak in a step
 * cannot touch this process's bookkeeping), stopping at the first that
 * fails; record the end (status, exit code or signal, one result per step
 * with the step's own run id and counts, the error line); ping success or
 * /fail; release the lock.
 *
 * A step child runs `trueup --config CFG --db DB [-v|-q] --log-format F
 * STEP...` with absolute paths, in its own session (so a timeout can
 * signal its whole process group), with the jobs directory as its working
 * directory (relative paths in a step are relative to the job file, as
 * relative paths in the config file are to the config file).  It inherits
 * the lock descriptor: if this process is killed, the job stays locked
 * until the step has exited too.  The environment is inherited (the Stripe
 * key travels there, never in argv).
 *
 * The job's timeout_seconds covers all steps: when it passes, the running
 * step's process group gets SIGTERM, then SIGKILL RUN_KILL_GRACE seconds
 * later.  SIGTERM, SIGINT or SIGHUP to this process does the same at once
 * and stops the job (the run is recorded with that signal).
 *
 * Exit status: 0 ok; the failing step's own exit code; 70 for a step
 * killed by a signal (a crash); 75 for a timeout, a stop by signal or a
 * held lock; 78 for a step this build does not have or an invalid job.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <uv.h>

#include "commands.h"
#include "db_jobs.h"
#include "healthcheck.h"
#include "jobs.h"
#include "lock.h"
#include "log.h"
#include "tz.h"

#define RUN_KILL_GRACE 10   /* seconds between SIGTERM and SIGKILL */
#define RUN_MAX_ARGV (JOB_STEP_MAX_ARGS + 12)

static const char usage_line[] = "usage: trueup run JOB\n";

static const char usage_run[] =
	"Run the job defined in JOBS_DIR/JOB.json now: its steps in order, each as a\n"
	"child trueup process, stopping at the first that fails, within the job's\n"
	"timeout.  A per-job lock keeps two runs of one job from overlapping: when it\n"
	"is held the run is recorded as skipped and trueup exits 75.  Every run is\n"
	"recorded (see 'trueup status').  For system cron and systemd timers.\n"
	"Exit status: 0 ok; a failing step's exit status; 70 a step crashed;\n"
	"75 lock held, timeout or stopped by a signal; 78 invalid job or a step this\n"
	"build does not have; 66 no such job.\n";

enum { OPT_SLOT = 256, OPT_ATTEMPT, OPT_DEFINITION_ENV };

/*
 * Hidden options, for `trueup schedule` only: --slot and --attempt say
 * which scheduled slot this run is for; --definition-from-env makes the
 * job definition come from $TRUEUP_RUN_DEFINITION (the file's content the
 * scheduler validated and keeps: an invalid edit of the file does not
 * stop a job the scheduler still runs with its old definition).
 */
#define RUN_DEFINITION_ENV "TRUEUP_RUN_DEFINITION"

struct run_args {
	const char *job;
	const char *slot;       /* set by `trueup schedule` */
	int attempt;
	int definition_env;
};

/* The state of the step being run, shared with the libuv callbacks. */
struct runner {
	uv_loop_t loop;
	uv_process_t proc;
	uv_timer_t timer;
	uv_signal_t sigs[3];
	int proc_live;          /* proc spawned and not yet closed */
	int64_t exit_status;
	int term_signal;
	int timed_out;          /* the deadline passed during this step */
	int stop_signal;        /* a signal this process received */
	int killing;            /* SIGTERM sent, SIGKILL armed */
	uint64_t deadline;      /* uv_now() value when the job's time is up */
};

/* Absolute paths and flags every step child gets. */
struct child_env {
	char exe[PATH_MAX];
	char config[PATH_MAX];
	char db[PATH_MAX];
	char cwd[PATH_MAX];
};

static int usage_error(void)
{
	fputs(usage_line, stderr);
	return EXIT_USAGE;
}

static int parse_args(int argc, char **argv, struct run_args *a)
{
	static const struct option opts[] = {
		{ "slot", required_argument, NULL, OPT_SLOT },
		{ "attempt", required_argument, NULL, OPT_ATTEMPT },
		{ "definition-from-env", no_argument, NULL, OPT_DEFINITION_ENV },
		{ NULL, 0, NULL, 0 }
	};
	char *end;
	long n;
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case OPT_SLOT:
			a->slot = optarg;
			break;
		case OPT_ATTEMPT:
			errno = 0;
			n = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || n < 1 || n > 1000) {
				log_error("run: --attempt: '%s' is not a number from 1 to 1000", optarg);
				return EXIT_USAGE;
			}
			a->attempt = (int)n;
			break;
		case OPT_DEFINITION_ENV:
			a->definition_env = 1;
			break;
		case ':':
			log_error("run: option '%s' needs a value", argv[optind - 1]);
			return usage_error();
		default:
			log_error("run: unknown option '%s'", argv[optind - 1]);
			return usage_error();
		}
	}
	if (optind >= argc) {
		log_error("run: no job given");
		return usage_error();
	}
	a->job = argv[optind++];
	if (optind < argc) {
		log_error("run: unexpected argument '%s'", argv[optind]);
		return usage_error();
	}
	return 0;
}

/* path made absolute against the working directory (need not exist). */
static int absolute(const char *path, char *out, size_t size)
{
	char cwd[PATH_MAX];

	if (path[0] == '/')
		return (size_t)snprintf(out, size, "%s", path) < size ? 0 : -1;
	if (!getcwd(cwd, sizeof cwd))
		return -1;
	return (size_t)snprintf(out, size, "%s/%s", cwd, path) < size ? 0 : -1;
}

static int child_env_init(struct child_env *ce, const struct cmd_ctx *ctx, struct err *e)
{
	size_t len = sizeof ce->exe;

	if (uv_exepath(ce->exe, &len) != 0)
		return err_set(e, EXIT_SOFTWARE, "cannot find this program's path");
	if (!realpath(ctx->config_path, ce->config) || absolute(ctx->db_path, ce->db, sizeof ce->db))
		return err_set(e, EXIT_SOFTWARE, "cannot make the config and database paths absolute");
	if (!realpath(ctx->cfg->jobs_dir, ce->cwd))
		return err_set(e, EXIT_NOINPUT, "jobs directory \"%s\": %s", ctx->cfg->jobs_dir,
			       strerror(errno));
	return 0;
}

static void on_close_noop(uv_handle_t *h)
{
	(void)h;
}

static void on_exit_cb(uv_process_t *p, int64_t status, int signo)
{
	struct runner *r = p->data;

	r->exit_status = status;
	r->term_signal = signo;
	uv_timer_stop(&r->timer);
	uv_close((uv_handle_t *)p, on_close_noop);
	r->proc_live = 0;
}

static void on_kill_timer(uv_timer_t *t)
{
	struct runner *r = t->data;

	if (r->proc_live)
		kill(-r->proc.pid, SIGKILL);
}

/* SIGTERM to the step's process group now, SIGKILL after the grace. */
static void stop_child(struct runner *r)
{
	if (!r->proc_live || r->killing)
		return;
	r->killing = 1;
	kill(-r->proc.pid, SIGTERM);
	uv_timer_stop(&r->timer);
	uv_timer_start(&r->timer, on_kill_timer, RUN_KILL_GRACE * 1000, 0);
}

static void on_deadline(uv_timer_t *t)
{
	struct runner *r = t->data;

	r->timed_out = 1;
	stop_child(r);
}

static void on_signal(uv_signal_t *s, int signum)
{
	struct runner *r = s->data;

	if (!r->stop_signal)
		r->stop_signal = signum;
	stop_child(r);
}

static int runner_init(struct runner *r, int timeout_seconds)
{
	static const int signums[3] = { SIGTERM, SIGINT, SIGHUP };
	int i, rc;

	memset(r, 0, sizeof *r);
	if ((rc = uv_loop_init(&r->loop)) != 0)
		return rc;
	uv_timer_init(&r->loop, &r->timer);
	r->timer.data = r;
	for (i = 0; i < 3; i++) {
		uv_signal_init(&r->loop, &r->sigs[i]);
		r->sigs[i].data = r;
		uv_signal_start(&r->sigs[i], on_signal, signums[i]);
		uv_unref((uv_handle_t *)&r->sigs[i]);
	}
	r->deadline = uv_now(&r->loop) + (uint64_t)timeout_seconds * 1000;
	return 0;
}

static void runner_release(struct runner *r)
{
	int i;

	uv_close((uv_handle_t *)&r->timer, on_close_noop);
	for (i = 0; i < 3; i++)
		uv_close((uv_handle_t *)&r->sigs[i], on_close_noop);
	uv_run(&r->loop, UV_RUN_DEFAULT);
	uv_loop_close(&r->loop);
}

/*
 * Spawn one step and wait for it.  Returns 0 once it has ended (see
 * r->exit_status, r->term_signal), or a libuv error when it could not start.
 */
static int runner_step(struct runner *r, const struct child_env *ce, const struct job_step *st)
{
	static const char *const levels[] = { "-q", NULL, NULL, "-v" };
	uv_process_options_t o;
	uv_stdio_container_t io[3];
	char *argv[RUN_MAX_ARGV];
	enum log_level lv = log_get_level();
	uint64_t now;
	int n = 0, k, rc;

	argv[n++] = (char *)ce->exe;
	argv[n++] = "--config";
	argv[n++] = (char *)ce->config;
	argv[n++] = "--db";
	argv[n++] = (char *)ce->db;
	argv[n++] = "--log-format";
	argv[n++] = log_get_format() == LOG_JSON ? "json" : "text";
	if (levels[lv])
		argv[n++] = (char *)levels[lv];
	for (k = 0; k < st->argc; k++)
		argv[n++] = st->argv[k];
	argv[n] = NULL;

	memset(&o, 0, sizeof o);
	io[0].flags = UV_IGNORE;
	io[1].flags = UV_INHERIT_FD;
	io[1].data.fd = 1;
	io[2].flags = UV_INHERIT_FD;
	io[2].data.fd = 2;
	o.file = ce->exe;
	o.args = argv;
	o.cwd = ce->cwd;
	o.flags = UV_PROCESS_DETACHED;
	o.stdio = io;
	o.stdio_count = 3;
	o.exit_cb = on_exit_cb;
	r->exit_status = 0;
	r->term_signal = 0;
	r->killing = 0;
	r->proc.data = r;
	if ((rc = uv_spawn(&r->loop, &r->proc, &o)) != 0) {
		uv_close((uv_handle_t *)&r->proc, on_close_noop);
		uv_run(&r->loop, UV_RUN_DEFAULT);
		return rc;
	}
	r->proc_live = 1;
	now = uv_now(&r->loop);
	if (r->stop_signal)
		stop_child(r);
	else if (now >= r->deadline)
		on_deadline(&r->timer);
	else
		uv_timer_start(&r->timer, on_deadline, r->deadline - now, 0);
	uv_run(&r->loop, UV_RUN_DEFAULT);
	return 0;
}

static const char *signame(int signo)
{
	switch (signo) {
	case SIGTERM: return "SIGTERM";
	case SIGKILL: return "SIGKILL";
	case SIGINT: return "SIGINT";
	case SIGHUP: return "SIGHUP";
	case SIGSEGV: return "SIGSEGV";
	case SIGABRT: return "SIGABRT";
	case SIGBUS: return "SIGBUS";
	case SIGFPE: return "SIGFPE";
	default: return "a signal";
	}
}

/* The outcome of a job run, for its row and its exit status. */
struct outcome {
	int rc;
	int signo;
	char error[ERR_MSG_MAX];
	json_t *steps;
};

static void step_result(struct outcome *out, struct db *db, long long run_id,
			const struct job_step *st, const struct runner *r, double secs,
			const char *what)
{
	json_t *o = json_object();
	char counts[1024];
	long long child_id = 0;
	struct err e = { 0 };
	int found = 0;

	if (!o)
		return;
	json_object_set_new(o, "step", json_string(st->text));
	json_object_set_new(o, "status", json_string(what));
	if (r) {
		json_object_set_new(o, "exit_code", r->term_signal ? json_null()
						      : json_integer(r->exit_status));
		json_object_set_new(o, "signal", r->term_signal ? json_integer(r->term_signal)
								: json_null());
		json_object_set_new(o, "ms", json_integer((json_int_t)(secs * 1000)));
		if (db_job_step_run(db, (long long)r->proc.pid, run_id, &found, &child_id, counts,
				    sizeof counts, &e) == 0 && found) {
			json_t *c = counts[0] ? json_loads(counts, 0, NULL) : NULL;

			json_object_set_new(o, "run_id", json_integer(child_id));
			if (c)
				json_object_set_new(o, "counts", c);
		}
	}
	json_array_append_new(out->steps, o);
}

static void fail(struct outcome *out, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail(struct outcome *out, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out->error, sizeof out->error, fmt, ap);
	va_end(ap);
	out->rc = rc;
	log_error("%s", out->error);
}

/* Run the steps of j in order into *out. */
static void run_steps(struct cmd_ctx *ctx, const struct job *j, long long run_id,
		      struct outcome *out)
{
	struct child_env ce;
	struct runner r;
	struct err e = { 0 };
	size_t i;

	if (child_env_init(&ce, ctx, &e) != 0) {
		fail(out, e.code, "run: %s", e.msg);
		return;
	}
	if (runner_init(&r, j->timeout_seconds) != 0) {
		fail(out, EXIT_SOFTWARE, "run: cannot start the event loop");
		return;
	}
	for (i = 0; i < j->nsteps && out->rc == 0; i++) {
		const struct job_step *st = &j->steps[i];
		uint64_t t0;
		int rc;

		if (!ctx->command_available || !ctx->command_available(st->argv[0])) {
			step_result(out, ctx->db, run_id, st, NULL, 0, "unavailable");
			fail(out, EXIT_CONFIG, "run: step %zu \"%s\": '%s' is not available in this "
			     "build", i + 1, st->text, st->argv[0]);
			break;
		}
		if (r.stop_signal) {
			out->signo = r.stop_signal;
			fail(out, EXIT_TEMPFAIL, "run: job \"%s\" stopped by %s before step %zu \"%s\"",
			     j->name, signame(r.stop_signal), i + 1, st->text);
			break;
		}
		log_info("run: job \"%s\" step %zu/%zu: %s", j->name, i + 1, j->nsteps, st->text);
		uv_update_time(&r.loop);
		t0 = uv_now(&r.loop);
		if ((rc = runner_step(&r, &ce, st)) != 0) {
			step_result(out, ctx->db, run_id, st, NULL, 0, "not started");
			fail(out, EXIT_SOFTWARE, "run: step %zu \"%s\": cannot start \"%s\": %s", i + 1,
			     st->text, ce.exe, uv_strerror(rc));
			break;
		}
		uv_update_time(&r.loop);
		step_result(out, ctx->db, run_id, st, &r, (double)(uv_now(&r.loop) - t0) / 1000,
			    r.term_signal == 0 && r.exit_status == 0 ? "ok" : "failed");
		if (r.timed_out) {
			out->signo = r.term_signal;
			fail(out, EXIT_TEMPFAIL, "run: job \"%s\" timed out after %d s in step %zu "
			     "\"%s\" (stopped with %s)", j->name, j->timeout_seconds, i + 1, st->text,
			     signame(r.term_signal ? r.term_signal : SIGTERM));
		} else if (r.stop_signal) {
			out->signo = r.stop_signal;
			fail(out, EXIT_TEMPFAIL, "run: job \"%s\" stopped by %s during step %zu \"%s\"",
			     j->name, signame(r.stop_signal), i + 1, st->text);
		} else if (r.term_signal) {
			out->signo = r.term_signal;
			fail(out, EXIT_SOFTWARE, "run: step %zu \"%s\" was killed by signal %d (%s)",
			     i + 1, st->text, r.term_signal, signame(r.term_signal));
		} else if (r.exit_status != 0) {
			fail(out, (int)r.exit_status, "run: job \"%s\" failed at step %zu \"%s\" "
			     "(exit %d)", j->name, i + 1, st->text, (int)r.exit_status);
		}
	}
	runner_release(&r);
}

static void ping(const struct job *j, const char *suffix)
{
	struct err e = { 0 };

	if (!j->healthcheck_url)
		return;
	if (healthcheck_ping(j->healthcheck_url, suffix, &e) != 0)
		log_warn("run: job \"%s\": health-check ping%s%s failed (the job is not affected): %s",
			 j->name, suffix[0] ? " " : "", suffix, e.msg);
}

/* Lock, record, run, record, unlock.  Returns the exit code. */
static int run_job(struct cmd_ctx *ctx, const struct job *j, struct db_job_run *rec)
{
	struct outcome out = { 0 };
	struct err e = { 0 };
	char lockpath[PATH_MAX + 80], args[256], *steps;
	long long run_id = 0;
	int fd, rc;

	snprintf(args, sizeof args, "[\"%s\"]", j->name);
	rec->args = args;
	if ((rc = lock_job_path(lockpath, sizeof lockpath, ctx->db_path, j->name, &e)) != 0) {
		log_error("run: %s", e.msg);
		return rc;
	}
	rc = lock_acquire(lockpath, LOCK_INHERIT, &fd, &e);
	if (rc == EXIT_TEMPFAIL) {
		char why[ERR_MSG_MAX + JOB_NAME_MAX + 32];

		snprintf(why, sizeof why, "job \"%s\" is already running: %s", j->name, e.msg);
		log_warn("run: %s; this run is skipped", why);
		if (db_job_run_skipped(ctx->db, rec, why, &e) != 0)
			log_error("run: %s", e.msg);
		return EXIT_TEMPFAIL;
	}
	if (rc != 0) {
		log_error("run: %s", e.msg);
		return rc;
	}
	if ((rc = db_job_run_begin(ctx->db, rec, &run_id, &e)) != 0) {
		log_error("run: %s", e.msg);
		lock_release(fd);
		return rc;
	}
	if (j->healthcheck_url)
		curl_global_init(CURL_GLOBAL_DEFAULT);
	ping(j, "/start");
	out.steps = json_array();
	if (!out.steps)
		fail(&out, EXIT_SOFTWARE, "run: out of memory");
	else
		run_steps(ctx, j, run_id, &out);
	steps = out.steps ? json_dumps(out.steps, JSON_COMPACT) : NULL;
	if (db_job_run_end(ctx->db, run_id, out.rc == 0 ? "ok" : "failed", out.rc, out.signo,
			   steps, out.rc ? out.error : NULL, &e) != 0) {
		log_error("run: %s", e.msg);
		if (out.rc == 0)
			out.rc = e.code;
	}
	free(steps);
	json_decref(out.steps);
	ping(j, out.rc == 0 ? "" : "/fail");
	if (j->healthcheck_url)
		curl_global_cleanup();
	if (out.rc == 0)
		log_info("run: job \"%s\" ok (%zu step%s)", j->name, j->nsteps,
			 j->nsteps == 1 ? "" : "s");
	lock_release(fd);
	return out.rc;
}

int cmd_run(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct run_args a = { NULL, NULL, 0, 0 };
	struct db_job_run rec;
	struct err e = { 0 };
	struct job j;
	int rc;

	if (cmd_wants_help(argc, argv)) {
		out_printf("%s%s", usage_line, usage_run);
		return EXIT_OK;
	}
	if ((rc = parse_args(argc, argv, &a)) != 0)
		return rc;
	memset(&rec, 0, sizeof rec);
	rec.job = a.job;
	rec.attempt = a.attempt;
	if (a.slot) {
		if ((rc = tz_parse_iso(a.slot, &rec.slot, &e)) != 0) {
			log_error("run: --slot: %s", e.msg);
			return rc;
		}
		rec.has_slot = 1;
	}
	if (a.definition_env) {
		const char *text = getenv(RUN_DEFINITION_ENV);

		if (!text) {
			log_error("run: --definition-from-env: %s is not set", RUN_DEFINITION_ENV);
			return EXIT_USAGE;
		}
		rc = job_load_text(ctx->cfg->jobs_dir, a.job, text, ctx->cfg->timezone, &j, &e);
		unsetenv(RUN_DEFINITION_ENV);   /* the steps need not see it */
	} else {
		rc = job_load(ctx->cfg->jobs_dir, a.job, ctx->cfg->timezone, &j, NULL, &e);
	}
	if (rc != 0) {
		log_error("run: %s", e.msg);
		return rc;
	}
	rc = run_job(ctx, &j, &rec);
	job_release(&j);
	return rc;
}
