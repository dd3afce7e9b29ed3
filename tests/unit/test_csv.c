/*
 * test_csv.c - unit tests of the CSV reader (src/csv.c): RFC 4180
 * quoting, line numbers across embedded newlines and CRLF/CR line ends,
 * NULL versus "", BOM, strict UTF-8, syntax errors with line:column, the
 * record size bound and chunk boundaries.  The writer: round trips
 * through the strict reader, formula-injection neutralisation
 * (=HYPERLINK, +1, @SUM, leading tab and CR) while negative amounts in
 * numeric cells stay numbers, invalid UTF-8 repaired, the byte count and
 * SHA-256 of what was written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "harness.h"

/* Up to 8 records of up to 8 fields, copied out of the reader. */
struct parsed {
	int nrec;
	long line[8];
	int nf[8];
	char val[8][8][64];
	int isnull[8][8];
	long fline[8][8];
	int rc;
	char msg[ERR_MSG_MAX];
};

static void parse_mem(const char *data, size_t len, struct parsed *p)
{
	FILE *fp = fmemopen((void *)data, len, "r");
	struct csv_reader *r = NULL;
	const struct csv_record *rec;
	struct err e = { 0 };

	memset(p, 0, sizeof *p);
	if (!fp) {
		p->rc = -1;
		return;
	}
	p->rc = csv_reader_open_fp(fp, "t.csv", &r, &e);
	while (p->rc == 0 && (p->rc = csv_reader_next(r, &rec, &e)) == 0 && rec) {
		int i = p->nrec;

		if (i < 8) {
			p->line[i] = rec->line;
			p->nf[i] = (int)rec->nfields;
			for (size_t f = 0; f < rec->nfields && f < 8; f++) {
				p->isnull[i][f] = rec->fields[f].value == NULL;
				p->fline[i][f] = rec->fields[f].line;
				snprintf(p->val[i][f], sizeof p->val[i][f], "%s",
					 rec->fields[f].value ? rec->fields[f].value : "");
				CHECK_INT(rec->fields[f].column, f + 1);
			}
		}
		p->nrec++;
	}
	snprintf(p->msg, sizeof p->msg, "%s", p->rc ? e.msg : "");
	csv_reader_free(r);
	fclose(fp);
}

static void parse(const char *s, struct parsed *p)
{
	parse_mem(s, strlen(s), p);
}

static void test_simple(void)
{
	struct parsed p;

	parse("a,b,c\n1,2,3\n", &p);
	CHECK_INT(p.rc, 0);
	CHECK_INT(p.nrec, 2);
	CHECK_INT(p.nf[0], 3);
	CHECK_STR(p.val[0][0], "a");
	CHECK_STR(p.val[1][2], "3");
	CHECK_INT(p.line[0], 1);
	CHECK_INT(p.line[1], 2);
}

static void test_no_trailing_newline(void)
{
	struct parsed p;

	parse("a,b\n1,2", &p);
	CHECK_INT(p.rc, 0);
	CHECK_INT(p.nrec, 2);
	CHECK_STR(p.val[1][1], "2");
	CHECK_INT(p.line[1], 2);
}

static void test_quoted(void)
{
	struct parsed p;

	parse("x,y\n\"a, b\",\"say \"\"hi\"\"\"\n", &p);
	CHECK_INT(p.rc, 0);
	CHECK_INT(p.nrec, 2);
	CHECK_STR(p.val[1][0], "a, b");
	CHECK_STR(p.val[1][1], "say \"hi\"");
}

static void test_embedded_newline_lines(void)
{
	struct parsed p;

	parse("h1,h2\n\"two\nlines\",x\nnext,\"three\r\nline\nfield\"\nlast,y\n", &p);
	CHECK_INT(p.rc, 0);
	CHECK_INT(p.nrec, 4);
	CHECK_STR(p.val[1][0], "two\nlines");
	CHECK_INT(p.line[1], 2);
	CHECK_INT(p.fline[1][1], 3);       /* x starts on line 3 */
	CHECK_INT(p.line[2], 4);
	CHECK_STR(p.val[2][1], "three\r\nline\nfield");
	CHECK_INT(p.line[3], 7);
}

