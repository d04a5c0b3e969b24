-- Refresh-token families of OpenID Connect clients (OIDC.md, "OpenID
-- Connect provider"): a family started by the authorization_code grant
-- with offline_access belongs to its client and carries what the code
-- granted, so that a refresh keeps the access token's aud and scope and
-- its new id_token the first login's auth_time and amr (OpenID Connect
-- Core 12.2).  A first-party family has none of these.
ALTER TABLE refresh_tokens
    ADD COLUMN client_id text REFERENCES oauth_clients (client_id)
        ON DELETE CASCADE,
    ADD COLUMN scopes text[],
    ADD COLUMN auth_time timestamptz,
    ADD COLUMN amr text[],
    ADD CONSTRAINT refresh_tokens_client_check
        CHECK ((client_id IS NULL AND scopes IS NULL AND auth_time IS NULL
                AND amr IS NULL)
            OR (client_id IS NOT NULL AND scopes IS NOT NULL
                AND auth_time IS NOT NULL AND amr IS NOT NULL
                AND coalesce(array_ndims(scopes), 1) = 1
                AND array_position(scopes, NULL) IS NULL
                AND scopes <@ '{openid,profile,email,roles,offline_access}'));

CREATE INDEX refresh_tokens_client_id_idx ON refresh_tokens (client_id);

-- The access token that the first exchange of a code issued is refused
-- by userinfo and introspection once the code came back (RFC 6749
-- 4.1.2): looked up by its jti.
CREATE INDEX oauth_codes_access_jti_idx ON oauth_codes (access_jti);
