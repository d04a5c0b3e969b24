/*
 * Copy out, zero in place, then drain.  See evwipe.h.
 */
#include <sys/types.h>

#include <stddef.h>

#include <event2/buffer.h>
#include <sodium.h>

#include "evwipe.h"

#define EVWIPE_EXTENTS	8	/* extents zeroed per evbuffer_peek() */

int
evwipe_drain(struct evbuffer *buf, size_t n)
{
	struct evbuffer_iovec	 v[EVWIPE_EXTENTS];
	size_t			 len, done, k;
	int			 i, nv;

	if ((len = evbuffer_get_length(buf)) < n)
		n = len;
	while (n > 0) {
		nv = evbuffer_peek(buf, (ev_ssize_t)n, NULL, v, EVWIPE_EXTENTS);
		if (nv > EVWIPE_EXTENTS)
			nv = EVWIPE_EXTENTS;
		for (i = 0, done = 0; i < nv && done < n; i++) {
			k = v[i].iov_len < n - done ? v[i].iov_len : n - done;
			sodium_memzero(v[i].iov_base, k);
			done += k;
		}
		/* Zeroed, so drained: a frozen buffer keeps only zeros. */
		if (done == 0 || evbuffer_drain(buf, done) == -1)
			return -1;
		n -= done;
	}
	return 0;
}

int
evwipe_remove(struct evbuffer *buf, void *out, size_t n)
{
	if (evbuffer_get_length(buf) < n ||
	    evbuffer_copyout(buf, out, n) != (ev_ssize_t)n)
		return -1;
	if (evwipe_drain(buf, n) == -1) {
		sodium_memzero(out, n);
		return -1;
	}
	return 0;
}
