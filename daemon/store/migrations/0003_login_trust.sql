-- Login trust: devices that logged a user in before, and failures that
-- decay (OWASP's device cookies, "Slow Down Online Guessing Attacks with
-- Device Cookies").
--
-- users.failed_logins and users.locked_until are now the count and the
-- lock of the clients that present no trusted device of the user: a
-- stranger's guesses lock out strangers only.  A trusted device keeps a
-- count and a lock of its own in login_devices.  In both places a failure
-- made while the lock is on is not counted (the lock cannot be extended),
-- and the count starts again from zero once login_lockout_max has passed
-- since the last counted failure and the end of its lock (last_failed_at).

ALTER TABLE users ADD COLUMN last_failed_at timestamptz;

-- A device token is 256 random bits handed to the client once, as a
-- cookie and in the token answer; only its SHA-256 is kept.  A token is
-- trusted for the one user it was issued to, until it goes unused for
-- login_device_ttl; each user keeps a bounded number (daemon/store/devices.h).
CREATE TABLE login_devices (
    token_hash      bytea       PRIMARY KEY,
    user_id         uuid        NOT NULL
                                REFERENCES users (id) ON DELETE CASCADE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_used_at    timestamptz NOT NULL DEFAULT now(),
    failed_logins   integer     NOT NULL DEFAULT 0,
    last_failed_at  timestamptz,
    locked_until    timestamptz,

    CONSTRAINT login_devices_token_hash_check
        CHECK (octet_length(token_hash) = 32),
    CONSTRAINT login_devices_failed_logins_check
        CHECK (failed_logins >= 0)
);

CREATE INDEX login_devices_user_id_idx
    ON login_devices (user_id, last_used_at);
