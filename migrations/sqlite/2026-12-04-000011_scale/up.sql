-- differs: the search index is a GIN index over the term array on PostgreSQL and an FTS5 table on SQLite, and date arithmetic is spelled differently.
-- Free-text search: the terms of each case's description, applicant name and tracking number (the
-- letter/digit pairs and single Chinese characters of foi-domain's `search` module), kept by the
-- projection; `foi-tracker migrate` fills them for earlier cases.
ALTER TABLE cases ADD COLUMN search_terms TEXT NOT NULL DEFAULT '';
-- An FTS5 index of those terms (the `ascii` tokenizer keeps each term whole). Its rows are numbered by
-- case_search_rows, whose INTEGER PRIMARY KEY survives VACUUM (a case's implicit rowid would not).
CREATE TABLE case_search_rows (
    rowid INTEGER PRIMARY KEY,
    case_id TEXT NOT NULL UNIQUE REFERENCES cases (id) ON DELETE CASCADE
);
CREATE VIRTUAL TABLE case_search USING fts5 (terms, content = '', contentless_delete = 1, tokenize = 'ascii');
INSERT INTO case_search_rows (case_id) SELECT id FROM cases;
CREATE TRIGGER cases_search_insert AFTER INSERT ON cases BEGIN
    INSERT INTO case_search_rows (case_id) VALUES (new.id);
    INSERT INTO case_search (rowid, terms)
        SELECT rowid, new.search_terms FROM case_search_rows WHERE case_id = new.id;
END;
CREATE TRIGGER cases_search_update AFTER UPDATE OF search_terms ON cases
WHEN old.search_terms IS NOT new.search_terms BEGIN
    DELETE FROM case_search WHERE rowid = (SELECT rowid FROM case_search_rows WHERE case_id = new.id);
    INSERT INTO case_search (rowid, terms)
        SELECT rowid, new.search_terms FROM case_search_rows WHERE case_id = new.id;
END;
CREATE TRIGGER cases_search_delete AFTER DELETE ON cases BEGIN
    DELETE FROM case_search WHERE rowid = (SELECT rowid FROM case_search_rows WHERE case_id = old.id);
    DELETE FROM case_search_rows WHERE case_id = old.id;
END;

-- Reports read one agency's cases received or closed in one year: (agency, date) ranges, covering
-- every column the report's statements read, so they scan the index alone.
CREATE INDEX cases_agency_received ON cases (agency_id, received_on, state, channel, applicant_kind, topic, closed_on);
CREATE INDEX cases_agency_closed ON cases
    (agency_id, closed_on, state, received_on, applicant_kind, outcome, outcome_reason, already_public, closed_as);
-- Cases open at a year's start (carried in) were received in the year before, or are among the few
-- that stay open (or stayed open) longer than a year: this index holds only those, with every column
-- the report reads of them.
CREATE INDEX cases_agency_long_open
    ON cases (agency_id, received_on, state, applicant_kind, closed_on, tracking_number, final_due_on, id)
    WHERE closed_on IS NULL OR closed_on > date(received_on, '+366 days');

-- The open cases (an open case has no closing date), in id order: the reminder run pages through
-- them, reading only its own candidates however many cases are closed.
CREATE INDEX cases_open ON cases (id) WHERE closed_on IS NULL;

-- The rows `foi-tracker migrate` still has to fill (search terms, applicant search keys), so that
-- looking for them at every start reads nothing once they are filled.
CREATE INDEX cases_search_terms_missing ON cases (id) WHERE search_terms = '';
CREATE INDEX cases_search_keys_missing ON cases (id)
    WHERE (applicant_phone IS NOT NULL AND applicant_phone_key IS NULL)
       OR (applicant_email IS NOT NULL AND applicant_email_key IS NULL)
       OR (applicant_id_number IS NOT NULL AND applicant_id_number_key IS NULL);
