-- The job queue: jobs, every attempt at them, workers and sweep batches.
-- The status CHECK repeats forge_contracts/vocabulary.py JOB_STATUSES (the one list;
-- tests/test_meta.py checks they agree).
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    type TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'cancelled')),
    priority INTEGER NOT NULL DEFAULT 0,
    cores INTEGER NOT NULL DEFAULT 1,
    claimed_by TEXT,
    claimed_at REAL,
    lease_until REAL,
    attempt_count INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL DEFAULT 3,
    progress TEXT,
    result TEXT,
    error TEXT,
    review INTEGER NOT NULL DEFAULT 0,
    label TEXT,
    batch_id TEXT,
    created_at REAL NOT NULL,
    finished_at REAL
);
CREATE INDEX IF NOT EXISTS jobs_claim ON jobs (status, priority DESC, id);
CREATE INDEX IF NOT EXISTS jobs_worker ON jobs (claimed_by, status);
CREATE INDEX IF NOT EXISTS jobs_batch ON jobs (batch_id);

CREATE TABLE IF NOT EXISTS job_attempts (
    job_id INTEGER NOT NULL REFERENCES jobs (id),
    attempt INTEGER NOT NULL,
    worker_id TEXT NOT NULL,
    started_at REAL NOT NULL,
    ended_at REAL,
    outcome TEXT,
    error TEXT,
    result TEXT,
    PRIMARY KEY (job_id, attempt)
);

CREATE TABLE IF NOT EXISTS workers (
    id TEXT PRIMARY KEY,
    last_heartbeat REAL NOT NULL,
    state TEXT NOT NULL DEFAULT '{}'
);

CREATE TABLE IF NOT EXISTS batches (
    id TEXT PRIMARY KEY,
    label TEXT,
    spec TEXT,
    created_at REAL NOT NULL
);
