-- Accounts people can recover and protect: verified addresses, one-time
-- tokens for links in mail, TOTP and recovery codes, and the mfa_token of
-- a password grant that still needs its second factor.

ALTER TABLE users
    ADD COLUMN email_verified   boolean NOT NULL DEFAULT false,
    -- The TOTP secret sealed by the hasher (it alone can open it); NULL
    -- without TOTP.  totp_confirmed_at is NULL while enrolment is pending.
    ADD COLUMN totp_sealed      text,
    ADD COLUMN totp_confirmed_at timestamptz,
    -- The time step of the last accepted code: a code is never accepted
    -- twice, nor one older than it.
    ADD COLUMN totp_last_step   bigint  NOT NULL DEFAULT 0,
    ADD CONSTRAINT users_totp_sealed_check
        CHECK (octet_length(totp_sealed) BETWEEN 1 AND 512),
    ADD CONSTRAINT users_totp_confirmed_check
        CHECK (totp_confirmed_at IS NULL OR totp_sealed IS NOT NULL);

-- Links in mail: 256 random bits handed out once; only the SHA-256 is
-- kept, with its purpose, user, expiry and the user's token version (a
-- password change voids it).  One live token per user and purpose: a new
-- one replaces the old (the primary key).
CREATE TABLE one_time_tokens (
    user_id         uuid        NOT NULL
                                REFERENCES users (id) ON DELETE CASCADE,
    purpose         text        NOT NULL,
    token_hash      bytea       NOT NULL,
    token_version   integer     NOT NULL,
    email           text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,

    PRIMARY KEY (user_id, purpose),
    CONSTRAINT one_time_tokens_purpose_check
        CHECK (purpose IN ('verify_email', 'password_reset')),
    CONSTRAINT one_time_tokens_token_hash_check
        CHECK (octet_length(token_hash) = 32)
);

CREATE UNIQUE INDEX one_time_tokens_token_hash_key
    ON one_time_tokens (token_hash);

-- Mails sent per account, for mail_rate; rows older than an hour are
-- pruned as new ones are written.
CREATE TABLE mail_sends (
    user_id         uuid        NOT NULL
                                REFERENCES users (id) ON DELETE CASCADE,
    sent_at         timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX mail_sends_user_id_idx ON mail_sends (user_id, sent_at);

-- Recovery codes: a keyed hash computed by the hasher (a stolen database
-- cannot test guesses), single use.  A new set replaces the old.
CREATE TABLE recovery_codes (
    user_id         uuid        NOT NULL
                                REFERENCES users (id) ON DELETE CASCADE,
    code_hash       text        NOT NULL,
    used_at         timestamptz,

    PRIMARY KEY (user_id, code_hash),
    CONSTRAINT recovery_codes_code_hash_check
        CHECK (octet_length(code_hash) BETWEEN 16 AND 128)
);

-- The second step of a password grant: the SHA-256 of an opaque token,
-- bound to the user and its token version, alive 5 minutes, dead after 5
-- wrong codes or one success.
CREATE TABLE mfa_tokens (
    token_hash      bytea       PRIMARY KEY,
    user_id         uuid        NOT NULL
                                REFERENCES users (id) ON DELETE CASCADE,
    token_version   integer     NOT NULL,
    -- the trusted device the password came from (login_devices), whose
    -- record the second step's failures count on; NULL: the account's
    device_hash     bytea,
    failures        integer     NOT NULL DEFAULT 0,
    expires_at      timestamptz NOT NULL,

    CONSTRAINT mfa_tokens_token_hash_check
        CHECK (octet_length(token_hash) = 32),
    CONSTRAINT mfa_tokens_failures_check
        CHECK (failures BETWEEN 0 AND 5)
);

CREATE INDEX mfa_tokens_user_id_idx ON mfa_tokens (user_id);
CREATE INDEX mfa_tokens_expires_at_idx ON mfa_tokens (expires_at);

-- The events of these flows (ACCOUNTS.md), and mail_failed of the outbox.
ALTER TABLE audit_events DROP CONSTRAINT audit_events_event_check;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_event_check
    CHECK (event IN ('login_ok', 'login_failed', 'locked', 'registered',
                     'password_changed', 'roles_changed', 'disabled',
                     'enabled', 'updated', 'deleted', 'refresh_reuse',
                     'logout', 'revoked',
                     'email_verified', 'verification_sent',
                     'password_reset_requested', 'password_reset',
                     'mfa_enrolled', 'mfa_removed', 'mfa_failed',
                     'recovery_code_used', 'mail_failed'));
