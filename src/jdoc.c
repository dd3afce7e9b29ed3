/*
 * jdoc.c - the strict JSON reader of jdoc.h.
 *
 * One recursive-descent pass over the body.  Values go into one growing
 * array in document order (a container's children follow it; skip is the
 * size of a subtree, so the next sibling is v + v->skip); strings are
 * decoded into one buffer of len + 1 bytes, which is always enough: a
 * string's decoded bytes plus its NUL never exceed its encoded bytes plus
 * the two quotes.  While the tree is built the array may move, so the
 * parser works with indexes; pointers are only handed out once it is done.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "jdoc.h"

/* The decoded strings: a buffer of len + 1 bytes, counted apart from the values. */
struct jdoc_strings {
	atomic_int refs;
	char s[];
};

/*
 * Key indexes of the objects of more than JDOC_LINEAR members, in blocks
 * that never move (the values array does while it grows, so an object
 * points at its index only through these).  An index is a mask followed by
 * mask + 1 slots (at least twice the members, so a probe always meets an
 * empty slot): the offset of a member from its object, 0 for empty.
 */
struct jdoc_blk {
	struct jdoc_blk *next;
	size_t cap, used;             /* in words */
	uint32_t w[];
};

struct jdoc {
	atomic_int refs;              /* a page may be freed on the pull's writer thread */
	struct jval *v;
	size_t n, cap;
	struct jdoc_strings *strs;
	struct jdoc_blk *blk;         /* newest first */
};

struct jp {
	const unsigned char *s;
	size_t len, i;
	struct jdoc *d;
	char *so;                 /* next free byte of d->strs */
	unsigned long ws;         /* whitespace bytes skipped so far */
	const char *err;          /* what is wrong (static text) */
	size_t errpos;
	int oom;
};

/* Bytes that may be copied as they are inside a string. */
static const unsigned char plain[256] = {
#define R8(x) x, x, x, x, x, x, x, x
	R8(0), R8(0), R8(0), R8(0),                       /* 0x00-0x1f: control */
	1, 1, 0, 1, 1, 1, 1, 1, R8(1), R8(1), R8(1),      /* 0x20-0x3f: '"' */
	R8(1), R8(1), R8(1), 1, 1, 1, 1, 0, 1, 1, 1,      /* 0x40-0x5f: '\\' */
	R8(1), R8(1), R8(1), R8(1),                       /* 0x60-0x7f */
	R8(0), R8(0), R8(0), R8(0), R8(0), R8(0), R8(0), R8(0),
	R8(0), R8(0), R8(0), R8(0), R8(0), R8(0), R8(0), R8(0),
#undef R8
};

static int jp_fail(struct jp *p, const char *what)
{
	if (!p->err) {
		p->err = what;
		p->errpos = p->i;
	}
	return -1;
}

static void jp_ws_run(struct jp *p)
{
	size_t i = p->i;

	while (i < p->len && (p->s[i] == ' ' || p->s[i] == '\n' || p->s[i] == '\r' ||
			      p->s[i] == '\t'))
		i++;
	p->ws += i - p->i;
	p->i = i;
}

/* Skip whitespace; most bodies are compact, so first the byte that is not. */
static inline void jp_ws(struct jp *p)
{
	if (p->i < p->len && p->s[p->i] > ' ')
		return;
	jp_ws_run(p);
}

