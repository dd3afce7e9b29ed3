/*
 * bench/parse_commit.c - micro-benchmark of the pull's CPU path: saved
 * Stripe list pages through stripe_rows_parse_page() and
 * db_snapshot_commit() into a fresh database, exactly as `trueup pull`
 * does per page (a full pull run, one cursor per resource, one
 * transaction per page), without the network.
 *
 *   parse_commit PAGES_DIR [DB_FILE]
 *
 * PAGES_DIR holds RESOURCE/NNNN.json as written by bench/save_pages.sh.
 * For each resource it prints objects/s of parse alone, commit alone and
 * both (per second of CPU time of the process, user + system: steadier than
 * the wall clock on a shared machine), for two passes: "insert" (an empty snapshot) and "unchanged" (the
 * same pages again in a second full run: nothing is rewritten), then the
 * totals.  The last line is machine readable:
 *   TOTAL insert_objs_per_s=N unchanged_objs_per_s=N
 * DB_FILE defaults to a file under $TMPDIR, removed at the end; a DB_FILE
 * given is kept (to compare snapshots of two builds).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "db_snapshot.h"
#include "stripe_rows.h"

struct body {
	char *s;
	size_t len;
};

struct figures {
	double parse_s, commit_s;
	long long objects, pages, bytes;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Read PAGES_DIR/res/ *.json (sorted) into *out; returns the count (-1 error). */
static long load_pages(const char *dir, const char *res, struct body **out)
{
	char path[4096];
	char **names = NULL;
	size_t n = 0, cap = 0, i;
	struct body *b;
	struct dirent *de;
	DIR *d;

	*out = NULL;
	snprintf(path, sizeof path, "%s/%s", dir, res);
	if (!(d = opendir(path)))
		return 0;
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);

		if (l < 6 || strcmp(de->d_name + l - 5, ".json") != 0)
			continue;
		if (n == cap) {
			char **nn = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof *nn);

			if (!nn)
				return -1;
			names = nn;
		}
		if (!(names[n++] = strdup(de->d_name)))
			return -1;
	}
	closedir(d);
	qsort(names, n, sizeof *names, cmp_str);
	if (!(b = calloc(n ? n : 1, sizeof *b)))
		return -1;
	for (i = 0; i < n; i++) {
		FILE *f;
		long sz;

		snprintf(path, sizeof path, "%s/%s/%s", dir, res, names[i]);
		if (!(f = fopen(path, "rb")) || fseek(f, 0, SEEK_END) != 0 || (sz = ftell(f)) < 0 ||
		    fseek(f, 0, SEEK_SET) != 0 || !(b[i].s = malloc((size_t)sz + 1)) ||
		    fread(b[i].s, 1, (size_t)sz, f) != (size_t)sz) {
			fprintf(stderr, "cannot read %s\n", path);
			exit(1);
		}
		fclose(f);
		b[i].s[sz] = '\0';
		b[i].len = (size_t)sz;
		free(names[i]);
	}
	free(names);
	*out = b;
	return (long)n;
}

/* One pass over the pages of kind in pull run `run`. */
static int run_pass(struct db *db, long long run, enum stripe_kind kind, struct body *b,
		    long n, struct figures *fig)
{
	struct db_snapshot_cursor cur;
	struct err e = { 0 };
	long i;

	memset(&cur, 0, sizeof cur);
	cur.pull_run_id = run;
	snprintf(cur.resource, sizeof cur.resource, "%s", stripe_kind_resource(kind));
	if (db_snapshot_cursor_open(db, &cur, &e) != 0) {
		fprintf(stderr, "cursor: %s\n", e.msg);
		return 1;
	}
	for (i = 0; i < n; i++) {
		struct stripe_page *p = NULL;
		struct db_snapshot_commit c;
		double t0 = now_s(), t1, t2;

		if (stripe_rows_parse_page(b[i].s, b[i].len, kind, &p, &e) != 0) {
			fprintf(stderr, "parse %s page %ld: %s\n", cur.resource, i, e.msg);
			return 1;
		}
		t1 = now_s();
		memset(&c, 0, sizeof c);
		c.page = p;
		c.stripe_version = "2025-08-27.basil";
		c.cursor = &cur;
		if (db_snapshot_commit(db, &c, NULL, &e) != 0) {
			fprintf(stderr, "commit %s page %ld: %s\n", cur.resource, i, e.msg);
			stripe_page_free(p);
			return 1;
		}
		t2 = now_s();
		fig->parse_s += t1 - t0;
		fig->commit_s += t2 - t1;
		fig->objects += (long long)p->count;
		fig->pages++;
		fig->bytes += (long long)b[i].len;
		stripe_page_free(p);
	}
	return 0;
}

