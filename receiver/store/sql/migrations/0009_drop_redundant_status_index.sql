-- jobs_check_after (status, check_after) serves every lookup by status that jobs_status
-- served: status is its leading column. The second index only cost a write on every
-- status change, which every accepted callback makes.
DROP INDEX jobs_status;
