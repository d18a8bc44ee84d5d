-- differs: see up.sql.
DROP INDEX cases_open;
CREATE INDEX cases_open ON cases (id) WHERE closed_on IS NULL;
ALTER TABLE reminder_outbox
    ALTER COLUMN dedup_key TYPE TEXT COLLATE "default",
    ALTER COLUMN recipient TYPE TEXT COLLATE "default",
    ADD CONSTRAINT reminder_outbox_case_id_fkey FOREIGN KEY (case_id) REFERENCES cases (id),
    ADD CONSTRAINT reminder_outbox_agency_id_fkey FOREIGN KEY (agency_id) REFERENCES agencies (id);
DROP INDEX cases_agency_long_open;
CREATE INDEX cases_agency_long_open ON cases (agency_id, received_on)
    INCLUDE (state, applicant_kind, closed_on, tracking_number, final_due_on, id)
    WHERE closed_on IS NULL OR closed_on > received_on + 366;
