/* jsonout.c - a fast compact JSON serialiser for jansson values.
 *
 * json_dumps() spends most of the fake's time on large list pages (it formats
 * every integer through printf and escapes strings byte by byte); this writes
 * the same compact JSON (keys in insertion order, UTF-8 passed through,
 * control characters, quote and backslash escaped) several times faster into
 * one growing buffer.
 */
#include "fake.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>


static void reserve(struct jsonbuf *o, size_t n)
{
	if (o->len + n <= o->cap)
		return;
	size_t cap = o->cap ? o->cap : 4096;
	while (cap < o->len + n)
		cap *= 2;
	char *p = realloc(o->p, cap);
	if (!p)
		abort();
	o->p = p;
	o->cap = cap;
}

static void put(struct jsonbuf *o, const char *s, size_t n)
{
	reserve(o, n);
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void put_string(struct jsonbuf *o, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	reserve(o, n + 2);
	o->p[o->len++] = '"';
	size_t start = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch >= 0x20 && ch != '"' && ch != '\\')
			continue;
		put(o, s + start, i - start);
		char esc[6] = {'\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15]};
		if (ch == '"' || ch == '\\') {
			esc[1] = (char)ch;
			put(o, esc, 2);
		} else if (ch == '\n') {
			put(o, "\\n", 2);
		} else if (ch == '\r') {
			put(o, "\\r", 2);
		} else if (ch == '\t') {
			put(o, "\\t", 2);
		} else {
			put(o, esc, 6);
		}
		start = i + 1;
	}
	put(o, s + start, n - start);
	put(o, "\"", 1);
}

static void put_int(struct jsonbuf *o, json_int_t v)
{
	char buf[24];
	int k = (int)sizeof buf;
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	do {
		buf[--k] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		buf[--k] = '-';
	put(o, buf + k, sizeof buf - (size_t)k);
}

static void put_value(struct jsonbuf *o, json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *key;
		json_t *val;
		int first = 1;
		put(o, "{", 1);
		json_object_foreach(v, key, val) {
			if (!first)
				put(o, ",", 1);
			first = 0;
			put_string(o, key, strlen(key));
			put(o, ":", 1);
			put_value(o, val);
		}
		put(o, "}", 1);
		break;
	}
	case JSON_ARRAY: {
		size_t i;
		json_t *val;
		put(o, "[", 1);
		json_array_foreach(v, i, val) {
			if (i)
				put(o, ",", 1);
			put_value(o, val);
		}
		put(o, "]", 1);
		break;
	}
	case JSON_STRING:
		put_string(o, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		put_int(o, json_integer_value(v));
		break;
	case JSON_REAL: {
		char buf[40];
		int n = snprintf(buf, sizeof buf, "%.17g", json_real_value(v));
		if (n > 0 && (size_t)n < sizeof buf - 2 && !strpbrk(buf, ".eEn")) {
			buf[n++] = '.';
			buf[n++] = '0';
		}
		put(o, buf, n > 0 ? (size_t)n : 0);
		break;
	}
	case JSON_TRUE:
		put(o, "true", 4);
		break;
	case JSON_FALSE:
		put(o, "false", 5);
		break;
	default:
		put(o, "null", 4);
		break;
	}
}

void jsonout_append(struct jsonbuf *b, json_t *v)
{
	put_value(b, v);
}

void jsonout_append_raw(struct jsonbuf *b, const char *s, size_t n)
{
	put(b, s, n);
}

/* Compact JSON text of v (NUL-terminated, malloc'd; caller frees); its
 * length in *len.  Aborts when out of memory. */
char *jsonout_dump(json_t *v, size_t *len)
{
	struct jsonbuf o = {NULL, 0, 0};
	put_value(&o, v);
	reserve(&o, 1);
	o.p[o.len] = 0;
	*len = o.len;
	return o.p;
}
