-- The OpenID Connect provider (OIDC.md, "OpenID Connect provider"): the
-- clients that wardenctl registers, the authorization codes issued to
-- them, and what each user consented to let each client know.
--
-- The bounds are those of common/oidc_client.h; the C rules are the
-- stricter (wardenctl refuses first), these keep the data sound whatever
-- writes it.

-- True when uris holds at most 16 redirect URIs of at most 2000 bytes,
-- each absolute https, or http on a loopback host, with a host, no
-- user-info, no fragment, no space or control character; one dimension
-- (or none, when empty), no NULL.
CREATE FUNCTION warden_redirect_uris_valid(uris text[]) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT cardinality(uris) <= 16
       AND coalesce(array_ndims(uris), 1) = 1
       AND NOT EXISTS (SELECT 1 FROM unnest(uris) AS u
                       WHERE u IS NULL
                          OR octet_length(u) > 2000
                          OR u ~ '[[:space:][:cntrl:]#\\]'
                          OR u !~ '^https?://[^@/?]+([/?].*)?$'
                          OR (u ~ '^http://'
                              AND u !~ '^http://(127\.0\.0\.1|\[::1\]|localhost)(:[0-9]{1,5})?([/?].*)?$'))
$$;

-- Registered clients.  A confidential client has a secret of 256 random
-- bits (common/secret_token.h) of which only the SHA-256 is kept, as for
-- refresh tokens; a public client (a native or browser application, RFC
-- 6749 2.1) has none and proves itself with PKCE alone.
CREATE TABLE oauth_clients (
    client_id       text        PRIMARY KEY,
    name            text        NOT NULL,
    secret_hash     bytea,
    public          boolean     NOT NULL DEFAULT false,
    redirect_uris   text[]      NOT NULL,
    post_logout_redirect_uris text[] NOT NULL DEFAULT '{}',
    -- What the client may ask for: a subset of the provider's scopes.
    scopes          text[]      NOT NULL DEFAULT '{openid,profile,email}',
    skip_consent    boolean     NOT NULL DEFAULT false,
    id_token_signed_response_alg text NOT NULL DEFAULT 'RS256',
    created_at      timestamptz NOT NULL DEFAULT now(),
    secret_rotated_at timestamptz,

    CONSTRAINT oauth_clients_client_id_check
        CHECK (client_id ~ '^[A-Za-z0-9_-]{22,64}$'),
    CONSTRAINT oauth_clients_name_check
        CHECK (char_length(name) BETWEEN 1 AND 100
           AND name !~ '[\x01-\x1f\x7f-\x9f]'),
    CONSTRAINT oauth_clients_secret_check
        CHECK (public = (secret_hash IS NULL)
           AND (secret_hash IS NULL OR octet_length(secret_hash) = 32)),
    CONSTRAINT oauth_clients_secret_rotated_check
        CHECK (secret_rotated_at IS NULL OR NOT public),
    CONSTRAINT oauth_clients_redirect_uris_check
        CHECK (cardinality(redirect_uris) >= 1
           AND warden_redirect_uris_valid(redirect_uris)),
    CONSTRAINT oauth_clients_post_logout_redirect_uris_check
        CHECK (warden_redirect_uris_valid(post_logout_redirect_uris)),
    CONSTRAINT oauth_clients_scopes_check
        CHECK (cardinality(scopes) >= 1
           AND coalesce(array_ndims(scopes), 1) = 1
           AND array_position(scopes, NULL) IS NULL
           AND scopes <@ '{openid,profile,email,roles,offline_access}'),
    CONSTRAINT oauth_clients_alg_check
        CHECK (id_token_signed_response_alg IN ('RS256', 'EdDSA'))
);

CREATE INDEX oauth_clients_created_at_idx ON oauth_clients (created_at);

