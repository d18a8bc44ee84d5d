DROP TABLE document_templates;
DROP TABLE letterheads;
DROP TABLE document_counters;
DROP TABLE stored_file_chunks;
DROP TABLE stored_files;
