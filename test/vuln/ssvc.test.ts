import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readDecisionTable } from '../../src/content/index.js';
import { decide } from '../../src/vuln/index.js';
import { contentPath, hasContent } from '../helpers/content.js';

/** The CSV form of a table, which CERT/CC publishes beside the JSON: an independent statement of every row. */
function csvRows(file: string): string[][] {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split(',').slice(1));
}

describe.skipIf(!hasContent)('SSVC decision tables, every row', () => {
  it('CISA coordinator 2.0.3: 36 rows, Exploitation × Automatable × Technical Impact × Mission and Well-Being', () => {
    const table = readDecisionTable(contentPath('ssvc', 'cisa_coordinator_2_0_3.json'));
    const rows = csvRows(contentPath('ssvc', 'cisa_coordinator_2_0_3.csv'));
    expect(rows).toHaveLength(36);
    for (const [exploitation, automatable, impact, mission, level] of rows) {
      const decision = decide(table, { E: exploitation!, A: automatable!, TI: impact!, MWI: mission! });
      expect(decision.name.toLowerCase(), `${exploitation} ${automatable} ${impact} ${mission}`).toBe(level);
    }
  });

  it('CISA BOD 26-04: 16 rows, In KEV × Publicly Exposed × Automatable × Technical Impact', () => {
    const table = readDecisionTable(contentPath('ssvc', 'cisa_bod_26_04_1_0_0.json'));
    const rows = csvRows(contentPath('ssvc', 'cisa_bod_26_04_1_0_0.csv'));
    expect(rows).toHaveLength(16);
    for (const [kev, exposed, automatable, impact, timeline] of rows) {
      const decision = decide(table, { KEV: kev!, PE: exposed!, A: automatable!, TI: impact! });
      expect(decision.name.toLowerCase(), `${kev} ${exposed} ${automatable} ${impact}`).toBe(timeline);
    }
  });

  it('refuses values a decision point does not take', () => {
    const table = readDecisionTable(contentPath('ssvc', 'cisa_coordinator_2_0_3.json'));
    expect(() => decide(table, { E: 'maybe', A: 'yes', TI: 'total', MWI: 'high' })).toThrow(
      /Exploitation takes None, Public PoC, Active, not "maybe"/,
    );
    expect(() => decide(table, { E: 'active', A: 'yes', TI: 'total' })).toThrow(
      /no value for Mission and Well-Being Impact/,
    );
  });

  it('refuses a damaged table with the place at fault, never a crash', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-ssvc-'));
    const damaged = (change: (table: Record<string, unknown[] | unknown>) => void) => {
      const table = JSON.parse(readFileSync(contentPath('ssvc', 'cisa_bod_26_04_1_0_0.json'), 'utf8'));
      change(table);
      const file = join(dir, 'table.json');
      writeFileSync(file, JSON.stringify(table));
      return () => readDecisionTable(file);
    };
    expect(
      damaged((t) => {
        (t.mapping as unknown[])[3] = null;
      }),
    ).toThrow(/row 3 is not a map of decision point to value/);
    expect(
      damaged((t) => {
        t.decision_points = [1];
      }),
    ).toThrow(/decision point 0 has no key or no list of values/);
    rmSync(dir, { recursive: true, force: true });
  });
});
