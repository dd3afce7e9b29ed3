/*
 * cmd_pull.c - `trueup pull [--full] [--only RESOURCE,...] [--window-days N]`:
 * snapshot Stripe into the database (pull.h does the work).
 *
 * The key is loaded after the process is made non-dumpable, from the
 * environment variable or key file the config names (never argv).
 * SIGINT/SIGTERM stop the pull between commits: exit 75, and the next
 * `trueup pull` continues it.  On a terminal, stderr shows a live line per
 * resource (objects, pages, rate, retries, 429s); the summary goes to
 * stdout either way:
 *
 *   customers            320 objects  (320 new, 0 changed, 0 unchanged, 0 tombstoned)  4 pages  4 requests  0 retries  0 429s
 *   ...
 *   total               2000 objects in 1.2 s (1650 objects/s), 31 requests, 0 retries, 0 429s
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apikey.h"
#include "commands.h"
#include "lock.h"
#include "log.h"
#include "pull.h"

static const char usage_pull[] =
	"usage: trueup pull [--full] [--only RESOURCE,...] [--window-days N] [--page-size N]\n"
	"Snapshot Stripe into the database: a full relist on the first pull, with\n"
	"--full, or when the last one is older than 25 days; otherwise only what\n"
	"changed, from /v1/events.  An interrupted pull is continued by the next.\n"
	"  --full             relist the resources even when an incremental pull would do\n"
	"  --only LIST        only these resources: customers, products, prices,\n"
	"                     subscriptions, checkout_sessions, refunds, invoices\n"
	"  --window-days N    page a full relist in created-time windows of N days\n"
	"                     (default: automatic, up to 16 windows per resource)\n"
	"  --page-size N      objects per list request, 1..100 (default 100; for tests)\n"
	"The key comes from the environment variable the config names (default\n"
	"STRIPE_API_KEY) or its api_key_file, never from the command line.\n";

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

struct ui {
	int tty;
	int lines;                  /* status lines drawn so far */
};

static const char *res_name(enum stripe_kind k)
{
	return k == STRIPE_EVENT ? "events" : stripe_kind_resource(k);
}

static void draw(void *udata, const struct pull_result *r)
{
	struct ui *ui = udata;
	char buf[4096];
	size_t len = 0;
	int i, n = 0;
	double secs = r->elapsed_sec > 0.001 ? r->elapsed_sec : 0.001;

	if (!ui->tty)
		return;
	if (ui->lines > 0)
		len += (size_t)snprintf(buf + len, sizeof buf - len, "\033[%dA", ui->lines);
	for (i = 0; i <= PULL_NKINDS && len < sizeof buf - 200; i++) {
		enum stripe_kind k = i < PULL_NKINDS ? pull_kinds[i] : STRIPE_EVENT;
		const struct pull_figures *f = &r->res[k];

		if (!f->active && !f->requests)
			continue;
		len += (size_t)snprintf(buf + len, sizeof buf - len,
					"\r\033[K%-18s %9lld objects %6lld pages %7.0f/s %5lld retries "
					"%5lld 429s%s\n", res_name(k), f->objects, f->pages,
					(double)f->objects / secs, f->retries, f->rate_limited,
					f->done ? "  done" : "");
		n++;
	}
	ui->lines = n;
	log_status(buf);
}

static void on_warn(void *udata, const char *line)
{
	(void)udata;
	log_warn("pull: %s", line);
}

static void on_debug(void *udata, const char *line)
{
	(void)udata;
	log_debug("%s", line);
}

static void print_summary(const struct pull_result *r)
{
	double secs = r->elapsed_sec > 0.001 ? r->elapsed_sec : 0.001;
	long long objects = 0, req = 0, retries = 0, r429 = 0;
	int i;

	for (i = 0; i <= PULL_NKINDS; i++) {
		enum stripe_kind k = i < PULL_NKINDS ? pull_kinds[i] : STRIPE_EVENT;
		const struct pull_figures *f = &r->res[k];

		objects += k == STRIPE_EVENT ? 0 : f->objects;
		req += f->requests;
		retries += f->retries;
		r429 += f->rate_limited;
		if (!f->active && !f->requests)
			continue;
		if (k == STRIPE_EVENT)
			out_printf("%-18s %9lld events    (%lld new, %lld tombstoned)  %lld pages  "
				   "%lld requests  %lld retries  %lld 429s\n", "events", f->objects,
				   r->events_new, f->tombstoned, f->pages, f->requests, f->retries,
				   f->rate_limited);
		else
			out_printf("%-18s %9lld objects  (%lld new, %lld changed, %lld unchanged, "
				   "%lld tombstoned)  %lld pages  %lld retrieved  %lld rechecked  "
				   "%lld requests  %lld retries  %lld 429s%s\n", res_name(k), f->objects,
				   f->inserted, f->updated, f->unchanged, f->tombstoned, f->pages,
				   f->retrieved, f->rechecked, f->requests, f->retries, f->rate_limited,
				   f->full ? "  (full)" : "");
	}
	out_printf("%-18s %9lld objects in %.1f s (%.0f objects/s), %lld requests, "
		   "%lld retries, %lld 429s\n", "total", objects, r->elapsed_sec,
		   (double)objects / secs, req, retries, r429);
}

