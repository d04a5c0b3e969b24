/*
 * Outgoing HTTP(S) requests on the event loop (net/curl_loop.h): what the
 * upstream identity providers are asked (discovery, JWKS, the token
 * endpoint, userinfo).  Nothing here blocks: DNS, connect, TLS and the
 * transfer are curl's, driven by the loop.
 *
 * Only https:// URLs are fetched, peer and host verified against the
 * system's CAs; http:// only to a loopback host (127.0.0.0/8, [::1],
 * localhost), for development and tests.  Redirects are not followed.
 * An answer is read up to HTTPS_BODY_MAX bytes (a longer one fails the
 * call), within the client's timeout from the start.
 */
#ifndef WARDEN_HTTPS_CLIENT_H
#define WARDEN_HTTPS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct https_client;
struct https_call;

#define HTTPS_BODY_MAX		(256 * 1024)	/* bytes of an answer */
#define HTTPS_URL_MAX		2048
#define HTTPS_ERROR_MAX		256
#define HTTPS_CONNECT_TIMEOUT	5		/* seconds */

struct https_answer {
	long		 status;	/* HTTP status; 0: no answer (see error) */
	const char	*content_type;	/* "" when none; without parameters,
					 * lower case ("application/json") */
	const char	*body;		/* NUL-terminated (the NUL not counted) */
	size_t		 len;
	const char	*error;		/* "" when an answer came, else why not
					 * (timeout, refused, too long, TLS...),
					 * never quoting the body */
	bool		 timed_out;	/* no whole answer within the timeout */
};

/* The call ended, either way.  ans and what it points to live until the
 * callback returns. */
typedef void	https_done_fn(const struct https_answer *ans, void *arg);

/*
 * A client on base.  timeout: seconds a whole call may take (1..300).
 * ca_file: "" or NULL for the system's CAs, else a PEM bundle to trust
 * instead.  Returns NULL when out of memory.
 */
struct https_client *https_client_new(struct event_base *base,
		    unsigned int timeout, const char *ca_file);

/* Frees c; calls in flight end at once, their callbacks called with
 * error "stopped".  NULL is fine. */
void		 https_client_free(struct https_client *c);

/* Whether url may be fetched: https://, or http:// to a loopback host;
 * at most HTTPS_URL_MAX bytes, no user-info, no fragment. */
bool		 https_url_ok(const char *url);

/*
 * GET url with "Accept: application/json" and, when bearer is non-NULL,
 * "Authorization: Bearer <bearer>".  Returns the call (for
 * https_call_cancel), or NULL when nothing was started (a bad url, out of
 * memory): no callback then.  done is called exactly once, from the
 * loop, never from inside this call.
 */
struct https_call *https_get(struct https_client *c, const char *url,
		    const char *bearer, https_done_fn *done, void *arg);

/*
 * POST url with the application/x-www-form-urlencoded body form (the
 * caller encodes it), "Accept: application/json", and HTTP Basic
 * authentication as basic_user:basic_password (each form-urlencoded
 * first, RFC 6749 2.3.1) when basic_user is non-NULL.  The body and the
 * password are wiped from the client's memory when the call ends.  As
 * https_get otherwise.
 */
struct https_call *https_post_form(struct https_client *c, const char *url,
		    const char *form, const char *basic_user,
		    const char *basic_password, https_done_fn *done,
		    void *arg);

/* Ends call without calling its callback (its caller went away). */
void		 https_call_cancel(struct https_call *call);

/* Calls in flight. */
size_t		 https_inflight(const struct https_client *c);

#endif
