DROP INDEX cases_agency_long_open;
DROP INDEX cases_agency_closed;
DROP INDEX cases_agency_received;
DROP INDEX cases_search_terms;
ALTER TABLE cases DROP COLUMN search_terms;
