/*
 * test_log.c - the log module: redaction of secrets, formats, levels.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "log.h"

static char *capture(void (*fn)(void), enum log_level level, enum log_format fmt)
{
	static char buf[8192];
	FILE *f = tmpfile();
	size_t n;

	log_setup(level, fmt);
	log_set_streams(f, f);
	fn();
	fflush(f);
	rewind(f);
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	log_set_streams(NULL, NULL);
	return buf;
}

static void redact_eq(const char *in, const char *want, int count)
{
	char out[512];

	CHECK_INT(log_redact(in, out, sizeof out), count);
	CHECK_STR(out, want);
}

static void test_redact_keys(void)
{
	redact_eq("key sk_live_51HxYzAbC123 used", "key sk_live_[REDACTED] used", 1);
	redact_eq("sk_test_abcDEF0123456789", "sk_test_[REDACTED]", 1);
	redact_eq("restricted rk_live_9a8b7c", "restricted rk_live_[REDACTED]", 1);
	redact_eq("rk_test_xyz and sk_live_q", "rk_test_[REDACTED] and sk_live_[REDACTED]", 2);
	redact_eq("webhook whsec_abcdef", "webhook whsec_[REDACTED]", 1);
	redact_eq("sk_abcdef", "sk_[REDACTED]", 1);
	redact_eq("Authorization: Bearer sk_test_123", "Authorization: Bearer [REDACTED]", 1);
	redact_eq("Bearer abc.def-ghi", "Bearer [REDACTED]", 1);
	redact_eq("\"key\":\"sk_live_abc\"", "\"key\":\"sk_live_[REDACTED]\"", 1);
	redact_eq("key=sk_live_abc&x=1", "key=sk_live_[REDACTED]&x=1", 1);
}

static void test_redact_leaves_others(void)
{
	/* word boundary: these contain the prefixes but are not keys */
	redact_eq("task_id desk_lamp risk_level", "task_id desk_lamp risk_level", 0);
	redact_eq("sub_1Nabc cus_9 price_1Q pk_live_abc", "sub_1Nabc cus_9 price_1Q pk_live_abc", 0);
	redact_eq("sk_ alone", "sk_ alone", 0);
	redact_eq("", "", 0);
}

static void test_redact_truncates_safely(void)
{
	char out[12];

	log_redact("sk_live_abcdefghijklmnop", out, sizeof out);
	CHECK_INT(strlen(out), sizeof out - 1);
	CHECK(strstr(out, "abcdef") == NULL);
	CHECK_STR(out, "sk_live_[RE");
}

static void emit_secret(void)
{
	log_error("stripe said no to key %s", "sk_live_SECRETSECRET");
	out_printf("result with rk_test_SECRET2\n");
}

static void test_log_text_redacts(void)
{
	char *s = capture(emit_secret, LOG_INFO, LOG_TEXT);

	CHECK(strstr(s, "SECRET") == NULL);
	CHECK_CONTAINS(s, " error: stripe said no to key sk_live_[REDACTED]\n");
	CHECK_CONTAINS(s, "result with rk_test_[REDACTED]\n");
	CHECK_CONTAINS(log_last_error(), "sk_live_[REDACTED]");
	CHECK(strstr(log_last_error(), "SECRET") == NULL);
}

static void emit_json(void)
{
	log_warn("quote \" backslash \\ newline\nend sk_test_x1");
}

static void test_log_json(void)
{
	char *s = capture(emit_json, LOG_INFO, LOG_JSON);

	CHECK(strncmp(s, "{\"ts\":\"", 7) == 0);
	CHECK_CONTAINS(s, "\"level\":\"warning\"");
	CHECK_CONTAINS(s, "\"msg\":\"quote \\\" backslash \\\\ newline end sk_test_[REDACTED]\"}\n");
	/* one line */
	CHECK(strchr(s, '\n') == s + strlen(s) - 1);
}

static void emit_levels(void)
{
	log_debug("d");
	log_info("i");
	log_warn("w");
	log_error("e");
}

static void test_levels(void)
{
	char *s = capture(emit_levels, LOG_WARN, LOG_TEXT);

	CHECK(strstr(s, " debug: d") == NULL);
	CHECK(strstr(s, " info: i") == NULL);
	CHECK_CONTAINS(s, " warning: w");
	CHECK_CONTAINS(s, " error: e");
	s = capture(emit_levels, LOG_DEBUG, LOG_TEXT);
	CHECK_CONTAINS(s, " debug: d");
	s = capture(emit_levels, LOG_ERROR, LOG_TEXT);
	CHECK(strstr(s, " warning: w") == NULL);
	CHECK_CONTAINS(s, " error: e");
}

int main(void)
{
	RUN(test_redact_keys);
	RUN(test_redact_leaves_others);
	RUN(test_redact_truncates_safely);
	RUN(test_log_text_redacts);
	RUN(test_log_json);
	RUN(test_levels);
	return harness_done();
}
