/*
 * fakeserver.h - start, drive and stop the project's fake Stripe from a C
 * unit test (tests/unit/test_http.c, test_pull.c).
 *
 * The including file defines KEY (the test key the fake accepts) and
 * includes harness.h first.  fake_start() runs $FAKESTRIPE (default
 * build/default/fakestripe) on port 0 with the given arguments and reads
 * its "listening on 127.0.0.1:PORT" line; fake_ctl() talks to its control
 * endpoints (/_fake/stats, /_fake/faults, /_fake/mutate); fake_stop() ends
 * it with SIGTERM and reaps it.
 */
#ifndef TRUEUP_FAKESERVER_H
#define TRUEUP_FAKESERVER_H

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#ifndef KEY
#error "define KEY (the fake's test key) before including fakeserver.h"
#endif

struct fake {
	pid_t pid;
	int out;          /* its stdout, kept open */
	int port;
	char base[64];
};

static inline const char *fake_bin(void)
{
	const char *f = getenv("FAKESTRIPE");

	return f && *f ? f : "build/default/fakestripe";
}

/* Start the fake with args (NULL-terminated); 0 or -1. */
static inline int fake_start(struct fake *fk, const char *const *args)
{
	const char *argv[32];
	char line[256];
	int p[2], n = 0, i;
	size_t len = 0;

	memset(fk, 0, sizeof *fk);
	if (access(fake_bin(), X_OK) != 0) {
		printf("  fake Stripe \"%s\" not found: build it with make %s\n", fake_bin(),
		       fake_bin());
		return -1;
	}
	argv[n++] = fake_bin();
	argv[n++] = "--port";
	argv[n++] = "0";
	for (i = 0; args[i] && n < 30; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	if (pipe(p) != 0)
		return -1;
	fflush(stdout);
	fk->pid = fork();
	if (fk->pid < 0)
		return -1;
	if (fk->pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		dup2(p[1], 1);
		if (devnull >= 0)
			dup2(devnull, 2);
		close(p[0]);
		close(p[1]);
		setenv("FAKESTRIPE_KEY", KEY, 1);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	fk->out = p[0];
	while (len < sizeof line - 1) {
		struct pollfd pfd = { fk->out, POLLIN, 0 };
		ssize_t r;

		if (poll(&pfd, 1, 10000) <= 0)
			break;
		r = read(fk->out, line + len, 1);
		if (r <= 0)
			break;
		if (line[len] == '\n')
			break;
		len++;
	}
	line[len] = '\0';
	if (sscanf(line, "listening on 127.0.0.1:%d", &fk->port) != 1) {
		printf("  fake Stripe did not start: \"%s\"\n", line);
		kill(fk->pid, SIGKILL);
		waitpid(fk->pid, NULL, 0);
		close(fk->out);
		fk->pid = 0;
		return -1;
	}
	snprintf(fk->base, sizeof fk->base, "http://127.0.0.1:%d", fk->port);
	return 0;
}

static inline void fake_stop(struct fake *fk)
{
	int st;

	if (fk->pid <= 0)
		return;
	kill(fk->pid, SIGTERM);
	waitpid(fk->pid, &st, 0);
	close(fk->out);
	fk->pid = 0;
}

struct buf {
	char *p;
	size_t len;
};

static inline size_t collect(char *d, size_t s, size_t n, void *ud)
{
	struct buf *b = ud;
	char *np = realloc(b->p, b->len + s * n + 1);

	if (!np)
		return 0;
	b->p = np;
	memcpy(b->p + b->len, d, s * n);
	b->len += s * n;
	b->p[b->len] = '\0';
	return s * n;
}

/* GET or POST (body non-NULL) a control URL of the fake; the parsed JSON answer. */
static inline json_t *fake_ctl(const struct fake *fk, const char *path, const char *body)
{
	struct buf buf = { NULL, 0 };
	struct curl_slist *h = NULL;
	char url[256];
	json_t *j = NULL;
	CURL *c = curl_easy_init();

	snprintf(url, sizeof url, "%s%s", fk->base, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &buf);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	if (body) {
		h = curl_slist_append(h, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	}
	if (curl_easy_perform(c) == CURLE_OK && buf.p)
		j = json_loads(buf.p, 0, NULL);
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	free(buf.p);
	return j;
}

/* by_path[route] of /_fake/stats (or a top-level counter when route is NULL). */
static inline long fake_count(const struct fake *fk, const char *field, const char *route)
{
	json_t *j = fake_ctl(fk, "/_fake/stats", NULL), *v;
	long n = -1;

	if (!j)
		return -1;
	v = json_object_get(j, field);
	if (route)
		v = json_object_get(v, route);
	n = v ? (long)json_integer_value(v) : 0;
	json_decref(j);
	return n;
}

static inline void fake_faults(const struct fake *fk, const char *json)
{
	json_t *j = fake_ctl(fk, "/_fake/faults", json);

	CHECK(j != NULL);
	json_decref(j);
	j = fake_ctl(fk, "/_fake/stats/reset", "{}");
	CHECK(j != NULL);
	json_decref(j);
}

#endif
