/*
 * wardenctl create-admin: checks the username and e-mail address, reads
 * and vets the password, has a hasher seal it, and inserts the user with
 * the admin role and its audit event in one transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <sodium.h>

#include "config.h"
#include "ctl.h"
#include "fields.h"
#include "proto.h"
#include "util.h"

/* Inserts the admin and its audit event in one transaction.  0 or -1. */
static int
insert_admin(PGconn *conn, const char *id, const char *username,
    const char *email, const char *stored)
{
	static const char ins_user[] =
	    "INSERT INTO users (id, username, email, password_hash, roles, "
	    "email_verified) VALUES ($1, $2, $3, $4, '{admin}', true)";
	const char	*v[4] = { id, username, email, stored };

	if (ctl_begin(conn) == -1)
		return -1;
	if (ctl_exec_new_user(conn, ins_user, 4, v, username, email) == -1 ||
	    ctl_audit(conn, id, "registered", "{\"roles\":[\"admin\"]}") == -1 ||
	    ctl_commit(conn) == -1) {
		ctl_rollback(conn);
		return -1;
	}
	return 0;
}

int
cmd_create_admin(struct ctl *ctl, int argc, char **argv)
{
	const struct cfg	*cfg = &ctl->cfg;
	const char		*username, *email;
	struct secret		*pw = NULL, *again = NULL;
	struct proto_hash_ans	*ans = NULL;
	PGconn			*conn = NULL;
	char			 id[PROTO_UUID_LEN + 1];
	int			 rc = 1;

	/* No options but help: a username that starts with '-' is for
	 * ctl_new_user_ok to refuse, as before options existed. */
	if (argc == 2 && (strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0))
		return ctl_help(ctl);
	if (ctl_operands(ctl, argc - 1) == -1)
		return CTL_EXIT_USAGE;
	username = argv[1];
	email = argv[2];
	if (ctl_find_hasher(&ctl->cfg) == -1)
		return 1;
	if (ctl_new_user_ok(username, email) == -1)
		return 1;
	pw = sodium_malloc(sizeof(*pw));
	again = sodium_malloc(sizeof(*again));
	ans = sodium_malloc(sizeof(*ans));
	if (pw == NULL || again == NULL || ans == NULL) {
		fprintf(stderr, PROG ": out of memory\n");
		goto out;
	}
	memset(pw, 0, sizeof(*pw));
	memset(again, 0, sizeof(*again));
	memset(ans, 0, sizeof(*ans));

	if (ctl_read_password(pw, again) == -1)
		goto out;
	sodium_memzero(again, sizeof(*again));
	if (ctl_vet_password(cfg, pw, username, email) == -1)
		goto out;

	if ((conn = ctl_db_open(cfg)) == NULL ||
	    ctl_db_migrate(conn, false) == -1)
		goto out;
	uuid_random(id);
	if (ctl_hash_password(cfg, ctl->config_path, id, pw, ans) == -1)
		goto out;
	sodium_memzero(pw, sizeof(*pw));
	if (insert_admin(conn, id, username, email, ans->stored) == -1)
		goto out;
	printf("%s\n", id);
	rc = 0;
out:
	PQfinish(conn);
	sodium_free(pw);	/* each zeroed on free; NULL is fine */
	sodium_free(again);
	sodium_free(ans);
	return rc;
}
