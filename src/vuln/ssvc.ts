import { type DecisionTable, decisionRowKey } from '../content/index.js';
import { VigilError } from '../core/index.js';

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
  const key = table.rows.get(decisionRowKey(table.inputs, resolved))!;
  return { key, name: table.outcome.values.find((v) => v.key === key)!.name };
}
