-- The wake-up trigger of 0014 on the archive_tasks that 0015 rebuilt (one row per result).
CREATE TRIGGER archive_tasks_ready
AFTER INSERT OR UPDATE OF state ON archive_tasks
FOR EACH ROW WHEN (NEW.state = 'queued')
EXECUTE FUNCTION receiver_archive_ready();
