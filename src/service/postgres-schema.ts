/**
 * The cluster store's schema in PostgreSQL, one migration per entry, applied in order by `vigil
 * admin migrate` (see migratePostgres). A released migration never changes: a new one is added.
 *
 * The columns are those of the embedded schema (schema.ts), typed for PostgreSQL: times of events
 * in milliseconds as bigint, times of changes as timestamptz, JSON as `json` where its text must
 * come back as written (the audit log's details are hashed as written; events are kept as
 * received) and as `jsonb` where it is queried (an alert's techniques).
 */
export const POSTGRES_MIGRATIONS: readonly string[] = [
  `CREATE TABLE tenants (
     name text PRIMARY KEY,
     created_at timestamptz NOT NULL
   );
   CREATE TABLE tokens (
     id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     hash text NOT NULL UNIQUE,
     label text,
     role text NOT NULL CHECK (role IN ('admin', 'analyst', 'viewer', 'ingest')),
     tenant text REFERENCES tenants (name),
     created_at timestamptz NOT NULL,
     revoked_at timestamptz
   );
   CREATE TABLE sessions (
     id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     hash text NOT NULL UNIQUE,
     token_id bigint NOT NULL REFERENCES tokens (id),
     csrf text NOT NULL,
     tenant text,
     created_at bigint NOT NULL,
     last_seen bigint NOT NULL,
     expires_at bigint NOT NULL,
     ended_at bigint
   );
   CREATE INDEX sessions_token ON sessions (token_id);

   CREATE TABLE audit (
     seq bigint PRIMARY KEY,
     time timestamptz NOT NULL,
     actor text NOT NULL,
     action text NOT NULL,
     tenant text,
     target text,
     details json NOT NULL,
     prev_hash text NOT NULL,
     hash text NOT NULL
   );
   CREATE FUNCTION vigil_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;
   CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit
     FOR EACH ROW EXECUTE FUNCTION vigil_audit_append_only();
   CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
     FOR EACH STATEMENT EXECUTE FUNCTION vigil_audit_append_only();

   CREATE TABLE positions (
     tenant text PRIMARY KEY,
     processed bigint NOT NULL
   );
   CREATE TABLE snapshots (
     tenant text PRIMARY KEY,
     seq bigint NOT NULL,
     state text NOT NULL,
     taken_at timestamptz NOT NULL
   );

   CREATE TABLE suppressions (
     id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     tenant text,
     rule text,
     host text,
     field text,
     value text,
     until timestamptz NOT NULL,
     created_by text NOT NULL,
     reason text NOT NULL,
     created_at timestamptz NOT NULL,
     hits bigint NOT NULL DEFAULT 0
   );
   CREATE INDEX suppressions_tenant ON suppressions (tenant, until);

   CREATE TABLE alerts (
     id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     tenant text NOT NULL,
     rule_key text NOT NULL,
     rule_id text,
     rule_title text NOT NULL,
     level text NOT NULL,
     level_rank integer NOT NULL,
     host text NOT NULL,
     techniques jsonb NOT NULL,
     first_seen bigint NOT NULL,
     last_seen bigint NOT NULL,
     count bigint NOT NULL,
     status text NOT NULL CHECK (status IN ('open', 'acknowledged', 'closed')),
     assignee text,
     close_reason text CHECK (close_reason IN ('true_positive', 'benign_true_positive', 'false_positive', 'duplicate')),
     created_at timestamptz NOT NULL,
     updated_at timestamptz NOT NULL
   );
   -- The queue: newest first, each filter and order from an index, case-free filters on lower().
   CREATE INDEX alerts_list ON alerts (tenant, id);
   CREATE INDEX alerts_open ON alerts (tenant, rule_key, host, last_seen) WHERE status <> 'closed';
   CREATE INDEX alerts_facets ON alerts (tenant, status, level);
   CREATE INDEX alerts_host ON alerts (tenant, lower(host), id);
   CREATE INDEX alerts_rule_id ON alerts (tenant, rule_id, id);
   CREATE INDEX alerts_rule_title ON alerts (tenant, lower(rule_title), id);
   CREATE INDEX alerts_assignee ON alerts (tenant, lower(assignee), id);
   CREATE INDEX alerts_last_seen ON alerts (tenant, last_seen, id);
   CREATE INDEX alerts_level_rank ON alerts (tenant, level_rank, id);
   CREATE INDEX alerts_count ON alerts (tenant, count, id);
   CREATE TABLE alert_history (
     id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     alert_id bigint NOT NULL REFERENCES alerts (id),
     time timestamptz NOT NULL,
     actor text NOT NULL,
     change json NOT NULL
   );
   CREATE INDEX alert_history_alert ON alert_history (alert_id);

   -- A detection is stored once per key, whichever node commits it and however often.
   CREATE TABLE detections (
     id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     tenant text NOT NULL,
     key text NOT NULL,
     seq bigint NOT NULL,
     time bigint,
     received bigint NOT NULL,
     rule_key text NOT NULL,
     rule_id text,
     rule_title text NOT NULL,
     level text NOT NULL,
     host text,
     alert_id bigint REFERENCES alerts (id),
     suppression_id bigint REFERENCES suppressions (id),
     detection json NOT NULL,
     events json NOT NULL,
     created_at timestamptz NOT NULL,
     UNIQUE (tenant, key)
   );
   CREATE INDEX detections_list ON detections (tenant, id);
   CREATE INDEX detections_alert ON detections (alert_id);
   CREATE INDEX detections_rule_day ON detections (tenant, created_at, rule_key);

   CREATE TABLE disabled_rules (
     tenant text NOT NULL,
     rule_key text NOT NULL,
     disabled_by text NOT NULL,
     disabled_at timestamptz NOT NULL,
     PRIMARY KEY (tenant, rule_key)
   );

   CREATE TABLE hunts (
     id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     tenant text NOT NULL,
     requested_by text NOT NULL,
     rules text NOT NULL,
     since bigint,
     until bigint,
     status text NOT NULL CHECK (status IN ('running', 'done', 'failed')),
     error text,
     events bigint NOT NULL DEFAULT 0,
     detections bigint NOT NULL DEFAULT 0,
     started_at timestamptz NOT NULL,
     finished_at timestamptz
   );
   CREATE INDEX hunts_tenant ON hunts (tenant, id);
   CREATE TABLE hunt_detections (
     hunt_id bigint NOT NULL REFERENCES hunts (id),
     n integer NOT NULL,
     detection json NOT NULL,
     PRIMARY KEY (hunt_id, n)
   );

   CREATE TABLE responses (
     id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     key text NOT NULL UNIQUE,
     tenant text NOT NULL,
     alert_id bigint NOT NULL,
     playbook text NOT NULL,
     step text NOT NULL,
     action text NOT NULL,
     mode text NOT NULL,
     state text NOT NULL,
     params json NOT NULL,
     request text,
     result text,
     error text,
     attempts integer NOT NULL,
     kept json,
     facts json,
     ttl_ms bigint,
     revert_at bigint,
     expires_at bigint,
     decided_by text,
     created_at timestamptz NOT NULL,
     updated_at timestamptz NOT NULL
   );
   CREATE INDEX responses_alert ON responses (tenant, alert_id);
   CREATE INDEX responses_due ON responses (state, revert_at, expires_at);

   CREATE TABLE watched_files (
     path text PRIMARY KEY,
     tenant text NOT NULL,
     identity text NOT NULL,
     "offset" bigint NOT NULL,
     record bigint NOT NULL
   );`,
  // Cluster: the nodes and which one detects for each tenant (see postgres-leases.ts).
  `CREATE TABLE nodes (
     node text PRIMARY KEY,
     started_at timestamptz NOT NULL,
     seen_at timestamptz NOT NULL,
     info jsonb NOT NULL DEFAULT '{}'
   );
   CREATE TABLE leases (
     tenant text PRIMARY KEY,
     node text,
     epoch bigint NOT NULL,
     expires_at timestamptz NOT NULL
   );`,
  // Cluster: each tenant's own rule files, which every node writes into its data folder.
  `CREATE SEQUENCE tenant_rule_versions;
   CREATE TABLE tenant_rule_files (
     tenant text NOT NULL REFERENCES tenants (name),
     file text NOT NULL,
     text text NOT NULL,
     version bigint NOT NULL,
     updated_by text NOT NULL,
     updated_at timestamptz NOT NULL,
     PRIMARY KEY (tenant, file)
   );`,
];

export const POSTGRES_SCHEMA_VERSION = POSTGRES_MIGRATIONS.length;
