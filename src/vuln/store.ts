import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { applyMigrations, VigilError } from '../core/index.js';
import type { Asset } from './assets.js';
import type { ScanReport } from './scan.js';
import { type Observation, trackObservations } from './tracking.js';

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
  // Findings become sources (one per scanner and check) with the observations that decide their
  // state: sightings, and the re-tests (coverage) of each scan. Findings of earlier versions keep
  // their state as observations; their check is unknown ('', legacy) until a scan reports them again.
  `CREATE TABLE scans (
     id INTEGER PRIMARY KEY,
     file TEXT NOT NULL,
     sha256 TEXT UNIQUE,
     scanner TEXT NOT NULL,
     imported_at TEXT NOT NULL,
     scanned_at TEXT NOT NULL,
     checks TEXT,
     findings INTEGER NOT NULL
   );
   INSERT INTO scans (id, file, scanner, imported_at, scanned_at, findings)
     SELECT id, file, scanner, imported_at, imported_at, findings FROM imports;
   CREATE TABLE sources (
     id INTEGER PRIMARY KEY,
     asset TEXT NOT NULL,
     address TEXT,
     cve TEXT NOT NULL,
     port INTEGER NOT NULL DEFAULT 0,
     scanner TEXT NOT NULL,
     scope TEXT NOT NULL DEFAULT '',
     check_id TEXT NOT NULL DEFAULT '',
     legacy INTEGER NOT NULL DEFAULT 0,
     local INTEGER NOT NULL DEFAULT 0,
     product TEXT,
     service TEXT,
     cvss_vector TEXT,
     cvss_score REAL,
     exploit_available INTEGER,
     automatable INTEGER,
     technical_impact TEXT,
     status TEXT NOT NULL CHECK (status IN ('open', 'fixed', 'unseen')),
     first_seen TEXT NOT NULL,
     last_seen TEXT NOT NULL,
     fixed_at TEXT,
     reopened_at TEXT,
     reopened INTEGER NOT NULL DEFAULT 0,
     UNIQUE (asset, cve, port, scanner, scope, check_id)
   );
   CREATE INDEX sources_asset ON sources (asset);
   CREATE INDEX sources_legacy ON sources (cve) WHERE legacy = 1;
   INSERT INTO sources (id, asset, address, cve, port, scanner, legacy, product, service, cvss_vector, cvss_score,
       exploit_available, automatable, technical_impact, status, first_seen, last_seen, fixed_at)
     SELECT id, asset, address, cve, port, scanner, 1, product, service, cvss_vector, cvss_score,
       exploit_available, automatable, technical_impact, status, first_seen, last_seen, fixed_at FROM findings;
   CREATE TABLE sightings (
     source_id INTEGER NOT NULL REFERENCES sources(id),
     scan_id INTEGER REFERENCES scans(id),
     seen_at TEXT NOT NULL,
     present INTEGER NOT NULL
   );
   CREATE INDEX sightings_source ON sightings (source_id);
   INSERT INTO sightings SELECT id, last_import, first_seen, 1 FROM findings;
   INSERT INTO sightings SELECT id, last_import, last_seen, 1 FROM findings WHERE last_seen > first_seen;
   INSERT INTO sightings SELECT id, NULL, fixed_at, 0 FROM findings WHERE status = 'fixed' AND fixed_at IS NOT NULL;
   CREATE TABLE coverage (
     scan_id INTEGER NOT NULL REFERENCES scans(id),
     asset TEXT NOT NULL,
     scope TEXT NOT NULL,
     tested_at TEXT NOT NULL,
     complete INTEGER NOT NULL,
     excluded TEXT NOT NULL,
     ports TEXT,
     credentialed INTEGER
   );
   CREATE INDEX coverage_asset ON coverage (asset);
   CREATE TABLE acceptances (
     id INTEGER PRIMARY KEY,
     asset TEXT NOT NULL,
     cve TEXT NOT NULL,
     port INTEGER,
     accepted_by TEXT NOT NULL,
     reason TEXT NOT NULL,
     until TEXT NOT NULL,
     recorded_at TEXT NOT NULL,
     revoked_at TEXT,
     revoked_by TEXT
   );
   CREATE TABLE owners (
     id INTEGER PRIMARY KEY,
     asset TEXT NOT NULL,
     cve TEXT NOT NULL,
     port INTEGER,
     owner TEXT NOT NULL,
     recorded_at TEXT NOT NULL
   );
   DROP TABLE findings;
   DROP TABLE imports;`,
];

