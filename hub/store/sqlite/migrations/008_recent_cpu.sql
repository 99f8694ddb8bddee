-- The fleet's sparklines at startup (issue 17): `cpu.percent` of the last samples of each
-- node's newest compacted minute, (ts_ms, value) pairs as msgpack, written with the block,
-- so loading the fleet reads the rows and this, and decodes no block. An older database
-- starts empty and fills as minutes are compacted; until then a node's sparkline is read
-- from its newest block, as before.
CREATE TABLE IF NOT EXISTS recent_cpu (
    node_id TEXT PRIMARY KEY,
    bucket_ms INTEGER NOT NULL,
    points BLOB NOT NULL
) WITHOUT ROWID;
