/*
 * wardenctl import FILE|-: users from another system, one JSON object per
 * line (import_line.h).  It stores hashes and computes none, so it runs at
 * the database's pace: lines are checked, then written in batches of
 * --batch (1000) rows, one INSERT of arrays per batch in its own
 * transaction.
 *
 * What happens to each line:
 *	imported	a new user, with an audit event "imported"
 *	present		a user of that username and e-mail address is
 *			there already (a re-run): nothing changes
 *	rejected	reported on stderr as "line N: reason"; the rest of
 *			the file goes on.  A line that breaks a field rule,
 *			repeats a username or e-mail address of an earlier
 *			line, or names a username, e-mail address or id that
 *			another user holds.
 * Should the database refuse a batch as a whole, its rows are tried one
 * at a time, so that only the guilty line is rejected.
 *
 * Exit status: 0 when no line was rejected, 1 otherwise (the others are
 * imported all the same), 2 on a usage error.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/string.h>
#include <libpq-fe.h>
#include <sodium.h>

#include "config.h"
#include "ctl.h"
#include "import_line.h"
#include "seen.h"
#include "textbuf.h"
#include "util.h"

#define BATCH_DEFAULT	1000
#define BATCH_MAX	10000

struct import_run {
	PGconn			*conn;
	struct import_user	*batch;		/* sodium_malloc'd */
	size_t			*lines;		/* line of each batch row */
	size_t			 n, cap;
	bool			 dry_run, progress;
	size_t			 line;		/* lines read */
	size_t			 imported, present, rejected;
	struct seen		*names, *emails;
};

static const char insert_sql[] =
    "WITH input AS ("
    "  SELECT * FROM unnest($1::int[], $2::uuid[], $3::text[], $4::text[],"
    "   $5::text[], $6::text[], $7::bool[], $8::bool[], $9::timestamptz[],"
    "   $10::text[], $11::text[])"
    "  AS t(line, id, username, email, full_name, roles, is_active,"
    "   email_verified, created_at, password_hash, format)"
    "), ins AS ("
    "  INSERT INTO users (id, username, email, full_name, password_hash,"
    "   roles, is_active, email_verified, created_at, updated_at)"
    "  SELECT coalesce(id, gen_random_uuid()), username, email, full_name,"
    "   password_hash, roles::text[], is_active, email_verified,"
    "   coalesce(created_at, now()), now() FROM input"
    "  ON CONFLICT DO NOTHING"
    "  RETURNING id, lower(username) AS name"
    "), audit AS ("
    "  INSERT INTO audit_events (user_id, event, detail)"
    "  SELECT ins.id, 'imported', jsonb_build_object('by', 'wardenctl',"
    "   'operator', $12::text, 'format', i.format)"
    "  FROM ins JOIN input i ON lower(i.username) = ins.name"
    ")"
    /* The SELECT sees the users as they were before this statement. */
    "SELECT i.line, CASE"
    "  WHEN ins.id IS NOT NULL THEN 'imported'"
    "  WHEN EXISTS (SELECT 1 FROM users u"
    "   WHERE lower(u.username) = lower(i.username)"
    "   AND lower(u.email) = lower(i.email)) THEN 'present'"
    "  WHEN EXISTS (SELECT 1 FROM users u"
    "   WHERE lower(u.username) = lower(i.username)) THEN 'username'"
    "  WHEN EXISTS (SELECT 1 FROM users u"
    "   WHERE lower(u.email) = lower(i.email)) THEN 'email'"
    "  ELSE 'other' END"
    " FROM input i LEFT JOIN ins ON ins.name = lower(i.username)"
    " ORDER BY i.line";

static void
reject(struct import_run *run, size_t line, const char *why)
{
	fprintf(stderr, "%s" PROG ": line %zu: %s\n",
	    run->progress ? "\r\033[K" : "", line, why);
	run->rejected++;
}

