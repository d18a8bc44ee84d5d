-- differs: PostgreSQL drops the outbox's foreign keys in place, compares its keys in the "C" collation (SQLite's default) and covers the open-case index with INCLUDE; SQLite must rebuild the outbox table to drop them, and keeps its open-case index.
-- The reminder outbox is a delivery queue filled from case rows the run has just read; cases and
-- agencies are never deleted. Its foreign keys checked (and share-locked) each reminder's case and
-- agency row again: 2.2 s of 3.9 s when 100,000 reminders are recorded at 1M cases.
ALTER TABLE reminder_outbox
    DROP CONSTRAINT reminder_outbox_case_id_fkey,
    DROP CONSTRAINT reminder_outbox_agency_id_fkey;
-- Dedup keys and addresses are compared byte by byte (each run looks up every reminder it is due):
-- under the database's default collation each comparison of these ASCII keys went through the
-- locale, and the lookups took twice as long.
ALTER TABLE reminder_outbox
    ALTER COLUMN dedup_key TYPE TEXT COLLATE "C",
    ALTER COLUMN recipient TYPE TEXT COLLATE "C";

-- The reminder run reads open cases page by page in id order: the index carries what it reads, so a
-- page is read from the index alone instead of one heap page per case.
DROP INDEX cases_open;
CREATE INDEX cases_open ON cases (id)
    INCLUDE (agency_id, state, final_due_on, stop_ends_on, tracking_number, applicant_name, handler_id)
    WHERE closed_on IS NULL;

-- The report's carried-in and carried-forward counts read the cases received in the 90 days before
-- the day (replies are due in 20 working days, 40 when extended, Art. 33) and, from this index, the
-- few cases that were open longer. With a year's window, a whole city's report read each year's
-- receipts twice more.
DROP INDEX cases_agency_long_open;
CREATE INDEX cases_agency_long_open ON cases (agency_id, received_on)
    INCLUDE (state, applicant_kind, closed_on, tracking_number, final_due_on, id)
    WHERE closed_on IS NULL OR closed_on > received_on + 90;
