#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr_limit.h"
#include "front.h"
#include "http/http.h"
#include "log.h"
#include "problem_reply.h"
#include "ratelimit.h"
#include "store/limits.h"
#include "util.h"

struct charge {
	struct ratelimit *rl;
	addr_limit_cb	*cb;
	void		*arg;
	char		 key[RL_ADDR_MAX + 1];
	char		 scope[16];
};

static void
charged(enum store_status st, bool passed, int64_t retry, void *arg)
{
	struct charge	 c = *(struct charge *)arg;

	free(arg);
	if (st != STORE_OK) {
		log_warn("%s limit of %s: not counted (%s): refused as "
		    "unavailable", c.scope, c.key, store_status_str(st));
		c.cb(ADDR_UNAVAILABLE, 1, c.arg);
		return;
	}
	if (passed) {
		c.cb(ADDR_PASS, 0, c.arg);
		return;
	}
	if (retry > UINT32_MAX)
		retry = UINT32_MAX;
	rl_block(c.rl, c.key, time(NULL), retry);
	c.cb(ADDR_BLOCKED, (unsigned int)retry, c.arg);
}

void
addr_limit_charge(struct front *f, struct ratelimit *rl, const char *scope,
    const char *key, addr_limit_cb *cb, void *arg)
{
	struct charge	*c;
	int64_t		 retry;

	if (rl_blocked(rl, key, time(NULL), &retry)) {
		cb(ADDR_BLOCKED, (unsigned int)retry, arg);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		cb(ADDR_UNAVAILABLE, 1, arg);
		return;
	}
	if (rl_key(key, c->key) == -1) {
		free(c);
		cb(ADDR_PASS, 0, arg);
		return;
	}
	c->rl = rl;
	c->cb = cb;
	c->arg = arg;
	(void)str_copy(c->scope, scope, sizeof(c->scope));
	if (limits_charge(f->db, scope, c->key, rl_limit(rl), rl_window(rl),
	    charged, c) == -1) {
		/* Nothing was sent: charged() will not run to free c. */
		free(c);
		cb(ADDR_UNAVAILABLE, 1, arg);
	}
}

static void
forgiven(enum store_status st, void *arg)
{
	(void)arg;
	/* NOT_FOUND: the window ended meanwhile, or a reload shortened it */
	if (st != STORE_OK && st != STORE_NOT_FOUND)
		log_warn("a limit's forgiveness was lost (%s): the attempt "
		    "stays counted", store_status_str(st));
}

void
addr_limit_forgive(struct front *f, struct ratelimit *rl, const char *scope,
    const char *key)
{
	char	 k[RL_ADDR_MAX + 1];

	rl_forgive(rl, key);
	if (rl_key(key, k) == -1)
		return;
	if (limits_forgive(f->db, scope, k, rl_limit(rl), forgiven,
	    NULL) == -1)
		log_warn("a limit's forgiveness was lost: the attempt stays "
		    "counted");
}

void
addr_limit_refuse(struct http_req *r, enum addr_verdict v,
    unsigned int retry, const char *refusal)
{
	if (v == ADDR_BLOCKED)
		problem_retry(r, PROBLEM_RATE_LIMITED, retry, refusal);
	else
		problem_retry(r, PROBLEM_UNAVAILABLE, retry > 0 ? retry : 1,
		    "the database is unavailable: try again");
}
