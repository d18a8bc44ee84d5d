-- Browser sign-in: a login name and an argon2id password hash per user, server-side sessions (so
-- several instances share them), and the security log of sign-ins, sign-outs and credential changes.
ALTER TABLE users ADD COLUMN login TEXT;
ALTER TABLE users ADD COLUMN password_hash TEXT;
ALTER TABLE users ADD COLUMN password_changed_at TIMESTAMP;
-- Existing users sign in with their name where it is one word and nobody shares it; namesakes are
-- given a login by an administrator.
UPDATE users SET login = name
 WHERE name NOT LIKE '% %'
   AND name IN (SELECT name FROM users GROUP BY name HAVING count(*) = 1);
CREATE UNIQUE INDEX users_login ON users (login);

CREATE TABLE sessions (
    id             TEXT PRIMARY KEY NOT NULL,
    -- SHA-256 of the cookie's value (the value itself is never stored).
    token_hash     TEXT NOT NULL UNIQUE,
    user_id        TEXT NOT NULL REFERENCES users (id),
    -- Sent back in the X-CSRF-Token header with every write the cookie authenticates.
    csrf_token     TEXT NOT NULL,
    created_at     TIMESTAMP NOT NULL,
    last_seen_at   TIMESTAMP NOT NULL,
    ended_at       TIMESTAMP,
    -- logout, password_changed, deactivated
    end_reason     TEXT,
    client_address TEXT,
    user_agent     TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE security_events (
    id             TEXT PRIMARY KEY NOT NULL,
    occurred_at    TIMESTAMP NOT NULL,
    kind           TEXT NOT NULL,
    -- The account concerned (null: a failed sign-in under a name nobody has).
    user_id        TEXT REFERENCES users (id),
    -- Who did it (null: the operator at the command line, or the person signing in).
    actor_id       TEXT REFERENCES users (id),
    -- The login name tried, for sign-ins.
    login          TEXT,
    client_address TEXT,
    -- JSON: what else the event needs (a token's id and name, why a sign-in failed, ...).
    detail         TEXT NOT NULL
);
CREATE INDEX security_events_time ON security_events (occurred_at);
CREATE INDEX security_events_user ON security_events (user_id);
