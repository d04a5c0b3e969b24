/*
 * wardenctl key list and key rotate: the key set of key_dir, read and made
 * by the hasher binary (warden-hasher --list-keys / --keygen), so that
 * wardenctl links none of the key code and prints nothing secret.
 * A running wardend takes new keys on SIGHUP (it restarts its spawned
 * hasher) or a restart; a split-mode hasher on its own restart.  A key is
 * current (it signs or seals now), next (published, and current from an
 * instant on) or retired (kept to verify and unseal what it made).
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <libpq-fe.h>

#include "config.h"
#include "ctl.h"
#include "fields.h"
#include "table.h"
#include "util.h"

/* What --list-keys prints for PROTO_KEYS_MAX keys of each kind, with
 * room to spare. */
#define LIST_MAX	8192

/* One line of --list-keys. */
struct key_line {
	char		 kind[8];		/* sign, rsa, pepper */
	char		 kid[FIELD_KID_MAX + 1];
	bool		 current;
	char		 state[8];		/* current, next, retired */
	char		 from[32];		/* a next key's instant, or "" */
	char		 created[32];		/* RFC 3339, or "" */
	char		 fingerprint[64];	/* "" for pepper keys */
};

/* t as RFC 3339 UTC into out[32], or "" when t is not positive. */
static void
rfc3339(long long t, char out[32])
{
	time_t		 tt = (time_t)t;
	struct tm	 tm;

	out[0] = '\0';
	if (t > 0 && gmtime_r(&tt, &tm) != NULL)
		strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Parses a line "kind kid current|next@<t>|old mtime fingerprint|-".
 * 0 or -1. */
static int
parse_line(const char *line, struct key_line *k)
{
	char		 state[32], fp[64];
	long long	 mtime, from;

	memset(k, 0, sizeof(*k));
	if (sscanf(line, "%7s %" STRINGIFY(FIELD_KID_MAX) "s %31s %lld %63s",
	    k->kind, k->kid, state, &mtime, fp) != 5 ||
	    (strcmp(k->kind, "sign") != 0 && strcmp(k->kind, "rsa") != 0 &&
	    strcmp(k->kind, "pepper") != 0) ||
	    !field_is_kid(k->kid))
		return -1;
	k->current = strcmp(state, "current") == 0;
	if (k->current)
		str_copy(k->state, "current", sizeof(k->state));
	else if (strcmp(state, "old") == 0)
		str_copy(k->state, "retired", sizeof(k->state));
	else if (sscanf(state, "next@%lld", &from) == 1 && from > 0) {
		str_copy(k->state, "next", sizeof(k->state));
		rfc3339(from, k->from);
	} else
		return -1;
	if (strcmp(fp, "-") != 0)
		str_copy(k->fingerprint, fp, sizeof(k->fingerprint));
	rfc3339(mtime, k->created);
	return 0;
}

/* The kind as wardenctl shows it: Ed25519 and RSA signing keys, pepper. */
static const char *
kind_label(const struct key_line *k)
{
	if (strcmp(k->kind, "sign") == 0)
		return "signing";
	if (strcmp(k->kind, "rsa") == 0)
		return "signing-rsa";
	return "pepper";
}

static const char *
key_dir(const struct ctl *ctl)
{
	if (ctl->cfg.key_dir[0] == '\0') {
		fprintf(stderr, PROG ": key_dir is not set\n");
		return NULL;
	}
	return ctl->cfg.key_dir;
}

static cJSON *
key_json(const struct key_line *k)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL)
		return NULL;
	cJSON_AddStringToObject(o, "kid", k->kid);
	cJSON_AddStringToObject(o, "kind", kind_label(k));
	cJSON_AddBoolToObject(o, "current", k->current);
	cJSON_AddStringToObject(o, "state", k->state);
	if (k->from[0] != '\0')
		cJSON_AddStringToObject(o, "active_from", k->from);
	else
		cJSON_AddNullToObject(o, "active_from");
	if (k->created[0] != '\0')
		cJSON_AddStringToObject(o, "created_at", k->created);
	else
		cJSON_AddNullToObject(o, "created_at");
	if (k->fingerprint[0] != '\0')
		cJSON_AddStringToObject(o, "fingerprint", k->fingerprint);
	else
		cJSON_AddNullToObject(o, "fingerprint");
	return o;
}

