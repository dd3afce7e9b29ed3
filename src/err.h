/*
 * err.h - the one error type of trueup's modules.
 *
 * Modules below the command layer never print and never exit: they return
 * an exit_code (0 on success) and, on failure, fill a struct err with that
 * code and a one-line message.  Messages are lowercase, name the subject in
 * quotes and carry no trailing full stop, like "users.csv:4:2: bad email".
 * The command layer hands the message to the log module and returns the code.
 */
#ifndef TRUEUP_ERR_H
#define TRUEUP_ERR_H

#include <stddef.h>

#include "exitcodes.h"

#define ERR_MSG_MAX 512

struct err {
	int code;                 /* enum exit_code; 0 while no error */
	char msg[ERR_MSG_MAX];    /* one line, no newline */
};

/* Clear e (code 0, empty message).  e may be NULL. */
void err_clear(struct err *e);

/*
 * Set e to code and a printf-style message and return code, so a caller can
 * write `return err_set(e, EXIT_DATAERR, "...")`.  Newlines in the result
 * are replaced by spaces so the message stays one line.  e may be NULL.
 */
int err_set(struct err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Prefix the message already in e with "prefix: " (truncating at the end if
 * needed) and return e->code.  Used to add context on the way up.
 */
int err_prefix(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
