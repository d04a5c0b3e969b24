/*
 * wardenctl migrate, and the database connection create-admin shares:
 * libpq's blocking calls, fine in a command-line program.
 */
#include <stdbool.h>
#include <stdio.h>

#include <libpq-fe.h>

#include "config.h"
#include "ctl.h"

#include "store/migrate.h"

PGconn *
ctl_db_open(const struct cfg *cfg)
{
	PGconn	*conn;

	if (cfg->database_url[0] == '\0') {
		fprintf(stderr, PROG ": database_url is not set\n");
		return NULL;
	}
	/* A bound on connecting, unless the URL sets one: a first host of a
	 * multi-host URL that went silent is passed over after it. */
	conn = PQconnectdbParams((const char *const []){ "connect_timeout",
	    "dbname", NULL }, (const char *const []){ "5", cfg->database_url,
	    NULL }, 1);
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
		/* libpq's message names the server, never the password. */
		fprintf(stderr, PROG ": database: %s",
		    conn != NULL ? PQerrorMessage(conn) : "out of memory\n");
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

int
ctl_db_migrate(PGconn *conn, bool verbose)
{
	char	 err[512];
	int	 n;

	if ((n = migrate_run(conn, err, sizeof(err))) == -1) {
		fprintf(stderr, PROG ": migrate: %s\n", err);
		return -1;
	}
	if (verbose) {
		if (n == 0)
			printf("schema is current\n");
		else
			printf("applied %d migration%s\n", n, n == 1 ? "" : "s");
	}
	return 0;
}

int
cmd_migrate(struct ctl *ctl, int argc, char **argv)
{
	PGconn	*conn;
	int	 rc;

	if (ctl_getopt_plain(ctl, argc, argv, &rc) == -1)
		return rc;
	if ((conn = ctl_db_open(&ctl->cfg)) == NULL)
		return 1;
	rc = ctl_db_migrate(conn, true) == 0 ? 0 : 1;
	PQfinish(conn);
	return rc;
}
