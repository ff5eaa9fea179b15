import type { ConditionNode } from './condition.js';
import type { Detection, SearchNode } from './detection.js';
import type { DetectionRule, FilterRule, LogSource } from './rule.js';

/** Whether every log source attribute the filter sets is the rule's too. */
export function filterApplies(filter: FilterRule, rule: DetectionRule): boolean {
  const keys: (keyof LogSource)[] = ['category', 'product', 'service'];
  return keys.every(
    (key) => filter.logsource[key] === undefined || filter.logsource[key] === rule.logsource[key],
  );
}

/**
 * The rule with the filter added: its searches under private names (so `them` and the rule's
 * own patterns never see them) and its condition ANDed to the rule's. As in pySigma, the filter's
 * condition says what must hold for a match to stand, so exclusions are written `not selection`.
 */
export function applyFilter(rule: DetectionRule, filter: FilterRule, ordinal: number): DetectionRule {
  const prefix = `_filter${ordinal}_`;
  const searches = new Map<string, SearchNode>(rule.detection.searches);
  for (const [name, node] of filter.detection.searches) searches.set(prefix + name, node);
  const detection: Detection = {
    searches,
    unresolvedPlaceholders: [
      ...rule.detection.unresolvedPlaceholders,
      ...filter.detection.unresolvedPlaceholders,
    ],
    condition: {
      kind: 'and',
      children: [rule.detection.condition, renameCondition(filter.detection.condition, prefix)],
    },
    conditionText: `(${rule.detection.conditionText}) and (${filter.detection.conditionText})`,
  };
  return { ...rule, detection };
}

function renameCondition(node: ConditionNode, prefix: string): ConditionNode {
  switch (node.kind) {
    case 'ref':
      return { kind: 'ref', name: prefix + node.name };
    case 'of':
      return { ...node, pattern: node.pattern === 'them' ? `${prefix}*` : prefix + node.pattern };
    case 'not':
      return { kind: 'not', child: renameCondition(node.child, prefix) };
    default:
      return { kind: node.kind, children: node.children.map((child) => renameCondition(child, prefix)) };
  }
}
