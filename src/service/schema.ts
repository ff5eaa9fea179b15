/**
 * The embedded store's schema, one migration per entry, applied in order (see openSqlite). A
 * released migration never changes: a new one is added instead.
 */
export const SERVICE_MIGRATIONS: readonly string[] = [
  `CREATE TABLE tenants (
     name TEXT PRIMARY KEY,
     created_at TEXT NOT NULL
   );
   CREATE TABLE tokens (
     id INTEGER PRIMARY KEY,
     hash TEXT NOT NULL UNIQUE,
     label TEXT,
     role TEXT NOT NULL CHECK (role IN ('admin', 'analyst', 'viewer', 'ingest')),
     tenant TEXT REFERENCES tenants (name),
     created_at TEXT NOT NULL,
     revoked_at TEXT
   );
   CREATE TABLE audit (
     seq INTEGER PRIMARY KEY,
     time TEXT NOT NULL,
     actor TEXT NOT NULL,
     action TEXT NOT NULL,
     tenant TEXT,
     target TEXT,
     details TEXT NOT NULL,
     prev_hash TEXT NOT NULL,
     hash TEXT NOT NULL
   );
   CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
     BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
   CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
     BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
   CREATE TABLE positions (
     tenant TEXT PRIMARY KEY,
     processed INTEGER NOT NULL
   );
   CREATE TABLE snapshots (
     tenant TEXT PRIMARY KEY,
     seq INTEGER NOT NULL,
     state TEXT NOT NULL,
     taken_at TEXT NOT NULL
   );
   CREATE TABLE suppressions (
     id INTEGER PRIMARY KEY,
     tenant TEXT,
     rule TEXT,
     host TEXT,
     field TEXT,
     value TEXT,
     until TEXT NOT NULL,
     created_by TEXT NOT NULL,
     reason TEXT NOT NULL,
     created_at TEXT NOT NULL,
     hits INTEGER NOT NULL DEFAULT 0
   );
   CREATE TABLE alerts (
     id INTEGER PRIMARY KEY,
     tenant TEXT NOT NULL,
     rule_key TEXT NOT NULL,
     rule_id TEXT,
     rule_title TEXT NOT NULL,
     level TEXT NOT NULL,
     level_rank INTEGER NOT NULL,
     host TEXT NOT NULL,
     techniques TEXT NOT NULL,
     first_seen INTEGER NOT NULL,
     last_seen INTEGER NOT NULL,
     count INTEGER NOT NULL,
     status TEXT NOT NULL CHECK (status IN ('open', 'acknowledged', 'closed')),
     assignee TEXT,
     close_reason TEXT CHECK (close_reason IN ('true_positive', 'benign_true_positive', 'false_positive', 'duplicate')),
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL
   );
   CREATE INDEX alerts_list ON alerts (tenant, id);
   CREATE INDEX alerts_group ON alerts (tenant, rule_key, host, status);
   CREATE TABLE alert_history (
     id INTEGER PRIMARY KEY,
     alert_id INTEGER NOT NULL REFERENCES alerts (id),
     time TEXT NOT NULL,
     actor TEXT NOT NULL,
     change TEXT NOT NULL
   );
   CREATE INDEX alert_history_alert ON alert_history (alert_id);
   CREATE TABLE detections (
     id INTEGER PRIMARY KEY,
     tenant TEXT NOT NULL,
     key TEXT NOT NULL,
     seq INTEGER NOT NULL,
     time INTEGER,
     received INTEGER NOT NULL,
     rule_key TEXT NOT NULL,
     rule_id TEXT,
     rule_title TEXT NOT NULL,
     level TEXT NOT NULL,
     host TEXT,
     alert_id INTEGER REFERENCES alerts (id),
     suppression_id INTEGER REFERENCES suppressions (id),
     detection TEXT NOT NULL,
     events TEXT NOT NULL,
     created_at TEXT NOT NULL,
     UNIQUE (tenant, key)
   );
   CREATE INDEX detections_list ON detections (tenant, id);
   CREATE INDEX detections_alert ON detections (alert_id);
   CREATE TABLE hunts (
     id INTEGER PRIMARY KEY,
     tenant TEXT NOT NULL,
     requested_by TEXT NOT NULL,
     rules TEXT NOT NULL,
     since INTEGER,
     until INTEGER,
     status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
     error TEXT,
     events INTEGER NOT NULL DEFAULT 0,
     detections INTEGER NOT NULL DEFAULT 0,
     started_at TEXT NOT NULL,
     finished_at TEXT
   );
   CREATE INDEX hunts_tenant ON hunts (tenant, id);
   CREATE TABLE hunt_detections (
     hunt_id INTEGER NOT NULL REFERENCES hunts (id),
     n INTEGER NOT NULL,
     detection TEXT NOT NULL,
     PRIMARY KEY (hunt_id, n)
   );
   CREATE TABLE watched_files (
     path TEXT PRIMARY KEY,
     tenant TEXT NOT NULL,
     identity TEXT NOT NULL,
     offset INTEGER NOT NULL,
     record INTEGER NOT NULL
   );`,
  // The operator console: sessions (a token exchanged for a cookie; only the cookie's hash is kept)
  // and the indexes the alert queue's filters and sorts read, so a tenant of 100,000 alerts answers
  // from an index rather than a scan.
  `CREATE TABLE sessions (
     id INTEGER PRIMARY KEY,
     hash TEXT NOT NULL UNIQUE,
     token_id INTEGER NOT NULL REFERENCES tokens (id),
     csrf TEXT NOT NULL,
     tenant TEXT,
     created_at INTEGER NOT NULL,
     last_seen INTEGER NOT NULL,
     expires_at INTEGER NOT NULL,
     ended_at INTEGER
   );
   CREATE INDEX sessions_token ON sessions (token_id);
   CREATE INDEX alerts_facets ON alerts (tenant, status, level);
   CREATE INDEX alerts_host ON alerts (tenant, host COLLATE NOCASE, id);
   CREATE INDEX alerts_rule_id ON alerts (tenant, rule_id, id);
   CREATE INDEX alerts_rule_title ON alerts (tenant, rule_title COLLATE NOCASE, id);
   CREATE INDEX alerts_assignee ON alerts (tenant, assignee COLLATE NOCASE, id);
   CREATE INDEX alerts_last_seen ON alerts (tenant, last_seen, id);
   CREATE INDEX alerts_level_rank ON alerts (tenant, level_rank, id);
   CREATE INDEX alerts_count ON alerts (tenant, count, id);`,
  // Response: each step of a playbook run on an alert, under its key (tenant, alert, playbook,
  // step), so that it is carried out once, waits for its approval, and is reverted on time.
  `CREATE TABLE responses (
     id INTEGER PRIMARY KEY,
     key TEXT NOT NULL UNIQUE,
     tenant TEXT NOT NULL,
     alert_id INTEGER NOT NULL,
     playbook TEXT NOT NULL,
     step TEXT NOT NULL,
     action TEXT NOT NULL,
     mode TEXT NOT NULL,
     state TEXT NOT NULL,
     params TEXT NOT NULL,
     request TEXT,
     result TEXT,
     error TEXT,
     attempts INTEGER NOT NULL,
     kept TEXT,
     ttl_ms INTEGER,
     revert_at INTEGER,
     expires_at INTEGER,
     decided_by TEXT,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL
   );
   CREATE INDEX responses_alert ON responses (tenant, alert_id);
   CREATE INDEX responses_due ON responses (state, revert_at, expires_at);`,
  // The console's rules screen: rules a tenant turned off (by rule key: the id, or file#title).
  `CREATE TABLE disabled_rules (
     tenant TEXT NOT NULL,
     rule_key TEXT NOT NULL,
     disabled_by TEXT NOT NULL,
     disabled_at TEXT NOT NULL,
     PRIMARY KEY (tenant, rule_key)
   );
   CREATE INDEX detections_rule_day ON detections (tenant, created_at, rule_key);`,
  // Response: what an enrich step found, kept with its record (decisions and later runs read it).
  `ALTER TABLE responses ADD COLUMN facts TEXT;`,
];
