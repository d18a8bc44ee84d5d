-- Reminders: the day a stopped clock's period ends (a correction's set date, a consultation's lapse),
-- and the outbox that makes every reminder go out once.
ALTER TABLE cases ADD COLUMN stop_ends_on DATE;
CREATE INDEX cases_stop_ends_idx ON cases (stop_ends_on);

-- One row per reminder and recipient. `dedup_key` names the reminder: (case, deadline, threshold) before
-- a deadline, (case, deadline, day) once overdue; inserting the same one twice does nothing.
CREATE TABLE reminder_outbox (
    id              TEXT PRIMARY KEY,
    dedup_key       TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    recipient_role  TEXT NOT NULL,
    case_id         TEXT NOT NULL REFERENCES cases (id),
    agency_id       TEXT NOT NULL REFERENCES agencies (id),
    kind            TEXT NOT NULL,
    due_on          DATE NOT NULL,
    working_days    INTEGER NOT NULL,
    details         TEXT NOT NULL,
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    claimed_by      TEXT,
    claimed_until   TIMESTAMP,
    last_error      TEXT,
    created_at      TIMESTAMP NOT NULL,
    sent_at         TIMESTAMP,
    digest_id       TEXT,
    UNIQUE (dedup_key, recipient)
);
CREATE INDEX reminder_outbox_state_idx ON reminder_outbox (state, next_attempt_at);
CREATE INDEX reminder_outbox_case_idx ON reminder_outbox (case_id);
