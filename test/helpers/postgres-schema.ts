import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The PostgreSQL the project's machines run; VIGIL_TEST_POSTGRES names another. */
export const TEST_POSTGRES = process.env.VIGIL_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Whether the test PostgreSQL answers; tests that need it skip with a loud message when not. */
export async function postgresReachable(what: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch (error) {
    console.warn(
      `\n*** PostgreSQL at ${TEST_POSTGRES} is not reachable (${(error as Error).message}): ${what} SKIPPED ***\n`,
    );
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/** A schema of its own for one test, dropped by `drop`, and pools whose search path is it. */
export async function testSchema(): Promise<{
  name: string;
  pool: () => pg.Pool;
  drop: () => Promise<void>;
}> {
  const name = `vigil_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Pool({ connectionString: TEST_POSTGRES, max: 1 });
  await admin.query(`CREATE SCHEMA ${name}`);
  const pools: pg.Pool[] = [];
  return {
    name,
    pool: () => {
      const pool = new pg.Pool({
        connectionString: TEST_POSTGRES,
        options: `-c search_path=${name}`,
        max: 4,
      });
      pools.push(pool);
      return pool;
    },
    drop: async () => {
      await Promise.all(pools.map((p) => p.end()));
      await admin.query(`DROP SCHEMA ${name} CASCADE`);
      await admin.end();
    },
  };
}
