-- Finding a case the way people ask for it: by the applicant's phone, e-mail or ID number however they
-- were typed (the normalised forms, set from each case's events; `foi-tracker migrate` fills them for
-- cases registered before), and by tracking number.
ALTER TABLE cases ADD COLUMN applicant_phone_key TEXT;
ALTER TABLE cases ADD COLUMN applicant_email_key TEXT;
ALTER TABLE cases ADD COLUMN applicant_id_number_key TEXT;
CREATE INDEX cases_applicant_phone_key ON cases (applicant_phone_key);
CREATE INDEX cases_applicant_email_key ON cases (applicant_email_key);
CREATE INDEX cases_applicant_id_number_key ON cases (applicant_id_number_key);
