/*
 * fuzz_cron.c - libFuzzer harness over the cron parser and the next-time
 * function (src/cron.c, src/tz.c): no crash, no sanitizer report, no hang
 * (libFuzzer's -timeout catches one), and every fire time strictly later
 * than the time it was asked after.
 *
 * Input layout: the first 8 bytes pick the start time (any instant from
 * 1900 to 2400) and the zone (one of a few with gaps, repeats, 30-minute
 * and 24-hour shifts); the rest is the expression.  Build and run with
 * `make fuzz` (clang -fsanitize=fuzzer,address,undefined), not part of
 * `make test`.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cron.h"
#include "tz.h"

#define NZONES 6

static struct tz zones[NZONES];
static int loaded;

static void load_zones(void)
{
	static const char *const names[NZONES] = {
		"UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe",
		"Pacific/Apia", "Asia/Kolkata"
	};
	struct err e = { 0 };
	int i;

	for (i = 0; i < NZONES; i++)
		if (tz_load(&zones[i], names[i], &e) != 0)
			tz_init_utc(&zones[i]);
	loaded = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct err e = { 0 };
	struct cron c;
	char expr[256];
	uint64_t seed = 0;
	int64_t t, next;
	size_t i, n;
	int k;

	if (!loaded)
		load_zones();
	if (size < 8)
		return 0;
	for (i = 0; i < 8; i++)
		seed = seed << 8 | data[i];
	n = size - 8 < sizeof expr - 1 ? size - 8 : sizeof expr - 1;
	memcpy(expr, data + 8, n);
	expr[n] = '\0';
	if (cron_parse(&c, expr, &e) != 0) {
		if (!e.msg[0] || strchr(e.msg, '\n'))
			abort();                /* an error always says why, on one line */
		return 0;
	}
	/* 1900-01-01 .. 2400-01-01 */
	t = INT64_C(-2208988800) + (int64_t)(seed % UINT64_C(15778800000));
	if (cron_never_fires(&c))
		return cron_next(&c, &zones[seed % NZONES], t, &next) == CRON_NONE ? 0 : (abort(), 0);
	for (k = 0; k < 5; k++) {
		if (cron_next(&c, &zones[(seed >> 60) % NZONES], t, &next) != 0)
			break;
		if (next <= t)
			abort();                /* next time must be later than now */
		t = next;
	}
	return 0;
}
