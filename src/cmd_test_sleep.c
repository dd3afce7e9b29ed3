/*
 * cmd_test_sleep.c - `trueup test-sleep SECONDS`: a hidden, test-only
 * command that sleeps, so the CLI tests can give a job a step that takes
 * long (job timeouts, SIGTERM during a run, overlapping runs) without
 * depending on timing of real work.  It is not listed by `trueup --help`
 * and does nothing else; jobs may name it as a step (jobs.c) only so that
 * those tests can.  Not for production jobs.
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "commands.h"
#include "log.h"

int cmd_test_sleep(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct timespec ts;
	char *end;
	long n;

	(void)ctx;
	if (argc != 2) {
		log_error("test-sleep: usage: trueup test-sleep SECONDS (test-only)");
		return EXIT_USAGE;
	}
	errno = 0;
	n = strtol(argv[1], &end, 10);
	if (errno || end == argv[1] || *end || n < 0 || n > 3600) {
		log_error("test-sleep: '%s' is not a number of seconds from 0 to 3600", argv[1]);
		return EXIT_USAGE;
	}
	ts.tv_sec = n;
	ts.tv_nsec = 0;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
	return EXIT_OK;
}
