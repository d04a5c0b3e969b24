/*
 * The login portal's files (ui_dir, warden.conf(5)): its page templates
 * (tmpl.h) and its stylesheet, read at start-up and on SIGHUP.  Once
 * loaded a portal is immutable: a reload makes a new one and swaps it in.
 */
#ifndef WARDEN_UI_PORTAL_H
#define WARDEN_UI_PORTAL_H

#include <stddef.h>

#include "tmpl.h"

#define PORTAL_CSS_MAX	(256 * 1024)	/* bytes of static/warden.css */

/* The pages every portal must have; a set without one does not load. */
#define PORTAL_PAGES	"login", "login_totp", "message", "register", \
			"forgot", "reset_password", "verify_email", "account", \
			"totp_setup", "recovery_codes", "consent", \
			"logout_confirm"

struct portal {
	struct tmpl_set	*pages;
	char		*css;		/* static/warden.css */
	size_t		 css_len;
};

/* Loads dir's templates and stylesheet.  NULL with the reason (naming the
 * file) in err. */
struct portal	*portal_load(const char *dir, char *err, size_t errlen);

/* Frees p (NULL is fine). */
void		 portal_free(struct portal *p);

#endif
