/*
 * csv.c - streaming RFC 4180 reader over libcsv; see csv.h.
 *
 * libcsv is a push parser: it calls back once per field and once per
 * record.  To know on which physical line a record and each field start,
 * the reader feeds libcsv one piece at a time, where a piece never crosses
 * a line break: it ends just after the first CR or LF (or at the end of the
 * read chunk).  A record can only end at a line break (or at end of file),
 * so at most one record completes per piece, and the line number of the
 * piece being fed is the line of every callback it triggers.  Line breaks
 * are LF, CR LF and a lone CR, counted once each.
 *
 * libcsv runs with CSV_STRICT (stray quotes are errors), CSV_STRICT_FINI (a
 * quoted field open at end of file is an error), CSV_EMPTY_IS_NULL (empty
 * unquoted field -> NULL pointer), CSV_APPEND_NULL, and a space function
 * that recognises no spaces, so nothing is trimmed.
 */
#ifdef __linux__
#define _GNU_SOURCE     /* sync_file_range(2), see csv_out */
#endif
#define TRUEUP_CSV_IMPL
#include <csv.h>     /* src/csv.h, which #include_next's libcsv's csv.h */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CSV_READER_CHUNK (64 * 1024)

struct csv_slot {
	size_t off;        /* offset of the value in buf */
	size_t len;
	int is_null;
	long line;
};

struct csv_reader {
	FILE *fp;
	int own_fp;
	char *name;
	struct csv_parser parser;
	int parser_ready;

	unsigned char *chunk;      /* CSV_READER_CHUNK bytes */
	size_t pos, len;
	int eof, started, finished;

	long line;                 /* physical line of the next byte */
	int prev_cr;               /* last byte fed was a CR */
	int at_row_start;          /* no byte of the next record fed yet */
	long rec_line;
	long field_line;           /* line on which the current field starts */
	size_t rec_bytes;

	char *buf;                 /* values of the current record, NUL-separated */
	size_t buf_len, buf_cap;
	struct csv_slot *slots;
	size_t nslots, slots_cap;
	struct csv_field *fields;
	size_t fields_cap;
	struct csv_record rec;
	int have_record;

	int failed;                /* a callback hit an error: see err */
	struct err err;
};

static const char csv_bom[3] = { '\xEF', '\xBB', '\xBF' };

long csv_utf8_check(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t need;
		unsigned char lo = 0x80, hi = 0xBF;

		if (c == 0)
			return (long)i;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF) {
			need = 1;
		} else if (c >= 0xE0 && c <= 0xEF) {
			need = 2;
			if (c == 0xE0)
				lo = 0xA0;          /* overlong */
			else if (c == 0xED)
				hi = 0x9F;          /* surrogates */
		} else if (c >= 0xF0 && c <= 0xF4) {
			need = 3;
			if (c == 0xF0)
				lo = 0x90;          /* overlong */
			else if (c == 0xF4)
				hi = 0x8F;          /* above U+10FFFF */
		} else {
			return (long)i;             /* 80..C1, F5..FF */
		}
		if (i + need >= len)
			return (long)i;             /* truncated sequence */
		if (s[i + 1] < lo || s[i + 1] > hi)
			return (long)i;
		for (size_t k = 2; k <= need; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xBF)
				return (long)i;
		i += need + 1;
	}
	return -1;
}

/* libcsv space function: nothing is a space, so nothing is trimmed. */
static int csv_no_space(unsigned char c)
{
	(void)c;
	return 0;
}

/* Line breaks (LF, CRLF, lone CR) in s[0..n), for the line of a bad byte. */
static long csv_count_breaks(const char *s, size_t n)
{
	long breaks = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\r')
			breaks++;
		else if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
			breaks++;
	}
	return breaks;
}

static void csv_fail(struct csv_reader *r, int code, long line, size_t column,
		     const char *reason)
{
	if (r->failed)
		return;
	r->failed = 1;
	err_set(&r->err, code, "%s:%ld:%zu: %s", r->name, line, column, reason);
}

static int csv_grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t ncap = *cap ? *cap : 16;
	void *np;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	np = realloc(*p, ncap * elem);
	if (!np)
		return -1;
	*p = np;
	*cap = ncap;
	return 0;
}

