-- Compact history (issue 17): a finished node-minute of raw samples becomes one block of
-- compressed columns (hub/store/sqlite/blocks.py); the current minutes stay rows of
-- `samples`, which is also what is left to compact. An existing database needs nothing
-- more: its old rows are finished minutes, and the compaction pass converts them in the
-- background, a chunk at a time, resumable after any stop.
CREATE TABLE IF NOT EXISTS sample_blocks (
    node_id TEXT NOT NULL,
    bucket_ms INTEGER NOT NULL,
    n INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (node_id, bucket_ms)
) WITHOUT ROWID;

-- The shapes of samples (keys and list lengths), each stored once under a hash of its text.
CREATE TABLE IF NOT EXISTS sample_shapes (
    hash INTEGER PRIMARY KEY,
    shape BLOB NOT NULL
);
