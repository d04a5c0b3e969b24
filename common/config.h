/*
 * warden configuration: /etc/warden/warden.conf, one "keyword value" per
 * line, '#' comments, every keyword overridable by WARDEN_<KEYWORD> in the
 * environment (and database_url by DATABASE_URL).  One table in config.c
 * holds every keyword with its type, default and bounds; each keyword is
 * the field of struct cfg with the same name.
 */
#ifndef WARDEN_CONFIG_H
#define WARDEN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CFG_MAX_LINE	4096	/* longer lines are an error */
#define CFG_MAX_LIST	32	/* most values of a repeatable keyword */

enum cfg_log_format { CFG_LOG_LOGFMT, CFG_LOG_JSON };
enum cfg_registration { CFG_REGISTRATION_OPEN, CFG_REGISTRATION_CLOSED };
enum cfg_email_verification {
	CFG_EMAIL_VERIFICATION_OFF,
	CFG_EMAIL_VERIFICATION_OPTIONAL,
	CFG_EMAIL_VERIFICATION_REQUIRED,
};
enum cfg_starttls { CFG_STARTTLS_REQUIRED, CFG_STARTTLS_OPTIONAL };

/* Durations are whole seconds, sizes bytes.  Strings are never NULL once
 * loaded ("" when unset); lists hold n entries. */
struct cfg_list {
	char	*v[CFG_MAX_LIST];
	size_t	 n;
};

struct cfg {
	/* front */
	struct cfg_list listen;			/* host:port, [v6]:port, unix:/path */
	unsigned int	listen_mode;		/* octal mode of unix sockets */
	char		*listen_group;		/* their group; "" = ours */
	char		*metrics_listen;
	char		*public_url;		/* where clients reach us; from
						 * the first listen when unset */
	char		*user;
	char		*database_url;
	unsigned int	database_pool;
	unsigned int	front_processes;	/* 0: one per online CPU */
	int64_t		request_timeout;
	int64_t		read_timeout;		/* for a whole request */
	int64_t		shutdown_timeout;
	size_t		max_body_size;
	size_t		max_header_size;
	unsigned int	max_connections;	/* 0 = from the open-file
						 * limit */
	unsigned int	max_connections_per_address;	/* 0 = derived */
	unsigned int	json_max_depth;
	struct cfg_list trusted_proxies;	/* CIDR or address */
	struct cfg_list cors_origins;		/* scheme://host[:port] */
	enum cfg_registration registration;

	/* tokens */
	char		*issuer;
	char		*audience;
	char		*client_id;		/* of the first-party client */
	int64_t		access_token_ttl;
	int64_t		refresh_token_ttl;
	int64_t		refresh_grace;

	/* passwords and logins */
	unsigned int	password_min_length;
	char		*password_blocklist;
	unsigned int	login_max_failures;
	int64_t		login_lockout_max;
	int64_t		login_device_ttl;	/* a trusted device unused
						 * this long is forgotten */
	unsigned int	addr_login_limit;	/* failures per addr_login_window */
	int64_t		addr_login_window;
	unsigned int	addr_register_limit;	/* registrations per
						 * addr_register_window */
	int64_t		addr_register_window;
	unsigned int	email_change_limit;	/* PATCH /users/me e-mail
						 * changes per user and per
						 * address, per ..._window */
	int64_t		email_change_window;

	/* accounts by e-mail: verification, reset */
	enum cfg_email_verification email_verification;
	int64_t		email_verification_ttl;	/* a verification link */
	int64_t		password_reset_ttl;	/* a reset link */
	unsigned int	mail_rate;		/* mails per account per hour */
	unsigned int	addr_reset_limit;	/* reset requests per client
						 * address per hour */

	/* browser sessions of the login portal */
	int64_t		session_idle;	/* unused that long: ended */
	int64_t		session_max;	/* after the login: ended */
	int64_t		session_check;	/* a cookie is checked against the
					 * database at most this often */
	char		*session_domain;	/* forward-auth's return URLs
						 * must fall under it */
	char		*ui_dir;	/* the portal's templates and
					 * static files */
	char		*providers_dir;	/* upstream identity providers,
					 * one NAME.conf each */

