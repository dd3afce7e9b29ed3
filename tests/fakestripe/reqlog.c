/* reqlog.c - the request log (--log FILE) and the counters of /_fake/stats.
 *
 * One line per request, tab-separated so tests can cut(1) it:
 *   TIME  METHOD  TARGET  STATUS  BYTES  LATENCY_MS  ROUTE  FAULT
 * e.g. 2026-05-01T10:00:00.123Z GET /v1/customers?limit=7 200 5120 0.41
 *      GET /v1/customers -
 * TARGET is the path and query as received; the API key is never in it (it
 * travels in the Authorization header, which is not logged).  The log is
 * line-buffered so a test can read it while the fake runs.
 */
#include "fake.h"

#include <string.h>
#include <sys/time.h>
#include <time.h>

int reqlog_open(struct reqlog *l, const char *file, char *err, size_t errsz)
{
	memset(l, 0, sizeof *l);
	l->by_path = json_object();
	l->by_status = json_object();
	l->by_fault = json_object();
	if (file) {
		l->fp = fopen(file, "a");
		if (!l->fp) {
			snprintf(err, errsz, "cannot open log \"%s\"", file);
			return -1;
		}
		setvbuf(l->fp, NULL, _IOLBF, 0);
	}
	return 0;
}

void reqlog_close(struct reqlog *l)
{
	if (l->fp)
		fclose(l->fp);
	json_decref(l->by_path);
	json_decref(l->by_status);
	json_decref(l->by_fault);
	memset(l, 0, sizeof *l);
}

static void bump(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	if (v)
		json_integer_set(v, json_integer_value(v) + 1);
	else
		json_object_set_new(obj, key, json_integer(1));
}

void reqlog_record(struct reqlog *l, const char *method, const char *target,
		   const char *route, int status, size_t bytes, double ms,
		   enum fault_kind fault, int rate_limited)
{
	char st[16];
	snprintf(st, sizeof st, "%d", status);
	l->total++;
	l->bytes += bytes;
	if (status == 429)
		l->rate_limited++;
	bump(l->by_path, route);
	bump(l->by_status, st);
	if (fault != FK_NONE)
		bump(l->by_fault, fault_name(fault));
	if (rate_limited)
		bump(l->by_fault, "rate_limiter");
	if (!l->fp)
		return;
	struct timeval tv;
	gettimeofday(&tv, NULL);
	struct tm tm;
	time_t t = tv.tv_sec;
	gmtime_r(&t, &tm);
	char ts[32];
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(l->fp, "%s.%03ldZ\t%s\t%s\t%d\t%zu\t%.2f\t%s\t%s\n", ts, (long)(tv.tv_usec / 1000),
		method, target, status, bytes, ms, route,
		rate_limited ? "rate_limiter" : fault != FK_NONE ? fault_name(fault) : "-");
}

json_t *reqlog_stats(const struct reqlog *l)
{
	return json_pack("{s:I, s:I, s:I, s:O, s:O, s:O}", "requests", (json_int_t)l->total,
			 "bytes", (json_int_t)l->bytes, "rate_limited", (json_int_t)l->rate_limited,
			 "by_path", l->by_path, "by_status", l->by_status, "faults", l->by_fault);
}

void reqlog_reset(struct reqlog *l)
{
	json_object_clear(l->by_path);
	json_object_clear(l->by_status);
	json_object_clear(l->by_fault);
	l->total = l->bytes = l->rate_limited = 0;
}
