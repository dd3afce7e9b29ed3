/*
 * test_jdoc.c - the strict JSON reader (src/jdoc.c): what it accepts and
 * decodes, what it refuses and where it says the problem is, the bytes it
 * records for each value, duplicate keys in small and large objects, and
 * key lookups (jv_get) in both, against jansson.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "harness.h"
#include "jdoc.h"

static struct jdoc *parse(const char *s, char *msg, size_t msgsz)
{
	struct jdoc *d = NULL;

	jdoc_parse(s, strlen(s), &d, msg, msgsz);
	return d;
}

/* A growing buffer for the bodies the tests build. */
struct tbuf {
	char *s;
	size_t n, cap;
};

/* Room for need more bytes and a NUL. */
static void tb_room(struct tbuf *b, size_t need)
{
	if (b->n + need + 1 <= b->cap)
		return;
	b->cap = (b->n + need + 1) * 2;
	if (!(b->s = realloc(b->s, b->cap)))
		abort();
}

static void tb_put(struct tbuf *b, const char *t)
{
	size_t k = strlen(t);

	tb_room(b, k);
	memcpy(b->s + b->n, t, k);
	b->n += k;
}

static void tb_printf(struct tbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void tb_printf(struct tbuf *b, const char *fmt, ...)
{
	va_list ap;
	int w;

	va_start(ap, fmt);
	w = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (w < 0)
		abort();
	tb_room(b, (size_t)w);
	va_start(ap, fmt);
	vsnprintf(b->s + b->n, b->cap - b->n, fmt, ap);
	va_end(ap);
	b->n += (size_t)w;
}

static void test_values(void)
{
	static const char body[] =
		" {\"s\": \"a\\\"b\\\\c\\/\\n\\u00e9\\ud83d\\ude00\", \"i\": -9223372036854775808,"
		"\"j\":9223372036854775807, \"z\":0, \"r\": -1.5e3, \"t\":true, \"f\":false,"
		"\"n\":null, \"a\":[1, [], {}], \"o\":{\"k\":\"\xc3\xa9\xe2\x82\xac\"}} \n";
	char msg[200];
	struct jdoc *d = parse(body, msg, sizeof msg);
	const struct jval *r, *a, *v;

	CHECK(d != NULL);
	if (!d) {
		printf("  %s\n", msg);
		return;
	}
	r = jdoc_root(d);
	CHECK(jv_is_object(r));
	CHECK_INT(r->n, 10);
	CHECK_STR(jv_str(jv_get(r, "s")), "a\"b\\c/\n\xc3\xa9\xf0\x9f\x98\x80");
	CHECK_INT(jv_get(r, "s")->n, 13);
	CHECK(jv_get(r, "i")->u.i == (-9223372036854775807LL - 1));
	CHECK(jv_get(r, "j")->u.i == 9223372036854775807LL);
	CHECK(jv_is_int(jv_get(r, "z")));
	CHECK_INT(jv_get(r, "r")->type, JT_REAL);
	CHECK(jv_is_true(jv_get(r, "t")));
	CHECK(jv_is_bool(jv_get(r, "f")) && !jv_is_true(jv_get(r, "f")));
	CHECK(jv_is_null(jv_get(r, "n")));
	CHECK(jv_get(r, "missing") == NULL);
	CHECK(jv_get(jv_get(r, "a"), "x") == NULL);          /* not an object */
	a = jv_get(r, "a");
	CHECK(jv_is_array(a));
	CHECK_INT(a->n, 3);
	v = jv_first(a);
	CHECK(jv_is_int(v) && v->u.i == 1);
	v = jv_next(a, v);
	CHECK(jv_is_array(v) && v->n == 0 && jv_first(v) == NULL);
	v = jv_next(a, v);
	CHECK(jv_is_object(v) && v->n == 0);
	CHECK(jv_next(a, v) == NULL);
	CHECK_STR(jv_str(jv_get(jv_get(r, "o"), "k")), "\xc3\xa9\xe2\x82\xac");
	/* the bytes of each value, and whether they hold whitespace */
	CHECK_INT(r->rawlen, strlen(body) - 3);
	CHECK(r->raw == body + 1);
	CHECK(r->ws);
	v = jv_get(r, "o");
	CHECK(v->rawlen == strlen("{\"k\":\"\xc3\xa9\xe2\x82\xac\"}") &&
	      memcmp(v->raw, "{\"k\":", 5) == 0);
	CHECK(!v->ws);
	CHECK(jv_get(r, "a")->ws);
	CHECK_INT(jv_get(r, "i")->rawlen, 20);
	/* references */
	CHECK(jdoc_ref(d) == d);
	jdoc_unref(d);
	CHECK(jdoc_root(d) == r);
	jdoc_unref(d);
	jdoc_unref(NULL);
}

/* The strings outlive the document when a holder keeps them (a queued page). */
static void test_strings_outlive(void)
{
	static const char body[] = "{\"id\": \"sub_1\", \"m\": {\"k\": \"caf\\u00e9\"}}";
	struct jdoc *d = parse(body, NULL, 0);
	struct jdoc_strings *s;
	const char *id, *k;

	CHECK(d != NULL);
	if (!d)
		return;
	id = jv_str(jv_get(jdoc_root(d), "id"));
	k = jv_str(jv_get(jv_get(jdoc_root(d), "m"), "k"));
	s = jdoc_strings_ref(d);
	CHECK(s != NULL);
	jdoc_unref(d);          /* the values go; the strings stay (ASan checks the reads) */
	CHECK_STR(id, "sub_1");
	CHECK_STR(k, "caf\xc3\xa9");
	jdoc_strings_unref(s);
	CHECK(jdoc_strings_ref(NULL) == NULL);
	jdoc_strings_unref(NULL);
	/* the other order: the strings' reference dropped first */
	d = parse(body, NULL, 0);
	CHECK(d != NULL);
	if (!d)
		return;
	s = jdoc_strings_ref(d);
	jdoc_strings_unref(s);
	CHECK_STR(jv_str(jv_get(jdoc_root(d), "id")), "sub_1");
	jdoc_unref(d);
}

static void test_refused(void)
{
	static const struct { const char *body; const char *msg; } cases[] = {
		{ "", "invalid JSON at line 1 column 1: '[' or '{' expected" },
		{ "  \"x\"", "invalid JSON at line 1 column 3: '[' or '{' expected" },
		{ "{} x", "invalid JSON at line 1 column 4: end of input expected" },
		{ "{\"a\":1,}", "invalid JSON at line 1 column 8: string or '}' expected" },
		{ "[1 2]", "invalid JSON at line 1 column 4: ',' or ']' expected" },
		{ "{\"a\" 1}", "invalid JSON at line 1 column 6: ':' expected" },
		{ "{\"a\":01}", "invalid JSON at line 1 column 7: invalid number (leading zero)" },
		{ "{\"a\":1.}", "invalid JSON at line 1 column 8: invalid number" },
		{ "{\"a\":-}", "invalid JSON at line 1 column 7: invalid number" },
		{ "{\"a\":1e}", "invalid JSON at line 1 column 8: invalid number" },
		{ "{\"a\":9223372036854775808}", "invalid JSON at line 1 column 6: too big integer" },
		{ "{\"a\":tru}", "invalid JSON at line 1 column 6: invalid token" },
		{ "{\"a\":\"x\ny\"}", "invalid JSON at line 1 column 8: control character in a string" },
		{ "{\"a\":\"\\x\"}", "invalid JSON at line 1 column 7: invalid escape in a string" },
		{ "{\"a\":\"\\u12g4\"}", "invalid JSON at line 1 column 7: invalid \\u escape in a string" },
		{ "{\"a\":\"\\u0000\"}", "invalid JSON at line 1 column 7: \\u0000 is not allowed in a string" },
		{ "{\"a\":\"\\ud83d\"}",
		  "invalid JSON at line 1 column 7: unpaired high surrogate in a \\u escape" },
		{ "{\"a\":\"\\ude00\"}",
		  "invalid JSON at line 1 column 7: unpaired low surrogate in a \\u escape" },
		{ "{\"a\":\"\xc3\"}", "invalid JSON at line 1 column 7: invalid UTF-8 in a string" },
		{ "{\"a\":\"\xc0\xaf\"}", "invalid JSON at line 1 column 7: invalid UTF-8 in a string" },
		{ "{\"a\":\"\xed\xa0\x80\"}", "invalid JSON at line 1 column 7: invalid UTF-8 in a string" },
		{ "{\"a\":\"\xf4\x90\x80\x80\"}", "invalid JSON at line 1 column 7: invalid UTF-8 in a string" },
		{ "{\"a\":\"abc", "invalid JSON at line 1 column 10: premature end of input in a string" },
		{ "{\"a\":[1,", "invalid JSON at line 1 column 9: premature end of input" },
		{ "{\n\"a\":1,\n\"a\":2}", "invalid JSON at line 3 column 5: duplicate object key" },
	};
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char msg[200];
		struct jdoc *d = parse(cases[i].body, msg, sizeof msg);

		CHECK(d == NULL);
		CHECK_STR(msg, cases[i].msg);
		jdoc_unref(d);
	}
}

