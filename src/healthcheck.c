/*
 * healthcheck.c - one health-check ping with libcurl; see healthcheck.h.
 *
 * Plain http is allowed to loopback hosts only (the job checker enforces
 * it; here libcurl is also limited to http and https and to no redirects).
 */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "healthcheck.h"

#ifndef TRUEUP_VERSION
#define TRUEUP_VERSION "dev"
#endif

static size_t discard(char *ptr, size_t size, size_t nmemb, void *arg)
{
	(void)ptr;
	(void)arg;
	return size * nmemb;
}

int healthcheck_ping(const char *url, const char *suffix, struct err *e)
{
	char full[1024];
	size_t len = strlen(url);
	long status = 0;
	CURLcode cc;
	CURL *h;

	while (len > 0 && url[len - 1] == '/')
		len--;
	if ((size_t)snprintf(full, sizeof full, "%.*s%s", (int)len, url, suffix) >= sizeof full)
		return err_set(e, EXIT_UNAVAILABLE, "health-check URL is too long");
	if (!(h = curl_easy_init()))
		return err_set(e, EXIT_UNAVAILABLE, "cannot start libcurl");
	curl_easy_setopt(h, CURLOPT_URL, full);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)HEALTHCHECK_TIMEOUT_SEC);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)HEALTHCHECK_TIMEOUT_SEC);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "trueup/" TRUEUP_VERSION);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	cc = curl_easy_perform(h);
	if (cc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(h);
	if (cc != CURLE_OK)
		return err_set(e, EXIT_UNAVAILABLE, "%s", curl_easy_strerror(cc));
	if (status < 200 || status > 299)
		return err_set(e, EXIT_UNAVAILABLE, "HTTP %ld", status);
	return 0;
}
