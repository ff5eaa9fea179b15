import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { VigilError } from '../core/index.js';
import type { Asset } from './assets.js';
import type { Finding } from './imports.js';

/** Schema changes, in order; `PRAGMA user_version` says how many a database has had. */
const MIGRATIONS: string[] = [
  `CREATE TABLE imports (
     id INTEGER PRIMARY KEY,
     file TEXT NOT NULL,
     scanner TEXT NOT NULL,
     imported_at TEXT NOT NULL,
     findings INTEGER NOT NULL
   );
   CREATE TABLE findings (
     id INTEGER PRIMARY KEY,
     asset TEXT NOT NULL,
     address TEXT,
     cve TEXT NOT NULL,
     port INTEGER NOT NULL DEFAULT 0,
     product TEXT,
     service TEXT,
     cvss_vector TEXT,
     cvss_score REAL,
     exploit_available INTEGER,
     scanner TEXT NOT NULL,
     first_seen TEXT NOT NULL,
     last_seen TEXT NOT NULL,
     last_import INTEGER NOT NULL REFERENCES imports(id),
     status TEXT NOT NULL CHECK (status IN ('open', 'fixed')),
     fixed_at TEXT,
     UNIQUE (asset, cve, port)
   );
   CREATE INDEX findings_status ON findings (status);
   CREATE INDEX findings_asset ON findings (asset);`,
  `CREATE TABLE assets (
     hostname TEXT PRIMARY KEY,
     addresses TEXT NOT NULL,
     public_facing INTEGER NOT NULL,
     criticality TEXT NOT NULL CHECK (criticality IN ('low', 'medium', 'high')),
     owner TEXT,
     tags TEXT NOT NULL
   );`,
  `ALTER TABLE findings ADD COLUMN automatable INTEGER;
   ALTER TABLE findings ADD COLUMN technical_impact TEXT;`,
];

export interface StoredFinding {
  asset: string;
  address?: string;
  cve: string;
  port?: number;
  product?: string;
  service?: string;
  cvssVector?: string;
  cvssScore?: number;
  exploitAvailable?: boolean;
  automatable?: boolean;
  technicalImpact?: 'partial' | 'total';
  scanner: string;
  firstSeen: string;
  lastSeen: string;
  status: 'open' | 'fixed';
  fixedAt?: string;
}

export interface ImportCounts {
  added: number;
  seenAgain: number;
  reopened: number;
  /** Open findings on the scanned assets that this scan no longer reports. */
  fixed: number;
}

/** Findings kept across scans in an embedded SQLite database (better-sqlite3). */
export class VulnStore {
  private readonly db: Database.Database;

  private constructor(db: Database.Database) {
    this.db = db;
  }

