/*
 * The handlers' first look at a request body: its Content-Type, and the
 * JSON object it must hold (parsed by http/json_in.c, answered here).
 */
#ifndef WARDEN_API_BODY_H
#define WARDEN_API_BODY_H

#include <stdbool.h>

#include <cjson/cJSON.h>

struct http_req;

/* True when the Content-Type is application/json (for a PATCH also
 * application/merge-patch+json), optionally with charset=utf-8. */
bool	body_is_json(struct http_req *r);

/* True when the Content-Type is application/x-www-form-urlencoded,
 * optionally with charset=utf-8. */
bool	body_is_form(struct http_req *r);

/*
 * The handler's first step for a JSON body: checks the Content-Type
 * (else replies 415), parses r->body (else replies 400, or 500 when out
 * of memory).  Returns 0 with the object in *out, or -1 when it has
 * replied (the handler then returns without touching r).
 */
int	body_json(struct http_req *r, unsigned int max_depth, cJSON **out);

#endif
