/*
 * test_apikey.c - where the Stripe key comes from: the environment, a
 * private key file (mode 0600 only), shape checks, and messages that never
 * echo a key or a key file's content.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apikey.h"
#include "harness.h"

#define ENVNAME "TRUEUP_TEST_APIKEY"
#define GOODKEY "sk_test_51HunitTestKey0123456789"

static char dir[256];

static void make_dir(void)
{
	snprintf(dir, sizeof dir, "%s/trueup-apikey.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(2);
	}
}

/* Write content to dir/name with mode; returns the path (static buffer). */
static const char *write_file(const char *name, const char *content, mode_t mode)
{
	static char path[512];
	int fd;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, content, strlen(content)) != (ssize_t)strlen(content)) {
		perror(path);
		exit(2);
	}
	close(fd);
	chmod(path, mode);
	return path;
}

static struct stripe_config cfg_with(const char *file)
{
	struct stripe_config sc;

	memset(&sc, 0, sizeof sc);
	sc.api_key_env = (char *)ENVNAME;
	sc.api_key_file = (char *)file;
	return sc;
}

static void test_shape(void)
{
	CHECK(apikey_shape_ok("sk_test_abcdefgh"));
	CHECK(apikey_shape_ok("sk_live_51HxYzAbC123"));
	CHECK(apikey_shape_ok("rk_test_51Hx_yz_AbC123"));
	CHECK(apikey_shape_ok("rk_live_ABCDEFGH12"));
	CHECK(!apikey_shape_ok("sk_test_short"));
	CHECK(!apikey_shape_ok("pk_test_51HxYzAbC123"));     /* publishable: not a secret key */
	CHECK(!apikey_shape_ok("whsec_51HxYzAbC123456"));
	CHECK(!apikey_shape_ok("sk_prod_51HxYzAbC123"));
	CHECK(!apikey_shape_ok("sk_test_51Hx YzAbC123"));
	CHECK(!apikey_shape_ok("sk_test_51HxYzAbC123\n"));
	CHECK(!apikey_shape_ok(""));
	CHECK(!apikey_shape_ok(NULL));
}

static void test_from_env(void)
{
	struct stripe_config sc = cfg_with(NULL);
	struct err e;
	char *key = NULL;

	setenv(ENVNAME, GOODKEY, 1);
	err_clear(&e);
	CHECK_INT(apikey_load(&sc, &key, &e), 0);
	CHECK_STR(key, GOODKEY);
	apikey_free(key);
	/* the variable wins over a file */
	sc = cfg_with(write_file("k_env", "sk_test_fromTheFile123456\n", 0600));
	CHECK_INT(apikey_load(&sc, &key, &e), 0);
	CHECK_STR(key, GOODKEY);
	apikey_free(key);
	unsetenv(ENVNAME);
}

static void test_env_bad_shape_not_echoed(void)
{
	struct stripe_config sc = cfg_with(NULL);
	struct err e;
	char *key = (char *)"x";

	setenv(ENVNAME, "pk_test_SECRETVALUE123456", 1);
	err_clear(&e);
	CHECK_INT(apikey_load(&sc, &key, &e), EXIT_CONFIG);
	CHECK(key == NULL);
	CHECK_CONTAINS(e.msg, "$" ENVNAME);
	CHECK_CONTAINS(e.msg, "does not look like");
	CHECK(strstr(e.msg, "SECRETVALUE") == NULL);
	setenv(ENVNAME, "sk_test_SECRET VALUE 123456", 1);
	CHECK_INT(apikey_load(&sc, &key, &e), EXIT_CONFIG);
	CHECK(strstr(e.msg, "SECRET") == NULL);
	unsetenv(ENVNAME);
}

static void test_missing_key(void)
{
	struct stripe_config sc = cfg_with(NULL);
	struct err e;
	char *key;

	unsetenv(ENVNAME);
	err_clear(&e);
	CHECK_INT(apikey_load(&sc, &key, &e), EXIT_CONFIG);
	CHECK(key == NULL);
	CHECK_STR(e.msg, "no Stripe API key: set $" ENVNAME " or stripe.api_key_file in the config");
	/* an empty variable counts as unset */
	setenv(ENVNAME, "", 1);
	CHECK_INT(apikey_load(&sc, &key, &e), EXIT_CONFIG);
	CHECK_CONTAINS(e.msg, "no Stripe API key");
	unsetenv(ENVNAME);
	/* the default variable name */
	sc.api_key_env = NULL;
	if (!getenv("STRIPE_API_KEY")) {
		CHECK_INT(apikey_load(&sc, &key, &e), EXIT_CONFIG);
		CHECK_CONTAINS(e.msg, "$STRIPE_API_KEY");
	}
}

