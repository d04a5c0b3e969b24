/*
 * wardenctl: the administrator's tool.
 *
 *	wardenctl [-f config] command [option ...] [argument ...]
 *
 * where a command is one word (migrate, keygen, create-admin, import,
 * export) or a noun
 * and a verb (user list, session revoke, key rotate, audit tail): the rows
 * of cmds[] below, which main() dispatches and -h lists.  Each command
 * parses its own options with getopt_long and answers -h/--help.
 *
 * A command-line program, so blocking I/O is fine here: libpq's blocking
 * calls, and a synchronous round trip to a hasher of its own.  It never
 * links the hasher's key code: keygen and key runs `warden-hasher
 * --keygen/--list-keys`, and the password commands ask a spawned hasher
 * for the sealed hash.
 *
 * Exit status: 0 on success, 1 on errors (with the cause on stderr), 2 on
 * a usage error, 3 when the user, session or client named does not
 * exist.  Each command is a file (ctl.h lists them); ctl.h is what they
 * share.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "config.h"
#include "ctl.h"
#include "log.h"
#include "stdfds.h"

/*
 * The commands: {noun, verb, operands min and max, function, synopsis,
 * help}.  A new command is one more row.
 */
static const struct ctl_cmd cmds[] = {
	{ "migrate", NULL, 0, 0, cmd_migrate, "",
	    "apply pending database migrations" },
	{ "keygen", NULL, 0, 1, cmd_keygen, "[--now] [dir]",
	    "create or rotate the signing and pepper keys in dir "
	    "(default: key_dir); new keys sign after key_publish_delay" },
	{ "create-admin", NULL, 2, 2, cmd_create_admin, "username email",
	    "create a user with the admin role; the password is read twice "
	    "from the terminal, or as two lines from stdin" },
	{ "user", "list", 0, 0, cmd_user_list,
	    "[--query Q] [--role R] [--disabled] [--json]",
	    "list users, oldest first (Q: prefix of username or e-mail)" },
	{ "user", "show", 1, 1, cmd_user_show, "user [--json]",
	    "show one user (user: username, e-mail address or id)" },
	{ "user", "add", 2, 2, cmd_user_add,
	    "username email [--role R]... [--full-name F] [--email-verified]"
	    " --password-stdin | --send-reset",
	    "create a user, with a password read from stdin or a reset mail" },
	{ "user", "disable", 1, 1, cmd_user_disable, "user",
	    "disable a user and end its sessions" },
	{ "user", "enable", 1, 1, cmd_user_enable, "user",
	    "enable a disabled user" },
	{ "user", "roles", 1, 1, cmd_user_roles,
	    "user [--add R]... [--remove R]...",
	    "change a user's roles; print the resulting roles" },
	{ "user", "set-password", 1, 1, cmd_user_set_password,
	    "user --password-stdin",
	    "set a user's password (one line of stdin); ends its sessions" },
	{ "user", "reset-link", 1, 1, cmd_user_reset_link, "user",
	    "print a one-time password reset link for a user" },
	{ "user", "unlock", 1, 1, cmd_user_unlock, "user",
	    "clear a user's failed logins and login locks" },
	{ "user", "mfa-reset", 1, 1, cmd_user_mfa_reset, "user",
	    "remove a user's TOTP factor and recovery codes" },
	{ "user", "delete", 1, 1, cmd_user_delete, "user [--yes]",
	    "delete a user (asks on a terminal unless --yes)" },
	{ "session", "list", 1, 1, cmd_session_list, "user [--json]",
	    "list a user's refresh-token families" },
	{ "session", "revoke", 1, 1, cmd_session_revoke,
	    "family-id | --all user",
	    "revoke a refresh-token family, or all of a user's sessions" },
	{ "identity", "list", 0, 1, cmd_identity_list, "[user] [--json]",
	    "list the identities at upstream providers linked to accounts "
	    "(every account's, or one user's)" },
	{ "identity", "unlink", 1, 1, cmd_identity_unlink, "identity-id",
	    "unlink an identity (never an account's only way to sign in)" },
	{ "key", "list", 0, 0, cmd_key_list, "[--json]",
	    "list the signing and pepper keys of key_dir" },
	{ "key", "rotate", 0, 0, cmd_key_rotate, "[--now]",
	    "make new keys in key_dir, current after key_publish_delay "
	    "(then reload wardend)" },
	{ "client", "add", 1, 1, cmd_client_add,
	    "name --redirect-uri URI... [--public] [--post-logout-uri URI]..."
	    " [--scope S]... [--skip-consent] [--id-token-alg RS256|EdDSA]"
	    " [--json]",
	    "register an OpenID Connect client; print its id and, unless "
	    "public, its secret (shown once)" },
	{ "client", "list", 0, 0, cmd_client_list, "[--json]",
	    "list the OpenID Connect clients, oldest first" },
	{ "client", "show", 1, 1, cmd_client_show, "client-id [--json]",
	    "show one client" },
	{ "client", "remove", 1, 1, cmd_client_remove, "client-id",
	    "remove a client, its pending codes and its users' consents" },
	{ "client", "rotate-secret", 1, 1, cmd_client_rotate_secret,
	    "client-id",
	    "give a confidential client a new secret (printed once); the old "
	    "one stops working" },
	{ "import", NULL, 1, 1, cmd_import,
	    "[--dry-run] [--batch N] [--quiet] file|-",
	    "add the users of a JSON Lines file, with the password hashes of "
	    "their old system (docs/migrating.md)" },
	{ "export", NULL, 0, 1, cmd_export, "[file|-]",
	    "write every user, with warden's sealed hashes, as JSON Lines "
	    "(file: mode 0600, never overwritten)" },
	{ "audit", "tail", 0, 0, cmd_audit_tail,
	    "[-n N] [--follow] [--user U] [--event E] [--json]",
	    "print the latest audit events, oldest first" },
};
#define NCMDS	(sizeof(cmds) / sizeof(cmds[0]))

