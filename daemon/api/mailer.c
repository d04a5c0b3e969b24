/*
 * The mail worker (mailer.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <sodium.h>

#include "config.h"
#include "log.h"
#include "mail/message.h"
#include "mail/sender.h"
#include "mail/template.h"
#include "mail/transport.h"
#include "mailer.h"
#include "store/notify.h"
#include "store/outbox.h"
#include "util.h"

struct mailer {
	struct event_base	*base;
	bool			 enabled;
	bool			 running;	/* started, not stopped */
	bool			 quiet;		/* no more claims */
	struct mail_transport	 transport;
	char			 from[MAIL_ADDR_MAX + 1];
	int64_t			 max_age;
	struct mail_templates	*templates;
	struct mail_sender	*sender;
	struct db_pool		*pool;
	struct notify		*listen;
	struct event		*tick;
	bool			 claiming;	/* a claim is running */
	bool			 again;		/* woken while claiming */
	bool			 expiring;
	bool			 counting;
	size_t			 inflight;	/* rows claimed, not settled */
	struct mailer_stats	 st;
};

/* One claimed row on its way: sent, then deleted or rescheduled. */
struct job {
	struct mailer	*m;
	int64_t		 id;
	int		 attempts;
	char		 tpl[33];
};

static void	claim(struct mailer *);

/* ---- settings ---- */

static int
resolve_from(const struct cfg *cfg, char *dst, size_t len, char *err,
    size_t errlen)
{
	if (cfg->mail_from[0] != '\0') {
		if (str_copy(dst, cfg->mail_from, len) == -1 ||
		    !mail_addr_ok(dst)) {
			str_copy(err, "mail_from: a plain address "
			    "(local@domain) is needed", errlen);
			return -1;
		}
		return 0;
	}
	if (mail_default_from(cfg->public_url, dst, len) == -1 ||
	    !mail_addr_ok(dst)) {
		str_copy(err, "mail_from: no default from public_url's host: "
		    "set mail_from", errlen);
		return -1;
	}
	return 0;
}

int
mailer_check(const struct cfg *cfg, char *err, size_t errlen)
{
	struct mail_transport t;
	struct mail_templates *ts;
	char	 from[MAIL_ADDR_MAX + 1], why[512];

	if (mail_transport_parse(cfg->mail_transport, &t, err, errlen) == -1)
		return -1;
	if (t.kind == MAIL_OFF)
		return 0;
	if (resolve_from(cfg, from, sizeof(from), err, errlen) == -1)
		return -1;
	if ((ts = mail_templates_load(cfg->mail_template_dir, why,
	    sizeof(why))) == NULL) {
		(void)str_printf(err, errlen, "mail_template_dir: %s", why);
		return -1;
	}
	mail_templates_free(ts);
	return 0;
}

struct mailer *
mailer_new(struct event_base *base, const struct cfg *cfg, char *err,
    size_t errlen)
{
	struct mailer *m;
	struct mail_sender_opts o;
	char	 why[512];

	if ((m = calloc(1, sizeof(*m))) == NULL) {
		str_copy(err, "out of memory", errlen);
		return NULL;
	}
	m->base = base;
	m->max_age = cfg->mail_max_age;
	if (mail_transport_parse(cfg->mail_transport, &m->transport, err,
	    errlen) == -1)
		goto bad;
	if (m->transport.kind == MAIL_OFF)
		return m;
	m->enabled = true;
	if (resolve_from(cfg, m->from, sizeof(m->from), err, errlen) == -1)
		goto bad;
	if ((m->templates = mail_templates_load(cfg->mail_template_dir, why,
	    sizeof(why))) == NULL) {
		(void)str_printf(err, errlen, "mail_template_dir: %s", why);
		goto bad;
	}
	memset(&o, 0, sizeof(o));
	o.transport = m->transport;
	o.starttls_required = cfg->smtp_starttls == CFG_STARTTLS_REQUIRED;
	o.user = cfg->smtp_user;
	o.password_file = cfg->smtp_password_file;
	if ((m->sender = mail_sender_new(base, &o, err, errlen)) == NULL)
		goto bad;
	return m;
bad:
	mailer_free(m);
	return NULL;
}