/* Objects of more than JDOC_LINEAR members take the hashed duplicate check. */
static void test_duplicates_large(void)
{
	char body[4096], msg[200];
	size_t len = 0, i;
	struct jdoc *d;

	len += (size_t)snprintf(body + len, sizeof body - len, "{");
	for (i = 0; i < 100; i++)
		len += (size_t)snprintf(body + len, sizeof body - len, "%s\"key_%zu\":%zu",
					i ? "," : "", i, i);
	snprintf(body + len, sizeof body - len, "}");
	d = parse(body, msg, sizeof msg);
	CHECK(d != NULL);
	if (d) {
		CHECK_INT(jdoc_root(d)->n, 100);
		CHECK(jv_get(jdoc_root(d), "key_99")->u.i == 99);
	}
	jdoc_unref(d);
	snprintf(body + len, sizeof body - len, ",\"key_42\":0}");
	d = parse(body, msg, sizeof msg);
	CHECK(d == NULL);
	CHECK_CONTAINS(msg, "duplicate object key");
	/* escaped and plain spellings of one key are the same key */
	d = parse("{\"ab\":1,\"a\\u0062\":2}", msg, sizeof msg);
	CHECK(d == NULL);
	CHECK_CONTAINS(msg, "duplicate object key");
}

/*
 * Key indexes of every size: a small one, then one larger than twice the
 * first block (8,193 words for 2,500 members), then small ones again; each
 * key found at its member, keys of every length class found or not.
 */
