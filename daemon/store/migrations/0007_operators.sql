-- Operators' tools (wardenctl's user, session, key and audit verbs, and
-- the import of users from other systems).
--
-- Every change wardenctl makes is an audit event whose detail names the
-- operator: {"by": "wardenctl", "operator": "<Unix user>", ...}.  The new
-- events:
--   unlocked            the login back-off of a user was cleared
--   session_revoked     one refresh-token family was ended
--   reset_link_issued   an operator printed a password reset link
--   imported            a user came in through `wardenctl import`
--   password_upgraded   an imported hash was replaced by a sealed Argon2id
--                       hash at the user's first successful login
--   key_rotated         new signing and pepper keys were made (no user)
--   exported            the users were exported (no user)

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
                     'exported'));

-- The hashes that are not yet warden's own sealed Argon2id: imported ones
-- waiting for their user's first login.  /metrics counts them
-- (warden_legacy_password_hashes) until none is left; the partial index
-- keeps that count cheap however many users there are, and empty once the
-- migration is over.
CREATE INDEX users_legacy_hash_idx ON users (id)
    WHERE password_hash NOT LIKE '$warden$%';