static void test_from_file(void)
{
	struct stripe_config sc;
	struct err e;
	char *key = NULL;

	unsetenv(ENVNAME);
	sc = cfg_with(write_file("k600", GOODKEY "\n", 0600));
	err_clear(&e);
	CHECK_INT(apikey_load(&sc, &key, &e), 0);
	CHECK_STR(key, GOODKEY);        /* trailing newline trimmed */
	apikey_free(key);
	sc = cfg_with(write_file("k400", "rk_live_RestrictedKey42\r\n", 0400));
	CHECK_INT(apikey_load(&sc, &key, &e), 0);
	CHECK_STR(key, "rk_live_RestrictedKey42");
	apikey_free(key);
}

static void test_file_mode_refused(void)
{
	static const mode_t modes[] = { 0644, 0640, 0620, 0604, 0602, 0666 };
	char want[64];
	struct stripe_config sc;
	struct err e;
	char *key;
	size_t i;

	unsetenv(ENVNAME);
	for (i = 0; i < sizeof modes / sizeof modes[0]; i++) {
		sc = cfg_with(write_file("kopen", GOODKEY "\n", modes[i]));
		err_clear(&e);
		key = (char *)"x";
		CHECK_INT(apikey_load(&sc, &key, &e), EXIT_NOPERM);
		CHECK(key == NULL);
		CHECK_CONTAINS(e.msg, sc.api_key_file);
		snprintf(want, sizeof want, "has mode %04o", (unsigned)modes[i]);
		CHECK_CONTAINS(e.msg, want);
		CHECK_CONTAINS(e.msg, "chmod 600");
		CHECK(strstr(e.msg, "unitTestKey") == NULL);
	}
	/* a directory is not a key file */
	sc = cfg_with(dir);
	CHECK_INT(apikey_load(&sc, &key, &e), EXIT_NOPERM);
	CHECK_CONTAINS(e.msg, "not a regular file");
}

static void test_file_problems(void)
{
	struct stripe_config sc;
	struct err e;
	char *key;
	char path[512];

	unsetenv(ENVNAME);
	snprintf(path, sizeof path, "%s/absent", dir);
	sc = cfg_with(path);
	err_clear(&e);
	CHECK_INT(apikey_load(&sc, &key, &e), EXIT_NOINPUT);
	CHECK_CONTAINS(e.msg, "cannot open key file");
	CHECK_CONTAINS(e.msg, path);
	/* content that is not a key: refused, not echoed */
	sc = cfg_with(write_file("kbad", "password=hunter2SECRET\n", 0600));
	CHECK_INT(apikey_load(&sc, &key, &e), EXIT_CONFIG);
	CHECK(key == NULL);
	CHECK_CONTAINS(e.msg, "does not hold a Stripe secret or restricted key");
	CHECK(strstr(e.msg, "hunter2") == NULL);
	sc = cfg_with(write_file("kempty", "\n", 0600));
	CHECK_INT(apikey_load(&sc, &key, &e), EXIT_CONFIG);
	sc = cfg_with(write_file("ktwo", GOODKEY "\n" GOODKEY "\n", 0600));
	CHECK_INT(apikey_load(&sc, &key, &e), EXIT_CONFIG);
	CHECK(strstr(e.msg, "unitTestKey") == NULL);
}

static void test_protect_process(void)
{
	struct rlimit rl;
	struct err e;

	err_clear(&e);
	CHECK_INT(apikey_protect_process(&e), 0);
	CHECK_INT(getrlimit(RLIMIT_CORE, &rl), 0);
	CHECK_INT(rl.rlim_cur, 0);
	CHECK_INT(prctl(PR_GET_DUMPABLE, 0L, 0L, 0L, 0L), 0);
}

static void cleanup(void)
{
	static const char *const names[] = { "k_env", "k600", "k400", "kopen", "kbad", "kempty",
					     "ktwo" };
	char path[512];
	size_t i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

int main(void)
{
	make_dir();
	RUN(test_shape);
	RUN(test_from_env);
	RUN(test_env_bad_shape_not_echoed);
	RUN(test_missing_key);
	RUN(test_from_file);
	RUN(test_file_mode_refused);
	RUN(test_file_problems);
	RUN(test_protect_process);
	cleanup();
	return harness_done();
}
