DROP TABLE idempotency_keys;
DROP TABLE case_events;
DROP TABLE cases;
DROP TABLE tracking_counters;
DROP TABLE api_tokens;
DROP TABLE users;
DROP TABLE topics;
DROP TABLE agencies;
