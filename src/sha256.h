/*
 * sha256.h - SHA-256 (FIPS 180-4), streaming, for the report manifest.
 *
 * The report runner hashes each CSV file while it writes it, so a file is
 * never read back to be hashed.  No allocation; a context is a plain
 * struct on the caller's stack.  On x86-64 CPUs with the SHA extensions
 * the compression runs on them (chosen at run time), else in portable C.
 */
#ifndef TRUEUP_SHA256_H
#define TRUEUP_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_LEN 32
#define SHA256_HEX_LEN 65    /* 64 hex digits and the NUL */

struct sha256 {
	uint32_t h[8];
	uint64_t bytes;         /* message length so far */
	unsigned char buf[64];  /* the partial block */
	size_t buflen;
};

/* Start a digest. */
void sha256_init(struct sha256 *s);

/* Add len bytes of data (len 0 is fine, data may then be NULL). */
void sha256_update(struct sha256 *s, const void *data, size_t len);

/* Finish: the 32-byte digest into out.  s must be re-initialised to reuse it. */
void sha256_final(struct sha256 *s, unsigned char out[SHA256_DIGEST_LEN]);

/* Finish into 64 lowercase hex digits and a NUL. */
void sha256_final_hex(struct sha256 *s, char out[SHA256_HEX_LEN]);

/*
 * Choose the implementation for the whole process (tests: the default,
 * the fastest the CPU has, needs no call): on = 1 the CPU's SHA
 * instructions when it has them, on = 0 the portable C.  Returns 1 when
 * the accelerated one is now in use, else 0.  Not to be called while
 * another thread hashes.
 */
int sha256_use_accelerated(int on);

#endif