static void test_crlf_and_cr(void)
{
	struct parsed p;

	parse("a,b\r\n1,2\r\n3,4\r\n", &p);
	CHECK_INT(p.rc, 0);
	CHECK_INT(p.nrec, 3);
	CHECK_STR(p.val[2][1], "4");
	CHECK_INT(p.line[2], 3);
	parse("a,b\r1,2\r3,4", &p);        /* old Mac line ends */
	CHECK_INT(p.rc, 0);
	CHECK_INT(p.nrec, 3);
	CHECK_INT(p.line[2], 3);
	CHECK_STR(p.val[2][0], "3");
}

static void test_blank_lines_skipped(void)
{
	struct parsed p;

	parse("a,b\n\n1,2\n\r\n\n3,4\n\n", &p);
	CHECK_INT(p.rc, 0);
	CHECK_INT(p.nrec, 3);
	CHECK_INT(p.line[1], 3);
	CHECK_INT(p.line[2], 6);
}

static void test_null_vs_empty(void)
{
	struct parsed p;

	parse("a,b,c\n,\"\",x\n", &p);
	CHECK_INT(p.rc, 0);
	CHECK_INT(p.nf[1], 3);
	CHECK_INT(p.isnull[1][0], 1);
	CHECK_INT(p.isnull[1][1], 0);
	CHECK_STR(p.val[1][1], "");
	CHECK_INT(p.isnull[1][2], 0);
	parse("\"\",b\n", &p);              /* quoted empty as very first field */
	CHECK_INT(p.isnull[0][0], 0);
	parse("a,b\n1,\n", &p);             /* trailing empty field */
	CHECK_INT(p.nf[1], 2);
	CHECK_INT(p.isnull[1][1], 1);
}

static void test_spaces_kept(void)
{
	struct parsed p;

	parse(" a , b \n", &p);
	CHECK_INT(p.rc, 0);
	CHECK_STR(p.val[0][0], " a ");
	CHECK_STR(p.val[0][1], " b ");
}

static void test_bom(void)
{
	struct parsed p;

	parse("\xEF\xBB\xBFid,name\r\nu_1,Zo\xC3\xAB\r\n", &p);
	CHECK_INT(p.rc, 0);
	CHECK_STR(p.val[0][0], "id");
	CHECK_STR(p.val[1][1], "Zo\xC3\xAB");
	parse("\xEF\xBB\xBF", &p);          /* BOM only: no record */
	CHECK_INT(p.rc, 0);
	CHECK_INT(p.nrec, 0);
	parse("", &p);
	CHECK_INT(p.rc, 0);
	CHECK_INT(p.nrec, 0);
}

static void test_utf8_check(void)
{
	CHECK_INT(csv_utf8_check("plain", 5), -1);
	CHECK_INT(csv_utf8_check("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80", 9), -1); /* é € 😀 */
	CHECK_INT(csv_utf8_check("\xF4\x8F\xBF\xBF", 4), -1);     /* U+10FFFF */
	CHECK_INT(csv_utf8_check("\xEF\xBF\xBD", 3), -1);         /* U+FFFD */
	CHECK_INT(csv_utf8_check("ab\xFF", 3), 2);
	CHECK_INT(csv_utf8_check("\xC0\xAF", 2), 0);              /* overlong / */
	CHECK_INT(csv_utf8_check("\xC1\xBF", 2), 0);
	CHECK_INT(csv_utf8_check("\xE0\x80\xAF", 3), 0);          /* overlong 3-byte */
	CHECK_INT(csv_utf8_check("\xF0\x80\x80\xAF", 4), 0);      /* overlong 4-byte */
	CHECK_INT(csv_utf8_check("x\xED\xA0\x80", 4), 1);         /* surrogate D800 */
	CHECK_INT(csv_utf8_check("\xED\xBF\xBF", 3), 0);          /* surrogate DFFF */
	CHECK_INT(csv_utf8_check("\xF4\x90\x80\x80", 4), 0);      /* U+110000 */
	CHECK_INT(csv_utf8_check("\xF5\x80\x80\x80", 4), 0);
	CHECK_INT(csv_utf8_check("\xC3", 1), 0);                  /* truncated */
	CHECK_INT(csv_utf8_check("\xE2\x82", 2), 0);
	CHECK_INT(csv_utf8_check("\xC3\x28", 2), 0);              /* bad continuation */
	CHECK_INT(csv_utf8_check("\x80", 1), 0);                  /* lone continuation */
	CHECK_INT(csv_utf8_check("a\0b", 3), 1);                  /* NUL */
}

