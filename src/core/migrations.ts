import { VigilError } from './errors.js';

/** What bringing a schema up to date needs of a SQLite connection (better-sqlite3's has it). */
export interface MigratableDatabase {
  pragma(source: string, options?: { simple?: boolean }): unknown;
  exec(source: string): unknown;
  transaction(work: () => void): () => void;
  close(): unknown;
}

/**
 * Brings an embedded database's schema up to date. `PRAGMA user_version` counts the migrations a
 * database has had; each runs in its own transaction, so a failure leaves the database at the last
 * good version. A database newer than this Vigil is refused (and closed) rather than misread.
 */
export function applyMigrations(db: MigratableDatabase, migrations: readonly string[], file: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > migrations.length) {
    db.close();
    throw new VigilError(
      'STORE_TOO_NEW',
      `the database has schema version ${version}; this Vigil knows ${migrations.length}: upgrade Vigil`,
      { file },
    );
  }
  for (let v = version; v < migrations.length; v++) {
    db.transaction(() => {
      db.exec(migrations[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
