-- Social login (issue 15): accounts linked to identities at upstream
-- identity providers, and the sign-ins on their way to one.
--
-- An identity is a provider's name (the NAME of providers_dir/NAME.conf)
-- and the subject the provider gives the user (its id_token's sub, or
-- the mapped userinfo member), unique together: one upstream account
-- signs in to one warden account.  email is what the provider said at
-- the link, for the user's and the admin's eyes; it decides nothing.
-- A deleted user takes its identities along.
CREATE TABLE identities (
    id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id         uuid        NOT NULL
                                REFERENCES users (id) ON DELETE CASCADE,
    provider        text        NOT NULL,
    subject         text        NOT NULL,
    email           text,
    linked_at       timestamptz NOT NULL DEFAULT now(),

    CONSTRAINT identities_provider_subject_key UNIQUE (provider, subject),
    CONSTRAINT identities_provider_check
        CHECK (provider ~ '^[a-z0-9-]{1,32}$'),
    CONSTRAINT identities_subject_check
        CHECK (octet_length(subject) BETWEEN 1 AND 255),
    CONSTRAINT identities_email_check
        CHECK (octet_length(email) <= 254)
);

CREATE INDEX identities_user_id_idx ON identities (user_id, linked_at);

-- A sign-in started at GET /ui/login/NAME and not yet back: the SHA-256
-- of its state, the browser it is bound to (the SHA-256 of the
-- warden_upstream cookie), the nonce and PKCE verifier sent along, where
-- to go after, and, when a signed-in user links an identity, who.  The
-- callback deletes the row it uses, so a state (and with it a code)
-- serves once; rows past expires_at are deleted by the next sign-ins.
CREATE TABLE upstream_logins (
    state_hash      bytea       PRIMARY KEY,
    binding_hash    bytea       NOT NULL,
    provider        text        NOT NULL,
    nonce           text        NOT NULL,
    verifier        text        NOT NULL,
    return_to       text        NOT NULL DEFAULT '',
    link_user_id    uuid        REFERENCES users (id) ON DELETE CASCADE,
    expires_at      timestamptz NOT NULL,

    CONSTRAINT upstream_logins_hash_check
        CHECK (octet_length(state_hash) = 32
           AND octet_length(binding_hash) = 32),
    CONSTRAINT upstream_logins_sizes_check
        CHECK (octet_length(nonce) <= 64 AND octet_length(verifier) <= 128
           AND octet_length(return_to) <= 2048)
);

CREATE INDEX upstream_logins_expires_at_idx ON upstream_logins (expires_at);

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
                     'session_started', 'session_ended',
                     'client_created', 'client_removed',
                     'client_secret_rotated', 'consent_granted',
                     'code_issued', 'code_reused', 'oidc_login',
                     'upstream_login', 'upstream_signup',
                     'identity_linked', 'identity_unlinked',
                     'upstream_login_failed'));