static void
print_synopsis(FILE *fp, const struct ctl_cmd *c, const char *lead)
{
	fprintf(fp, "%s" PROG " [-f config] %s%s%s%s%s\n", lead, c->noun,
	    c->verb != NULL ? " " : "", c->verb != NULL ? c->verb : "",
	    c->synopsis[0] != '\0' ? " " : "", c->synopsis);
}

/* The synopsis of every command of noun (NULL: all) on fp. */
static void
print_usage(FILE *fp, const char *noun)
{
	const char	*lead = "usage: ";
	size_t		 i;

	for (i = 0; i < NCMDS; i++) {
		if (noun != NULL && strcmp(cmds[i].noun, noun) != 0)
			continue;
		print_synopsis(fp, &cmds[i], lead);
		lead = "       ";
	}
	if (noun == NULL)
		fprintf(fp, "       " PROG " -h\n");
}

static void
help(void)
{
	size_t	 i;

	printf("usage: " PROG " [-f config] command [option ...] "
	    "[argument ...]\n\n");
	for (i = 0; i < NCMDS; i++) {
		print_synopsis(stdout, &cmds[i], "  ");
		printf("      %s\n", cmds[i].help);
	}
	printf("\n  -f config   configuration file (default "
	    WARDEN_CONFIG_PATH ")\n"
	    "  -h          this help; COMMAND -h: the command's\n"
	    "\nExit status: 0 success, 1 failure, 2 usage, "
	    "3 no such user, session or client.\n");
}

int
ctl_usage(const struct ctl *ctl)
{
	print_synopsis(stderr, ctl->cmd, "usage: ");
	return CTL_EXIT_USAGE;
}

int
ctl_help(const struct ctl *ctl)
{
	print_synopsis(stdout, ctl->cmd, "usage: ");
	printf("%s\n", ctl->cmd->help);
	return CTL_EXIT_OK;
}

int
ctl_bad_option(const struct ctl *ctl, char **argv)
{
	char		 opt[3] = { '-', (char)optopt, '\0' };
	const char	*arg = optopt != 0 ? opt :
	    optind > 0 ? argv[optind - 1] : "?";

	fprintf(stderr, PROG ": %s%s%s: unknown option, or one missing its "
	    "argument: %s\n", ctl->cmd->noun, ctl->cmd->verb != NULL ? " " : "",
	    ctl->cmd->verb != NULL ? ctl->cmd->verb : "", arg);
	return ctl_usage(ctl);
}

int
ctl_operands(const struct ctl *ctl, int n)
{
	if (n >= ctl->cmd->min_args && n <= ctl->cmd->max_args)
		return 0;
	ctl_usage(ctl);
	return -1;
}

