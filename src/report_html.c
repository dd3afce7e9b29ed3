/*
 * report_html.c - summary.html; see report_html.h.
 *
 * Charts are inline SVG bars: per currency, one bar per month for gross
 * (with the refunds drawn over it) so currencies are never put on one
 * scale; per rule, one bar of open findings split by severity.
 */
#include <stdio.h>
#include <string.h>

#include "report_html.h"
#include "report_money.h"

void report_html_escape(FILE *fp, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", fp); break;
		case '<': fputs("&lt;", fp); break;
		case '>': fputs("&gt;", fp); break;
		case '"': fputs("&quot;", fp); break;
		case '\'': fputs("&#39;", fp); break;
		default: fputc(*s, fp);
		}
	}
}

static const char style[] =
	"body{font-family:system-ui,sans-serif;margin:2em;color:#222}"
	"h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em}"
	"table{border-collapse:collapse;font-size:.85em;margin:.5em 0}"
	"td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left}"
	"td.n{text-align:right;font-variant-numeric:tabular-nums}"
	".pass{background:#e6f4e6}.fail{background:#f9dddd}"
	".muted{color:#777}svg{display:block;margin:.5em 0}";

static const char *const sev_names[4] = { "critical", "high", "medium", "info" };
static const char *const sev_colors[4] = { "#b00020", "#e65100", "#f9a825", "#90a4ae" };

static void money(FILE *fp, long long v, const char *cur)
{
	char buf[40];

	report_money_format(v, cur, buf, sizeof buf);
	fputs(buf, fp);
}

/* One currency's months, rows [i, j) of d->revenue. */
static void revenue_currency(FILE *fp, const struct report_html_data *d, size_t i, size_t j)
{
	const struct report_html_revenue *r = d->revenue;
	const char *cur = r[i].currency;
	long long max = 1;
	size_t k, n = j - i;
	int bw = 36, h = 160, w = (int)n * (bw + 8) + 60;

	for (k = i; k < j; k++)
		if (r[k].gross > max)
			max = r[k].gross;
	fputs("<h3>", fp);
	report_html_escape(fp, cur);
	fprintf(fp, "</h3>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"role=\"img\" aria-label=\"gross and refunds by month\">\n", w, h + 40);
	fprintf(fp, "<line x1=\"40\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>\n", h, w, h);
	for (k = i; k < j; k++) {
		int x = 44 + (int)(k - i) * (bw + 8);
		int gh = (int)((double)(r[k].gross > 0 ? r[k].gross : 0) / (double)max * (h - 10));
		int rh = (int)((double)(r[k].refunds > 0 ? r[k].refunds : 0) / (double)max * (h - 10));

		fprintf(fp, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#4a7bd0\">"
			"<title>", x, h - gh, bw, gh);
		report_html_escape(fp, r[k].month);
		fputs(" gross ", fp);
		money(fp, r[k].gross, cur);
		fputs("</title></rect>\n", fp);
		fprintf(fp, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#d05a4a\">"
			"<title>", x + bw / 4, h - rh, bw / 2, rh);
		report_html_escape(fp, r[k].month);
		fputs(" refunds ", fp);
		money(fp, r[k].refunds, cur);
		fputs("</title></rect>\n", fp);
		fprintf(fp, "<text x=\"%d\" y=\"%d\" font-size=\"9\">", x, h + 14);
		report_html_escape(fp, r[k].month);
		fputs("</text>\n", fp);
	}
	fputs("</svg>\n<table><tr><th>month</th><th>gross</th><th>refunds</th><th>net</th></tr>\n",
	      fp);
	for (k = i; k < j; k++) {
		fputs("<tr><td>", fp);
		report_html_escape(fp, r[k].month);
		fputs("</td><td class=\"n\">", fp);
		money(fp, r[k].gross, cur);
		fputs("</td><td class=\"n\">", fp);
		money(fp, r[k].refunds, cur);
		fputs("</td><td class=\"n\">", fp);
		money(fp, r[k].gross - r[k].refunds, cur);
		fputs("</td></tr>\n", fp);
	}
	fputs("</table>\n", fp);
}

