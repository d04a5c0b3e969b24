/*
 * wardenctl user add, user set-password and user reset-link: a user's
 * password, sealed by a hasher of our own (hasher.c), or a one-time reset
 * link made exactly as wardend makes it, so that its reset endpoint takes
 * it.
 *
 * The link is made by wardend's own mail_link_make (api/mail_link.h), and
 * stored by the store's statements (store/sql.h): the token in
 * one_time_tokens with the purpose "password_reset", and with
 * --send-reset the mail in mail_outbox, as the forgot-password flow does.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <bsd/string.h>
#include <sodium.h>

#include "b64url.h"
#include "config.h"
#include "ctl.h"
#include "fields.h"
#include "proto.h"
#include "util.h"

#include "api/mail_link.h"
#include "store/sql.h"

/* A new reset token and its link, as the mail of a forgotten password
 * has them.  0, or -1 after saying why. */
static int
link_make(struct mail_link *l, const struct cfg *cfg)
{
	if (mail_link_make(l, cfg, LINKS_PASSWORD_RESET,
	    cfg->password_reset_ttl) == 0)
		return 0;
	fprintf(stderr, PROG ": cannot make a link (is public_url too "
	    "long?)\n");
	return -1;
}

/*
 * Stores l's token for user id (one live token per user and purpose: a new
 * one replaces the old, as LINKS_TOKEN_UPSERT does), only while the user
 * is active (the reset endpoint takes no other).  With mail, queues the
 * password_reset mail with its link and counts it in mail_sends, as the
 * forgot-password flow does (store/links.c).  Returns the expiry time, or
 * NULL (said) when the user is not active or the statement failed; the
 * caller frees it.
 */
static char *
link_store(PGconn *conn, const char *id, const struct mail_link *l,
    int64_t ttl, bool mail)
{
	static const char sql[] =
	    "WITH u AS (SELECT id, username, email, token_version FROM users"
	    " WHERE id = $1 AND is_active),"
	    " t AS (" LINKS_TOKEN_UPSERT("SELECT id, 'password_reset',"
	    " $2::bytea, token_version, email,"
	    " now() + $3::bigint * interval '1 second' FROM u")
	    " RETURNING expires_at),"
	    " s AS (INSERT INTO mail_sends (user_id) SELECT id FROM u"
	    " WHERE $4::bool),"
	    " m AS (" MAIL_QUEUE " SELECT 'password_reset', email, id,"
	    " jsonb_build_object('link', $5::text, 'username', username,"
	    " 'expires_in', $6::text) FROM u WHERE $4::bool)"
	    " SELECT " CTL_TS("expires_at") " FROM t";
	char		 secs[24];
	const char	*v[6] = { id, l->hash, secs, mail ? "t" : "f",
	    mail ? l->url : NULL, l->expires_in };
	PGresult	*res;
	char		*at = NULL;

	str_printf(secs, sizeof(secs), "%lld", (long long)ttl);
	if ((res = ctl_query(conn, sql, 6, v)) == NULL)
		return NULL;
	if (PQntuples(res) != 1)
		fprintf(stderr, PROG ": the user is disabled: enable it "
		    "first\n");
	else if ((at = strdup(PQgetvalue(res, 0, 0))) == NULL)
		fprintf(stderr, PROG ": out of memory\n");
	PQclear(res);
	return at;
}

int
ctl_new_user_ok(const char *username, const char *email)
{
	if (!field_is_username(username)) {
		fprintf(stderr, PROG ": username: must be 3 to %d characters "
		    "of A-Z a-z 0-9 . _ -, starting with a letter or digit\n",
		    FIELD_USERNAME_MAX);
		return -1;
	}
	if (!field_is_email(email)) {
		fprintf(stderr, PROG ": email: must be a valid e-mail "
		    "address\n");
		return -1;
	}
	return 0;
}

/* Secrets in sodium_malloc'd memory, wiped and freed by secrets_free. */
struct secrets {
	struct secret		*pw;
	struct proto_hash_ans	*ans;
	struct mail_link	*link;
};

