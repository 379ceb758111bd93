-- Workers learn of archive work the moment it is committed: every task that becomes ready
-- (enqueued, requeued, retried) notifies channel receiver_archive. NOTIFY is transactional,
-- delivered at commit, and identical ones in one transaction are folded into one, so a group
-- commit of a hundred callbacks wakes each listening worker once. Polling stays as the
-- safety net (a worker that was not listening, a task whose not_before lies ahead).
CREATE FUNCTION receiver_archive_ready() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('receiver_archive', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER archive_tasks_ready
AFTER INSERT OR UPDATE OF state ON archive_tasks
FOR EACH ROW WHEN (NEW.state = 'queued')
EXECUTE FUNCTION receiver_archive_ready();
