/*
 * wardenctl keygen: runs `<hasher_path> --keygen DIR`, so that the key code
 * stays in the hasher and wardenctl links none of it.
 */
#include <getopt.h>
#include <stdio.h>

#include "config.h"
#include "ctl.h"

int
cmd_keygen(struct ctl *ctl, int argc, char **argv)
{
	const char	*dir;
	char		 out[256];
	int		 rc;

	if (ctl_getopt_plain(ctl, argc, argv, &rc) == -1)
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
	    ctl_hasher_run(&ctl->cfg, "--keygen", dir, out, sizeof(out)) == -1)
		return 1;
	fputs(out, stdout);
	return fflush(stdout) == 0 ? 0 : 1;
}
