import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { applyMigrations, VigilError } from '../core/index.js';

export type Sqlite = Database.Database;

/**
 * Opens the service's SQLite database and brings its schema up to date. WAL lets `vigil admin` and readers work beside a running
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
  applyMigrations(db, migrations, path);
  return db;
}