/** One scanner's check of one finding, with the state its observations give it. */
export interface StoredSource {
  asset: string;
  address?: string;
  cve: string;
  port?: number;
  scanner: string;
  scope: string;
  check: string;
  product?: string;
  service?: string;
  cvssVector?: string;
  cvssScore?: number;
  exploitAvailable?: boolean;
  automatable?: boolean;
  technicalImpact?: 'partial' | 'total';
  firstSeen: string;
  lastSeen: string;
  status: 'open' | 'fixed';
  fixedAt?: string;
  reopenedAt?: string;
}

export interface ImportCounts {
  added: number;
  seenAgain: number;
  reopened: number;
  /** Open findings that this scan re-tested and no longer found. */
  fixed: number;
}

export interface ImportOutcome {
  counts: ImportCounts;
  /** The same file (by SHA-256) was imported before: nothing changed. */
  alreadyImported?: { file: string; importedAt: string };
}

/** A decision that a finding's risk is accepted until a day; the latest per finding applies. */
export interface RiskAcceptance {
  asset: string;
  cve: string;
  /** Undefined: every port of the finding. */
  port?: number;
  by: string;
  reason: string;
  until: string;
  recordedAt: string;
}

export interface FindingOwner {
  asset: string;
  cve: string;
  port?: number;
  owner: string;
  recordedAt: string;
}

/** The last time any scan looked at an asset, and which scanner. */
export interface AssetScan {
  at: string;
  scanner: string;
}

