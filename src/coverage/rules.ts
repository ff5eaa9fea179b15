import type { AttackIndex } from '../attack/index.js';
import type { DetectionRule, Level, PipelineSet, Status } from '../sigma/index.js';
import { attackTags, routeFor } from '../sigma/index.js';
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
  const unknownTags: string[] = [];
  for (const id of attackTags(rule.tags).techniques) {
    const resolved = attack.resolveTechnique(id);
    if (resolved.length === 0) unknownTags.push(`attack.${id.toLowerCase()}`);
    for (const { technique } of resolved) techniques.add(technique.id);
  }
  return {
    id: rule.id ?? `${rule.origin.file}#${rule.origin.document}`,
    title: rule.title,
    level: rule.level ?? 'medium',
    status: rule.status,
    file: rule.origin.file,
    techniques: [...techniques],
    unknownTags,
    needs: ruleNeeds(rule, pipelines),
    validated,
  };
}

function ruleNeeds(rule: DetectionRule, pipelines: PipelineSet): LogNeed[] {
  const route = routeFor(pipelines, rule.logsource);
  switch (route.kind) {
    case 'any':
      return [{ kind: 'any' }];
    case 'sources':
      return route.sources.flatMap((source): LogNeed[] => {
        const eventIds = source.eventIds?.map(Number).filter(Number.isInteger);
        if (!source.channels?.length) return [{ kind: 'windows', eventIds }];
        return source.channels.map((channel, i) => ({
          kind: 'windows',
          channel,
          channelName: source.channelNames?.[i],
          eventIds,
        }));
      });
    case 'product':
      return route.product === 'windows' ? [{ kind: 'windows' }] : [logsourceNeed(rule.logsource)];
    case 'unclaimed':
      return [logsourceNeed(rule.logsource)];
  }
}
