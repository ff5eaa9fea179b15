import type { AttackIndex } from '../attack/index.js';
import { addDistinct, distinctIgnoringCase } from '../core/index.js';
import type { Collection } from './inventory.js';
import { ANY_PLATFORM, needPlatforms } from './platforms.js';
import type { RuleFacts } from './rules.js';
import { type CoverageState, type TechniqueCoverage, tacticRank } from './states.js';
import { collects, type LogNeed, needText } from './visibility.js';

export type BacklogAction = 'collect logs' | 'deploy rules' | 'write a rule';

/**
 * Whose platform a fix is on: one the threat uses and the team collects from, one the threat uses,
 * one the team collects from, or neither (listed last).
 */
export const RELEVANCE = ['threat-and-inventory', 'threat', 'inventory', 'elsewhere'] as const;
export type Relevance = (typeof RELEVANCE)[number];

/** One thing to do, with what it buys and why it ranks where it does. */
export interface BacklogItem {
  /** What to do: collect which logs, deploy which public rules, or write a rule for what. */
  fix: string;
  action: BacklogAction;
  /** The techniques in scope it serves, their state today, and whether it closes their gap. */
  techniques: { id: string; name: string; state: CoverageState; closes: boolean }[];
  /** Candidate rules it puts to work: deployed rules that start seeing, or public rules to deploy. */
  rules: number;
  /** ATT&CK platforms it is on (`any platform` for logs of no particular one). */
  platforms: string[];
  relevance: Relevance;
  /** Why it ranks where it does, in a sentence. */
  why: string;
}

export interface BacklogInput {
  /** Every technique in scope; those outside the team's telemetry are left out of the backlog. */
  techniques: TechniqueCoverage[];
  attack: AttackIndex;
  deployed: RuleFacts[];
  reference: RuleFacts[];
  collection: Collection;
  /** The threat's platforms; when none are known, each technique's own ATT&CK platforms stand in. */
  threatPlatforms: string[];
  /** The platforms the team collects logs from. */
  inventoryPlatforms: string[];
  /** Rules tagged with techniques this ATT&CK release does not know (they may cover the uncovered). */
  rulesWithUnknownTags: number;
}

const COST = { 'collect logs': 0, 'deploy rules': 1, 'write a rule': 2 } as const;

interface Candidate {
  action: BacklogAction;
  fix: string;
  platforms: string[];
  /** Collect: the blind deployed rules (in scope) the logs would let see. */
  serves?: string[];
  /** Deploy and write: the technique they are for. */
  technique?: TechniqueCoverage;
  /** Deploy: how many public rules. */
  publicRules?: number;
}

interface Effect {
  rules: string[];
  techniques: TechniqueCoverage[];
  closes: TechniqueCoverage[];
}

interface Ranked {
  candidate: Candidate;
  effect: Effect;
  relevance: number;
  gapWeight: number;
  tacticRank: number;
}

/**
 * What to build first, one fix at a time: each fix is ranked by what it adds to those chosen before
 * it (a log source several fixes would bring is counted for the first), by
 *
 * 1. the platform it is on: fixes for platforms neither the threat uses nor the team collects from
 *    come last;
 * 2. the gaps it closes (techniques blind, available or uncovered that it makes covered), weighed
 *    by how many threat profiles use each;
 * 3. whose platform: the threat's and the team's first, then the threat's, then the team's;
 * 4. cost: collecting logs for rules already deployed, then deploying public rules, then writing one;
 * 5. how many candidate rules it puts to work, and for how many techniques;
 * 6. the kill-chain stage of its first technique.
 *
 * Collecting one log source is one fix, whatever techniques it serves, and it counts the deployed
 * rules it would let see on covered techniques too: more rules on a technique is depth. Sources that
 * would let exactly the same rules see are one fix ("collect A or B").
 */
