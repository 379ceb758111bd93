-- What the stored video is (read from the object itself), and the mark that a job's link
-- deadline came near while its archive was unfinished (warned about once per job).
ALTER TABLE assets ADD COLUMN duration_seconds DOUBLE PRECISION;
ALTER TABLE assets ADD COLUMN width INTEGER;
ALTER TABLE assets ADD COLUMN height INTEGER;
ALTER TABLE assets ADD COLUMN codec TEXT;
ALTER TABLE archive_tasks ADD COLUMN deadline_warned_at TEXT;
