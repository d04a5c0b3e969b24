/*
 * warden.conf: one table of keywords (type, field, default, bounds) drives
 * the defaults, the file parser, the environment overrides and cfg_dump().
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <bsd/string.h>
#include <sodium.h>

#include "conf_line.h"
#include "config.h"
#include "fields.h"
#include "log.h"
#include "util.h"

#ifndef WARDEN_HASHER_PATH
#define WARDEN_HASHER_PATH	"/usr/local/libexec/warden-hasher"
#endif
#ifndef WARDEN_KEY_DIR
#define WARDEN_KEY_DIR		"/etc/warden/keys"
#endif

/* argon2_memory's bounds are crypto_pwhash's (capped at 4096M, far above
 * anything sensible and within 32-bit size arithmetic). */
_Static_assert(crypto_pwhash_MEMLIMIT_MIN == 8192, "argon2_memory minimum");

enum cfg_type {
	T_STR,		/* any text, "" allowed */
	T_LIST,		/* repeatable; "" adds nothing */
	T_UINT,		/* decimal in [min, max] */
	T_DUR,		/* seconds: 30, 30s, 15m, 2h, 7d */
	T_SIZE,		/* bytes: 512, 64K, 19M */
	T_BOOL,		/* yes/no, true/false, on/off */
	T_ENUM,		/* one of names[], stored as its index */
	T_MODE,		/* octal file mode */
	T_LOGLEVEL,	/* error|warn|info|debug -> LOG_* */
};

struct cfg_key {
	const char		*name;
	enum cfg_type		 type;
	size_t			 off;
	const char		*def;	/* in the file's notation */
	long long		 min, max;
	const char *const	*names;	/* T_ENUM */
};

/* offsetof() that also proves the field has the C type the parser
 * writes: a mismatch between the table and struct cfg does not compile. */
#define OFF(f, T) (offsetof(struct cfg, f) +				\
	0 * sizeof(_Generic(((struct cfg *)0)->f, T: 1)))

