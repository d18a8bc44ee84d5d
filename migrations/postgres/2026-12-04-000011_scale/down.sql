-- differs: the search index is a GIN index over the term array on PostgreSQL and an FTS5 table on SQLite, and date arithmetic is spelled differently.
DROP INDEX cases_search_keys_missing;
DROP INDEX cases_search_terms_missing;
DROP INDEX cases_open;
DROP INDEX cases_agency_long_open;
DROP INDEX cases_agency_closed;
DROP INDEX cases_agency_received;
DROP INDEX cases_search_terms;
ALTER TABLE cases DROP COLUMN search_terms;