/* A new value slot; its index, or -1 when memory ran out. */
static long jp_new(struct jp *p)
{
	struct jdoc *d = p->d;

	if (d->n == d->cap) {
		size_t cap = d->cap * 2;
		struct jval *nv;

		if (cap > UINT32_MAX || !(nv = realloc(d->v, cap * sizeof *nv))) {
			p->oom = 1;
			return jp_fail(p, "out of memory");
		}
		d->v = nv;
		d->cap = cap;
	}
	memset(&d->v[d->n], 0, sizeof d->v[0]);
	return (long)d->n++;
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Four hex digits at s[i]; -1 if they are not. */
static long hex4(const struct jp *p, size_t i)
{
	long v = 0;
	int k, h;

	if (i + 4 > p->len)
		return -1;
	for (k = 0; k < 4; k++) {
		if ((h = hexval(p->s[i + (size_t)k])) < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

static char *put_utf8(char *o, unsigned long cp)
{
	if (cp < 0x80) {
		*o++ = (char)cp;
	} else if (cp < 0x800) {
		*o++ = (char)(0xc0 | (cp >> 6));
		*o++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*o++ = (char)(0xe0 | (cp >> 12));
		*o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*o++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*o++ = (char)(0xf0 | (cp >> 18));
		*o++ = (char)(0x80 | ((cp >> 12) & 0x3f));
		*o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*o++ = (char)(0x80 | (cp & 0x3f));
	}
	return o;
}

/* Length of the valid UTF-8 sequence at s[i] (lead byte >= 0x80), 0 if invalid. */
static size_t utf8_len(const struct jp *p, size_t i)
{
	const unsigned char *s = p->s;
	unsigned char c = s[i], lo = 0x80, hi = 0xbf;
	size_t n, k;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;            /* no UTF-16 surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;            /* nothing above U+10FFFF */
	} else
		return 0;
	if (i + n > p->len)
		return 0;
	if (s[i + 1] < lo || s[i + 1] > hi)
		return 0;
	for (k = 2; k < n; k++)
		if (s[i + k] < 0x80 || s[i + k] > 0xbf)
			return 0;
	return n;
}

/* Fail at s[i] with what; 0 (the escape error value). */
static size_t esc_fail(struct jp *p, size_t i, const char *what)
{
	p->i = i;
	jp_fail(p, what);
	return 0;
}

/* The escape at s[i] == '\\' onto *o; the index after it, or 0 on error. */
static size_t jp_escape(struct jp *p, size_t i, char **o)
{
	size_t at = i;

	long cp, lo;

	if (i + 1 >= p->len)
		return esc_fail(p, at, "premature end of input in a string");
	switch (p->s[i + 1]) {
	case '"': *(*o)++ = '"'; return i + 2;
	case '\\': *(*o)++ = '\\'; return i + 2;
	case '/': *(*o)++ = '/'; return i + 2;
	case 'b': *(*o)++ = '\b'; return i + 2;
	case 'f': *(*o)++ = '\f'; return i + 2;
	case 'n': *(*o)++ = '\n'; return i + 2;
	case 'r': *(*o)++ = '\r'; return i + 2;
	case 't': *(*o)++ = '\t'; return i + 2;
	case 'u':
		break;
	default:
		return esc_fail(p, at, "invalid escape in a string");
	}
	if ((cp = hex4(p, i + 2)) < 0)
		return esc_fail(p, at, "invalid \\u escape in a string");
	i += 6;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return esc_fail(p, at, "unpaired low surrogate in a \\u escape");
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (i + 6 > p->len || p->s[i] != '\\' || p->s[i + 1] != 'u' ||
		    (lo = hex4(p, i + 2)) < 0xdc00 || lo > 0xdfff)
			return esc_fail(p, at, "unpaired high surrogate in a \\u escape");
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		i += 6;
	}
	if (cp == 0)
		return esc_fail(p, at, "\\u0000 is not allowed in a string");
	*o = put_utf8(*o, (unsigned long)cp);
	return i;
}

/* The string at s[p->i] == '"', decoded into the string buffer. */
static int jp_string(struct jp *p, const char **out, uint32_t *outlen)
{
	const unsigned char *s = p->s;
	size_t i = p->i + 1, j, n;
	char *o = p->so, *start = o;

	for (;;) {
		j = i;
#ifdef __SSE2__
		/*
		 * 16 bytes a step to the first byte that is not plain: a quote,
		 * a backslash, or below 0x20 or from 0x80 on (both are below
		 * 0x20 compared as signed bytes).  The bytes after the last
		 * whole step go one at a time.
		 */
		while (j + 16 <= p->len) {
			__m128i b = _mm_loadu_si128((const __m128i *)(const void *)(s + j));
			__m128i m = _mm_or_si128(
				_mm_or_si128(_mm_cmpeq_epi8(b, _mm_set1_epi8('"')),
					     _mm_cmpeq_epi8(b, _mm_set1_epi8('\\'))),
				_mm_cmplt_epi8(b, _mm_set1_epi8(0x20)));
			unsigned bits = (unsigned)_mm_movemask_epi8(m);

			if (bits) {
				j += (size_t)__builtin_ctz(bits);
				break;
			}
			j += 16;
		}
#endif
		while (j < p->len && plain[s[j]])
			j++;
		memcpy(o, s + i, j - i);
		o += j - i;
		i = j;
		if (i >= p->len) {
			p->i = i;
			return jp_fail(p, "premature end of input in a string");
		}
		if (s[i] == '"')
			break;
		if (s[i] == '\\') {
			if ((i = jp_escape(p, i, &o)) == 0)
				return -1;
		} else if (s[i] < 0x20) {
			p->i = i;
			return jp_fail(p, "control character in a string");
		} else {
			if ((n = utf8_len(p, i)) == 0) {
				p->i = i;
				return jp_fail(p, "invalid UTF-8 in a string");
			}
			memcpy(o, s + i, n);
			o += n;
			i += n;
		}
	}
	*o++ = '\0';
	*out = start;
	*outlen = (uint32_t)(o - 1 - start);
	p->so = o;
	p->i = i + 1;
	return 0;
}

static int is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int jp_number(struct jp *p, struct jval *v)
{
	const unsigned char *s = p->s;
	size_t i = p->i, start;
	int neg = 0, real = 0;
	unsigned long long acc = 0, limit;

	if (s[i] == '-') {
		neg = 1;
		i++;
	}
	start = i;
	if (i >= p->len || !is_digit(s[i])) {
		p->i = i;
		return jp_fail(p, "invalid number");
	}
	if (s[i] == '0') {
		i++;
		if (i < p->len && is_digit(s[i])) {
			p->i = i;
			return jp_fail(p, "invalid number (leading zero)");
		}
	} else {
		while (i < p->len && is_digit(s[i]))
			i++;
	}
	if (i < p->len && s[i] == '.') {
		real = 1;
		if (++i >= p->len || !is_digit(s[i])) {
			p->i = i;
			return jp_fail(p, "invalid number");
		}
		while (i < p->len && is_digit(s[i]))
			i++;
	}
	if (i < p->len && (s[i] == 'e' || s[i] == 'E')) {
		real = 1;
		if (++i < p->len && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= p->len || !is_digit(s[i])) {
			p->i = i;
			return jp_fail(p, "invalid number");
		}
		while (i < p->len && is_digit(s[i]))
			i++;
	}
	if (real) {
		v->type = JT_REAL;
		p->i = i;
		return 0;
	}
	limit = neg ? 9223372036854775808ULL : 9223372036854775807ULL;
	for (; start < i; start++) {
		unsigned d = (unsigned)(s[start] - '0');

		if (acc > (limit - d) / 10)
			return jp_fail(p, "too big integer");
		acc = acc * 10 + d;
	}
	v->type = JT_INT;
	v->u.i = neg ? (acc == 9223372036854775808ULL ? (-9223372036854775807LL - 1)
						       : -(long long)acc)
		     : (long long)acc;
	p->i = i;
	return 0;
}

static int jp_literal(struct jp *p, const char *word, uint8_t type, struct jval *v)
{
	size_t n = strlen(word);

	if (p->i + n > p->len || memcmp(p->s + p->i, word, n) != 0)
		return jp_fail(p, "invalid token");
	v->type = type;
	p->i += n;
	return 0;
}

/*
 * The hash of a key for the key indexes: every byte counts, eight at a
 * time (a multiply and a shift per word, each step invertible, so keys of
 * one length that differ in one word never collide before the final fold).
 */
static uint64_t key_mix(uint64_t h, uint64_t w)
{
	h = (h ^ w) * 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 29);
}

static uint32_t key_hash(const char *k, size_t n)
{
	uint64_t h = (uint64_t)n * 0xff51afd7ed558ccdull, w;
	uint32_t lo, hi;

	for (; n >= 8; k += 8, n -= 8) {
		memcpy(&w, k, 8);
		h = key_mix(h, w);
	}
	if (n >= 4) {
		memcpy(&lo, k, 4);
		memcpy(&hi, k + n - 4, 4);
		h = key_mix(h, (uint64_t)hi << 32 | lo);
	} else if (n > 0) {
		h = key_mix(h, (uint64_t)(unsigned char)k[0] | (uint64_t)(unsigned char)k[n / 2] << 8 |
				       (uint64_t)(unsigned char)k[n - 1] << 16);
	}
	return (uint32_t)(h ^ (h >> 32));
}

static int same_key(const struct jval *a, const struct jval *b)
{
	return a->klen == b->klen && memcmp(a->key, b->key, a->klen) == 0;
}

/* n zeroed words from d's index blocks; NULL when memory ran out. */
static uint32_t *jp_words(struct jdoc *d, size_t n)
{
	struct jdoc_blk *b = d->blk;
	uint32_t *w;

	if (!b || b->cap - b->used < n) {
		size_t cap = b ? b->cap * 2 : 4096;

		if (cap < n)
			cap = n;
		if (!(b = malloc(sizeof *b + cap * sizeof b->w[0])))
			return NULL;
		b->next = d->blk;
		b->cap = cap;
		b->used = 0;
		d->blk = b;
	}
	w = b->w + b->used;
	b->used += n;
	memset(w, 0, n * sizeof *w);
	return w;
}

/*
 * Check the members of the object at index idx for a key given twice and,
 * when it has more than JDOC_LINEAR members, give it a key index for
 * jv_get.  The second member whose key an earlier member has; NULL if
 * none (or when memory ran out: p->err is then set).
 */
static const struct jval *jp_index(struct jp *p, size_t idx)
{
	struct jval *o = &p->d->v[idx];
	const struct jval *a, *b;
	uint32_t n = o->n, k, m, off, *ht;
	size_t cap = 32, mask, h;

	if (n < 2)
		return NULL;
	if (n <= JDOC_LINEAR) {
		for (a = o + 1, k = 0; k < n; k++, a += a->skip)
			for (b = a + a->skip, m = k + 1; m < n; m++, b += b->skip)
				if (same_key(a, b))
					return b;
		return NULL;
	}
	while (cap < (size_t)n * 2)
		cap *= 2;
	mask = cap - 1;
	if (!(ht = jp_words(p->d, cap + 1))) {
		p->oom = 1;
		jp_fail(p, "out of memory");
		return NULL;
	}
	ht[0] = (uint32_t)mask;
	for (a = o + 1, k = 0; k < n; k++, a += a->skip) {
		for (h = key_hash(a->key, a->klen) & mask; (off = ht[1 + h]) != 0; h = (h + 1) & mask)
			if (same_key(o + off, a))
				return a;
		ht[1 + h] = (uint32_t)(a - o);
	}
	o->u.ht = ht;
	return NULL;
}

static long jp_value(struct jp *p, unsigned depth, const char *key, uint32_t klen);

/*
 * After a member or element: 1 when a ',' says another follows, 0 when the
 * container's closing byte ends it (both consumed), -1 otherwise.
 */
static int jp_after(struct jp *p, unsigned char close, const char *eof_msg, const char *bad_msg)
{
	jp_ws(p);
	if (p->i < p->len && p->s[p->i] == ',') {
		p->i++;
		jp_ws(p);
		return 1;
	}
	if (p->i < p->len && p->s[p->i] == close) {
		p->i++;
		return 0;
	}
	return jp_fail(p, p->i >= p->len ? eof_msg : bad_msg);
}

static int jp_object(struct jp *p, size_t idx, unsigned depth)
{
	uint32_t count = 0, klen;
	const struct jval *dup;
	const char *key;
	int more;

	p->i++;
	jp_ws(p);
	if (p->i < p->len && p->s[p->i] == '}') {
		p->i++;
		return 0;
	}
	for (;;) {
		if (p->i >= p->len || p->s[p->i] != '"')
			return jp_fail(p, p->i >= p->len ? "premature end of input in an object"
							 : "string or '}' expected");
		if (jp_string(p, &key, &klen) != 0)
			return -1;
		jp_ws(p);
		if (p->i >= p->len || p->s[p->i] != ':')
			return jp_fail(p, "':' expected");
		p->i++;
		jp_ws(p);
		if (jp_value(p, depth + 1, key, klen) < 0)
			return -1;
		p->d->v[idx].n = ++count;
		if ((more = jp_after(p, '}', "premature end of input in an object",
				     "',' or '}' expected")) <= 0)
			break;
	}
	if (more < 0)
		return -1;
	p->d->v[idx].skip = (uint32_t)(p->d->n - idx);
	if ((dup = jp_index(p, idx)) != NULL) {
		p->i = (size_t)((const unsigned char *)dup->raw - p->s);
		return jp_fail(p, "duplicate object key");
	}
	return p->err ? -1 : 0;
}

static int jp_array(struct jp *p, size_t idx, unsigned depth)
{
	uint32_t count = 0;
	int more;

	p->i++;
	jp_ws(p);
	if (p->i < p->len && p->s[p->i] == ']') {
		p->i++;
		return 0;
	}
	for (;;) {
		if (jp_value(p, depth + 1, NULL, 0) < 0)
			return -1;
		p->d->v[idx].n = ++count;
		if ((more = jp_after(p, ']', "premature end of input in an array",
				     "',' or ']' expected")) <= 0)
			return more;
	}
}

/* The value at s[p->i] (no leading whitespace); its index or -1. */
static long jp_value(struct jp *p, unsigned depth, const char *key, uint32_t klen)
{
	size_t start = p->i;
	unsigned long ws0 = p->ws;
	struct jval *v;
	long idx;
	int rc;

	if (depth > JDOC_MAX_DEPTH)
		return jp_fail(p, "too deeply nested");
	if (p->i >= p->len)
		return jp_fail(p, "premature end of input");
	if ((idx = jp_new(p)) < 0)
		return -1;
	v = &p->d->v[idx];
	switch (p->s[p->i]) {
	case '{':
		v->type = JT_OBJECT;
		rc = jp_object(p, (size_t)idx, depth);
		break;
	case '[':
		v->type = JT_ARRAY;
		rc = jp_array(p, (size_t)idx, depth);
		break;
	case '"':
		v->type = JT_STRING;
		rc = jp_string(p, &v->u.s, &v->n);
		break;
	case 't':
		rc = jp_literal(p, "true", JT_TRUE, v);
		break;
	case 'f':
		rc = jp_literal(p, "false", JT_FALSE, v);
		break;
	case 'n':
		rc = jp_literal(p, "null", JT_NULL, v);
		break;
	default:
		if (p->s[p->i] == '-' || is_digit(p->s[p->i]))
			rc = jp_number(p, v);
		else
			rc = jp_fail(p, "invalid token");
		break;
	}
	if (rc != 0)
		return -1;
	v = &p->d->v[idx];
	v->skip = (uint32_t)(p->d->n - (size_t)idx);
	v->key = key;
	v->klen = klen;
	v->raw = (const char *)p->s + start;
	v->rawlen = (uint32_t)(p->i - start);
	v->ws = p->ws != ws0;
	return idx;
}

static void jdoc_free(struct jdoc *d)
{
	if (!d)
		return;
	while (d->blk) {
		struct jdoc_blk *next = d->blk->next;

		free(d->blk);
		d->blk = next;
	}
	free(d->v);
	jdoc_strings_unref(d->strs);
	free(d);
}

int jdoc_parse(const char *body, size_t len, struct jdoc **out, char *msg, size_t msgsz)
{
	struct jp p;
	struct jdoc *d;
	size_t k, line = 1, col = 0;

	*out = NULL;
	if (msgsz)
		msg[0] = '\0';
	memset(&p, 0, sizeof p);
	p.s = (const unsigned char *)(body ? body : "");
	p.len = body ? len : 0;
	if (p.len >= UINT32_MAX) {
		if (msgsz)
			snprintf(msg, msgsz, "invalid JSON: body too large (%zu bytes)", len);
		return -1;
	}
	if (!(d = calloc(1, sizeof *d)))
		return -2;
	atomic_init(&d->refs, 1);
	/*
	 * Room for one value per 16 bytes: Stripe's compact bodies have one per
	 * 19-23 bytes, so the array is not copied while it grows (at one per 24
	 * it was, once per page: 8 % of the reader's instructions).  What a
	 * page leaves unused of the array is never touched.
	 */
	d->cap = p.len / 16 + 16;
	d->v = malloc(d->cap * sizeof *d->v);
	if ((d->strs = malloc(sizeof *d->strs + p.len + 1)) != NULL)
		atomic_init(&d->strs->refs, 1);
	if (!d->v || !d->strs) {
		jdoc_free(d);
		return -2;
	}
	p.d = d;
	p.so = d->strs->s;
	jp_ws(&p);
	if (p.i >= p.len || (p.s[p.i] != '{' && p.s[p.i] != '['))
		jp_fail(&p, "'[' or '{' expected");
	else if (jp_value(&p, 1, NULL, 0) >= 0) {
		jp_ws(&p);
		if (p.i < p.len)
			jp_fail(&p, "end of input expected");
	}
	if (!p.err) {
		*out = d;
		return 0;
	}
	jdoc_free(d);
	if (p.oom)
		return -2;
	for (k = 0; k < p.errpos && k < p.len; k++) {
		if (p.s[k] == '\n') {
			line++;
			col = 0;
		} else {
			col++;
		}
	}
	if (msgsz)
		snprintf(msg, msgsz, "invalid JSON at line %zu column %zu: %s", line, col + 1,
			 p.err);
	return -1;
}

struct jdoc *jdoc_ref(struct jdoc *d)
{
	if (d)
		atomic_fetch_add_explicit(&d->refs, 1, memory_order_relaxed);
	return d;
}

void jdoc_unref(struct jdoc *d)
{
	if (d && atomic_fetch_sub_explicit(&d->refs, 1, memory_order_acq_rel) == 1)
		jdoc_free(d);
}

struct jdoc_strings *jdoc_strings_ref(struct jdoc *d)
{
	if (!d)
		return NULL;
	atomic_fetch_add_explicit(&d->strs->refs, 1, memory_order_relaxed);
	return d->strs;
}

void jdoc_strings_unref(struct jdoc_strings *s)
{
	if (s && atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) == 1)
		free(s);
}

const struct jval *jdoc_root(const struct jdoc *d)
{
	return d && d->n ? &d->v[0] : NULL;
}

const struct jval *jv_get(const struct jval *o, const char *key)
{
	const struct jval *v;
	size_t klen;
	uint32_t k, off, mask, h;

	if (!o || o->type != JT_OBJECT)
		return NULL;
	klen = strlen(key);
	if (o->n > JDOC_LINEAR) {
		mask = o->u.ht[0];
		for (h = key_hash(key, klen) & mask; (off = o->u.ht[1 + h]) != 0; h = (h + 1) & mask) {
			v = o + off;
			if (v->klen == klen && memcmp(v->key, key, klen) == 0)
				return v;
		}
		return NULL;
	}
	for (v = o + 1, k = 0; k < o->n; k++, v += v->skip)
		if (v->klen == klen && memcmp(v->key, key, klen) == 0)
			return v;
	return NULL;
}

const struct jval *jv_first(const struct jval *c)
{
	return c && (c->type == JT_OBJECT || c->type == JT_ARRAY) && c->n ? c + 1 : NULL;
}

const struct jval *jv_next(const struct jval *c, const struct jval *v)
{
	const struct jval *nv = v + v->skip;

	return nv < c + c->skip ? nv : NULL;
}