-- Authorization codes (RFC 6749 4.1): 256 random bits handed out once in
-- a redirect, of which only the SHA-256 is kept; alive 60 seconds, spent
-- by the first exchange (used_at).  A second exchange is an attack (RFC
-- 6749 4.1.2): it marks the code reused_at and revokes the refresh-token
-- family the first issued, which refresh_family names (refresh_tokens
-- has no table of families, so no foreign key); access_jti is the id of
-- the access token it issued, for the caller to refuse.  A spent code is
-- kept an hour past its expiry so that a late replay still revokes;
-- codes are pruned as new ones are written (daemon/store/codes.c).  The
-- code carries its user's token version: a password change, logout-all
-- or disabling voids it as it voids refresh tokens.
CREATE TABLE oauth_codes (
    code_hash       bytea       PRIMARY KEY,
    client_id       text        NOT NULL REFERENCES oauth_clients (client_id)
                                ON DELETE CASCADE,
    user_id         uuid        NOT NULL REFERENCES users (id)
                                ON DELETE CASCADE,
    token_version   integer     NOT NULL,
    redirect_uri    text        NOT NULL,
    scopes          text[]      NOT NULL,
    nonce           text,
    -- PKCE (RFC 7636), S256 only: base64url of the verifier's SHA-256.
    code_challenge  text        NOT NULL,
    auth_time       timestamptz NOT NULL,
    amr             text[]      NOT NULL DEFAULT '{pwd}',
    -- The portal's session the user authorized from, if any.
    session_id      uuid        REFERENCES browser_sessions (id)
                                ON DELETE SET NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    used_at         timestamptz,
    reused_at       timestamptz,
    refresh_family  uuid,
    access_jti      uuid,

    CONSTRAINT oauth_codes_code_hash_check
        CHECK (octet_length(code_hash) = 32),
    CONSTRAINT oauth_codes_redirect_uri_check
        CHECK (octet_length(redirect_uri) BETWEEN 1 AND 2000),
    CONSTRAINT oauth_codes_scopes_check
        CHECK (coalesce(array_ndims(scopes), 1) = 1
           AND array_position(scopes, NULL) IS NULL
           AND scopes <@ '{openid,profile,email,roles,offline_access}'),
    CONSTRAINT oauth_codes_nonce_check
        CHECK (octet_length(nonce) BETWEEN 1 AND 512
           AND nonce !~ '[[:cntrl:]]'),
    CONSTRAINT oauth_codes_code_challenge_check
        CHECK (code_challenge ~ '^[A-Za-z0-9_-]{43}$'),
    CONSTRAINT oauth_codes_expiry_check
        CHECK (expires_at > created_at
           AND expires_at <= created_at + interval '10 minutes'),
    CONSTRAINT oauth_codes_used_check
        CHECK ((reused_at IS NULL OR used_at IS NOT NULL)
           AND (used_at IS NOT NULL
                OR (refresh_family IS NULL AND access_jti IS NULL)))
);

CREATE INDEX oauth_codes_expires_at_idx ON oauth_codes (expires_at);
CREATE INDEX oauth_codes_user_id_idx ON oauth_codes (user_id);
CREATE INDEX oauth_codes_client_id_idx ON oauth_codes (client_id);
CREATE INDEX oauth_codes_session_id_idx ON oauth_codes (session_id);

-- What a user let a client know: the union of every scope granted on a
-- consent page.  The consent page is skipped while it covers a request.
CREATE TABLE oauth_consents (
    user_id         uuid        NOT NULL REFERENCES users (id)
                                ON DELETE CASCADE,
    client_id       text        NOT NULL REFERENCES oauth_clients (client_id)
                                ON DELETE CASCADE,
    scopes          text[]      NOT NULL,
    granted_at      timestamptz NOT NULL DEFAULT now(),

    PRIMARY KEY (user_id, client_id),
    CONSTRAINT oauth_consents_scopes_check
        CHECK (cardinality(scopes) >= 1
           AND coalesce(array_ndims(scopes), 1) = 1
           AND array_position(scopes, NULL) IS NULL
           AND scopes <@ '{openid,profile,email,roles,offline_access}')
);

CREATE INDEX oauth_consents_client_id_idx ON oauth_consents (client_id);

-- The provider's events (OIDC.md):
--   client_created, client_removed, client_secret_rotated
--                       wardenctl client add, remove, rotate-secret (no
--                       user; the detail names the client)
--   consent_granted     a user let a client have scopes
--   code_issued         an authorization code went to a client
--   code_reused         a spent code came back; what it issued is revoked
--   oidc_login          a client got tokens for a user
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
                     'code_issued', 'code_reused', 'oidc_login'));
