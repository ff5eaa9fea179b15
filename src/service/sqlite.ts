import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { VigilError } from '../core/index.js';

export type Sqlite = Database.Database;

/**
 * Opens the service's SQLite database and brings its schema up to date. `PRAGMA user_version`
 * counts the migrations a database has had; each runs in its own transaction, so a failure leaves
 * the database at the last good version. WAL lets `vigil admin` and readers work beside a running
 * service; `synchronous = FULL` makes every commit durable before it returns, because the service
 * answers a triage change only once it is stored.
 */
export function openSqlite(path: string, migrations: readonly string[]): Sqlite {
  let db: Sqlite;
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    db = new Database(path);
  } catch (error) {
    throw new VigilError('STORE_UNAVAILABLE', `cannot open the database: ${(error as Error).message}`, {
      file: path,
    });
  }
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > migrations.length) {
    db.close();
    throw new VigilError(
      'STORE_TOO_NEW',
      `the database has schema version ${version}; this Vigil knows ${migrations.length}: upgrade Vigil`,
      { file: path },
    );
  }
  for (let v = version; v < migrations.length; v++) {
    db.transaction(() => {
      db.exec(migrations[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
  return db;
}
