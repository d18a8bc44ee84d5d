-- differs: file content is BYTEA on PostgreSQL and BLOB on SQLite.
-- Papers and letters. The content of attachments and generated letters lives in the database, in
-- chunks of at most 1 MiB (so no file is ever held whole in memory, several instances share it and
-- one backup covers it); its SHA-256 is in the case's event chain, which is what the audit checks.
CREATE TABLE stored_files (
    id          TEXT PRIMARY KEY,
    case_id     TEXT NOT NULL REFERENCES cases (id),
    media_type  TEXT NOT NULL,
    size_bytes  BIGINT NOT NULL,
    sha256      TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX stored_files_case_idx ON stored_files (case_id);

CREATE TABLE stored_file_chunks (
    file_id     TEXT NOT NULL REFERENCES stored_files (id),
    seq         INTEGER NOT NULL,
    bytes       BLOB NOT NULL,
    PRIMARY KEY (file_id, seq)
);

-- Document numbers (文号), gap-free per issuing agency, kind of letter and year: taken in the
-- transaction that records the letter, as tracking numbers are.
CREATE TABLE document_counters (
    agency_id   TEXT NOT NULL REFERENCES agencies (id),
    kind        TEXT NOT NULL,
    year        INTEGER NOT NULL,
    last_value  INTEGER NOT NULL,
    PRIMARY KEY (agency_id, kind, year)
);

-- An agency's letterhead (JSON: issuer name, number prefix and pattern, address, phone, seal,
-- the reconsideration body and court its replies name); its subtree uses it unless it sets its own.
CREATE TABLE letterheads (
    agency_id   TEXT PRIMARY KEY REFERENCES agencies (id),
    body        TEXT NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    updated_by  TEXT
);

-- An agency's own version of a letter template; its subtree uses it unless it has its own.
CREATE TABLE document_templates (
    agency_id   TEXT NOT NULL REFERENCES agencies (id),
    name        TEXT NOT NULL,
    body        TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    updated_by  TEXT,
    PRIMARY KEY (agency_id, name)
);
