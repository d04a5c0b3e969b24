/*
 * The portal's page for a problem answer (api/problem_reply.c's JSON)
 * that reached a /ui/ request by any way: a database or hasher failure,
 * a busy server, the handler's deadline, a limit, an unknown path.
 * main.c installs it with http_server_set_problem_pages(), so that a
 * browser never gets JSON.
 */
#ifndef WARDEN_UI_PROBLEM_PAGE_H
#define WARDEN_UI_PROBLEM_PAGE_H

#include <stddef.h>

struct evbuffer;
struct http_req;

/* An http_problem_page_fn; arg is the front (api/front.h). */
int	problem_page(struct http_req *r, int status, const void *data,
	    size_t len, struct evbuffer *out, void *arg);

#endif
