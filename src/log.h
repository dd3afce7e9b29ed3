/*
 * log.h - all of trueup's output goes through here.
 *
 * Diagnostics go to stderr as one line each, in text
 *   2026-11-21T02:30:00Z error: import: users.csv:4:2: bad email "x"
 * or JSON lines ({"ts":..,"level":..,"msg":..}) with --log-format json.
 * Results meant for the user (tables, summaries) go to stdout through
 * out_printf().  Every line, either stream, is passed through
 * log_redact() first, so nothing shaped like a Stripe secret key
 * (sk_..., rk_..., whsec_...) or a Bearer token can reach a terminal or a
 * log file, whatever a caller formats into it.
 */
#ifndef TRUEUP_LOG_H
#define TRUEUP_LOG_H

#include <stddef.h>
#include <stdio.h>

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };
enum log_format { LOG_TEXT = 0, LOG_JSON = 1 };

/* Set the threshold (messages above it are dropped) and the format. */
void log_setup(enum log_level level, enum log_format format);
enum log_level log_get_level(void);
enum log_format log_get_format(void);

/* Redirect diagnostics (default stderr) and results (default stdout); for tests. */
void log_set_streams(FILE *diag, FILE *out);

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/*
 * The last error-level message logged (redacted), or "" if none; main.c
 * stores it in the run row of a failed command.
 */
const char *log_last_error(void);

/* Print to the results stream (stdout), redacted like every log line. */
void out_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Write text to the diagnostics stream exactly as given (redacted, no
 * timestamp, no newline added): a live status line on a terminal, redrawn
 * with "\r" and ANSI cursor moves by its caller.  Nothing with -q.
 */
void log_status(const char *text);

/*
 * Copy src into dst (size dstsz, always NUL-terminated, truncated if need
 * be) with every secret-looking token replaced: "sk_live_abc123" becomes
 * "sk_live_[REDACTED]", "Bearer xyz" becomes "Bearer [REDACTED]".
 * Returns the number of tokens redacted.
 */
int log_redact(const char *src, char *dst, size_t dstsz);

#endif
