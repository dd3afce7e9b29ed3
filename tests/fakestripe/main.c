/* main.c - fakestripe: command line, startup and clean shutdown.
 *
 *   fakestripe (--data DIR | --generate N [--seed S]) [--port N] [--key KEY]
 *              [--shape 2023|2026|auto|asis] [--fault SPEC ...] [--latency MS] ...
 *
 * Prints "listening on 127.0.0.1:PORT" as its first stdout line (flushed) and
 * serves until SIGTERM or SIGINT, then closes every handle and frees
 * everything (valgrind-clean).  Exit status: 0 clean stop, 2 usage, 1 other
 * startup failure.  The API key is never printed.
 */
#include "fake.h"

#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
	"usage: fakestripe (--data DIR | --generate N [--seed S]) [--port N] [--key KEY]\n"
	"                  [--shape 2023|2026|auto|asis] [--api-version V] [--now EPOCH]\n"
	"                  [--fault KIND:TRIGGER[,path=P][,retry=B]]... [--fault-seed S]\n"
	"                  [--latency MS] [--jitter MS] [--rate-global R] [--rate-endpoint R]\n"
	"                  [--rate-burst SEC] [--mutate-fraction F] [--mutate-seed S]\n"
	"                  [--log FILE] [--prerender]\n"
	"The key may come from FAKESTRIPE_KEY instead of --key.  See README.md.\n";

enum {
	O_DATA = 256, O_GENERATE, O_SEED, O_PORT, O_KEY, O_SHAPE, O_APIVER, O_NOW, O_FAULT,
	O_FSEED, O_LATENCY, O_JITTER, O_RGLOBAL, O_RENDPOINT, O_RBURST, O_MFRAC, O_MSEED,
	O_LOG, O_PRERENDER, O_HELP
};

static const struct option longopts[] = {
	{"data", required_argument, NULL, O_DATA},
	{"generate", required_argument, NULL, O_GENERATE},
	{"seed", required_argument, NULL, O_SEED},
	{"port", required_argument, NULL, O_PORT},
	{"key", required_argument, NULL, O_KEY},
	{"shape", required_argument, NULL, O_SHAPE},
	{"api-version", required_argument, NULL, O_APIVER},
	{"now", required_argument, NULL, O_NOW},
	{"fault", required_argument, NULL, O_FAULT},
	{"fault-seed", required_argument, NULL, O_FSEED},
	{"latency", required_argument, NULL, O_LATENCY},
	{"jitter", required_argument, NULL, O_JITTER},
	{"rate-global", required_argument, NULL, O_RGLOBAL},
	{"rate-endpoint", required_argument, NULL, O_RENDPOINT},
	{"rate-burst", required_argument, NULL, O_RBURST},
	{"mutate-fraction", required_argument, NULL, O_MFRAC},
	{"mutate-seed", required_argument, NULL, O_MSEED},
	{"log", required_argument, NULL, O_LOG},
	{"prerender", no_argument, NULL, O_PRERENDER},
	{"help", no_argument, NULL, O_HELP},
	{NULL, 0, NULL, 0},
};

static uv_signal_t sig_int, sig_term;

static void on_signal(uv_signal_t *s, int signum)
{
	struct fake *fk = s->data;
	(void)signum;
	if (fk->stopping)
		return;
	http_stop(fk);
	uv_close((uv_handle_t *)&sig_int, NULL);
	uv_close((uv_handle_t *)&sig_term, NULL);
}

static int num(const char *opt, const char *s, double lo, double hi, double *out)
{
	char *end;
	double v = strtod(s, &end);
	if (!*s || *end || v < lo || v > hi) {
		fprintf(stderr, "fakestripe: bad value for --%s: \"%s\"\n", opt, s);
		return -1;
	}
	*out = v;
	return 0;
}

