/*
 * portal.h: the templates through tmpl_set_load(), the stylesheet read
 * whole, never through a symbolic link (like the templates).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "portal.h"
#include "util.h"

/* Reads dir/static/warden.css into p.  0, or -1 with the reason in err. */
static int
load_css(struct portal *p, const char *dir, char *err, size_t errlen)
{
	char		 path[4096];
	struct stat	 st;
	ssize_t		 n;
	size_t		 got = 0;
	int		 fd;

	if (str_printf(path, sizeof(path), "%s/static/warden.css", dir) ==
	    -1) {
		str_printf(err, errlen, "%s: path too long", dir);
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1 ||
	    fstat(fd, &st) == -1) {
		str_printf(err, errlen, "%s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > PORTAL_CSS_MAX) {
		str_printf(err, errlen, "%s: not a regular file of at most "
		    "%d bytes", path, PORTAL_CSS_MAX);
		close(fd);
		return -1;
	}
	if ((p->css = malloc((size_t)st.st_size + 1)) == NULL) {
		str_printf(err, errlen, "%s: out of memory", path);
		close(fd);
		return -1;
	}
	while (got < (size_t)st.st_size && (n = read(fd, p->css + got,
	    (size_t)st.st_size - got)) > 0)
		got += (size_t)n;
	close(fd);
	if (got != (size_t)st.st_size) {
		str_printf(err, errlen, "%s: short read", path);
		return -1;
	}
	p->css[got] = '\0';
	p->css_len = got;
	return 0;
}

struct portal *
portal_load(const char *dir, char *err, size_t errlen)
{
	static const char *const required[] = { PORTAL_PAGES };
	struct portal	*p;
	size_t		 i;

	if ((p = calloc(1, sizeof(*p))) == NULL) {
		str_printf(err, errlen, "out of memory");
		return NULL;
	}
	if ((p->pages = tmpl_set_load(dir, err, errlen)) == NULL ||
	    load_css(p, dir, err, errlen) == -1) {
		portal_free(p);
		return NULL;
	}
	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		if (!tmpl_set_has(p->pages, required[i])) {
			str_printf(err, errlen, "%s: no %s.html", dir,
			    required[i]);
			portal_free(p);
			return NULL;
		}
	}
	return p;
}

void
portal_free(struct portal *p)
{
	if (p == NULL)
		return;
	tmpl_set_free(p->pages);
	free(p->css);
	free(p);
}
