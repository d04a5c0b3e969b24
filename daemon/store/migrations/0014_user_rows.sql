-- The user cache of every wardend (daemon/api/user_cache.h): the bearer
-- routes answer the caller's row from memory, so every change to what that
-- row shows (the user object of API.md, and the token version and status
-- that authentication checks) and every deletion is told to every wardend
-- on the channel warden_user_row when it commits; the payload is the user
-- id, and each host forgets that user.
--
-- Only the columns the row shows: a login updates failed_logins and
-- locked_until (a success resets them, a failure counts), and
-- totp_last_step moves at each second-factor check; none of these is
-- shown, so logins send nothing (a success that changes nothing is no
-- change: the WHEN clause sees equal values).  A password change bumps
-- token_version and is told.
--
-- A trigger, not the store's statements, so that no writer (the API,
-- wardenctl, an operator's SQL) can change a user without telling.

CREATE FUNCTION warden_user_row_changed() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    -- Delivered at commit, and not at all on a rollback.
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('warden_user_row', OLD.id::text);
    ELSE
        PERFORM pg_notify('warden_user_row', NEW.id::text);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER users_row_changed_update
    AFTER UPDATE ON users
    FOR EACH ROW
    WHEN (OLD.username IS DISTINCT FROM NEW.username
       OR OLD.email IS DISTINCT FROM NEW.email
       OR OLD.full_name IS DISTINCT FROM NEW.full_name
       OR OLD.roles IS DISTINCT FROM NEW.roles
       OR OLD.is_active IS DISTINCT FROM NEW.is_active
       OR OLD.token_version IS DISTINCT FROM NEW.token_version
       OR OLD.email_verified IS DISTINCT FROM NEW.email_verified
       OR OLD.totp_confirmed_at IS DISTINCT FROM NEW.totp_confirmed_at
       OR OLD.created_at IS DISTINCT FROM NEW.created_at
       OR OLD.updated_at IS DISTINCT FROM NEW.updated_at)
    EXECUTE FUNCTION warden_user_row_changed();

CREATE TRIGGER users_row_changed_delete
    AFTER DELETE ON users
    FOR EACH ROW
    EXECUTE FUNCTION warden_user_row_changed();
