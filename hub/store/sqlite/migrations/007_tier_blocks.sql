-- Compact tiers (issue 17): the 1-minute averages of a finished node-hour and the 1-hour
-- averages of a finished node-day become one block each, in the raw blocks' format
-- (hub/store/sqlite/blocks.py); `ns` holds each average's sample count (msgpack list, in
-- the block's order). The rows of `samples_1m` / `samples_1h` are what is left to compact,
-- and a row beside a block (a minute averaged again after late samples) replaces the
-- block's entry of the same ts until the next pass merges it. An existing database needs
-- nothing more: its tier rows are compacted in the background, as the raw rows are.
CREATE TABLE IF NOT EXISTS tier_blocks (
    id INTEGER PRIMARY KEY,
    tier TEXT NOT NULL CHECK (tier IN ('1m', '1h')),
    node_id TEXT NOT NULL,
    bucket_ms INTEGER NOT NULL,
    n INTEGER NOT NULL,
    ns BLOB NOT NULL,
    data BLOB NOT NULL,
    UNIQUE (tier, node_id, bucket_ms)
);