  static open(path: string): VulnStore {
    let db: Database.Database;
    try {
      if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
      db = new Database(path);
    } catch (error) {
      throw new VigilError('STORE_UNAVAILABLE', `cannot open the database: ${(error as Error).message}`, {
        file: path,
      });
    }
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > MIGRATIONS.length) {
      db.close();
      throw new VigilError(
        'STORE_TOO_NEW',
        `the database has schema version ${version}; this Vigil knows ${MIGRATIONS.length}`,
        { file: path },
      );
    }
    for (let v = version; v < MIGRATIONS.length; v++) {
      db.transaction(() => {
        db.exec(MIGRATIONS[v]!);
        db.pragma(`user_version = ${v + 1}`);
      })();
    }
    return new VulnStore(db);
  }

  get schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  /**
   * Records one scan. A finding seen before is updated (and reopened if it had been fixed); a new
   * one is added with its first-seen time. Open findings of this scanner on the assets this scan
   * covered, which it no longer reports, are marked fixed: the time to remediate is measured from
   * there.
   */
  importScan(
    findings: readonly Finding[],
    scannedAssets: readonly string[],
    file: string,
    scanner: string,
    now = new Date(),
  ): ImportCounts {
    const at = now.toISOString();
    const counts: ImportCounts = { added: 0, seenAgain: 0, reopened: 0, fixed: 0 };
    const select = this.db.prepare(
      'SELECT id, status FROM findings WHERE asset = ? AND cve = ? AND port = ?',
    );
    const insert = this.db.prepare(
      `INSERT INTO findings (asset, address, cve, port, product, service, cvss_vector, cvss_score, exploit_available, automatable, technical_impact, scanner, first_seen, last_seen, last_import, status)
       VALUES (@asset, @address, @cve, @port, @product, @service, @cvssVector, @cvssScore, @exploit, @automatable, @technicalImpact, @scanner, @firstSeen, @at, @importId, 'open')`,
    );
    const update = this.db.prepare(
      `UPDATE findings SET address = coalesce(@address, address), product = coalesce(@product, product), service = coalesce(@service, service),
         cvss_vector = coalesce(@cvssVector, cvss_vector), cvss_score = coalesce(@cvssScore, cvss_score), exploit_available = coalesce(@exploit, exploit_available),
         automatable = coalesce(@automatable, automatable), technical_impact = coalesce(@technicalImpact, technical_impact),
         last_seen = @at, last_import = @importId, status = 'open', fixed_at = NULL WHERE id = @id`,
    );
    this.db.transaction(() => {
      const importId = this.db
        .prepare('INSERT INTO imports (file, scanner, imported_at, findings) VALUES (?, ?, ?, ?)')
        .run(file, scanner, at, findings.length).lastInsertRowid as number;
      for (const f of findings) {
        const port = f.port ?? 0;
        const values = {
          asset: f.asset,
          address: f.address ?? null,
          cve: f.cve,
          port,
          product: f.product ?? null,
          service: f.service ?? null,
          cvssVector: f.cvssVector ?? null,
          cvssScore: f.cvssScore ?? null,
          exploit: f.exploitAvailable === undefined ? null : f.exploitAvailable ? 1 : 0,
          automatable: f.automatable === undefined ? null : f.automatable ? 1 : 0,
          technicalImpact: f.technicalImpact ?? null,
          scanner,
          firstSeen: f.firstSeen ?? at,
          at,
          importId,
        };
        const existing = select.get(f.asset, f.cve, port) as { id: number; status: string } | undefined;
        if (!existing) {
          insert.run(values);
          counts.added++;
        } else {
          update.run({ ...values, id: existing.id });
          if (existing.status === 'fixed') counts.reopened++;
          else counts.seenAgain++;
        }
      }
      const closeGone = this.db.prepare(
        `UPDATE findings SET status = 'fixed', fixed_at = ? WHERE status = 'open' AND scanner = ? AND asset = ? AND last_import != ?`,
      );
      for (const asset of new Set(scannedAssets))
        counts.fixed += closeGone.run(at, scanner, asset, importId).changes;
    })();
    return counts;
  }

  findings(status?: 'open' | 'fixed'): StoredFinding[] {
    const rows = (
      status
        ? this.db.prepare('SELECT * FROM findings WHERE status = ? ORDER BY asset, cve, port').all(status)
        : this.db.prepare('SELECT * FROM findings ORDER BY asset, cve, port').all()
    ) as Record<string, string | number | null>[];
    return rows.map((r) => ({
      asset: r.asset as string,
      address: (r.address as string | null) ?? undefined,
      cve: r.cve as string,
      port: (r.port as number) || undefined,
      product: (r.product as string | null) ?? undefined,
      service: (r.service as string | null) ?? undefined,
      cvssVector: (r.cvss_vector as string | null) ?? undefined,
      cvssScore: (r.cvss_score as number | null) ?? undefined,
      exploitAvailable: r.exploit_available === null ? undefined : r.exploit_available === 1,
      automatable: r.automatable === null ? undefined : r.automatable === 1,
      technicalImpact: (r.technical_impact as 'partial' | 'total' | null) ?? undefined,
      scanner: r.scanner as string,
      firstSeen: r.first_seen as string,
      lastSeen: r.last_seen as string,
      status: r.status as 'open' | 'fixed',
      fixedAt: (r.fixed_at as string | null) ?? undefined,
    }));
  }

  /** Replaces the asset inventory kept with the findings. */
  saveAssets(assets: readonly Asset[]): void {
    const insert = this.db.prepare(
      'INSERT INTO assets (hostname, addresses, public_facing, criticality, owner, tags) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.db.transaction(() => {
      this.db.exec('DELETE FROM assets');
      for (const a of assets) {
        insert.run(
          a.hostname,
          a.addresses.join(' '),
          a.publicFacing ? 1 : 0,
          a.criticality,
          a.owner ?? null,
          a.tags.join(' '),
        );
      }
    })();
  }

  assets(): Asset[] {
    const rows = this.db.prepare('SELECT * FROM assets ORDER BY hostname').all() as Record<
      string,
      string | number | null
    >[];
    return rows.map((r) => ({
      hostname: r.hostname as string,
      addresses: String(r.addresses).split(' ').filter(Boolean),
      publicFacing: r.public_facing === 1,
      criticality: r.criticality as Asset['criticality'],
      owner: (r.owner as string | null) ?? undefined,
      tags: String(r.tags).split(' ').filter(Boolean),
    }));
  }

  /** Mean days from first seen to fixed, over fixed findings; null when none is fixed. */
  meanTimeToRemediateDays(): number | null {
    const row = this.db
      .prepare(
        `SELECT avg(julianday(fixed_at) - julianday(first_seen)) AS days, count(*) AS n FROM findings WHERE status = 'fixed'`,
      )
      .get() as { days: number | null; n: number };
    return row.n ? Math.round((row.days ?? 0) * 10) / 10 : null;
  }

  close(): void {
    this.db.close();
  }
}
