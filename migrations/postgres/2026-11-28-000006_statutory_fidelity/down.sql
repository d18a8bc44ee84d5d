ALTER TABLE cases DROP COLUMN repeat_of_earlier;
ALTER TABLE idempotency_keys DROP COLUMN response_etag;
ALTER TABLE idempotency_keys DROP COLUMN response_location;
ALTER TABLE regimes DROP COLUMN paused_consultations;
ALTER TABLE regimes DROP COLUMN agency_delay_allowed;
