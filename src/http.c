/*
 * http.c - URL policy and query-string building for the Stripe client; see
 * http.h.  No libcurl here: these are pure functions the unit tests can
 * check byte for byte.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"

int http_host_is_loopback(const char *host, size_t len)
{
	static const char *const names[] = { "localhost", "[::1]" };
	size_t i, dots = 0, digits = 0;
	long part = 0;

	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strlen(names[i]) == len && strncasecmp(host, names[i], len) == 0)
			return 1;
	/* 127.0.0.0/8 in dotted-quad form: 127.a.b.c, each 0..255. */
	if (len < 9 || strncmp(host, "127.", 4) != 0)
		return 0;
	for (i = 4; i < len; i++) {
		char c = host[i];

		if (c == '.') {
			if (digits == 0 || ++dots > 2)
				return 0;
			digits = 0;
			part = 0;
		} else if (c >= '0' && c <= '9') {
			part = part * 10 + (c - '0');
			if (++digits > 3 || part > 255)
				return 0;
		} else {
			return 0;
		}
	}
	return dots == 2 && digits > 0;
}

int http_base_url_check(const char *url, struct err *e)
{
	const char *host, *end, *p;
	size_t hlen;
	int https;

	if (!url || !*url)
		return err_set(e, EXIT_CONFIG, "no Stripe API base URL");
	if (strncasecmp(url, "https://", 8) == 0) {
		https = 1;
		host = url + 8;
	} else if (strncasecmp(url, "http://", 7) == 0) {
		https = 0;
		host = url + 7;
	} else {
		return err_set(e, EXIT_CONFIG, "Stripe API base must be an https:// URL "
			       "(plain http:// only to a loopback host)");
	}
	for (p = url; *p; p++)
		if (isspace((unsigned char)*p) || iscntrl((unsigned char)*p) || *p == '?' ||
		    *p == '#' || *p == '@' || *p == '\\')
			return err_set(e, EXIT_CONFIG, "Stripe API base must not contain spaces, "
				       "credentials, a query or a fragment");
	if (host[0] == '[') {
		end = strchr(host, ']');
		if (!end)
			return err_set(e, EXIT_CONFIG, "Stripe API base has a bad IPv6 host");
		end++;
	} else {
		end = host + strcspn(host, ":/");
	}
	hlen = (size_t)(end - host);
	if (hlen == 0)
		return err_set(e, EXIT_CONFIG, "Stripe API base has no host");
	if (*end == ':') {
		char *stop;
		long port;

		errno = 0;
		port = strtol(end + 1, &stop, 10);
		if (stop == end + 1 || (*stop && *stop != '/') || port < 1 || port > 65535 || errno)
			return err_set(e, EXIT_CONFIG, "Stripe API base has a bad port");
	} else if (*end && *end != '/') {
		return err_set(e, EXIT_CONFIG, "Stripe API base has a bad host");
	}
	if (!https && !http_host_is_loopback(host, hlen))
		return err_set(e, EXIT_CONFIG, "plain http is allowed only to a loopback host "
			       "(127.0.0.0/8, localhost, [::1]), not \"%.*s\"",
			       (int)(hlen > 100 ? 100 : hlen), host);
	return 0;
}

/* Make room for n more bytes plus the NUL; -1 when memory ran out. */
static int http_query_reserve(struct http_query *q, size_t n)
{
	size_t ncap;
	char *nb;

	if (q->oom)
		return -1;
	if (q->len + n + 1 <= q->cap)
		return 0;
	ncap = q->cap ? q->cap : 128;
	while (ncap < q->len + n + 1)
		ncap *= 2;
	nb = realloc(q->buf, ncap);
	if (!nb) {
		q->oom = 1;
		return -1;
	}
	q->buf = nb;
	q->cap = ncap;
	return 0;
}

int http_query_encode(struct http_query *q, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;

	if (http_query_reserve(q, strlen(s) * 3))
		return -1;
	for (p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
			q->buf[q->len++] = (char)*p;
		} else {
			q->buf[q->len++] = '%';
			q->buf[q->len++] = hex[*p >> 4];
			q->buf[q->len++] = hex[*p & 15];
		}
	}
	q->buf[q->len] = '\0';
	return 0;
}

int http_query_add(struct http_query *q, const char *name, const char *value)
{
	if (http_query_reserve(q, 2))
		return -1;
	if (q->len)
		q->buf[q->len++] = '&';
	q->buf[q->len] = '\0';
	if (http_query_encode(q, name) || http_query_reserve(q, 1))
		return -1;
	q->buf[q->len++] = '=';
	q->buf[q->len] = '\0';
	return http_query_encode(q, value ? value : "");
}

const char *http_query_str(const struct http_query *q)
{
	return q->buf ? q->buf : "";
}

void http_query_free(struct http_query *q)
{
	free(q->buf);
	memset(q, 0, sizeof *q);
}
