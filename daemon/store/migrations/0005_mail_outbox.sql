-- Outgoing mail, durable and shared by every wardend on the database.
--
-- A message is written here in the same transaction as the change that
-- causes it (a registration, a reset request), so a crash never loses one
-- nor sends one for a change that rolled back.  Each host's sender claims
-- due rows with FOR UPDATE SKIP LOCKED and a lease (claimed_until), sends
-- them through the relay outside any transaction, and deletes a row once
-- the relay accepted it; a failure pushes next_attempt_at back
-- (exponential back-off).  A row whose lease ran out (its host died while
-- sending) is due again.  A row older than mail_max_age is given up.
--
-- params holds what the template needs ({"link", "username",
-- "expires_in"}); a link carries a one-time token in clear, which is why a
-- row lives only until it is sent or given up.

CREATE TABLE mail_outbox (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    template        text        NOT NULL,
    recipient       text        NOT NULL,
    user_id         uuid        REFERENCES users (id) ON DELETE SET NULL,
    params          jsonb       NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL DEFAULT now(),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    claimed_until   timestamptz,
    last_error      text,

    CONSTRAINT mail_outbox_template_check
        CHECK (template ~ '^[a-z_]{1,32}$'),
    CONSTRAINT mail_outbox_recipient_check
        CHECK (octet_length(recipient) BETWEEN 3 AND 254),
    CONSTRAINT mail_outbox_params_check
        CHECK (jsonb_typeof(params) = 'object'),
    CONSTRAINT mail_outbox_attempts_check
        CHECK (attempts >= 0)
);

CREATE INDEX mail_outbox_due_idx ON mail_outbox (next_attempt_at, id);

-- Wakes every host's sender at once (LISTEN warden_mail); the senders also
-- poll, so a lost notification only delays a message.
CREATE FUNCTION warden_mail_queued() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM pg_notify('warden_mail', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER mail_outbox_queued
    AFTER INSERT ON mail_outbox
    FOR EACH STATEMENT EXECUTE FUNCTION warden_mail_queued();