static void test_invalid_utf8_position(void)
{
	struct parsed p;

	parse("a,b\nok,bad\xFFhere\n", &p);
	CHECK_INT(p.rc, EXIT_DATAERR);
	CHECK_STR(p.msg, "t.csv:2:2: invalid UTF-8 (byte 0xff)");
	/* the bad byte sits on the third line of a quoted field */
	parse("a,b\nok,\"one\ntwo\nthr\xC0\xAF\"\n", &p);
	CHECK_STR(p.msg, "t.csv:4:2: invalid UTF-8 (byte 0xc0)");
	parse_mem("a,b\nx,y\0z\n", 10, &p);
	CHECK_STR(p.msg, "t.csv:2:2: NUL byte in field");
}

static void test_syntax_errors(void)
{
	struct parsed p;

	parse("a,b\nx,ab\"c\n", &p);
	CHECK_INT(p.rc, EXIT_DATAERR);
	CHECK_STR(p.msg, "t.csv:2:2: quote in unquoted field");
	parse("a,b\n\"x\"y,z\n", &p);
	CHECK_STR(p.msg, "t.csv:2:1: unexpected character after closing quote");
	parse("a,b\n\"x\" ,z\n", &p);
	CHECK_STR(p.msg, "t.csv:2:1: unexpected character after closing quote");
	parse("a,b\nx,\"open\nstill\nopen\n", &p);
	CHECK_STR(p.msg, "t.csv:2:2: unterminated quoted field");
	/* error after an embedded newline: the line of the bad character */
	parse("a,b\n\"x\ny\",b\"c\n", &p);
	CHECK_STR(p.msg, "t.csv:3:2: quote in unquoted field");
	/* the record before the error was delivered */
	CHECK_INT(p.nrec, 1);
}

static void test_record_too_long(void)
{
	size_t n = CSV_READER_MAX_RECORD + 100, i;
	char *big = malloc(n + 16);
	struct parsed p;

	if (!big)
		return;
	memcpy(big, "a\n\"", 3);
	for (i = 3; i < n; i++)
		big[i] = 'x';
	parse_mem(big, n, &p);
	CHECK_INT(p.rc, EXIT_DATAERR);
	CHECK_STR(p.msg, "t.csv:2:1: record longer than 1048576 bytes");
	free(big);
}

/* Records long enough that CRLFs and quoted fields straddle 64 KiB chunks. */
static void test_chunk_boundaries(void)
{
	size_t cap = 600000, len = 0;
	char *buf = malloc(cap);
	FILE *fp;
	struct csv_reader *r = NULL;
	const struct csv_record *rec;
	struct err e = { 0 };
	long want_line = 1, count = 0, bad = 0;
	int i;

	if (!buf)
		return;
	for (i = 0; i < 5000 && len + 200 < cap; i++) {
		/* every 7th record carries a quoted field with a CRLF inside */
		int n = snprintf(buf + len, cap - len, i % 7 == 0 ? "r%d,\"q\r\nz%d\",%0*d\r\n"
							       : "r%d,v%d,%0*d\r\n",
				 i, i, 1 + i % 61, i);

		len += (size_t)n;
	}
	fp = fmemopen(buf, len, "r");
	if (!fp || csv_reader_open_fp(fp, "big.csv", &r, &e) != 0) {
		CHECK(0);
		free(buf);
		return;
	}
	while (csv_reader_next(r, &rec, &e) == 0 && rec) {
		char expect[32];

		snprintf(expect, sizeof expect, "r%ld", count);
		if (rec->line != want_line || rec->nfields != 3 || strcmp(rec->fields[0].value, expect))
			bad++;
		want_line += count % 7 == 0 ? 2 : 1;
		count++;
	}
	CHECK_INT(e.code, 0);
	CHECK_INT(count, i);
	CHECK_INT(bad, 0);
	CHECK_INT(csv_reader_line(r), want_line);
	csv_reader_free(r);
	fclose(fp);
	free(buf);
}