#define STR(f, d)	{ #f, T_STR, OFF(f, char *), d, 0, 0, NULL }
#define LIST(f, d)	{ #f, T_LIST, OFF(f, struct cfg_list), d, 0, 0, NULL }
#define UINT(f, d, lo, hi) \
	{ #f, T_UINT, OFF(f, unsigned int), d, lo, hi, NULL }
#define DUR(f, d, lo, hi) \
	{ #f, T_DUR, OFF(f, int64_t), d, lo, hi, NULL }
#define SIZE(f, d, lo, hi) \
	{ #f, T_SIZE, OFF(f, size_t), d, lo, hi, NULL }
#define BOOL(f, d)	{ #f, T_BOOL, OFF(f, bool), d, 0, 1, NULL }
#define ENUM(f, T, d, n) { #f, T_ENUM, OFF(f, T), d, 0, 0, n }
#define MODE(f, d)	{ #f, T_MODE, OFF(f, unsigned int), d, 0, 0777, NULL }
#define LEVEL(f, d)	{ #f, T_LOGLEVEL, OFF(f, int), d, 0, 0, NULL }

#define U_SEC	1LL
#define U_MIN	(60 * U_SEC)
#define U_HOUR	(60 * U_MIN)
#define U_DAY	(24 * U_HOUR)
#define U_KIB	1024LL
#define U_MIB	(1024 * U_KIB)

static const char *const registration_names[] = { "open", "closed", NULL };
static const char *const log_format_names[] = { "logfmt", "json", NULL };
static const char *const email_verification_names[] = {
	"off", "optional", "required", NULL
};
static const char *const starttls_names[] = { "required", "optional", NULL };

static const struct cfg_key keys[] = {
	/* front */
	LIST(listen, "127.0.0.1:8080"),
	MODE(listen_mode, "0660"),
	STR(listen_group, ""),
	STR(metrics_listen, ""),
	STR(public_url, ""),
	STR(user, "warden"),
	STR(database_url, "postgresql:///warden"),
	UINT(database_pool, "4", 1, 64),
	UINT(front_processes, "1", 0, 64),
	DUR(request_timeout, "30s", 1 * U_SEC, 1 * U_HOUR),
	DUR(read_timeout, "30s", 1 * U_SEC, 1 * U_HOUR),
	DUR(shutdown_timeout, "10s", 0, 10 * U_MIN),
	SIZE(max_body_size, "64K", 1 * U_KIB, 16 * U_MIB),
	SIZE(max_header_size, "8K", 1 * U_KIB, 64 * U_KIB),
	UINT(max_connections, "0", 0, 1000000),
	UINT(max_connections_per_address, "0", 0, 1000000),
	UINT(json_max_depth, "32", 1, 256),
	LIST(trusted_proxies, ""),
	LIST(cors_origins, ""),
	ENUM(registration, enum cfg_registration, "open", registration_names),

	/* tokens */
	STR(issuer, ""),
	STR(audience, "warden"),
	STR(client_id, "warden"),
	DUR(access_token_ttl, "15m", 30 * U_SEC, 24 * U_HOUR),
	DUR(refresh_token_ttl, "30d", 1 * U_MIN, 365 * U_DAY),
	DUR(refresh_grace, "10s", 0, 5 * U_MIN),

	/* passwords and logins */
	UINT(password_min_length, "8", 8, 1024),
	STR(password_blocklist, "/usr/share/john/password.lst"),
	UINT(login_max_failures, "5", 1, 1000),
	DUR(login_lockout_max, "15m", 1 * U_SEC, 24 * U_HOUR),
	DUR(login_device_ttl, "365d", 1 * U_MIN, 3650 * U_DAY),
	UINT(addr_login_limit, "20", 1, 100000),
	DUR(addr_login_window, "1m", 1 * U_SEC, 1 * U_DAY),
	UINT(addr_register_limit, "30", 1, 100000),
	DUR(addr_register_window, "10m", 1 * U_SEC, 1 * U_DAY),
	UINT(email_change_limit, "10", 1, 100000),
	DUR(email_change_window, "1h", 1 * U_SEC, 1 * U_DAY),

	/* accounts by e-mail */
	ENUM(email_verification, enum cfg_email_verification, "optional",
	    email_verification_names),
	DUR(email_verification_ttl, "1d", 5 * U_MIN, 30 * U_DAY),
	DUR(password_reset_ttl, "30m", 1 * U_MIN, 24 * U_HOUR),
	UINT(mail_rate, "3", 1, 1000),
	UINT(addr_reset_limit, "20", 1, 100000),

	/* browser sessions */
	DUR(session_idle, "12h", 1 * U_MIN, 30 * U_DAY),
	DUR(session_max, "7d", 5 * U_MIN, 365 * U_DAY),
	DUR(session_check, "5s", 0, 1 * U_HOUR),
	STR(session_domain, ""),
	STR(ui_dir, WARDEN_UI_DIR),
	STR(providers_dir, WARDEN_PROVIDERS_DIR),

	/* outgoing mail */
	STR(mail_transport, "off"),
	ENUM(smtp_starttls, enum cfg_starttls, "required", starttls_names),
	STR(smtp_user, ""),
	STR(smtp_password_file, ""),
	STR(mail_from, ""),
	STR(mail_template_dir, WARDEN_MAIL_DIR),
	DUR(mail_max_age, "1d", 1 * U_MIN, 30 * U_DAY),

	/* hasher */
	STR(hasher_path, WARDEN_HASHER_PATH),
	STR(hasher_socket, ""),
	STR(hasher_user, "warden-hasher"),
	STR(hasher_chroot, "/var/empty"),
	UINT(hasher_workers, "0", 0, 256),
	UINT(hasher_queue, "256", 1, 100000),
	DUR(hasher_timeout, "10s", 1 * U_SEC, 5 * U_MIN),
	STR(key_dir, WARDEN_KEY_DIR),
	DUR(key_publish_delay, "10m", 0, 30 * U_DAY),
	SIZE(argon2_memory, "19M", crypto_pwhash_MEMLIMIT_MIN, 4096 * U_MIB),
	UINT(argon2_iterations, "2", 1, 64),

	/* housekeeping */
	DUR(purge_interval, "1m", 1 * U_SEC, 1 * U_DAY),
	DUR(audit_retention, "0s", 0, 3650 * U_DAY),

	/* logging */
	LEVEL(log_level, "info"),
	ENUM(log_format, enum cfg_log_format, "logfmt", log_format_names),
};

#define NKEYS	(sizeof(keys) / sizeof(keys[0]))

/* How a value reaches a list: the file's first line replaces the default
 * and later lines append one entry each; the environment and cfg_set()
 * replace the list with a comma- or space-separated set of entries. */
enum list_mode { LIST_REPLACE, LIST_APPEND, LIST_SPLIT };

static void __attribute__((format(printf, 3, 4)))
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Prepends "prefix: " to the message already in err. */
static void
prefixerr(char *err, size_t errlen, const char *prefix)
{
	char	 tmp[512];

	if (err == NULL || errlen == 0)
		return;
	snprintf(tmp, sizeof(tmp), "%s", err);
	seterr(err, errlen, "%s: %s", prefix, tmp);
}

static const struct cfg_key *
key_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < NKEYS; i++)
		if (str_ieq(keys[i].name, name))
			return &keys[i];
	return NULL;
}

static void *
field(struct cfg *c, const struct cfg_key *k)
{
	return (char *)c + k->off;
}

static const void *
cfield(const struct cfg *c, const struct cfg_key *k)
{
	return (const char *)c + k->off;
}

/* Bounds and values are shown in the notation they are written in. */
static void
fmt_duration(char *buf, size_t len, long long s)
{
	if (s != 0 && s % U_DAY == 0)
		snprintf(buf, len, "%lldd", s / U_DAY);
	else if (s != 0 && s % U_HOUR == 0)
		snprintf(buf, len, "%lldh", s / U_HOUR);
	else if (s != 0 && s % U_MIN == 0)
		snprintf(buf, len, "%lldm", s / U_MIN);
	else if (s != 0)
		snprintf(buf, len, "%llds", s);
	else
		snprintf(buf, len, "0");
}

static void
fmt_size(char *buf, size_t len, unsigned long long n)
{
	if (n != 0 && n % U_MIB == 0)
		snprintf(buf, len, "%lluM", n / U_MIB);
	else if (n != 0 && n % U_KIB == 0)
		snprintf(buf, len, "%lluK", n / U_KIB);
	else
		snprintf(buf, len, "%llu", n);
}

/*
 * Reads digits then at most one unit letter from units (multipliers in
 * mult).  Returns 0 with the product in *out, 1 when the product exceeds
 * limit (out of range, however many digits), -1 on bad notation.
 */
static int
parse_scaled(const char *s, const char *units, const unsigned long long *mult,
    unsigned long long limit, unsigned long long *out)
{
	unsigned long long	 v = 0, m = 1;
	const char		*p, *u;
	bool			 over = false;

	if (s == NULL || !(*s >= '0' && *s <= '9'))
		return -1;
	for (p = s; *p >= '0' && *p <= '9'; p++) {
		if (v > (ULLONG_MAX - 9) / 10)
			over = true;
		else
			v = v * 10 + (unsigned long long)(*p - '0');
	}
	if (*p != '\0') {
		if ((u = strchr(units, *p)) == NULL || p[1] != '\0')
			return -1;
		m = mult[u - units];
	}
	if (over || (v != 0 && v > limit / m))
		return 1;
	*out = v * m;
	return 0;
}

int
cfg_parse_duration(const char *s, int64_t min, int64_t max, int64_t *out,
    char *err, size_t errlen)
{
	static const unsigned long long mult[] = { U_SEC, U_MIN, U_HOUR, U_DAY };
	unsigned long long	 v = 0;
	char			 lo[32], hi[32];
	int			 r;

	r = parse_scaled(s, "smhd", mult, INT64_MAX, &v);
	if (r == -1) {
		seterr(err, errlen, "bad duration \"%.64s\" (expected seconds "
		    "or a number with s, m, h or d, e.g. 30s, 15m, 2h, 7d)",
		    s == NULL ? "" : s);
		return -1;
	}
	if (r == 1 || (long long)v < min || (long long)v > max) {
		fmt_duration(lo, sizeof(lo), min);
		fmt_duration(hi, sizeof(hi), max);
		seterr(err, errlen, "duration %.64s out of range (%s..%s)",
		    s, lo, hi);
		return -1;
	}
	*out = (int64_t)v;
	return 0;
}

int
cfg_parse_size(const char *s, size_t min, size_t max, size_t *out,
    char *err, size_t errlen)
{
	static const unsigned long long mult[] = { U_KIB, U_KIB, U_MIB, U_MIB };
	unsigned long long	 v = 0;
	char			 lo[32], hi[32];
	int			 r;

	r = parse_scaled(s, "KkMm", mult, SIZE_MAX, &v);
	if (r == -1) {
		seterr(err, errlen, "bad size \"%.64s\" (expected bytes or a "
		    "number with K or M, e.g. 512, 64K, 19M)",
		    s == NULL ? "" : s);
		return -1;
	}
	if (r == 1 || v < min || v > max) {
		fmt_size(lo, sizeof(lo), min);
		fmt_size(hi, sizeof(hi), max);
		seterr(err, errlen, "size %.64s out of range (%s..%s)",
		    s, lo, hi);
		return -1;
	}
	*out = (size_t)v;
	return 0;
}

int
cfg_parse_bool(const char *s, bool *out, char *err, size_t errlen)
{
	static const char *const yes[] = { "yes", "true", "on" };
	static const char *const no[] = { "no", "false", "off" };
	size_t	 i;

	for (i = 0; s != NULL && i < 3; i++) {
		if (str_ieq(s, yes[i])) {
			*out = true;
			return 0;
		}
		if (str_ieq(s, no[i])) {
			*out = false;
			return 0;
		}
	}
	seterr(err, errlen, "bad boolean \"%.64s\" (expected yes, no, true, "
	    "false, on or off)", s == NULL ? "" : s);
	return -1;
}

static int
parse_uint(const char *s, long long min, long long max, unsigned int *out,
    char *err, size_t errlen)
{
	const char	*e;
	long long	 v;
	bool		 digits = *s != '\0';
	const char	*p;

	/* Plain digits, so "-1" and "+4" are bad notation; num_parse() then
	 * reports any overflow (99999999999999999999) as out of range. */
	for (p = s; *p != '\0'; p++)
		if (!(*p >= '0' && *p <= '9'))
			digits = false;
	if (!digits) {
		seterr(err, errlen, "bad number \"%.64s\" (expected a whole "
		    "number)", s);
		return -1;
	}
	if (num_parse(s, min, max, &v, &e) == -1) {
		seterr(err, errlen, "%.64s out of range (%lld..%lld)",
		    s, min, max);
		return -1;
	}
	*out = (unsigned int)v;
	return 0;
}

static int
parse_mode(const char *s, long long max, unsigned int *out, char *err,
    size_t errlen)
{
	unsigned long	 v = 0;
	const char	*p;

	if (*s == '\0')
		goto bad;
	for (p = s; *p != '\0'; p++) {
		if (!(*p >= '0' && *p <= '7'))
			goto bad;
		if (v <= 07777)
			v = v * 8 + (unsigned long)(*p - '0');
	}
	if (v > (unsigned long)max) {
		seterr(err, errlen, "mode %.64s out of range (0000..%04llo)",
		    s, max);
		return -1;
	}
	*out = (unsigned int)v;
	return 0;
bad:
	seterr(err, errlen, "bad mode \"%.64s\" (expected an octal mode, "
	    "e.g. 0660)", s);
	return -1;
}

static int
parse_enum(const char *s, const char *const *names, int *out, char *err,
    size_t errlen)
{
	char	 want[128] = "";
	size_t	 i;

	for (i = 0; names[i] != NULL; i++) {
		if (str_ieq(s, names[i])) {
			*out = (int)i;
			return 0;
		}
		if (i > 0)
			strlcat(want, names[i + 1] == NULL ? " or " : ", ",
			    sizeof(want));
		strlcat(want, names[i], sizeof(want));
	}
	seterr(err, errlen, "bad value \"%.64s\" (expected %s)", s, want);
	return -1;
}

static void
list_clear(struct cfg_list *l)
{
	size_t	 i;

	for (i = 0; i < l->n; i++) {
		str_freezero(l->v[i]);
		l->v[i] = NULL;
	}
	l->n = 0;
}

/* Adds one entry; "" adds nothing. */
static int
list_add(struct cfg_list *l, const char *name, const char *s, size_t len,
    char *err, size_t errlen)
{
	char	*v;

	if (len == 0)
		return 0;
	if (l->n >= CFG_MAX_LIST) {
		seterr(err, errlen, "too many values for %s (at most %d)",
		    name, CFG_MAX_LIST);
		return -1;
	}
	if ((v = strndup(s, len)) == NULL) {
		seterr(err, errlen, "out of memory");
		return -1;
	}
	l->v[l->n++] = v;
	return 0;
}

/* Replaces *l with the comma- or blank-separated entries of s, or leaves
 * it untouched on error. */
static int
list_split(struct cfg_list *l, const char *name, const char *s, char *err,
    size_t errlen)
{
	struct cfg_list	 tmp;
	size_t		 n;
	static const char sep[] = ", \t\r\n";

	memset(&tmp, 0, sizeof(tmp));
	for (;;) {
		s += strspn(s, sep);
		if (*s == '\0')
			break;
		n = strcspn(s, sep);
		if (list_add(&tmp, name, s, n, err, errlen) == -1) {
			list_clear(&tmp);
			return -1;
		}
		s += n;
	}
	list_clear(l);
	*l = tmp;
	return 0;
}

/* Applies one value to one keyword.  On error the field is unchanged. */
static int
apply(struct cfg *c, const struct cfg_key *k, const char *value,
    enum list_mode mode, char *err, size_t errlen)
{
	void		*f = field(c, k);
	const char	*p;
	char		*dup;
	int64_t		 dur;
	size_t		 size;
	unsigned int	 u;
	bool		 b;
	int		 e;
	char		 lower[16];
	size_t		 i;

	for (p = value; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			if (k->type == T_LIST && mode == LIST_SPLIT &&
			    strchr("\t\r\n", *p) != NULL)
				continue;
			seterr(err, errlen, "control character in value");
			return -1;
		}

	switch (k->type) {
	case T_STR:
		if ((dup = strdup(value)) == NULL) {
			seterr(err, errlen, "out of memory");
			return -1;
		}
		str_freezero(*(char **)f);
		*(char **)f = dup;
		return 0;
	case T_LIST:
		if (mode == LIST_SPLIT)
			return list_split(f, k->name, value, err, errlen);
		if (mode == LIST_REPLACE)
			list_clear(f);
		return list_add(f, k->name, value, strlen(value), err, errlen);
	case T_UINT:
		if (parse_uint(value, k->min, k->max, &u, err, errlen) == -1)
			return -1;
		*(unsigned int *)f = u;
		return 0;
	case T_DUR:
		if (cfg_parse_duration(value, k->min, k->max, &dur, err,
		    errlen) == -1)
			return -1;
		*(int64_t *)f = dur;
		return 0;
	case T_SIZE:
		if (cfg_parse_size(value, (size_t)k->min, (size_t)k->max,
		    &size, err, errlen) == -1)
			return -1;
		*(size_t *)f = size;
		return 0;
	case T_BOOL:
		if (cfg_parse_bool(value, &b, err, errlen) == -1)
			return -1;
		*(bool *)f = b;
		return 0;
	case T_ENUM:
		if (parse_enum(value, k->names, &e, err, errlen) == -1)
			return -1;
		*(int *)f = e;
		return 0;
	case T_MODE:
		if (parse_mode(value, k->max, &u, err, errlen) == -1)
			return -1;
		*(unsigned int *)f = u;
		return 0;
	case T_LOGLEVEL:
		/* log_level_from_name() is exact; the file is not. */
		for (i = 0; value[i] != '\0' && i + 1 < sizeof(lower); i++)
			lower[i] = (char)tolower((unsigned char)value[i]);
		lower[i] = '\0';
		if (value[i] != '\0' ||
		    (e = log_level_from_name(lower)) == -1) {
			seterr(err, errlen, "bad log level \"%.64s\" (expected "
			    "error, warn, info or debug)", value);
			return -1;
		}
		*(int *)f = e;
		return 0;
	}
	seterr(err, errlen, "internal error: bad keyword type");
	return -1;
}

void
cfg_defaults(struct cfg *c)
{
	size_t	 i;

	memset(c, 0, sizeof(*c));
	/* The defaults are in bounds (test_config checks each); only an
	 * allocation can fail here, which leaves a NULL that cfg_load()
	 * reports. */
	for (i = 0; i < NKEYS; i++)
		(void)apply(c, &keys[i], keys[i].def, LIST_SPLIT, NULL, 0);
}

/*
 * Reads one line into buf (CFG_MAX_LINE + 1 bytes).  Returns 1 with a line,
 * 0 at the end of the file, -1 on a read error.  The rest of an overlong
 * line is consumed; *overlong and *nul say what was wrong.
 */
static int
read_line(FILE *f, char *buf, bool *overlong, bool *nul)
{
	size_t	 n = 0;
	int	 ch;

	*overlong = *nul = false;
	while ((ch = getc(f)) != EOF && ch != '\n') {
		if (ch == '\0')
			*nul = true;
		if (n < CFG_MAX_LINE)
			buf[n++] = (char)ch;
		else
			*overlong = true;
	}
	buf[n] = '\0';
	if (ferror(f))
		return -1;
	return ch == EOF && n == 0 && !*overlong && !*nul ? 0 : 1;
}

static int
load_file(struct cfg *c, const char *path, char *err, size_t errlen)
{
	FILE			*f;
	const struct cfg_key	*k;
	char			*buf, *kw, *val, where[512];
	unsigned int		 seen[NKEYS], lineno = 0;
	bool			 overlong, nul;
	int			 r, ret = -1;

	if ((f = fopen(path, "re")) == NULL) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if ((buf = malloc(CFG_MAX_LINE + 1)) == NULL) {
		fclose(f);
		seterr(err, errlen, "%s: out of memory", path);
		return -1;
	}
	memset(seen, 0, sizeof(seen));

	while ((r = read_line(f, buf, &overlong, &nul)) == 1) {
		lineno++;
		snprintf(where, sizeof(where), "%s:%u", path, lineno);
		if (overlong) {
			seterr(err, errlen, "%s: line longer than %d bytes",
			    where, CFG_MAX_LINE);
			goto out;
		}
		if (nul) {
			seterr(err, errlen, "%s: NUL byte in line", where);
			goto out;
		}
		if ((r = conf_split_line(buf, &kw, &val, err, errlen)) == 1)
			continue;
		if (r == -1) {
			prefixerr(err, errlen, where);
			goto out;
		}
		if ((k = key_find(kw)) == NULL) {
			seterr(err, errlen, "%s: unknown keyword \"%.64s\"",
			    where, kw);
			goto out;
		}
		if (val == NULL) {
			seterr(err, errlen, "%s: missing value for %s", where,
			    k->name);
			goto out;
		}
		if (seen[k - keys] != 0 && k->type != T_LIST) {
			seterr(err, errlen, "%s: duplicate keyword %s (first "
			    "given on line %u)", where, k->name,
			    seen[k - keys]);
			goto out;
		}
		if (apply(c, k, val, seen[k - keys] == 0 ? LIST_REPLACE :
		    LIST_APPEND, err, errlen) == -1) {
			prefixerr(err, errlen, k->name);
			prefixerr(err, errlen, where);
			goto out;
		}
		if (seen[k - keys] == 0)
			seen[k - keys] = lineno;
	}
	if (r == -1) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	explicit_bzero(buf, CFG_MAX_LINE + 1);
	free(buf);
	fclose(f);
	return ret;
}

static int
load_env(struct cfg *c, char *err, size_t errlen)
{
	const char	*v;
	char		 name[64];
	size_t		 i, j;

	/* WARDEN_DATABASE_URL, applied below, wins over DATABASE_URL. */
	if ((v = getenv("DATABASE_URL")) != NULL &&
	    apply(c, key_find("database_url"), v, LIST_SPLIT, err,
	    errlen) == -1) {
		prefixerr(err, errlen, "database_url");
		prefixerr(err, errlen, "DATABASE_URL");
		return -1;
	}
	for (i = 0; i < NKEYS; i++) {
		j = strlcpy(name, "WARDEN_", sizeof(name));
		for (; keys[i].name[j - 7] != '\0' && j + 1 < sizeof(name);
		    j++)
			name[j] = (char)toupper((unsigned char)
			    keys[i].name[j - 7]);
		name[j] = '\0';
		if ((v = getenv(name)) == NULL)
			continue;
		if (apply(c, &keys[i], v, LIST_SPLIT, err, errlen) == -1) {
			prefixerr(err, errlen, keys[i].name);
			prefixerr(err, errlen, name);
			return -1;
		}
	}
	return 0;
}

/* Replaces string field *f with a copy of v. */
static int
set_str(char **f, const char *v, char *err, size_t errlen)
{
	char	*dup;

	if ((dup = strdup(v)) == NULL) {
		seterr(err, errlen, "out of memory");
		return -1;
	}
	str_freezero(*f);
	*f = dup;
	return 0;
}

/* public_url's default: the first TCP listen address, an unspecified one
 * (0.0.0.0, [::]) named as localhost. */
static void
url_of_listen(const struct cfg_list *l, char *buf, size_t len)
{
	const char	*e, *port;
	size_t		 i;

	for (i = 0; i < l->n; i++) {
		e = l->v[i];
		if (strncmp(e, "unix:", 5) == 0 ||
		    (port = strrchr(e, ':')) == NULL)
			continue;
		if (strncmp(e, "0.0.0.0:", 8) == 0 || strncmp(e, "[::]:", 5) == 0 ||
		    e[0] == ':')
			str_printf(buf, len, "http://localhost%s", port);
		else
			str_printf(buf, len, "http://%s", e);
		return;
	}
	str_copy(buf, "http://localhost", len);
}

/* True when s is a lower-case DNS name of two labels or more (RFC 1123):
 * what a cookie's Domain attribute may name. */
static bool
is_cookie_domain(const char *s)
{
	size_t	 len = strlen(s), label = 0, labels = 1;

	if (len == 0 || len > 253 || s[0] == '.' || s[0] == '-' ||
	    s[len - 1] == '.' || s[len - 1] == '-')
		return false;
	for (; *s != '\0'; s++) {
		if (*s == '.') {
			if (label == 0 || s[-1] == '-' || s[1] == '-')
				return false;
			label = 0;
			labels++;
		} else if ((*s >= 'a' && *s <= 'z') ||
		    (*s >= '0' && *s <= '9') || *s == '-') {
			if (++label > 63)
				return false;
		} else
			return false;
	}
	return labels >= 2;
}

/* True when public_url's host is domain or a host below it. */
static bool
url_under_domain(const char *url, const char *domain)
{
	const char *host = strstr(url, "://");
	size_t	 hlen, dlen = strlen(domain);

	if (host == NULL)
		return false;
	host += 3;
	hlen = strcspn(host, ":/");
	if (hlen == dlen)
		return strncasecmp(host, domain, dlen) == 0;
	return hlen > dlen && host[hlen - dlen - 1] == '.' &&
	    strncasecmp(host + hlen - dlen, domain, dlen) == 0;
}

/*
 * The values that default to others: public_url to the first listen
 * address, issuer to public_url.  A public_url must be an http(s) URL
 * without query or fragment; a trailing '/' is dropped.
 */
static int
resolve(struct cfg *c, char *err, size_t errlen)
{
	char	 url[512];
	size_t	 len;

	if (c->public_url[0] == '\0') {
		url_of_listen(&c->listen, url, sizeof(url));
		if (set_str(&c->public_url, url, err, errlen) == -1)
			return -1;
	}
	if ((strncmp(c->public_url, "https://", 8) != 0 &&
	    strncmp(c->public_url, "http://", 7) != 0) ||
	    strpbrk(c->public_url, "?# \t") != NULL) {
		seterr(err, errlen, "public_url: an http:// or https:// URL "
		    "without query or fragment is needed");
		return -1;
	}
	while ((len = strlen(c->public_url)) > 8 &&
	    c->public_url[len - 1] == '/')
		c->public_url[len - 1] = '\0';
	/* Over https the session cookie is set for session_domain
	 * (session_cookie.h): a browser takes it only from a host below it.
	 * Over http (development) the cookie stays on public_url's host. */
	if (c->session_domain[0] != '\0' &&
	    (!is_cookie_domain(c->session_domain) ||
	    (strncmp(c->public_url, "https://", 8) == 0 &&
	    !url_under_domain(c->public_url, c->session_domain)))) {
		seterr(err, errlen, "session_domain: a lower-case DNS name of "
		    "two labels or more, an https public_url's host or a "
		    "parent of it, is needed");
		return -1;
	}
	if (!field_is_plain_name(c->client_id)) {
		seterr(err, errlen, "client_id: 1..%d of [A-Za-z0-9._-] are "
		    "needed", FIELD_PLAIN_NAME_MAX);
		return -1;
	}
	if (c->issuer[0] == '\0')
		return set_str(&c->issuer, c->public_url, err, errlen);
	return 0;
}

int
cfg_url(const struct cfg *c, const char *path, char *out, size_t outlen)
{
	if (str_printf(out, outlen, "%s%s", c->public_url, path) == -1) {
		if (outlen > 0)
			out[0] = '\0';
		return -1;
	}
	return 0;
}

int
cfg_load(struct cfg *c, const char *path, char *err, size_t errlen)
{
	size_t	 i;

	for (i = 0; i < NKEYS; i++)
		if (keys[i].type == T_STR &&
		    *(char **)field(c, &keys[i]) == NULL) {
			seterr(err, errlen, "out of memory");
			return -1;
		}
	if ((path != NULL && load_file(c, path, err, errlen) == -1) ||
	    load_env(c, err, errlen) == -1)
		return -1;
	return resolve(c, err, errlen);
}

int
cfg_set(struct cfg *c, const char *keyword, const char *value, char *err,
    size_t errlen)
{
	const struct cfg_key	*k;

	if ((k = key_find(keyword)) == NULL) {
		seterr(err, errlen, "unknown keyword \"%.64s\"", keyword);
		return -1;
	}
	if (value == NULL) {
		seterr(err, errlen, "missing value for %s", k->name);
		return -1;
	}
	if (apply(c, k, value, LIST_SPLIT, err, errlen) == -1) {
		prefixerr(err, errlen, k->name);
		return -1;
	}
	return 0;
}

/* Writes a value so that the parser reads it back: quoted when empty or
 * holding a blank, '"', '\\' or a leading '#'. */
static void
dump_value(FILE *out, const char *name, const char *v)
{
	const char	*p;

	if (*v != '\0' && *v != '#' && strpbrk(v, " \t\"\\") == NULL) {
		fprintf(out, "%s %s\n", name, v);
		return;
	}
	fprintf(out, "%s \"", name);
	for (p = v; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fputc('\\', out);
		fputc(*p, out);
	}
	fputs("\"\n", out);
}

/*
 * Masks the password of a database URL: the userinfo's "user:secret@"
 * form and any password=... parameter (URI query or key=value conninfo).
 */
static void
mask_url(char *s)
{
	char	*p, *end, *at, *colon;
	size_t	 n;

	if ((p = strstr(s, "://")) != NULL) {
		p += 3;
		end = p + strcspn(p, "/?");
		at = NULL;
		for (char *q = p; q < end; q++)
			if (*q == '@')
				at = q;
		if (at != NULL && (colon = memchr(p, ':', (size_t)(at - p)))
		    != NULL && at - colon > 1) {
			memmove(colon + 2, at, strlen(at) + 1);
			colon[1] = '*';
		}
	}
	for (p = s; *p != '\0'; p++) {
		if (strncasecmp(p, "password", 8) != 0 ||
		    (p != s && strchr(" \t?&", p[-1]) == NULL))
			continue;
		end = p + 8;
		end += strspn(end, " \t");
		if (*end != '=')
			continue;
		end++;
		end += strspn(end, " \t");
		if (*end == '\'') {
			n = 1;
			while (end[n] != '\0' && end[n] != '\'')
				n += end[n] == '\\' && end[n + 1] != '\0' ?
				    2 : 1;
			if (end[n] == '\'')
				n++;
		} else
			n = strcspn(end, " \t&");
		if (n == 0)
			continue;
		memmove(end + 1, end + n, strlen(end + n) + 1);
		*end = '*';
		p = end;
	}
}

void
cfg_dump(const struct cfg *c, FILE *out)
{
	const struct cfg_key	*k;
	const struct cfg_list	*l;
	const void		*f;
	char			 buf[64], *url;
	size_t			 i, j;

	for (i = 0; i < NKEYS; i++) {
		k = &keys[i];
		f = cfield(c, k);
		switch (k->type) {
		case T_STR:
			if (*(char *const *)f == NULL)
				dump_value(out, k->name, "");
			else if (f == &c->database_url) {
				if ((url = strdup(c->database_url)) == NULL)
					dump_value(out, k->name, "*");
				else {
					mask_url(url);
					dump_value(out, k->name, url);
					str_freezero(url);
				}
			} else
				dump_value(out, k->name, *(char *const *)f);
			break;
		case T_LIST:
			l = f;
			if (l->n == 0)
				dump_value(out, k->name, "");
			for (j = 0; j < l->n; j++)
				dump_value(out, k->name, l->v[j]);
			break;
		case T_UINT:
			fprintf(out, "%s %u\n", k->name,
			    *(const unsigned int *)f);
			break;
		case T_DUR:
			fmt_duration(buf, sizeof(buf), *(const int64_t *)f);
			fprintf(out, "%s %s\n", k->name, buf);
			break;
		case T_SIZE:
			fmt_size(buf, sizeof(buf), *(const size_t *)f);
			fprintf(out, "%s %s\n", k->name, buf);
			break;
		case T_BOOL:
			fprintf(out, "%s %s\n", k->name,
			    *(const bool *)f ? "yes" : "no");
			break;
		case T_ENUM:
			fprintf(out, "%s %s\n", k->name,
			    k->names[*(const int *)f]);
			break;
		case T_MODE:
			fprintf(out, "%s %04o\n", k->name,
			    *(const unsigned int *)f);
			break;
		case T_LOGLEVEL:
			fprintf(out, "%s %s\n", k->name,
			    *(const int *)f == LOG_ERROR ? "error" :
			    *(const int *)f == LOG_WARN ? "warn" :
			    *(const int *)f == LOG_DEBUG ? "debug" : "info");
			break;
		}
	}
}

void
cfg_free(struct cfg *c)
{
	size_t	 i;

	for (i = 0; i < NKEYS; i++) {
		if (keys[i].type == T_STR)
			str_freezero(*(char **)field(c, &keys[i]));
		else if (keys[i].type == T_LIST)
			list_clear(field(c, &keys[i]));
	}
	explicit_bzero(c, sizeof(*c));
}
