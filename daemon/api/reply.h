/*
 * Replies that many handlers share: a query or the hasher failed.
 */
#ifndef WARDEN_REPLY_H
#define WARDEN_REPLY_H

#include <stdbool.h>

#include <libpq-fe.h>

#include "hc/hasher_client.h"

struct http_req;

/* True when res is there and PGRES_TUPLES_OK or PGRES_COMMAND_OK. */
bool	reply_db_ok(const PGresult *res);

/*
 * Logs a failed query under what: its SQLSTATE and primary message only.
 * PostgreSQL's DETAIL may quote a row ("Failing row contains ..."), stored
 * hashes included, so it is never logged.  NULL res: a lost connection.
 */
void	reply_log_db_failure(const PGresult *res, const char *what);

/* Answers a failed query: 503 (Retry-After) when the connection failed,
 * else logs it (above) and answers 500. */
void	reply_db_failed(struct http_req *r, const PGresult *res,
	    const char *what);

/* Answers a hasher refusal or failure: 503 with Retry-After. */
void	reply_hasher_failed(struct http_req *r, enum hc_status st);

#endif
