/*
 * The sender (sender.h): SMTP through libcurl's multi interface on the
 * libevent loop (net/curl_loop.h), and the dir: writer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <sodium.h>

#include "log.h"
#include "net/curl_loop.h"
#include "sender.h"
#include "util.h"

#define PASSWORD_MAX	1024

struct mail_sender {
	struct event_base	*base;
	struct mail_sender_opts	 o;
	char			 user[256];
	char			*password;	/* sodium_malloc'd, or NULL */
	char			 url[MAIL_HOST_MAX + 32];
	struct curl_loop	*loop;
	size_t			 inflight;
	struct job		*jobs;		/* in flight, to free */
};

struct job {
	struct job		*next, *prev;
	struct mail_sender	*s;
	CURL			*easy;
	bool			 started;	/* on the loop */
	struct curl_slist	*rcpt;
	char			*msg;
	size_t			 len, off;
	mail_sent_cb		*cb;
	void			*arg;
	struct event		*done;		/* dir:, to call back later */
	char			 why[MAIL_ERROR_MAX];
	bool			 failed;
	char			 curlerr[CURL_ERROR_SIZE];
};

static void
job_free(struct job *j)
{
	struct mail_sender *s = j->s;

	if (j->prev != NULL)
		j->prev->next = j->next;
	else if (s->jobs == j)
		s->jobs = j->next;
	if (j->next != NULL)
		j->next->prev = j->prev;
	if (j->easy != NULL) {
		if (j->started)
			curl_loop_cancel(s->loop, j->easy);
		curl_easy_cleanup(j->easy);
	}
	curl_slist_free_all(j->rcpt);
	if (j->msg != NULL) {
		sodium_memzero(j->msg, j->len);
		free(j->msg);
	}
	if (j->done != NULL)
		event_free(j->done);
	s->inflight--;
	free(j);
}

/* Calls the job's callback once and frees it. */
static void
job_finish(struct job *j)
{
	mail_sent_cb *cb = j->cb;
	void	*arg = j->arg;
	char	 why[MAIL_ERROR_MAX];
	bool	 failed = j->failed;

	(void)str_copy(why, j->why, sizeof(why));
	job_free(j);
	cb(failed ? why : NULL, arg);
}

/* ---- SMTP through the loop's curl (net/curl_loop.h) ---- */

static void
smtp_done(CURL *easy, CURLcode rc, void *arg)
{
	struct job *j = arg;

	(void)easy;
	/* out of the multi handle already: job_free only cleans it up */
	j->started = false;
	if (rc != CURLE_OK) {
		j->failed = true;
		(void)str_printf(j->why, sizeof(j->why), "%s%s%s",
		    rc == CURLE_ABORTED_BY_CALLBACK ? "stopped" :
		    curl_easy_strerror(rc), j->curlerr[0] != '\0' ? ": " : "",
		    j->curlerr);
	}
	job_finish(j);
}

static size_t
read_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	struct job *j = arg;
	size_t	 n = size * nitems;

	if (n > j->len - j->off)
		n = j->len - j->off;
	memcpy(buf, j->msg + j->off, n);
	j->off += n;
	return n;
}

static int
start_smtp(struct mail_sender *s, struct job *j, const char *from,
    const char *to)
{
	char	 addr[MAIL_HOST_MAX + 8];
	CURL	*e;
	int	 rc = 0;

	if ((e = j->easy = curl_easy_init()) == NULL)
		return -1;
	if (str_printf(addr, sizeof(addr), "<%s>", to) == -1 ||
	    (j->rcpt = curl_slist_append(NULL, addr)) == NULL ||
	    str_printf(addr, sizeof(addr), "<%s>", from) == -1)
		return -1;
#define SET(opt, val)	rc |= (int)curl_easy_setopt(e, opt, val)
	SET(CURLOPT_URL, s->url);
	SET(CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_CONNECTTIMEOUT, (long)MAIL_CONNECT_TIMEOUT);
	SET(CURLOPT_TIMEOUT, (long)MAIL_SEND_TIMEOUT);
	SET(CURLOPT_USE_SSL, (long)(s->o.transport.kind == MAIL_SMTPS ||
	    s->o.starttls_required ? CURLUSESSL_ALL : CURLUSESSL_TRY));
	SET(CURLOPT_MAIL_FROM, addr);
	SET(CURLOPT_MAIL_RCPT, j->rcpt);
	SET(CURLOPT_UPLOAD, 1L);
	SET(CURLOPT_INFILESIZE_LARGE, (curl_off_t)j->len);
	SET(CURLOPT_READFUNCTION, read_cb);
	SET(CURLOPT_READDATA, j);
	SET(CURLOPT_ERRORBUFFER, j->curlerr);
	if (s->user[0] != '\0') {
		SET(CURLOPT_USERNAME, s->user);
		SET(CURLOPT_PASSWORD, s->password != NULL ? s->password : "");
	}
#undef SET
	if (rc != 0)
		return -1;
	if (curl_loop_add(s->loop, e, smtp_done, j) == -1)
		return -1;
	j->started = true;
	return 0;
}

/* ---- dir: ---- */

static void
dir_done(evutil_socket_t fd, short what, void *arg)
{
	job_finish(arg);
}

