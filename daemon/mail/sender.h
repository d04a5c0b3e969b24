/*
 * Sending one message: through libcurl's multi interface driven by the
 * libevent loop (CURLMOPT_SOCKETFUNCTION and CURLMOPT_TIMERFUNCTION become
 * events; nothing here blocks the loop, and curl_easy_perform is never
 * called), or, for a dir: transport, by writing an .eml file (a local
 * file, written at once).
 *
 * SMTP: smtp:// with STARTTLS (required or, with smtp_starttls optional,
 * when the relay offers it), smtps:// with TLS from the start, peer and
 * host verified against the system's CAs; AUTH with smtp_user and the
 * password of smtp_password_file when smtp_user is set.  A connection
 * gets MAIL_CONNECT_TIMEOUT seconds, a whole message MAIL_SEND_TIMEOUT.
 */
#ifndef WARDEN_MAIL_SENDER_H
#define WARDEN_MAIL_SENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "transport.h"

struct event_base;
struct mail_sender;

#define MAIL_CONNECT_TIMEOUT	10	/* seconds */
#define MAIL_SEND_TIMEOUT	60	/* seconds, all told */
#define MAIL_ERROR_MAX		256	/* bytes of a failure's reason */

struct mail_sender_opts {
	struct mail_transport	 transport;	/* not MAIL_OFF */
	bool			 starttls_required;
	const char		*user;		/* "" or NULL: no AUTH */
	const char		*password_file;	/* "" or NULL: none */
};

/*
 * why: NULL on success (the relay accepted the message, or the file is in
 * place), else a reason of at most MAIL_ERROR_MAX bytes, without the
 * message's text.
 */
typedef void	mail_sent_cb(const char *why, void *arg);

/*
 * Creates a sender on base.  Reads the password file now (call it before
 * privileges are dropped); the password is kept in sodium_malloc'd memory
 * and wiped when the sender is freed.  Returns NULL with a reason in err.
 */
struct mail_sender *mail_sender_new(struct event_base *base,
		    const struct mail_sender_opts *o, char *err, size_t errlen);

/*
 * Frees s: transfers in flight are abandoned, each callback called at
 * once with the reason "stopped" (the callbacks must not use s).  NULL is
 * fine.
 */
void		 mail_sender_free(struct mail_sender *s);

/*
 * Sends msg (len bytes, an RFC 5322 message with CRLF line ends) from
 * `from` to `to` (plain addresses, mail_addr_ok()).  The sender takes msg
 * (wiped and freed when done, also on error).  name (of [0-9A-Za-z_-],
 * at most 64) names the file of a dir: transport.  cb is called exactly
 * once, from the loop, never from inside this call.  Returns 0, or -1
 * when nothing was started (no callback then).
 */
int		 mail_send(struct mail_sender *s, const char *from,
		    const char *to, char *msg, size_t len, const char *name,
		    mail_sent_cb *cb, void *arg);

/* Transfers in flight. */
size_t		 mail_sender_inflight(const struct mail_sender *s);

#endif