int
mailer_reload(struct mailer *m, const struct cfg *cfg, char *err,
    size_t errlen)
{
	struct mail_templates *ts;
	char	 why[512];

	if (m == NULL || !m->enabled)
		return 0;
	if ((ts = mail_templates_load(cfg->mail_template_dir, why,
	    sizeof(why))) == NULL) {
		(void)str_printf(err, errlen, "mail_template_dir: %s", why);
		return -1;
	}
	mail_templates_free(m->templates);
	m->templates = ts;
	return 0;
}

/* ---- one row ---- */

static void
settled(enum store_status st, void *arg)
{
	struct job *j = arg;
	struct mailer *m = j->m;

	if (st != STORE_OK && m->running)
		log_warn("mail: message %lld: cannot update the outbox (%s); "
		    "it is due again when its lease runs out",
		    (long long)j->id, store_status_str(st));
	m->inflight--;
	free(j);
	/* A full batch may have left more due rows. */
	if (m->running && !m->quiet)
		claim(m);
}

static void
retry(struct job *j, const char *why)
{
	struct mailer *m = j->m;

	m->st.failed++;
	log_warn("mail: message %lld (%s), attempt %d, failed: %s",
	    (long long)j->id, j->tpl, j->attempts, why);
	if (outbox_retry(m->pool, j->id, why, settled, j) == -1)
		settled(STORE_ERROR, j);
}

static void
sent(const char *why, void *arg)
{
	struct job *j = arg;
	struct mailer *m = j->m;

	if (!m->running) {
		/* Stopping: the row is due again when its lease runs out. */
		m->inflight--;
		free(j);
		return;
	}
	if (why != NULL) {
		retry(j, why);
		return;
	}
	m->st.sent++;
	log_info("mail: message %lld (%s) sent", (long long)j->id, j->tpl);
	if (outbox_sent(m->pool, j->id, settled, j) == -1)
		settled(STORE_ERROR, j);
}

/* Builds and sends row r. */
static void
send_row(struct mailer *m, const struct outbox_row *r)
{
	struct mail_params p;
	struct mail_head h;
	struct job *j;
	char	 err[256], name[32];
	char	*msg;
	size_t	 len;
	int	 tpl;

	if ((j = calloc(1, sizeof(*j))) == NULL) {
		log_error("mail: out of memory; message %lld is due again "
		    "when its lease runs out", (long long)r->id);
		return;
	}
	j->m = m;
	j->id = r->id;
	j->attempts = r->attempts;
	(void)str_copy(j->tpl, r->template, sizeof(j->tpl));
	m->inflight++;
	if ((tpl = mail_tpl_lookup(r->template)) == -1) {
		retry(j, "no such template");
		return;
	}
	p.link = r->link;
	p.username = r->username;
	p.expires_in = r->expires_in;
	h.from = m->from;
	h.to = r->recipient;
	h.date = time(NULL);
	if ((msg = mail_message_build(&m->templates->t[tpl], &p, &h, &len,
	    err, sizeof(err))) == NULL) {
		retry(j, err);
		return;
	}
	(void)str_printf(name, sizeof(name), "%" PRId64, r->id);
	if (mail_send(m->sender, m->from, r->recipient, msg, len, name, sent,
	    j) == -1)
		retry(j, "cannot start sending");
}

/* ---- the loop ---- */

static void
claimed(enum store_status st, const struct outbox_row *rows, size_t n,
    void *arg)
{
	struct mailer *m = arg;
	size_t	 i;

	m->claiming = false;
	if (!m->running)
		return;
	if (st != STORE_OK) {
		log_warn("mail: cannot claim from the outbox: %s",
		    store_status_str(st));
		return;
	}
	for (i = 0; i < n && !m->quiet; i++)
		send_row(m, &rows[i]);
	if (m->again) {
		m->again = false;
		claim(m);
	}
}

