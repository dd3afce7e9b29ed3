/*
 * test_sha256.c - SHA-256 against the FIPS 180-4 examples (NIST CSRC
 * "SHA256.pdf": "abc", the 448-bit two-block message, one million 'a'),
 * the empty string, and the same digests fed in odd-sized pieces, since
 * the report writer hashes a file in whatever pieces it writes.  Where the
 * CPU has SHA instructions everything runs twice, accelerated and portable,
 * and the two must agree on inputs of every length up to a few blocks.
 */
#include <string.h>

#include "harness.h"
#include "sha256.h"

static void hex_of(const void *data, size_t len, char out[SHA256_HEX_LEN])
{
	struct sha256 s;

	sha256_init(&s);
	sha256_update(&s, data, len);
	sha256_final_hex(&s, out);
}

static void test_fips_vectors(void)
{
	const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	char h[SHA256_HEX_LEN];

	hex_of("abc", 3, h);
	CHECK_STR(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	hex_of(two, strlen(two), h);
	CHECK_STR(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	hex_of("", 0, h);
	CHECK_STR(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_million_a(void)
{
	static char chunk[1000];
	struct sha256 s;
	char h[SHA256_HEX_LEN];
	int i;

	memset(chunk, 'a', sizeof chunk);
	sha256_init(&s);
	for (i = 0; i < 1000; i++)
		sha256_update(&s, chunk, sizeof chunk);
	sha256_final_hex(&s, h);
	CHECK_STR(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* Every split of the two-block message gives the same digest; so do pieces
 * that straddle the 55/56/64-byte padding boundaries. */
static void test_pieces(void)
{
	const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	size_t n = strlen(two), cut, step;
	char h[SHA256_HEX_LEN], want[SHA256_HEX_LEN];
	char buf[200];

	for (cut = 0; cut <= n; cut++) {
		struct sha256 s;

		sha256_init(&s);
		sha256_update(&s, two, cut);
		sha256_update(&s, two + cut, n - cut);
		sha256_final_hex(&s, h);
		CHECK_STR(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	}
	for (n = 50; n < 140; n++) {
		memset(buf, 'x', n);
		hex_of(buf, n, want);
		for (step = 1; step < 70; step += 7) {
			struct sha256 s;
			size_t o;

			sha256_init(&s);
			for (o = 0; o < n; o += step)
				sha256_update(&s, buf + o, n - o < step ? n - o : step);
			sha256_final_hex(&s, h);
			CHECK_STR(h, want);
		}
	}
}

/* A pseudo-random message of n bytes, hashed in pieces of step. */
static void hash_noise(size_t n, size_t step, char out[SHA256_HEX_LEN])
{
	static unsigned char buf[1024];
	unsigned x = 2463534242u;
	struct sha256 s;
	size_t i, o;

	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (unsigned char)x;
	}
	sha256_init(&s);
	for (o = 0; o < n; o += step)
		sha256_update(&s, buf + o, n - o < step ? n - o : step);
	sha256_final_hex(&s, out);
}

/* The accelerated and the portable function agree on every length 0..1024. */
static void test_implementations_agree(void)
{
	char fast[SHA256_HEX_LEN], slow[SHA256_HEX_LEN];
	size_t n, differ = 0;

	if (!sha256_use_accelerated(1)) {
		printf("  (no SHA instructions on this CPU: portable only)\n");
		CHECK(sha256_use_accelerated(0) == 0);
		return;
	}
	for (n = 0; n <= 1024; n++) {
		sha256_use_accelerated(1);
		hash_noise(n, n % 3 ? 64 * (n % 5) + 7 : 1024, fast);
		sha256_use_accelerated(0);
		hash_noise(n, 1024, slow);
		differ += strcmp(fast, slow) != 0;
	}
	CHECK(differ == 0);
	sha256_use_accelerated(1);
}

/* Every test above, run with the given implementation. */
static void run_all(void)
{
	RUN(test_fips_vectors);
	RUN(test_million_a);
	RUN(test_pieces);
}

int main(void)
{
	if (sha256_use_accelerated(1)) {
		printf("accelerated:\n");
		run_all();
	}
	printf("portable:\n");
	sha256_use_accelerated(0);
	run_all();
	RUN(test_implementations_agree);
	return harness_done();
}
