DROP TABLE security_events;
DROP TABLE sessions;
DROP INDEX users_login;
ALTER TABLE users DROP COLUMN password_changed_at;
ALTER TABLE users DROP COLUMN password_hash;
ALTER TABLE users DROP COLUMN login;