static int
secrets_new(struct secrets *s)
{
	s->pw = sodium_malloc(sizeof(*s->pw));
	s->ans = sodium_malloc(sizeof(*s->ans));
	s->link = sodium_malloc(sizeof(*s->link));
	if (s->pw == NULL || s->ans == NULL || s->link == NULL) {
		fprintf(stderr, PROG ": out of memory\n");
		return -1;
	}
	memset(s->pw, 0, sizeof(*s->pw));
	memset(s->ans, 0, sizeof(*s->ans));
	memset(s->link, 0, sizeof(*s->link));
	return 0;
}

static void
secrets_free(struct secrets *s)
{
	sodium_free(s->pw);	/* each zeroed on free; NULL is fine */
	sodium_free(s->ans);
	sodium_free(s->link);
}

/*
 * A password nobody knows, for an account whose user chooses one through
 * the reset mail: a sealed hash like any other, so that nothing else (the
 * count of legacy hashes, a login) tells it apart.
 */
static void
random_password(struct secret *pw)
{
	uint8_t	 raw[32];

	randombytes_buf(raw, sizeof(raw));
	b64url_encode(pw->s, sizeof(pw->s), raw, sizeof(raw));
	sodium_memzero(raw, sizeof(raw));
	pw->len = strlen(pw->s);
}

