import { AssetIndex } from './assets.js';
import { groupFindings } from './findings.js';
import {
  byUrgency,
  type FindingFacts,
  knownVectors,
  type Prioritized,
  type PrioritizeOptions,
  prioritize,
} from './prioritize.js';
import type { VulnStore } from './store.js';

/**
 * A vulnerability database's findings, decided and ordered (what must be done first first): the
 * imported scans grouped per asset and CVE with the acceptances and owners recorded, then SSVC,
 * the due dates and the urgency order. `options` carries the content (SSVC tables, KEV, EPSS).
 * `onFindings` is told the findings before they are decided (the CLI warns of assets the inventory
 * does not know, by the addresses the scans gave).
 */
export function prioritizeStored(
  store: VulnStore,
  options: PrioritizeOptions,
  scope: {
    all?: boolean;
    assets?: AssetIndex;
    onFindings?: (findings: readonly FindingFacts[], assets: AssetIndex) => void;
  } = {},
): Prioritized[] {
  const sources = store.sources();
  options.knownVectors = knownVectors(sources);
  const assets = scope.assets ?? options.assets ?? new AssetIndex(store.assets());
  const findings = groupFindings(sources, {
    assets,
    assetScans: store.assetScans(),
    acceptances: store.acceptances(),
    owners: store.owners(),
  }).filter((f) => scope.all || f.status === 'open');
  scope.onFindings?.(findings, assets);
  return findings.map((f) => prioritize(f, options)).sort(byUrgency);
}
