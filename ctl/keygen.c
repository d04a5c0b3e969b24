/*
 * wardenctl keygen: runs `<hasher_path> --publish-delay=S --keygen DIR`,
 * so that the key code stays in the hasher and wardenctl links none of it.
 * On a set in use the new keys are "next": every host publishes them once
 * it has loaded them, and signs and seals with them key_publish_delay
 * after keygen (the instant is in DIR/current, so all hosts agree); --now
 * makes them current at once (a single host, or a compromised key).
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "ctl.h"
#include "util.h"

int
ctl_getopt_now(const struct ctl *ctl, int argc, char **argv, bool *now, int *rc)
{
	static const struct option opts[] = {
		{ "now", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int	 ch;

	*now = false;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (ch == 'n') {
			*now = true;
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

const char *
ctl_keygen_delay(const struct cfg *cfg, bool at_once, char *buf,
    size_t buflen)
{
	(void)str_printf(buf, buflen, "--publish-delay=%lld",
	    at_once ? 0LL : (long long)cfg->key_publish_delay);
	return buf;
}

void
ctl_keygen_advice(const char *dir, const char *out)
{
	const char	*p;
	long long	 from;
	time_t		 t;
	struct tm	 tm;
	char		 when[32] = "?";

	if ((p = strstr(out, "\nfrom ")) == NULL ||
	    sscanf(p, "\nfrom %lld", &from) != 1)
		return;
	t = (time_t)from;
	if (gmtime_r(&t, &tm) != NULL)
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (from <= (long long)time(NULL))
		fprintf(stderr, PROG ": new current keys in %s; reload wardend "
		    "(SIGHUP, systemctl reload wardend) to sign with them (a "
		    "split-mode hasher: restart it)\n", dir);
	else
		fprintf(stderr, PROG ": new next keys in %s, signing and "
		    "sealing from %s; reload every wardend (SIGHUP) or "
		    "split-mode hasher (restart) that uses %s before then: "
		    "each publishes them in its JWKS once it has loaded them\n",
		    dir, when, dir);
}

int
cmd_keygen(struct ctl *ctl, int argc, char **argv)
{
	const char	*dir;
	char		 out[256], delay[48];
	bool		 now;
	int		 rc;

	if (ctl_getopt_now(ctl, argc, argv, &now, &rc) == -1)
		return rc;
	dir = optind < argc ? argv[optind] : NULL;
	if (dir == NULL || *dir == '\0')
		dir = ctl->cfg.key_dir;
	if (*dir == '\0') {
		fprintf(stderr, PROG ": keygen: no directory given and "
		    "key_dir is not set\n");
		return 1;
	}
	if (ctl_find_hasher(&ctl->cfg) == -1 ||
	    ctl_hasher_run(&ctl->cfg, ctl_keygen_delay(&ctl->cfg, now, delay,
	    sizeof(delay)), "--keygen", dir, out, sizeof(out)) == -1)
		return 1;
	fputs(out, stdout);
	if (fflush(stdout) != 0)
		return 1;
	ctl_keygen_advice(dir, out);
	return 0;
}