static void test_open_missing(void)
{
	struct csv_reader *r = (struct csv_reader *)1;
	struct err e = { 0 };

	CHECK_INT(csv_reader_open("/nonexistent/dir/x.csv", "x.csv", &r, &e), EXIT_NOINPUT);
	CHECK(r == NULL);
	CHECK_CONTAINS(e.msg, "x.csv: ");
	csv_reader_free(NULL);
}

/* --- writer --------------------------------------------------------------- */

#include <fcntl.h>
#include <unistd.h>

#include "sha256.h"

/* Write rows of cells to a temp file; return its bytes (malloc'd) in *out. */
static int write_rows(const struct csv_cell *cells, size_t ncols, size_t nrows, char **out,
		      size_t *outlen, char hex[65], long long *bytes)
{
	FILE *fp = tmpfile();
	struct csv_writer *w = NULL;
	struct err e = { 0 };
	size_t r;
	long sz;
	int rc;

	if (!fp)
		return -1;
	rc = csv_writer_open_fd(fileno(fp), "w.csv", &w, &e);
	for (r = 0; rc == 0 && r < nrows; r++)
		rc = csv_writer_row(w, cells + r * ncols, ncols, &e);
	*bytes = w ? csv_writer_bytes(w) : -1;
	if (rc == 0)
		rc = csv_writer_finish(w, hex, &e);
	csv_writer_free(w);
	sz = lseek(fileno(fp), 0, SEEK_END);
	*out = malloc((size_t)sz + 1);
	*outlen = (size_t)sz;
	if (pread(fileno(fp), *out, (size_t)sz, 0) != sz)
		rc = -1;
	(*out)[sz] = '\0';
	fclose(fp);
	return rc;
}

#define TXT(s) { s, sizeof(s) - 1, CSV_TEXT }
#define NUMT(s) { s, sizeof(s) - 1, CSV_NUMERIC }
#define NUM(s) { s, sizeof(s) - 1, CSV_NUMBER }

static void test_writer_round_trip(void)
{
	static const struct csv_cell cells[] = {
		TXT("plain"), TXT("with, comma"), TXT("say \"hi\""), TXT("two\nlines"),
		TXT("crlf\r\nin"), { NULL, 0, CSV_TEXT }, TXT("caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac"),
		TXT(" spaced "),
		NUM("12"), NUMT("-12.50"), TXT("x"), TXT(""), TXT("z"), TXT("\"\""), TXT(","),
		TXT("end")
	};
	const char *want[2][8] = {
		{ "plain", "with, comma", "say \"hi\"", "two\nlines", "crlf\r\nin", NULL,
		  "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac", " spaced " },
		{ "12", "-12.50", "x", NULL, "z", "\"\"", ",", "end" }
	};
	struct parsed p;
	char *data = NULL, hex[65], want_hex[65];
	size_t len, i;
	long long bytes;
	struct sha256 s;

	CHECK_INT(write_rows(cells, 8, 2, &data, &len, hex, &bytes), 0);
	CHECK_INT(bytes, (long long)len);
	sha256_init(&s);
	sha256_update(&s, data, len);
	sha256_final_hex(&s, want_hex);
	CHECK_STR(hex, want_hex);
	CHECK(len > 2 && data[len - 2] == '\r' && data[len - 1] == '\n');
	CHECK(strstr(data, "plain,\"with, comma\",\"say \"\"hi\"\"\",") == data);
	parse_mem(data, len, &p);
	CHECK_INT(p.rc, 0);
	CHECK_INT(p.nrec, 2);
	for (int r = 0; r < 2; r++) {
		CHECK_INT(p.nf[r], 8);
		for (i = 0; i < 8; i++) {
			if (!want[r][i])
				CHECK(p.isnull[r][i]);
			else
				CHECK_STR(p.val[r][i], want[r][i]);
		}
	}
	free(data);
}