static void test_lookup_large(void)
{
	static const size_t sizes[] = { 13, 2500, 14, 40 };
	size_t i, k, bad = 0;
	struct tbuf body = { 0 };
	char key[64], msg[200];
	struct jdoc *d;

	tb_put(&body, "[");
	for (k = 0; k < 4; k++) {
		tb_put(&body, k ? ",{" : "{");
		for (i = 0; i < sizes[k]; i++)
			tb_printf(&body, "%s\"%.*s%zu\":%zu", i ? "," : "", (int)(i % 23),
				  "kkkkkkkkkkkkkkkkkkkkkkk", i, i);
		tb_put(&body, "}");
	}
	tb_put(&body, "]");
	d = NULL;
	CHECK(jdoc_parse(body.s, body.n, &d, msg, sizeof msg) == 0);
	if (d) {
		const struct jval *o = jv_first(jdoc_root(d));

		for (k = 0; o; k++, o = jv_next(jdoc_root(d), o)) {
			for (i = 0; i < sizes[k]; i++) {
				const struct jval *v;

				snprintf(key, sizeof key, "%.*s%zu", (int)(i % 23),
					 "kkkkkkkkkkkkkkkkkkkkkkk", i);
				v = jv_get(o, key);
				bad += !v || v->u.i != (long long)i;
				/* the same key one letter longer or shorter is not there */
				snprintf(key, sizeof key, "k%.*s%zu", (int)(i % 23),
					 "kkkkkkkkkkkkkkkkkkkkkkk", i);
				bad += jv_get(o, key) != NULL;
				bad += jv_get(o, key + 2) != NULL && i % 23 > 1;
			}
		}
		CHECK_INT(k, 4);
	}
	CHECK_INT(bad, 0);
	jdoc_unref(d);
	free(body.s);
}

