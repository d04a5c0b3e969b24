/*
 * Reading results, for the store's modules only: the status of a result,
 * and the columns of a row into bounded struct fields.
 */
#ifndef WARDEN_STORE_ROW_H
#define WARDEN_STORE_ROW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "store.h"
#include "user_row.h"

struct db_pool;

/*
 * The status of res, the answer to the statement of what (a store
 * function's name, for the log): OK for a result with or without rows,
 * UNAVAILABLE for NULL (db.h: the connection failed), CONFLICT for a
 * unique violation (SQLSTATE 23505), else ERROR, logged with its SQLSTATE
 * and primary message.  PostgreSQL's DETAIL may quote a row ("Failing row
 * contains ..."), stored hashes included: it is never logged.
 */
enum store_status row_status(const PGresult *res, const char *what);

/*
 * Sends sql (nparams text parameters, copied) for an intent that answers
 * with its status alone, then calls cb(status, arg); with need_row, a
 * result without rows is NOT_FOUND.  what names the intent in the log.
 * Returns 0, or -1 when nothing was sent (store.h).
 */
int	row_exec(struct db_pool *pool, const char *what, const char *sql,
	    int nparams, const char *const *params, bool need_row,
	    store_done_cb *cb, void *arg);

/*
 * As row_exec() with need_row, for an intent whose statement returns an
 * id (a uuid) in the first column of its row: cb(status, id, arg).
 */
int	row_exec_id(struct db_pool *pool, const char *what, const char *sql,
	    int nparams, const char *const *params, store_id_cb *cb,
	    void *arg);

/*
 * Sends sql with the caller's own callback and its context owned, a
 * malloc()ed block that cb frees: when nothing was sent (owned NULL, or
 * the pool refused), frees owned and returns -1; else 0.
 */
int	row_send(struct db_pool *pool, const char *sql, int nparams,
	    const char *const *params, db_result_cb cb, void *owned);

/* Copies column col of row into dst (len bytes); -1 when it is NULL or
 * does not fit. */
int	row_copy(char *dst, size_t len, const PGresult *res, int row, int col);

/* True when column col of row is the boolean true. */
bool	row_bool(const PGresult *res, int row, int col);

/* Reads column col of row as an integer in [min, max]; -1 when it is
 * NULL or not one. */
int	row_int(const PGresult *res, int row, int col, long long min,
	    long long max, long long *out);

/*
 * Reads the USER_NCOLUMNS columns of USER_COLUMNS (sql.h) of row, from
 * column col, into *u.  Returns 0, or -1 (logged under what) when a value
 * does not fit its field: the constraints make that a bug, an ERROR.
 */
int	row_user(const PGresult *res, int row, int col, struct user *u,
	    const char *what);

/* The name of the constraint a failed write broke, or "". */
const char *row_constraint(const PGresult *res);

#endif
