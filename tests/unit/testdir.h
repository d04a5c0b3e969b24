/*
 * Temporary directories of the tests and the benchmark.  static inline, so
 * each program takes only what it uses.
 */
#ifndef WARDEN_TESTS_TESTDIR_H
#define WARDEN_TESTS_TESTDIR_H

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Removes path and everything below it, never following a link. */
static inline void
rm_tree(const char *path)
{
	DIR		*d;
	struct dirent	*de;
	char		 sub[PATH_MAX];
	struct stat	 st;

	if (lstat(path, &st) == -1)
		return;
	if (!S_ISDIR(st.st_mode)) {
		unlink(path);
		return;
	}
	if ((d = opendir(path)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			if (snprintf(sub, sizeof(sub), "%s/%s", path,
			    de->d_name) >= (int)sizeof(sub))
				continue;	/* cannot be ours: too deep */
			rm_tree(sub);
		}
		closedir(d);
	}
	rmdir(path);
}

#endif
