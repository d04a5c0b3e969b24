/*
 * pg_target.h: the URL's host lists, turned for each attempt.
 */
#include <stdlib.h>
#include <string.h>

#include "pg_target.h"

#define KEEPALIVE_IDLE		"10"
#define KEEPALIVE_INTERVAL	"5"
#define KEEPALIVE_COUNT		"3"
#define TCP_USER_TIMEOUT_MS	"10000"
#define KEYS_MAX		16

static unsigned int
list_count(const char *list)
{
	unsigned int n = 1;

	for (; *list != '\0'; list++)
		if (*list == ',')
			n++;
	return n;
}

int
pg_list_rotate(const char *list, unsigned int n, unsigned int k, char *out,
    size_t outlen)
{
	const char	*p = list;
	size_t		 len = strlen(list), head;
	unsigned int	 i;

	if (len >= outlen || list_count(list) != n)
		return -1;
	if (n <= 1 || k % n == 0) {
		memcpy(out, list, len + 1);
		return 0;
	}
	for (i = 0; i < k % n; i++)
		p = strchr(p, ',') + 1;
	/* out: the tail from p, a comma, the head before it. */
	head = (size_t)(p - list) - 1;
	memcpy(out, p, len - (size_t)(p - list));
	out[len - (size_t)(p - list)] = ',';
	memcpy(out + len - (size_t)(p - list) + 1, list, head);
	out[len] = '\0';
	return 0;
}

static int
copy_opt(char **dst, const char *val)
{
	if (val == NULL || *val == '\0')
		return 0;
	return (*dst = strdup(val)) == NULL ? -1 : 0;
}

int
pg_target_init(struct pg_target *t, const char *url)
{
	PQconninfoOption *opts, *o;
	long	 secs;
	char	*end;
	int	 rc = 0;

	memset(t, 0, sizeof(*t));
	t->nhosts = 1;
	t->connect_ms = PG_CONNECT_MS_DEFAULT;
	if ((t->url = strdup(url)) == NULL ||
	    (opts = PQconninfoParse(url, NULL)) == NULL) {
		pg_target_free(t);
		return -1;
	}
	for (o = opts; o->keyword != NULL && rc == 0; o++) {
		if (strcmp(o->keyword, "host") == 0)
			rc = copy_opt(&t->host, o->val);
		else if (strcmp(o->keyword, "hostaddr") == 0)
			rc = copy_opt(&t->hostaddr, o->val);
		else if (strcmp(o->keyword, "port") == 0)
			rc = copy_opt(&t->port, o->val);
		else if (strcmp(o->keyword, "connect_timeout") == 0 &&
		    o->val != NULL && *o->val != '\0') {
			/* libpq's own reading: whole seconds, at least 2. */
			secs = strtol(o->val, &end, 10);
			if (*end == '\0' && secs > 0)
				t->connect_ms = (secs < 2 ? 2 : secs) * 1000;
		}
	}
	PQconninfoFree(opts);
	if (t->host != NULL)
		t->nhosts = list_count(t->host);
	else if (t->hostaddr != NULL)
		t->nhosts = list_count(t->hostaddr);
	if (rc == -1 || t->nhosts > PG_HOSTS_MAX) {
		pg_target_free(t);
		return -1;
	}
	return 0;
}

void
pg_target_free(struct pg_target *t)
{
	free(t->url);
	free(t->host);
	free(t->hostaddr);
	free(t->port);
	memset(t, 0, sizeof(*t));
}

void
pg_target_skip(struct pg_target *t)
{
	if (t->nhosts > 1)
		t->first = (t->first + 1) % t->nhosts;
}

int64_t
pg_target_connect_ms(const struct pg_target *t)
{
	return t->connect_ms;
}

/* Adds key = list turned by t->first, when the list has one entry per
 * host; a single port stays as it is (libpq uses it for every host). */
static void
add_turned(const struct pg_target *t, const char *key, const char *list,
    char *buf, size_t len, const char **keys, const char **values,
    size_t *n)
{
	if (list == NULL || t->first == 0 || list_count(list) != t->nhosts ||
	    pg_list_rotate(list, t->nhosts, t->first, buf, len) == -1)
		return;
	keys[*n] = key;
	values[*n] = buf;
	(*n)++;
}

PGconn *
pg_target_start(const struct pg_target *t, const char *const *ckeys,
    const char *const *cvalues)
{
	/* Earlier keys are defaults that the URL (expanded from dbname)
	 * overrides; the caller's and the turned lists come after it. */
	const char	*keys[KEYS_MAX + 1], *values[KEYS_MAX + 1];
	char		 host[1024], hostaddr[1024], port[256];
	size_t		 n = 0, i;

	keys[n] = "keepalives";			values[n++] = "1";
	keys[n] = "keepalives_idle";		values[n++] = KEEPALIVE_IDLE;
	keys[n] = "keepalives_interval";	values[n++] = KEEPALIVE_INTERVAL;
	keys[n] = "keepalives_count";		values[n++] = KEEPALIVE_COUNT;
	keys[n] = "tcp_user_timeout";		values[n++] = TCP_USER_TIMEOUT_MS;
	keys[n] = "dbname";			values[n++] = t->url;
	for (i = 0; ckeys[i] != NULL && n < KEYS_MAX - 3; i++) {
		keys[n] = ckeys[i];
		values[n++] = cvalues[i];
	}
	add_turned(t, "host", t->host, host, sizeof(host), keys, values, &n);
	add_turned(t, "hostaddr", t->hostaddr, hostaddr, sizeof(hostaddr),
	    keys, values, &n);
	add_turned(t, "port", t->port, port, sizeof(port), keys, values, &n);
	keys[n] = NULL;
	values[n] = NULL;
	return PQconnectStartParams(keys, values, 1);
}
