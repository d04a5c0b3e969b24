/*
 * Outgoing HTTP(S) requests on the event loop (https_client.h).
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <sodium.h>

#include "curl_loop.h"
#include "https_client.h"
#include "util.h"

struct https_client {
	struct curl_loop	*loop;
	unsigned int		 timeout;
	char			*ca_file;	/* NULL: the system's */
	struct https_call	*calls;		/* in flight */
	size_t			 inflight;
};

struct https_call {
	struct https_call	*next, *prev;
	struct https_client	*c;
	CURL			*easy;
	struct curl_slist	*headers;
	char			*form;		/* wiped when done */
	char			*userpwd;	/* wiped when done */
	char			*body;
	size_t			 len, cap;
	bool			 too_long;
	https_done_fn		*done;
	void			*arg;
	char			 curlerr[CURL_ERROR_SIZE];
};

static void
call_free(struct https_call *k)
{
	struct https_client *c = k->c;

	if (k->prev != NULL)
		k->prev->next = k->next;
	else if (c->calls == k)
		c->calls = k->next;
	if (k->next != NULL)
		k->next->prev = k->prev;
	c->inflight--;
	if (k->easy != NULL)
		curl_easy_cleanup(k->easy);
	curl_slist_free_all(k->headers);
	if (k->form != NULL)
		str_freezero(k->form);
	if (k->userpwd != NULL)
		str_freezero(k->userpwd);
	if (k->body != NULL) {
		sodium_memzero(k->body, k->cap);	/* may hold tokens */
		free(k->body);
	}
	free(k);
}

/* The media type of ct, lower case, without parameters, into out. */
static void
media_type(const char *ct, char *out, size_t outlen)
{
	size_t	 i = 0;

	out[0] = '\0';
	if (ct == NULL || outlen == 0)
		return;
	while (*ct == ' ')
		ct++;
	for (; ct[i] != '\0' && ct[i] != ';' && ct[i] != ' ' &&
	    i + 1 < outlen; i++)
		out[i] = (char)tolower((unsigned char)ct[i]);
	out[i] = '\0';
}

static void
finished(CURL *easy, CURLcode rc, void *arg)
{
	struct https_call *k = arg;
	struct https_answer a;
	https_done_fn	*done = k->done;
	void		*darg = k->arg;
	char		 ctype[128], why[HTTPS_ERROR_MAX];
	char		*ct = NULL;
	long		 status = 0;

	memset(&a, 0, sizeof(a));
	why[0] = '\0';
	ctype[0] = '\0';
	if (rc == CURLE_OK) {
		(void)curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
		(void)curl_easy_getinfo(easy, CURLINFO_CONTENT_TYPE, &ct);
		media_type(ct, ctype, sizeof(ctype));
	} else if (k->too_long || rc == CURLE_FILESIZE_EXCEEDED)
		str_printf(why, sizeof(why), "an answer longer than %d bytes",
		    HTTPS_BODY_MAX);
	else if (rc == CURLE_ABORTED_BY_CALLBACK)
		str_copy(why, "stopped", sizeof(why));
	else if (rc == CURLE_OPERATION_TIMEDOUT)
		str_copy(why, "timeout", sizeof(why));
	else
		str_printf(why, sizeof(why), "%s%s%s", curl_easy_strerror(rc),
		    k->curlerr[0] != '\0' ? ": " : "", k->curlerr);
	a.status = rc == CURLE_OK ? status : 0;
	a.content_type = ctype;
	a.body = k->body != NULL ? k->body : "";
	a.len = k->body != NULL ? k->len : 0;
	a.error = why;
	a.timed_out = rc == CURLE_OPERATION_TIMEDOUT;
	if (a.status == 0 && why[0] == '\0')
		str_copy(why, "no answer", sizeof(why));
	/* out of the loop already (curl_loop.h): freed after the callback */
	done(&a, darg);
	call_free(k);
}

