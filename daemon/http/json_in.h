/*
 * Strict JSON request bodies.
 *
 * json_in_parse() accepts exactly one JSON object (RFC 8259) and nothing
 * else: the body must be valid UTF-8 (no overlong forms, no surrogates, no
 * NUL byte); outside strings only JSON whitespace (space, tab, CR, LF), no
 * byte order mark; strings without raw control characters, with valid
 * escapes only, and no \u0000 (which cJSON would cut the string at);
 * lone or reversed UTF-16 surrogate escapes are refused (cJSON refuses
 * them); numbers in the RFC 8259 grammar (no leading zeros, no "1.", no
 * "+1", no NaN); containers nested at most max_depth deep (the top object
 * is depth 1), counted before cJSON sees the text; nothing after the
 * value; no member name twice in any object, at any depth.  Any breach is
 * a 400 malformed-request.
 *
 * json_in_extract() then checks the object against the members a route
 * accepts: an unknown member, a wrong type, a null where none is allowed,
 * an overlong string, too many array items and a missing required member
 * each add one {"field", "message"} to a problem_fields, for one 422.
 *
 * Typical handler:
 *	cJSON *o;
 *	struct json_in_value v[2];
 *	struct problem_fields pf;
 *	if (json_in_request(r, cfg->json_max_depth, &o) == -1)
 *		return;				// 415 / 400 already sent
 *	problem_fields_init(&pf);
 *	if (json_in_extract(o, members, 2, v, &pf) > 0) {
 *		cJSON_Delete(o);
 *		return problem_reply_validation(r, &pf);
 *	}
 *	... v[0].str is valid while o lives ...
 */
#ifndef WARDEN_JSON_IN_H
#define WARDEN_JSON_IN_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "problem.h"

struct http_req;

#define JSON_IN_WHY_MAX	128	/* room for a json_in_parse() reason */

enum json_in_type {
	JSON_IN_STRING = 0,
	JSON_IN_BOOL,
	JSON_IN_STRING_ARRAY,
};

/* One member a route accepts. */
struct json_in_member {
	const char		*name;
	enum json_in_type	 type;
	size_t			 max_len;	/* STRING and each array item:
						 * most bytes; 0 = no bound */
	size_t			 max_items;	/* STRING_ARRAY: most items;
						 * 0 = no bound */
	bool			 required;
	bool			 nullable;	/* null is accepted (is_null) */
};

/* What json_in_extract() found for one member; pointers into the tree. */
struct json_in_value {
	bool		 present;	/* the member was in the object */
	bool		 is_null;	/* present, null, and nullable */
	const char	*str;		/* STRING: NUL-terminated UTF-8 */
	size_t		 len;		/* STRING: bytes */
	bool		 b;		/* BOOL */
	const cJSON	*array;		/* STRING_ARRAY: every item a string,
					 * walk with cJSON_ArrayForEach */
	size_t		 nitems;	/* STRING_ARRAY */
};

/*
 * Parses the len bytes of body (a NUL at body[len] saves a copy) as one
 * JSON object by the rules above.  Returns 0 with the tree in *out (the
 * caller frees it with cJSON_Delete), or -1 with a reason fit for a
 * problem's detail in why (it never quotes the body but for a short
 * duplicate member name), or -2 when out of memory.
 */
int	json_in_parse(const char *body, size_t len, unsigned int max_depth,
	    cJSON **out, char *why, size_t whylen);

/*
 * Checks obj's members against the n entries of spec and fills vals[n]
 * (index by index).  Adds one error per problem to errs and returns how
 * many it added (0: all good).  Unknown members are named in the error
 * (cut to PROBLEM_FIELD_NAME_MAX bytes); the value is never echoed.
 */
size_t	json_in_extract(const cJSON *obj, const struct json_in_member *spec,
	    size_t n, struct json_in_value *vals, struct problem_fields *errs);

#endif
