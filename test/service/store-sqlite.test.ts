import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe } from 'vitest';
import { SqliteServiceStore } from '../../src/service/index.js';
import { storeContract } from './store-contract.js';

describe('the service store on SQLite (embedded)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-store-'));
  storeContract({
    open: async () => new SqliteServiceStore(join(dir, 'vigil.db')),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  });
});