static void revenue(FILE *fp, const struct report_html_data *d)
{
	size_t i = 0, j;

	fputs("<h2>Revenue by month, per currency</h2>\n"
	      "<p class=\"muted\">Gross (blue) from paid invoices and paid one-time checkouts; "
	      "refunds (red) dated by the refund. Currencies are never added together.</p>\n", fp);
	if (!d->nrevenue)
		fputs("<p>No revenue in the snapshot.</p>\n", fp);
	while (i < d->nrevenue) {
		for (j = i; j < d->nrevenue && strcmp(d->revenue[j].currency, d->revenue[i].currency) == 0;
		     j++)
			;
		revenue_currency(fp, d, i, j);
		i = j;
	}
}

static void drift(FILE *fp, const struct report_html_data *d)
{
	long long max = 1, tot;
	size_t i;
	int s, x;

	fputs("<h2>Open drift by rule and severity</h2>\n<table><tr><th>rule</th><th>name</th>",
	      fp);
	for (s = 0; s < 4; s++)
		fprintf(fp, "<th>%s</th>", sev_names[s]);
	fputs("<th>open</th><th></th></tr>\n", fp);
	for (i = 0; i < d->ndrift; i++) {
		for (tot = 0, s = 0; s < 4; s++)
			tot += d->drift[i].open[s];
		if (tot > max)
			max = tot;
	}
	for (i = 0; i < d->ndrift; i++) {
		const struct report_html_drift *r = &d->drift[i];

		fputs("<tr><td>", fp);
		report_html_escape(fp, r->rule);
		fputs("</td><td>", fp);
		report_html_escape(fp, r->name);
		fputs("</td>", fp);
		for (tot = 0, s = 0; s < 4; s++) {
			fprintf(fp, "<td class=\"n\">%lld</td>", r->open[s]);
			tot += r->open[s];
		}
		fprintf(fp, "<td class=\"n\">%lld</td><td><svg xmlns=\"http://www.w3.org/2000/svg\" "
			"width=\"204\" height=\"12\">", tot);
		for (x = 0, s = 0; s < 4; s++) {
			int wd = (int)((double)r->open[s] / (double)max * 200);

			if (wd > 0)
				fprintf(fp, "<rect x=\"%d\" y=\"0\" width=\"%d\" height=\"12\" fill=\"%s\"/>",
					x, wd, sev_colors[s]);
			x += wd;
		}
		fputs("</svg></td></tr>\n", fp);
	}
	fputs("</table>\n", fp);
}

static void audit(FILE *fp, const struct report_html_table *t)
{
	size_t r, c;

	fputs("<h2>Plan audit</h2>\n", fp);
	if (!t) {
		fputs("<p>No plan_audit report is defined.</p>\n", fp);
		return;
	}
	fputs("<table><tr>", fp);
	for (c = 0; c < t->ncols; c++) {
		fputs("<th>", fp);
		report_html_escape(fp, t->cols[c]);
		fputs("</th>", fp);
	}
	fputs("</tr>\n", fp);
	for (r = 0; r < t->nrows; r++) {
		fputs("<tr>", fp);
		for (c = 0; c < t->ncols; c++) {
			const char *v = t->cells[r * t->ncols + c];

			if (v && strcmp(v, "pass") == 0)
				fputs("<td class=\"pass\">", fp);
			else if (v && strcmp(v, "fail") == 0)
				fputs("<td class=\"fail\">", fp);
			else
				fputs("<td>", fp);
			report_html_escape(fp, v);
			fputs("</td>", fp);
		}
		fputs("</tr>\n", fp);
	}
	fputs("</table>\n", fp);
}

int report_html_write(FILE *fp, const struct report_html_data *d, struct err *e)
{
	fprintf(fp, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
		"<title>trueup summary</title>\n<style>%s</style></head><body>\n"
		"<h1>trueup summary</h1>\n<p class=\"muted\">Generated ", style);
	report_html_escape(fp, d->generated_at);
	fputs(" &middot; time zone ", fp);
	report_html_escape(fp, d->timezone);
	fputs(" &middot; Stripe snapshot: ", fp);
	report_html_escape(fp, d->snapshot);
	fputs("</p>\n", fp);
	revenue(fp, d);
	drift(fp, d);
	audit(fp, d->audit);
	fputs("</body></html>\n", fp);
	if (ferror(fp))
		return err_set(e, EXIT_IOERR, "summary.html: write error");
	return 0;
}