static void test_depth(void)
{
	char *deep = malloc(2 * JDOC_MAX_DEPTH + 8), msg[200];
	size_t i, n = JDOC_MAX_DEPTH;
	struct jdoc *d;

	if (!deep)
		return;
	for (i = 0; i < n; i++)
		deep[i] = '[';
	for (i = 0; i < n; i++)
		deep[n + i] = ']';
	deep[2 * n] = '\0';
	d = parse(deep, msg, sizeof msg);
	CHECK(d != NULL);
	jdoc_unref(d);
	memmove(deep + 1, deep, 2 * n + 1);
	deep[0] = '[';
	deep[2 * n + 1] = ']';
	deep[2 * n + 2] = '\0';
	d = parse(deep, msg, sizeof msg);
	CHECK(d == NULL);
	CHECK_CONTAINS(msg, "too deeply nested");
	free(deep);
}

/* Append the text t at body + n; the new n. */
static size_t put(char *body, size_t n, const char *t)
{
	size_t k = strlen(t);

	memcpy(body + n, t, k);
	return n + k;
}

/*
 * Against jansson (with JSON_REJECT_DUPLICATES, what the reader replaced):
 * random arrays of strings built from the bytes that end a plain run
 * (quote, backslash and escapes good and bad, control characters,
 * non-ASCII: valid and invalid UTF-8) among plain ones, at every offset
 * and up to the body's last byte, with whitespace (and a stray byte)
 * between them, must be accepted or refused as jansson does and decode
 * to the same bytes; the root's raw bytes and its whitespace flag must be
 * exact.
 */
static void test_strings_vs_jansson(void)
{
	static const char *const piece[] = {
		"a", "b", "xyz", "0123456789", "\"", "\\", "\\n", "\\u00e9", "\\ud83d\\ude00",
		"\\u0041", "\\q", "\\u12", "\x01", "\x1f", "\t", "\x7f", "\xc3\xa9", "\xe2\x82\xac",
		"\xf0\x9f\x98\x80", "\xc3", "\xe2\x82", "\xf0\x9f\x98", "\xff", "\xed\xa0\x80",
		"\xe0\x80\x80", "/", " ",
	};
	static const char *const space[] = { "", " ", "\n", "  ", "\r\n", "\t", "        ",
					     "\n          ", "         x" };
	/* at most 8 + 1 + 4 strings of (1 + 12 + 2 + 11 pieces of <= 12 bytes) + 12 + 1 + 12 */
	char body[1024], msg[200];
	unsigned seed = 12345;
	int round, bad = 0, accepted = 0, refused = 0;

	for (round = 0; round < 20000 && !bad; round++) {
		size_t n = 0, k, pad, nstr;
		json_error_t je;
		json_t *ref;
		struct jdoc *d = NULL;
		int ok;

#define RND(m) ((seed = seed * 1103515245u + 12345u) >> 8) % (m)
		pad = RND(9);
		for (k = 0; k < pad; k++)
			body[n++] = ' ';
		body[n++] = '[';
		nstr = 1 + RND(4);
		for (k = 0; k < nstr; k++) {
			size_t parts = RND(12), q;
			const char *sp = space[RND(sizeof space / sizeof space[0] - 1)];

			if (k)
				body[n++] = ',';
			n = put(body, n, sp);
			body[n++] = '"';
			for (q = 0; q < parts; q++) {
				/* mostly plain bytes, so runs cross word boundaries */
				const char *pc = RND(3) ? piece[RND(4)]
							: piece[RND(sizeof piece / sizeof piece[0])];

				n = put(body, n, pc);
			}
			body[n++] = '"';
		}
		/* sometimes whitespace that is not whitespace ("x") at the end */
		{
			const char *sp = space[RND(sizeof space / sizeof space[0])];

			n = put(body, n, sp);
		}
		body[n++] = ']';
		if (RND(4) == 0) {
			const char *sp = space[RND(sizeof space / sizeof space[0] - 1)];

			n = put(body, n, sp);
		}
#undef RND
		ok = jdoc_parse(body, n, &d, msg, sizeof msg) == 0;
		ref = json_loadb(body, n, JSON_REJECT_DUPLICATES, &je);
		if (ok != (ref != NULL)) {
			printf("  jdoc %s, jansson %s: [%.*s]\n", ok ? "accepts" : msg,
			       ref ? "accepts" : je.text, (int)n, body);
			bad = 1;
		} else if (ok) {
			const struct jval *r = jdoc_root(d), *v;
			size_t i = 0, lead = 0, trail = 0;

			accepted++;
			while (body[lead] == ' ')
				lead++;
			while (n - trail > 0 && strchr(" \t\r\n", body[n - 1 - trail]))
				trail++;
			if (r->raw != body + lead || r->rawlen != n - lead - trail)
				bad = 1;
			/* whitespace outside strings, counted by the reader as r->ws */
			{
				int in = 0, ws = 0;

				for (k = lead; k < n - trail; k++) {
					if (in && body[k] == '\\')
						k++;
					else if (body[k] == '"')
						in = !in;
					else if (!in && strchr(" \t\r\n", body[k]))
						ws = 1;
				}
				if (ws != r->ws)
					bad = 1;
			}
			for (v = jv_first(r); v && !bad; v = jv_next(r, v), i++) {
				json_t *e = json_array_get(ref, i);

				if (!e || v->n != json_string_length(e) ||
				    memcmp(jv_str(v), json_string_value(e), v->n) != 0 ||
				    jv_str(v)[v->n] != '\0')
					bad = 1;
			}
			if (bad || i != json_array_size(ref))
				printf("  decoded differently: [%.*s]\n", (int)n, body), bad = 1;
		} else {
			refused++;
		}
		json_decref(ref);
		jdoc_unref(d);
	}
	CHECK(!bad);
	/* both kinds were met, many times */
	CHECK(accepted > 2000);
	CHECK(refused > 2000);
}

