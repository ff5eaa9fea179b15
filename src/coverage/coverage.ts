import { type AttackIndex, compareIds, type Technique } from '../attack/index.js';
import { distinctIgnoringCase } from '../core/index.js';
import { type BacklogItem, backlogOf } from './backlog.js';
import type { Collection } from './inventory.js';
import { collectionPlatforms } from './platforms.js';
import { countUnknownTags, type RuleFacts } from './rules.js';
import { type CoverageState, isPreCompromise, type TechniqueCoverage, tacticRank } from './states.js';
import { collects, componentNeeds, type LogNeed, type LogSourceMap, needText } from './visibility.js';

/** Techniques a threat uses: an ATT&CK group, an advisory, a Navigator layer. */
export interface ThreatProfile {
  name: string;
  kind: 'group' | 'advisory' | 'layer';
  /** Technique ID -> what the source says of it (evidence sentences, layer comment). */
  techniques: Map<string, string[]>;
  /** ATT&CK platforms it runs on or attacks, where known (named in the advisory, its software's). */
  platforms?: string[];
}

/**
 * Over the techniques within the team's telemetry: pre-compromise ones (state `outside`) are no
 * gap of theirs, and counting them would lower the score for what no log can show.
 */
export interface Maturity {
  /** 0-100 = 100 × (0.4 × visibility + 0.4 × detection + 0.2 × validation). */
  score: number;
  parts: {
    /** Mean visibility score of the techniques in scope, over 5 (0-1). */
    visibility: number;
    /** Mean detection score over 5 (0-1). */
    detection: number;
    /** Share of covered techniques with a validated rule (0-1). */
    validation: number;
  };
}

export interface CoverageReport {
  techniques: TechniqueCoverage[];
  counts: Record<CoverageState, number>;
  maturity: Maturity;
  /** What to do first, best first (see backlogOf); techniques outside the telemetry have no place in it. */
  backlog: BacklogItem[];
  /** The platforms the backlog was ranked by: the threat's (ATT&CK names) and those the team collects from. */
  platforms: { threat: string[]; inventory: string[] };
  /** Rule tags naming techniques this ATT&CK release does not know, with how many rules carry them. */
  unknownTags: { tag: string; rules: number }[];
  /**
   * Distinct rules with such tags. Rules written for a newer ATT&CK than the one loaded: what they
   * detect may show as uncovered here.
   */
  rulesWithUnknownTags: number;
}

/** What rules tagged for a newer ATT&CK than the loaded one mean for coverage, and what to do. */
export const NEWER_ATTACK_HINT =
  'They were written for a newer ATT&CK release, so techniques they detect may show as uncovered here. Update ATT&CK with: vigil content update --only attack';

export interface CoverageInput {
  attack: AttackIndex;
  /** None: every technique of the release is in scope. */
  threats: ThreatProfile[];
  deployed: RuleFacts[];
  reference: RuleFacts[];
  collection: Collection;
  logSourceMap: LogSourceMap;
}

/**
 * Detection score, from the deployed rules whose logs are collected:
 * 0 none; 1 only experimental or low/informational rules; 2 one test or stable rule of medium level
 * or above; 3 two such rules, or one stable high/critical one; 4 three such rules, one validated by
 * regression events; 5 five such rules, two of them validated.
 */
export function detectionScore(rules: RuleFacts[]): number {
  if (rules.length === 0) return 0;
  const good = rules.filter(
    (r) => (r.status === 'stable' || r.status === 'test') && ['medium', 'high', 'critical'].includes(r.level),
  );
  const validated = good.filter((r) => r.validated).length;
  if (good.length >= 5 && validated >= 2) return 5;
  if (good.length >= 3 && validated >= 1) return 4;
  if (
    good.length >= 2 ||
    good.some((r) => r.status === 'stable' && (r.level === 'high' || r.level === 'critical'))
  )
    return 3;
  if (good.length >= 1) return 2;
  return 1;
}

/**
 * The techniques in scope, by current ID, with the threat profiles that use each and what they
 * say of it. Without threats, every technique of the release.
 */
export function threatScope(
  attack: AttackIndex,
  threats: ThreatProfile[],
): Map<string, { profiles: string[]; evidence: string[] }> {
  const inScope = new Map<string, { profiles: string[]; evidence: string[] }>();
  if (threats.length === 0) {
    for (const technique of attack.activeTechniques())
      inScope.set(technique.id, { profiles: [], evidence: [] });
  }
  for (const threat of threats) {
    for (const [id, evidence] of threat.techniques) {
      const technique = attack.resolveTechnique(id)[0]?.technique;
      if (!technique) continue;
      const entry = inScope.get(technique.id) ?? { profiles: [], evidence: [] };
      if (!entry.profiles.includes(threat.name)) entry.profiles.push(threat.name);
      entry.evidence.push(...evidence.filter((e) => !entry.evidence.includes(e)));
      inScope.set(technique.id, entry);
    }
  }
  return inScope;
}

