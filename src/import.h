/*
 * import.h - load platform state from CSV files (`trueup import DIR`).
 *
 * The import contract (SPEC "Platform state") is a table of file specs in
 * import.c: file name -> table, and per column its type (text, id, email,
 * timestamp, integer >= 0, enumeration), whether the header must name it,
 * whether it may be empty, and what it references.  import_dir() reads
 * whichever of the known files exist in DIR, in dependency order, in ONE
 * transaction: either every file is loaded or the database is left exactly
 * as it was.
 *
 * Rules (README of fixtures/import and the man page say the same):
 *  - UTF-8, header row, RFC 4180 quoting (see csv.h); an empty field and a
 *    quoted empty field "" are both NULL.
 *  - Unknown header columns, duplicate header columns and missing required
 *    columns are errors.  Required columns are the key columns and the NOT
 *    NULL columns; every other column may be left out of the header.
 *  - A column left out of the header is not touched: new rows get NULL,
 *    existing rows keep their value.  An empty cell in a present column
 *    sets NULL.
 *  - Upsert by primary key: rows not in the files are kept (never deleted);
 *    identical rows are not rewritten and are counted as unchanged.
 *  - A *.csv file in DIR that is not part of the contract is an error
 *    (like an unknown column: a misspelt file name must not be skipped
 *    silently).  Files not ending in .csv and hidden files are ignored.
 *  - Timestamps: YYYY-MM-DD, or YYYY-MM-DD(T| )HH:MM[:SS[.fraction]]
 *    followed by Z or +HH:MM/-HH:MM; without an offset the time is UTC.
 *    Stored as UTC 'YYYY-MM-DDTHH:MM:SSZ' (fractions of a second dropped).
 *  - References are checked row by row against the database (rows of
 *    earlier files of this import included); tenants.purchase_intent_id
 *    is checked after purchase_intents.csv is loaded (the one cycle).
 *
 * Errors: EXIT_DATAERR with "FILE:LINE:COLUMN: reason" for a bad cell,
 * "FILE:LINE: reason" for a header problem, "FILE: reason" for a file;
 * EXIT_NOINPUT when DIR is missing, not a directory or holds none of the
 * files; EXIT_IOERR for read errors; database failures as db.h says.
 * LINE is the physical line on which the record starts; COLUMN is the
 * 1-based position of the field in the file.
 */
#ifndef TRUEUP_IMPORT_H
#define TRUEUP_IMPORT_H

#include "db.h"
#include "err.h"

/* Number of files in the import contract. */
#define IMPORT_NFILES 14

struct import_counts {
	long long rows;         /* data records read */
	long long inserted;
	long long updated;
	long long unchanged;
};

struct import_file_result {
	const char *file;       /* "users.csv" (static) */
	const char *table;      /* "users" (static) */
	int present;            /* the file was in DIR and was loaded */
	struct import_counts n;
};

struct import_result {
	struct import_file_result files[IMPORT_NFILES];   /* in load order */
	int nfiles_present;
	struct import_counts total;
};

/*
 * Import the known CSV files of dir into db in one transaction (db must
 * not be inside one).  Fills *res (always initialised; counts are those of
 * the committed import, or of the files read before the error).  Returns
 * 0, or an exit code with e filled and the database unchanged.
 */
int import_dir(struct db *db, const char *dir, struct import_result *res, struct err *e);

/* File name of the i-th file in load order (i < IMPORT_NFILES), or NULL. */
const char *import_file_name(int i);

#endif
