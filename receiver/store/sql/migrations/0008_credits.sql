-- Cost accounting: what a job was expected to cost when we submitted it (the provider's
-- per-second price), next to credits_reserved (what the provider says it reserved). The
-- daily budget and `receiver costs` read them by creation time.
ALTER TABLE jobs ADD COLUMN credits_estimated DOUBLE PRECISION;
CREATE INDEX jobs_created_at ON jobs (created_at);
