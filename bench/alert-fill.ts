import Database from 'better-sqlite3';

/**
 * Fills a tenant of a service's database with alerts, straight into SQLite in one transaction
 * (what a year of a busy tenant leaves behind, in a second): 500 hosts, 50 rules, every level
 * and status, techniques, a spread of times. For the console's 100,000-alert measurements.
 */
export function fillAlerts(database: string, tenant: string, n: number): void {
  const db = new Database(database);
  db.pragma('busy_timeout = 10000');
  const levels = ['informational', 'low', 'medium', 'high', 'critical'];
  const statuses = ['open', 'open', 'open', 'acknowledged', 'closed'];
  const insert = db.prepare(
    `INSERT INTO alerts (tenant, rule_key, rule_id, rule_title, level, level_rank, host, techniques, first_seen, last_seen, count, status, assignee, close_reason, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const start = Date.parse('2025-01-01T00:00:00Z');
  const now = new Date().toISOString();
  db.transaction(() => {
    for (let i = 0; i < n; i++) {
      const rule = i % 50;
      const rank = (i * 7) % 5;
      const status = statuses[i % statuses.length]!;
      const seen = start + i * 300_000;
      insert.run(
        tenant,
        `bulk-rule-${rule}`,
        `bulk-rule-${rule}`,
        `Bulk rule ${rule}`,
        levels[rank],
        rank,
        `host-${i % 500}`,
        JSON.stringify([`T${1000 + (rule % 40)}`, `T1059.00${rule % 9}`]),
        seen,
        seen + 60_000,
        1 + (i % 13),
        status,
        i % 3 === 0 ? `analyst-${i % 7}` : null,
        status === 'closed' ? 'false_positive' : null,
        now,
        now,
      );
    }
  })();
  db.close();
}
