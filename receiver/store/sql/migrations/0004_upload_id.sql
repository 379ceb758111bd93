-- The multipart upload an archive attempt has open, so that the next claim of the task can
-- abort it when the attempt died without cleaning up (a killed worker).
ALTER TABLE archive_tasks ADD COLUMN upload_id TEXT;
