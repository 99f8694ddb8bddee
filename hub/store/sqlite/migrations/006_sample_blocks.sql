-- Compact history (issue 17): a finished node-minute of raw samples becomes one block of
-- compressed columns (hub/store/sqlite/blocks.py); the current minutes stay rows of
-- `samples`, which is also what is left to compact. An existing database needs nothing
-- more: its old rows are finished minutes, and the compaction pass converts them in the
-- background, a chunk at a time, resumable after any stop.
-- A rowid table, not WITHOUT ROWID: a WITHOUT ROWID row keeps at most ~1 kB on its b-tree
-- page and sends the rest to an overflow page of its own (a 3.3 kB block took 4.5 kB of
-- pages); a rowid table keeps up to ~4 kB in place and fills its overflow pages.
CREATE TABLE IF NOT EXISTS sample_blocks (
    id INTEGER PRIMARY KEY,
    node_id TEXT NOT NULL,
    bucket_ms INTEGER NOT NULL,
    n INTEGER NOT NULL,
    data BLOB NOT NULL,
    UNIQUE (node_id, bucket_ms)
);

-- The shapes of samples (keys and list lengths), each stored once under a hash of its text.
CREATE TABLE IF NOT EXISTS sample_shapes (
    hash INTEGER PRIMARY KEY,
    shape BLOB NOT NULL
);
