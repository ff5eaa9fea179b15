import pg from 'pg';
import { VigilError } from '../core/index.js';
import { POSTGRES_MIGRATIONS, POSTGRES_SCHEMA_VERSION } from './postgres-schema.js';
import type { PostgresLocation } from './postgres-url.js';

const INT8 = 20;
const TIMESTAMPTZ = 1184;
const JSON_OID = 114;
const JSONB = 3802;
const parseTimestamp = pg.types.getTypeParser(TIMESTAMPTZ);

/**
 * How this store reads PostgreSQL's values, the way the embedded store's rows come: bigint as
 * numbers (ids, counts and millisecond times stay far below 2^53), timestamptz as ISO 8601 text,
 * JSON as its text (parsed by the shared row mapping, and hashed as written in the audit log).
 */
const TYPES = {
  getTypeParser(oid: number, format?: string) {
    if (oid === INT8) return (text: string) => Number(text);
    if (oid === TIMESTAMPTZ) return (text: string) => (parseTimestamp(text) as Date).toISOString();
    if (oid === JSON_OID || oid === JSONB) return (text: string) => text;
    return pg.types.getTypeParser(oid, format as 'text');
  },
} as pg.CustomTypesConfig;

function connectionConfig(location: PostgresLocation): pg.ClientConfig {
  return {
    connectionString: location.url,
    types: TYPES,
    ...(location.schema && { options: `-c search_path=${location.schema}` }),
    application_name: 'vigil',
  };
}

export function openPool(location: PostgresLocation, max = 10): pg.Pool {
  const pool = new pg.Pool({ ...connectionConfig(location), max });
  // An idle connection the server closed: the pool drops it, and the next query opens another
  // (and reports what is wrong then). Without a listener it would end the process.
  pool.on('error', () => undefined);
  return pool;
}

/** Errors of the driver (unreachable server, refused login) as ours, naming the store without its password. */
export function storeError(location: PostgresLocation, error: unknown): VigilError {
  if (error instanceof VigilError) return error;
  const message = (error as Error).message || (error as { code?: string }).code || String(error);
  return new VigilError(
    'STORE_UNAVAILABLE',
    `PostgreSQL at ${location.shown}: ${message}`,
    {},
    { cause: error },
  );
}

/** The schema version a database has (0: none of Vigil's tables yet). */
export async function schemaVersion(client: pg.Pool | pg.ClientBase): Promise<number> {
  const table = await client.query<{ found: string | null }>(
    `SELECT to_regclass('vigil_schema')::text AS found`,
  );
  if (!table.rows[0]?.found) return 0;
  const row = await client.query<{ version: number }>('SELECT version FROM vigil_schema');
  return row.rows[0]?.version ?? 0;
}

/** Refuses a database whose schema is not the one this Vigil was built for. */
export function checkSchemaVersion(location: PostgresLocation, version: number): void {
  if (version < POSTGRES_SCHEMA_VERSION) {
    throw new VigilError(
      'STORE_NOT_MIGRATED',
      `PostgreSQL at ${location.shown} has schema version ${version}; this Vigil needs ${POSTGRES_SCHEMA_VERSION}: run vigil admin migrate --store URL`,
    );
  }
  if (version > POSTGRES_SCHEMA_VERSION) {
    throw new VigilError(
      'STORE_TOO_NEW',
      `PostgreSQL at ${location.shown} has schema version ${version}; this Vigil knows ${POSTGRES_SCHEMA_VERSION}: upgrade Vigil`,
    );
  }
}

/**
 * Brings a database's schema up to date: each migration in its own transaction with the version it
 * reaches, all under an advisory lock (per schema), so nodes started together migrate once, one
 * after the other seeing the work done. Makes the schema when it is missing.
 */
export async function migratePostgres(
  location: PostgresLocation,
): Promise<{ before: number; after: number }> {
  const client = new pg.Client(connectionConfig(location));
  try {
    await client.connect();
  } catch (error) {
    throw storeError(location, error);
  }
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [`vigil.migrate:${location.schema ?? ''}`]);
    if (location.schema) await client.query(`CREATE SCHEMA IF NOT EXISTS "${location.schema}"`);
    await client.query('CREATE TABLE IF NOT EXISTS vigil_schema (version integer NOT NULL)');
    await client.query(
      'INSERT INTO vigil_schema (version) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM vigil_schema)',
    );
    const before = await schemaVersion(client);
    if (before > POSTGRES_SCHEMA_VERSION) checkSchemaVersion(location, before);
    for (let v = before; v < POSTGRES_SCHEMA_VERSION; v++) {
      await client.query('BEGIN');
      try {
        await client.query(POSTGRES_MIGRATIONS[v]!);
        await client.query('UPDATE vigil_schema SET version = $1', [v + 1]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw new VigilError(
          'MIGRATION_FAILED',
          `migration ${v + 1} of PostgreSQL at ${location.shown} failed: ${(error as Error).message}`,
        );
      }
    }
    return { before, after: await schemaVersion(client) };
  } catch (error) {
    throw storeError(location, error);
  } finally {
    await client.end().catch(() => undefined);
  }
}
