/*
 * healthcheck.h - pings of a job's health-check URL (healthchecks.io
 * convention: URL/start when a run starts, URL when it succeeds, URL/fail
 * when it fails), with libcurl.
 *
 * A ping is best effort: it has a short timeout, and its failure is
 * reported to the caller, who warns and carries on; it never fails a job.
 * Nothing secret is sent: a GET of the URL as configured.
 */
#ifndef TRUEUP_HEALTHCHECK_H
#define TRUEUP_HEALTHCHECK_H

#include "err.h"

#define HEALTHCHECK_TIMEOUT_SEC 5

/*
 * GET url + suffix ("" for success, "/start", "/fail"; a trailing '/' of
 * url is dropped first).  Returns 0 on a 2xx answer, else EXIT_UNAVAILABLE
 * with e saying why ("HTTP 404", "Couldn't connect to server", ...).  The
 * caller calls curl_global_init() once before (libcurl needs it).
 */
int healthcheck_ping(const char *url, const char *suffix, struct err *e);

#endif