static void
show_progress(const struct import_run *run, bool last)
{
	if (!run->progress)
		return;
	fprintf(stderr, "\r\033[K" PROG ": %zu lines: %zu %s, %zu present, "
	    "%zu rejected%s", run->line, run->imported,
	    run->dry_run ? "to import" : "imported", run->present,
	    run->rejected, last ? "\n" : "");
}

/* The batch's columns as the array literals of insert_sql's parameters. */
static int
build_params(const struct import_run *run, struct import_user *b, size_t n,
    const size_t *lines, struct textbuf col[11])
{
	char	 num[32], roles[IMPORT_ROLES_MAX * (FIELD_ROLE_MAX + 1) + 3];
	size_t	 i, r;

	(void)run;
	for (i = 0; i < 11; i++)
		textbuf_array_open(&col[i]);
	for (i = 0; i < n; i++) {
		snprintf(num, sizeof(num), "%zu", lines[i]);
		roles[0] = '\0';
		strlcat(roles, "{", sizeof(roles));
		for (r = 0; r < b[i].nroles; r++) {
			if (r > 0)
				strlcat(roles, ",", sizeof(roles));
			strlcat(roles, b[i].roles[r], sizeof(roles));
		}
		strlcat(roles, "}", sizeof(roles));
		textbuf_array_add(&col[0], num);
		textbuf_array_add(&col[1], b[i].id[0] != '\0' ? b[i].id : NULL);
		textbuf_array_add(&col[2], b[i].username);
		textbuf_array_add(&col[3], b[i].email);
		textbuf_array_add(&col[4], b[i].full_name);
		textbuf_array_add(&col[5], roles);
		textbuf_array_add(&col[6], b[i].is_active ? "t" : "f");
		textbuf_array_add(&col[7], b[i].email_verified ? "t" : "f");
		textbuf_array_add(&col[8], b[i].created_at[0] != '\0' ?
		    b[i].created_at : NULL);
		textbuf_array_add(&col[9], b[i].password_hash);
		textbuf_array_add(&col[10], pwformat_name(b[i].format));
	}
	for (i = 0; i < 11; i++)
		if (textbuf_array_close(&col[i]) == -1)
			return -1;
	return 0;
}

/*
 * Writes n rows of b in one transaction and counts each row's outcome.
 * Returns 0; 1 when the database refused the statement (nothing written:
 * the caller tries the rows one by one), with its message in msg; -1 when
 * the connection failed.
 */
static int
write_rows(struct import_run *run, struct import_user *b, const size_t *lines,
    size_t n, char *msg, size_t msglen)
{
	struct textbuf	 col[11];
	const char	*v[12];
	PGresult	*res = NULL;
	const char	*outcome, *prim, *cons;
	size_t		 i;
	int		 rc = -1;

	memset(col, 0, sizeof(col));
	if (build_params(run, b, n, lines, col) == -1) {
		fprintf(stderr, PROG ": out of memory\n");
		goto out;
	}
	for (i = 0; i < 11; i++)
		v[i] = col[i].s;
	v[11] = ctl_operator();
	if (ctl_begin(run->conn) == -1)
		goto out;
	res = PQexecParams(run->conn, insert_sql, 12, NULL, v, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		ctl_rollback(run->conn);
		if (PQstatus(run->conn) != CONNECTION_OK) {
			fprintf(stderr, PROG ": database: %s",
			    PQerrorMessage(run->conn));
			goto out;
		}
		/* The primary message only: the detail can quote the row. */
		prim = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		cons = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
		snprintf(msg, msglen, "the database refused it: %s%s%s",
		    prim != NULL ? prim : "unknown error",
		    cons != NULL ? " " : "", cons != NULL ? cons : "");
		rc = 1;
		goto out;
	}
	if ((run->dry_run ? (ctl_rollback(run->conn), 0) :
	    ctl_commit(run->conn)) == -1)
		goto out;
	for (i = 0; i < (size_t)PQntuples(res); i++) {
		size_t line = strtoul(PQgetvalue(res, (int)i, 0), NULL, 10);

		outcome = PQgetvalue(res, (int)i, 1);
		if (strcmp(outcome, "imported") == 0)
			run->imported++;
		else if (strcmp(outcome, "present") == 0)
			run->present++;
		else if (strcmp(outcome, "username") == 0)
			reject(run, line, "username: taken by a user with "
			    "another e-mail address");
		else if (strcmp(outcome, "email") == 0)
			reject(run, line, "email: belongs to another user");
		else
			reject(run, line, "id: belongs to another user");
	}
	rc = 0;
out:
	PQclear(res);
	for (i = 0; i < 11; i++)
		textbuf_free(&col[i], i == 9);	/* the hashes: wiped */
	return rc;
}

