/*
 * wardenctl audit tail: the latest audit events, oldest first, and with
 * --follow the new ones as they come (a poll every second until SIGINT or
 * SIGTERM).
 *
 * Ids are taken when a row is inserted, not when it commits: an import's
 * batch can commit its lower ids after a login's higher one was printed.
 * So --follow does not poll "above the last id printed" but above a
 * watermark that trails by SETTLE_SECONDS of event time, and leaves out
 * the ids it printed since (passed back to each poll).  An event whose
 * transaction takes longer than that to commit could still be missed.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <libpq-fe.h>

#include "ctl.h"
#include "fields.h"
#include "table.h"
#include "textbuf.h"
#include "util.h"

#define TAIL_DEFAULT	20
#define TAIL_MAX	100000
#define FOLLOW_BATCH	1000
#define SETTLE_SECONDS	"60"

/* $1 user id or NULL, $2 event or "", $3 after this id, $4 limit, $5
 * ids to leave out (an array literal, or NULL). */
#define EVENTS(order)							\
	"SELECT a.id, " CTL_TS("a.at") ", a.event, a.user_id,"		\
	" u.username, a.remote_addr, a.detail->>'operator',"		\
	" nullif((coalesce(a.detail, '{}') - 'by' - 'operator')::text,"	\
	" '{}'), a.detail::text"					\
	" FROM audit_events a LEFT JOIN users u ON u.id = a.user_id"	\
	" WHERE ($1::uuid IS NULL OR a.user_id = $1::uuid)"		\
	" AND ($2 = '' OR a.event = $2) AND a.id > $3::bigint"		\
	" AND NOT (a.id = ANY (coalesce($5::bigint[], '{}')))"		\
	" ORDER BY a.id " order " LIMIT $4::int"
enum { A_ID, A_AT, A_EVENT, A_USER_ID, A_USERNAME, A_REMOTE, A_OPERATOR,
	A_REST, A_DETAIL };

static const char latest_sql[] =
    "SELECT * FROM (" EVENTS("DESC") ") AS latest ORDER BY 1";
static const char newer_sql[] = EVENTS("ASC");

/* The watermark's next place: the newest event older than the settling
 * time.  $1 the current watermark. */
static const char settled_sql[] =
    "SELECT coalesce(max(id), $1::bigint) FROM audit_events"
    " WHERE id > $1::bigint AND at < now() - interval '" SETTLE_SECONDS
    " seconds'";

/* The ids printed above the watermark, ascending. */
struct printed {
	long long	*ids;
	size_t		 n, cap;
};

static volatile sig_atomic_t stop;

static void
on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static cJSON *
event_json(const PGresult *res, int i)
{
	cJSON		*o = cJSON_CreateObject(), *d;
	const char	*detail = ctl_col(res, i, A_DETAIL);

	if (o == NULL)
		return NULL;
	cJSON_AddNumberToObject(o, "id", strtod(ctl_col(res, i, A_ID), NULL));
	cJSON_AddStringToObject(o, "at", ctl_col(res, i, A_AT));
	cJSON_AddStringToObject(o, "event", ctl_col(res, i, A_EVENT));
	table_json_string_or_null(o, "user_id", ctl_col(res, i, A_USER_ID));
	table_json_string_or_null(o, "username", ctl_col(res, i, A_USERNAME));
	table_json_string_or_null(o, "remote_addr", ctl_col(res, i, A_REMOTE));
	table_json_string_or_null(o, "operator", ctl_col(res, i, A_OPERATOR));
	if (detail != NULL && (d = cJSON_Parse(detail)) != NULL)
		cJSON_AddItemToObject(o, "detail", d);
	else
		cJSON_AddNullToObject(o, "detail");
	return o;
}

/*
 * Prints the rows of res: into t, or as JSON (an array's items with
 * *first, or one object a line when lines); *last is the highest id, and
 * each id goes into p too (when not NULL).  0 or -1.
 */
