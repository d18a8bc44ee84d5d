DROP INDEX report_corrections_lock_idx;
DROP TABLE report_corrections;
DROP TABLE report_locks;