/* libcsv field callback: validate and store one field of the record. */
static void csv_on_field(void *s, size_t len, void *data)
{
	struct csv_reader *r = data;
	size_t column = r->nslots + 1;
	struct csv_slot *slot;
	char why[64];
	long bad;

	if (r->failed)
		return;
	if (r->nslots >= CSV_READER_MAX_FIELDS) {
		snprintf(why, sizeof why, "more than %d fields", CSV_READER_MAX_FIELDS);
		csv_fail(r, EXIT_DATAERR, r->rec_line, column, why);
		return;
	}
	if (s && (bad = csv_utf8_check(s, len)) >= 0) {
		unsigned char b = ((unsigned char *)s)[bad];
		long line = r->field_line + csv_count_breaks(s, (size_t)bad);

		if (b == 0)
			snprintf(why, sizeof why, "NUL byte in field");
		else
			snprintf(why, sizeof why, "invalid UTF-8 (byte 0x%02x)", b);
		csv_fail(r, EXIT_DATAERR, line, column, why);
		return;
	}
	if (csv_grow((void **)&r->slots, &r->slots_cap, r->nslots + 1, sizeof *r->slots) ||
	    csv_grow((void **)&r->buf, &r->buf_cap, r->buf_len + len + 1, 1)) {
		r->failed = 1;
		err_set(&r->err, EXIT_SOFTWARE, "%s: out of memory", r->name);
		return;
	}
	slot = &r->slots[r->nslots++];
	slot->off = r->buf_len;
	slot->len = s ? len : 0;
	slot->is_null = s == NULL;
	slot->line = r->field_line;
	if (s && len)
		memcpy(r->buf + r->buf_len, s, len);
	r->buf[r->buf_len + slot->len] = '\0';
	r->buf_len += slot->len + 1;
	/* The next field starts after this delimiter: on the line being fed. */
	r->field_line = r->line;
}

/* libcsv record callback: the record in slots is complete. */
static void csv_on_record(int c, void *data)
{
	struct csv_reader *r = data;

	(void)c;
	if (r->failed)
		return;
	r->have_record = 1;
	r->at_row_start = 1;
}

static int csv_reader_init(FILE *fp, int own, const char *name, struct csv_reader **out,
			   struct err *e)
{
	struct csv_reader *r = calloc(1, sizeof *r);

	*out = NULL;
	if (!r || !(r->name = strdup(name ? name : "csv")) ||
	    !(r->chunk = malloc(CSV_READER_CHUNK))) {
		if (r)
			free(r->name);
		free(r);
		if (own)
			fclose(fp);
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	}
	r->fp = fp;
	r->own_fp = own;
	r->line = 1;
	r->at_row_start = 1;
	if (csv_init(&r->parser, CSV_STRICT | CSV_STRICT_FINI | CSV_EMPTY_IS_NULL |
				 CSV_APPEND_NULL) != 0) {
		csv_reader_free(r);
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	}
	r->parser_ready = 1;
	csv_set_space_func(&r->parser, csv_no_space);
	*out = r;
	return 0;
}

int csv_reader_open(const char *path, const char *name, struct csv_reader **out,
		    struct err *e)
{
	FILE *fp = fopen(path, "rb");

	*out = NULL;
	if (!fp)
		return err_set(e, EXIT_NOINPUT, "%s: %s", name ? name : path, strerror(errno));
	return csv_reader_init(fp, 1, name ? name : path, out, e);
}

int csv_reader_open_fp(FILE *fp, const char *name, struct csv_reader **out,
		       struct err *e)
{
	return csv_reader_init(fp, 0, name, out, e);
}

void csv_reader_free(struct csv_reader *r)
{
	if (!r)
		return;
	if (r->parser_ready)
		csv_free(&r->parser);
	if (r->own_fp && r->fp)
		fclose(r->fp);
	free(r->name);
	free(r->chunk);
	free(r->buf);
	free(r->slots);
	free(r->fields);
	free(r);
}

long csv_reader_line(const struct csv_reader *r)
{
	return r ? r->line : 0;
}

/* Read the next chunk; skip a BOM at the start of the file. */
static int csv_fill(struct csv_reader *r, struct err *e)
{
	size_t n = fread(r->chunk, 1, CSV_READER_CHUNK, r->fp);

	if (n < CSV_READER_CHUNK && ferror(r->fp))
		return err_set(e, EXIT_IOERR, "%s: read error: %s", r->name, strerror(errno));
	if (n == 0)
		r->eof = 1;
	r->pos = 0;
	r->len = n;
	if (!r->started) {
		r->started = 1;
		if (n >= 3 && memcmp(r->chunk, csv_bom, 3) == 0)
			r->pos = 3;
	}
	return 0;
}

