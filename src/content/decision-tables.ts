import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { VigilError } from '../core/index.js';

/**
 * SSVC decision tables as CERT/CC publishes them (schema 2.0.0): decision points with their
 * values, an outcome decision point, and one mapping row per combination. Vigil reads the tables
 * as data and looks rows up; it holds no decision logic of its own.
 */
export interface DecisionPoint {
  /** `namespace:key:version`, e.g. `ssvc:E:1.1.0`. */
  id: string;
  key: string;
  name: string;
  values: { key: string; name: string }[];
}

export interface DecisionTable {
  name: string;
  version: string;
  /** The inputs, in the table's order. */
  inputs: DecisionPoint[];
  outcome: DecisionPoint;
  /** Input value keys (by decision-point id) -> outcome value key. */
  rows: Map<string, string>;
}

interface RawPoint {
  namespace: string;
  key: string;
  version: string;
  name: string;
  values: { key: string; name: string }[];
}

/** The CISA tables Vigil decides with: the coordinator's Track/Attend/Act, and BOD 26-04's timelines. */
export const SSVC_TABLES = {
  coordinator: 'cisa_coordinator_2_0_3.json',
  bod: 'cisa_bod_26_04_1_0_0.json',
} as const;

/** Both CISA tables of an `ssvc` content folder, each read and checked. */
export function readSsvcTables(folder: string): Record<keyof typeof SSVC_TABLES, DecisionTable> {
  return {
    coordinator: readDecisionTable(join(folder, SSVC_TABLES.coordinator)),
    bod: readDecisionTable(join(folder, SSVC_TABLES.bod)),
  };
}

export function readDecisionTable(file: string): DecisionTable {
  let raw: {
    name?: string;
    version?: string;
    decision_points?: Record<string, RawPoint>;
    outcome?: string;
    mapping?: Record<string, string>[];
  };
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new VigilError('SSVC_INVALID', `cannot read the decision table: ${(error as Error).message}`, {
      file,
    });
  }
  if (!raw.decision_points || !raw.outcome || !Array.isArray(raw.mapping)) {
    throw new VigilError(
      'SSVC_INVALID',
      'not an SSVC decision table (decision_points, outcome and mapping are needed)',
      { file },
    );
  }
  for (const [id, point] of Object.entries(raw.decision_points)) {
    if (!Array.isArray(point?.values) || typeof point.key !== 'string') {
      throw new VigilError('SSVC_INVALID', `the decision point ${id} has no key or no list of values`, {
        file,
        field: `decision_points.${id}`,
      });
    }
  }
  const points = Object.entries(raw.decision_points).map(([id, p]) => ({
    id,
    key: p.key,
    name: p.name,
    values: p.values.map(({ key, name }) => ({ key, name })),
  }));
  const outcome = points.find((p) => p.id === raw.outcome);
  if (!outcome)
    throw new VigilError('SSVC_INVALID', `the outcome ${raw.outcome} is not among the decision points`, {
      file,
      field: 'outcome',
    });
  const inputs = points.filter((p) => p.id !== raw.outcome);
  const rows = new Map<string, string>();
  raw.mapping.forEach((row, i) => {
    if (typeof row !== 'object' || row === null || Array.isArray(row)) {
      throw new VigilError('SSVC_INVALID', `row ${i} is not a map of decision point to value`, {
        file,
        field: `mapping[${i}]`,
      });
    }
    for (const point of [...inputs, outcome]) {
      if (!point.values.some((v) => v.key === row[point.id])) {
        throw new VigilError('SSVC_INVALID', `row ${i}: ${point.name} has no value "${row[point.id]}"`, {
          file,
          field: `mapping[${i}].${point.id}`,
        });
      }
    }
    rows.set(decisionRowKey(inputs, row), row[outcome.id]!);
  });
  const combinations = inputs.reduce((n, p) => n * p.values.length, 1);
  if (rows.size !== combinations) {
    throw new VigilError(
      'SSVC_INVALID',
      `the table has ${rows.size} distinct rows for ${combinations} combinations`,
      { file, field: 'mapping' },
    );
  }
  return { name: raw.name ?? file, version: raw.version ?? '', inputs, outcome, rows };
}

/** The key of a table row: its input value keys in the table's order. */
export function decisionRowKey(inputs: DecisionPoint[], values: Record<string, string>): string {
  return inputs.map((p) => values[p.id]).join('|');
}