/*
 * Random objects against jansson: members whose keys are built from a few
 * symbols, each spelled plainly or escaped (so one key may come twice in
 * two spellings), sometimes a key repeated on purpose, sizes on both sides
 * of JDOC_LINEAR and up to thousands of members (key indexes larger than
 * a block), sometimes nested.  Accepted or refused as jansson decides, and
 * jv_get finds every key jansson has with the same value, and no key it
 * lacks.
 */
struct keygen {
	struct tbuf body;
	unsigned seed;
	char keys[1500][100];          /* decoded keys of the current object (m < 1500) */
};

#define KRND(g, m) (((g)->seed = (g)->seed * 1103515245u + 12345u) >> 8) % (m)

/*
 * One object of m members into g->body, its keys' decoded bytes in keys[];
 * the member at dup_at (none when >= m) repeats an earlier key.
 */
static void gen_object(struct keygen *g, size_t m, size_t dup_at, int nested)
{
	static const char *const sym[][2] = {
		{ "a", "\\u0061" }, { "b", "\\u0062" }, { "_", "\\u005f" },
		{ "\xc3\xa9", "\\u00e9" }, { "\xe2\x82\xac", "\\u20ac" },
		{ "\xf0\x9f\x98\x80", "\\ud83d\\ude00" },
	};
	size_t i, k;
	char num[32];

	tb_put(&g->body, "{");
	for (i = 0; i < m; i++) {
		/* long enough keys that chance repeats stay rare in large objects */
		size_t len = (m > 400 ? 9 : m > 13 || nested ? 8 : 0) + KRND(g, 8), syms[20];
		int dup = i && i == dup_at;
		char *dk = g->keys[i];

		if (dup) {
			/* an earlier key again, spelled afresh: find its symbols back */
			const char *src = g->keys[KRND(g, i)];

			for (len = 0; *src; len++)
				for (k = 0; k < 6; k++)
					if (strncmp(src, sym[k][0], strlen(sym[k][0])) == 0) {
						syms[len] = k;
						src += strlen(sym[k][0]);
						break;
					}
		} else {
			for (k = 0; k < len; k++)
				syms[k] = KRND(g, 6);
		}
		tb_put(&g->body, i ? ",\"" : "\"");
		dk[0] = '\0';
		for (k = 0; k < len; k++) {
			tb_put(&g->body, sym[syms[k]][KRND(g, 4) == 0]);
			strcat(dk, sym[syms[k]][0]);
		}
		tb_put(&g->body, "\":");
		if (!nested && KRND(g, 50) == 0) {
			char keep[sizeof g->keys[0]];

			/* a nested object: its keys go where this one's will be read from */
			strcpy(keep, dk);
			gen_object(g, KRND(g, 30), SIZE_MAX, 1);
			strcpy(g->keys[i], keep);
		} else {
			snprintf(num, sizeof num, "%zu", i);
			tb_put(&g->body, num);
		}
	}
	tb_put(&g->body, "}");
}

