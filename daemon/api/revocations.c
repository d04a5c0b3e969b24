/*
 * Revocation for forward-auth: the table and its feeding (revocations.h).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <sodium.h>

#include "config.h"
#include "fields.h"
#include "front.h"
#include "log.h"
#include "revocations.h"
#include "store/db.h"
#include "store/notify.h"
#include "store/user_changes.h"
#include "util.h"

#define SWEEP_SECONDS	1	/* expiry, retries of failed look-ups */

/* --- the table --- */

struct revtab {
	struct rev_entry **buckets;
	size_t		 nbuckets;	/* a power of two */
	size_t		 count;
	size_t		 max;
	unsigned char	 key[crypto_shorthash_KEYBYTES];
	time_t		 overflow_at;	/* tokens issued up to then ... */
	time_t		 overflow_until; /* ... are refused until then */
	uint64_t	 overflows;
};

struct revtab *
revtab_new(size_t max)
{
	struct revtab *t;
	size_t nb = 16;

	if (max == 0 || max > SIZE_MAX / 4 || sodium_init() < 0 ||
	    (t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	while (nb < max)
		nb <<= 1;
	if ((t->buckets = calloc(nb, sizeof(*t->buckets))) == NULL) {
		free(t);
		return NULL;
	}
	t->nbuckets = nb;
	t->max = max;
	/* Keyed: ids are the server's, but a chain stays short whatever. */
	crypto_shorthash_keygen(t->key);
	return t;
}

static void
entry_free(struct rev_entry *e)
{
	free(e->roles);
	free(e);
}

void
revtab_free(struct revtab *t)
{
	struct rev_entry *e, *next;

	if (t == NULL)
		return;
	for (size_t i = 0; i < t->nbuckets; i++) {
		for (e = t->buckets[i]; e != NULL; e = next) {
			next = e->next;
			entry_free(e);
		}
	}
	free(t->buckets);
	free(t);
}

static struct rev_entry **
bucket(struct revtab *t, const char *id)
{
	unsigned char h[crypto_shorthash_BYTES];
	uint64_t v;

	crypto_shorthash(h, (const unsigned char *)id, strlen(id), t->key);
	memcpy(&v, h, sizeof(v));
	return &t->buckets[v & (t->nbuckets - 1)];
}

static struct rev_entry *
lookup(struct revtab *t, const char *id)
{
	struct rev_entry *e;

	for (e = *bucket(t, id); e != NULL; e = e->next) {
		if (strcmp(e->id, id) == 0)
			return e;
	}
	return NULL;
}

void
revtab_sweep(struct revtab *t, time_t now,
    void (*pending)(struct rev_entry *, void *), void *arg)
{
	struct rev_entry **pp, *e;

	for (size_t i = 0; i < t->nbuckets; i++) {
		pp = &t->buckets[i];
		while ((e = *pp) != NULL) {
			/* A look-up running holds its entry. */
			if (e->expires <= now && !e->inflight) {
				*pp = e->next;
				entry_free(e);
				t->count--;
				continue;
			}
			if (e->expires > now && !e->known && !e->inflight &&
			    pending != NULL)
				pending(e, arg);
			pp = &e->next;
		}
	}
}

struct rev_entry *
revtab_touch(struct revtab *t, const char *id, time_t now, time_t expires)
{
	struct rev_entry *e, **b;

	if ((e = lookup(t, id)) == NULL) {
		if (t->count >= t->max)
			revtab_sweep(t, now, NULL, NULL);
		if (t->count >= t->max ||
		    (e = calloc(1, sizeof(*e))) == NULL) {
			if (t->overflow_until <= now)
				log_warn("revocations: the table of %zu users "
				    "is full: refusing every access token "
				    "issued until now", t->max);
			t->overflow_at = now;
			if (expires > t->overflow_until)
				t->overflow_until = expires;
			t->overflows++;
			return NULL;
		}
		str_copy(e->id, id, sizeof(e->id));
		b = bucket(t, id);
		e->next = *b;
		*b = e;
		t->count++;
	}
	e->known = false;
	if (expires > e->expires)
		e->expires = expires;
	return e;
}

struct rev_entry *
revtab_find(struct revtab *t, const char *id, time_t now)
{
	struct rev_entry *e = lookup(t, id);

	return e != NULL && e->expires > now ? e : NULL;
}

int
revtab_set(struct rev_entry *e, const struct user_state *s)
{
	char *roles;

	if ((roles = strdup(s->roles)) == NULL)
		return -1;
	free(e->roles);
	e->roles = roles;
	e->exists = s->exists;
	e->is_active = s->is_active;
	e->token_version = s->token_version;
	e->known = true;
	return 0;
}

/* True when the comma-separated list holds role. */
static bool
roles_hold(const char *list, const char *role)
{
	size_t len = strlen(role);
	const char *p = list;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, role, len) == 0 &&
		    (p[len] == ',' || p[len] == '\0'))
			return true;
		if ((p = strchr(p, ',')) != NULL)
			p++;
	}
	return false;
}

