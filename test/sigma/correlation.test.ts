import { describe, expect, it } from 'vitest';
import type { FieldValue } from '../../src/core/index.js';
import { referenceResolver } from '../../src/detect/index.js';
import {
  assembleRuleSet,
  CorrelationEngine,
  type CorrelationResult,
  type DetectionRule,
  parseRuleText,
  percentileOf,
  type RuleSet,
} from '../../src/sigma/index.js';
import { event } from '../helpers/sigma.js';

const BASE = (name: string) => `title: ${name}
name: ${name}
logsource: {product: test}
detection:
    selection:
        EventID: 1
    condition: selection
`;

function ruleSet(text: string): RuleSet {
  const { rules, errors } = parseRuleText(text, 'corr.yml');
  if (errors.length) throw new Error(errors.map((e) => e.describe()).join('\n'));
  return assembleRuleSet(rules, 1);
}

type Step = [rule: string, seconds: number, fields?: Record<string, FieldValue>];

/** Feeds matches of the named base rules at the given times; returns [correlation name, time in s, value] per result. */
function run(
  set: RuleSet,
  steps: Step[],
  withFlush = true,
): { name: string; at: number; value: number; result: CorrelationResult }[] {
  const resolve = referenceResolver(set);
  const engine = new CorrelationEngine(set.correlations, resolve);
  const out: CorrelationResult[] = [];
  for (const [name, seconds, fields] of steps) {
    const rule = resolve(name) as DetectionRule;
    out.push(...engine.pushMatch(rule, event(fields ?? {}, seconds * 1000), seconds * 1000));
  }
  if (withFlush) out.push(...engine.flush());
  return out.map((result) => ({
    name: result.rule.name ?? result.rule.title,
    at: result.time / 1000,
    value: result.value,
    result,
  }));
}

const correlation = (body: string, name = 'corr') =>
  `title: ${name}\nname: ${name}\ncorrelation:\n${body}\n---\n`;

describe('event_count', () => {
  const set = ruleSet(
    correlation(
      '    type: event_count\n    rules: [failed]\n    group-by: [User]\n    timespan: 10s\n    condition:\n        gte: 3',
    ) + BASE('failed'),
  );

  it('fires when the count is reached inside the window, once per burst', () => {
    const results = run(set, [
      ['failed', 0, { User: 'a' }],
      ['failed', 1, { User: 'a' }],
      ['failed', 2, { User: 'a' }],
      ['failed', 3, { User: 'a' }],
    ]);
    expect(results.map((r) => [r.at, r.value])).toEqual([[2, 3]]);
    expect(results[0]!.result.group).toEqual({ User: 'a' });
    expect(results[0]!.result.events).toHaveLength(3);
  });

  it('counts each group separately', () => {
    const results = run(set, [
      ['failed', 0, { User: 'a' }],
      ['failed', 1, { User: 'b' }],
      ['failed', 2, { User: 'a' }],
      ['failed', 3, { User: 'b' }],
      ['failed', 4, { User: 'b' }],
    ]);
    expect(results.map((r) => r.result.group.User)).toEqual(['b']);
  });

  it('matches that slid out of the window no longer count', () => {
    const results = run(set, [
      ['failed', 0, { User: 'a' }],
      ['failed', 5, { User: 'a' }],
      ['failed', 11, { User: 'a' }],
      ['failed', 12, { User: 'a' }],
    ]);
    expect(results.map((r) => r.at)).toEqual([12]);
    expect(
      run(set, [
        ['failed', 0, { User: 'a' }],
        ['failed', 10.5, { User: 'a' }],
        ['failed', 21, { User: 'a' }],
      ]),
    ).toEqual([]);
  });

  it('a missing group-by field is its own group (null)', () => {
    const results = run(set, [
      ['failed', 0],
      ['failed', 1],
      ['failed', 2],
    ]);
    expect(results[0]!.result.group).toEqual({ User: null });
  });

  it('upper bounds are judged when the window closes', () => {
    const few = ruleSet(
      correlation(
        '    type: event_count\n    rules: [failed]\n    group-by: [User]\n    timespan: 10s\n    condition:\n        lt: 3',
      ) + BASE('failed'),
    );
    const results = run(few, [
      ['failed', 0, { User: 'a' }],
      ['failed', 1, { User: 'a' }],
      ['failed', 0.5, { User: 'b' }],
      ['failed', 1, { User: 'b' }],
      ['failed', 2, { User: 'b' }],
      ['failed', 30, { User: 'c' }],
    ]);
    expect(results.map((r) => [r.result.group.User, r.value])).toEqual([
      ['a', 2],
      ['c', 1],
    ]);
  });

  it('a range (gt and lte) holds between its bounds', () => {
    const range = ruleSet(
      correlation(
        '    type: event_count\n    rules: [failed]\n    timespan: 1m\n    condition:\n        gt: 1\n        lte: 2',
      ) + BASE('failed'),
    );
    expect(
      run(range, [
        ['failed', 0],
        ['failed', 1],
      ]).map((r) => r.value),
    ).toEqual([2]);
    expect(
      run(range, [
        ['failed', 0],
        ['failed', 1],
        ['failed', 2],
      ]),
    ).toEqual([]);
  });

  it('state stays bounded: expired groups are dropped', () => {
    const resolve = referenceResolver(set);
    const engine = new CorrelationEngine(set.correlations, resolve);
    const failed = resolve('failed') as DetectionRule;
    for (let i = 0; i < 20_000; i++)
      engine.pushMatch(failed, event({ User: `user${i}` }, i * 1000), i * 1000);
    expect(engine.openGroups()).toBeLessThan(2048);
  });
});

