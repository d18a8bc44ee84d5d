DROP INDEX cases_applicant_id_number_key;
DROP INDEX cases_applicant_email_key;
DROP INDEX cases_applicant_phone_key;
ALTER TABLE cases DROP COLUMN applicant_id_number_key;
ALTER TABLE cases DROP COLUMN applicant_email_key;
ALTER TABLE cases DROP COLUMN applicant_phone_key;
