/*
 * apikey.h - where trueup's Stripe API key comes from, and how it is held.
 *
 * The key comes from the environment variable the config names
 * (stripe.api_key_env, default STRIPE_API_KEY) or, when that is unset or
 * empty, from the file stripe.api_key_file.  Never from the command line.
 * A key file must be a regular file that neither group nor others may read
 * or write (chmod 600); its trailing newline and spaces are trimmed.  A key
 * must look like a Stripe secret or restricted key (sk_test_, sk_live_,
 * rk_test_, rk_live_ followed by letters, digits or '_').
 *
 * No message made here ever contains the key or any part of it (nor the
 * content of a key file): they name the variable or the file and the rule
 * broken.  The memory that held a key is wiped (explicit_bzero) before it
 * is freed.
 */
#ifndef TRUEUP_APIKEY_H
#define TRUEUP_APIKEY_H

#include "config.h"
#include "err.h"

/*
 * Load the key per sc (see above) into *key_out (NUL-terminated; free with
 * apikey_free, never with free).  Returns 0, or on failure sets *key_out
 * NULL and returns (with e filled):
 *   EXIT_CONFIG   no key: the variable is unset/empty and no file is set,
 *                 or the key does not look like sk_/rk_ (test or live);
 *   EXIT_NOINPUT  the key file does not exist or cannot be read;
 *   EXIT_NOPERM   the key file is readable or writable by group or others,
 *                 or is not a regular file;
 *   EXIT_SOFTWARE memory ran out.
 */
int apikey_load(const struct stripe_config *sc, char **key_out, struct err *e);

/*
 * 1 if key has the shape of a Stripe secret or restricted key: "sk_" or
 * "rk_", then "test_" or "live_", then at least 8 of [A-Za-z0-9_], at most
 * 512 bytes in all; 0 otherwise.
 */
int apikey_shape_ok(const char *key);

/* Wipe and free a key returned by apikey_load.  key may be NULL. */
void apikey_free(char *key);

/*
 * Keep the key out of core files: set RLIMIT_CORE to 0 and mark the process
 * non-dumpable (prctl PR_SET_DUMPABLE 0, which also refuses ptrace by other
 * processes of the same user).  For the command layer to call before
 * apikey_load in commands that talk to Stripe (libcurl keeps copies of the
 * Authorization header we cannot wipe).  Returns 0, or EXIT_SOFTWARE with e
 * filled when either call failed.
 */
int apikey_protect_process(struct err *e);

#endif