/* ctx->run_counts: {"mode":"full","customers":{"objects":N,"new":..},...}. */
static void fill_counts(struct cmd_ctx *ctx, const struct pull_result *r)
{
	char *buf = ctx->run_counts;
	size_t sz = sizeof ctx->run_counts, len;
	int i, n;

	len = (size_t)snprintf(buf, sz, "{\"mode\":\"%s\"",
			       r->did_full ? (r->did_incremental ? "full+incremental" : "full")
					   : "incremental");
	for (i = 0; i <= PULL_NKINDS; i++) {
		enum stripe_kind k = i < PULL_NKINDS ? pull_kinds[i] : STRIPE_EVENT;
		const struct pull_figures *f = &r->res[k];

		if (!f->active && !f->requests)
			continue;
		n = snprintf(buf + len, sz - len, ",\"%s\":{\"objects\":%lld,\"new\":%lld,"
			     "\"changed\":%lld,\"unchanged\":%lld,\"tombstoned\":%lld,"
			     "\"requests\":%lld}", res_name(k), f->objects, f->inserted, f->updated,
			     f->unchanged, f->tombstoned, f->requests);
		if (n < 0 || (size_t)n >= sz - len - 2) {
			snprintf(buf, sz, "{\"objects\":%lld}", r->total.objects);
			return;
		}
		len += (size_t)n;
	}
	snprintf(buf + len, sz - len, "}");
}

/* A test-only knob: TRUEUP_PULL_BACKOFF_MS shortens the retry backoff. */
static unsigned env_uint(const char *name)
{
	const char *v = getenv(name);
	char *end;
	unsigned long n;

	if (!v || !*v)
		return 0;
	n = strtoul(v, &end, 10);
	return *end || n > 60000 ? 0 : (unsigned)n;
}

static int parse_int_opt(const char *opt, const char *arg, int lo, int hi, int *out)
{
	char *end;
	long v = strtol(arg, &end, 10);

	if (!*arg || *end || v < lo || v > hi) {
		log_error("pull: %s: '%s' is not an integer from %d to %d", opt, arg, lo, hi);
		return EXIT_USAGE;
	}
	*out = (int)v;
	return 0;
}

int cmd_pull(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "full", no_argument, NULL, 'f' },
		{ "only", required_argument, NULL, 'o' },
		{ "window-days", required_argument, NULL, 'w' },
		{ "page-size", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct pull_opts o;
	struct pull_result res;
	struct sigaction sa, old_int, old_term;
	struct err e = { 0 };
	struct ui ui = { 0, 0 };
	char *key = NULL, lockpath[4096];
	int c, rc, lockfd = -1;

	if (cmd_wants_help(argc, argv)) {
		out_printf("%s", usage_pull);
		return EXIT_OK;
	}
	memset(&o, 0, sizeof o);
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			o.full = 1;
			break;
		case 'o':
			if (pull_parse_resources(optarg, &o.only, &e) != 0) {
				log_error("pull: --only: %s", e.msg);
				return EXIT_USAGE;
			}
			break;
		case 'w':
			if (parse_int_opt("--window-days", optarg, 1, 3650, &o.window_days))
				return EXIT_USAGE;
			break;
		case 'p':
			if (parse_int_opt("--page-size", optarg, 1, 100, &o.page_size))
				return EXIT_USAGE;
			break;
		default:
			log_error("pull: unknown or incomplete option '%s'; see 'trueup pull --help'",
				  argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		log_error("pull: unexpected argument '%s'; see 'trueup pull --help'", argv[optind]);
		return EXIT_USAGE;
	}
	if ((rc = lock_job_path(lockpath, sizeof lockpath, ctx->db_path, "pull", &e)) != 0 ||
	    (rc = lock_acquire(lockpath, 0, &lockfd, &e)) != 0) {
		log_error("pull: %s", e.msg);
		return rc;
	}
	if ((rc = apikey_protect_process(&e)) != 0 ||
	    (rc = apikey_load(&ctx->cfg->stripe, &key, &e)) != 0) {
		log_error("pull: %s", e.msg);
		lock_release(lockfd);
		return rc;
	}
	ui.tty = isatty(2) && log_get_level() >= LOG_INFO && log_get_format() == LOG_TEXT;
	o.stop = &stop_flag;
	o.progress = draw;
	o.warn = on_warn;
	o.udata = &ui;
	o.progress_ms = 200;
	o.client.debug = on_debug;
	o.client.backoff_base_ms = env_uint("TRUEUP_PULL_BACKOFF_MS");
	if (o.client.backoff_base_ms)
		o.client.backoff_cap_ms = o.client.backoff_base_ms * 8;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	rc = pull_run(ctx->db, &ctx->cfg->stripe, key, &o, &res, &e);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	apikey_free(key);
	lock_release(lockfd);
	fill_counts(ctx, &res);
	if (rc != 0) {
		log_error("pull: %s", e.msg);
		return rc;
	}
	print_summary(&res);
	return EXIT_OK;
}
