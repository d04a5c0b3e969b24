#include "http/http.h"
#include "log.h"
#include "problem_reply.h"
#include "reply.h"

void
reply_db_failed(struct http_req *r, enum store_status st, const char *what)
{
	switch (st) {
	case STORE_UNAVAILABLE:
		log_warn("%s: the database connection failed", what);
		problem_retry(r, PROBLEM_UNAVAILABLE, 1,
		    "the database is unavailable");
		return;
	case STORE_REFUSED:
		problem_reply(r, PROBLEM_CONFLICT, "the last active admin "
		    "cannot be disabled, demoted or deleted");
		return;
	case STORE_ERROR:
		break;
	default:
		log_error("%s: unexpected answer from the store: %s", what,
		    store_status_str(st));
		break;
	}
	problem_reply(r, PROBLEM_INTERNAL, NULL);
}

bool
reply_too_late(struct http_req *r, const char *step)
{
	if (!http_req_answered(r))
		return false;
	log_info("request %s: answered before %s: stopped", r->id, step);
	return true;
}

void
reply_hasher_failed(struct http_req *r, enum hc_status st)
{
	problem_retry(r, PROBLEM_UNAVAILABLE, 1, st == HC_BUSY ?
	    "too many password operations at once: try again" :
	    "the password hasher is unavailable");
}
