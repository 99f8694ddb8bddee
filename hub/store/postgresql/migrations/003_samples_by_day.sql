-- Raw samples partitioned by day (UTC) of ts_ms, so that retention drops a whole day's table
-- instead of deleting its rows one by one (and leaving autovacuum the dead rows). The day
-- partitions (samples_dYYYYMMDD) are made ahead of time by the hubs' maintenance task
-- (partitions.py); the rows already stored stay where they are: the old table becomes the
-- DEFAULT partition, which also takes any sample whose day has no partition (an agent whose
-- clock is far off, a backfill of old samples). Retention deletes those by time as before.
ALTER TABLE samples RENAME TO samples_default;
ALTER INDEX samples_pkey RENAME TO samples_default_pkey;
ALTER INDEX samples_ts_brin RENAME TO samples_default_ts_brin;

CREATE TABLE samples (
    node_id text NOT NULL,
    ts_ms bigint NOT NULL,
    data jsonb NOT NULL,
    PRIMARY KEY (node_id, ts_ms)
) PARTITION BY RANGE (ts_ms);
CREATE INDEX samples_ts_brin ON samples USING brin (ts_ms);

ALTER TABLE samples ATTACH PARTITION samples_default DEFAULT;
