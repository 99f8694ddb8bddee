-- When a worker reported an attempt's outcome; for a late report on a reclaimed attempt this
-- differs from ended_at (when the lease ran out), and both are kept.
ALTER TABLE job_attempts ADD COLUMN reported_at REAL;