static void test_writer_injection(void)
{
	static const struct csv_cell cells[] = {
		TXT("=HYPERLINK(\"http://x\",\"y\")"), TXT("+1"), TXT("@SUM(A1:A2)"), TXT("\tx"),
		TXT("\rcr"), TXT("-2+3"), NUMT("-12.50"), NUMT("-7"), NUM("-3"), NUMT("-1+1"),
		NUMT("=1"), TXT("-12.50"), NUMT("+5"), NUMT("-.5"), TXT("a=b"), NUMT("0.125")
	};
	const char *want[] = {
		"'=HYPERLINK(\"http://x\",\"y\")", "'+1", "'@SUM(A1:A2)", "'\tx", "'\rcr",
		"'-2+3", "-12.50", "-7", "-3", "'-1+1", "'=1", "'-12.50", "'+5", "'-.5", "a=b",
		"0.125"
	};
	struct parsed p;
	char *data = NULL, hex[65];
	size_t len, i, n = sizeof cells / sizeof cells[0];
	long long bytes;

	CHECK_INT(write_rows(cells, 8, 2, &data, &len, hex, &bytes), 0);
	/* the raw text: a negative amount is unquoted and starts the field */
	CHECK(strstr(data, ",-12.50,-7\r\n-3,") != NULL);
	parse_mem(data, len, &p);
	CHECK_INT(p.rc, 0);
	CHECK_INT(p.nrec, 2);
	for (i = 0; i < n; i++)
		CHECK_STR(p.val[i / 8][i % 8], want[i]);
	free(data);
	CHECK(csv_is_plain_number("0", 1));
	CHECK(csv_is_plain_number("-0.01", 5));
	CHECK(!csv_is_plain_number("-", 1));
	CHECK(!csv_is_plain_number("1.", 2));
	CHECK(!csv_is_plain_number("1e5", 3));
	CHECK(!csv_is_plain_number("", 0));
	CHECK(csv_needs_neutralising("=", 1));
	CHECK(!csv_needs_neutralising("a-", 2));
}

static void test_writer_bad_utf8(void)
{
	static const struct csv_cell cells[] = {
		{ "a\xff" "b", 3, CSV_TEXT }, { "c\0d", 3, CSV_TEXT }, { "\xc3", 1, CSV_TEXT }
	};
	struct parsed p;
	char *data = NULL, hex[65];
	size_t len;
	long long bytes;

	CHECK_INT(write_rows(cells, 3, 1, &data, &len, hex, &bytes), 0);
	parse_mem(data, len, &p);
	CHECK_INT(p.rc, 0);
	CHECK_STR(p.val[0][0], "a\xef\xbf\xbd" "b");
	CHECK_STR(p.val[0][1], "c\xef\xbf\xbd" "d");
	CHECK_STR(p.val[0][2], "\xef\xbf\xbd");
	free(data);
}

/* Many rows and one field larger than the writer's buffer. */
static void test_writer_large(void)
{
	size_t big = 600 * 1024, i;
	char *field = malloc(big), *data = NULL, hex[65];
	struct csv_cell *cells = calloc(20000, sizeof *cells);
	const struct csv_record *rec;
	struct csv_reader *r = NULL;
	struct err e = { 0 };
	long long bytes;
	size_t len;
	FILE *fp;
	int n = 0;

	for (i = 0; i < big; i++)
		field[i] = i % 100 == 0 ? '"' : 'a' + (char)(i % 26);
	for (i = 0; i < 20000; i++) {
		cells[i].value = i == 777 ? field : "row,value";
		cells[i].len = i == 777 ? big : 9;
	}
	CHECK_INT(write_rows(cells, 2, 10000, &data, &len, hex, &bytes), 0);
	CHECK_INT(bytes, (long long)len);
	{
		struct sha256 s;
		char want_hex[65];

		sha256_init(&s);
		sha256_update(&s, data, len);
		sha256_final_hex(&s, want_hex);
		CHECK_STR(hex, want_hex);
	}
	fp = fmemopen(data, len, "r");
	CHECK_INT(csv_reader_open_fp(fp, "big.csv", &r, &e), 0);
	while (csv_reader_next(r, &rec, &e) == 0 && rec) {
		if (n == 388)
			CHECK(rec->fields[1].len == big && memcmp(rec->fields[1].value, field, big) == 0);
		n++;
	}
	CHECK_INT(n, 10000);
	csv_reader_free(r);
	fclose(fp);
	free(data);
	free(field);
	free(cells);
}

