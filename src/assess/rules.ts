import { resolve, sep } from 'node:path';
import type { AttackIndex } from '../attack/index.js';
import { type RuleFacts, ruleFacts } from '../coverage/index.js';
import {
  type DetectionSetup,
  loadDetectionSetup,
  loadRuleSetup,
  passesRegression,
  regressionCase,
} from '../detect/index.js';
import type { DetectionRule } from '../sigma/index.js';
import { defaultReferencePaths, defaultRulePaths } from './content-inputs.js';
import type { NoticeListener } from './notices.js';

export interface RuleOptions {
  /** The Sigma rules deployed, files or folders (default: the SigmaHQ rules and rules-emerging-threats packs, and Vigil's own). */
  rules?: string[];
  /** Public rules to compare with (default: the SigmaHQ packs of the content folder). */
  reference?: string[];
}

export interface RuleInputs {
  deployed: RuleFacts[];
  reference: RuleFacts[];
  /** Rule id -> title, deployed and reference. */
  ruleTitles: Map<string, string>;
  /** The deployed rules, loaded: a hunt in the same run uses them. */
  deployedSetup: DetectionSetup;
  deployedRules: string[];
}

/**
 * The deployed and reference rules as coverage sees them; deployed rules that cannot be used are
 * told as skipped.
 */
export async function loadRules(
  attack: AttackIndex,
  options: RuleOptions & { content?: string; cache: string },
  tell: NoticeListener,
): Promise<RuleInputs> {
  const deployedRules = options.rules ?? defaultRulePaths(options.content);
  const deployedSetup = await loadDetectionSetup({ rules: deployedRules, ruleCache: options.cache });
  tell({ severity: 'skipped', input: 'rules', problems: deployedSetup.errors });
  // Reference rules only say what could be deployed: the deployed ones need not be read again,
  // and none needs an engine.
  const referencePaths = notWithin(
    options.reference ?? defaultReferencePaths(options.content),
    deployedRules,
  );
  const referenceSetup = referencePaths.length
    ? await loadRuleSetup({ rules: referencePaths, ruleCache: options.cache })
    : undefined;
  // A deployed rule is validated when it fires on its own regression events, run here and now.
  const validated = new Set<DetectionRule>();
  for (const rule of deployedSetup.ruleSet.rules) {
    const test = regressionCase(rule);
    if (test && (await passesRegression(deployedSetup.engine, test))) validated.add(rule);
  }
  const deployed = deployedSetup.ruleSet.rules.map((rule) =>
    ruleFacts(rule, attack, deployedSetup.pipelines, validated.has(rule)),
  );
  const reference = referenceSetup
    ? referenceSetup.ruleSet.rules.map((rule) => ruleFacts(rule, attack, referenceSetup.pipelines, false))
    : [];

  const ruleTitles = new Map<string, string>();
  for (const [list, setup] of [
    [deployed, deployedSetup],
    [reference, referenceSetup],
  ] as const) {
    setup?.ruleSet.rules.forEach((rule, i) => {
      ruleTitles.set(list[i]!.id, rule.title);
    });
  }
  return { deployed, reference, ruleTitles, deployedSetup, deployedRules };
}

/** The paths that are not one of the others or inside one. */
function notWithin(paths: readonly string[], others: readonly string[]): string[] {
  const roots = others.map((other) => resolve(other));
  return paths.filter((path) => {
    const full = resolve(path);
    return !roots.some((root) => full === root || full.startsWith(root + sep));
  });
}
