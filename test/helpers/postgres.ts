import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * The PostgreSQL the tests use (the machine's own: trust auth, database `test`), or
 * VIGIL_TEST_POSTGRES. Each test makes a schema of its own in it and drops it after.
 */
export const POSTGRES_URL = process.env.VIGIL_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';

async function reachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export const hasPostgres = await reachable();

if (!hasPostgres) {
  console.warn(
    `\n*** PostgreSQL not reachable at ${POSTGRES_URL} (set VIGIL_TEST_POSTGRES): the PostgreSQL store tests are SKIPPED ***\n`,
  );
}

/** Runs SQL on the test database itself (outside any Vigil schema). */
export async function onDatabase<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A schema of one test's own: its store URL, and how to drop it with everything in it. */
export function freshSchema(): { name: string; url: string; drop(): Promise<void> } {
  const name = `vigil_test_${randomBytes(6).toString('hex')}`;
  const url = new URL(POSTGRES_URL);
  url.searchParams.set('schema', name);
  return {
    name,
    url: url.toString(),
    drop: () =>
      onDatabase(async (client) => void (await client.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`))),
  };
}
