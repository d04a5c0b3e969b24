/*
 * Who the client is: the socket's peer, or, when the peer is one of the
 * trusted proxies (cfg.trusted_proxies), the right-most address of
 * X-Forwarded-For that is not itself a trusted proxy.
 */
#ifndef WARDEN_TRUST_H
#define WARDEN_TRUST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct evkeyvalq;
struct sockaddr;

#define HTTP_ADDR_MAX		46	/* INET6_ADDRSTRLEN */

/*
 * Trusted proxy set, from cfg.trusted_proxies entries: an address
 * ("10.0.0.1", "::1"), a CIDR ("10.0.0.0/8", "fd00::/8") or "unix" (peers
 * on a unix socket).  IPv4-mapped IPv6 addresses count as IPv4.
 */
#define HTTP_MAX_PROXIES	32
struct http_cidr {
	int		family;		/* AF_INET, AF_INET6, or AF_UNIX */
	uint8_t		addr[16];
	unsigned int	prefix;
};
struct http_trust {
	struct http_cidr	v[HTTP_MAX_PROXIES];
	size_t			n;
};

/* Parses the n entries into *t; -1 with the bad entry named in err. */
int	http_trust_parse(struct http_trust *t, char *const *entries,
	    size_t n, char *err, size_t errlen);

/* True when addr (an address as text, or "unix") is in t. */
bool	http_trust_has(const struct http_trust *t, const char *addr);

/*
 * Resolves the client address: peer is the socket peer ("unix" for a unix
 * socket), xff the X-Forwarded-For value(s) joined with ',' (or NULL).
 * Writes the address into out (HTTP_ADDR_MAX bytes).
 */
void	http_client_addr(const struct http_trust *t, const char *peer,
	    const char *xff, char out[HTTP_ADDR_MAX]);

/* The socket address sa as text: an address (IPv4-mapped IPv6 as IPv4),
 * "unix", or "-" when sa is NULL or of another family. */
void	http_peer_addr(const struct sockaddr *sa, char out[HTTP_ADDR_MAX]);

/* Every X-Forwarded-For header of h joined with ',', or NULL when there
 * is none (or no memory).  The caller frees it. */
char	*http_xff_join(const struct evkeyvalq *h);

#endif
