/*
 * csv.h - trueup's one CSV module (RFC 4180, on top of libcsv).
 *
 * Reading side: a streaming reader that yields one record (an array of
 * fields) at a time, with the physical line on which the record starts and
 * the line on which each field starts, so that callers can name
 * FILE:LINE:COLUMN in their messages (COLUMN is the 1-based field number).
 * The file is read in fixed-size chunks; memory is bounded by the longest
 * record (CSV_READER_MAX_RECORD bytes), never by the size of the file.
 *
 * Dialect (strict RFC 4180):
 *  - comma separated, '"' quotes, "" inside a quoted field is one quote;
 *    quoted fields may hold commas, CR and LF;
 *  - records end with LF, CRLF or a lone CR (all three count as one
 *    physical line break for line numbers, inside quoted fields too);
 *    blank lines between records are skipped;
 *  - no trimming: spaces are part of the field; a quote inside an unquoted
 *    field, or anything but a comma or line end after a closing quote, is an
 *    error, as is a quoted field still open at end of file;
 *  - a UTF-8 byte order mark at the start of the file is skipped; every
 *    field must be valid UTF-8 (no overlong forms, no surrogates, nothing
 *    above U+10FFFF) and must not contain a NUL byte;
 *  - an empty unquoted field is reported as NULL (value == NULL); a quoted
 *    empty field "" as the empty string (value[0] == '\0').  The reader
 *    keeps the difference; whether "" means NULL is the caller's policy
 *    (the import treats both as NULL, as SPEC says "empty = NULL").
 *
 * Errors are returned as an exit code with struct err filled:
 *   EXIT_NOINPUT  the file cannot be opened
 *   EXIT_IOERR    a read error
 *   EXIT_DATAERR  "NAME:LINE:COLUMN: reason" for syntax and encoding errors
 *
 * Writing side (csv_writer_*): RFC 4180 records ending in CRLF, a field
 * quoted (through libcsv's csv_write) only when it holds a comma, a quote,
 * CR or LF; invalid UTF-8 and NUL bytes become U+FFFD so every file reads
 * back with the strict reader above.  Formula injection (a spreadsheet
 * runs a cell that starts with = + - @, tab or CR) is neutralised by
 * prefixing such a cell with an apostrophe, except where the cell is a
 * number: see enum csv_cell_kind.  The writer buffers, counts the bytes
 * and hashes them (SHA-256) as it goes, so the caller never reads a file
 * back to describe it.
 *
 * Note on the include: libcsv's header is also called csv.h.  csv.c defines
 * TRUEUP_CSV_IMPL and includes <csv.h> (found in src/ through -Isrc); this
 * header then pulls in libcsv's own header with #include_next.  Every other
 * file simply includes "csv.h" and never sees libcsv.
 */
#ifndef TRUEUP_CSV_H
#define TRUEUP_CSV_H

#ifdef TRUEUP_CSV_IMPL
#include_next <csv.h>
#endif

#include <stddef.h>
#include <stdio.h>

#include "err.h"

/* Longest record (bytes of input, quotes included) and most fields per record. */
#define CSV_READER_MAX_RECORD (1024 * 1024)
#define CSV_READER_MAX_FIELDS 1024

struct csv_field {
	const char *value;   /* NUL-terminated; NULL for an empty unquoted field */
	size_t len;          /* bytes in value (0 when value is NULL) */
	long line;           /* physical line on which the field starts */
	int column;          /* 1-based field number */
};

struct csv_record {
	long line;                 /* physical line on which the record starts */
	size_t nfields;
	const struct csv_field *fields;
};

struct csv_reader;

/*
 * Open path for reading.  name is used in messages (e.g. "users.csv"); it
 * is copied.  On success *out is a reader the caller frees with
 * csv_reader_free().  On failure *out is NULL and the return value is
 * EXIT_NOINPUT (cannot open) or EXIT_SOFTWARE (out of memory).
 */
int csv_reader_open(const char *path, const char *name, struct csv_reader **out,
		    struct err *e);