enum rev_verdict
revtab_check(struct revtab *t, const struct jwt_claims *c, const char *role,
    time_t now)
{
	return revtab_check_user(t, c->sub, c->ver, c->iat, role, now);
}

enum rev_verdict
revtab_check_user(struct revtab *t, const char *user_id, uint32_t ver,
    int64_t since, const char *role, time_t now)
{
	struct rev_entry *e;

	if (now < t->overflow_until &&
	    since <= (int64_t)t->overflow_at + JWT_LEEWAY_MAX)
		return REV_REVOKED;
	if ((e = revtab_find(t, user_id, now)) == NULL)
		return REV_PASS;
	if (!e->known || !e->exists || !e->is_active ||
	    e->token_version != ver)
		return REV_REVOKED;
	if (role != NULL && *role != '\0' && !roles_hold(e->roles, role))
		return REV_NO_ROLE;
	return REV_PASS;
}

size_t
revtab_count(const struct revtab *t)
{
	return t->count;
}

uint64_t
revtab_overflows(const struct revtab *t)
{
	return t->overflows;
}

/* --- on the loop --- */

struct revocations {
	struct front	*front;
	struct revtab	*tab;
	struct notify	*listener;
	struct event	*timer;
	int64_t		 ttl;		/* the longest access_token_ttl seen */
	bool		 synced;	/* a catch-up has completed */
	bool		 catching_up;	/* its query is running */
	bool		 catch_up_due;	/* one is due (again) */
	uint64_t	 notifications;
	uint64_t	 stamp;		/* states set from notifications */
	uint64_t	 catch_up_stamp; /* stamp when the catch-up was sent */
	bool		 warned;	/* a failed look-up was logged */
};

/* What a look-up answers to: the user, found again by id (its entry may
 * have been refreshed meanwhile, never freed while it runs). */
struct lookup {
	struct revocations *rv;
	char		 id[PROTO_UUID_LEN + 1];
};

static void	refresh(struct rev_entry *, void *);

/* How long after a change tokens issued before it may still pass. */
static int64_t
window(struct revocations *rv)
{
	if (rv->front->cfg->access_token_ttl > rv->ttl)
		rv->ttl = rv->front->cfg->access_token_ttl;
	return rv->ttl + REV_SLACK;
}

static void
looked_up(enum store_status st, const struct user_state *rows, size_t n,
    void *arg)
{
	struct lookup l = *(struct lookup *)arg;
	struct revocations *rv = l.rv;
	struct rev_entry *e;

	free(arg);
	if ((e = lookup(rv->tab, l.id)) == NULL)
		return;
	e->inflight = false;
	if (st != STORE_OK || n != 1) {
		/* Refused meanwhile; the sweep asks again (never from here:
		 * the pool may be shutting down). */
		if (!rv->warned)
			log_warn("revocations: cannot read a changed user: "
			    "%s; refusing its tokens until it can",
			    store_status_str(st));
		rv->warned = true;
		return;
	}
	rv->warned = false;
	if (e->again) {
		refresh(e, rv);
		return;
	}
	(void)revtab_set(e, &rows[0]);
}

