/*
 * The templates of outgoing mail: one text file per message in
 * mail_template_dir (warden.conf(5)), read at start-up and on SIGHUP.
 *
 * A file is header lines ("Subject: ..." is the one, and it is required),
 * an empty line, then the body.  {{link}}, {{username}} and {{expires_in}}
 * are replaced by the values of the message (mail_outbox.params); any
 * other {{...}} is an error when the file is read, so that a typo is
 * found at start-up, not in a customer's inbox.
 */
#ifndef WARDEN_MAIL_TEMPLATE_H
#define WARDEN_MAIL_TEMPLATE_H

#include <stddef.h>

#define MAIL_TEMPLATE_MAX	(64 * 1024)	/* bytes of one file */
#define MAIL_SUBJECT_MAX	200		/* bytes, after substitution */

/* The messages, by the name of their file (without .txt) and of
 * mail_outbox.template. */
enum mail_tpl {
	MAIL_TPL_VERIFY_EMAIL = 0,
	MAIL_TPL_PASSWORD_RESET,
	MAIL_TPL_EMAIL_CHANGED,
	MAIL_TPL_COUNT
};

struct mail_template {
	char	*subject;	/* with its placeholders */
	char	*body;		/* lines ending in LF, placeholders kept */
};

struct mail_templates {
	struct mail_template t[MAIL_TPL_COUNT];
};

/* What a message puts into its template; NULL values are "". */
struct mail_params {
	const char	*link;
	const char	*username;
	const char	*expires_in;
};

/* "verify_email", "password_reset", "email_changed". */
const char	*mail_tpl_name(enum mail_tpl id);

/* The id of name, or -1 when no template has that name. */
int		 mail_tpl_lookup(const char *name);

/*
 * Parses the text of one template (len bytes, no NUL inside; CRLF or LF
 * line ends) into *t (its strings malloc'd: free with
 * mail_template_clear()).  Returns 0, or -1 with a reason in err.
 */
int		 mail_template_parse(const char *text, size_t len,
		    struct mail_template *t, char *err, size_t errlen);

/* Frees the strings of t and zeroes it. */
void		 mail_template_clear(struct mail_template *t);

/*
 * Reads every template from dir (<name>.txt).  Returns a new set, or NULL
 * with the file and the reason in err.  Free with mail_templates_free().
 */
struct mail_templates *mail_templates_load(const char *dir, char *err,
		    size_t errlen);

/* Frees ts (NULL is fine). */
void		 mail_templates_free(struct mail_templates *ts);

/*
 * Replaces the placeholders of text with p's values: a new string (the
 * caller frees it), or NULL when memory ran out or a value holds a
 * control character (a value never breaks a line: no CR/LF injection).
 */
char		*mail_substitute(const char *text, const struct mail_params *p);

#endif
