-- Deadline engine: legal regimes as rows, the working-day calendar as data, deadlines on cases.

-- A regime's time limits. A stricter local rule or a future amendment is a new row; agency_id scopes a
-- local rule to an agency's subtree (NULL: national).
CREATE TABLE regimes (
    code                    TEXT PRIMARY KEY,
    name                    TEXT NOT NULL,
    agency_id               TEXT REFERENCES agencies (id),
    effective_from          DATE NOT NULL,
    effective_until         DATE,
    reply_days              INTEGER NOT NULL,
    max_extension_days      INTEGER NOT NULL,
    correction_notice_days  INTEGER,
    consultation_lapse_days INTEGER,
    fee_notice_stops_clock  BOOLEAN NOT NULL
);
-- Order 492 (2008) Art. 24: 15 working days, extension at most 15; no limit on correction notices
-- or third-party answers.
INSERT INTO regimes VALUES ('ogi2008', '《政府信息公开条例》（国务院令第492号，2008）', NULL,
    '2008-05-01', '2019-05-15', 15, 15, NULL, NULL, FALSE);
-- Order 711 (2019) Art. 33: 20 + at most 20; Art. 30: correction notice within 7 working days;
-- Arts. 32, 34: consultations lapse after 15 working days; fee time not counted.
INSERT INTO regimes VALUES ('ogi2019', '《政府信息公开条例》（国务院令第711号，2019）', NULL,
    '2019-05-15', NULL, 20, 20, 7, 15, TRUE);

-- The State Council's yearly holiday notices that are loaded (holiday-cn format, source URLs kept).
CREATE TABLE calendar_notices (
    year        INTEGER PRIMARY KEY,
    papers      TEXT NOT NULL,
    source      TEXT NOT NULL,
    imported_at TIMESTAMP NOT NULL
);

-- Exceptions to the Monday-Friday rule: national (scope 'national') or an agency's local overlay
-- (scope = the agency's id, applying to its subtree).
CREATE TABLE calendar_days (
    scope       TEXT NOT NULL,
    date        DATE NOT NULL,
    is_off_day  BOOLEAN NOT NULL,
    name        TEXT NOT NULL,
    origin      TEXT NOT NULL,
    PRIMARY KEY (scope, date)
);

-- Bumped by every calendar change, so each service instance knows when to rebuild its index.
CREATE TABLE calendar_revision (
    id          INTEGER PRIMARY KEY,
    revision    INTEGER NOT NULL
);
INSERT INTO calendar_revision VALUES (1, 0);

ALTER TABLE cases ADD COLUMN due_on DATE;
ALTER TABLE cases ADD COLUMN final_due_on DATE;
ALTER TABLE cases ADD COLUMN deadline_provisional BOOLEAN NOT NULL DEFAULT FALSE;
-- For closed cases: the closing date and how it closed (on_time, extended, late_reply, deemed_abandoned).
ALTER TABLE cases ADD COLUMN closed_on DATE;
ALTER TABLE cases ADD COLUMN closed_as TEXT;
CREATE INDEX cases_final_due_idx ON cases (final_due_on);
