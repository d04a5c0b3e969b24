/* Unit tests of daemon/api/h_register.c: a registration refused before it
 * reaches the hasher still wipes the password in the parsed body before
 * freeing it, a taken name is answered before any hashing, and an address
 * past its share of the hasher queue gets 429.
 * cJSON_Delete() is replaced (tests/unit/wrap.mk) to look at every tree
 * the handler frees; the reply setters of http.c record the answer
 * instead of sending it; users_taken() and hc_hash() are fakes that keep
 * what they were asked; limits_charge() is a fake of the count all hosts
 * share (store/limits.h), answering at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "config.h"
#include "api/front.h"
#include "api/ratelimit.h"
#include "api/handlers.h"
#include "hc/hasher_client.h"
#include "http/http.h"
#include "store/limits.h"
#include "store/users.h"

#define PW_MARK	'Q'

static struct {
	int	 replies;
	int	 status;
	char	 body[1024];	/* of the last reply */
	int	 trees;		/* freed trees that held a "password" */
	int	 unwiped;	/* ... whose password was still readable */
	int	 lookups;	/* users_taken() calls */
	char	 username[64];
	users_taken_cb *taken_cb;
	void	*taken_arg;
	int	 hashes;	/* hc_hash() calls */
	char	 password[64];
	bool	 hasher_takes;	/* hc_hash() takes requests (else busy) */
	hc_hash_cb *hash_cb[8];	/* ... and keeps their callbacks */
	void	*hash_arg[8];
} seen;

void	__real_cJSON_Delete(cJSON *);
void	__wrap_cJSON_Delete(cJSON *);
void	__wrap_http_reply_raw(struct http_req *, int, const char *,
	    const void *, size_t);
int	__wrap_http_set_header(struct http_req *, const char *, const char *);
void	__wrap_http_no_store(struct http_req *, bool);
bool	__wrap_http_req_content_type_is(struct http_req *, const char *);
int	__wrap_users_taken(struct db_pool *, const char *, const char *,
	    users_taken_cb *, void *);
struct hc_req *__wrap_hc_hash(struct hc *, const char *, const uint8_t *,
	    size_t, hc_hash_cb *, void *, enum hc_status *);
int	__wrap_limits_charge(struct db_pool *, const char *, const char *,
	    unsigned int, int64_t, limits_charged_cb *, void *);
bool	__wrap_http_req_answered(const struct http_req *);

/* The fake request is never answered by a timeout. */
bool
__wrap_http_req_answered(const struct http_req *r)
{
	(void)r;
	return false;
}

/* The shared count: attempts per key, as address_limits keeps them. */
static struct {
	char		 key[8][LIMITS_KEY_MAX + 1];
	unsigned int	 count[8];
	int		 n;
} counts;

int
__wrap_limits_charge(struct db_pool *pool, const char *scope,
    const char *key, unsigned int limit, int64_t window,
    limits_charged_cb *cb, void *arg)
{
	int	 i;

	(void)pool;
	assert_string_equal(scope, "register");
	for (i = 0; i < counts.n; i++)
		if (strcmp(counts.key[i], key) == 0)
			break;
	if (i == counts.n) {
		assert_true(counts.n < 8);
		snprintf(counts.key[counts.n++], LIMITS_KEY_MAX + 1, "%s", key);
	}
	if (counts.count[i] <= limit)
		counts.count[i]++;
	cb(STORE_OK, counts.count[i] <= limit, window, arg);
	return 0;
}

void
__wrap_cJSON_Delete(cJSON *o)
{
	cJSON	*pw = cJSON_GetObjectItemCaseSensitive(o, "password");

	if (cJSON_IsString(pw)) {
		seen.trees++;
		if (strchr(pw->valuestring, PW_MARK) != NULL)
			seen.unwiped++;
	}
	__real_cJSON_Delete(o);
}

void
__wrap_http_reply_raw(struct http_req *r, int status, const char *ctype,
    const void *data, size_t len)
{
	seen.replies++;
	seen.status = status;
	snprintf(seen.body, sizeof(seen.body), "%.*s", (int)len,
	    (const char *)data);
}

int
__wrap_http_set_header(struct http_req *r, const char *name,
    const char *value)
{
	return 0;
}

void
__wrap_http_no_store(struct http_req *r, bool pragma)
{
}

bool
__wrap_http_req_content_type_is(struct http_req *r, const char *type)
{
	return strcmp(type, "application/json") == 0;
}

