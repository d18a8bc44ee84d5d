DROP INDEX reminder_outbox_case_idx;
DROP INDEX reminder_outbox_state_idx;
DROP TABLE reminder_outbox;
DROP INDEX cases_stop_ends_idx;
ALTER TABLE cases DROP COLUMN stop_ends_on;
