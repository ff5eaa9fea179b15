import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FieldValue, LogEvent } from '../../src/core/index.js';
import {
  compileDetection,
  type DetectionRule,
  MatchContext,
  parseRuleText,
  type SigmaError,
} from '../../src/sigma/index.js';

export function event(fields: Record<string, FieldValue>, time?: number, raw?: FieldValue): LogEvent {
  return { fields, raw, time, source: { file: 'test.json', record: 1 } };
}

export interface RuleTextOptions {
  placeholders?: Record<string, string[]>;
}

/** Parses one rule document; fails the test with the loader's message if it does not load. */
export function rule(yaml: string, options: RuleTextOptions = {}): DetectionRule {
  const { rules, errors } = parseRuleText(yaml, 'test.yml', {
    placeholders: new Map(Object.entries(options.placeholders ?? {})),
  });
  if (errors.length) throw new Error(errors.map((e) => e.describe()).join('\n'));
  const found = rules.find((r) => r.kind === 'detection');
  if (found?.kind !== 'detection') throw new Error('no detection rule in the text');
  return found;
}

/** The first error the loader reports for a rule text (undefined if it loads). */
export function ruleError(yaml: string, options: RuleTextOptions = {}): SigmaError | undefined {
  const { errors } = parseRuleText(yaml, 'test.yml', {
    placeholders: new Map(Object.entries(options.placeholders ?? {})),
  });
  return errors[0];
}

/** A rule from just its detection section (YAML, indented by 4 spaces under `detection:`). */
export function detectionRule(detection: string, options: RuleTextOptions = {}): DetectionRule {
  return rule(`title: t\nlogsource:\n    product: test\ndetection:\n${detection}`, options);
}

/** Which of the events the detection matches. */
export function matches(
  detection: string,
  events: Record<string, FieldValue>[],
  options: RuleTextOptions = {},
): boolean[] {
  const compiled = compileDetection(detectionRule(detection, options).detection);
  return events.map((fields) => compiled.matches(new MatchContext(event(fields))));
}

/** Whether a single field item matches a value: `check("Image|endswith: '\\\\cmd.exe'", {Image: ...})`. */
export function item(
  line: string,
  fields: Record<string, FieldValue>,
  options: RuleTextOptions = {},
): boolean {
  return matches(`    selection:\n        ${line}\n    condition: selection`, [fields], options)[0]!;
}

/**
 * Writes two rules tagged `attack.t1686`, which ATT&CK added in v19: what a team that pins an older
 * ATT&CK than its rules meets. One is tagged with T1059.001 as well.
 */
export function writeNewerAttackRules(dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, id, tags] of [
    ['newer.yml', '0f0e0d0c-0000-4000-8000-000000000001', ['attack.stealth', 'attack.t1686']],
    [
      'both.yml',
      '0f0e0d0c-0000-4000-8000-000000000002',
      ['attack.execution', 'attack.t1059.001', 'attack.t1686'],
    ],
  ] as const) {
    writeFileSync(
      join(dir, name),
      [
        `title: Rule ${name}`,
        `id: ${id}`,
        'status: test',
        'logsource: { product: windows, category: process_creation }',
        "detection: { selection: { Image|endswith: '\\x.exe' }, condition: selection }",
        'level: high',
        `tags: [${tags.join(', ')}]`,
        '',
      ].join('\n'),
    );
  }
}