static int csv_take_error(struct csv_reader *r, struct err *e)
{
	if (e) {
		e->code = r->err.code;
		memcpy(e->msg, r->err.msg, sizeof e->msg);
	}
	return r->err.code;
}

/* Turn the collected slots into r->rec. */
static int csv_build_record(struct csv_reader *r, struct err *e)
{
	if (csv_grow((void **)&r->fields, &r->fields_cap, r->nslots ? r->nslots : 1,
		     sizeof *r->fields))
		return err_set(e, EXIT_SOFTWARE, "%s: out of memory", r->name);
	for (size_t i = 0; i < r->nslots; i++) {
		r->fields[i].value = r->slots[i].is_null ? NULL : r->buf + r->slots[i].off;
		r->fields[i].len = r->slots[i].len;
		r->fields[i].line = r->slots[i].line;
		r->fields[i].column = (int)i + 1;
	}
	r->rec.line = r->rec_line;
	r->rec.nfields = r->nslots;
	r->rec.fields = r->fields;
	return 0;
}

/* Feed one piece (never crossing a line break) to libcsv. */
static int csv_feed(struct csv_reader *r, const unsigned char *piece, size_t n,
		    struct err *e)
{
	unsigned char last = piece[n - 1];
	int lf_of_crlf = piece[0] == '\n' && r->prev_cr;
	size_t done;

	if (r->at_row_start) {
		for (size_t i = 0; i < n; i++) {
			if (piece[i] != '\r' && piece[i] != '\n') {
				r->at_row_start = 0;
				r->rec_line = r->line;
				r->field_line = r->line;
				r->rec_bytes = 0;
				break;
			}
		}
	}
	done = csv_parse(&r->parser, piece, n, csv_on_field, csv_on_record, r);
	if (r->failed)
		return csv_take_error(r, e);
	if (done < n) {
		size_t column = r->nslots + 1;

		if (csv_error(&r->parser) == CSV_ENOMEM || csv_error(&r->parser) == CSV_ETOOBIG)
			return err_set(e, EXIT_SOFTWARE, "%s: out of memory", r->name);
		if (piece[done] == '"')
			return err_set(e, EXIT_DATAERR, "%s:%ld:%zu: quote in unquoted field",
				       r->name, r->line, column);
		return err_set(e, EXIT_DATAERR,
			       "%s:%ld:%zu: unexpected character after closing quote",
			       r->name, r->line, column);
	}
	if (!r->at_row_start) {
		r->rec_bytes += n;
		if (r->rec_bytes > CSV_READER_MAX_RECORD)
			return err_set(e, EXIT_DATAERR, "%s:%ld:%zu: record longer than %d bytes",
				       r->name, r->rec_line, r->nslots + 1,
				       CSV_READER_MAX_RECORD);
	}
	if (last == '\r') {
		r->line++;
		r->prev_cr = 1;
	} else {
		if (last == '\n' && !lf_of_crlf)
			r->line++;
		r->prev_cr = 0;
	}
	return 0;
}

/* End of input: let libcsv submit a last record without a line break. */
static int csv_finish(struct csv_reader *r, struct err *e)
{
	int rc = csv_fini(&r->parser, csv_on_field, csv_on_record, r);

	r->finished = 1;
	if (r->failed)
		return csv_take_error(r, e);
	if (rc != 0)
		return err_set(e, EXIT_DATAERR, "%s:%ld:%zu: unterminated quoted field",
			       r->name, r->field_line, r->nslots + 1);
	return 0;
}

int csv_reader_next(struct csv_reader *r, const struct csv_record **rec, struct err *e)
{
	int rc;

	*rec = NULL;
	if (r->failed)
		return csv_take_error(r, e);
	if (r->have_record) {
		r->have_record = 0;
		r->nslots = 0;
		r->buf_len = 0;
	}
	while (!r->have_record) {
		size_t end;

		if (r->finished)
			return 0;
		if (r->pos == r->len) {
			if (r->eof) {
				if ((rc = csv_finish(r, e)) != 0)
					return rc;
				continue;
			}
			if ((rc = csv_fill(r, e)) != 0)
				return rc;
			continue;
		}
		for (end = r->pos; end < r->len; end++)
			if (r->chunk[end] == '\n' || r->chunk[end] == '\r')
				break;
		if (end < r->len)
			end++;
		rc = csv_feed(r, r->chunk + r->pos, end - r->pos, e);
		r->pos = end;
		if (rc != 0) {
			r->failed = 1;
			if (!r->err.code) {
				r->err.code = e ? e->code : rc;
				if (e)
					memcpy(r->err.msg, e->msg, sizeof r->err.msg);
			}
			return rc;
		}
	}
	if ((rc = csv_build_record(r, e)) != 0)
		return rc;
	*rec = &r->rec;
	return 0;
}

