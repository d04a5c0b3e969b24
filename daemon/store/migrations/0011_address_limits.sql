-- Per-address limits shared by every wardend host on this database
-- (issue 17): attempts counted per scope and key in a fixed window, so
-- that N hosts together stop an address at the configured limit, not N
-- times it.  Each host keeps only the blocks it has learnt from here in
-- memory (api/addr_limit.h).
--
-- scope: which limit (login: password grants and password proofs;
-- register; reset: reset-link requests; email: e-mail changes, keyed by
-- address and by user).  addr: the key, an address as ratelimit.c keys
-- it (an IPv6 address by its /64) or a user id.  A window starts at the
-- first attempt counted after the previous one ended and ends at
-- expires_at.  count: the attempts of the window that were let through
-- and not forgiven, plus one when any was refused past the limit
-- (store/limits.h), so at most the limit plus one.
--
-- Expired rows are deleted by the next attempts (a few per attempt,
-- oldest first, through the index on expires_at), so the table holds
-- the live windows and a backlog that drains faster than it grows.

CREATE TABLE address_limits (
    scope text NOT NULL
        CHECK (scope IN ('login', 'register', 'reset', 'email')),
    addr text NOT NULL CHECK (length(addr) BETWEEN 1 AND 64),
    expires_at timestamptz NOT NULL,
    count integer NOT NULL CHECK (count >= 0),
    PRIMARY KEY (scope, addr)
);

CREATE INDEX address_limits_expires_at_idx ON address_limits (expires_at);
