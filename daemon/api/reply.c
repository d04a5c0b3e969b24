#include "http/http.h"
#include "log.h"
#include "problem_reply.h"
#include "reply.h"

bool
reply_db_ok(const PGresult *res)
{
	return res != NULL && (PQresultStatus(res) == PGRES_TUPLES_OK ||
	    PQresultStatus(res) == PGRES_COMMAND_OK);
}

void
reply_log_db_failure(const PGresult *res, const char *what)
{
	const char *state, *msg;

	if (res == NULL) {
		log_warn("%s: the database connection failed", what);
		return;
	}
	state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	log_error("%s: query failed: sqlstate=%s %s", what,
	    state != NULL ? state : "none", msg != NULL ? msg :
	    PQresStatus(PQresultStatus(res)));
}

void
reply_db_failed(struct http_req *r, const PGresult *res, const char *what)
{
	reply_log_db_failure(res, what);
	if (res == NULL)
		problem_retry(r, PROBLEM_UNAVAILABLE, 1,
		    "the database is unavailable");
	else
		problem_reply(r, PROBLEM_INTERNAL, NULL);
}

void
reply_hasher_failed(struct http_req *r, enum hc_status st)
{
	problem_retry(r, PROBLEM_UNAVAILABLE, 1, st == HC_BUSY ?
	    "too many password operations at once: try again" :
	    "the password hasher is unavailable");
}
