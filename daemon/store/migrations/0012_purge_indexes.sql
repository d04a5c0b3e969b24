-- The expiry columns that the periodic purge (daemon/store/purge.c)
-- searches and that had no index: without them each purge would read the
-- whole table.
CREATE INDEX browser_sessions_idle_expires_at_idx
    ON browser_sessions (idle_expires_at);
CREATE INDEX one_time_tokens_expires_at_idx
    ON one_time_tokens (expires_at);