static size_t
write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct https_call *k = arg;
	size_t	 n = size * nmemb, cap;
	char	*p;

	if (n > HTTPS_BODY_MAX - k->len) {
		k->too_long = true;
		return 0;	/* fails the transfer: CURLE_WRITE_ERROR */
	}
	if (k->len + n + 1 > k->cap) {
		cap = k->cap == 0 ? 4096 : k->cap;
		while (cap < k->len + n + 1)
			cap *= 2;
		if ((p = malloc(cap)) == NULL)
			return 0;
		if (k->body != NULL) {
			memcpy(p, k->body, k->len);
			sodium_memzero(k->body, k->cap);
			free(k->body);
		}
		k->body = p;
		k->cap = cap;
	}
	memcpy(k->body + k->len, data, n);
	k->len += n;
	k->body[k->len] = '\0';
	return n;
}

struct https_client *
https_client_new(struct event_base *base, unsigned int timeout,
    const char *ca_file)
{
	struct https_client *c;

	if (timeout < 1 || timeout > 300 ||
	    (c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->timeout = timeout;
	if ((ca_file != NULL && ca_file[0] != '\0' &&
	    (c->ca_file = strdup(ca_file)) == NULL) ||
	    (c->loop = curl_loop_new(base)) == NULL) {
		free(c->ca_file);
		free(c);
		return NULL;
	}
	return c;
}

void
https_client_free(struct https_client *c)
{
	if (c == NULL)
		return;
	/* Each call's callback with "stopped", from curl_loop_free. */
	curl_loop_free(c->loop);
	free(c->ca_file);
	free(c);
}

/* Whether host (as curl's URL API gives it) is a loopback one: localhost,
 * [::1], or an IPv4 address of 127.0.0.0/8 (not a name that starts so). */
static bool
loopback(const char *host)
{
	struct in_addr	 a;

	if (strcmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0)
		return true;
	return inet_pton(AF_INET, host, &a) == 1 &&
	    (ntohl(a.s_addr) >> 24) == 127;
}

bool
https_url_ok(const char *url)
{
	CURLU	*u;
	char	*scheme = NULL, *host = NULL, *user = NULL, *frag = NULL;
	bool	 ok = false;

	/* '#' even when empty, which curl's parser drops silently */
	if (url == NULL || strlen(url) > HTTPS_URL_MAX ||
	    strchr(url, '#') != NULL || (u = curl_url()) == NULL)
		return false;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		goto out;
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_FRAGMENT, &frag, 0) == CURLUE_OK)
		goto out;
	if (strcmp(scheme, "https") == 0)
		ok = host[0] != '\0';
	else if (strcmp(scheme, "http") == 0)
		ok = loopback(host);
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(user);
	curl_free(frag);
	curl_url_cleanup(u);
	return ok;
}

/* A new call of c with its easy handle set for url; NULL on failure. */
static struct https_call *
call_new(struct https_client *c, const char *url, https_done_fn *done,
    void *arg)
{
	struct https_call *k;
	CURL	*e;
	int	 rc = 0;

	if (!https_url_ok(url) || (k = calloc(1, sizeof(*k))) == NULL)
		return NULL;
	k->c = c;
	k->done = done;
	k->arg = arg;
	k->next = c->calls;
	if (c->calls != NULL)
		c->calls->prev = k;
	c->calls = k;
	c->inflight++;
	if ((e = k->easy = curl_easy_init()) == NULL ||
	    (k->headers = curl_slist_append(NULL,
	    "Accept: application/json")) == NULL) {
		call_free(k);
		return NULL;
	}
#define SET(opt, val)	rc |= (int)curl_easy_setopt(e, opt, val)
	SET(CURLOPT_URL, url);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_CONNECTTIMEOUT, (long)HTTPS_CONNECT_TIMEOUT);
	SET(CURLOPT_TIMEOUT, (long)c->timeout);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	SET(CURLOPT_USERAGENT, "warden");
	SET(CURLOPT_WRITEFUNCTION, write_cb);
	SET(CURLOPT_WRITEDATA, k);
	SET(CURLOPT_ERRORBUFFER, k->curlerr);
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)HTTPS_BODY_MAX);
	if (c->ca_file != NULL)
		SET(CURLOPT_CAINFO, c->ca_file);
