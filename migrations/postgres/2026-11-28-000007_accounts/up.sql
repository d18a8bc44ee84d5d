-- Accounts: a user can be deactivated (their tokens stop at once; their history stays), and holds
-- several named API tokens, each with an optional expiry and the time it was last used.
ALTER TABLE users ADD COLUMN deactivated_at TIMESTAMP;

ALTER TABLE api_tokens ADD COLUMN id TEXT;
ALTER TABLE api_tokens ADD COLUMN name TEXT NOT NULL DEFAULT 'first token';
-- The token's first characters, to tell tokens apart in a list (the token itself is never stored).
ALTER TABLE api_tokens ADD COLUMN prefix TEXT NOT NULL DEFAULT '';
ALTER TABLE api_tokens ADD COLUMN expires_at TIMESTAMP;
ALTER TABLE api_tokens ADD COLUMN last_used_at TIMESTAMP;
-- Tokens made before: an id from their hash (unique, as the hash is).
UPDATE api_tokens SET id = substr(token_hash, 1, 32) WHERE id IS NULL;
CREATE UNIQUE INDEX api_tokens_id ON api_tokens (id);
CREATE INDEX api_tokens_user ON api_tokens (user_id);
