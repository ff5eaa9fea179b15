import type { AttackIndex } from '../attack/index.js';
import {
  assessCoverage,
  type CoverageReport,
  type Inventory,
  type LogSourceMap,
  readLogSourceMap,
  type ThreatProfile,
} from '../coverage/index.js';
import type { Advisory } from '../intel/index.js';
import { defaultCache, openAttack } from './content-inputs.js';
import { coverageInventory, type InventoryOptions } from './inventory.js';
import { type Notice, type NoticeListener, Notices } from './notices.js';
import { loadRules, type RuleInputs, type RuleOptions } from './rules.js';
import { loadThreats, type ThreatOptions } from './threats.js';

/** What coverage takes: the threat, the rules, what is collected, and where content is. */
export interface CoverageOptions extends ThreatOptions, RuleOptions, InventoryOptions {
  /** The content folder a user named (else `VIGIL_CONTENT_DIR` or the default places). */
  content?: string;
  /** Where compiled rules and the ATT&CK index are cached (default: the `cache` folder of VIGIL_HOME). */
  cache?: string;
  /** ATT&CK log-source names to channels and Sigma log sources (default: the built-in map). */
  logSourceMap?: string;
  /** Told each notice as it comes; the result keeps them all too. */
  onNotice?: NoticeListener;
  /** Told once what counts as collected is known: the inventory, the logs', or none (undefined). */
  onInventory?: (inventory: Inventory | undefined) => void;
  /** Told once the coverage is computed, before any further work of the run. */
  onCoverage?: (run: CoverageRun) => void;
}

/** Everything coverage needs but the inventory: ATT&CK, the threats, the rules. */
export interface CoverageInputs extends RuleInputs {
  attack: AttackIndex;
  threats: ThreatProfile[];
  advisories: Advisory[];
  logSourceMap: LogSourceMap;
}

export interface CoverageRun extends CoverageInputs {
  report: CoverageReport;
  /** The same assessment for each host group of the inventory that collects differently. */
  groups: Map<string, CoverageReport>;
  inventory: Inventory | undefined;
}

/** The coverage of the threat by the rules, given what is collected, with the notices of the run. */
export async function runCoverage(options: CoverageOptions): Promise<CoverageRun & { notices: Notice[] }> {
  const notices = new Notices(options.onNotice);
  const inputs = await loadCoverageInputs(options, notices.tell);
  const inventory = await coverageInventory(options, notices.tell);
  options.onInventory?.(inventory);
  const run = computeCoverage(inputs, inventory);
  options.onCoverage?.(run);
  return { ...run, notices: notices.list };
}

/** ATT&CK, the threats, the deployed and reference rules, and the log-source map. */
export async function loadCoverageInputs(
  options: CoverageOptions,
  tell: NoticeListener,
): Promise<CoverageInputs> {
  const cache = options.cache ?? defaultCache();
  const attack = openAttack(options.content, cache);
  const { threats, advisories } = await loadThreats(attack, options, tell);
  const rules = await loadRules(attack, { ...options, cache }, tell);
  return { attack, threats, advisories, ...rules, logSourceMap: readLogSourceMap(options.logSourceMap) };
}

/** The coverage of the threats by the rules, given what is collected, overall and per host group. */
export function computeCoverage(inputs: CoverageInputs, inventory: Inventory | undefined): CoverageRun {
  const { attack, threats, deployed, reference, logSourceMap } = inputs;
  const assess = (collection: Inventory['collection']) =>
    assessCoverage({ attack, threats, deployed, reference, collection, logSourceMap });
  const report = assess(inventory?.collection ?? { windows: new Map(), logsources: [] });
  const groups = new Map(
    [...(inventory?.groups ?? [])].map(([name, collection]) => [name, assess(collection)]),
  );
  return { ...inputs, report, groups, inventory };
}
