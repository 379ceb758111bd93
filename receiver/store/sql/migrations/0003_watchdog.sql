-- When the watchdog should next ask the provider about a job whose callback is overdue.
ALTER TABLE jobs ADD COLUMN check_after TEXT;
ALTER TABLE jobs ADD COLUMN check_attempts INTEGER NOT NULL DEFAULT 0;
CREATE INDEX jobs_check_after ON jobs (status, check_after);
