import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { parsePostgresUrl } from './postgres-url.js';
import { SERVICE_MIGRATIONS } from './schema.js';
import { SqliteServiceStore } from './sqlite-store.js';
import type { ServiceStore } from './store.js';

/**
 * The store a service (or `vigil admin`, `vigil respond`) works on: PostgreSQL when a postgres://
 * URL is given (`--store`, or `store:` in config.yml), else SQLite in the data folder.
 */
export type StoreChoice = { url: string } | { database: string };

/** PostgreSQL's driver is loaded only when it is used, so that other commands start without it. */
export async function openServiceStore(choice: StoreChoice): Promise<ServiceStore> {
  if (!('url' in choice)) return new SqliteServiceStore(choice.database);
  const { PostgresServiceStore } = await import('./postgres-store.js');
  return PostgresServiceStore.open(choice.url);
}

/** The store of a data folder, unless a URL is given (the flag's, or config.yml's `store:`). */
export function storeChoice(url: string | undefined, database: string): StoreChoice {
  return url === undefined ? { database } : { url };
}

/**
 * Brings the chosen store's schema up to date; the versions before and after. SQLite does so
 * whenever it is opened, PostgreSQL only here (a cluster's nodes refuse an old schema instead).
 */
export async function migrateServiceStore(choice: StoreChoice): Promise<{ before: number; after: number }> {
  if ('url' in choice) {
    const { migratePostgres } = await import('./postgres.js');
    return migratePostgres(parsePostgresUrl(choice.url));
  }
  let before = 0;
  if (existsSync(choice.database)) {
    const db = new Database(choice.database, { readonly: true });
    before = db.pragma('user_version', { simple: true }) as number;
    db.close();
  }
  await new SqliteServiceStore(choice.database).close();
  return { before, after: SERVICE_MIGRATIONS.length };
}
