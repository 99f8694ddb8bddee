-- Alerts: rules, channels (URLs sealed by the hub, opaque here), alert episodes, the
-- notification outbox, node maintenance windows, and the stock rules of a fresh hub.
CREATE TABLE alert_rules (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  metric TEXT NOT NULL,
  op TEXT NOT NULL,
  threshold REAL NOT NULL,
  for_s REAL NOT NULL,
  nodes TEXT NOT NULL,
  severity TEXT NOT NULL,
  enabled INTEGER NOT NULL,
  created_at REAL NOT NULL,
  updated_at REAL NOT NULL
);
CREATE TABLE alert_channels (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  url_sealed TEXT NOT NULL,
  last_error TEXT,
  last_error_at REAL,
  last_sent_at REAL,
  created_at REAL NOT NULL
);
CREATE TABLE alert_rule_channels (
  rule_id INTEGER NOT NULL REFERENCES alert_rules(id) ON DELETE CASCADE,
  channel_id INTEGER NOT NULL REFERENCES alert_channels(id) ON DELETE CASCADE,
  PRIMARY KEY (rule_id, channel_id)
);
CREATE TABLE alerts (
  id INTEGER PRIMARY KEY,
  rule_id INTEGER NOT NULL,
  node_id TEXT NOT NULL,
  rule_name TEXT NOT NULL,
  metric TEXT NOT NULL,
  severity TEXT NOT NULL,
  op TEXT NOT NULL,
  threshold REAL NOT NULL,
  value REAL,
  state TEXT NOT NULL,
  started_at REAL NOT NULL,
  resolved_at REAL
);
CREATE UNIQUE INDEX alerts_open ON alerts (rule_id, node_id) WHERE resolved_at IS NULL;
CREATE INDEX alerts_started ON alerts (started_at);
CREATE INDEX alerts_node ON alerts (node_id, started_at);
CREATE TABLE alert_outbox (
  id INTEGER PRIMARY KEY,
  alert_id INTEGER REFERENCES alerts(id) ON DELETE CASCADE,
  channel_id INTEGER NOT NULL REFERENCES alert_channels(id) ON DELETE CASCADE,
  kind TEXT NOT NULL,
  title TEXT NOT NULL,
  body TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at REAL NOT NULL,
  sent_at REAL,
  gave_up INTEGER NOT NULL DEFAULT 0,
  created_at REAL NOT NULL
);
CREATE INDEX alert_outbox_due ON alert_outbox (next_at) WHERE sent_at IS NULL AND gave_up = 0;
CREATE TABLE node_maintenance (
  node_id TEXT PRIMARY KEY,
  until REAL NOT NULL,
  set_at REAL NOT NULL
);
INSERT INTO alert_rules (name, metric, op, threshold, for_s, nodes, severity, enabled, created_at, updated_at) VALUES
  ('Node offline', 'offline', '>', 300, 0, '["*"]', 'critical', 1, 0, 0),
  ('Disk almost full', 'disk', '>', 90, 300, '["*"]', 'warning', 1, 0, 0),
  ('Memory almost full', 'memory', '>', 95, 600, '["*"]', 'warning', 1, 0, 0),
  ('Running hot', 'temperature', '>', 90, 120, '["*"]', 'critical', 1, 0, 0),
  ('Rebooted', 'reboot', '>', 0, 0, '["*"]', 'warning', 1, 0, 0);