/* Writes the batch; a batch the database refuses goes row by row. */
static int
flush_batch(struct import_run *run)
{
	char	 msg[IMPORT_WHY_MAX];
	size_t	 i;
	int	 rc = 0;

	if (run->n == 0)
		return 0;
	switch (write_rows(run, run->batch, run->lines, run->n, msg,
	    sizeof(msg))) {
	case -1:
		rc = -1;
		break;
	case 1:
		for (i = 0; i < run->n && rc == 0; i++) {
			int one = write_rows(run, &run->batch[i],
			    &run->lines[i], 1, msg, sizeof(msg));

			if (one == -1)
				rc = -1;
			else if (one == 1)
				reject(run, run->lines[i], msg);
		}
		break;
	}
	for (i = 0; i < run->n; i++)
		import_user_clear(&run->batch[i]);
	run->n = 0;
	show_progress(run, false);
	return rc;
}

static void
lower_into(char *dst, const char *src, size_t len)
{
	size_t i;

	for (i = 0; src[i] != '\0' && i + 1 < len; i++)
		dst[i] = (char)tolower((unsigned char)src[i]);
	dst[i] = '\0';
}

/* Checks one line and queues it. */
static int
take_line(struct import_run *run, const char *line, size_t len)
{
	struct import_user	*u = &run->batch[run->n];
	char			 why[IMPORT_WHY_MAX];
	char			 key[FIELD_EMAIL_MAX + 1];
	char			 name[FIELD_USERNAME_MAX + 1];
	size_t			 first;

	if (import_line_parse(line, len, u, why) == -1) {
		reject(run, run->line, why);
		return 0;
	}
	/* Both are recorded, or neither: a rejected line holds no name. */
	lower_into(name, u->username, sizeof(name));
	lower_into(key, u->email, sizeof(key));
	if ((first = seen_find(run->names, name)) != 0) {
		snprintf(why, sizeof(why), "username: also on line %zu",
		    first);
		goto dup;
	}
	if ((first = seen_find(run->emails, key)) != 0) {
		snprintf(why, sizeof(why), "email: also on line %zu", first);
		goto dup;
	}
	if (seen_add(run->names, name, run->line) == 0 ||
	    seen_add(run->emails, key, run->line) == 0) {
		fprintf(stderr, PROG ": out of memory\n");
		import_user_clear(u);
		return -1;
	}
	run->lines[run->n++] = run->line;
	if (run->n == run->cap)
		return flush_batch(run);
	return 0;
dup:
	reject(run, run->line, why);
	import_user_clear(u);
	return 0;
}

static bool
blank(const char *s, size_t len)
{
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	return len == 0;
}

/* Reads lines of at most IMPORT_LINE_MAX bytes; a longer one is rejected
 * and skipped to its end. */
