/*
 * jdoc.h - a strict, fast JSON reader for Stripe response bodies: one
 * validating pass that builds a flat, read-only tree in a few allocations.
 *
 * Why not jansson: the pull parses ~2 KB of JSON per Stripe object, and
 * jansson's tree (a malloc per value, a hash table per object) cost about
 * half of the pull's CPU.  This reader keeps every value in one array in
 * document order and every decoded string in one buffer, and records the
 * bytes of each value in the body, so the raw JSON of an object is a copy
 * of its bytes instead of a second scan or a re-serialisation.  Objects
 * of more than JDOC_LINEAR members (a subscription has about fifty) get a
 * key index while they are checked for duplicate keys, so jv_get hashes
 * instead of comparing keys one by one.
 *
 * It accepts exactly RFC 8259 JSON with the rules the snapshot relies on
 * (the ones jansson applied with JSON_REJECT_DUPLICATES):
 *   - the top-level value is an object or an array; nothing but whitespace
 *     after it;
 *   - strings are valid UTF-8 (no overlong forms, surrogates or code points
 *     above U+10FFFF), have no raw control characters, and \u escapes are
 *     well-formed (surrogate pairs paired) and never \u0000;
 *   - integers (no fraction or exponent) fit in a long long ("too big
 *     integer" otherwise); other numbers are reals (JT_REAL);
 *   - an object has no key twice (decoded keys compared);
 *   - nesting deeper than JDOC_MAX_DEPTH is refused.
 * On failure it says where: "invalid JSON at line L column C: PROBLEM"
 * (line and column 1-based, in bytes).
 *
 * Lifetime: a document is reference-counted (jdoc_ref/jdoc_unref; atomic,
 * so references may be dropped on different threads).  The
 * values' strings point into the document's own buffer (which may outlive
 * it: jdoc_strings_ref); the raw byte
 * pointers (jval.raw) point into the body that was parsed, so they are
 * valid only while the caller keeps that body.
 */
#ifndef TRUEUP_JDOC_H
#define TRUEUP_JDOC_H

#include <stddef.h>
#include <stdint.h>

#define JDOC_MAX_DEPTH 512

/* Objects of more members than this get a key index: jv_get hashes. */
#define JDOC_LINEAR 12

enum jtype { JT_NULL = 0, JT_FALSE, JT_TRUE, JT_INT, JT_REAL, JT_STRING, JT_ARRAY, JT_OBJECT };

/* One value.  Children of an array or object follow it in the array. */
struct jval {
	uint8_t type;             /* enum jtype */
	uint8_t ws;               /* raw contains whitespace outside strings */
	uint32_t skip;            /* values in this subtree, itself included */
	uint32_t n;               /* string: bytes; array/object: elements/members */
	uint32_t klen;            /* member of an object: its key's length */
	uint32_t rawlen;          /* bytes of the value in the body */
	const char *key;          /* member of an object: its key (NUL-terminated) */
	const char *raw;          /* the value's bytes in the body */
	union {
		long long i;          /* JT_INT */
		const char *s;        /* JT_STRING: decoded, NUL-terminated */
		const uint32_t *ht;   /* JT_OBJECT of > JDOC_LINEAR members: key index */
	} u;
};

struct jdoc;

/*
 * Parse len bytes at body.  Returns 0 and *out (free with jdoc_unref), -1
 * with msg (msgsz bytes, may be 0) saying where the JSON is invalid, or -2
 * when memory ran out.  *out is NULL on failure.
 */
int jdoc_parse(const char *body, size_t len, struct jdoc **out, char *msg, size_t msgsz);

/* Take / drop a reference; the last jdoc_unref frees.  NULL is fine. */
struct jdoc *jdoc_ref(struct jdoc *d);
void jdoc_unref(struct jdoc *d);

/*
 * The decoded strings of d (what jv_str and the keys point to), as a
 * reference of their own: they stay valid until both d and this
 * reference are dropped.  For a holder that keeps strings read from d but
 * not d's values (48 bytes each, about twice the body), which go with d's
 * last reference.  NULL for d NULL; jdoc_strings_unref(NULL) is fine.
 */
struct jdoc_strings;
struct jdoc_strings *jdoc_strings_ref(struct jdoc *d);
void jdoc_strings_unref(struct jdoc_strings *s);

/* The top-level value (an object or an array). */
const struct jval *jdoc_root(const struct jdoc *d);

/* Member key of object o; NULL when o is not an object or has no such key. */
const struct jval *jv_get(const struct jval *o, const char *key);

/* First element/member of container c (NULL if none or not a container). */
const struct jval *jv_first(const struct jval *c);

/* The element/member after v inside container c (NULL after the last). */
const struct jval *jv_next(const struct jval *c, const struct jval *v);

static inline int jv_is_object(const struct jval *v) { return v && v->type == JT_OBJECT; }
static inline int jv_is_array(const struct jval *v) { return v && v->type == JT_ARRAY; }
static inline int jv_is_string(const struct jval *v) { return v && v->type == JT_STRING; }
static inline int jv_is_int(const struct jval *v) { return v && v->type == JT_INT; }
static inline int jv_is_bool(const struct jval *v)
{
	return v && (v->type == JT_TRUE || v->type == JT_FALSE);
}
static inline int jv_is_true(const struct jval *v) { return v && v->type == JT_TRUE; }
static inline int jv_is_null(const struct jval *v) { return v && v->type == JT_NULL; }
/* The string of v, or NULL when v is not a string. */
static inline const char *jv_str(const struct jval *v)
{
	return v && v->type == JT_STRING ? v->u.s : NULL;
}

#endif
