-- warden's first schema: users, refresh tokens and the audit trail.
--
-- Each migration runs in its own transaction (daemon/migrate.c): no
-- BEGIN/COMMIT here, nothing that cannot run in a transaction.
--
-- The CHECK constraints mirror the field rules of the API (common/fields.c):
-- the front validates first and answers 422; these keep the data sound
-- whatever writes it.  Constraint and index names are part of the contract:
-- the handlers map a unique violation on users_username_lower_key or
-- users_email_lower_key to 409.

-- True when every element of roles is a role name (1..32 of [a-z0-9_-]),
-- there are at most 32 of them and the array has one dimension (or none,
-- when empty).
CREATE FUNCTION warden_roles_valid(roles text[]) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT cardinality(roles) <= 32
       AND coalesce(array_ndims(roles), 1) = 1
       AND NOT EXISTS (SELECT 1 FROM unnest(roles) AS r
                       WHERE r IS NULL OR r !~ '^[a-z0-9_-]{1,32}$')
$$;

CREATE TABLE users (
    id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    username        text        NOT NULL,
    email           text        NOT NULL,
    full_name       text,
    password_hash   text        NOT NULL,
    roles           text[]      NOT NULL DEFAULT '{}',
    is_active       boolean     NOT NULL DEFAULT true,
    token_version   integer     NOT NULL DEFAULT 0,
    failed_logins   integer     NOT NULL DEFAULT 0,
    locked_until    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),

    -- 3..32 of [A-Za-z0-9._-], starting with a letter or a digit.
    CONSTRAINT users_username_check
        CHECK (username ~ '^[A-Za-z0-9][A-Za-z0-9._-]{2,31}$'),
    -- At most 254 bytes; a local part of 1..64 printable ASCII bytes but
    -- '@'; a domain of at least two dot-separated labels of 1..63 of
    -- [A-Za-z0-9-], neither starting nor ending with '-'.
    CONSTRAINT users_email_check
        CHECK (octet_length(email) <= 254
           AND email ~ '^[\x21-\x3f\x41-\x7e]{1,64}@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$'),
    -- At most 128 characters, no control character (C0, DEL, C1); the
    -- database's UTF8 encoding already refuses malformed text.
    CONSTRAINT users_full_name_check
        CHECK (char_length(full_name) <= 128
           AND full_name !~ '[\x01-\x1f\x7f-\x9f]'),
    CONSTRAINT users_roles_check
        CHECK (warden_roles_valid(roles)),
    CONSTRAINT users_password_hash_check
        CHECK (password_hash <> ''),
    CONSTRAINT users_token_version_check
        CHECK (token_version >= 0),
    CONSTRAINT users_failed_logins_check
        CHECK (failed_logins >= 0)
);

-- Unique case-insensitively; the values are stored as given.
CREATE UNIQUE INDEX users_username_lower_key ON users (lower(username));
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));

-- Prefix search (?q=) with LIKE 'prefix%' under any collation.
CREATE INDEX users_username_prefix_idx
    ON users (lower(username) text_pattern_ops);
CREATE INDEX users_email_prefix_idx
    ON users (lower(email) text_pattern_ops);

-- Keyset pagination: ORDER BY created_at, id WHERE (created_at, id) > (...).
CREATE INDEX users_created_at_id_idx ON users (created_at, id);

-- Refresh tokens: only the SHA-256 of a token is stored.  A rotation spends
-- a token (used_at, replaced_by) and issues the next of its family; reuse
-- of a spent token revokes the family (revoked_at).
CREATE TABLE refresh_tokens (
    id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id         uuid        NOT NULL
                                REFERENCES users (id) ON DELETE CASCADE,
    family          uuid        NOT NULL,
    token_hash      bytea       NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    used_at         timestamptz,
    revoked_at      timestamptz,
    replaced_by     uuid,

    CONSTRAINT refresh_tokens_token_hash_key UNIQUE (token_hash),
    CONSTRAINT refresh_tokens_token_hash_check
        CHECK (octet_length(token_hash) = 32)
);

CREATE INDEX refresh_tokens_user_id_idx ON refresh_tokens (user_id);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family);
CREATE INDEX refresh_tokens_expires_at_idx ON refresh_tokens (expires_at);

-- The audit trail.  user_id has no foreign key: events outlive the users
-- they are about.
CREATE TABLE audit_events (
    id              bigserial   PRIMARY KEY,
    at              timestamptz NOT NULL DEFAULT now(),
    user_id         uuid,
    event           text        NOT NULL,
    remote_addr     text,
    detail          jsonb,

    CONSTRAINT audit_events_event_check
        CHECK (event IN ('login_ok', 'login_failed', 'locked', 'registered',
                         'password_changed', 'roles_changed', 'disabled',
                         'enabled', 'updated', 'deleted', 'refresh_reuse',
                         'logout', 'revoked'))
);

CREATE INDEX audit_events_user_id_at_idx ON audit_events (user_id, at);
CREATE INDEX audit_events_at_idx ON audit_events (at);