static int
read_lines(struct import_run *run, FILE *in)
{
	char	*buf;
	size_t	 len = 0;
	bool	 too_long = false;
	int	 c, rc = 0;

	/* Lines carry hashes: a buffer that is wiped when freed. */
	if ((buf = sodium_malloc(IMPORT_LINE_MAX + 1)) == NULL) {
		fprintf(stderr, PROG ": out of memory\n");
		return -1;
	}
	while (rc == 0) {
		c = getc(in);
		if (c != '\n' && c != EOF) {
			if (len < IMPORT_LINE_MAX)
				buf[len++] = (char)c;
			else
				too_long = true;
			continue;
		}
		if (c == EOF && len == 0 && !too_long)
			break;
		run->line++;
		if (too_long)
			reject(run, run->line, "line too long (more than "
			    "16 KiB)");
		else if (!blank(buf, len))
			rc = take_line(run, buf, len);
		sodium_memzero(buf, len);
		len = 0;
		too_long = false;
		if (c == EOF)
			break;
	}
	if (rc == 0 && ferror(in)) {
		fprintf(stderr, PROG ": read: %s\n", strerror(errno));
		rc = -1;
	}
	sodium_free(buf);
	return rc;
}

int
cmd_import(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dry-run",	no_argument,		NULL, 'n' },
		{ "batch",	required_argument,	NULL, 'b' },
		{ "quiet",	no_argument,		NULL, 'q' },
		{ "help",	no_argument,		NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct import_run	 run;
	long long		 batch = BATCH_DEFAULT;
	bool			 quiet = false;
	FILE			*in = NULL;
	int			 ch, rc = CTL_EXIT_FAIL;

	memset(&run, 0, sizeof(run));
	while ((ch = getopt_long(argc, argv, "nb:qh", opts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			run.dry_run = true;
			break;
		case 'b':
			if (num_parse(optarg, 1, BATCH_MAX, &batch, NULL) ==
			    -1) {
				fprintf(stderr, PROG ": --batch: a number "
				    "from 1 to %d\n", BATCH_MAX);
				return CTL_EXIT_USAGE;
			}
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			return ctl_help(ctl);
		default:
			return ctl_bad_option(ctl, argv);
		}
	}
	if (ctl_operands(ctl, argc - optind) == -1)
		return CTL_EXIT_USAGE;
	if (strcmp(argv[optind], "-") == 0)
		in = stdin;
	else if ((in = fopen(argv[optind], "r")) == NULL) {
		fprintf(stderr, PROG ": %s: %s\n", argv[optind],
		    strerror(errno));
		return CTL_EXIT_FAIL;
	}
	run.cap = (size_t)batch;
	run.progress = !quiet && isatty(STDERR_FILENO);
	run.batch = sodium_allocarray(run.cap, sizeof(*run.batch));
	run.lines = calloc(run.cap, sizeof(*run.lines));
	run.names = seen_new();
	run.emails = seen_new();
	if (run.batch == NULL || run.lines == NULL || run.names == NULL ||
	    run.emails == NULL) {
		fprintf(stderr, PROG ": out of memory\n");
		goto out;
	}
	memset(run.batch, 0, run.cap * sizeof(*run.batch));
	if ((run.conn = ctl_connect(ctl)) == NULL ||
	    ctl_db_migrate(run.conn, false) == -1)
		goto out;
	if (read_lines(&run, in) == -1 || flush_batch(&run) == -1)
		goto out;
	show_progress(&run, true);
	printf("%zu %s, %zu already present, %zu rejected, of %zu lines%s\n",
	    run.imported, run.dry_run ? "to import" : "imported", run.present,
	    run.rejected, run.line, run.dry_run ? " (dry run: nothing "
	    "written)" : "");
	rc = run.rejected == 0 ? CTL_EXIT_OK : CTL_EXIT_FAIL;
out:
	if (in != NULL && in != stdin)
		fclose(in);
	PQfinish(run.conn);
	if (run.batch != NULL) {
		for (size_t i = 0; i < run.n; i++)
			import_user_clear(&run.batch[i]);
		sodium_free(run.batch);
	}
	free(run.lines);
	seen_free(run.names);
	seen_free(run.emails);
	return rc;
}