#undef SET
	if (rc != 0) {
		call_free(k);
		return NULL;
	}
	return k;
}

/* Starts k; NULL (k freed) when it cannot be. */
static struct https_call *
call_start(struct https_call *k)
{
	if (curl_easy_setopt(k->easy, CURLOPT_HTTPHEADER, k->headers) !=
	    CURLE_OK || curl_loop_add(k->c->loop, k->easy, finished,
	    k) == -1) {
		call_free(k);
		return NULL;
	}
	return k;
}

struct https_call *
https_get(struct https_client *c, const char *url, const char *bearer,
    https_done_fn *done, void *arg)
{
	struct https_call *k;
	struct curl_slist *h;
	char	*line;
	size_t	 n;

	if ((k = call_new(c, url, done, arg)) == NULL)
		return NULL;
	if (bearer != NULL) {
		n = strlen(bearer) + sizeof("Authorization: Bearer ");
		if ((line = malloc(n)) == NULL) {
			call_free(k);
			return NULL;
		}
		str_printf(line, n, "Authorization: Bearer %s", bearer);
		h = curl_slist_append(k->headers, line);
		str_freezero(line);	/* curl keeps its own copy */
		if (h == NULL) {
			call_free(k);
			return NULL;
		}
		k->headers = h;
	}
	return call_start(k);
}

/* s form-urlencoded (RFC 6749 2.3.1), malloc'd; NULL when out of memory. */
static char *
form_encode(CURL *e, const char *s)
{
	char	*enc, *out;

	if ((enc = curl_easy_escape(e, s, 0)) == NULL)
		return NULL;
	out = strdup(enc);
	sodium_memzero(enc, strlen(enc));
	curl_free(enc);
	return out;
}

struct https_call *
https_post_form(struct https_client *c, const char *url, const char *form,
    const char *basic_user, const char *basic_password, https_done_fn *done,
    void *arg)
{
	struct https_call *k;
	char	*u = NULL, *p = NULL;
	size_t	 n;
	int	 rc = 0;

	if ((k = call_new(c, url, done, arg)) == NULL)
		return NULL;
	if ((k->form = strdup(form)) == NULL)
		goto bad;
	if (basic_user != NULL) {
		if ((u = form_encode(k->easy, basic_user)) == NULL ||
		    (p = form_encode(k->easy, basic_password != NULL ?
		    basic_password : "")) == NULL)
			goto bad;
		n = strlen(u) + strlen(p) + 2;
		if ((k->userpwd = malloc(n)) == NULL)
			goto bad;
		str_printf(k->userpwd, n, "%s:%s", u, p);
		rc |= (int)curl_easy_setopt(k->easy, CURLOPT_HTTPAUTH,
		    (long)CURLAUTH_BASIC);
		rc |= (int)curl_easy_setopt(k->easy, CURLOPT_USERPWD,
		    k->userpwd);
	}
	rc |= (int)curl_easy_setopt(k->easy, CURLOPT_POSTFIELDS, k->form);
	rc |= (int)curl_easy_setopt(k->easy, CURLOPT_POSTFIELDSIZE,
	    (long)strlen(k->form));
	if (rc != 0)
		goto bad;
	str_freezero(u);
	str_freezero(p);
	return call_start(k);
bad:
	str_freezero(u);
	str_freezero(p);
	call_free(k);
	return NULL;
}

void
https_call_cancel(struct https_call *call)
{
	if (call == NULL)
		return;
	curl_loop_cancel(call->c->loop, call->easy);
	call_free(call);
}

size_t
https_inflight(const struct https_client *c)
{
	return c != NULL ? c->inflight : 0;
}