static int
print_events(const PGresult *res, struct table *t, bool lines, bool *first,
    char *last, size_t lastlen, struct printed *p)
{
	long long	*ids;
	int		 i;

	for (i = 0; i < PQntuples(res); i++) {
		str_copy(last, ctl_col(res, i, A_ID), lastlen);
		if (p != NULL) {
			if (p->n == p->cap) {
				p->cap = p->cap == 0 ? 1024 : p->cap * 2;
				if ((ids = reallocarray(p->ids, p->cap,
				    sizeof(*ids))) == NULL)
					return -1;
				p->ids = ids;
			}
			p->ids[p->n++] = strtoll(ctl_col(res, i, A_ID), NULL, 10);
		}
		if (t == NULL && lines) {
			if (table_json_print(stdout, event_json(res, i)) == -1)
				return -1;
			continue;
		}
		if (t == NULL) {
			if (table_json_item(stdout, event_json(res, i),
			    first) == -1)
				return -1;
			continue;
		}
		const char *cells[] = {
			ctl_col(res, i, A_ID), ctl_col(res, i, A_AT),
			ctl_col(res, i, A_EVENT),
			ctl_col(res, i, A_USERNAME) != NULL ?
			    ctl_col(res, i, A_USERNAME) : ctl_col(res, i, A_USER_ID),
			ctl_col(res, i, A_OPERATOR), ctl_col(res, i, A_REMOTE),
			ctl_col(res, i, A_REST),
		};
		if (table_add(t, cells) == -1)
			return -1;
	}
	return t != NULL ? table_print(t, stdout) : 0;
}

/* The ids of p as a PostgreSQL array literal in lit.  0 or -1. */
static int
printed_literal(const struct printed *p, struct textbuf *lit)
{
	char	 id[24];
	size_t	 i;

	textbuf_array_open(lit);
	for (i = 0; i < p->n; i++) {
		str_printf(id, sizeof(id), "%lld", p->ids[i]);
		textbuf_array_add(lit, id);
	}
	return textbuf_array_close(lit);
}

/*
 * Moves the watermark mark up to the newest event older than the settling
 * time, and forgets the printed ids at or below it.  0 or -1.
 */
static int
settle(PGconn *conn, char *mark, size_t marklen, struct printed *p)
{
	const char	*v[1] = { mark };
	PGresult	*res;
	long long	 m;
	size_t		 i, kept = 0;

	if ((res = ctl_query(conn, settled_sql, 1, v)) == NULL)
		return -1;
	str_copy(mark, PQgetvalue(res, 0, 0), marklen);
	PQclear(res);
	m = strtoll(mark, NULL, 10);
	for (i = 0; i < p->n; i++)
		if (p->ids[i] > m)
			p->ids[kept++] = p->ids[i];
	p->n = kept;
	return 0;
}

/* --user: an id as it is (events outlive their users), else a user's. */
static int
user_filter(PGconn *conn, const char *name, char *id, size_t len)
{
	struct ctl_user	 u;
	int		 rc;

	if (field_is_uuid(name))
		return str_copy(id, name, len) == 0 ? 0 : CTL_EXIT_FAIL;
	if ((rc = ctl_user_find(conn, name, false, &u)) != 0)
		return rc;
	return str_copy(id, u.id, len) == 0 ? 0 : CTL_EXIT_FAIL;
}

static bool
is_event_name(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz_");

	return n > 0 && n <= 32 && s[n] == '\0';
}

