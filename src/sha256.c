/*
 * sha256.c - SHA-256 after FIPS 180-4 section 6.2; see sha256.h.
 *
 * Two implementations of the compression function, chosen once per
 * process: the portable C one (any machine), and on x86-64 CPUs with the
 * SHA extensions (Intel since Goldmont and Ice Lake, AMD since Zen) one
 * built on them, several times faster.  The report writer hashes every
 * byte it writes: with the portable function alone, hashing was about a
 * fifth of the CPU of `trueup report enrolments`.  Both give the same
 * digests; the unit test runs both over the same inputs.
 */
#include <stdio.h>
#include <string.h>

#include "sha256.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SHA256_X86 1
#include <cpuid.h>
#include <immintrin.h>
#endif

static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
	0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
	0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
	0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
	0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
	0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
	0xc67178f2
};

#define ROTR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

/* The portable compression function over n 64-byte blocks at p. */
static void blocks_c(uint32_t hs[8], const unsigned char *p, size_t n)
{
	uint32_t w[64], a, b, c, d, e, f, g, h, t1, t2;
	int i;

	for (; n; n--, p += 64) {
		for (i = 0; i < 16; i++)
			w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
			       (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
		for (i = 16; i < 64; i++) {
			uint32_t s0 = ROTR(w[i - 15], 7) ^ ROTR(w[i - 15], 18) ^ (w[i - 15] >> 3);
			uint32_t s1 = ROTR(w[i - 2], 17) ^ ROTR(w[i - 2], 19) ^ (w[i - 2] >> 10);

			w[i] = w[i - 16] + s0 + w[i - 7] + s1;
		}
		a = hs[0]; b = hs[1]; c = hs[2]; d = hs[3];
		e = hs[4]; f = hs[5]; g = hs[6]; h = hs[7];
		for (i = 0; i < 64; i++) {
			t1 = h + (ROTR(e, 6) ^ ROTR(e, 11) ^ ROTR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] +
			     w[i];
			t2 = (ROTR(a, 2) ^ ROTR(a, 13) ^ ROTR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
			h = g; g = f; f = e; e = d + t1;
			d = c; c = b; b = a; a = t1 + t2;
		}
		hs[0] += a; hs[1] += b; hs[2] += c; hs[3] += d;
		hs[4] += e; hs[5] += f; hs[6] += g; hs[7] += h;
	}
}

#ifdef SHA256_X86
/*
 * The same with the SHA extensions (Intel's "Intel SHA Extensions" paper,
 * 2013): the state lives as ABEF and CDGH in two registers; each
 * sha256rnds2 does two rounds, sha256msg1/msg2 extend the message
 * schedule four words at a time.
 */
__attribute__((target("sha,sse4.1,ssse3")))
static void blocks_x86(uint32_t hs[8], const unsigned char *p, size_t n)
{
	const __m128i swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
	__m128i s0, s1, t, m[4], msg, abef, cdgh;
	int g;

	t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&hs[0]), 0xB1);   /* CDAB */
	s1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&hs[4]), 0x1B);  /* EFGH */
	s0 = _mm_alignr_epi8(t, s1, 8);                                           /* ABEF */
	s1 = _mm_blend_epi16(s1, t, 0xF0);                                        /* CDGH */
	for (; n; n--, p += 64) {
		abef = s0;
		cdgh = s1;
		for (g = 0; g < 16; g++) {
			__m128i w;

			if (g < 4) {
				w = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * g)), swap);
			} else {
				/* W[t..t+3] from W[t-16..t-1]: m[g&3] holds the oldest four */
				w = _mm_sha256msg1_epu32(m[g & 3], m[(g - 3) & 3]);
				w = _mm_add_epi32(w, _mm_alignr_epi8(m[(g - 1) & 3], m[(g - 2) & 3], 4));
				w = _mm_sha256msg2_epu32(w, m[(g - 1) & 3]);
			}
			m[g & 3] = w;
			msg = _mm_add_epi32(w, _mm_loadu_si128((const __m128i *)&K[4 * g]));
			s1 = _mm_sha256rnds2_epu32(s1, s0, msg);
			s0 = _mm_sha256rnds2_epu32(s0, s1, _mm_shuffle_epi32(msg, 0x0E));
		}
		s0 = _mm_add_epi32(s0, abef);
		s1 = _mm_add_epi32(s1, cdgh);
	}
	t = _mm_shuffle_epi32(s0, 0x1B);                                          /* FEBA */
	s1 = _mm_shuffle_epi32(s1, 0xB1);                                         /* DCHG */
	_mm_storeu_si128((__m128i *)&hs[0], _mm_blend_epi16(t, s1, 0xF0));        /* DCBA */
	_mm_storeu_si128((__m128i *)&hs[4], _mm_alignr_epi8(s1, t, 8));           /* HGFE */
}

