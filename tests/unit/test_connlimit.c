/* Tests of daemon/http/connlimit.c: the caps that 0 stands for, the count
 * in all and per address, addresses as keys, and the log line that comes
 * at most once per interval with what it held back. */
#include <sys/socket.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "http/connlimit.h"

static struct connlimit_key
v4(const char *s)
{
	struct sockaddr_in	 sin;
	struct connlimit_key	 k;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, s, &sin.sin_addr), 1);
	connlimit_key((struct sockaddr *)&sin, &k);
	return k;
}

static struct connlimit_key
v6(const char *s)
{
	struct sockaddr_in6	 sin6;
	struct connlimit_key	 k;

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, s, &sin6.sin6_addr), 1);
	connlimit_key((struct sockaddr *)&sin6, &k);
	return k;
}

static void
test_derive(void **state)
{
	unsigned int	 t, p;

	/* systemd's default soft limit, the default pool */
	t = p = 0;
	connlimit_derive(1024, 4, &t, &p);
	assert_int_equal(t, 1024 - CONNLIMIT_FD_RESERVE - 4);
	assert_int_equal(p, t / CONNLIMIT_ADDR_SHARE);

	/* LimitNOFILE=65536 in wardend.service */
	t = p = 0;
	connlimit_derive(65536, 4, &t, &p);
	assert_int_equal(t, 65536 - CONNLIMIT_FD_RESERVE - 4);
	assert_int_equal(p, t / CONNLIMIT_ADDR_SHARE);

	/* tiny limits keep a floor; unlimited ones a ceiling */
	t = p = 0;
	connlimit_derive(40, 4, &t, &p);
	assert_int_equal(t, CONNLIMIT_MIN);
	assert_int_equal(p, CONNLIMIT_ADDR_MIN);
	t = p = 0;
	connlimit_derive(~0ULL, 64, &t, &p);
	assert_int_equal(t, CONNLIMIT_MAX - CONNLIMIT_FD_RESERVE - 64);

	/* what the configuration sets is kept; the share never exceeds the
	 * total */
	t = 500;
	p = 0;
	connlimit_derive(1024, 4, &t, &p);
	assert_int_equal(t, 500);
	assert_int_equal(p, 500 / CONNLIMIT_ADDR_SHARE);
	t = 3;
	p = 0;
	connlimit_derive(1024, 4, &t, &p);
	assert_int_equal(p, 3);
	t = 0;
	p = 7;
	connlimit_derive(1024, 4, &t, &p);
	assert_int_equal(p, 7);
}

static void
test_keys(void **state)
{
	struct connlimit_key	 a, b, u;
	struct sockaddr_un	 sun;

	/* IPv4-mapped IPv6 is the IPv4 address */
	a = v4("192.0.2.1");
	b = v6("::ffff:192.0.2.1");
	assert_memory_equal(&a, &b, sizeof(a));
	/* the same bytes as IPv6 are another address */
	b = v6("c000:201::");
	assert_memory_not_equal(&a, &b, sizeof(a));
	/* every unix peer is one key, as is an unknown one */
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	connlimit_key((struct sockaddr *)&sun, &u);
	connlimit_key(NULL, &b);
	assert_memory_equal(&u, &b, sizeof(u));
	assert_memory_not_equal(&u, &a, sizeof(u));
}

static void
test_caps(void **state)
{
	struct connlimit	*cl;
	struct connlimit_key	 a = v4("192.0.2.1"), b = v4("192.0.2.2");
	struct connlimit_key	 c = v6("2001:db8::1"), p = v4("10.0.0.1");
	struct connlimit_key	 d = v4("192.0.2.9");

	assert_non_null(cl = connlimit_new(5, 2));
	/* two from a, the third refused for its address */
	assert_int_equal(connlimit_take(cl, &a, true), CONNLIMIT_OK);
	assert_int_equal(connlimit_take(cl, &a, true), CONNLIMIT_OK);
	assert_int_equal(connlimit_take(cl, &a, true), CONNLIMIT_ADDRESS);
	assert_int_equal(connlimit_open_from(cl, &a), 2);
	/* others still get in */
	assert_int_equal(connlimit_take(cl, &b, true), CONNLIMIT_OK);
	assert_int_equal(connlimit_take(cl, &c, true), CONNLIMIT_OK);
	/* a proxy counts against the total only: in, until that is full */
	assert_int_equal(connlimit_take(cl, &p, false), CONNLIMIT_OK);
	assert_int_equal(connlimit_open(cl), 5);
	assert_int_equal(connlimit_open_from(cl, &p), 0);
	assert_int_equal(connlimit_take(cl, &p, false), CONNLIMIT_TOTAL);
	assert_int_equal(connlimit_take(cl, &b, true), CONNLIMIT_TOTAL);
	assert_int_equal(connlimit_addresses(cl), 3);

	/* one of a closes: a may open one again */
	connlimit_release(cl, &a, true);
	assert_int_equal(connlimit_open(cl), 4);
	assert_int_equal(connlimit_open_from(cl, &a), 1);
	assert_int_equal(connlimit_take(cl, &a, true), CONNLIMIT_OK);

	/* lower caps hold the open ones and refuse the new */
	connlimit_set(cl, 10, 1);
	assert_int_equal(connlimit_take(cl, &a, true), CONNLIMIT_ADDRESS);
	assert_int_equal(connlimit_take(cl, &d, true), CONNLIMIT_OK);

	connlimit_release(cl, &d, true);
	connlimit_release(cl, &a, true);
	connlimit_release(cl, &a, true);
	connlimit_release(cl, &b, true);
	connlimit_release(cl, &c, true);
	connlimit_release(cl, &p, false);
	assert_int_equal(connlimit_open(cl), 0);
	assert_int_equal(connlimit_addresses(cl), 0);
	connlimit_free(cl);
}