int
ctl_getopt_plain(const struct ctl *ctl, int argc, char **argv, int *rc)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int	 ch;

	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		*rc = ch == 'h' ? ctl_help(ctl) : ctl_bad_option(ctl, argv);
		return -1;
	}
	if (ctl_operands(ctl, argc - optind) == -1) {
		*rc = CTL_EXIT_USAGE;
		return -1;
	}
	return 0;
}

int
ctl_getopt_json(const struct ctl *ctl, int argc, char **argv, bool *json,
    int *rc)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int	 ch;

	*json = false;
	while ((ch = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		if (ch == 'j') {
			*json = true;
			continue;
		}
		*rc = ch == 'h' ? ctl_help(ctl) : ctl_bad_option(ctl, argv);
		return -1;
	}
	if (ctl_operands(ctl, argc - optind) == -1) {
		*rc = CTL_EXIT_USAGE;
		return -1;
	}
	return 0;
}

/* The row for argv (noun, then verb), or NULL after the usage of the
 * noun, or of every command. */
static const struct ctl_cmd *
lookup(int argc, char **argv)
{
	bool	 noun_known = false;
	size_t	 i;

	for (i = 0; i < NCMDS; i++) {
		if (strcmp(cmds[i].noun, argv[0]) != 0)
			continue;
		noun_known = true;
		if (cmds[i].verb == NULL ||
		    (argc >= 2 && strcmp(cmds[i].verb, argv[1]) == 0))
			return &cmds[i];
	}
	if (noun_known)
		fprintf(stderr, PROG ": %s: %s%s\n", argv[0],
		    argc >= 2 ? "unknown verb " : "a verb is needed",
		    argc >= 2 ? argv[1] : "");
	else
		fprintf(stderr, PROG ": unknown command %s\n", argv[0]);
	print_usage(stderr, noun_known ? argv[0] : NULL);
	return NULL;
}

int
main(int argc, char *argv[])
{
	struct ctl	 ctl;
	char		 name[64], err[512];
	bool		 explicit = false;
	int		 ch, rc, skip;

	if (stdfds_ensure() == -1)
		return 1;
	memset(&ctl, 0, sizeof(ctl));
	ctl.config_path = WARDEN_CONFIG_PATH;
	while ((ch = getopt(argc, argv, "+f:h")) != -1) {
		switch (ch) {
		case 'f':
			ctl.config_path = optarg;
			explicit = true;
			break;
		case 'h':
			help();
			return 0;
		default:
			print_usage(stderr, NULL);
			return CTL_EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		print_usage(stderr, NULL);
		return CTL_EXIT_USAGE;
	}
	if ((ctl.cmd = lookup(argc, argv)) == NULL)
		return CTL_EXIT_USAGE;

	/* The command's own argv: its name, then its options and operands. */
	skip = ctl.cmd->verb != NULL ? 1 : 0;
	snprintf(name, sizeof(name), "%s%s%s", ctl.cmd->noun,
	    skip ? " " : "", skip ? ctl.cmd->verb : "");
	argc -= skip;
	argv += skip;
	argv[0] = name;

	/* The default file may be absent: the environment then configures. */
	if (!explicit && access(ctl.config_path, F_OK) == -1 &&
	    errno == ENOENT)
		ctl.config_path = NULL;
	cfg_defaults(&ctl.cfg);
	if (cfg_load(&ctl.cfg, ctl.config_path, err, sizeof(err)) == -1) {
		fprintf(stderr, PROG ": %s\n", err);
		cfg_free(&ctl.cfg);
		return 1;
	}
	log_init(PROG, ctl.cfg.log_level, ctl.cfg.log_format == CFG_LOG_JSON);
	if (sodium_init() < 0) {
		fprintf(stderr, PROG ": libsodium failed to initialise\n");
		cfg_free(&ctl.cfg);
		return 1;
	}
	/* A hasher that dies makes write() fail with EPIPE instead. */
	signal(SIGPIPE, SIG_IGN);

	/* A fresh getopt for the command; it says its own complaints. */
	optind = 0;
	opterr = 0;
	rc = ctl.cmd->fn(&ctl, argc, argv);
	cfg_free(&ctl.cfg);
	return rc;
}
