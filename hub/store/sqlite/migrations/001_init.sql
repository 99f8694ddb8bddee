-- Nodes, samples (raw and averaged tiers), tokens and join codes.
CREATE TABLE IF NOT EXISTS nodes (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    identity TEXT NOT NULL DEFAULT '{}',
    first_seen REAL NOT NULL,
    last_seen REAL NOT NULL,
    latest TEXT
);

CREATE TABLE IF NOT EXISTS samples (
    node_id TEXT NOT NULL,
    ts_ms INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (node_id, ts_ms)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS samples_1m (
    node_id TEXT NOT NULL,
    ts_ms INTEGER NOT NULL,
    n INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (node_id, ts_ms)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS samples_1h (
    node_id TEXT NOT NULL,
    ts_ms INTEGER NOT NULL,
    n INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (node_id, ts_ms)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS tokens (
    node_id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    created_at REAL NOT NULL,
    last_used REAL,
    revoked_at REAL
);

CREATE TABLE IF NOT EXISTS join_codes (
    code_hash TEXT PRIMARY KEY,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    used_at REAL,
    used_by TEXT
);
