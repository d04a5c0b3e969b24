/*
 * wardenctl: the administrator's tool.
 *
 *	wardenctl [-f config] migrate
 *	wardenctl [-f config] keygen [dir]
 *	wardenctl [-f config] create-admin username email
 *
 * A command-line program, so blocking I/O is fine here: libpq's blocking
 * calls, and a synchronous round trip to a hasher of its own.  It never
 * links the hasher's key code: keygen runs `warden-hasher --keygen`, and
 * create-admin asks a spawned hasher for the sealed hash.
 *
 * Exit status: 0 on success, 1 on errors (with the cause on stderr), 2 on
 * a usage error.  Each command is a file: migrate.c, keygen.c, admin.c
 * (with password.c and hasher.c); ctl.h is what they share.
 */
#include <errno.h>
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

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr,
	    "usage: " PROG " [-f config] migrate\n"
	    "       " PROG " [-f config] keygen [dir]\n"
	    "       " PROG " [-f config] create-admin username email\n"
	    "       " PROG " -h\n");
	exit(2);
}

static void
help(void)
{
	printf("usage: " PROG " [-f config] command [argument ...]\n"
	    "\n"
	    "  migrate                      apply pending database migrations\n"
	    "  keygen [dir]                 create or rotate the signing and pepper\n"
	    "                               keys in dir (default: key_dir)\n"
	    "  create-admin username email  create a user with the admin role;\n"
	    "                               the password is read twice from the\n"
	    "                               terminal, or as two lines from stdin\n"
	    "\n"
	    "  -f config   configuration file (default " WARDEN_CONFIG_PATH ")\n"
	    "  -h          this help\n");
}

int
main(int argc, char *argv[])
{
	struct cfg	 cfg;
	const char	*config_path = WARDEN_CONFIG_PATH, *cmd;
	bool		 explicit = false;
	char		 err[512];
	int		 ch, rc;

	if (stdfds_ensure() == -1)
		return 1;
	while ((ch = getopt(argc, argv, "+f:h")) != -1) {
		switch (ch) {
		case 'f':
			config_path = optarg;
			explicit = true;
			break;
		case 'h':
			help();
			return 0;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	cmd = argv[0];
	if (!((strcmp(cmd, "migrate") == 0 && argc == 1) ||
	    (strcmp(cmd, "keygen") == 0 && argc <= 2) ||
	    (strcmp(cmd, "create-admin") == 0 && argc == 3)))
		usage();

	/* The default file may be absent: the environment then configures. */
	if (!explicit && access(config_path, F_OK) == -1 && errno == ENOENT)
		config_path = NULL;
	cfg_defaults(&cfg);
	if (cfg_load(&cfg, config_path, err, sizeof(err)) == -1) {
		fprintf(stderr, PROG ": %s\n", err);
		cfg_free(&cfg);
		return 1;
	}
	log_init(PROG, cfg.log_level, cfg.log_format == CFG_LOG_JSON);
	if (sodium_init() < 0) {
		fprintf(stderr, PROG ": libsodium failed to initialise\n");
		cfg_free(&cfg);
		return 1;
	}
	/* A hasher that dies makes write() fail with EPIPE instead. */
	signal(SIGPIPE, SIG_IGN);

	/* keygen and create-admin run the hasher: find it before any work. */
	if (strcmp(cmd, "migrate") != 0 && ctl_find_hasher(&cfg) == -1)
		rc = 1;
	else if (strcmp(cmd, "migrate") == 0)
		rc = cmd_migrate(&cfg);
	else if (strcmp(cmd, "keygen") == 0)
		rc = cmd_keygen(&cfg, argc == 2 ? argv[1] : NULL);
	else
		rc = cmd_create_admin(&cfg, config_path, argv[1], argv[2]);
	cfg_free(&cfg);
	return rc;
}