int
cmd_key_list(struct ctl *ctl, int argc, char **argv)
{
	static const char *const headers[] = {
		"KIND", "KID", "STATE", "CREATED", "FINGERPRINT (JWK SHA-256)",
	};
	struct key_line	 k;
	struct table	*t = NULL;
	char		 state[48];
	const char	*dir;
	char		*out, *line, *p;
	bool		 json = false, first;
	int		 rc = CTL_EXIT_FAIL;

	if (ctl_getopt_json(ctl, argc, argv, &json, &rc) == -1)
		return rc;
	if ((dir = key_dir(ctl)) == NULL || ctl_find_hasher(&ctl->cfg) == -1)
		return CTL_EXIT_FAIL;
	if ((out = malloc(LIST_MAX)) == NULL) {
		fprintf(stderr, PROG ": out of memory\n");
		return CTL_EXIT_FAIL;
	}
	if (ctl_hasher_run(&ctl->cfg, NULL, "--list-keys", dir, out,
	    LIST_MAX) == -1)
		goto out;
	if (json ? table_json_begin(stdout, &first) == -1 :
	    (t = table_new(sizeof(headers) / sizeof(headers[0]),
	    headers)) == NULL)
		goto out;
	for (p = out; (line = strsep(&p, "\n")) != NULL;) {
		if (*line == '\0')
			continue;
		if (parse_line(line, &k) == -1) {
			fprintf(stderr, PROG ": %s --list-keys: unexpected "
			    "output\n", ctl->cfg.hasher_path);
			goto out;
		}
		if (json) {
			if (table_json_item(stdout, key_json(&k), &first) == -1)
				goto out;
			continue;
		}
		if (k.from[0] != '\0')
			str_printf(state, sizeof(state), "next from %s",
			    k.from);
		else
			str_copy(state, k.state, sizeof(state));
		const char *cells[] = {
			kind_label(&k),
			k.kid, state, k.created,
			k.fingerprint,
		};
		if (table_add(t, cells) == -1)
			goto out;
	}
	if (json ? table_json_end(stdout) == -1 : table_print(t, stdout) == -1)
		goto out;
	rc = CTL_EXIT_OK;
out:
	table_free(t);
	free(out);
	return rc;
}

int
cmd_key_rotate(struct ctl *ctl, int argc, char **argv)
{
	char		 out[256], sign[FIELD_KID_MAX + 1];
	char		 pepper[FIELD_KID_MAX + 1], rsa[FIELD_KID_MAX + 1];
	char		 detail[256], delay[48];
	long long	 from;
	const char	*dir, *p;
	PGconn		*conn;
	bool		 now;
	int		 rc;

	if (ctl_getopt_now(ctl, argc, argv, &now, &rc) == -1)
		return rc;
	if ((dir = key_dir(ctl)) == NULL || ctl_find_hasher(&ctl->cfg) == -1)
		return CTL_EXIT_FAIL;
	/* The database first: no rotation that the trail would miss for
	 * want of a connection. */
	if ((conn = ctl_connect(ctl)) == NULL)
		return CTL_EXIT_FAIL;
	rc = CTL_EXIT_FAIL;
	if (ctl_hasher_run(&ctl->cfg, ctl_keygen_delay(&ctl->cfg, now, delay,
	    sizeof(delay)), "--keygen", dir, out, sizeof(out)) == -1)
		goto out;
	if (sscanf(out, "sign %" STRINGIFY(FIELD_KID_MAX) "s pepper %"
	    STRINGIFY(FIELD_KID_MAX) "s rsa %" STRINGIFY(FIELD_KID_MAX) "s",
	    sign, pepper, rsa) != 3 ||
	    !field_is_kid(sign) || !field_is_kid(pepper) || !field_is_kid(rsa) ||
	    (p = strstr(out, "\nfrom ")) == NULL ||
	    sscanf(p, "\nfrom %lld", &from) != 1) {
		fprintf(stderr, PROG ": %s --keygen: unexpected output\n",
		    ctl->cfg.hasher_path);
		goto out;
	}
	str_printf(detail, sizeof(detail),
	    "{\"sign\":\"%s\",\"pepper\":\"%s\",\"rsa\":\"%s\","
	    "\"from\":%lld}", sign, pepper, rsa, from);
	if (ctl_audit(conn, NULL, "key_rotated", detail) == -1) {
		fprintf(stderr, PROG ": the keys are rotated, but the audit "
		    "event is not written\n");
		goto out;
	}
	fputs(out, stdout);
	ctl_keygen_advice(dir, out);
	rc = CTL_EXIT_OK;
out:
	PQfinish(conn);
	return rc;
}