describe('value_count', () => {
  const set = ruleSet(
    correlation(
      '    type: value_count\n    rules: [failed]\n    group-by: [ComputerName]\n    timespan: 1h\n    condition:\n        field: User\n        gte: 3',
    ) + BASE('failed'),
  );

  it('counts distinct values of the field per group', () => {
    const results = run(set, [
      ['failed', 0, { ComputerName: 'h', User: 'a' }],
      ['failed', 1, { ComputerName: 'h', User: 'a' }],
      ['failed', 2, { ComputerName: 'h', User: 'b' }],
      ['failed', 3, { ComputerName: 'g', User: 'c' }],
      ['failed', 4, { ComputerName: 'h', User: 'c' }],
    ]);
    expect(results.map((r) => [r.result.group.ComputerName, r.value, r.at])).toEqual([['h', 3, 4]]);
  });
});

describe('temporal and temporal_ordered', () => {
  const rules = `${BASE('a')}---\n${BASE('b')}---\n${BASE('c')}`;
  const temporal = ruleSet(
    correlation('    type: temporal\n    rules: [a, b, c]\n    group-by: [Host]\n    timespan: 5m') + rules,
  );
  const ordered = ruleSet(
    correlation('    type: temporal_ordered\n    rules: [a, b, c]\n    group-by: [Host]\n    timespan: 5m') +
      rules,
  );

  it('temporal: all rules within the window, any order', () => {
    expect(
      run(temporal, [
        ['c', 0, { Host: 'x' }],
        ['a', 10, { Host: 'x' }],
        ['b', 20, { Host: 'x' }],
      ]).map((r) => r.at),
    ).toEqual([20]);
    expect(
      run(temporal, [
        ['c', 0, { Host: 'x' }],
        ['a', 10, { Host: 'y' }],
        ['b', 20, { Host: 'x' }],
      ]),
    ).toEqual([]);
    expect(
      run(temporal, [
        ['c', 0, { Host: 'x' }],
        ['a', 10, { Host: 'x' }],
        ['b', 400, { Host: 'x' }],
      ]),
    ).toEqual([]);
  });

  it('temporal_ordered: the rules in the order written', () => {
    expect(
      run(ordered, [
        ['a', 0, { Host: 'x' }],
        ['b', 10, { Host: 'x' }],
        ['c', 20, { Host: 'x' }],
      ]).map((r) => r.at),
    ).toEqual([20]);
    expect(
      run(ordered, [
        ['c', 0, { Host: 'x' }],
        ['a', 10, { Host: 'x' }],
        ['b', 20, { Host: 'x' }],
      ]),
    ).toEqual([]);
    expect(
      run(ordered, [
        ['b', 0, { Host: 'x' }],
        ['a', 10, { Host: 'x' }],
        ['b', 20, { Host: 'x' }],
        ['c', 30, { Host: 'x' }],
      ]).map((r) => r.at),
    ).toEqual([30]);
  });

  it('a temporal condition can ask for fewer rules', () => {
    const two = ruleSet(
      correlation(
        '    type: temporal\n    rules: [a, b, c]\n    timespan: 5m\n    condition:\n        gte: 2',
      ) + rules,
    );
    expect(
      run(two, [
        ['a', 0],
        ['c', 1],
      ]).map((r) => r.value),
    ).toEqual([2]);
  });
});