	/* outgoing mail */
	char		*mail_transport;	/* smtp://, smtps://, dir:/path
						 * or "off" */
	enum cfg_starttls smtp_starttls;
	char		*smtp_user;
	char		*smtp_password_file;	/* read at start-up */
	char		*mail_from;		/* "" = warden@ public_url's host */
	char		*mail_template_dir;
	int64_t		mail_max_age;		/* then given up, audited */

	/* hasher */
	char		*hasher_path;
	char		*hasher_socket;		/* "" = spawn our own hasher */
	char		*hasher_user;
	char		*hasher_chroot;
	unsigned int	hasher_workers;		/* 0 = online CPUs */
	unsigned int	hasher_queue;
	int64_t		hasher_timeout;
	char		*key_dir;
	int64_t		key_publish_delay;	/* keygen: new keys sign
						 * (and seal) this long after
						 * they are made */
	size_t		argon2_memory;
	unsigned int	argon2_iterations;

	/* housekeeping */
	int64_t		purge_interval;		/* expired rows deleted this
						 * often (api/purger.h) */
	int64_t		audit_retention;	/* audit events older are
						 * deleted; 0: kept */

	/* logging */
	int		log_level;		/* a LOG_* of log.h */
	enum cfg_log_format log_format;
};

/*
 * Fills *c with every default.  Call before cfg_load(); cfg_free() after.
 */
void	cfg_defaults(struct cfg *c);

/*
 * Reads the file at path (NULL: no file, defaults only), then applies the
 * WARDEN_* environment overrides and DATABASE_URL (WARDEN_DATABASE_URL
 * wins), then resolves the defaults that follow other values (public_url
 * from listen, issuer from public_url).  In the file a list keyword's first line replaces the default
 * and later lines append ("" adds nothing); any other keyword given twice
 * is an error.  Values may be double-quoted ("" is empty; \" and \\
 * escape).  Returns 0, or -1 with "file:line: reason" (or
 * "WARDEN_X: reason") in err.  On error *c holds no more memory than
 * cfg_free() releases.
 */
int	cfg_load(struct cfg *c, const char *path, char *err, size_t errlen);

/*
 * Parses one "keyword value" assignment (for -o style overrides) with the
 * file's value notations.  A list keyword is replaced by the comma- or
 * space-separated entries of value, as from the environment.  Returns 0,
 * or -1 with "keyword: reason" in err, the field then unchanged.
 */
int	cfg_set(struct cfg *c, const char *keyword, const char *value,
	    char *err, size_t errlen);

/*
 * Writes every keyword with its effective value, one per line, as a config
 * file would hold it (for `wardend -t -v`).  Secrets in database_url are
 * masked.
 */
void	cfg_dump(const struct cfg *c, FILE *out);

/*
 * public_url followed by path ("/ui/login?..."), into out: cfg_load()
 * leaves public_url without a trailing '/'.  Returns 0, or -1 when it
 * does not fit (out is then "").
 */
int	cfg_url(const struct cfg *c, const char *path, char *out,
	    size_t outlen);

/* Releases every string and list entry; *c is left zeroed. */
void	cfg_free(struct cfg *c);

/*
 * Value parsers, shared with anything that reads the same notations.
 * Each returns 0, or -1 with a reason in err.
 */
int	cfg_parse_duration(const char *s, int64_t min, int64_t max,
	    int64_t *out, char *err, size_t errlen);	/* 30, 30s, 15m, 2h, 7d */
int	cfg_parse_size(const char *s, size_t min, size_t max,
	    size_t *out, char *err, size_t errlen);	/* 512, 64K, 19M */
int	cfg_parse_bool(const char *s, bool *out, char *err, size_t errlen);


#endif
