/*
 * log.c - diagnostics and results output, with secret redaction; see log.h.
 *
 * Redaction is a scan for tokens, not a list of known secrets: any word
 * that starts with sk_, rk_ or whsec_ (Stripe secret, restricted and
 * webhook-signing keys) and any token after "Bearer " is replaced.  A word
 * boundary is required before the prefix so that "task_id" stays intact.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"

#define LOG_LINE_MAX 8192

static enum log_level cur_level = LOG_INFO;
static enum log_format cur_format = LOG_TEXT;
static FILE *diag_stream;
static FILE *out_stream;
static char last_error[1024];

static const char *const level_names[] = { "error", "warning", "info", "debug" };

void log_setup(enum log_level level, enum log_format format)
{
	cur_level = level;
	cur_format = format;
}

enum log_level log_get_level(void)
{
	return cur_level;
}

enum log_format log_get_format(void)
{
	return cur_format;
}

void log_set_streams(FILE *diag, FILE *out)
{
	diag_stream = diag;
	out_stream = out;
}

static int is_token_char(int c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* Length of the secret prefix at s (word boundary already checked), or 0. */
static size_t secret_prefix(const char *s)
{
	static const char *const prefixes[] = { "sk_", "rk_", "whsec_" };
	size_t i, n;

	for (i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
		n = strlen(prefixes[i]);
		if (strncmp(s, prefixes[i], n) == 0 && is_token_char(s[n])) {
			/* keep the mode word too: sk_live_, sk_test_ */
			if (strncmp(s + n, "live_", 5) == 0 || strncmp(s + n, "test_", 5) == 0)
				n += 5;
			return n;
		}
	}
	return 0;
}

int log_redact(const char *src, char *dst, size_t dstsz)
{
	static const char mask[] = "[REDACTED]";
	size_t o = 0, keep;
	int count = 0, at_word_start = 1;
	const char *p = src;

	if (dstsz == 0)
		return 0;
#define PUT(c) do { if (o + 1 < dstsz) dst[o++] = (c); } while (0)
	while (*p) {
		keep = 0;
		if (at_word_start)
			keep = secret_prefix(p);
		if (!keep && at_word_start && strncmp(p, "Bearer ", 7) == 0 &&
		    is_token_char(p[7]))
			keep = 7;
		if (keep) {
			size_t i;

			for (i = 0; i < keep; i++)
				PUT(p[i]);
			for (i = 0; mask[i]; i++)
				PUT(mask[i]);
			p += keep;
			while (is_token_char(*p) || *p == '-' || *p == '.')
				p++;
			count++;
			at_word_start = 0;
			continue;
		}
		at_word_start = !is_token_char(*p);
		PUT(*p);
		p++;
	}
#undef PUT
	dst[o] = '\0';
	return count;
}

/* Write s as a JSON string body (without quotes). */
static void json_escape(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
}

static void timestamp(char *buf, size_t sz)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(buf, sz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char raw[LOG_LINE_MAX], clean[LOG_LINE_MAX], ts[32];
	FILE *f = diag_stream ? diag_stream : stderr;
	va_list ap;
	char *nl;

	if (level > cur_level)
		return;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	while ((nl = strpbrk(raw, "\r\n")) != NULL)
		*nl = ' ';
	log_redact(raw, clean, sizeof clean);
	if (level == LOG_ERROR && snprintf(last_error, sizeof last_error, "%s", clean) < 0)
		last_error[0] = '\0';
	timestamp(ts, sizeof ts);
	if (cur_format == LOG_JSON) {
		fprintf(f, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":\"", ts, level_names[level]);
		json_escape(f, clean);
		fputs("\"}\n", f);
	} else {
		fprintf(f, "%s %s: %s\n", ts, level_names[level], clean);
	}
	fflush(f);
}

const char *log_last_error(void)
{
	return last_error;
}

void out_printf(const char *fmt, ...)
{
	char raw[LOG_LINE_MAX], clean[LOG_LINE_MAX];
	FILE *f = out_stream ? out_stream : stdout;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	log_redact(raw, clean, sizeof clean);
	fputs(clean, f);
}

void log_status(const char *text)
{
	char clean[LOG_LINE_MAX];
	FILE *f = diag_stream ? diag_stream : stderr;

	if (cur_level < LOG_INFO)
		return;
	log_redact(text, clean, sizeof clean);
	fputs(clean, f);
	fflush(f);
}
