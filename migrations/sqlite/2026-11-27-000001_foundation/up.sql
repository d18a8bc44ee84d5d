-- Foundation schema: agencies, users and tokens, cases with their append-only event log.
-- Ids are UUIDv7 in canonical text form on both backends (one Rust type, one column type).
-- Timestamps are UTC without zone, truncated to microseconds by the service.

CREATE TABLE agencies (
    id          TEXT PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    parent_id   TEXT REFERENCES agencies (id),
    -- Materialized path of codes, "/PJ/PJ-DW/": the subtree of X is path LIKE X.path || '%'.
    path        TEXT NOT NULL UNIQUE,
    email       TEXT,
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX agencies_parent_idx ON agencies (parent_id);

CREATE TABLE topics (
    agency_id   TEXT NOT NULL REFERENCES agencies (id),
    code        TEXT NOT NULL,
    label       TEXT NOT NULL,
    PRIMARY KEY (agency_id, code)
);

CREATE TABLE users (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    role        TEXT NOT NULL,
    agency_id   TEXT REFERENCES agencies (id),
    email       TEXT,
    created_at  TIMESTAMP NOT NULL
);

CREATE TABLE api_tokens (
    -- SHA-256 of the token, hex. The token itself is never stored.
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id),
    created_at  TIMESTAMP NOT NULL,
    revoked_at  TIMESTAMP
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id);

CREATE TABLE tracking_counters (
    agency_id   TEXT NOT NULL REFERENCES agencies (id),
    year        INTEGER NOT NULL,
    last_value  INTEGER NOT NULL,
    PRIMARY KEY (agency_id, year)
);

CREATE TABLE cases (
    id                  TEXT PRIMARY KEY,
    agency_id           TEXT NOT NULL REFERENCES agencies (id),
    tracking_number     TEXT NOT NULL UNIQUE,
    tracking_year       INTEGER NOT NULL,
    tracking_seq        INTEGER NOT NULL,
    state               TEXT NOT NULL,
    regime              TEXT NOT NULL,
    channel             TEXT NOT NULL,
    arrived_at          TIMESTAMP NOT NULL,
    received_on         DATE NOT NULL,
    receipt_basis       TEXT NOT NULL,
    receipt_evidence    TEXT,
    applicant_kind      TEXT NOT NULL,
    applicant_name      TEXT NOT NULL,
    applicant_id_number TEXT,
    applicant_phone     TEXT,
    applicant_email     TEXT,
    applicant_address   TEXT,
    description         TEXT NOT NULL,
    delivery_form       TEXT NOT NULL,
    topic               TEXT,
    created_by          TEXT NOT NULL REFERENCES users (id),
    created_at          TIMESTAMP NOT NULL,
    updated_at          TIMESTAMP NOT NULL,
    -- Projection bookkeeping: the newest event folded into this row.
    last_event_seq      INTEGER NOT NULL,
    last_event_hash     TEXT NOT NULL,
    UNIQUE (agency_id, tracking_year, tracking_seq)
);
CREATE INDEX cases_agency_idx ON cases (agency_id, id);
CREATE INDEX cases_received_idx ON cases (received_on);
CREATE INDEX cases_state_idx ON cases (state);

CREATE TABLE case_events (
    id          TEXT PRIMARY KEY,
    case_id     TEXT NOT NULL REFERENCES cases (id),
    seq         INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    payload     TEXT NOT NULL,
    actor_id    TEXT REFERENCES users (id),
    occurred_at TIMESTAMP NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL,
    UNIQUE (case_id, seq)
);

CREATE TABLE idempotency_keys (
    user_id         TEXT NOT NULL REFERENCES users (id),
    idempotency_key TEXT NOT NULL,
    request_hash    TEXT NOT NULL,
    status_code     INTEGER NOT NULL,
    response_body   TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, idempotency_key)
);
