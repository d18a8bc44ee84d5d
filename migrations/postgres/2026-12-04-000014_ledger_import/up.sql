-- Cases brought in from an office's ledger (台账): which row of which file each came from, so that
-- importing the same file again skips what is already here (by the office's original number, or by
-- the row's content when it has none).
CREATE TABLE imported_rows (
    case_id         TEXT PRIMARY KEY REFERENCES cases (id),
    agency_id       TEXT NOT NULL REFERENCES agencies (id),
    original_number TEXT,
    content_hash    TEXT NOT NULL,
    file_sha256     TEXT NOT NULL,
    row_number      INTEGER NOT NULL,
    imported_at     TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX imported_rows_number_idx ON imported_rows (agency_id, original_number) WHERE original_number IS NOT NULL;
CREATE UNIQUE INDEX imported_rows_content_idx ON imported_rows (agency_id, content_hash);