/* 1 when the CPU has SHA, SSE4.1 and SSSE3. */
static int have_x86_sha(void)
{
	unsigned a, b, c, d;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSE4_1) || !(c & bit_SSSE3))
		return 0;
	if (__get_cpuid_max(0, NULL) < 7)
		return 0;
	__cpuid_count(7, 0, a, b, c, d);
	return (b & (1u << 29)) != 0;
}
#endif

typedef void (*blocks_fn)(uint32_t hs[8], const unsigned char *p, size_t n);

static blocks_fn blocks;     /* chosen on first use, or by sha256_use_accelerated */

static blocks_fn pick(void)
{
#ifdef SHA256_X86
	if (have_x86_sha())
		return blocks_x86;
#endif
	return blocks_c;
}

int sha256_use_accelerated(int on)
{
	blocks_fn best = pick();

	blocks = on ? best : blocks_c;
	return blocks != blocks_c;
}

void sha256_init(struct sha256 *s)
{
	static const uint32_t h0[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19
	};

	if (!blocks)
		blocks = pick();
	memcpy(s->h, h0, sizeof h0);
	s->bytes = 0;
	s->buflen = 0;
}

void sha256_update(struct sha256 *s, const void *data, size_t len)
{
	const unsigned char *p = data;

	s->bytes += len;
	if (s->buflen) {
		size_t take = 64 - s->buflen < len ? 64 - s->buflen : len;

		memcpy(s->buf + s->buflen, p, take);
		s->buflen += take;
		p += take;
		len -= take;
		if (s->buflen < 64)
			return;
		blocks(s->h, s->buf, 1);
		s->buflen = 0;
	}
	if (len >= 64) {
		blocks(s->h, p, len / 64);
		p += len - len % 64;
		len %= 64;
	}
	if (len) {
		memcpy(s->buf, p, len);
		s->buflen = len;
	}
}

void sha256_final(struct sha256 *s, unsigned char out[SHA256_DIGEST_LEN])
{
	uint64_t bits = s->bytes * 8;
	int i;

	s->buf[s->buflen++] = 0x80;
	if (s->buflen > 56) {
		memset(s->buf + s->buflen, 0, 64 - s->buflen);
		blocks(s->h, s->buf, 1);
		s->buflen = 0;
	}
	memset(s->buf + s->buflen, 0, 56 - s->buflen);
	for (i = 0; i < 8; i++)
		s->buf[56 + i] = (unsigned char)(bits >> (56 - 8 * i));
	blocks(s->h, s->buf, 1);
	for (i = 0; i < 8; i++) {
		out[4 * i] = (unsigned char)(s->h[i] >> 24);
		out[4 * i + 1] = (unsigned char)(s->h[i] >> 16);
		out[4 * i + 2] = (unsigned char)(s->h[i] >> 8);
		out[4 * i + 3] = (unsigned char)s->h[i];
	}
}

void sha256_final_hex(struct sha256 *s, char out[SHA256_HEX_LEN])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char d[SHA256_DIGEST_LEN];
	int i;

	sha256_final(s, d);
	for (i = 0; i < SHA256_DIGEST_LEN; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[64] = '\0';
}
