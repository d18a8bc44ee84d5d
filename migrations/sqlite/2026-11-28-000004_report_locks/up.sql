-- Published reports: a locked (agency, year, subtree) keeps the numbers it was published with, and
-- every later change an administrator forces through is recorded as a post-publication correction.
CREATE TABLE report_locks (
    agency_id   TEXT NOT NULL REFERENCES agencies (id),
    year        INTEGER NOT NULL,
    subtree     BOOLEAN NOT NULL,
    locked_by   TEXT NOT NULL REFERENCES users (id),
    locked_at   TIMESTAMP NOT NULL,
    -- The published reports, every format, as JSON.
    snapshot    TEXT NOT NULL,
    PRIMARY KEY (agency_id, year, subtree)
);

CREATE TABLE report_corrections (
    id          TEXT PRIMARY KEY,
    agency_id   TEXT NOT NULL REFERENCES agencies (id),
    year        INTEGER NOT NULL,
    subtree     BOOLEAN NOT NULL,
    case_id     TEXT NOT NULL REFERENCES cases (id),
    actor_id    TEXT REFERENCES users (id),
    reason      TEXT NOT NULL,
    events      TEXT NOT NULL,
    recorded_at TIMESTAMP NOT NULL
);
CREATE INDEX report_corrections_lock_idx ON report_corrections (agency_id, year, subtree);
