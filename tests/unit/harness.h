/*
 * harness.h - the tiny unit-test harness of trueup (after Redis' testhelp.h).
 *
 * A test file defines `static void test_x(void)` functions and ends with
 *
 *     int main(void) { RUN(test_x); RUN(test_y); return harness_done(); }
 *
 * Each CHECK that fails prints "FAIL file:line: expression" and marks the
 * current test failed; the test goes on so one run shows every failure.
 * RUN prints "ok   name" or "FAIL name".  harness_done() prints
 * "N passed, N failed" for the file and returns 1 if any test failed.
 * tests/run.sh adds the files' figures up.
 */
#ifndef TRUEUP_HARNESS_H
#define TRUEUP_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int harness_passed, harness_failed, harness_cur_failed;

#define CHECK(cond) do { \
	if (!(cond)) { \
		printf("  FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); \
		harness_cur_failed = 1; \
	} \
} while (0)

#define CHECK_INT(a, b) do { \
	long long ha_ = (long long)(a), hb_ = (long long)(b); \
	if (ha_ != hb_) { \
		printf("  FAIL %s:%d: %s == %s (%lld != %lld)\n", __FILE__, __LINE__, \
		       #a, #b, ha_, hb_); \
		harness_cur_failed = 1; \
	} \
} while (0)

#define CHECK_STR(a, b) do { \
	const char *ha_ = (a), *hb_ = (b); \
	if (!ha_ || !hb_ || strcmp(ha_, hb_) != 0) { \
		printf("  FAIL %s:%d: %s == %s\n    got:      \"%s\"\n    expected: \"%s\"\n", \
		       __FILE__, __LINE__, #a, #b, ha_ ? ha_ : "(null)", hb_ ? hb_ : "(null)"); \
		harness_cur_failed = 1; \
	} \
} while (0)

#define CHECK_CONTAINS(hay, needle) do { \
	const char *ha_ = (hay), *hb_ = (needle); \
	if (!ha_ || !strstr(ha_, hb_)) { \
		printf("  FAIL %s:%d: \"%s\" contains \"%s\"\n", __FILE__, __LINE__, \
		       ha_ ? ha_ : "(null)", hb_); \
		harness_cur_failed = 1; \
	} \
} while (0)

#define RUN(fn) do { \
	harness_cur_failed = 0; \
	fn(); \
	if (harness_cur_failed) { harness_failed++; printf("FAIL %s\n", #fn); } \
	else { harness_passed++; printf("ok   %s\n", #fn); } \
	fflush(stdout); \
} while (0)

static inline int harness_done(void)
{
	printf("%d passed, %d failed\n", harness_passed, harness_failed);
	return harness_failed ? 1 : 0;
}

#endif
