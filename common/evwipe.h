/*
 * Reading secrets out of a libevent buffer without leaving them behind.
 *
 * evbuffer_remove() copies the bytes out and drains them, and draining
 * frees (or keeps, for reuse) the chains that held them untouched: a
 * password in a request body would stay in freed memory.  These copy the
 * bytes out, zero them where they lie, and only then drain them.
 *
 * For buffers that own their memory (what a socket read fills): never for
 * one holding read-only memory added by reference (evbuffer_add_reference).
 * Shared by wardend's HTTP layer (request bodies) and its hasher client
 * (answers); only programs on libevent call it, and the hasher, which
 * links no libevent, never does (make check-linkage).
 */
#ifndef WARDEN_EVWIPE_H
#define WARDEN_EVWIPE_H

#include <stddef.h>

struct evbuffer;

/* Zeroes the first n bytes of buf in place (its whole length when n is
 * larger), with sodium_memzero over each extent of evbuffer_peek(), then
 * drains them.  Returns 0, or -1 when buf cannot be drained (frozen). */
int	evwipe_drain(struct evbuffer *buf, size_t n);

/* Copies the first n bytes of buf into out, then evwipe_drain()s them.
 * Returns 0, or -1 when buf holds fewer than n bytes or cannot be
 * drained; out then holds nothing of them. */
int	evwipe_remove(struct evbuffer *buf, void *out, size_t n);

#endif
