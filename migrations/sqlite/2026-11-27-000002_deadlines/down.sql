DROP INDEX cases_final_due_idx;
ALTER TABLE cases DROP COLUMN deadline_provisional;
ALTER TABLE cases DROP COLUMN final_due_on;
ALTER TABLE cases DROP COLUMN due_on;
DROP TABLE calendar_revision;
DROP TABLE calendar_days;
DROP TABLE calendar_notices;
DROP TABLE regimes;
