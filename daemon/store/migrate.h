/*
 * Schema migrations: the numbered files daemon/migrations/NNNN_name.sql,
 * compiled into the binary in order (scripts/embed-sql makes the table) and
 * applied at start-up by wardend and by `wardenctl migrate`.  These use
 * libpq's blocking calls: never call them once the event loop runs.
 */
#ifndef WARDEN_MIGRATE_H
#define WARDEN_MIGRATE_H

#include <stddef.h>

#include <libpq-fe.h>

struct migration {
	int		 version;	/* NNNN, strictly increasing */
	const char	*name;		/* "0001_init.sql" */
	const char	*sql;		/* NUL-terminated file contents */
	size_t		 len;		/* bytes of sql */
};

/* The compiled-in migrations, in version order (generated). */
extern const struct migration	migrate_files[];
extern const size_t		migrate_nfiles;

/*
 * Applies the compiled-in migrations that conn's database lacks, each in
 * its own transaction recorded in schema_migrations(version, name,
 * applied_at), all under a session advisory lock so that concurrent
 * runners wait for each other.  Returns how many were applied (0: the
 * schema was current), or -1 with "NNNN_name.sql: reason" in err; a failed
 * file leaves no trace and the ones before it stay applied.
 */
int	migrate_run(PGconn *conn, char *err, size_t errlen);

/* migrate_run() with the n migrations of list (for tests). */
int	migrate_apply(PGconn *conn, const struct migration *list, size_t n,
	    char *err, size_t errlen);

/*
 * The newest version recorded in conn's database: 0 when none is, -1 with
 * a reason in err when it cannot be read.
 */
int	migrate_current(PGconn *conn, char *err, size_t errlen);

#endif