/* Keeps the look-up for the test to answer. */
int
__wrap_users_taken(struct db_pool *pool, const char *username,
    const char *email, users_taken_cb *cb, void *arg)
{
	seen.lookups++;
	snprintf(seen.username, sizeof(seen.username), "%s", username);
	seen.taken_cb = cb;
	seen.taken_arg = arg;
	return 0;
}

/* Notes the password, then keeps the request for the test to answer,
 * or refuses it as a full hasher queue does. */
struct hc_req *
__wrap_hc_hash(struct hc *c, const char *user_id, const uint8_t *pw,
    size_t pwlen, hc_hash_cb *cb, void *arg, enum hc_status *why)
{
	snprintf(seen.password, sizeof(seen.password), "%.*s", (int)pwlen,
	    (const char *)pw);
	if (!seen.hasher_takes || seen.hashes == 8) {
		seen.hashes++;
		*why = HC_BUSY;
		return NULL;
	}
	seen.hash_cb[seen.hashes] = cb;
	seen.hash_arg[seen.hashes] = arg;
	seen.hashes++;
	return (struct hc_req *)&seen;
}

static struct cfg cfg;
static struct front front;
static struct caller caller;
static struct http_req req;

static int
setup(void **state)
{
	memset(&seen, 0, sizeof(seen));
	memset(&counts, 0, sizeof(counts));
	memset(&req, 0, sizeof(req));
	memset(&caller, 0, sizeof(caller));
	memset(&front, 0, sizeof(front));
	cfg_defaults(&cfg);
	front.cfg = &cfg;
	front.register_limit = rl_new(cfg.addr_register_limit,
	    cfg.addr_register_window, 64);
	assert_non_null(front.register_limit);
	caller.front = &front;
	req.caller = &caller;
	return 0;
}

static int
teardown(void **state)
{
	rl_free(front.register_limit);
	cfg_free(&cfg);
	return 0;
}

/* Runs h_register on body and checks it answered status, wiping. */
static void
register_refused(const char *body, int status)
{
	char	*copy = strdup(body);

	assert_non_null(copy);
	req.body = copy;
	req.body_len = strlen(copy);
	h_register(&req);
	assert_int_equal(seen.replies, 1);
	assert_int_equal(seen.status, status);
	assert_int_equal(seen.trees, 1);
	assert_int_equal(seen.unwiped, 0);
	free(copy);
}

static void
test_invalid_username_wipes_the_password(void **state)
{
	register_refused("{\"username\":\"-bad\",\"email\":\"a@example.test\","
	    "\"password\":\"QQQQ-long-enough-QQQQ\"}", 422);
}

static void
test_unknown_member_wipes_the_password(void **state)
{
	register_refused("{\"username\":\"alice\",\"email\":\"a@example.test\","
	    "\"password\":\"QQQQ-long-enough-QQQQ\",\"admin\":true}", 422);
}

static void
test_an_address_past_its_registration_limit_gets_429_unread(void **state)
{
	static const char body[] = "{\"username\":\"-bad\","
	    "\"email\":\"a@example.test\",\"password\":\"QQQQ-long-QQQQ\"}";
	char	*copy;

	rl_configure(front.register_limit, 2, 600);
	snprintf(req.remote, sizeof(req.remote), "%s", "203.0.113.9");
	register_refused(body, 422);
	memset(&seen, 0, sizeof(seen));
	register_refused(body, 422);
	memset(&seen, 0, sizeof(seen));
	/* The third is refused before its body is parsed: no tree. */
	assert_non_null(copy = strdup(body));
	req.body = copy;
	req.body_len = strlen(copy);
	h_register(&req);
	assert_int_equal(seen.replies, 1);
	assert_int_equal(seen.status, 429);
	assert_int_equal(seen.trees, 0);
	free(copy);
	/* Another address is not held back. */
	memset(&seen, 0, sizeof(seen));
	snprintf(req.remote, sizeof(req.remote), "%s", "203.0.113.10");
	register_refused(body, 422);
}

static void
test_overlong_password_is_wiped(void **state)
{
	char	 body[8192];
	char	 pw[4200];

	memset(pw, PW_MARK, sizeof(pw) - 1);
	pw[sizeof(pw) - 1] = '\0';
	snprintf(body, sizeof(body), "{\"username\":\"alice\","
	    "\"email\":\"a@example.test\",\"password\":\"%s\"}", pw);
	register_refused(body, 422);
}

#define GOOD_BODY "{\"username\":\"alice\",\"email\":\"a@example.test\"," \
	"\"password\":\"QQQQ-long-enough-QQQQ\"}"

/* Runs h_register on a valid body: it asks whether the names are taken,
 * and has wiped and freed the body by then. */