export function backlogOf(input: BacklogInput): BacklogItem[] {
  const inScope = input.techniques.filter((t) => t.state !== 'outside');
  const relevanceOf = relevanceJudge(input);
  const deployed = new Map(input.deployed.map((r) => [r.id, r]));
  const reference = new Map(input.reference.map((r) => [r.id, r]));
  const candidates = [
    ...collectCandidates(inScope, deployed),
    ...inScope.flatMap((t) => ruleCandidates(t, { ...input, deployed, reference }, relevanceOf)),
  ];
  const byRule = new Map<string, TechniqueCoverage[]>();
  for (const t of inScope) for (const id of t.rules.blind) addDistinct(byRule, id, t);
  const covered = new Set(inScope.filter((t) => t.state === 'covered').map((t) => t.id));
  const seeing = new Set<string>();

  const effectOf = (candidate: Candidate): Effect => {
    if (candidate.serves) {
      const rules = candidate.serves.filter((id) => !seeing.has(id));
      const techniques = [...new Set(rules.flatMap((id) => byRule.get(id) ?? []))];
      return { rules, techniques, closes: techniques.filter((t) => !covered.has(t.id)) };
    }
    const t = candidate.technique!;
    if (covered.has(t.id)) return { rules: [], techniques: [], closes: [] };
    return { rules: [], techniques: [t], closes: [t] };
  };
  const rank = (candidate: Candidate): Ranked | undefined => {
    const effect = effectOf(candidate);
    if (effect.techniques.length === 0) return undefined;
    return {
      candidate,
      effect,
      relevance: RELEVANCE.indexOf(relevanceOf(candidate.platforms, effect.techniques)),
      gapWeight: effect.closes.reduce((sum, t) => sum + Math.max(1, t.profiles.length), 0),
      tacticRank: Math.min(...effect.techniques.map((t) => tacticRank(input.attack, t))),
    };
  };

  // A fix only loses value as others are chosen (fewer rules left to let see, fewer gaps left to
  // close), so ranks computed earlier are upper bounds: the first of the queue is ranked again, and
  // taken when it still ranks before the next one's earlier rank.
  const queue = candidates
    .map(rank)
    .filter((r): r is Ranked => r !== undefined)
    .sort(compareRanked);
  const items: BacklogItem[] = [];
  while (queue.length > 0) {
    const best = rank(queue.shift()!.candidate);
    if (!best) continue;
    if (queue.length > 0 && compareRanked(best, queue[0]!) > 0) {
      queue.splice(sortedIndex(queue, best), 0, best);
      continue;
    }
    // Sources that would let exactly the same rules see, on platforms as relevant, are one fix.
    const same: Ranked[] = [];
    if (best.candidate.serves) {
      const rules = new Set(best.effect.rules);
      for (let i = queue.length - 1; i >= 0; i--) {
        if (
          !queue[i]!.candidate.serves ||
          !best.effect.rules.every((id) => queue[i]!.effect.rules.includes(id))
        )
          continue;
        const other = rank(queue[i]!.candidate);
        if (
          other?.relevance === best.relevance &&
          other.effect.rules.length === rules.size &&
          other.effect.rules.every((id) => rules.has(id))
        ) {
          same.unshift(other);
          queue.splice(i, 1);
        }
      }
    }
    for (const id of best.effect.rules) seeing.add(id);
    for (const t of best.effect.closes) covered.add(t.id);
    items.push(itemOf([best, ...same.slice(0, 2)], input));
  }
  return items;
}

/** Where `item` goes in a queue sorted by compareRanked. */
function sortedIndex(queue: Ranked[], item: Ranked): number {
  let low = 0;
  let high = queue.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (compareRanked(queue[middle]!, item) <= 0) low = middle + 1;
    else high = middle;
  }
  return low;
}

function compareRanked(a: Ranked, b: Ranked): number {
  const last = RELEVANCE.indexOf('elsewhere');
  return (
    Number(a.relevance === last) - Number(b.relevance === last) ||
    b.gapWeight - a.gapWeight ||
    a.relevance - b.relevance ||
    COST[a.candidate.action] - COST[b.candidate.action] ||
    b.effect.rules.length +
      (b.candidate.publicRules ?? 0) -
      (a.effect.rules.length + (a.candidate.publicRules ?? 0)) ||
    b.effect.techniques.length - a.effect.techniques.length ||
    a.tacticRank - b.tacticRank ||
    a.candidate.fix.localeCompare(b.candidate.fix)
  );
}