/* --- writing ------------------------------------------------------------------ */

#include <fcntl.h>
#include <unistd.h>

/* Start writing back every this many bytes, so the caller's final fsync
 * finds little left to do (the disk works while the report is computed). */
#define CSV_WRITER_KICK (8 * 1024 * 1024)

#include <threads.h>   /* C11 threads (pthread.h would find src/sched.h) */

#include "sha256.h"

#define CSV_WRITER_BUF (256 * 1024)

/*
 * The writer formats records into buf on the caller's thread.  A full
 * buffer is handed to a background thread (started when the first buffer
 * fills, so a small file never starts one) that hashes it, writes it and
 * kicks write-back, while the caller fills the other buffer: a large
 * report's SHA-256 and write(2) calls run on the second core, beside the
 * query.  A failed write is kept (werr) and reported by the next hand-off,
 * flush or finish; nothing is written after it.  Without the thread (a
 * small file, or thrd_create failed) the same work runs inline.
 */
struct csv_writer {
	int fd;
	char *name;
	char *buf;                  /* being filled: cap bytes (more for a huge field) */
	size_t len, cap;
	char *other;                /* the second buffer, free while the thread is idle */
	size_t other_cap;
	long long bytes;            /* bytes handed over (written or being written) */
	long long written;          /* bytes written: these three are csv_out's, */
	long long kicked;           /* bytes handed to write-back so far */
	struct sha256 hash;         /* the thread's while it runs */
	char *scratch;              /* a neutralised or repaired field */
	size_t scratch_cap;

	int threaded;               /* the thread runs: the fields below are used */
	thrd_t thread;
	mtx_t mu;
	cnd_t cv;
	const char *job;            /* handed to the thread (NULL: idle) */
	size_t job_len;
	int stop;                   /* the thread is to end */
	int werr;                   /* 0, or errno of the failed write (-1: no progress) */
};

/* Hash and write n bytes at p; 0 or the errno of the failure (-1 no progress). */
static int csv_out(struct csv_writer *w, const char *p, size_t n)
{
	size_t off = 0;

	sha256_update(&w->hash, p, n);
	while (off < n) {
		ssize_t k = write(w->fd, p + off, n - off);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return k < 0 ? errno : -1;
		off += (size_t)k;
	}
	w->written += (long long)n;
#ifdef __linux__
	if (w->written - w->kicked >= CSV_WRITER_KICK) {
		/* a hint: failure (a pipe, an old kernel) changes nothing */
		(void)sync_file_range(w->fd, w->kicked, w->written - w->kicked,
				      SYNC_FILE_RANGE_WRITE);
		w->kicked = w->written;
	}
#endif
	return 0;
}

static int csv_thread(void *arg)
{
	struct csv_writer *w = arg;

	mtx_lock(&w->mu);
	for (;;) {
		const char *p;
		size_t n;
		int err = 0;

		while (!w->job && !w->stop)
			cnd_wait(&w->cv, &w->mu);
		if (!w->job)
			break;
		p = w->job;
		n = w->job_len;
		mtx_unlock(&w->mu);
		if (!w->werr)   /* only this thread writes werr while it runs */
			err = csv_out(w, p, n);
		mtx_lock(&w->mu);
		if (err)
			w->werr = err;
		w->job = NULL;
		cnd_broadcast(&w->cv);
	}
	mtx_unlock(&w->mu);
	return 0;
}

static int csv_write_error(struct csv_writer *w, int err, struct err *e)
{
	return err_set(e, EXIT_IOERR, "\"%s\": write: %s", w->name,
		       err > 0 ? strerror(err) : "no progress");
}

/* Wait until the thread is idle; 0 or the error of a failed write. */
static int csv_wait_idle(struct csv_writer *w, struct err *e)
{
	int err;

	mtx_lock(&w->mu);
	while (w->job)
		cnd_wait(&w->cv, &w->mu);
	err = w->werr;
	mtx_unlock(&w->mu);
	return err ? csv_write_error(w, err, e) : 0;
}