int
cmd_audit_tail(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "lines", required_argument, NULL, 'n' },
		{ "follow", no_argument, NULL, 'f' },
		{ "user", required_argument, NULL, 'u' },
		{ "event", required_argument, NULL, 'e' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const headers[] = {
		"ID", "AT", "EVENT", "USER", "OPERATOR", "ADDRESS", "DETAIL",
	};
	struct sigaction sa;
	const char	*user = NULL, *event = "", *errstr, *v[5];
	char		 user_id[FIELD_UUID_LEN + 1], last[24] = "0", limit[16];
	char		 mark[24];
	struct printed	 p = { NULL, 0, 0 };
	struct textbuf	 lit = { NULL, 0, 0, false, false };
	bool		 full;
	long long	 n = TAIL_DEFAULT;
	bool		 follow = false, json = false, first = true;
	struct table	*t = NULL;
	PGconn		*conn = NULL;
	PGresult	*res;
	int		 ch, rc = CTL_EXIT_FAIL;

	while ((ch = getopt_long(argc, argv, "n:fu:e:jh", opts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			if (num_parse(optarg, 1, TAIL_MAX, &n, &errstr) == -1) {
				fprintf(stderr, PROG ": -n %s: %s (1 to %d)\n",
				    optarg, errstr, TAIL_MAX);
				return CTL_EXIT_USAGE;
			}
			break;
		case 'f':
			follow = true;
			break;
		case 'u':
			user = optarg;
			break;
		case 'e':
			if (!is_event_name(optarg)) {
				fprintf(stderr, PROG ": --event %s: not an "
				    "event name\n", optarg);
				return CTL_EXIT_USAGE;
			}
			event = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			return ctl_help(ctl);
		default:
			return ctl_bad_option(ctl, argv);
		}
	}
	if (ctl_operands(ctl, argc - optind) == -1)
		return CTL_EXIT_USAGE;
	if (!json && (t = table_new(sizeof(headers) / sizeof(headers[0]),
	    headers)) == NULL)
		return CTL_EXIT_FAIL;
	if ((conn = ctl_connect(ctl)) == NULL)
		goto out;
	if (user != NULL &&
	    (rc = user_filter(conn, user, user_id, sizeof(user_id))) != 0)
		goto out;
	rc = CTL_EXIT_FAIL;

	str_printf(limit, sizeof(limit), "%lld", n);
	v[0] = user != NULL ? user_id : NULL;
	v[1] = event;
	v[2] = last;
	v[3] = limit;
	v[4] = NULL;
	if ((res = ctl_query(conn, latest_sql, 5, v)) == NULL)
		goto out;
	if (json && !follow && table_json_begin(stdout, &first) == -1) {
		PQclear(res);
		goto out;
	}
	if (print_events(res, t, follow, &first, last, sizeof(last),
	    NULL) == -1) {
		PQclear(res);
		goto out;
	}
	PQclear(res);
	if (!follow) {
		rc = json && table_json_end(stdout) == -1 ?
		    CTL_EXIT_FAIL : CTL_EXIT_OK;
		goto out;
	}

	/* The first watermark: the newest event of all, or the last one
	 * printed, so that each poll reads only what came after. */
	if (strcmp(last, "0") == 0) {
		if ((res = ctl_query(conn, "SELECT coalesce(max(id), 0)"
		    " FROM audit_events", 0, NULL)) == NULL)
			goto out;
		str_copy(last, PQgetvalue(res, 0, 0), sizeof(last));
		PQclear(res);
	}
	str_copy(mark, last, sizeof(mark));

	/* Until interrupted: no SA_RESTART, so that sleep ends at once. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	str_printf(limit, sizeof(limit), "%d", FOLLOW_BATCH);
	v[2] = mark;
	while (!stop) {
		sleep(1);
		if (stop)
			break;
		if (printed_literal(&p, &lit) == -1)
			goto out;
		v[4] = lit.s;
		if ((res = ctl_query(conn, newer_sql, 5, v)) == NULL)
			goto out;
		full = PQntuples(res) == FOLLOW_BATCH;
		if (print_events(res, t, true, &first, last, sizeof(last),
		    &p) == -1) {
			PQclear(res);
			goto out;
		}
		PQclear(res);
		/* A full batch may have left older rows: no move yet. */
		if (!full && settle(conn, mark, sizeof(mark), &p) == -1)
			goto out;
	}
	rc = CTL_EXIT_OK;
out:
	free(p.ids);
	textbuf_free(&lit, false);
	table_free(t);
	PQfinish(conn);
	return rc;
}