/*
 * Same, over an open stream that the reader does not close (tests use
 * fmemopen).  fp must stay open until csv_reader_free().
 */
int csv_reader_open_fp(FILE *fp, const char *name, struct csv_reader **out,
		       struct err *e);

/*
 * Read the next record into *rec.  Returns 0 with *rec pointing at a record
 * owned by the reader (valid until the next call or csv_reader_free), or 0
 * with *rec == NULL at end of file.  On error returns EXIT_DATAERR (syntax,
 * encoding, record too long), EXIT_IOERR (read error) or EXIT_SOFTWARE (out
 * of memory) with e filled; the reader must then only be freed.
 */
int csv_reader_next(struct csv_reader *r, const struct csv_record **rec, struct err *e);

/* Physical lines seen so far (for messages about the end of the file). */
long csv_reader_line(const struct csv_reader *r);

/* Close (if opened by csv_reader_open) and free.  NULL is fine. */
void csv_reader_free(struct csv_reader *r);

/*
 * Check that s[0..len) is valid UTF-8 (strict: no overlongs, no surrogates,
 * nothing above U+10FFFF, no NUL byte).  Returns -1 if valid, else the
 * offset of the first bad byte.
 */
long csv_utf8_check(const char *s, size_t len);

/* --- writing ------------------------------------------------------------ */

/*
 * How a cell may be written.  The design against formula injection: only
 * a cell that is a number is ever written with a leading '-' (or '+'
 * never), so a spreadsheet reads negative amounts as numbers while text
 * such as "=HYPERLINK(...)", "+1", "-2+3", "@SUM(A1)" or "\tx" becomes
 * "'=HYPERLINK(...)" and is shown as text.
 *   CSV_TEXT     neutralised when it starts with = + - @ TAB or CR
 *   CSV_NUMBER   a value that is numeric by type (an SQLite INTEGER or
 *                REAL): written as it is
 *   CSV_NUMERIC  text in a column declared numeric (decimal amounts such
 *                as "-12.50"): written as it is when it is a plain
 *                decimal number, -?[0-9]+(.[0-9]+)?, else treated as TEXT
 * A NULL value is an empty field.
 */
enum csv_cell_kind { CSV_TEXT = 0, CSV_NUMBER, CSV_NUMERIC };

struct csv_cell {
	const char *value;      /* NULL: empty field */
	size_t len;
	enum csv_cell_kind kind;
};

struct csv_writer;

/*
 * A writer to the open descriptor fd (not closed by the writer); name is
 * used in messages.  *out is freed with csv_writer_free().  Returns 0 or
 * EXIT_SOFTWARE (out of memory).
 */
int csv_writer_open_fd(int fd, const char *name, struct csv_writer **out, struct err *e);

/*
 * Write one record of n cells.  Returns 0, or EXIT_IOERR (a write
 * failed, e.g. the disk is full; e names the file) or EXIT_SOFTWARE.
 */
int csv_writer_row(struct csv_writer *w, const struct csv_cell *cells, size_t n,
		   struct err *e);

/* Write out what is buffered.  0 or EXIT_IOERR. */
int csv_writer_flush(struct csv_writer *w, struct err *e);

/* Bytes written so far (buffered ones included). */
long long csv_writer_bytes(const struct csv_writer *w);

/*
 * Flush and give the SHA-256 of everything written, as 64 hex digits.
 * The writer takes no more rows after this.  0 or EXIT_IOERR.
 */
int csv_writer_finish(struct csv_writer *w, char sha256_hex[65], struct err *e);

/* Free (without flushing).  NULL is fine. */
void csv_writer_free(struct csv_writer *w);

/* 1 when s[0..len) is a plain decimal number -?[0-9]+(.[0-9]+)?, else 0. */
int csv_is_plain_number(const char *s, size_t len);

/*
 * 1 when a text cell s[0..len) would be run as a formula by a spreadsheet
 * (it starts with = + - @ TAB or CR) and is neutralised by the writer.
 */
int csv_needs_neutralising(const char *s, size_t len);

#endif