/*
 * Hand the filled buffer over: to the thread (started on the first call
 * when start is set) once it is idle, taking the other buffer; else
 * written inline.  0, or EXIT_IOERR for this or an earlier failed write.
 */
static int csv_hand_over(struct csv_writer *w, int start, struct err *e)
{
	char *full = w->buf;
	size_t cap = w->cap;
	int rc;

	if (!w->len)
		return 0;
	if (!w->threaded && start && (w->other || (w->other = malloc(CSV_WRITER_BUF)))) {
		if (!w->other_cap)
			w->other_cap = CSV_WRITER_BUF;
		if (mtx_init(&w->mu, mtx_plain) == thrd_success) {
			if (cnd_init(&w->cv) == thrd_success) {
				if (thrd_create(&w->thread, csv_thread, w) == thrd_success)
					w->threaded = 1;
				else
					cnd_destroy(&w->cv);
			}
			if (!w->threaded)
				mtx_destroy(&w->mu);
		}
	}
	w->bytes += (long long)w->len;
	if (!w->threaded) {
		int err = w->werr ? w->werr : csv_out(w, w->buf, w->len);

		w->len = 0;
		if (err)
			w->werr = err;
		return err ? csv_write_error(w, err, e) : 0;
	}
	if ((rc = csv_wait_idle(w, e)) != 0) {
		w->len = 0;
		return rc;
	}
	mtx_lock(&w->mu);
	w->job = full;
	w->job_len = w->len;
	cnd_broadcast(&w->cv);
	mtx_unlock(&w->mu);
	w->buf = w->other;
	w->cap = w->other_cap;
	w->other = full;
	w->other_cap = cap;
	w->len = 0;
	return 0;
}

int csv_writer_open_fd(int fd, const char *name, struct csv_writer **out, struct err *e)
{
	struct csv_writer *w = calloc(1, sizeof *w);

	*out = NULL;
	if (!w || !(w->buf = malloc(CSV_WRITER_BUF)) || !(w->name = strdup(name))) {
		csv_writer_free(w);
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	}
	w->fd = fd;
	w->cap = CSV_WRITER_BUF;
	sha256_init(&w->hash);
	*out = w;
	return 0;
}

void csv_writer_free(struct csv_writer *w)
{
	if (!w)
		return;
	if (w->threaded) {
		mtx_lock(&w->mu);
		w->stop = 1;
		cnd_broadcast(&w->cv);
		mtx_unlock(&w->mu);
		thrd_join(w->thread, NULL);   /* it finishes its job first */
		cnd_destroy(&w->cv);
		mtx_destroy(&w->mu);
	}
	free(w->buf);
	free(w->other);
	free(w->name);
	free(w->scratch);
	free(w);
}

long long csv_writer_bytes(const struct csv_writer *w)
{
	return w->bytes + (long long)w->len;
}

int csv_writer_flush(struct csv_writer *w, struct err *e)
{
	int rc = csv_hand_over(w, 0, e);

	if (rc == 0 && w->threaded)
		rc = csv_wait_idle(w, e);
	return rc;
}

int csv_writer_finish(struct csv_writer *w, char sha256_hex[65], struct err *e)
{
	int rc = csv_writer_flush(w, e);

	sha256_final_hex(&w->hash, sha256_hex);
	return rc;
}

/* Make room for need more bytes in the buffer (handing it over first if needed). */
static int csv_writer_grow(struct csv_writer *w, size_t need, struct err *e)
{
	int rc;

	if ((rc = csv_hand_over(w, 1, e)) != 0)
		return rc;
	if (need > w->cap) {
		char *p = realloc(w->buf, need);

		if (!p)
			return err_set(e, EXIT_SOFTWARE, "out of memory");
		w->buf = p;
		w->cap = need;
	}
	return 0;
}

static inline int csv_writer_room(struct csv_writer *w, size_t need, struct err *e)
{
	return w->len + need <= w->cap ? 0 : csv_writer_grow(w, need, e);
}

int csv_is_plain_number(const char *s, size_t len)
{
	size_t i = 0, digits = 0;

	if (i < len && s[i] == '-')
		i++;
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
		digits++;
	if (!digits)
		return 0;
	if (i == len)
		return 1;
	if (s[i++] != '.')
		return 0;
	for (digits = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++)
		digits++;
	return digits > 0 && i == len;
}

int csv_needs_neutralising(const char *s, size_t len)
{
	return len > 0 && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' ||
			   s[0] == '\t' || s[0] == '\r');
}