/** One candidate per log source that blind deployed rules of techniques in scope read. */
function collectCandidates(inScope: TechniqueCoverage[], deployed: Map<string, RuleFacts>): Candidate[] {
  const rules = [...new Set(inScope.flatMap((t) => t.rules.blind))].map((id) => deployed.get(id)!);
  const needs = new Map<string, LogNeed>();
  const ruleKeys = new Map<RuleFacts, Set<string>>();
  for (const rule of rules) {
    const keys = new Set<string>();
    for (const need of rule.needs) {
      const key = needText(need).toLowerCase();
      keys.add(key);
      if (need.kind !== 'any' && !needs.has(key)) needs.set(key, need);
    }
    ruleKeys.set(rule, keys);
  }
  return [...needs].map(([key, need]) => {
    const alone = collectionOf(need);
    // A Sigma log source is collected as named: `product: linux` would be every Linux log, one fix
    // too broad to act on, so it serves only the rules that ask for no more than that.
    const serves = (rule: RuleFacts) =>
      need.kind === 'logsource' ? ruleKeys.get(rule)!.has(key) : rule.needs.some((n) => collects(alone, n));
    return {
      action: 'collect logs',
      fix: `collect ${needText(need)}`,
      platforms: needPlatforms(need),
      serves: [...new Set(rules.filter(serves).map((r) => r.id))],
    };
  });
}

/** What collecting just the Windows events a need names amounts to. */
function collectionOf(need: LogNeed): Collection {
  if (need.kind !== 'windows') return { windows: new Map(), logsources: [] };
  const events = need.eventIds?.length ? new Set(need.eventIds) : 'all';
  // Without a channel, any one channel holding those events serves.
  return { windows: new Map([[need.channel?.toLowerCase() ?? '', events]]), logsources: [] };
}

/**
 * Deploying the public rules of an available technique; writing a rule for one that has none, or
 * whose only fixes are on platforms that neither the threat nor the team has.
 */
/** The backlog's input with the rules by ID. */
interface RulesById extends Omit<BacklogInput, 'deployed' | 'reference'> {
  deployed: Map<string, RuleFacts>;
  reference: Map<string, RuleFacts>;
}

function ruleCandidates(
  t: TechniqueCoverage,
  input: RulesById,
  relevanceOf: (platforms: string[], techniques: TechniqueCoverage[]) => Relevance,
): Candidate[] {
  if (t.state === 'covered' || t.state === 'outside') return [];
  const out: Candidate[] = [];
  let relevantFix = false;
  if (t.state === 'available') {
    const rules = t.rules.available.map((id) => input.reference.get(id)!);
    const needs = rules.flatMap((r) => r.needs);
    const platforms = [...new Set(needs.flatMap(needPlatforms))];
    const unseen = needs.every((n) => !collects(input.collection, n));
    const examples = t.rules.available.slice(0, 2).join(', ');
    out.push({
      action: 'deploy rules',
      fix: `deploy ${t.rules.available.length} public rule(s) for ${t.id} ${t.name}, e.g. ${examples}${unseen ? `, and collect ${distinctIgnoringCase(needs.map(needText)).slice(0, 3).join(' or ')} that they read` : ''}`,
      platforms,
      technique: t,
      publicRules: t.rules.available.length,
    });
    relevantFix = relevanceOf(platforms, [t]) !== 'elsewhere';
  }
  if (t.state === 'blind') {
    const needs = t.rules.blind.flatMap((id) => input.deployed.get(id)!.needs);
    relevantFix = relevanceOf([...new Set(needs.flatMap(needPlatforms))], [t]) !== 'elsewhere';
  }
  const own = t.platforms.filter((p) => p !== 'PRE');
  const byRelevance = (p: string) => RELEVANCE.indexOf(relevanceOf([p], [t]));
  const relevant = own
    .filter((p) => relevanceOf([p], [t]) !== 'elsewhere')
    .sort((a, b) => byRelevance(a) - byRelevance(b));
  if (t.state === 'uncovered' || (!relevantFix && relevant.length > 0)) {
    const platforms = relevant.length ? relevant : own.length ? own : [ANY_PLATFORM];
    out.push({
      action: 'write a rule',
      fix: `write a rule for ${t.id} ${t.name}${own.length ? ` on ${platforms.join(', ')}` : ''}${writeHint(t, input)}`,
      platforms,
      technique: t,
    });
  }
  return out;
}

function writeHint(t: TechniqueCoverage, input: RulesById): string {
  if (t.state === 'uncovered' && input.rulesWithUnknownTags > 0)
    return ` (no rule is tagged with it, but ${input.rulesWithUnknownTags} rules carry ATT&CK IDs this release does not know and may detect it: update ATT&CK first)`;
  const hints: string[] = [];
  if (t.state === 'blind') {
    const needs = t.rules.blind.flatMap((id) => input.deployed.get(id)!.needs);
    const products = distinctIgnoringCase(
      needs.map((n) => (n.kind === 'logsource' ? (n.logsource.product ?? needText(n)) : needText(n))),
    );
    hints.push(
      `its ${t.rules.blind.length} deployed rule(s) read only ${products.slice(0, 4).join(', ')} logs`,
    );
  }
  const seen = t.dataComponents.filter((d) => d.visible).map((d) => d.name);
  if (seen.length) hints.push(`ATT&CK sees it in ${seen.slice(0, 3).join(', ')}, which you collect`);
  return hints.length ? ` (${hints.join('; ')})` : '';
}

