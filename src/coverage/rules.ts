import type { AttackIndex } from '../attack/index.js';
import { setFor } from '../core/index.js';
import type { DetectionRule, Level, PipelineSet, Status } from '../sigma/index.js';
import { attackTags, type PipelineSource, routeFor } from '../sigma/index.js';
import { type LogNeed, logsourceNeed } from './visibility.js';

/** What coverage needs to know of a rule. */
export interface RuleFacts {
  id: string;
  title: string;
  level: Level;
  status?: Status;
  file: string;
  /** Current ATT&CK technique IDs from its tags (revoked ones mapped forward). */
  techniques: string[];
  /** Tags naming techniques the loaded ATT&CK release does not know (`attack.t1686`). */
  unknownTags: string[];
  /** The logs it reads: any one of them suffices. */
  needs: LogNeed[];
  /** It comes with regression events (SigmaHQ `regression_tests_path`) that show it firing. */
  validated: boolean;
}

/**
 * A rule's techniques (from `attack.tNNNN[.NNN]` tags) and the logs it needs (its log source through
 * the pipelines: Windows channels and event IDs, or the Sigma log source itself for other products).
 */
export function ruleFacts(
  rule: DetectionRule,
  attack: AttackIndex,
  pipelines: PipelineSet,
  validated: boolean,
): RuleFacts {
  const techniques = new Set<string>();
  for (const id of attackTags(rule.tags).techniques) {
    for (const { technique } of attack.resolveTechnique(id)) techniques.add(technique.id);
  }
  return {
    id: ruleId(rule),
    title: rule.title,
    level: rule.level ?? 'medium',
    status: rule.status,
    file: rule.origin.file,
    techniques: [...techniques],
    unknownTags: unknownAttackTags(rule, attack),
    needs: ruleNeeds(rule, pipelines),
    validated,
  };
}

function ruleId(rule: DetectionRule): string {
  return rule.id ?? `${rule.origin.file}#${rule.origin.document}`;
}

/** A rule's `attack.tNNNN` tags that name no technique of this ATT&CK release, written as tags. */
export function unknownAttackTags(rule: Pick<DetectionRule, 'tags'>, attack: AttackIndex): string[] {
  return attackTags(rule.tags)
    .techniques.filter((id) => attack.resolveTechnique(id).length === 0)
    .map((id) => `attack.${id.toLowerCase()}`);
}

/** Rule tags this ATT&CK release does not know, with how many distinct rules carry each. */
export interface UnknownTags {
  /** Most carried first. */
  tags: { tag: string; rules: number }[];
  /** Distinct rules that carry one or more. */
  rules: number;
}

/** Counts the unknown tags of rules; a rule listed twice (deployed and in the reference set) counts once. */
export function countUnknownTags(rules: { id: string; unknownTags: string[] }[]): UnknownTags {
  const carriers = new Map<string, Set<string>>();
  const withUnknown = new Set<string>();
  for (const rule of rules) {
    for (const tag of rule.unknownTags) {
      setFor(carriers, tag).add(rule.id);
      withUnknown.add(rule.id);
    }
  }
  return {
    tags: [...carriers]
      .map(([tag, ids]) => ({ tag, rules: ids.size }))
      .sort((a, b) => b.rules - a.rules || a.tag.localeCompare(b.tag)),
    rules: withUnknown.size,
  };
}

/** Every rule of `rules` with the unknown tags it carries. */
export function rulesUnknownTags(rules: DetectionRule[], attack: AttackIndex): UnknownTags {
  return countUnknownTags(
    rules.map((rule) => ({ id: ruleId(rule), unknownTags: unknownAttackTags(rule, attack) })),
  );
}

function ruleNeeds(rule: DetectionRule, pipelines: PipelineSet): LogNeed[] {
  const route = routeFor(pipelines, rule.logsource);
  switch (route.kind) {
    case 'any':
      return [{ kind: 'any' }];
    case 'sources': {
      // Windows sources (and Sysmon for Linux, named by its channel) are collected per channel and
      // event id; the others are a log source, collected as the pipelines say.
      const windowsLike = (source: PipelineSource) => source.channels?.length || source.product === 'windows';
      const needs = route.sources.filter(windowsLike).flatMap((source): LogNeed[] => {
        const eventIds = source.eventIds?.map(Number).filter(Number.isInteger);
        if (!source.channels?.length) return [{ kind: 'windows', eventIds }];
        return source.channels.map((channel, i) => ({
          kind: 'windows',
          channel,
          channelName: source.channelNames?.[i],
          eventIds,
        }));
      });
      const others = route.sources.filter((source) => !windowsLike(source));
      const collect = [
        ...new Set(others.map((source) => source.collect).filter((text) => text !== undefined)),
      ];
      if (others.length) needs.push(logsourceNeed(rule.logsource, collect.join(', or ') || undefined));
      return needs;
    }
    case 'product':
      return route.product === 'windows' ? [{ kind: 'windows' }] : [logsourceNeed(rule.logsource)];
    case 'unclaimed':
      return [logsourceNeed(rule.logsource)];
  }
}