static int
write_all(int fd, const char *p, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Writes the message as <dir>/<time>-<name>.eml: a temporary name first,
 * then rename(2), so that a reader never sees half a message. */
static void
write_eml(struct mail_sender *s, struct job *j, const char *name)
{
	char	 tmp[MAIL_DIR_MAX + 128], path[MAIL_DIR_MAX + 128];
	long long now = (long long)time(NULL);
	int	 fd, rc;

	if (str_printf(path, sizeof(path), "%s/%lld-%s.eml",
	    s->o.transport.dir, now, name) == -1 ||
	    str_printf(tmp, sizeof(tmp), "%s/.%lld-%s.eml.tmp",
	    s->o.transport.dir, now, name) == -1) {
		j->failed = true;
		str_copy(j->why, "the file name is too long", sizeof(j->why));
		return;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0640);
	if (fd != -1 && write_all(fd, j->msg, j->len) == 0 && fsync(fd) == 0) {
		rc = close(fd);
		fd = -1;
		if (rc == 0 && rename(tmp, path) == 0)
			return;
	}
	j->failed = true;
	(void)str_printf(j->why, sizeof(j->why), "%s: %s",
	    s->o.transport.dir, strerror(errno));
	if (fd != -1)
		close(fd);
	(void)unlink(tmp);
}

static bool
name_ok(const char *n)
{
	size_t	 len = strlen(n);

	return len > 0 && len <= 64 && strspn(n, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == len;
}

int
mail_send(struct mail_sender *s, const char *from, const char *to,
    char *msg, size_t len, const char *name, mail_sent_cb *cb, void *arg)
{
	struct job *j;
	struct timeval now = { 0, 0 };

	if (!name_ok(name) || (j = calloc(1, sizeof(*j))) == NULL) {
		sodium_memzero(msg, len);
		free(msg);
		return -1;
	}
	j->s = s;
	j->msg = msg;
	j->len = len;
	j->cb = cb;
	j->arg = arg;
	j->next = s->jobs;
	if (s->jobs != NULL)
		s->jobs->prev = j;
	s->jobs = j;
	s->inflight++;
	if (s->o.transport.kind == MAIL_DIR) {
		write_eml(s, j, name);
		if ((j->done = evtimer_new(s->base, dir_done, j)) == NULL ||
		    evtimer_add(j->done, &now) == -1) {
			j->cb = NULL;
			job_free(j);
			return -1;
		}
		return 0;
	}
	if (start_smtp(s, j, from, to) == -1) {
		job_free(j);
		return -1;
	}
	return 0;
}

size_t
mail_sender_inflight(const struct mail_sender *s)
{
	return s != NULL ? s->inflight : 0;
}

/* ---- life ---- */

/* The first line of path, without its line end, into sodium_malloc'd
 * memory. */
static char *
read_password(const char *path, char *err, size_t errlen)
{
	char	*pw;
	ssize_t	 n;
	size_t	 got = 0;
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		(void)str_printf(err, errlen, "smtp_password_file %s: %s",
		    path, strerror(errno));
		return NULL;
	}
	if ((pw = sodium_malloc(PASSWORD_MAX + 1)) == NULL) {
		close(fd);
		str_copy(err, "out of memory", errlen);
		return NULL;
	}
	while (got < PASSWORD_MAX) {
		n = read(fd, pw + got, PASSWORD_MAX - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	pw[got] = '\0';
	pw[strcspn(pw, "\r\n")] = '\0';
	if (got == PASSWORD_MAX || pw[0] == '\0') {
		sodium_free(pw);
		(void)str_printf(err, errlen, "smtp_password_file %s: empty, or "
		    "longer than %d bytes", path, PASSWORD_MAX);
		return NULL;
	}
	return pw;
}

struct mail_sender *
mail_sender_new(struct event_base *base, const struct mail_sender_opts *o,
    char *err, size_t errlen)
{
	struct mail_sender *s;
	const char *scheme;

	if (o->transport.kind == MAIL_OFF) {
		str_copy(err, "mail_transport is off", errlen);
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		str_copy(err, "out of memory", errlen);
		return NULL;
	}
	s->base = base;
	s->o = *o;
	s->o.user = NULL;
	s->o.password_file = NULL;
	if (o->transport.kind == MAIL_DIR)
		return s;

	if (o->user != NULL && str_copy(s->user, o->user,
	    sizeof(s->user)) == -1) {
		str_copy(err, "smtp_user: too long", errlen);
		goto bad;
	}
	if (o->password_file != NULL && o->password_file[0] != '\0' &&
	    (s->password = read_password(o->password_file, err,
	    errlen)) == NULL)
		goto bad;
	if (s->password != NULL)
		(void)sodium_mprotect_readonly(s->password);
	scheme = o->transport.kind == MAIL_SMTPS ? "smtps" : "smtp";
	(void)str_printf(s->url, sizeof(s->url), "%s://%s:%u", scheme,
	    o->transport.host, o->transport.port);
	if ((s->loop = curl_loop_new(base)) == NULL) {
		str_copy(err, "libcurl failed to initialise", errlen);
		goto bad;
	}
	return s;
bad:
	mail_sender_free(s);
	return NULL;
}

void
mail_sender_free(struct mail_sender *s)
{
	if (s == NULL)
		return;
	while (s->jobs != NULL) {
		s->jobs->failed = true;
		str_copy(s->jobs->why, "stopped", sizeof(s->jobs->why));
		if (s->jobs->cb != NULL)
			job_finish(s->jobs);
		else
			job_free(s->jobs);
	}
	curl_loop_free(s->loop);
	if (s->password != NULL)
		sodium_free(s->password);	/* wipes it */
	free(s);
}
