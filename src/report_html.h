/*
 * report_html.h - summary.html: one self-contained page (no script, no
 * network: inline CSS and SVG) with revenue by month per currency, the
 * open drift by rule and severity, and the plan audit table.
 *
 * The page is built from plain data the runner gathered (no SQL here).
 * Every text that came from data is HTML-escaped (& < > " '), in element
 * content and in attributes alike.
 */
#ifndef TRUEUP_REPORT_HTML_H
#define TRUEUP_REPORT_HTML_H

#include <stddef.h>
#include <stdio.h>

#include "err.h"

struct report_html_revenue {
	char month[16];             /* YYYY-MM */
	char currency[8];
	long long gross, refunds;   /* minor units; net = gross - refunds */
};

struct report_html_drift {
	char rule[8];
	char name[64];
	long long open[4];          /* critical, high, medium, info */
};

/* A table of text cells: ncols names, nrows * ncols cells (NULL = empty). */
struct report_html_table {
	size_t ncols, nrows;
	char **cols;
	char **cells;
};

struct report_html_data {
	const char *generated_at;   /* ISO 8601 */
	const char *timezone;
	const char *snapshot;       /* e.g. "pull 3, finished 2026-05-02T00:00:00Z" */
	const struct report_html_revenue *revenue;
	size_t nrevenue;            /* ordered by currency, month */
	const struct report_html_drift *drift;
	size_t ndrift;
	const struct report_html_table *audit;   /* may be NULL */
};

/* Write the page to fp.  Returns 0 or EXIT_IOERR when fp reports an error. */
int report_html_write(FILE *fp, const struct report_html_data *d, struct err *e);

/* Write s HTML-escaped to fp (NULL writes nothing). */
void report_html_escape(FILE *fp, const char *s);

#endif