describe('value_sum, value_avg, value_percentile, value_median', () => {
  const make = (type: string, cond: string) =>
    ruleSet(
      correlation(
        `    type: ${type}\n    rules: [web]\n    group-by: [SourceIP]\n    timespan: 1h\n    condition:\n${cond}`,
      ) + BASE('web'),
    );

  it('value_sum', () => {
    const set = make('value_sum', '        field: bytes_sent\n        gt: 1000');
    const results = run(set, [
      ['web', 0, { SourceIP: '1', bytes_sent: 600 }],
      ['web', 1, { SourceIP: '1', bytes_sent: '300' }],
      ['web', 2, { SourceIP: '1', bytes_sent: 200 }],
    ]);
    expect(results.map((r) => r.value)).toEqual([1100]);
  });

  it('value_avg', () => {
    const set = make('value_avg', '        field: BytesOut\n        gt: 500');
    expect(
      run(set, [
        ['web', 0, { SourceIP: '1', BytesOut: 100 }],
        ['web', 1, { SourceIP: '1', BytesOut: 1000 }],
      ]).map((r) => r.value),
    ).toEqual([550]);
  });

  it('value_percentile and value_median', () => {
    const p = make('value_percentile', '        field: n\n        percentile: 50\n        gte: 3');
    // medians along the way: 1, 1.5, 2
    expect(
      run(p, [
        ['web', 0, { n: 1 }],
        ['web', 1, { n: 2 }],
        ['web', 2, { n: 5 }],
      ]).map((r) => r.value),
    ).toEqual([]);
    expect(
      run(p, [
        ['web', 0, { n: 1 }],
        ['web', 1, { n: 5 }],
      ]).map((r) => r.value),
    ).toEqual([3]);
    const median = make('value_median', '        field: n\n        gte: 2.5');
    expect(
      run(median, [
        ['web', 0, { n: 1 }],
        ['web', 1, { n: 4 }],
      ]).map((r) => r.value),
    ).toEqual([2.5]);
    expect(percentileOf([1, 2, 3, 4], 95)).toBeCloseTo(3.85);
  });

  it('matches without a numeric value do not count', () => {
    const set = make('value_sum', '        field: b\n        gte: 10');
    expect(
      run(set, [
        ['web', 0, { b: 'x' }],
        ['web', 1, {}],
        ['web', 2, { b: 10 }],
      ]).map((r) => r.value),
    ).toEqual([10]);
  });
});

