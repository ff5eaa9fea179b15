import { describe, expect, it } from 'vitest';
import { assembleRuleSet, compileDetection, MatchContext, parseRuleText } from '../../src/sigma/index.js';
import { event } from '../helpers/sigma.js';

const RULES = `title: Data Compressed - rar.exe
id: 6f3e2987-db24-4c78-a860-b4f4095a7095
logsource:
    category: process_creation
    product: windows
detection:
    selection:
        Image|endswith: '\\rar.exe'
    condition: selection
---
title: Other process rule
id: 11111111-2222-3333-4444-555555555555
name: other_rule
logsource:
    category: process_creation
    product: windows
detection:
    selection:
        Image|endswith: '\\rar.exe'
    condition: selection
---
title: A registry rule
id: 22222222-2222-3333-4444-555555555555
logsource:
    category: registry_set
    product: windows
detection:
    selection:
        Image|endswith: '\\rar.exe'
    condition: selection
`;

function load(filter: string) {
  const { rules, errors } = parseRuleText(`${RULES}---\n${filter}`, 'f.yml');
  expect(errors).toEqual([]);
  return assembleRuleSet(rules, 1);
}

function fires(set: ReturnType<typeof load>, id: string, fields: Record<string, string>): boolean {
  const rule = set.rules.find((r) => r.id === id)!;
  return compileDetection(rule.detection).matches(new MatchContext(event(fields)));
}

const admin = { Image: 'C:\\rar.exe', User: 'adm_joe' };
const user = { Image: 'C:\\rar.exe', User: 'joe' };

describe('Sigma filters (meta filter rules)', () => {
  it('apply to the rules they name: the condition says what must hold for a match to stand', () => {
    const set = load(`title: Filter Administrator account
logsource:
    category: process_creation
    product: windows
filter:
    rules:
        - 6f3e2987-db24-4c78-a860-b4f4095a7095
    selection:
        User|startswith: 'adm_'
    condition: not selection
`);
    expect(fires(set, '6f3e2987-db24-4c78-a860-b4f4095a7095', admin)).toBe(false);
    expect(fires(set, '6f3e2987-db24-4c78-a860-b4f4095a7095', user)).toBe(true);
    expect(fires(set, '11111111-2222-3333-4444-555555555555', admin)).toBe(true);
    expect(set.filters).toHaveLength(1);
  });

  it('rules may be named by name; filter identifiers never leak into the rule', () => {
    const set = load(`title: F
logsource: {product: windows}
filter:
    rules: [other_rule]
    selection:
        User: joe
    condition: not 1 of them
`);
    expect(fires(set, '11111111-2222-3333-4444-555555555555', user)).toBe(false);
    expect(fires(set, '11111111-2222-3333-4444-555555555555', admin)).toBe(true);
    const rule = set.rules.find((r) => r.id === '11111111-2222-3333-4444-555555555555')!;
    expect([...rule.detection.searches.keys()]).toEqual(['selection', '_filter1_selection']);
  });

  it('without rules, a filter applies to every rule of a matching log source', () => {
    const set = load(`title: F
logsource: {category: process_creation, product: windows}
filter:
    selection:
        User|startswith: 'adm_'
    condition: not selection
`);
    expect(fires(set, '6f3e2987-db24-4c78-a860-b4f4095a7095', admin)).toBe(false);
    expect(fires(set, '11111111-2222-3333-4444-555555555555', admin)).toBe(false);
    expect(fires(set, '22222222-2222-3333-4444-555555555555', admin)).toBe(true);
  });

  it('a rule whose log source does not match is left alone, and unknown rule names are warned about', () => {
    const set = load(`title: F
logsource: {category: registry_set, product: windows}
filter:
    rules: [6f3e2987-db24-4c78-a860-b4f4095a7095, no_such_rule]
    selection:
        User|startswith: 'adm_'
    condition: not selection
`);
    expect(fires(set, '6f3e2987-db24-4c78-a860-b4f4095a7095', admin)).toBe(true);
    expect(set.warnings.some((w) => w.message.includes('no_such_rule'))).toBe(true);
  });

  it('a broken filter is reported with its line', () => {
    const { errors } = parseRuleText(
      'title: F\nlogsource: {product: windows}\nfilter:\n    rules: [x]\n    selection:\n        User: a\n    condition: not nothing\n',
      'f.yml',
    );
    expect(errors[0]?.code).toBe('SIGMA_CONDITION');
    expect(errors[0]?.location.line).toBe(7);
  });
});
