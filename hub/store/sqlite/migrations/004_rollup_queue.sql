-- Buckets still to be averaged into a tier, kept here rather than in memory so that no crash
-- or failed write can lose one (issue 13.4). `gen` grows each time a bucket is queued again,
-- so a rollup that read an older state of the bucket leaves it queued for the next round.
CREATE TABLE IF NOT EXISTS rollup_queue (
    tier TEXT NOT NULL CHECK (tier IN ('1m', '1h')),
    node_id TEXT NOT NULL,
    bucket_ms INTEGER NOT NULL,
    gen INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (tier, node_id, bucket_ms)
) WITHOUT ROWID;

-- Minutes an older hub lost (no average, or one over fewer samples than are stored;
-- fewer stored than averaged is the retention prune cutting a minute, and stays): queue them.
INSERT OR IGNORE INTO rollup_queue (tier, node_id, bucket_ms)
SELECT '1m', raw.node_id, raw.minute FROM (
    SELECT node_id, ts_ms / 60000 * 60000 AS minute, count(*) AS n FROM samples GROUP BY node_id, minute
) AS raw
LEFT JOIN samples_1m AS m ON m.node_id = raw.node_id AND m.ts_ms = raw.minute
WHERE m.n IS NULL OR m.n < raw.n;