/* Reads the current state of e's user (or marks it to be read again). */
static void
refresh(struct rev_entry *e, void *arg)
{
	struct revocations *rv = arg;
	struct lookup *l;

	if (e->inflight) {
		e->again = true;
		return;
	}
	e->again = false;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return;		/* the sweep tries again */
	l->rv = rv;
	str_copy(l->id, e->id, sizeof(l->id));
	if (user_changes_get(rv->front->db, e->id, looked_up, l) == -1) {
		free(l);
		return;
	}
	e->inflight = true;
}

int
revocations_parse(const char *payload, struct user_state *out)
{
	const char *p = payload, *roles;
	char	 role[PROTO_ROLE_MAX + 1];
	unsigned long long v = 0;
	size_t	 len;

	memset(out, 0, sizeof(*out));
	if (strlen(p) < PROTO_UUID_LEN ||
	    (p[PROTO_UUID_LEN] != ' ' && p[PROTO_UUID_LEN] != '\0'))
		return -1;
	memcpy(out->id, p, PROTO_UUID_LEN);
	out->id[PROTO_UUID_LEN] = '\0';
	if (!field_is_uuid(out->id)) {
		out->id[0] = '\0';
		return -1;
	}
	p += PROTO_UUID_LEN;
	if (strcmp(p, " deleted") == 0)
		return 0;
	if (*p++ != ' ' || *p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (unsigned long long)(*p - '0');
		if (v > UINT32_MAX)
			return -1;
	}
	if (p[0] != ' ' || (p[1] != 't' && p[1] != 'f') || p[2] != ' ')
		return -1;
	out->token_version = (uint32_t)v;
	out->is_active = p[1] == 't';
	roles = p + 3;
	if (str_copy(out->roles, roles, sizeof(out->roles)) == -1)
		return -1;
	/* Each role a role name (fields.h), none empty. */
	for (p = roles; *p != '\0'; p += len + (p[len] == ',')) {
		len = strcspn(p, ",");
		if (len == 0 || len >= sizeof(role) ||
		    (p[len] == ',' && p[len + 1] == '\0'))
			return -1;
		memcpy(role, p, len);
		role[len] = '\0';
		if (!field_is_role(role))
			return -1;
	}
	out->exists = true;
	return 0;
}

static void
on_event(const char *payload, void *arg)
{
	struct revocations *rv = arg;
	struct rev_entry *e;
	struct user_state s;
	time_t now = time(NULL);
	int	 rc;

	rv->notifications++;
	if ((rc = revocations_parse(payload, &s)) == -1 && s.id[0] == '\0') {
		log_warn("revocations: a notification that names no user");
		return;
	}
	if ((e = revtab_touch(rv->tab, s.id, now, now + window(rv))) == NULL)
		return;
	/* The state travels with the notification; a payload of another
	 * form is read from the database instead (refusing meanwhile). */
	if (rc == 0 && revtab_set(e, &s) == 0) {
		e->stamp = ++rv->stamp;
		/* A look-up running may have read the state before. */
		if (e->inflight)
			e->again = true;
		return;
	}
	refresh(e, rv);
}

static void	start_catch_up(struct revocations *);

