/*
 * libcurl's multi interface driven by the libevent loop: each socket curl
 * wants watched becomes an event, curl's timer an evtimer, so a transfer
 * never blocks the loop and curl_easy_perform is never called.  One
 * curl_loop serves any number of easy handles, of any protocol; the mail
 * sender (SMTP) and the HTTPS client (net/https_client.h) each own one.
 */
#ifndef WARDEN_CURL_LOOP_H
#define WARDEN_CURL_LOOP_H

#include <stddef.h>

#include <curl/curl.h>

struct event_base;
struct curl_loop;

/* A transfer ended: rc is curl's result (CURLE_OK: done, which says
 * nothing of an HTTP status).  The easy handle is out of the multi
 * handle again and belongs to the callback, which frees it. */
typedef void	curl_loop_done_fn(CURL *easy, CURLcode rc, void *arg);

/* A loop on base; NULL when out of memory or curl fails to start. */
struct curl_loop *curl_loop_new(struct event_base *base);

/*
 * Frees l: every transfer still running is removed and its callback
 * called at once with CURLE_ABORTED_BY_CALLBACK (the callback must not
 * use l).  NULL is fine.
 */
void		 curl_loop_free(struct curl_loop *l);

/*
 * Starts easy (options set by the caller) on l.  done is called exactly
 * once, from the loop, never from inside this call.  Returns 0, or -1
 * when it could not be started (no callback then; easy is still the
 * caller's).
 */
int		 curl_loop_add(struct curl_loop *l, CURL *easy,
		    curl_loop_done_fn *done, void *arg);

/* Stops easy, started on l, without calling its callback; the caller
 * frees easy.  A handle not on l is left alone. */
void		 curl_loop_cancel(struct curl_loop *l, CURL *easy);

/* Transfers running. */
size_t		 curl_loop_inflight(const struct curl_loop *l);

#endif
