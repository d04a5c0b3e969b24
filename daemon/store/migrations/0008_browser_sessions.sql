-- Browser sessions of the login portal (OIDC.md, "Browser sessions").
--
-- A session is a cookie of 256 random bits; only its SHA-256 is kept.  It
-- lives until the first of: its idle expiry (pushed back by each use, up
-- to session_idle), its absolute expiry (session_max after the login),
-- its revocation (logout, or ending it from the account page or the API),
-- or a change of the user's token_version (logout-all, a password change
-- or reset, disabling): the session carries the version it was made
-- under, and a check compares it with the user's, so that everything that
-- ends refresh-token families ends browser sessions too without touching
-- this table.  A deleted user takes its sessions along.
CREATE TABLE browser_sessions (
    id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    token_hash      bytea       NOT NULL,
    user_id         uuid        NOT NULL
                                REFERENCES users (id) ON DELETE CASCADE,
    token_version   integer     NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_seen_at    timestamptz NOT NULL DEFAULT now(),
    idle_expires_at timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    -- The factors of the login: 'pwd', then 'otp' with a second factor
    -- (OpenID's amr values, for the id_token of the provider to come).
    amr             text[]      NOT NULL DEFAULT '{pwd}',
    remote_addr     text,
    user_agent      text,
    revoked_at      timestamptz,

    CONSTRAINT browser_sessions_token_hash_key UNIQUE (token_hash),
    CONSTRAINT browser_sessions_token_hash_check
        CHECK (octet_length(token_hash) = 32),
    CONSTRAINT browser_sessions_user_agent_check
        CHECK (octet_length(user_agent) <= 256),
    CONSTRAINT browser_sessions_expiry_check
        CHECK (idle_expires_at <= expires_at)
);

CREATE INDEX browser_sessions_user_id_idx
    ON browser_sessions (user_id, created_at);
CREATE INDEX browser_sessions_expires_at_idx
    ON browser_sessions (expires_at);

ALTER TABLE audit_events DROP CONSTRAINT audit_events_event_check;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_event_check
    CHECK (event IN ('login_ok', 'login_failed', 'locked', 'registered',
                     'password_changed', 'roles_changed', 'disabled',
                     'enabled', 'updated', 'deleted', 'refresh_reuse',
                     'logout', 'revoked',
                     'email_verified', 'verification_sent',
                     'password_reset_requested', 'password_reset',
                     'mfa_enrolled', 'mfa_removed', 'mfa_failed',
                     'recovery_code_used', 'mail_failed',
                     'unlocked', 'session_revoked', 'reset_link_issued',
                     'imported', 'password_upgraded', 'key_rotated',
                     'exported',
                     'session_started', 'session_ended'));
