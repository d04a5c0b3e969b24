/*
 * mail_transport (warden.conf(5)) parsed once, at the edge, into a typed
 * struct: where outgoing mail goes.  Past this parser the sender trusts
 * only the struct.
 *
 *	off				no mail (the default)
 *	smtp://host[:port]		SMTP, port 25 by default, STARTTLS
 *	smtps://host[:port]		SMTP over TLS, port 465 by default
 *	dir:/absolute/path		one .eml file per message (development)
 *
 * A host is a DNS name or an IPv4 address, or an IPv6 address in
 * brackets; no user, path, query or fragment is accepted.
 */
#ifndef WARDEN_MAIL_TRANSPORT_H
#define WARDEN_MAIL_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>

#define MAIL_HOST_MAX	253		/* a DNS name's longest spelling */
#define MAIL_DIR_MAX	1024

enum mail_kind {
	MAIL_OFF = 0,
	MAIL_SMTP,		/* smtp://, STARTTLS as smtp_starttls says */
	MAIL_SMTPS,		/* smtps://, implicit TLS */
	MAIL_DIR,		/* dir:/path */
};

struct mail_transport {
	enum mail_kind	 kind;
	char		 host[MAIL_HOST_MAX + 3];	/* with [] for IPv6 */
	unsigned int	 port;				/* 1..65535 */
	char		 dir[MAIL_DIR_MAX + 1];		/* MAIL_DIR */
};

/*
 * Parses s into *t.  Returns 0, or -1 with a reason (never quoting s
 * beyond its scheme) in err; *t is then zeroed (MAIL_OFF).
 */
int	mail_transport_parse(const char *s, struct mail_transport *t,
	    char *err, size_t errlen);

/* True unless s (a mail_transport value) is "off": whether the flows that
 * need mail may queue it.  Cheap; needs no parsed struct. */
bool	mail_transport_enabled(const char *s);

#endif