static void test_objects_vs_jansson(void)
{
	static struct keygen g;
	char msg[200];
	int round, bad = 0, accepted = 0, refused = 0, large = 0, huge = 0;

	g.seed = 777;
	for (round = 0; round < 1500 && !bad; round++) {
		size_t m, i;
		json_error_t je;
		json_t *ref;
		struct jdoc *d = NULL;
		int ok;

		switch (KRND(&g, 16)) {
		case 0: m = 1100 + KRND(&g, 400); break;
		case 1: case 2: case 3: case 4: m = 100 + KRND(&g, 300); break;
		case 5: case 6: case 7: case 8: m = 10 + KRND(&g, 10); break;
		default: m = KRND(&g, 14); break;
		}
		g.body.n = 0;
		gen_object(&g, m, KRND(&g, 3) == 0 ? KRND(&g, m + 1) : SIZE_MAX, 0);
		ok = jdoc_parse(g.body.s, g.body.n, &d, msg, sizeof msg) == 0;
		ref = json_loadb(g.body.s, g.body.n, JSON_REJECT_DUPLICATES, &je);
		if (ok != (ref != NULL)) {
			printf("  jdoc %s, jansson %s (%zu members)\n", ok ? "accepts" : msg,
			       ref ? "accepts" : je.text, m);
			bad = 1;
		} else if (ok) {
			const struct jval *r = jdoc_root(d);
			const char *key;
			json_t *val;

			accepted++;
			large += m > JDOC_LINEAR;
			huge += m >= 1100;
			if (r->n != json_object_size(ref))
				bad = 1;
			json_object_foreach(ref, key, val) {
				const struct jval *v = jv_get(r, key);

				if (!v || (json_is_integer(val) ? !jv_is_int(v) ||
							     v->u.i != json_integer_value(val)
								: !jv_is_object(v) ||
							     v->n != json_object_size(val)))
					bad = 1;
				if (json_is_object(val)) {
					const char *k2;
					json_t *v2;

					json_object_foreach(val, k2, v2)
						if (!jv_get(v, k2) ||
						    jv_get(v, k2)->u.i != json_integer_value(v2))
							bad = 1;
				}
			}
			/* keys it lacks: the generator's alphabet, never used this way */
			for (i = 0; i < 20; i++) {
				char absent[40];

				snprintf(absent, sizeof absent, "%.*sz%zu", (int)(i % 12),
					 "ab_ab_ab_ab_", i);
				if (jv_get(r, absent) != NULL)
					bad = 1;
			}
			if (bad)
				printf("  lookups differ (%zu members)\n", m);
		} else {
			refused++;
		}
		json_decref(ref);
		jdoc_unref(d);
	}
	free(g.body.s);
	CHECK(!bad);
	CHECK(accepted > 700);
	CHECK(refused > 300);
	CHECK(large > 400);
	CHECK(huge > 40);
}

int main(void)
{
	RUN(test_values);
	RUN(test_strings_outlive);
	RUN(test_refused);
	RUN(test_duplicates_large);
	RUN(test_lookup_large);
	RUN(test_depth);
	RUN(test_strings_vs_jansson);
	RUN(test_objects_vs_jansson);
	return harness_done();
}