/** Whose platforms a fix is on, for the techniques it serves. */
function relevanceJudge(
  input: BacklogInput,
): (platforms: string[], techniques: TechniqueCoverage[]) => Relevance {
  const inventory = new Set(input.inventoryPlatforms);
  const threatOwn = new Set(input.threatPlatforms);
  return (platforms, techniques) => {
    const threat = threatOwn.size > 0 ? threatOwn : new Set(techniques.flatMap((t) => t.platforms));
    let best = RELEVANCE.length - 1;
    for (const platform of platforms) {
      const ofThreat = platform === ANY_PLATFORM || threat.size === 0 || threat.has(platform);
      const ofTeam = inventory.has(platform);
      best = Math.min(best, ofThreat && ofTeam ? 0 : ofThreat ? 1 : ofTeam ? 2 : 3);
    }
    return RELEVANCE[best]!;
  };
}

function itemOf(chosen: Ranked[], input: BacklogInput): BacklogItem {
  const best = chosen[0]!;
  const { effect, candidate } = best;
  const relevance = RELEVANCE[best.relevance]!;
  const closing = new Set(effect.closes.map((t) => t.id));
  const fix =
    chosen.length > 1
      ? `collect ${chosen.map((r) => r.candidate.fix.slice('collect '.length)).join(' or ')}`
      : candidate.fix;
  const platforms = distinctIgnoringCase(chosen.flatMap((r) => r.candidate.platforms));
  const rules = effect.rules.length || (candidate.publicRules ?? 0);
  return {
    fix,
    action: candidate.action,
    techniques: effect.techniques.map((t) => ({
      id: t.id,
      name: t.name,
      state: t.state,
      closes: closing.has(t.id),
    })),
    rules,
    platforms,
    relevance,
    why: whyText(best, rules, platforms, relevance, input),
  };
}

function whyText(
  best: Ranked,
  rules: number,
  platforms: string[],
  relevance: Relevance,
  input: BacklogInput,
): string {
  const { effect, candidate } = best;
  const ids = (list: TechniqueCoverage[]) =>
    list.length > 4
      ? `${list
          .slice(0, 4)
          .map((t) => t.id)
          .join(', ')} and ${list.length - 4} more`
      : list.map((t) => t.id).join(', ');
  const gaps = effect.closes.length
    ? `closes ${effect.closes.length === 1 ? 'the gap' : `${effect.closes.length} gaps`} on ${ids(effect.closes)}`
    : `no gap to close: adds depth on ${ids(effect.techniques)}`;
  const work =
    candidate.action === 'collect logs'
      ? `; ${rules} deployed rule(s) start seeing`
      : candidate.action === 'deploy rules'
        ? `; ${rules} public rule(s) ready to deploy`
        : '';
  return `${gaps}${work}; ${platformReason(platforms, relevance, effect.techniques, input)}`;
}

function platformReason(
  platforms: string[],
  relevance: Relevance,
  techniques: TechniqueCoverage[],
  input: BacklogInput,
): string {
  const inventory = new Set(input.inventoryPlatforms);
  const threat = input.threatPlatforms.length
    ? new Set(input.threatPlatforms)
    : new Set(techniques.flatMap((t) => t.platforms));
  const whose = input.threatPlatforms.length ? "the threat's" : "the technique's (ATT&CK)";
  const named = (test: (p: string) => boolean) => platforms.filter(test).join(', ');
  switch (relevance) {
    case 'threat-and-inventory':
      return `${named((p) => threat.has(p) && inventory.has(p))}: ${whose} platform, and you collect from it`;
    case 'threat':
      if (platforms.includes(ANY_PLATFORM)) return 'logs of any platform';
      return `${named((p) => threat.has(p) || threat.size === 0)}: ${whose} platform, which you collect nothing from yet`;
    case 'inventory':
      return `${named((p) => inventory.has(p))}: you collect from it, though it is not ${whose} platform`;
    case 'elsewhere':
      return `${platforms.join(', ')}: neither ${whose} platform (${[...threat].join(', ') || 'none known'}) nor one you collect from, so last`;
  }
}
