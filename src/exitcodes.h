/*
 * exitcodes.h - the process exit codes of trueup, in one place.
 *
 * They follow sysexits(3) where a class exists there, except that a usage
 * error is 2 (as SPEC.md and most Unix tools say).  Exit code 1 is kept for
 * "the command worked and found something you asked to be told about"
 * (reconcile --fail-on).  Documented in README.md and man/trueup.1; keep the
 * three in step.
 */
#ifndef TRUEUP_EXITCODES_H
#define TRUEUP_EXITCODES_H

enum exit_code {
	EXIT_OK = 0,          /* success */
	EXIT_FINDINGS = 1,    /* findings at or above --fail-on severity */
	EXIT_USAGE = 2,       /* bad command line */
	EXIT_DATAERR = 65,    /* bad input data: CSV, Stripe response, ... */
	EXIT_NOINPUT = 66,    /* an input file or directory is missing/unreadable */
	EXIT_UNAVAILABLE = 69,/* a service (Stripe) refused or is unreachable */
	EXIT_SOFTWARE = 70,   /* internal error: a bug */
	EXIT_CANTCREAT = 73,  /* cannot create an output file */
	EXIT_IOERR = 74,      /* database or file I/O error */
	EXIT_TEMPFAIL = 75,   /* try again later: lock held, busy, retries out */
	EXIT_NOPERM = 77,     /* permission: key file mode, 401/403 */
	EXIT_CONFIG = 78      /* invalid configuration, catalogue or job */
};

#endif
