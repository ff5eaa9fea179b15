import { readFileSync } from 'node:fs';
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
    for (const point of [...inputs, outcome]) {
      if (!point.values.some((v) => v.key === row[point.id])) {
        throw new VigilError('SSVC_INVALID', `row ${i}: ${point.name} has no value "${row[point.id]}"`, {
          file,
          field: `mapping[${i}].${point.id}`,
        });
      }
    }
    rows.set(rowKey(inputs, row), row[outcome.id]!);
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

function rowKey(inputs: DecisionPoint[], values: Record<string, string>): string {
  return inputs.map((p) => values[p.id]).join('|');
}

/**
 * The outcome for the given input values, each given by decision-point key and value key or name
 * (`{ E: 'A', A: 'yes', TI: 'total', MWI: 'H' }`).
 */
export function decide(table: DecisionTable, values: Record<string, string>): { key: string; name: string } {
  const resolved: Record<string, string> = {};
  for (const point of table.inputs) {
    const given = values[point.key];
    if (given === undefined) throw new VigilError('SSVC_INPUT', `${table.name}: no value for ${point.name}`);
    const value = point.values.find((v) => v.key === given || v.name.toLowerCase() === given.toLowerCase());
    if (!value) {
      throw new VigilError(
        'SSVC_INPUT',
        `${table.name}: ${point.name} takes ${point.values.map((v) => v.name).join(', ')}, not "${given}"`,
      );
    }
    resolved[point.id] = value.key;
  }
  const key = table.rows.get(rowKey(table.inputs, resolved))!;
  return { key, name: table.outcome.values.find((v) => v.key === key)!.name };
}