describe('aliases, chaining and the spec example', () => {
  it('aliases group different fields of different rules', () => {
    const set = ruleSet(
      correlation(`    type: temporal
    rules: [internal_error, new_network_connection]
    group-by: [internal_ip, remote_ip]
    timespan: 10s
    aliases:
        internal_ip:
            internal_error: destination.ip
            new_network_connection: source.ip
        remote_ip:
            internal_error: source.ip
            new_network_connection: destination.ip`) +
        BASE('internal_error') +
        '---\n' +
        BASE('new_network_connection'),
    );
    const results = run(set, [
      ['internal_error', 0, { 'destination.ip': '10.0.0.1', 'source.ip': '1.2.3.4' }],
      ['new_network_connection', 5, { 'source.ip': '10.0.0.1', 'destination.ip': '1.2.3.4' }],
    ]);
    expect(results.map((r) => r.result.group)).toEqual([{ internal_ip: '10.0.0.1', remote_ip: '1.2.3.4' }]);
    expect(
      run(set, [
        ['internal_error', 0, { 'destination.ip': '10.0.0.1', 'source.ip': '1.2.3.4' }],
        ['new_network_connection', 5, { 'source.ip': '10.0.0.9', 'destination.ip': '1.2.3.4' }],
      ]),
    ).toEqual([]);
  });

  it('multiple failed logins followed by a successful login (correlation on a correlation)', () => {
    const set = ruleSet(`title: Correlation - Multiple Failed Logins Followed by Successful Login
id: b180ead8-d58f-40b2-ae54-c8940995b9b6
correlation:
    type: temporal_ordered
    rules:
        - multiple_failed_login
        - successful_login
    group-by:
        - User
    timespan: 10m
level: high
---
title: Multiple failed logons
id: a8418a5a-5fc4-46b5-b23b-6c73beb19d41
name: multiple_failed_login
correlation:
    type: event_count
    rules:
        - failed_login
    group-by:
        - User
    timespan: 10m
    condition:
        gte: 10
---
title: Single failed login
id: 53ba33fd-3a50-4468-a5ef-c583635cfa92
name: failed_login
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID:
            - 529
            - 4625
    condition: selection
---
title: Successful login
id: 4d0a2c83-c62c-4ed4-b475-c7e23a9269b8
name: successful_login
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID:
            - 528
            - 4624
    condition: selection
`);
    const steps: Step[] = [];
    for (let i = 0; i < 10; i++) steps.push(['failed_login', i * 10, { User: 'bob' }]);
    steps.push(['successful_login', 200, { User: 'bob' }]);
    steps.push(['successful_login', 210, { User: 'alice' }]);
    const results = run(set, steps);
    expect(results.map((r) => r.name)).toEqual([
      'multiple_failed_login',
      'Correlation - Multiple Failed Logins Followed by Successful Login',
    ]);
    expect(results[1]!.result.group).toEqual({ User: 'bob' });
    expect(results[1]!.at).toBe(200);
    // nine failures are not enough
    expect(run(set, steps.slice(1)).map((r) => r.name)).toEqual([]);
  });
});

describe('correlation rule validation', () => {
  const bad = (body: string) => parseRuleText(`title: c\ncorrelation:\n${body}\n`, 'c.yml').errors[0];

  it('rejects bad types, timespans and conditions with the place', () => {
    expect(bad('    type: counting\n    rules: [a]\n    timespan: 1h')?.describe()).toMatch(
      /correlation\.type: /,
    );
    expect(
      bad('    type: event_count\n    rules: [a]\n    timespan: 1 hour\n    condition: {gte: 1}')?.message,
    ).toMatch(/timespan/);
    expect(bad('    type: event_count\n    rules: [a]\n    timespan: 1h')?.message).toMatch(
      /needs a condition/,
    );
    expect(
      bad('    type: value_count\n    rules: [a]\n    timespan: 1h\n    condition: {gte: 1}')?.message,
    ).toMatch(/field/);
    expect(
      bad('    type: event_count\n    rules: [a]\n    timespan: 1h\n    condition: {most: 1}')?.message,
    ).toMatch(/unknown condition key/);
    expect(
      bad('    type: event_count\n    rules: [a]\n    timespan: 1h\n    condition: {most: 1}')?.location.line,
    ).toBe(6);
  });

  it('a correlation naming unknown rules is reported and left out', () => {
    const set = ruleSet(
      correlation('    type: event_count\n    rules: [ghost]\n    timespan: 1h\n    condition: {gte: 1}') +
        BASE('real'),
    );
    expect(set.correlations).toHaveLength(0);
    expect(set.errors[0]?.message).toContain("'ghost'");
  });
});
