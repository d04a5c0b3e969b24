/*
 * Replies whose body is a cJSON tree: serialised here, in a file of its
 * own so that it reaches http_reply_raw() through the linker (the unit
 * tests replace that function to record what would be sent).
 */
#include <string.h>

#include <cjson/cJSON.h>

#include "http.h"
#include "problem.h"

void
http_reply_doc(struct http_req *r, int status, const char *ctype,
    cJSON *body)
{
	char	*s = NULL;

	if (body != NULL)
		s = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);
	if (s == NULL) {
		http_reply_raw(r, 500, PROBLEM_CTYPE, problem_oom_body,
		    strlen(problem_oom_body));
		return;
	}
	http_reply_raw(r, status, ctype, s, strlen(s));
	cJSON_free(s);
}

void
http_reply_json(struct http_req *r, int status, cJSON *body)
{
	http_reply_doc(r, status, "application/json", body);
}