static void print_fig(const char *res, const char *pass, const struct figures *f)
{
	double tot = f->parse_s + f->commit_s;

	printf("%-18s %-9s %6lld pages %8lld objs %7.1f MB  parse %9.0f/s  commit %9.0f/s  "
	       "both %9.0f/s\n", res, pass, f->pages, f->objects, (double)f->bytes / 1e6,
	       f->parse_s > 0 ? (double)f->objects / f->parse_s : 0,
	       f->commit_s > 0 ? (double)f->objects / f->commit_s : 0,
	       tot > 0 ? (double)f->objects / tot : 0);
}

int main(int argc, char **argv)
{
	static const enum stripe_kind kinds[] = {
		STRIPE_CUSTOMER, STRIPE_PRODUCT, STRIPE_PRICE, STRIPE_SUBSCRIPTION,
		STRIPE_CHECKOUT_SESSION, STRIPE_INVOICE, STRIPE_REFUND,
	};
	const size_t nk = sizeof kinds / sizeof kinds[0];
	struct figures tot[2];
	char dbpath[4096];
	const char *tmp = getenv("TMPDIR");
	struct db *db = NULL;
	struct err e = { 0 };
	long long run[2];
	size_t k;
	int pass;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: parse_commit PAGES_DIR [DB_FILE]\n");
		return 2;
	}
	if (argc == 3)
		snprintf(dbpath, sizeof dbpath, "%s", argv[2]);
	else
		snprintf(dbpath, sizeof dbpath, "%s/trueup-parse-commit-%ld.db",
			 tmp && *tmp ? tmp : "/tmp", (long)getpid());
	unlink(dbpath);
	if (db_open(dbpath, DB_OPEN_CREATE, &db, &e) != 0) {
		fprintf(stderr, "db: %s\n", e.msg);
		return 1;
	}
	memset(tot, 0, sizeof tot);
	for (pass = 0; pass < 2; pass++)
		if (db_snapshot_pull_begin(db, DB_SNAPSHOT_FULL, NULL, 0, &run[pass], &e) != 0) {
			fprintf(stderr, "pull_begin: %s\n", e.msg);
			return 1;
		}
	for (k = 0; k < nk; k++) {
		const char *res = stripe_kind_resource(kinds[k]);
		struct body *b;
		long n = load_pages(argv[1], res, &b), i;

		if (n < 0) {
			fprintf(stderr, "out of memory\n");
			return 1;
		}
		for (pass = 0; pass < 2 && n > 0; pass++) {
			struct figures f;

			memset(&f, 0, sizeof f);
			if (run_pass(db, run[pass], kinds[k], b, n, &f) != 0)
				return 1;
			print_fig(res, pass ? "unchanged" : "insert", &f);
			tot[pass].parse_s += f.parse_s;
			tot[pass].commit_s += f.commit_s;
			tot[pass].objects += f.objects;
			tot[pass].pages += f.pages;
			tot[pass].bytes += f.bytes;
		}
		for (i = 0; i < n; i++)
			free(b[i].s);
		free(b);
	}
	print_fig("all", "insert", &tot[0]);
	print_fig("all", "unchanged", &tot[1]);
	printf("TOTAL insert_objs_per_s=%.0f unchanged_objs_per_s=%.0f parse_share=%.2f\n",
	       (double)tot[0].objects / (tot[0].parse_s + tot[0].commit_s),
	       (double)tot[1].objects / (tot[1].parse_s + tot[1].commit_s),
	       tot[0].parse_s / (tot[0].parse_s + tot[0].commit_s));
	db_close(db);
	if (argc == 2) {
		char side[4200];

		unlink(dbpath);
		snprintf(side, sizeof side, "%s-wal", dbpath);
		unlink(side);
		snprintf(side, sizeof side, "%s-shm", dbpath);
		unlink(side);
	}
	return 0;
}