export function assessCoverage(input: CoverageInput): CoverageReport {
  const { attack, collection } = input;
  const inScope = threatScope(attack, input.threats);

  const deployedIds = new Set(input.deployed.map((r) => r.id));
  const byTechnique = (rules: RuleFacts[]) => {
    const map = new Map<string, RuleFacts[]>();
    for (const rule of rules) {
      // A sub-technique's rule also covers its parent; a rule tagged with both counts once.
      const ids = new Set(
        rule.techniques.flatMap((id) => (id.includes('.') ? [id, id.split('.')[0]!] : [id])),
      );
      for (const id of ids) {
        const list = map.get(id) ?? [];
        list.push(rule);
        map.set(id, list);
      }
    }
    return map;
  };
  const deployedBy = byTechnique(input.deployed);
  const referenceBy = byTechnique(input.reference.filter((r) => !deployedIds.has(r.id)));
  const visible = new Map<RuleFacts, boolean>();
  const isVisible = (rule: RuleFacts) => {
    let known = visible.get(rule);
    if (known === undefined) {
      known = rule.needs.some((need) => collects(collection, need));
      visible.set(rule, known);
    }
    return known;
  };

  const techniques: TechniqueCoverage[] = [];
  for (const [id, scope] of inScope) {
    const technique = attack.technique(id)!;
    const deployed = deployedBy.get(id) ?? [];
    const seeing = deployed.filter(isVisible);
    const blind = deployed.filter((r) => !isVisible(r));
    const available = referenceBy.get(id) ?? [];
    const state: CoverageState = isPreCompromise(technique)
      ? 'outside'
      : seeing.length > 0
        ? 'covered'
        : blind.length > 0
          ? 'blind'
          : available.length > 0
            ? 'available'
            : 'uncovered';
    const components = componentsOf(attack, technique);
    const dataComponents = components.map((dc) => ({
      id: dc,
      name: attack.dataComponent(dc)?.name ?? dc,
      visible: componentNeeds(
        attack.dataComponent(dc) ?? { id: dc, name: dc, description: '', logSources: [] },
        input.logSourceMap,
      ).some((need) => collects(collection, need)),
    }));
    const visibleShare = dataComponents.length
      ? dataComponents.filter((d) => d.visible).length / dataComponents.length
      : 0;
    techniques.push({
      id,
      name: technique.name,
      tactics: technique.tactics,
      platforms: technique.platforms,
      parent: technique.parent,
      state,
      detectionScore: detectionScore(seeing),
      visibilityScore: Math.round(5 * visibleShare),
      rules: { deployed: ids(seeing), blind: ids(blind), available: ids(available) },
      validated: seeing.some((r) => r.validated),
      dataComponents,
      missingLogs: distinctIgnoringCase(
        blind.flatMap((r) => r.needs.map((n: LogNeed) => needText(n))),
      ).sort(),
      profiles: scope.profiles,
      evidence: scope.evidence.slice(0, 5),
    });
  }
  techniques.sort((a, b) => tacticRank(attack, a) - tacticRank(attack, b) || compareIds(a.id, b.id));

  const counts = { covered: 0, blind: 0, available: 0, uncovered: 0, outside: 0 };
  for (const t of techniques) counts[t.state]++;
  const unknown = countUnknownTags([...input.deployed, ...input.reference]);
  const platforms = {
    threat: [...new Set(input.threats.flatMap((t) => t.platforms ?? []))].sort(),
    inventory: collectionPlatforms(collection),
  };
  return {
    techniques,
    counts,
    maturity: maturityOf(techniques),
    backlog: backlogOf({
      techniques,
      attack,
      deployed: input.deployed,
      reference: input.reference,
      collection,
      threatPlatforms: platforms.threat,
      inventoryPlatforms: platforms.inventory,
      rulesWithUnknownTags: unknown.rules,
    }),
    platforms,
    unknownTags: unknown.tags,
    rulesWithUnknownTags: unknown.rules,
  };
}

/** A sub-technique without data components of its own is seen through its parent's. */
function componentsOf(attack: AttackIndex, technique: Technique): string[] {
  if (technique.dataComponents.length > 0 || !technique.parent) return technique.dataComponents;
  return attack.technique(technique.parent)?.dataComponents ?? [];
}

function ids(rules: RuleFacts[]): string[] {
  return [...new Set(rules.map((r) => r.id))].sort();
}

export function maturityOf(all: TechniqueCoverage[]): Maturity {
  const techniques = all.filter((t) => t.state !== 'outside');
  const n = techniques.length || 1;
  const visibility = techniques.reduce((sum, t) => sum + t.visibilityScore, 0) / (5 * n);
  const detection = techniques.reduce((sum, t) => sum + t.detectionScore, 0) / (5 * n);
  const covered = techniques.filter((t) => t.state === 'covered');
  const validation = covered.length ? covered.filter((t) => t.validated).length / covered.length : 0;
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return {
    score: Math.round(100 * (0.4 * visibility + 0.4 * detection + 0.2 * validation)),
    parts: { visibility: round(visibility), detection: round(detection), validation: round(validation) },
  };
}