static void
caught_up(enum store_status st, const struct user_state *rows, size_t n,
    void *arg)
{
	struct revocations *rv = arg;
	struct rev_entry *e;
	time_t now = time(NULL), expires;
	int64_t w = window(rv);

	rv->catching_up = false;
	if (st != STORE_OK) {
		log_warn("revocations: cannot catch up: %s; trying again",
		    store_status_str(st));
		rv->catch_up_due = true;	/* the sweep asks again */
		return;
	}
	for (size_t i = 0; i < n; i++) {
		expires = (time_t)(rows[i].changed_at + w);
		/* Our clock may be ahead of the database's. */
		if (expires <= now)
			continue;
		/* A notification that came after the catch-up was sent
		 * told a state at least as new as its row. */
		if ((e = revtab_find(rv->tab, rows[i].id, now)) != NULL &&
		    e->known && e->stamp > rv->catch_up_stamp)
			continue;
		if ((e = revtab_touch(rv->tab, rows[i].id, now,
		    expires)) == NULL)
			continue;
		if (e->inflight)
			e->again = true;
		else
			(void)revtab_set(e, &rows[i]);
	}
	log_info("revocations: caught up (%zu users changed lately)", n);
	rv->synced = true;
	/* LISTEN came back once more while this one ran. */
	if (rv->catch_up_due)
		start_catch_up(rv);
}

static void
start_catch_up(struct revocations *rv)
{
	if (rv->catching_up) {
		rv->catch_up_due = true;
		return;
	}
	rv->catch_up_due = false;
	rv->catch_up_stamp = rv->stamp;
	if (user_changes_since(rv->front->db, window(rv), caught_up,
	    rv) == 0)
		rv->catching_up = true;
	else
		rv->catch_up_due = true;
}

static void
on_up(void *arg)
{
	start_catch_up(arg);
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct revocations *rv = arg;

	revtab_sweep(rv->tab, time(NULL), refresh, rv);
	if (rv->catch_up_due && !rv->catching_up &&
	    notify_listening(rv->listener))
		start_catch_up(rv);
}

struct revocations *
revocations_new(struct event_base *base, struct front *f, const char *url,
    size_t max)
{
	static const struct notify_cbs cbs = {
		.event = on_event,
		.up = on_up,
	};
	struct timeval tv = { SWEEP_SECONDS, 0 };
	struct revocations *rv;

	if ((rv = calloc(1, sizeof(*rv))) == NULL)
		goto fail;
	rv->front = f;
	if ((rv->tab = revtab_new(max)) == NULL ||
	    (rv->timer = event_new(base, -1, EV_PERSIST, on_tick,
	    rv)) == NULL || event_add(rv->timer, &tv) == -1 ||
	    (rv->listener = notify_new(base, url, REV_CHANNEL, &cbs,
	    rv)) == NULL)
		goto fail;
	return rv;
fail:
	log_error("revocations: cannot start");
	revocations_free(rv);
	return NULL;
}

void
revocations_free(struct revocations *rv)
{
	if (rv == NULL)
		return;
	notify_free(rv->listener);
	if (rv->timer != NULL)
		event_free(rv->timer);
	revtab_free(rv->tab);
	free(rv);
}

enum rev_verdict
revocations_check(struct revocations *rv, const struct jwt_claims *c,
    const char *role, time_t now)
{
	if (rv == NULL)
		return REV_PASS;
	if (!rv->synced)
		return REV_UNSYNCED;
	return revtab_check(rv->tab, c, role, now);
}

enum rev_verdict
revocations_check_user(struct revocations *rv, const char *user_id,
    uint32_t ver, int64_t since, const char *role, time_t now)
{
	if (rv == NULL)
		return REV_PASS;
	if (!rv->synced)
		return REV_UNSYNCED;
	return revtab_check_user(rv->tab, user_id, ver, since, role, now);
}

bool
revocations_ready(const struct revocations *rv)
{
	return rv == NULL || rv->synced;
}

void
revocations_stats(const struct revocations *rv, struct rev_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (rv == NULL)
		return;
	st->listening = notify_listening(rv->listener);
	st->entries = revtab_count(rv->tab);
	st->notifications = rv->notifications;
	st->overflows = revtab_overflows(rv->tab);
}