/*
 * Megabytes through the background writer, with flushes in between (as the
 * runner flushes after its first row): the file holds every row in order
 * and the digest is the file's.
 */
static void test_writer_threaded(void)
{
	size_t nrows = 120000, r, len = 0, cap = nrows * 40 + 1, off = 0;
	char *want = malloc(cap), *got = NULL, num[32], hex[65], want_hex[65];
	FILE *fp = tmpfile();
	struct csv_writer *w = NULL;
	struct err e = { 0 };
	struct sha256 s;
	long sz;
	int rc;

	if (!want || !fp) {
		CHECK(0);
		free(want);
		if (fp)
			fclose(fp);
		return;
	}
	rc = csv_writer_open_fd(fileno(fp), "t.csv", &w, &e);
	for (r = 0; rc == 0 && r < nrows; r++) {
		struct csv_cell cells[3] = { { num, 0, CSV_NUMBER }, TXT("=cell"), TXT("a,b") };

		cells[0].len = (size_t)snprintf(num, sizeof num, "%zu", r * 7919);
		rc = csv_writer_row(w, cells, 3, &e);
		off += (size_t)snprintf(want + off, cap - off, "%s,'=cell,\"a,b\"\r\n", num);
		if (rc == 0 && (r == 1 || r == nrows / 2))
			rc = csv_writer_flush(w, &e);
	}
	CHECK_INT(rc, 0);
	CHECK_INT(csv_writer_bytes(w), (long long)off);
	CHECK_INT(csv_writer_finish(w, hex, &e), 0);
	csv_writer_free(w);
	sz = lseek(fileno(fp), 0, SEEK_END);
	CHECK_INT(sz, (long long)off);
	if (sz > 0 && (got = malloc((size_t)sz)) != NULL &&
	    pread(fileno(fp), got, (size_t)sz, 0) == sz)
		len = (size_t)sz;
	CHECK(len == off && memcmp(got, want, off) == 0);
	sha256_init(&s);
	sha256_update(&s, want, off);
	sha256_final_hex(&s, want_hex);
	CHECK_STR(hex, want_hex);
	free(got);
	free(want);
	fclose(fp);
}

/* A full disk (/dev/full): EXIT_IOERR naming the file, small file or large. */
static void test_writer_full_disk(void)
{
	static const struct csv_cell cells[] = { TXT("some"), TXT("text") };
	size_t sizes[] = { 1, 200000 }, k, r;
	int fd = open("/dev/full", O_WRONLY);

	if (fd < 0) {
		printf("  (no /dev/full: skipped)\n");
		return;
	}
	for (k = 0; k < 2; k++) {
		struct csv_writer *w = NULL;
		struct err e = { 0 };
		char hex[65];
		int rc;

		rc = csv_writer_open_fd(fd, "full.csv", &w, &e);
		for (r = 0; rc == 0 && r < sizes[k]; r++)
			rc = csv_writer_row(w, cells, 2, &e);
		if (rc == 0)
			rc = csv_writer_finish(w, hex, &e);
		CHECK_INT(rc, EXIT_IOERR);
		CHECK_CONTAINS(e.msg, "\"full.csv\": write: ");
		if (k == 1)     /* reported by the hand-off after the failed write */
			CHECK(r < sizes[k]);
		csv_writer_free(w);
	}
	close(fd);
}

int main(void)
{
	RUN(test_simple);
	RUN(test_no_trailing_newline);
	RUN(test_quoted);
	RUN(test_embedded_newline_lines);
	RUN(test_crlf_and_cr);
	RUN(test_blank_lines_skipped);
	RUN(test_null_vs_empty);
	RUN(test_spaces_kept);
	RUN(test_bom);
	RUN(test_utf8_check);
	RUN(test_invalid_utf8_position);
	RUN(test_syntax_errors);
	RUN(test_record_too_long);
	RUN(test_chunk_boundaries);
	RUN(test_open_missing);
	RUN(test_writer_round_trip);
	RUN(test_writer_injection);
	RUN(test_writer_bad_utf8);
	RUN(test_writer_large);
	RUN(test_writer_threaded);
	RUN(test_writer_full_disk);
	return harness_done();
}