static int csv_scratch(struct csv_writer *w, size_t need, struct err *e)
{
	char *p;

	if (need <= w->scratch_cap)
		return 0;
	if (!(p = realloc(w->scratch, need)))
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	w->scratch = p;
	w->scratch_cap = need;
	return 0;
}

/*
 * Copy s to the scratch buffer with an optional apostrophe in front and
 * every invalid UTF-8 sequence or NUL byte replaced by U+FFFD.
 */
static int csv_repair(struct csv_writer *w, const char *s, size_t len, int quote_prefix,
		      const char **out, size_t *outlen, struct err *e)
{
	size_t o = 0, i = 0;
	long bad;
	int rc;

	if ((rc = csv_scratch(w, 3 * len + 2, e)) != 0)
		return rc;
	if (quote_prefix)
		w->scratch[o++] = '\'';
	while (i < len) {
		bad = csv_utf8_check(s + i, len - i);
		if (bad < 0) {
			memcpy(w->scratch + o, s + i, len - i);
			o += len - i;
			break;
		}
		memcpy(w->scratch + o, s + i, (size_t)bad);
		o += (size_t)bad;
		memcpy(w->scratch + o, "\xEF\xBF\xBD", 3);
		o += 3;
		i += (size_t)bad + 1;
		/* skip the continuation bytes of the bad sequence */
		while (i < len && ((unsigned char)s[i] & 0xC0) == 0x80)
			i++;
	}
	*out = w->scratch;
	*outlen = o;
	return 0;
}

/* Bytes that make a field special: 1 it must be quoted, 2 it may need repair. */
static const unsigned char csv_class[256] = {
	[0] = 2, ['\n'] = 1, ['\r'] = 1, ['"'] = 1, [','] = 1,
	[0x80] = 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2
};

/* A field that is neutralised, quoted or repaired (cls: csv_class of its bytes). */
static int csv_put_special(struct csv_writer *w, const char *s, size_t len, unsigned cls,
			   int neutral, struct err *e)
{
	int rc;

	if (neutral || ((cls & 2) && csv_utf8_check(s, len) >= 0)) {
		if ((rc = csv_repair(w, s, len, neutral, &s, &len, e)) != 0)
			return rc;
	}
	if (!(cls & 1)) {
		if ((rc = csv_writer_room(w, len, e)) != 0)
			return rc;
		memcpy(w->buf + w->len, s, len);
		w->len += len;
		return 0;
	}
	if ((rc = csv_writer_room(w, 2 * len + 2, e)) != 0)
		return rc;
	w->len += csv_write(w->buf + w->len, w->cap - w->len, s, len);
	return 0;
}

/*
 * One field.  The common case (nothing to quote, neutralise or repair) is
 * one pass that copies the bytes while classifying them; anything else is
 * redone by csv_put_special.
 */
static int csv_put_field(struct csv_writer *w, const struct csv_cell *c, struct err *e)
{
	const unsigned char *s = (const unsigned char *)c->value;
	size_t len = c->len, i;
	unsigned cls = 0;
	int neutral, rc;
	char *d;

	if (!s || !len)
		return 0;
	neutral = c->kind != CSV_NUMBER && csv_needs_neutralising(c->value, len) &&
		  !(c->kind == CSV_NUMERIC && csv_is_plain_number(c->value, len));
	if (!neutral) {
		if ((rc = csv_writer_room(w, len, e)) != 0)
			return rc;
		d = w->buf + w->len;
		for (i = 0; i < len; i++) {
			d[i] = (char)s[i];
			cls |= csv_class[s[i]];
		}
		if (!cls) {
			w->len += len;
			return 0;
		}
	} else {
		for (i = 0; i < len; i++)
			cls |= csv_class[s[i]];
	}
	return csv_put_special(w, c->value, len, cls, neutral, e);
}

int csv_writer_row(struct csv_writer *w, const struct csv_cell *cells, size_t n,
		   struct err *e)
{
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		if (i) {
			if ((rc = csv_writer_room(w, 1, e)) != 0)
				return rc;
			w->buf[w->len++] = ',';
		}
		if ((rc = csv_put_field(w, &cells[i], e)) != 0)
			return rc;
	}
	if ((rc = csv_writer_room(w, 2, e)) != 0)
		return rc;
	w->buf[w->len++] = '\r';
	w->buf[w->len++] = '\n';
	return 0;
}
