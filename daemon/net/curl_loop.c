/*
 * libcurl's multi interface on the libevent loop (curl_loop.h), after
 * curl's own docs/examples/multi-event.c.
 */
#include <stdlib.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "curl_loop.h"

/* A transfer on its way. */
struct entry {
	struct entry		*next;
	CURL			*easy;
	curl_loop_done_fn	*done;
	void			*arg;
};

struct curl_loop {
	struct event_base	*base;
	CURLM			*multi;
	struct event		*timer;
	struct entry		*entries;
	size_t			 inflight;
};

/* A socket curl asked us to watch. */
struct sock {
	struct event		*ev;
};

static void	check_done(struct curl_loop *l);

static void
sock_ev(evutil_socket_t fd, short what, void *arg)
{
	struct curl_loop *l = arg;
	int	 running, flags = 0;

	if (what & EV_READ)
		flags |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		flags |= CURL_CSELECT_OUT;
	(void)curl_multi_socket_action(l->multi, fd, flags, &running);
	check_done(l);
}

static int
sock_cb(CURL *e, curl_socket_t fd, int what, void *userp, void *sockp)
{
	struct curl_loop *l = userp;
	struct sock	*k = sockp;
	short		 kind = EV_PERSIST;

	(void)e;
	if (what == CURL_POLL_REMOVE) {
		if (k != NULL) {
			event_free(k->ev);
			free(k);
			curl_multi_assign(l->multi, fd, NULL);
		}
		return 0;
	}
	if (what & CURL_POLL_IN)
		kind |= EV_READ;
	if (what & CURL_POLL_OUT)
		kind |= EV_WRITE;
	if (k == NULL) {
		if ((k = calloc(1, sizeof(*k))) == NULL ||
		    (k->ev = event_new(l->base, fd, kind, sock_ev, l)) ==
		    NULL) {
			free(k);
			return -1;
		}
		curl_multi_assign(l->multi, fd, k);
	} else {
		event_del(k->ev);
		if (event_assign(k->ev, l->base, fd, kind, sock_ev, l) == -1)
			return -1;
	}
	return event_add(k->ev, NULL) == -1 ? -1 : 0;
}

static void
timer_ev(evutil_socket_t fd, short what, void *arg)
{
	struct curl_loop *l = arg;
	int	 running;

	(void)fd;
	(void)what;
	(void)curl_multi_socket_action(l->multi, CURL_SOCKET_TIMEOUT, 0,
	    &running);
	check_done(l);
}

static int
timer_cb(CURLM *multi, long ms, void *userp)
{
	struct curl_loop *l = userp;
	struct timeval	 tv;

	(void)multi;
	if (ms < 0)
		return evtimer_del(l->timer) == -1 ? -1 : 0;
	/* Never act from inside curl: 0 means "on the loop's next turn". */
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	return evtimer_add(l->timer, &tv) == -1 ? -1 : 0;
}

/* Unlinks and returns the entry of easy, or NULL. */
static struct entry *
take(struct curl_loop *l, CURL *easy)
{
	struct entry	**p, *e;

	for (p = &l->entries; (e = *p) != NULL; p = &e->next)
		if (e->easy == easy) {
			*p = e->next;
			l->inflight--;
			return e;
		}
	return NULL;
}

static void
check_done(struct curl_loop *l)
{
	struct entry	*e;
	CURLMsg		*m;
	CURLcode	 rc;
	CURL		*easy;
	int		 left;

	while ((m = curl_multi_info_read(l->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		easy = m->easy_handle;
		rc = m->data.result;
		curl_multi_remove_handle(l->multi, easy);
		if ((e = take(l, easy)) == NULL)
			continue;
		e->done(easy, rc, e->arg);
		free(e);
	}
}

struct curl_loop *
curl_loop_new(struct event_base *base)
{
	struct curl_loop *l;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	l->base = base;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		free(l);
		return NULL;
	}
	if ((l->multi = curl_multi_init()) == NULL ||
	    (l->timer = evtimer_new(base, timer_ev, l)) == NULL) {
		curl_loop_free(l);
		return NULL;
	}
	curl_multi_setopt(l->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(l->multi, CURLMOPT_SOCKETDATA, l);
	curl_multi_setopt(l->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(l->multi, CURLMOPT_TIMERDATA, l);
	return l;
}

void
curl_loop_free(struct curl_loop *l)
{
	struct entry	*e;

	if (l == NULL)
		return;
	while ((e = l->entries) != NULL) {
		l->entries = e->next;
		l->inflight--;
		curl_multi_remove_handle(l->multi, e->easy);
		e->done(e->easy, CURLE_ABORTED_BY_CALLBACK, e->arg);
		free(e);
	}
	if (l->multi != NULL)
		curl_multi_cleanup(l->multi);
	if (l->timer != NULL)
		event_free(l->timer);
	curl_global_cleanup();
	free(l);
}

int
curl_loop_add(struct curl_loop *l, CURL *easy, curl_loop_done_fn *done,
    void *arg)
{
	struct entry	*e;

	if ((e = calloc(1, sizeof(*e))) == NULL)
		return -1;
	e->easy = easy;
	e->done = done;
	e->arg = arg;
	/* No callback from inside: curl's timer fires on the loop. */
	if (curl_multi_add_handle(l->multi, easy) != CURLM_OK) {
		free(e);
		return -1;
	}
	e->next = l->entries;
	l->entries = e;
	l->inflight++;
	return 0;
}

void
curl_loop_cancel(struct curl_loop *l, CURL *easy)
{
	struct entry	*e;

	if (l == NULL || (e = take(l, easy)) == NULL)
		return;
	curl_multi_remove_handle(l->multi, easy);
	free(e);
}

size_t
curl_loop_inflight(const struct curl_loop *l)
{
	return l != NULL ? l->inflight : 0;
}