static int unum(const char *opt, const char *s, uint64_t *out)
{
	char *end;
	if (!*s || *s == '-') {
		fprintf(stderr, "fakestripe: bad value for --%s: \"%s\"\n", opt, s);
		return -1;
	}
	unsigned long long v = strtoull(s, &end, 10);
	if (*end) {
		fprintf(stderr, "fakestripe: bad value for --%s: \"%s\"\n", opt, s);
		return -1;
	}
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	static struct fake fk;
	const char *data = NULL, *logfile = NULL;
	uint64_t gen_n = 0, seed = 1, fseed = 1, mseed = 7, port = 12111, u;
	int generate = 0, prerender = 0;
	double d, mfrac = 0;
	char err[512];
	fk.cfg.shape = SHAPE_2026;
	faults_init(&fk.faults, 1);
	fk.cfg.key = getenv("FAKESTRIPE_KEY");

	int ch;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case O_DATA: data = optarg; break;
		case O_PRERENDER: prerender = 1; break;
		case O_GENERATE:
			if (unum("generate", optarg, &gen_n) < 0)
				return 2;
			generate = 1;
			break;
		case O_SEED: if (unum("seed", optarg, &seed) < 0) return 2; break;
		case O_PORT:
			if (unum("port", optarg, &port) < 0 || port > 65535)
				return 2;
			break;
		case O_KEY: fk.cfg.key = optarg; break;
		case O_SHAPE:
			if (!strcmp(optarg, "2023"))
				fk.cfg.shape = SHAPE_2023;
			else if (!strcmp(optarg, "2026"))
				fk.cfg.shape = SHAPE_2026;
			else if (!strcmp(optarg, "auto"))
				fk.cfg.shape = SHAPE_AUTO;
			else if (!strcmp(optarg, "asis"))
				fk.cfg.shape = SHAPE_ASIS;
			else {
				fprintf(stderr, "fakestripe: --shape must be 2023, 2026, auto or asis\n");
				return 2;
			}
			break;
		case O_APIVER: fk.cfg.version = optarg; break;
		case O_NOW:
			if (unum("now", optarg, &u) < 0)
				return 2;
			fake_clock_override = (int64_t)u;
			break;
		case O_FAULT:
			if (faults_add_spec(&fk.faults, optarg, err, sizeof err) < 0) {
				fprintf(stderr, "fakestripe: %s\n", err);
				return 2;
			}
			break;
		case O_FSEED: if (unum("fault-seed", optarg, &fseed) < 0) return 2; break;
		case O_LATENCY:
			if (num("latency", optarg, 0, 600000, &d) < 0)
				return 2;
			fk.faults.latency_ms = (unsigned)d;
			break;
		case O_JITTER:
			if (num("jitter", optarg, 0, 600000, &d) < 0)
				return 2;
			fk.faults.jitter_ms = (unsigned)d;
			break;
		case O_RGLOBAL:
			if (num("rate-global", optarg, 0, 1e9, &fk.faults.rate_global) < 0)
				return 2;
			break;
		case O_RENDPOINT:
			if (num("rate-endpoint", optarg, 0, 1e9, &fk.faults.rate_endpoint) < 0)
				return 2;
			break;
		case O_RBURST:
			if (num("rate-burst", optarg, 0.001, 3600, &fk.faults.burst) < 0)
				return 2;
			break;
		case O_MFRAC: if (num("mutate-fraction", optarg, 0, 1, &mfrac) < 0) return 2; break;
		case O_MSEED: if (unum("mutate-seed", optarg, &mseed) < 0) return 2; break;
		case O_LOG: logfile = optarg; break;
		case O_HELP: fputs(usage_text, stdout); return 0;
		default: fputs(usage_text, stderr); return 2;
		}
	}
	if (optind < argc || (!data) == (!generate)) {
		fprintf(stderr, "fakestripe: give exactly one of --data DIR and --generate N\n%s",
			usage_text);
		return 2;
	}
	if (!fk.cfg.key || !*fk.cfg.key) {
		fprintf(stderr, "fakestripe: no API key: set FAKESTRIPE_KEY or pass --key\n");
		return 2;
	}
	fk.faults.seed = fseed;
	fk.faults.rng = fseed ^ 0xFA17;
	signal(SIGPIPE, SIG_IGN);

	int rc = 1;
	if (shape_init() < 0)
		goto out_shape;
	if (data) {
		if (store_load_dir(&fk.store, data, err, sizeof err) < 0) {
			fprintf(stderr, "fakestripe: %s\n", err);
			goto out_store;
		}
	} else {
		int64_t now = fake_now();
		int64_t end = fake_clock_override ? now : now - now % 86400;
		store_init_generated(&fk.store, seed, gen_n, end);
	}
	if (mfrac > 0) {
		json_t *spec = json_pack("{s:f, s:I}", "fraction", mfrac, "seed", (json_int_t)mseed);
		json_t *res = store_mutate(&fk.store, spec, err, sizeof err);
		json_decref(spec);
		if (!res) {
			fprintf(stderr, "fakestripe: --mutate-fraction: %s\n", err);
			goto out_store;
		}
		json_decref(res);
	}
	if (prerender && api_prerender(&fk) < 0) {
		fprintf(stderr, "fakestripe: --prerender: out of memory\n");
		goto out_store;
	}
	if (reqlog_open(&fk.log, logfile, err, sizeof err) < 0) {
		fprintf(stderr, "fakestripe: %s\n", err);
		goto out_store;
	}
	uv_loop_t loop;
	uv_loop_init(&loop);
	fk.loop = &loop;
	uv_signal_init(&loop, &sig_int);
	uv_signal_init(&loop, &sig_term);
	sig_int.data = sig_term.data = &fk;
	uv_signal_start(&sig_int, on_signal, SIGINT);
	uv_signal_start(&sig_term, on_signal, SIGTERM);
	if (http_start(&fk, (int)port) < 0) {
		http_stop(&fk);
		uv_close((uv_handle_t *)&sig_int, NULL);
		uv_close((uv_handle_t *)&sig_term, NULL);
		uv_run(&loop, UV_RUN_DEFAULT);
	} else {
		uv_run(&loop, UV_RUN_DEFAULT);
		rc = 0;
	}
	if (uv_loop_close(&loop) != 0)
		fprintf(stderr, "fakestripe: handles left open at exit\n");
	reqlog_close(&fk.log);
out_store:
	api_prerender_drop(&fk);
	store_release(&fk.store);
out_shape:
	gen_release();
	shape_release();
	return rc;
}
