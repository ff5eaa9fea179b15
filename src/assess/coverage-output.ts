import { type CoverageReport, coverageLayer, type Inventory, type ThreatProfile } from '../coverage/index.js';
import type { CoverageRun } from './coverage-run.js';

/** The coverage as faces show it: one line on what was assessed, a Navigator layer, its JSON. */

/** One line on what was assessed against what, for layers and headings. */
export function coverageDescription(threats: ThreatProfile[], inventory: Inventory | undefined): string {
  const threat = threats.length ? threats.map((t) => t.name).join('; ') : 'all ATT&CK techniques';
  const logs = inventory ? `${inventory.inferred ? 'logs' : 'inventory'} ${inventory.name}` : 'no inventory';
  return `Coverage of ${threat}; ${logs}`;
}

/** The run as an ATT&CK Navigator layer, coloured by state and scored by detection score. */
export function navigatorLayer(run: CoverageRun, name: string) {
  return coverageLayer(run.report, {
    name,
    description: coverageDescription(run.threats, run.inventory),
    attackVersion: run.attack.version,
  });
}

/** The coverage as JSON data: `vigil coverage --format json`, and `coverage` in report.json. */
export function coverageJson(report: CoverageReport, groups: Map<string, CoverageReport> = new Map()) {
  return {
    techniques: report.techniques.map((t) => ({
      id: t.id,
      name: t.name,
      tactics: t.tactics,
      state: t.state,
      detection_score: t.detectionScore,
      visibility_score: t.visibilityScore,
      rules: t.rules,
      validated: t.validated,
      data_components: t.dataComponents,
      missing_logs: t.missingLogs,
      profiles: t.profiles,
    })),
    maturity: report.maturity,
    counts: report.counts,
    backlog: report.backlog,
    platforms: report.platforms,
    unknown_tags: report.unknownTags,
    rules_with_unknown_tags: report.rulesWithUnknownTags,
    groups: Object.fromEntries(
      [...groups].map(([name, group]) => [
        name,
        {
          counts: group.counts,
          maturity: group.maturity,
          states: Object.fromEntries(group.techniques.map((t) => [t.id, t.state])),
        },
      ]),
    ),
  };
}
