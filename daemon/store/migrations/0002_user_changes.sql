-- Revocation for forward-auth (GET /api/v1/auth/verify answers from memory,
-- daemon/api/revocations.h): every change to a user that can invalidate
-- access tokens already issued (the token version, is_active, the roles) and
-- every deletion is told to every wardend on the channel
-- warden_user_changed when it commits, and the user id and time are kept in
-- user_changes, so that a wardend whose listening connection was down
-- catches up on what it missed.  The payload is the user's new state, so
-- that no wardend has to read it:
--   "<id> <token_version> <t|f: is_active> <roles, comma-separated>"
--   "<id> deleted"
-- (PostgreSQL delivers the notifications of a channel in commit order, and
-- the row lock orders the changes of one user, so the last one wins.)
--
-- It is a trigger, not the store's statements, so that no writer (the
-- API, wardenctl, an operator's SQL) can change a user without telling.

-- The last change of each user.  No foreign key: the row of a deleted user
-- must outlive it.  Rows older than two days (every access token lives at
-- most one, common/config.c) are pruned by the deletions that add rows for
-- users who are gone; rows of users who live are one per user.
CREATE TABLE user_changes (
    user_id     uuid        PRIMARY KEY,
    changed_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX user_changes_changed_at_idx ON user_changes (changed_at);

CREATE FUNCTION warden_user_changed() RETURNS trigger
    LANGUAGE plpgsql
AS $$
DECLARE
    uid uuid;
BEGIN
    IF TG_OP = 'DELETE' THEN
        uid := OLD.id;
        DELETE FROM user_changes
            WHERE changed_at < now() - interval '2 days';
    ELSE
        uid := NEW.id;
    END IF;
    INSERT INTO user_changes (user_id, changed_at) VALUES (uid, now())
        ON CONFLICT (user_id) DO UPDATE SET changed_at = excluded.changed_at;
    -- Delivered at commit, and not at all on a rollback.
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('warden_user_changed', uid::text || ' deleted');
    ELSE
        PERFORM pg_notify('warden_user_changed', uid::text || ' ' ||
            NEW.token_version || ' ' ||
            CASE WHEN NEW.is_active THEN 't' ELSE 'f' END || ' ' ||
            array_to_string(NEW.roles, ','));
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER users_changed_update
    AFTER UPDATE ON users
    FOR EACH ROW
    WHEN (OLD.token_version IS DISTINCT FROM NEW.token_version
       OR OLD.is_active IS DISTINCT FROM NEW.is_active
       OR OLD.roles IS DISTINCT FROM NEW.roles)
    EXECUTE FUNCTION warden_user_changed();

CREATE TRIGGER users_changed_delete
    AFTER DELETE ON users
    FOR EACH ROW
    EXECUTE FUNCTION warden_user_changed();
