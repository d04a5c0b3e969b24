/*
 * ceil_http: the ceilings of the read paths on this machine, a bare
 * libevent evhttp server on N threads, each with its own event loop and
 * its own SO_REUSEPORT listener on 127.0.0.1:PORT (the kernel shares the
 * connections out), answering every request:
 *
 *	hello	"hello", nothing else: the most an evhttp server can do;
 *	select	after one PostgreSQL primary-key SELECT of a users row
 *		through libpq's asynchronous API on the loop (each thread its
 *		own connections, a query at a time on each, requests waiting
 *		in order): what a read that asks the database can do.
 *
 *	ceil_http hello|select -p port [-t threads] [-c conns_per_thread]
 *	    [-u user_id]
 *
 * The select mode takes the libpq URL from DATABASE_URL.  Runs until
 * SIGTERM or SIGINT.
 */
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <libpq-fe.h>

#define SELECT_SQL	"SELECT id, username, email, full_name, roles, " \
			"is_active, token_version, email_verified " \
			"FROM users WHERE id = $1"

struct waiting {
	TAILQ_ENTRY(waiting) q;
	struct evhttp_request *req;
};
TAILQ_HEAD(waitq, waiting);

struct pgconn {
	struct worker	*w;
	PGconn		*pg;
	struct event	*ev;
	struct evhttp_request *req;	/* the request of the query running */
};

struct worker {
	pthread_t	 th;
	struct event_base *base;
	struct evhttp	*http;
	bool		 select;
	struct pgconn	*conns;
	int		 nconns;
	struct waitq	 waiting;
};

static int	 port;
static const char *user_id = "00000000-0000-4000-8000-000000000000";
static const char *url;

static void
answer(struct evhttp_request *req, const char *body)
{
	struct evbuffer *b = evbuffer_new();

	evbuffer_add(b, body, strlen(body));
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain");
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

static void
send_query(struct pgconn *c, struct evhttp_request *req)
{
	const char *params[] = { user_id };

	c->req = req;
	if (!PQsendQueryPrepared(c->pg, "q", 1, params, NULL, NULL, 0)) {
		fprintf(stderr, "ceil_http: %s", PQerrorMessage(c->pg));
		exit(1);
	}
	PQflush(c->pg);
}

static void
on_pg(evutil_socket_t fd, short what, void *arg)
{
	struct pgconn *c = arg;
	struct worker *w = c->w;
	struct waiting *next;
	PGresult *res;

	(void)fd;
	(void)what;
	if (!PQconsumeInput(c->pg)) {
		fprintf(stderr, "ceil_http: %s", PQerrorMessage(c->pg));
		exit(1);
	}
	while (!PQisBusy(c->pg)) {
		if ((res = PQgetResult(c->pg)) == NULL) {
			/* The query is done: answer, take the next. */
			if (c->req != NULL)
				answer(c->req, "row\n");
			c->req = NULL;
			if ((next = TAILQ_FIRST(&w->waiting)) != NULL) {
				TAILQ_REMOVE(&w->waiting, next, q);
				send_query(c, next->req);
				free(next);
			}
			return;
		}
		PQclear(res);
	}
}

static void
on_request(struct evhttp_request *req, void *arg)
{
	struct worker *w = arg;
	struct waiting *wt;
	int	 i;

	if (!w->select) {
		answer(req, "hello\n");
		return;
	}
	for (i = 0; i < w->nconns; i++)
		if (w->conns[i].req == NULL) {
			send_query(&w->conns[i], req);
			return;
		}
	if ((wt = malloc(sizeof(*wt))) == NULL)
		exit(1);
	wt->req = req;
	TAILQ_INSERT_TAIL(&w->waiting, wt, q);
}

static int
listener(void)
{
	struct sockaddr_in sin;
	int	 fd, on = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 1024) == -1) {
		perror("ceil_http: listen");
		exit(1);
	}
	return fd;
}

static void
connect_pg(struct worker *w, int n)
{
	PGresult *res;
	int	 i;

	w->nconns = n;
	if ((w->conns = calloc((size_t)n, sizeof(*w->conns))) == NULL)
		exit(1);
	for (i = 0; i < n; i++) {
		struct pgconn *c = &w->conns[i];

		c->w = w;
		c->pg = PQconnectdb(url);
		if (PQstatus(c->pg) != CONNECTION_OK) {
			fprintf(stderr, "ceil_http: %s", PQerrorMessage(c->pg));
			exit(1);
		}
		res = PQprepare(c->pg, "q", SELECT_SQL, 1, NULL);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			fprintf(stderr, "ceil_http: prepare: %s",
			    PQerrorMessage(c->pg));
			exit(1);
		}
		PQclear(res);
		PQsetnonblocking(c->pg, 1);
		c->ev = event_new(w->base, PQsocket(c->pg), EV_READ |
		    EV_PERSIST, on_pg, c);
		event_add(c->ev, NULL);
	}
}

static void *
run(void *arg)
{
	struct worker *w = arg;

	event_base_dispatch(w->base);
	return NULL;
}

int
main(int argc, char *argv[])
{
	struct worker *ws;
	sigset_t sigs;
	int	 threads = 1, conns = 2, ch, i, sig;
	bool	 select_mode;

	if (argc < 2 || (strcmp(argv[1], "hello") != 0 &&
	    strcmp(argv[1], "select") != 0))
		goto usage;
	select_mode = strcmp(argv[1], "select") == 0;
	optind = 2;
	while ((ch = getopt(argc, argv, "p:t:c:u:")) != -1) {
		switch (ch) {
		case 'p': port = atoi(optarg); break;
		case 't': threads = atoi(optarg); break;
		case 'c': conns = atoi(optarg); break;
		case 'u': user_id = optarg; break;
		default: goto usage;
		}
	}
	if (port <= 0 || threads < 1 || threads > 64 || conns < 1)
		goto usage;
	if (select_mode && (url = getenv("DATABASE_URL")) == NULL) {
		fprintf(stderr, "ceil_http: DATABASE_URL is not set\n");
		return 2;
	}
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((ws = calloc((size_t)threads, sizeof(*ws))) == NULL)
		return 1;
	for (i = 0; i < threads; i++) {
		struct worker *w = &ws[i];

		TAILQ_INIT(&w->waiting);
		w->select = select_mode;
		if ((w->base = event_base_new()) == NULL ||
		    (w->http = evhttp_new(w->base)) == NULL ||
		    evhttp_accept_socket(w->http, listener()) == -1)
			return 1;
		evhttp_set_gencb(w->http, on_request, w);
		if (select_mode)
			connect_pg(w, conns);
		if (pthread_create(&w->th, NULL, run, w) != 0)
			return 1;
	}
	sigwait(&sigs, &sig);
	return 0;
usage:
	fprintf(stderr, "usage: ceil_http hello|select -p port [-t threads] "
	    "[-c conns_per_thread] [-u user_id]\n");
	return 2;
}