int
cmd_user_add(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "role", required_argument, NULL, 'r' },
		{ "full-name", required_argument, NULL, 'n' },
		{ "email-verified", no_argument, NULL, 'v' },
		{ "password-stdin", no_argument, NULL, 'p' },
		{ "send-reset", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char ins[] =
	    "INSERT INTO users (id, username, email, full_name, password_hash,"
	    " roles, email_verified) VALUES ($1, $2, $3, $4, $5, $6, $7)";
	const char	*roles[PROTO_ROLES_MAX], *full_name = NULL;
	const char	*username, *email, *v[7];
	char		 lit[PROTO_ROLES_MAX * (PROTO_ROLE_MAX + 1) + 3];
	char		 detail[PROTO_ROLES_MAX * (PROTO_ROLE_MAX + 3) + 16];
	char		*at = NULL;
	size_t		 nroles = 0, i;
	bool		 verified = false, from_stdin = false, reset = false;
	struct secrets	 sec = { NULL, NULL, NULL };
	PGconn		*conn = NULL;
	char		 id[FIELD_UUID_LEN + 1];
	int		 ch, rc = CTL_EXIT_FAIL;

	while ((ch = getopt_long(argc, argv, "r:n:vpsh", opts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			if (!field_is_role(optarg) ||
			    nroles == PROTO_ROLES_MAX) {
				fprintf(stderr, PROG ": --role %s: not a role "
				    "name (1 to 32 of a-z 0-9 _ -), or too "
				    "many roles\n", optarg);
				return CTL_EXIT_USAGE;
			}
			for (i = 0; i < nroles; i++)
				if (strcmp(roles[i], optarg) == 0)
					break;
			if (i == nroles)
				roles[nroles++] = optarg;
			break;
		case 'n':
			full_name = optarg;
			break;
		case 'v':
			verified = true;
			break;
		case 'p':
			from_stdin = true;
			break;
		case 's':
			reset = true;
			break;
		case 'h':
			return ctl_help(ctl);
		default:
			return ctl_bad_option(ctl, argv);
		}
	}
	if (ctl_operands(ctl, argc - optind) == -1)
		return CTL_EXIT_USAGE;
	/* No account without a way in: a password, or the mail to choose
	 * one. */
	if (from_stdin == reset) {
		fprintf(stderr, PROG ": user add: give exactly one of "
		    "--password-stdin and --send-reset\n");
		return ctl_usage(ctl);
	}
	username = argv[optind];
	email = argv[optind + 1];
	if (ctl_new_user_ok(username, email) == -1)
		return CTL_EXIT_USAGE;
	if (full_name != NULL && !field_is_full_name(full_name)) {
		fprintf(stderr, PROG ": --full-name: at most %d characters, "
		    "no control characters\n", FIELD_FULL_NAME_MAX);
		return CTL_EXIT_USAGE;
	}
	if (reset && !mail_link_mail_on(&ctl->cfg)) {
		fprintf(stderr, PROG ": --send-reset: mail_transport is off, "
		    "so no mail would go; use --password-stdin, or user "
		    "reset-link after adding\n");
		return CTL_EXIT_FAIL;
	}
	ctl_roles_literal(roles, nroles, lit, sizeof(lit));
	if (ctl_find_hasher(&ctl->cfg) == -1 || secrets_new(&sec) == -1)
		goto out;
	if (from_stdin) {
		if (ctl_read_password_line(sec.pw) == -1 ||
		    ctl_vet_password(&ctl->cfg, sec.pw, username, email) == -1)
			goto out;
	} else
		random_password(sec.pw);

	if ((conn = ctl_connect(ctl)) == NULL)
		goto out;
	uuid_random(id);
	if (ctl_hash_password(&ctl->cfg, ctl->config_path, id, sec.pw,
	    sec.ans) == -1)
		goto out;
	sodium_memzero(sec.pw, sizeof(*sec.pw));
	if (reset && link_make(sec.link, &ctl->cfg) == -1)
		goto out;

	v[0] = id;
	v[1] = username;
	v[2] = email;
	v[3] = full_name;
	v[4] = sec.ans->stored;
	v[5] = lit;
	v[6] = verified ? "t" : "f";
	/* Role names need no JSON escaping (field_is_role). */
	str_copy(detail, "{\"roles\":[", sizeof(detail));
	for (i = 0; i < nroles; i++) {
		strlcat(detail, i > 0 ? ",\"" : "\"", sizeof(detail));
		strlcat(detail, roles[i], sizeof(detail));
		strlcat(detail, "\"", sizeof(detail));
	}
	strlcat(detail, "]}", sizeof(detail));
	if (ctl_begin(conn) == -1)
		goto out;
	if (ctl_exec_new_user(conn, ins, 7, v, username, email) == -1 ||
	    ctl_audit(conn, id, "registered", detail) == -1 ||
	    (reset && ((at = link_store(conn, id, sec.link,
	    ctl->cfg.password_reset_ttl, true)) == NULL ||
	    ctl_audit(conn, id, "password_reset_requested", NULL) == -1)) ||
	    ctl_commit(conn) == -1) {
		ctl_rollback(conn);
		goto out;
	}
	printf("%s\n", id);
	if (reset)
		fprintf(stderr, PROG ": a password reset mail to %s is queued; "
		    "its link expires at %s\n", email, at);
	rc = CTL_EXIT_OK;
out:
	free(at);
	PQfinish(conn);
	secrets_free(&sec);
	return rc;
}

/* --password-stdin is the one option, and required. */
static int
password_option(const struct ctl *ctl, int argc, char **argv, int *rc)
{
	static const struct option opts[] = {
		{ "password-stdin", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool	 from_stdin = false;
	int	 ch;

	while ((ch = getopt_long(argc, argv, "ph", opts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			from_stdin = true;
			break;
		case 'h':
			*rc = ctl_help(ctl);
			return -1;
		default:
			*rc = ctl_bad_option(ctl, argv);
			return -1;
		}
	}
	if (ctl_operands(ctl, argc - optind) == -1) {
		*rc = CTL_EXIT_USAGE;
		return -1;
	}
	if (!from_stdin) {
		fprintf(stderr, PROG ": user set-password: the password comes "
		    "from standard input: give --password-stdin\n");
		*rc = ctl_usage(ctl);
		return -1;
	}
	return 0;
}

int
cmd_user_set_password(struct ctl *ctl, int argc, char **argv)
{
	/*
	 * As a reset does (store/links.c, links_reset): the new hash, a
	 * token version bump (access tokens die), the refresh tokens
	 * revoked, the login back-off cleared, the one-time links and the
	 * second steps under way voided.
	 */
	static const char set[] =
	    "WITH u AS (UPDATE users SET password_hash = $2,"
	    " token_version = token_version + 1, failed_logins = 0,"
	    " last_failed_at = NULL, locked_until = NULL, updated_at = now()"
	    " WHERE id = $1 RETURNING id),"
	    " rv AS (UPDATE refresh_tokens SET revoked_at = now()"
	    " WHERE user_id IN (SELECT id FROM u) AND revoked_at IS NULL),"
	    " d AS (UPDATE login_devices SET failed_logins = 0,"
	    " last_failed_at = NULL, locked_until = NULL"
	    " WHERE user_id IN (SELECT id FROM u)),"
	    " o AS (DELETE FROM one_time_tokens WHERE user_id IN"
	    " (SELECT id FROM u)),"
	    " mt AS (DELETE FROM mfa_tokens WHERE user_id IN (SELECT id FROM u))"
	    " SELECT id FROM u";
	struct ctl_user	 u;
	struct secrets	 sec = { NULL, NULL, NULL };
	PGconn		*conn = NULL;
	PGresult	*res;
	const char	*v[2];
	bool		 found;
	int		 rc;

	if (password_option(ctl, argc, argv, &rc) == -1)
		return rc;
	rc = CTL_EXIT_FAIL;
	if (ctl_find_hasher(&ctl->cfg) == -1 || secrets_new(&sec) == -1 ||
	    (conn = ctl_connect(ctl)) == NULL)
		goto out;
	if ((rc = ctl_user_find(conn, argv[optind], false, &u)) != 0)
		goto out;
	rc = CTL_EXIT_FAIL;
	if (ctl_read_password_line(sec.pw) == -1 ||
	    ctl_vet_password(&ctl->cfg, sec.pw, u.username, u.email) == -1 ||
	    ctl_hash_password(&ctl->cfg, ctl->config_path, u.id, sec.pw,
	    sec.ans) == -1)
		goto out;
	sodium_memzero(sec.pw, sizeof(*sec.pw));
	v[0] = u.id;
	v[1] = sec.ans->stored;
	if (ctl_begin(conn) == -1)
		goto out;
	if ((res = ctl_query(conn, set, 2, v)) == NULL) {
		ctl_rollback(conn);
		goto out;
	}
	found = PQntuples(res) == 1;
	PQclear(res);
	if (!found) {
		ctl_rollback(conn);
		fprintf(stderr, PROG ": no such user: %s\n", argv[optind]);
		rc = CTL_EXIT_NOTFOUND;
		goto out;
	}
	if (ctl_audit(conn, u.id, "password_changed", NULL) == -1 ||
	    ctl_commit(conn) == -1) {
		ctl_rollback(conn);
		goto out;
	}
	printf("password of %s set; its sessions are ended\n", u.username);
	rc = CTL_EXIT_OK;
out:
	PQfinish(conn);
	secrets_free(&sec);
	return rc;
}

int
cmd_user_reset_link(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_user	 u;
	struct secrets	 sec = { NULL, NULL, NULL };
	PGconn		*conn = NULL;
	char		*at = NULL, detail[96];
	int		 rc;

	if (ctl_getopt_plain(ctl, argc, argv, &rc) == -1)
		return rc;
	rc = CTL_EXIT_FAIL;
	if (secrets_new(&sec) == -1 || (conn = ctl_connect(ctl)) == NULL)
		goto out;
	if (ctl_begin(conn) == -1)
		goto out;
	if ((rc = ctl_user_find(conn, argv[optind], true, &u)) != 0) {
		ctl_rollback(conn);
		goto out;
	}
	rc = CTL_EXIT_FAIL;
	if (link_make(sec.link, &ctl->cfg) == -1 ||
	    (at = link_store(conn, u.id, sec.link,
	    ctl->cfg.password_reset_ttl, false)) == NULL) {
		ctl_rollback(conn);
		goto out;
	}
	str_printf(detail, sizeof(detail), "{\"expires_at\":\"%s\"}", at);
	if (ctl_audit(conn, u.id, "reset_link_issued", detail) == -1 ||
	    ctl_commit(conn) == -1) {
		ctl_rollback(conn);
		goto out;
	}
	/* The one secret wardenctl prints: what this command is for. */
	printf("%s\n", sec.link->url);
	fprintf(stderr, PROG ": a one-time link for %s, valid until %s (%s); "
	    "a new link or a password change voids it\n", u.username, at,
	    sec.link->expires_in);
	rc = CTL_EXIT_OK;
out:
	free(at);
	PQfinish(conn);
	secrets_free(&sec);
	return rc;
}