/* Many addresses: the table grows, and is empty again at the end. */
static void
test_many_addresses(void **state)
{
	struct connlimit	*cl;
	struct connlimit_key	 k;
	unsigned int		 i, j;

	assert_non_null(cl = connlimit_new(CONNLIMIT_MAX, 3));
	memset(&k, 0, sizeof(k));
	k.family = 6;
	for (i = 0; i < 20000; i++) {
		memcpy(k.addr, &i, sizeof(i));
		for (j = 0; j < 3; j++)
			assert_int_equal(connlimit_take(cl, &k, true),
			    CONNLIMIT_OK);
		assert_int_equal(connlimit_take(cl, &k, true),
		    CONNLIMIT_ADDRESS);
	}
	assert_int_equal(connlimit_open(cl), 60000);
	assert_int_equal(connlimit_addresses(cl), 20000);
	for (i = 0; i < 20000; i++) {
		memcpy(k.addr, &i, sizeof(i));
		assert_int_equal(connlimit_open_from(cl, &k), 3);
		for (j = 0; j < 3; j++)
			connlimit_release(cl, &k, true);
	}
	assert_int_equal(connlimit_open(cl), 0);
	assert_int_equal(connlimit_addresses(cl), 0);
	connlimit_free(cl);
}

/* The first refusal is logged at once; the ones after it within the
 * interval are held and come in one line when it is over. */
static void
test_log_throttle(void **state)
{
	struct connlimit		*cl;
	struct connlimit_refusals	 r;
	int				 i;

	assert_non_null(cl = connlimit_new(1, 1));
	assert_false(connlimit_flush(cl, 100, &r));

	assert_true(connlimit_note(cl, CONNLIMIT_TOTAL, 100, &r));
	assert_int_equal(r.total, 1);
	assert_int_equal(r.address, 0);
	assert_int_equal(r.paused, 0);

	/* a flood: nothing logged until the interval is over */
	for (i = 0; i < 1000; i++)
		assert_false(connlimit_note(cl, i % 2 ? CONNLIMIT_TOTAL :
		    CONNLIMIT_ADDRESS, 100 + i % CONNLIMIT_LOG_INTERVAL, &r));
	assert_false(connlimit_note(cl, CONNLIMIT_PAUSED, 101, &r));
	assert_int_equal(connlimit_due(cl), 100 + CONNLIMIT_LOG_INTERVAL);
	assert_false(connlimit_flush(cl, 100 + CONNLIMIT_LOG_INTERVAL - 1,
	    &r));
	assert_true(connlimit_flush(cl, 100 + CONNLIMIT_LOG_INTERVAL, &r));
	assert_int_equal(r.total, 500);
	assert_int_equal(r.address, 500);
	assert_int_equal(r.paused, 1);
	/* nothing held: nothing to write */
	assert_false(connlimit_flush(cl, 200, &r));

	/* just after that line, the next one waits its interval again */
	assert_false(connlimit_note(cl, CONNLIMIT_ADDRESS,
	    101 + CONNLIMIT_LOG_INTERVAL, &r));
	assert_true(connlimit_flush(cl, 100 + 2 * CONNLIMIT_LOG_INTERVAL, &r));
	assert_int_equal(r.address, 1);
	assert_int_equal(r.total, 0);

	/* after a quiet interval, one is logged at once again */
	assert_true(connlimit_note(cl, CONNLIMIT_TOTAL, 1000, &r));
	assert_int_equal(r.total, 1);
	connlimit_free(cl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_derive),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_many_addresses),
		cmocka_unit_test(test_log_throttle),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
