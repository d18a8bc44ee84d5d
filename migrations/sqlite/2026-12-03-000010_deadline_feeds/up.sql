-- Deadline calendar feeds (RFC 5545): a secret URL per user (the cases they handle or, as office
-- head, approve) and per agency (the office's cases), which calendar programs subscribe to. Only
-- the secret's SHA-256 is stored; rotating it replaces the hash, so the old URL stops at once.
CREATE TABLE deadline_feeds (
    id              TEXT PRIMARY KEY NOT NULL,
    token_hash      TEXT NOT NULL UNIQUE,
    -- Exactly one of the two: whose feed it is.
    user_id         TEXT REFERENCES users (id),
    agency_id       TEXT REFERENCES agencies (id),
    created_by      TEXT REFERENCES users (id),
    created_at      TIMESTAMP NOT NULL,
    last_fetched_at TIMESTAMP
);
CREATE UNIQUE INDEX deadline_feeds_user ON deadline_feeds (user_id);
CREATE UNIQUE INDEX deadline_feeds_agency ON deadline_feeds (agency_id);