static void
register_looked_up(void)
{
	char	*copy = strdup(GOOD_BODY);

	assert_non_null(copy);
	req.body = copy;
	req.body_len = strlen(copy);
	h_register(&req);
	assert_int_equal(seen.lookups, 1);
	assert_string_equal(seen.username, "alice");
	assert_int_equal(seen.replies, 0);
	assert_int_equal(seen.trees, 1);
	assert_int_equal(seen.unwiped, 0);
	free(copy);
	req.body = NULL;
}

static void
test_a_taken_username_is_409_before_any_hashing(void **state)
{
	register_looked_up();
	seen.taken_cb(STORE_CONFLICT, USERS_TAKEN_USERNAME, seen.taken_arg);
	assert_int_equal(seen.replies, 1);
	assert_int_equal(seen.status, 409);
	assert_non_null(strstr(seen.body, "the username is taken"));
	assert_int_equal(seen.hashes, 0);
}

static void
test_a_taken_email_is_409_before_any_hashing(void **state)
{
	register_looked_up();
	seen.taken_cb(STORE_CONFLICT, USERS_TAKEN_EMAIL, seen.taken_arg);
	assert_int_equal(seen.status, 409);
	assert_non_null(strstr(seen.body, "e-mail address is already"));
	assert_int_equal(seen.hashes, 0);
}

static void
test_a_lost_database_is_503_before_any_hashing(void **state)
{
	register_looked_up();
	seen.taken_cb(STORE_UNAVAILABLE, USERS_TAKEN_NONE, seen.taken_arg);
	assert_int_equal(seen.status, 503);
	assert_int_equal(seen.hashes, 0);
}

static void
test_free_names_send_the_password_to_the_hasher(void **state)
{
	register_looked_up();
	seen.taken_cb(STORE_OK, USERS_TAKEN_NONE, seen.taken_arg);
	assert_int_equal(seen.hashes, 1);
	assert_string_equal(seen.password, "QQQQ-long-enough-QQQQ");
	/* The fake hasher is full: 503, once. */
	assert_int_equal(seen.replies, 1);
	assert_int_equal(seen.status, 503);
}

/* Sends a valid registration from addr whose names are free. */
static void
register_from(const char *addr)
{
	char	*copy = strdup(GOOD_BODY);
	int	 lookups = seen.lookups;

	assert_non_null(copy);
	snprintf(req.remote, sizeof(req.remote), "%s", addr);
	req.body = copy;
	req.body_len = strlen(copy);
	h_register(&req);
	assert_int_equal(seen.lookups, lookups + 1);
	seen.taken_cb(STORE_OK, USERS_TAKEN_NONE, seen.taken_arg);
	free(copy);
	req.body = NULL;
}

static void
test_an_address_past_its_share_of_the_hasher_gets_429(void **state)
{
	cfg.hasher_queue = 8;		/* a share of 2 */
	seen.hasher_takes = true;
	register_from("203.0.113.5");
	register_from("203.0.113.5");
	assert_int_equal(seen.hashes, 2);
	assert_int_equal(seen.replies, 0);
	register_from("203.0.113.5");
	assert_int_equal(seen.hashes, 2);
	assert_int_equal(seen.replies, 1);
	assert_int_equal(seen.status, 429);
	assert_non_null(strstr(seen.body, "rate-limited"));
	assert_int_equal(hshare_held(&front.hasher_share, "203.0.113.5"), 2);
	/* Another address still gets its share. */
	register_from("198.51.100.9");
	assert_int_equal(seen.hashes, 3);
	assert_int_equal(seen.replies, 1);
	/* Each answer gives its slot back, whatever it was. */
	for (int i = 0; i < 3; i++)
		seen.hash_cb[i](HC_DOWN, NULL, seen.hash_arg[i]);
	assert_int_equal(seen.replies, 4);
	assert_int_equal(seen.status, 503);
	assert_int_equal(front.hasher_share.count, 0);
}

static void
test_a_refused_hash_gives_its_slot_back(void **state)
{
	register_from("203.0.113.6");
	assert_int_equal(seen.hashes, 1);
	assert_int_equal(seen.status, 503);
	assert_int_equal(front.hasher_share.count, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_invalid_username_wipes_the_password, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_unknown_member_wipes_the_password, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_overlong_password_is_wiped, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_an_address_past_its_registration_limit_gets_429_unread,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_taken_username_is_409_before_any_hashing, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_taken_email_is_409_before_any_hashing, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_lost_database_is_503_before_any_hashing, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_free_names_send_the_password_to_the_hasher, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_an_address_past_its_share_of_the_hasher_gets_429,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_refused_hash_gives_its_slot_back, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
