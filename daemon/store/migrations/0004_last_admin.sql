-- The last active admin stays: no update or delete may leave the service
-- without an active user holding the admin role, whoever writes it (the
-- API, wardenctl, plain SQL), so that recovery never needs the shell.
--
-- An AFTER trigger on the rows that stop being an active admin.  The
-- advisory lock makes such changes take turns: two admins demoting each
-- other at once cannot both see the other one still there.  After the
-- lock, the check reads with a new snapshot (a plpgsql statement in READ
-- COMMITTED), so it sees what the turn before committed.
--
-- The error is SQLSTATE WA001, which the store maps to STORE_REFUSED and
-- the API to 409.

CREATE FUNCTION warden_keep_last_admin() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT (OLD.is_active AND 'admin' = ANY (OLD.roles)) THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.is_active AND 'admin' = ANY (NEW.roles) THEN
        RETURN NULL;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('warden_keep_last_admin'));
    IF NOT EXISTS (SELECT 1 FROM users
                   WHERE is_active AND 'admin' = ANY (roles)
                     AND id <> OLD.id) THEN
        RAISE EXCEPTION 'the last active admin cannot be disabled, demoted or deleted'
            USING ERRCODE = 'WA001';
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER users_keep_last_admin
    AFTER UPDATE OF roles, is_active OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION warden_keep_last_admin();
