/*
 * Problem answers as pages (problem_page.h).  The heading and sentence
 * are the portal's own, by status: a problem's detail is written for API
 * clients and may name internals; only a 4xx's detail is shown, under
 * the heading.  Headers the problem set (Retry-After above all) stay.
 */
#include <string.h>

#include <cjson/cJSON.h>

#include "api/front.h"
#include "http/http.h"
#include "page.h"
#include "problem_page.h"

struct wording {
	int		 status;
	const char	*heading;
	const char	*text;
};

static const struct wording wordings[] = {
	{ 400, "Request not understood", NULL },
	{ 403, "Not allowed", NULL },
	{ 404, "Page not found", NULL },
	{ 405, "Page not found", NULL },
	{ 429, "Too many attempts",
	    "Please wait a little, then try again." },
	{ 503, "Not available right now",
	    "This server is busy or cannot reach what it needs. "
	    "Please try again in a moment." },
};

#define SERVER_ERROR_HEADING	"Something went wrong"
#define SERVER_ERROR_TEXT	"This server could not finish the request. " \
				"Please try again."

int
problem_page(struct http_req *r, int status, const void *data, size_t len,
    struct evbuffer *out, void *arg)
{
	const struct front *f = arg;
	const char	*heading = NULL, *text = NULL, *detail = NULL;
	cJSON		*problem = NULL, *view;

	for (size_t i = 0; i < sizeof(wordings) / sizeof(wordings[0]); i++)
		if (wordings[i].status == status) {
			heading = wordings[i].heading;
			text = wordings[i].text;
		}
	if (status >= 500 && heading == NULL) {
		heading = SERVER_ERROR_HEADING;
		text = SERVER_ERROR_TEXT;
	}
	if (status < 500 && data != NULL && len > 0 &&
	    (problem = cJSON_ParseWithLength(data, len)) != NULL) {
		detail = cJSON_GetStringValue(cJSON_GetObjectItem(problem,
		    "detail"));
		if (heading == NULL)
			heading = cJSON_GetStringValue(
			    cJSON_GetObjectItem(problem, "title"));
	}
	if (heading == NULL)
		heading = SERVER_ERROR_HEADING;
	if (text == NULL)
		text = detail;
	if ((view = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(view, "title", heading) == NULL ||
	    cJSON_AddStringToObject(view, "heading", heading) == NULL ||
	    (text != NULL && cJSON_AddStringToObject(view, "error",
	    text) == NULL) ||
	    cJSON_AddStringToObject(view, "link_path", "/ui/login") == NULL ||
	    cJSON_AddStringToObject(view, "link_text", "Back to sign in") ==
	    NULL) {
		cJSON_Delete(view);
		view = NULL;
	}
	cJSON_Delete(problem);
	/* Without a view the page cannot say more than its status: NULL
	 * renders the template empty, which still is a page. */
	if (page_render(f, "message", view, out) == -1)
		return -1;
	page_headers(r);
	return 0;
}
