-- differs: the search index is a GIN index over the term array on PostgreSQL and an FTS5 table on SQLite, and date arithmetic is spelled differently.
-- Free-text search: the terms of each case's description, applicant name and tracking number (the
-- letter/digit pairs and single Chinese characters of foi-domain's `search` module), kept by the
-- projection; `foi-tracker migrate` fills them for earlier cases. A GIN index over the term array
-- finds the cases holding every term of a query, whatever its language.
ALTER TABLE cases ADD COLUMN search_terms TEXT NOT NULL DEFAULT '';
CREATE INDEX cases_search_terms ON cases USING gin (string_to_array(search_terms, ' '));
-- Enough statistics on the terms for the planner to tell frequent words (read the list in its order
-- until a page is full) from rare and absent ones (read their cases through this index, then sort):
-- with the default target, a word no case holds is estimated as common as the rarest tracked term.
ALTER INDEX cases_search_terms ALTER COLUMN 1 SET STATISTICS 1000;

-- Reports read one agency's cases received or closed in one year: (agency, date) ranges, covering
-- every column the report's statements read, so they scan the index alone.
CREATE INDEX cases_agency_received ON cases (agency_id, received_on)
    INCLUDE (state, channel, applicant_kind, topic, closed_on);
CREATE INDEX cases_agency_closed ON cases (agency_id, closed_on)
    INCLUDE (state, received_on, applicant_kind, outcome, outcome_reason, already_public, closed_as);
-- Cases open at a year's start (carried in) were received in the year before, or are among the few
-- that stay open (or stayed open) longer than a year: this index holds only those, with every column
-- the report reads of them.
CREATE INDEX cases_agency_long_open ON cases (agency_id, received_on)
    INCLUDE (state, applicant_kind, closed_on, tracking_number, final_due_on, id)
    WHERE closed_on IS NULL OR closed_on > received_on + 366;

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