type Row = Record<string, string | number | null>;

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
    applyMigrations(db, MIGRATIONS, path);
    return new VulnStore(db);
  }

  get schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  /**
   * Records one scan: its sightings and its re-tests, then decides again, from every observation
   * in scan time order, the state of each finding on the assets it touched. A file imported
   * before (same SHA-256) changes nothing.
   */
  importScan(report: ScanReport, importedAt = new Date()): ImportOutcome {
    const counts: ImportCounts = { added: 0, seenAgain: 0, reopened: 0, fixed: 0 };
    return this.db.transaction((): ImportOutcome => {
      const earlier = this.db
        .prepare('SELECT file, imported_at FROM scans WHERE sha256 = ?')
        .get(report.sha256) as { file: string; imported_at: string } | undefined;
      if (earlier)
        return { counts, alreadyImported: { file: earlier.file, importedAt: earlier.imported_at } };
      const scanId = this.db
        .prepare(
          'INSERT INTO scans (file, sha256, scanner, imported_at, scanned_at, checks, findings) VALUES (?, ?, ?, ?, ?, ?, ?)',
        )
        .run(
          report.file,
          report.sha256,
          report.format,
          importedAt.toISOString(),
          report.scannedAt,
          report.checks ? report.checks.join(';') : null,
          report.findings.length,
        ).lastInsertRowid as number;
      const touched = new Set([
        ...report.findings.map((f) => f.asset),
        ...report.coverage.map((c) => c.asset),
      ]);
      const before = this.findingStates(touched);

      const exact = this.db.prepare(
        'SELECT id, last_seen FROM sources WHERE asset = ? AND cve = ? AND port = ? AND scanner = ? AND scope = ? AND check_id = ?',
      );
      const legacy = this.db.prepare(
        'SELECT id, last_seen FROM sources WHERE legacy = 1 AND cve = ? AND lower(asset) = ? AND port = ? AND scanner = ? LIMIT 1',
      );
      const anyLegacy = this.db.prepare('SELECT 1 FROM sources WHERE legacy = 1 LIMIT 1').get() !== undefined;
      const adopt = this.db.prepare(
        'UPDATE sources SET asset = ?, scope = ?, check_id = ?, local = ?, legacy = 0 WHERE id = ?',
      );
      const insert = this.db.prepare(
        `INSERT INTO sources (asset, cve, port, scanner, scope, check_id, local, address, product, service, cvss_vector,
           cvss_score, exploit_available, automatable, technical_impact, status, first_seen, last_seen)
         VALUES (@asset, @cve, @port, @scanner, @scope, @check, @local, @address, @product, @service, @cvssVector,
           @cvssScore, @exploit, @automatable, @technicalImpact, 'unseen', @seenAt, @seenAt)`,
      );
      const describe = this.db.prepare(
        `UPDATE sources SET address = coalesce(@address, address), product = coalesce(@product, product),
           service = coalesce(@service, service), cvss_vector = coalesce(@cvssVector, cvss_vector),
           cvss_score = coalesce(@cvssScore, cvss_score), exploit_available = coalesce(@exploit, exploit_available),
           automatable = coalesce(@automatable, automatable), technical_impact = coalesce(@technicalImpact, technical_impact)
         WHERE id = @id`,
      );
      const sight = this.db.prepare(
        'INSERT INTO sightings (source_id, scan_id, seen_at, present) VALUES (?, ?, ?, ?)',
      );
      const sighted = new Set<string>();
      const sightedSources = new Set<number>();
      for (const f of report.findings) {
        const port = f.port ?? 0;
        const details = {
          address: f.address ?? null,
          product: f.product ?? null,
          service: f.service ?? null,
          cvssVector: f.cvssVector ?? null,
          cvssScore: f.cvssScore ?? null,
          exploit: f.exploitAvailable === undefined ? null : f.exploitAvailable ? 1 : 0,
          automatable: f.automatable === undefined ? null : f.automatable ? 1 : 0,
          technicalImpact: f.technicalImpact ?? null,
        };
        type Known = { id: number; last_seen: string } | undefined;
        let source = exact.get(f.asset, f.cve, port, f.scanner, f.scope, f.check) as Known;
        if (!source && anyLegacy) {
          source = legacy.get(f.cve, f.asset, port, f.scanner) as Known;
          if (source) adopt.run(f.asset, f.scope, f.check, f.local ? 1 : 0, source.id);
        }
        if (!source) {
          const row = {
            asset: f.asset,
            cve: f.cve,
            port,
            scanner: f.scanner,
            scope: f.scope,
            check: f.check,
            local: f.local ? 1 : 0,
          };
          const id = insert.run({ ...row, ...details, seenAt: f.seenAt }).lastInsertRowid as number;
          source = { id, last_seen: f.seenAt };
        } else if (f.present && f.seenAt >= source.last_seen) {
          // What the newest scan says of a finding describes it; an older scan imported late does not.
          describe.run({ id: source.id, ...details });
        }
        // The team's first_seen is a sighting of its own, earlier than the scan that lists it.
        if (f.firstSeen && f.firstSeen < f.seenAt) sight.run(source.id, scanId, f.firstSeen, 1);
        sight.run(source.id, scanId, f.seenAt, f.present ? 1 : 0);
        sightedSources.add(source.id);
        if (f.present) sighted.add(`${f.asset}\u0000${f.cve}\u0000${port}`);
      }
      const cover = this.db.prepare(
        'INSERT INTO coverage (scan_id, asset, scope, tested_at, complete, excluded, ports, credentialed) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      );
      for (const c of report.coverage) {
        cover.run(
          scanId,
          c.asset,
          c.scope,
          c.testedAt,
          c.complete ? 1 : 0,
          JSON.stringify(c.excluded),
          c.ports ? JSON.stringify(c.ports) : null,
          c.credentialed === undefined ? null : c.credentialed ? 1 : 0,
        );
      }
      this.retrack(touched, new Set(report.coverage.map((c) => c.asset)), sightedSources);
      const after = this.findingStates(touched);
      for (const [key, status] of after) {
        const was = before.get(key);
        if (!was) counts.added++;
        else if (was === 'fixed' && status === 'open') counts.reopened++;
        else if (was === 'open' && status === 'fixed') counts.fixed++;
        else if (was === 'open' && sighted.has(key)) counts.seenAgain++;
      }
      return { counts };
    })();
  }

  /** Open when any source of the finding is open, per asset, CVE and port as scanners name them. */
  private findingStates(assets: ReadonlySet<string>): Map<string, 'open' | 'fixed'> {
    const states = new Map<string, 'open' | 'fixed'>();
    const select = this.db.prepare(
      `SELECT asset, cve, port, max(status = 'open') AS open FROM sources
       WHERE asset = ? AND status != 'unseen' GROUP BY asset, cve, port`,
    );
    for (const asset of assets) {
      for (const r of select.all(asset) as { asset: string; cve: string; port: number; open: number }[])
        states.set(`${r.asset}\u0000${r.cve}\u0000${r.port}`, r.open ? 'open' : 'fixed');
    }
    return states;
  }

  /**
   * Decides sources again from their sightings and from every complete re-test of the same
   * scanner and scope that did not report them, where the check ran and the port answered: every
   * source of the assets a scan re-tested, and the sources it sighted elsewhere.
   */
  private retrack(
    assets: ReadonlySet<string>,
    retested: ReadonlySet<string>,
    sighted: ReadonlySet<number>,
  ): void {
    const sourcesOf = this.db.prepare(
      'SELECT id, scanner, scope, check_id, port, local FROM sources WHERE asset = ?',
    );
    const sightingsOf = this.db.prepare(
      `SELECT g.source_id, g.scan_id, g.seen_at, g.present FROM sightings g JOIN sources s ON s.id = g.source_id
       WHERE s.asset = ?`,
    );
    const coverageOf = this.db.prepare(
      `SELECT c.scan_id, c.scope, c.tested_at, c.excluded, c.ports, c.credentialed, s.scanner
       FROM coverage c JOIN scans s ON s.id = c.scan_id WHERE c.asset = ? AND c.complete = 1`,
    );
    const checksOf = this.db.prepare('SELECT checks FROM scans WHERE id = ?');
    const update = this.db.prepare(
      `UPDATE sources SET status = ?, first_seen = ?, last_seen = ?, fixed_at = ?, reopened_at = ?, reopened = ?
       WHERE id = ?`,
    );
    const checkSets = new Map<number, Set<string> | null>();
    const checksRun = (scanId: number) => {
      if (!checkSets.has(scanId)) {
        const checks = (checksOf.get(scanId) as { checks: string | null }).checks;
        checkSets.set(scanId, checks === null ? null : new Set(checks.split(';')));
      }
      return checkSets.get(scanId)!;
    };
    for (const asset of assets) {
      const sightings = new Map<number, { scans: Set<number | null>; observations: Observation[] }>();
      for (const g of sightingsOf.all(asset) as Row[]) {
        const id = g.source_id as number;
        let entry = sightings.get(id);
        if (!entry) {
          entry = { scans: new Set(), observations: [] };
          sightings.set(id, entry);
        }
        entry.scans.add(g.scan_id as number | null);
        entry.observations.push({ at: g.seen_at as string, present: g.present === 1 });
      }
      const retests = (coverageOf.all(asset) as Row[]).map((c) => ({
        scanId: c.scan_id as number,
        scanner: c.scanner as string,
        scope: c.scope as string,
        at: c.tested_at as string,
        excluded: new Set(JSON.parse(c.excluded as string) as string[]),
        ports: c.ports === null ? undefined : new Set(JSON.parse(c.ports as string) as number[]),
        withoutLogin: c.credentialed === 0,
      }));
      for (const s of sourcesOf.all(asset) as Row[]) {
        const id = s.id as number;
        if (!retested.has(asset) && !sighted.has(id)) continue;
        const own = sightings.get(id) ?? { scans: new Set(), observations: [] };
        const observations = [...own.observations];
        const check = s.check_id as string;
        const port = s.port as number;
        for (const r of retests) {
          if (r.scanner !== s.scanner || r.scope !== s.scope || own.scans.has(r.scanId)) continue;
          if (r.excluded.has(check)) continue;
          if (port && r.ports && !r.ports.has(port)) continue;
          if (s.local === 1 && r.withoutLogin) continue;
          const checks = checksRun(r.scanId);
          if (checks && !checks.has(check)) continue;
          observations.push({ at: r.at, present: false });
        }
        const state = trackObservations(observations);
        update.run(
          state?.status ?? 'unseen',
          state?.firstSeen ?? '',
          state?.lastSeen ?? '',
          state?.fixedAt ?? null,
          state?.reopenedAt ?? null,
          state?.reopened ?? 0,
          id,
        );
      }
    }
  }

  /** Every source that was ever seen, with its state. */
  sources(): StoredSource[] {
    const rows = this.db
      .prepare(
        "SELECT * FROM sources WHERE status != 'unseen' ORDER BY asset, cve, port, scanner, scope, check_id",
      )
      .all() as Row[];
    return rows.map((r) => ({
      asset: r.asset as string,
      address: (r.address as string | null) ?? undefined,
      cve: r.cve as string,
      port: (r.port as number) || undefined,
      scanner: r.scanner as string,
      scope: r.scope as string,
      check: r.check_id as string,
      product: (r.product as string | null) ?? undefined,
      service: (r.service as string | null) ?? undefined,
      cvssVector: (r.cvss_vector as string | null) ?? undefined,
      cvssScore: (r.cvss_score as number | null) ?? undefined,
      exploitAvailable: r.exploit_available === null ? undefined : r.exploit_available === 1,
      automatable: r.automatable === null ? undefined : r.automatable === 1,
      technicalImpact: (r.technical_impact as 'partial' | 'total' | null) ?? undefined,
      firstSeen: r.first_seen as string,
      lastSeen: r.last_seen as string,
      status: r.status as 'open' | 'fixed',
      fixedAt: (r.fixed_at as string | null) ?? undefined,
      reopenedAt: (r.reopened_at as string | null) ?? undefined,
    }));
  }

  /** When each asset was last looked at by any scan, complete or not, with or without findings. */
  assetScans(): Map<string, AssetScan> {
    const rows = this.db
      .prepare(
        `SELECT asset, max(at) AS at, scanner FROM (
           SELECT c.asset, c.tested_at AS at, s.scanner FROM coverage c JOIN scans s ON s.id = c.scan_id
           UNION ALL
           SELECT o.asset, g.seen_at AS at, o.scanner FROM sightings g JOIN sources o ON o.id = g.source_id
         ) GROUP BY asset`,
      )
      .all() as { asset: string; at: string; scanner: string }[];
    return new Map(rows.map((r) => [r.asset, { at: r.at, scanner: r.scanner }]));
  }

  /** Records that a finding's risk is accepted until a day (replacing any earlier acceptance of it). */
  accept(acceptance: RiskAcceptance): void {
    this.db
      .prepare(
        'INSERT INTO acceptances (asset, cve, port, accepted_by, reason, until, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        acceptance.asset.toLowerCase(),
        acceptance.cve.toUpperCase(),
        acceptance.port ?? null,
        acceptance.by,
        acceptance.reason,
        acceptance.until,
        acceptance.recordedAt,
      );
  }

  /** Withdraws the acceptances of a finding; how many there were. */
  revokeAcceptance(target: { asset: string; cve: string; port?: number }, by: string, at: string): number {
    return this.db
      .prepare(
        `UPDATE acceptances SET revoked_at = ?, revoked_by = ?
         WHERE revoked_at IS NULL AND asset = ? AND cve = ? AND (? IS NULL OR port IS ?)`,
      )
      .run(
        at,
        by,
        target.asset.toLowerCase(),
        target.cve.toUpperCase(),
        target.port ?? null,
        target.port ?? null,
      ).changes;
  }

  /** The acceptances in force or expired, latest per finding; withdrawn ones are left out. */
  acceptances(): RiskAcceptance[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM acceptances a WHERE revoked_at IS NULL AND id = (
           SELECT max(id) FROM acceptances b WHERE b.asset = a.asset AND b.cve = a.cve AND b.port IS a.port
             AND b.revoked_at IS NULL)`,
      )
      .all() as Row[];
    return rows.map((r) => ({
      asset: r.asset as string,
      cve: r.cve as string,
      port: (r.port as number | null) ?? undefined,
      by: r.accepted_by as string,
      reason: r.reason as string,
      until: r.until as string,
      recordedAt: r.recorded_at as string,
    }));
  }

  setOwner(owner: FindingOwner): void {
    this.db
      .prepare('INSERT INTO owners (asset, cve, port, owner, recorded_at) VALUES (?, ?, ?, ?, ?)')
      .run(
        owner.asset.toLowerCase(),
        owner.cve.toUpperCase(),
        owner.port ?? null,
        owner.owner,
        owner.recordedAt,
      );
  }

  /** The owner of each finding that was given one, latest per finding. */
  owners(): FindingOwner[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM owners o WHERE id = (
           SELECT max(id) FROM owners p WHERE p.asset = o.asset AND p.cve = o.cve AND p.port IS o.port)`,
      )
      .all() as Row[];
    return rows.map((r) => ({
      asset: r.asset as string,
      cve: r.cve as string,
      port: (r.port as number | null) ?? undefined,
      owner: r.owner as string,
      recordedAt: r.recorded_at as string,
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
    const rows = this.db.prepare('SELECT * FROM assets ORDER BY hostname').all() as Row[];
    return rows.map((r) => ({
      hostname: r.hostname as string,
      addresses: String(r.addresses).split(' ').filter(Boolean),
      publicFacing: r.public_facing === 1,
      criticality: r.criticality as Asset['criticality'],
      owner: (r.owner as string | null) ?? undefined,
      tags: String(r.tags).split(' ').filter(Boolean),
    }));
  }

  close(): void {
    this.db.close();
  }
}
