-- differs: PostgreSQL drops the outbox's foreign keys in place, compares its keys in the "C" collation (SQLite's default) and covers the open-case index with INCLUDE; SQLite must rebuild the outbox table to drop them, and keeps its open-case index.
-- The reminder outbox is a delivery queue filled from case rows the run has just read; cases and
-- agencies are never deleted. Its foreign keys checked each reminder's case and agency row again.
ALTER TABLE reminder_outbox RENAME TO reminder_outbox_old;
DROP INDEX reminder_outbox_state_idx;
DROP INDEX reminder_outbox_case_idx;
CREATE TABLE reminder_outbox (
    id              TEXT PRIMARY KEY,
    dedup_key       TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    recipient_role  TEXT NOT NULL,
    case_id         TEXT NOT NULL,
    agency_id       TEXT NOT NULL,
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
INSERT INTO reminder_outbox SELECT * FROM reminder_outbox_old;
DROP TABLE reminder_outbox_old;
CREATE INDEX reminder_outbox_state_idx ON reminder_outbox (state, next_attempt_at);
CREATE INDEX reminder_outbox_case_idx ON reminder_outbox (case_id);

-- The report's carried-in and carried-forward counts read the cases received in the 90 days before
-- the day (replies are due in 20 working days, 40 when extended, Art. 33) and, from this index, the
-- few cases that were open longer. With a year's window, a whole city's report read each year's
-- receipts twice more.
DROP INDEX cases_agency_long_open;
CREATE INDEX cases_agency_long_open
    ON cases (agency_id, received_on, state, applicant_kind, closed_on, tracking_number, final_due_on, id)
    WHERE closed_on IS NULL OR closed_on > date(received_on, '+90 days');
