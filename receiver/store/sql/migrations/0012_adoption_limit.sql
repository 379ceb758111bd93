-- Which unbound callback URL adopted a job (a digest of its token), so that one URL can
-- adopt only so many jobs a day (RECEIVER_ADOPT_LIMIT): anyone holding it could otherwise
-- make a job, and a provider lookup, per POST.
ALTER TABLE jobs ADD COLUMN adopted_via TEXT;
CREATE INDEX jobs_adopted_via ON jobs (adopted_via, created_at) WHERE adopted_via IS NOT NULL;
