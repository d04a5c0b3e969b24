/* Unit tests of daemon/api/h_register.c: a registration refused before it
 * reaches the hasher still wipes the password in the parsed body before
 * freeing it.  cJSON_Delete() is replaced (tests/unit/wrap.mk) to look at
 * every tree the handler frees; the reply setters of http.c record the
 * answer instead of sending it. */
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
#include "api/handlers.h"
#include "http/http.h"

#define PW_MARK	'Q'

static struct {
	int	 replies;
	int	 status;
	int	 trees;		/* freed trees that held a "password" */
	int	 unwiped;	/* ... whose password was still readable */
} seen;

void	__real_cJSON_Delete(cJSON *);
void	__wrap_cJSON_Delete(cJSON *);
void	__wrap_http_reply_raw(struct http_req *, int, const char *,
	    const void *, size_t);
int	__wrap_http_set_header(struct http_req *, const char *, const char *);
void	__wrap_http_no_store(struct http_req *, bool);
bool	__wrap_http_req_content_type_is(struct http_req *, const char *);

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

static struct cfg cfg;
static struct front front;
static struct caller caller;
static struct http_req req;

static int
setup(void **state)
{
	memset(&seen, 0, sizeof(seen));
	memset(&req, 0, sizeof(req));
	memset(&caller, 0, sizeof(caller));
	memset(&front, 0, sizeof(front));
	cfg_defaults(&cfg);
	front.cfg = &cfg;
	caller.front = &front;
	req.caller = &caller;
	return 0;
}

static int
teardown(void **state)
{
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
