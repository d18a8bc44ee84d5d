DROP INDEX api_tokens_user;
DROP INDEX api_tokens_id;
ALTER TABLE api_tokens DROP COLUMN last_used_at;
ALTER TABLE api_tokens DROP COLUMN expires_at;
ALTER TABLE api_tokens DROP COLUMN prefix;
ALTER TABLE api_tokens DROP COLUMN name;
ALTER TABLE api_tokens DROP COLUMN id;
ALTER TABLE users DROP COLUMN deactivated_at;