/* Claims as many due rows as there is room for. */
static void
claim(struct mailer *m)
{
	if (!m->running || m->quiet)
		return;
	if (m->claiming) {
		m->again = true;
		return;
	}
	if (m->inflight >= MAILER_INFLIGHT)
		return;
	m->claiming = true;
	if (outbox_claim(m->pool, (unsigned int)(MAILER_INFLIGHT -
	    m->inflight), MAILER_LEASE, claimed, m) == -1) {
		m->claiming = false;
		log_warn("mail: cannot claim from the outbox: out of memory");
	}
}

static void
expired(enum store_status st, uint64_t n, void *arg)
{
	struct mailer *m = arg;

	m->expiring = false;
	if (!m->running)
		return;
	if (st != STORE_OK)
		return;
	if (n > 0) {
		m->st.given_up += n;
		log_warn("mail: gave up %" PRIu64 " message%s older than "
		    "mail_max_age (audited as mail_failed)", n,
		    n == 1 ? "" : "s");
	}
}

static void
counted(enum store_status st, const struct outbox_stats *s, void *arg)
{
	struct mailer *m = arg;

	m->counting = false;
	if (st == STORE_OK && s != NULL) {
		m->st.queued = s->queued;
		m->st.oldest_age = s->oldest_age;
	}
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct mailer *m = arg;

	if (!m->running)
		return;
	if (!m->expiring && !m->quiet) {
		m->expiring = true;
		if (outbox_expire(m->pool, m->max_age, expired, m) == -1)
			m->expiring = false;
	}
	if (!m->counting) {
		m->counting = true;
		if (outbox_stats(m->pool, counted, m) == -1)
			m->counting = false;
	}
	claim(m);
}

static void
on_notify(const char *payload, void *arg)
{
	claim(arg);
}

/* LISTEN is in force again: what was queued meanwhile is due. */
static void
on_listen_up(void *arg)
{
	claim(arg);
}

int
mailer_start(struct mailer *m, struct db_pool *pool, const char *url)
{
	struct notify_cbs cbs = { on_notify, on_listen_up, NULL };
	struct timeval tv = { MAILER_POLL, 0 };

	if (m == NULL || !m->enabled)
		return 0;
	m->pool = pool;
	if (m->transport.kind == MAIL_DIR &&
	    access(m->transport.dir, W_OK) == -1)
		log_warn("mail: %s is not writable: mail stays queued until "
		    "it is", m->transport.dir);
	if ((m->tick = event_new(m->base, -1, EV_PERSIST, on_tick,
	    m)) == NULL || event_add(m->tick, &tv) == -1 ||
	    (m->listen = notify_new(m->base, url, OUTBOX_CHANNEL, &cbs,
	    m)) == NULL) {
		log_error("mail: cannot start the worker");
		return -1;
	}
	m->running = true;
	/* The first poll now (its queries answer from the loop). */
	on_tick(-1, 0, m);
	if (m->transport.kind == MAIL_DIR)
		log_info("mail: writing messages to %s", m->transport.dir);
	else
		log_info("mail: sending through %s://%s:%u",
		    m->transport.kind == MAIL_SMTPS ? "smtps" : "smtp",
		    m->transport.host, m->transport.port);
	return 0;
}

void
mailer_quiesce(struct mailer *m)
{
	if (m != NULL)
		m->quiet = true;
}

void
mailer_stop(struct mailer *m)
{
	if (m == NULL)
		return;
	m->running = false;
	mail_sender_free(m->sender);
	m->sender = NULL;
	notify_free(m->listen);
	m->listen = NULL;
	if (m->tick != NULL)
		event_free(m->tick);
	m->tick = NULL;
}

void
mailer_free(struct mailer *m)
{
	if (m == NULL)
		return;
	mailer_stop(m);
	mail_templates_free(m->templates);
	free(m);
}

void
mailer_get_stats(const struct mailer *m, struct mailer_stats *s)
{
	if (m == NULL) {
		memset(s, 0, sizeof(*s));
		return;
	}
	*s = m->st;
	s->enabled = m->enabled;
}
