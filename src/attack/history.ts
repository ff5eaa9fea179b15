import type { NameHistory } from './names.js';
import { attackId, type StixBundle } from './stix.js';

/**
 * The releases whose names the history records, as the published history file does: the last
 * release of each major version from v7 on. Their bundles are
 * `enterprise-attack/enterprise-attack-<version>.json` in MITRE's attack-stix-data repository.
 */
export const HISTORY_RELEASES = [
  '7.2',
  '8.2',
  '9.0',
  '10.1',
  '11.2',
  '12.1',
  '13.1',
  '14.1',
  '15.1',
  '16.1',
  '17.1',
  '18.1',
];

/**
 * Technique ID -> release -> [name, status] over several releases, status being `active`,
 * `revoked` or `deprecated`: the same structure as `technique-name-history.json`, and like it,
 * for the techniques of the newest release given (an ID gone since is nobody's former name).
 */
export function buildNameHistory(releases: { version: string; bundle: StixBundle }[]): NameHistory {
  const history: NameHistory = {};
  for (const { version, bundle } of releases) {
    const key = `v${version}`;
    for (const object of bundle.objects) {
      if (object.type !== 'attack-pattern') continue;
      const id = attackId(object);
      if (!id || !/^T\d{4}(\.\d{3})?$/.test(id) || !object.name) continue;
      const status = object.revoked ? 'revoked' : object.x_mitre_deprecated ? 'deprecated' : 'active';
      history[id] ??= {};
      history[id][key] = [object.name, status];
    }
  }
  const newest = releases.at(-1);
  if (!newest) return history;
  const key = `v${newest.version}`;
  for (const id of Object.keys(history)) if (!history[id]![key]) delete history[id];
  return history;
}
