-- Archive tasks that must be confirmed with the provider's task API before downloading
-- (RECEIVER_CONFIRM_WITH_PROVIDER, and jobs adopted from unbound callback URLs).
ALTER TABLE archive_tasks ADD COLUMN confirm_first INTEGER NOT NULL DEFAULT 0;
