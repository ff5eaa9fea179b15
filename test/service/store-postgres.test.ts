import { afterAll, describe, expect, it } from 'vitest';
import { VigilError } from '../../src/core/index.js';
import { migrateServiceStore, openServiceStore, POSTGRES_SCHEMA_VERSION } from '../../src/service/index.js';
import { freshSchema, hasPostgres, onDatabase } from '../helpers/postgres.js';
import { storeContract } from './store-contract.js';

describe.skipIf(!hasPostgres)('the service store on PostgreSQL (cluster)', () => {
  const schema = freshSchema();
  storeContract({
    open: async () => {
      await migrateServiceStore({ url: schema.url });
      return openServiceStore({ url: schema.url });
    },
    cleanup: () => schema.drop(),
  });
});

describe.skipIf(!hasPostgres)('PostgreSQL migrations', () => {
  const schemas = [freshSchema(), freshSchema()];
  afterAll(async () => {
    for (const schema of schemas) await schema.drop();
  });

  it('refuses a schema older than the code until vigil admin migrate ran, once, even when nodes race', async () => {
    const [schema] = schemas;
    const refused = await openServiceStore({ url: schema!.url }).catch((error: VigilError) => error);
    expect(refused).toBeInstanceOf(VigilError);
    expect((refused as VigilError).code).toBe('STORE_NOT_MIGRATED');
    expect((refused as VigilError).message).toContain('vigil admin migrate');
    const outcomes = await Promise.all([1, 2, 3].map(() => migrateServiceStore({ url: schema!.url })));
    expect(outcomes.map((o) => o.after)).toEqual([1, 1, 1].map(() => POSTGRES_SCHEMA_VERSION));
    expect(outcomes.filter((o) => o.before === 0)).toHaveLength(1);
    const store = await openServiceStore({ url: schema!.url });
    expect(await store.tenants()).toEqual([]);
    await store.close();
  });

  it('refuses a schema newer than the code, and never shows a password', async () => {
    const schema = schemas[1]!;
    await migrateServiceStore({ url: schema.url });
    await onDatabase((client) =>
      client.query(`UPDATE ${schema.name}.vigil_schema SET version = ${POSTGRES_SCHEMA_VERSION + 1}`),
    );
    const withPassword = schema.url.replace('postgres://postgres@', 'postgres://postgres:hunter2@');
    for (const attempt of [
      () => openServiceStore({ url: withPassword }),
      () => migrateServiceStore({ url: withPassword }),
    ]) {
      const error = (await attempt().catch((e: VigilError) => e)) as VigilError;
      expect(error.code).toBe('STORE_TOO_NEW');
      expect(error.message).toContain('postgres:***@');
      expect(error.message).not.toContain('hunter2');
    }
    const unreachable = (await openServiceStore({ url: 'postgres://u:hunter2@127.0.0.1:1/test' }).catch(
      (e: VigilError) => e,
    )) as VigilError;
    expect(unreachable.code).toBe('STORE_UNAVAILABLE');
    expect(unreachable.message).not.toContain('hunter2');
  });
});
