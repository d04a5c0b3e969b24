/*
 * The portal's page for a problem answer (api/problem_reply.c's JSON)
 * that reached a /ui/ request by any path: a database or hasher failure,
 * a busy server, a deadline, a limit.  main.c installs it with
 * http_server_set_problem_pages(), so that a browser never gets JSON.
 */
#ifndef WARDEN_UI_PROBLEM_PAGE_H
#define WARDEN_UI_PROBLEM_PAGE_H

#include <stddef.h>

struct http_req;

/* An http_reply_hook_fn: the message page for the problem in data. */
void	problem_page(struct http_req *r, int status, const char *ctype,
	    const void *data, size_t len, void *arg);

#endif
