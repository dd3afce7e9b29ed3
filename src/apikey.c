/*
 * apikey.c - loading the Stripe API key from the environment or a private
 * file; see apikey.h.
 *
 * Every buffer that held key bytes (the file read buffer, the returned
 * copy) is wiped with explicit_bzero before it is released.  The value of
 * the environment variable itself belongs to the process environment and
 * is left alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apikey.h"

#define APIKEY_MAX 512
#define APIKEY_FILE_MAX 4096

int apikey_shape_ok(const char *key)
{
	static const char *const prefixes[] = { "sk_test_", "sk_live_", "rk_test_", "rk_live_" };
	size_t i, n, len;
	int ok = 0;

	if (!key)
		return 0;
	for (i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
		if (strncmp(key, prefixes[i], strlen(prefixes[i])) == 0)
			ok = 1;
	if (!ok)
		return 0;
	len = strlen(key);
	n = strlen("sk_test_");
	if (len > APIKEY_MAX || len < n + 8)
		return 0;
	for (i = n; i < len; i++) {
		char c = key[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_'))
			return 0;
	}
	return 1;
}

void apikey_free(char *key)
{
	if (!key)
		return;
	explicit_bzero(key, strlen(key));
	free(key);
}

/* A wiped-on-free copy of the n bytes at s; NULL when memory ran out. */
static char *apikey_dup(const char *s, size_t n)
{
	char *k = malloc(n + 1);

	if (!k)
		return NULL;
	memcpy(k, s, n);
	k[n] = '\0';
	return k;
}

/*
 * Read the key file at path into buf (size bufsz, NUL-terminated, trailing
 * whitespace trimmed).  Checks the mode on the open descriptor, so the file
 * checked is the file read.  Returns 0 or an exit code with e filled.
 */
static int apikey_read_file(const char *path, char *buf, size_t bufsz, struct err *e)
{
	struct stat st;
	size_t len = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		int en = errno;

		return err_set(e, en == EACCES ? EXIT_NOPERM : EXIT_NOINPUT,
			       "cannot open key file \"%s\": %s", path, strerror(en));
	}
	if (fstat(fd, &st) != 0) {
		int en = errno;

		close(fd);
		return err_set(e, EXIT_NOINPUT, "cannot stat key file \"%s\": %s", path,
			       strerror(en));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(e, EXIT_NOPERM, "key file \"%s\" is not a regular file", path);
	}
	if (st.st_mode & (S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH)) {
		close(fd);
		return err_set(e, EXIT_NOPERM,
			       "key file \"%s\" has mode %04o: it must not be readable or writable "
			       "by group or others (chmod 600)", path,
			       (unsigned)(st.st_mode & 07777));
	}
	for (;;) {
		n = read(fd, buf + len, bufsz - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int en = errno;

			close(fd);
			explicit_bzero(buf, bufsz);
			return err_set(e, EXIT_NOINPUT, "cannot read key file \"%s\": %s", path,
				       strerror(en));
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == bufsz - 1) {
			close(fd);
			explicit_bzero(buf, bufsz);
			return err_set(e, EXIT_CONFIG, "key file \"%s\" is too large to hold a key",
				       path);
		}
	}
	close(fd);
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' ' ||
			   buf[len - 1] == '\t'))
		len--;
	buf[len] = '\0';
	return 0;
}

int apikey_load(const struct stripe_config *sc, char **key_out, struct err *e)
{
	const char *envname = sc->api_key_env && *sc->api_key_env ? sc->api_key_env
								  : "STRIPE_API_KEY";
	const char *v = getenv(envname);
	char buf[APIKEY_FILE_MAX];
	int rc;

	*key_out = NULL;
	if (v && *v) {
		if (!apikey_shape_ok(v))
			return err_set(e, EXIT_CONFIG,
				       "the value of $%s does not look like a Stripe secret or "
				       "restricted key (sk_test_/sk_live_/rk_test_/rk_live_...)", envname);
		*key_out = apikey_dup(v, strlen(v));
		return *key_out ? 0 : err_set(e, EXIT_SOFTWARE, "out of memory");
	}
	if (!sc->api_key_file || !*sc->api_key_file)
		return err_set(e, EXIT_CONFIG,
			       "no Stripe API key: set $%s or stripe.api_key_file in the config",
			       envname);
	rc = apikey_read_file(sc->api_key_file, buf, sizeof buf, e);
	if (rc)
		return rc;
	if (!apikey_shape_ok(buf)) {
		explicit_bzero(buf, sizeof buf);
		return err_set(e, EXIT_CONFIG,
			       "key file \"%s\" does not hold a Stripe secret or restricted key "
			       "(sk_test_/sk_live_/rk_test_/rk_live_...)", sc->api_key_file);
	}
	*key_out = apikey_dup(buf, strlen(buf));
	explicit_bzero(buf, sizeof buf);
	return *key_out ? 0 : err_set(e, EXIT_SOFTWARE, "out of memory");
}

int apikey_protect_process(struct err *e)
{
	struct rlimit rl = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &rl) != 0)
		return err_set(e, EXIT_SOFTWARE, "cannot disable core dumps: %s", strerror(errno));
	if (prctl(PR_SET_DUMPABLE, 0L, 0L, 0L, 0L) != 0)
		return err_set(e, EXIT_SOFTWARE, "cannot mark the process non-dumpable: %s",
			       strerror(errno));
	return 0;
}
