import { describe, expect, it } from 'vitest';
import type { FieldValue } from '../../src/core/index.js';
import { DetectionEngine, referenceResolver } from '../../src/detect/index.js';
import {
  assembleRuleSet,
  builtinPipelines,
  CorrelationEngine,
  type CorrelationResult,
  combinePipelines,
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
      ['failed', 0.5, { User: 'b' }],
      ['failed', 1, { User: 'a' }],
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

  it('correlations that name themselves, directly or through others, are reported and left out', () => {
    const count = (name: string, rules: string) =>
      correlation(
        `    type: event_count\n    rules: [${rules}]\n    timespan: 1h\n    condition: {gte: 2}`,
        name,
      );
    const set = ruleSet(
      count('loop', 'loop, base') +
        count('ping', 'pong') +
        count('pong', 'ping') +
        count('outer', 'base') +
        BASE('base'),
    );
    expect(set.correlations.map((c) => c.name)).toEqual(['outer']);
    expect(set.errors.map((e) => [e.code, e.location.line])).toEqual([
      ['SIGMA_CORRELATION', 1],
      ['SIGMA_CORRELATION', 9],
      ['SIGMA_CORRELATION', 17],
    ]);
    const resolve = referenceResolver(set);
    expect(() => new CorrelationEngine(set.correlations, resolve)).not.toThrow();
  });
});

const MIN = 60;

describe('averages, medians and percentiles are judged on whole windows', () => {
  const make = (type: string, cond: string) =>
    ruleSet(
      correlation(`    type: ${type}\n    rules: [web]\n    timespan: 1h\n    condition:\n${cond}`) +
        BASE('web'),
    );
  const values = (...ns: number[]): Step[] => ns.map((n, i) => ['web', i, { n }]);

  it('value_avg: one large first value does not fire; the order of values in the window does not matter', () => {
    const avg = make('value_avg', '        field: n\n        gt: 500');
    expect(run(avg, values(1000, 10, 10))).toEqual([]);
    expect(run(avg, values(10, 10, 1000))).toEqual([]);
    const fired = run(avg, values(10, 1000, 1000));
    expect(fired.map((r) => [r.at, r.value])).toEqual([[2, 670]]);
    expect(fired[0]!.result.events).toHaveLength(3);
    expect(run(avg, values(1000, 10, 1000)).map((r) => r.value)).toEqual([670]);
  });

  it('value_median and value_percentile: the window as a whole', () => {
    const median = make('value_median', '        field: n\n        gte: 3');
    expect(run(median, values(5, 1, 2))).toEqual([]);
    expect(run(median, values(1, 2, 5))).toEqual([]);
    expect(run(median, values(5, 1, 4)).map((r) => r.value)).toEqual([4]);
    const p90 = make('value_percentile', '        field: n\n        percentile: 90\n        lte: 10');
    // the first value alone is under 10, the window's 90th percentile is not
    expect(run(p90, values(1, 100, 100))).toEqual([]);
    expect(run(p90, values(100, 100, 1))).toEqual([]);
  });

  it('value_sum waits for the window too: a later negative value counts', () => {
    const sum = make('value_sum', '        field: n\n        gt: 500');
    expect(run(sum, values(1000, -900))).toEqual([]);
    expect(run(sum, values(-900, 1000))).toEqual([]);
    expect(run(sum, values(300, 300)).map((r) => [r.at, r.value])).toEqual([[1, 600]]);
  });
});

describe('conditions with an upper bound, over sliding windows', () => {
  const bounded = (cond: string, timespan = '1h') =>
    ruleSet(
      correlation(
        `    type: event_count\n    rules: [failed]\n    group-by: [User]\n    timespan: ${timespan}\n    condition:\n${cond}`,
      ) + BASE('failed'),
    );
  const at = (...minutes: number[]): Step[] => minutes.map((m) => ['failed', m * MIN, { User: 'a' }]);
  const range = bounded('        gte: 3\n        lte: 5');

  it('three events within 40 minutes after an earlier one fire, whatever opened the group', () => {
    const results = run(range, at(0, 45, 70, 85));
    expect(results.map((r) => [r.at / MIN, r.value])).toEqual([[85, 3]]);
    expect(results[0]!.result.firstTime).toBe(45 * MIN * 1000);
    expect(results[0]!.result.events.map((e) => e.time! / 60_000)).toEqual([45, 70, 85]);
  });

  it('a burst above the upper bound does not fire on the windows that hold only part of it', () => {
    expect(run(range, at(0, 1, 2, 3, 4, 5, 6, 7))).toEqual([]);
  });

  it('overlapping windows that share events give one alert, the next needs new events', () => {
    // one event every 15 minutes: every window of an hour holds five
    const steady = at(0, 15, 30, 45, 60, 75, 90, 105, 120, 135, 150);
    const results = run(range, steady);
    expect(results.map((r) => [r.result.firstTime / 60_000, r.at / MIN, r.value])).toEqual([
      [0, 60, 5],
      [75, 135, 5],
    ]);
  });

  it('window edges are inclusive: events exactly a timespan apart share a window', () => {
    const two = bounded('        eq: 2');
    expect(run(two, at(0, 60)).map((r) => r.value)).toEqual([2]);
    expect(run(two, [...at(0), ['failed', 60 * MIN + 0.001, { User: 'a' }]])).toEqual([]);
  });

  it('events with equal timestamps are never split between windows', () => {
    const one = bounded('        eq: 1', '10s');
    expect(run(one, at(0, 0))).toEqual([]);
    expect(run(one, at(0, 0, 1)).map((r) => r.at / MIN)).toEqual([1]);
  });

  it('a missing group-by field is its own group (null) here too', () => {
    const two = bounded('        eq: 2');
    const results = run(two, [
      ['failed', 0, { User: 'a' }],
      ['failed', 1, {}],
      ['failed', 2, { User: null }],
    ]);
    expect(results.map((r) => [r.result.group, r.value])).toEqual([[{ User: null }, 2]]);
  });

  it('fewer than N: judged on each group once its window is over', () => {
    const few = bounded('        lt: 3', '10m');
    const results = run(few, [
      ['failed', 0, { User: 'a' }],
      ['failed', 60, { User: 'b' }],
      ['failed', 120, { User: 'b' }],
      ['failed', 180, { User: 'b' }],
    ]);
    expect(results.map((r) => [r.result.group.User, r.value])).toEqual([['a', 1]]);
  });

  it('state stays bounded: judged windows are dropped', () => {
    const set = bounded('        lt: 3');
    const resolve = referenceResolver(set);
    const engine = new CorrelationEngine(set.correlations, resolve);
    const failed = resolve('failed') as DetectionRule;
    let alerts = 0;
    for (let i = 0; i < 20_000; i++)
      alerts += engine.pushMatch(failed, event({ User: `user${i}` }, i * 1000), i * 1000).length;
    expect(engine.openGroups()).toBeLessThanOrEqual(3601);
    expect(alerts + engine.flush().length).toBe(20_000);
  });
});

describe('count types fire as soon as they hold, equal timestamps together', () => {
  const set = ruleSet(
    correlation(
      '    type: event_count\n    rules: [failed]\n    group-by: [User]\n    timespan: 10s\n    condition:\n        gte: 3',
    ) + BASE('failed'),
  );

  it('matches of the same time are judged together: one alert holds them all', () => {
    const results = run(set, [
      ['failed', 0, { User: 'a' }],
      ['failed', 5, { User: 'a' }],
      ['failed', 5, { User: 'a' }],
      ['failed', 5, { User: 'a' }],
      ['failed', 5, { User: 'a' }],
      ['failed', 6, { User: 'a' }],
      ['failed', 7, { User: 'a' }],
    ]);
    expect(results.map((r) => [r.at, r.value])).toEqual([[5, 5]]);
  });

  it('temporal_ordered: rules of the same time count as in order, whatever order they arrive in', () => {
    const rules = `${BASE('a')}---\n${BASE('b')}---\n${BASE('c')}`;
    const ordered = ruleSet(
      correlation('    type: temporal_ordered\n    rules: [a, b, c]\n    timespan: 5m') + rules,
    );
    expect(
      run(ordered, [
        ['b', 10],
        ['a', 10],
        ['c', 20],
      ]).map((r) => r.at),
    ).toEqual([20]);
  });

  it('a match older than what was already pushed is counted as late and left out', () => {
    const resolve = referenceResolver(set);
    const engine = new CorrelationEngine(set.correlations, resolve);
    const failed = resolve('failed') as DetectionRule;
    for (const seconds of [5, 6, 1, Number.NaN, 7])
      engine.pushMatch(failed, event({ User: 'a' }, seconds * 1000), seconds * 1000);
    expect(engine.late).toBe(2);
    expect(engine.flush().map((r) => r.value)).toEqual([3]);
  });
});

describe('correlations on correlations, in event time', () => {
  const chain = ruleSet(`title: few failures then success
name: outer
correlation:
    type: temporal_ordered
    rules: [few_failed, success]
    group-by: [User]
    timespan: 10m
---
title: a handful of failures
name: few_failed
correlation:
    type: event_count
    rules: [failed]
    group-by: [User]
    timespan: 5m
    condition:
        gte: 3
        lte: 5
---
${BASE('failed')}---
${BASE('success')}`);

  it('an inner result with an upper bound takes the time of the event that completed it', () => {
    const results = run(chain, [
      ['failed', 0, { User: 'bob' }],
      ['failed', 10, { User: 'bob' }],
      ['failed', 20, { User: 'bob' }],
      ['success', 60, { User: 'bob' }],
    ]);
    expect(results.map((r) => [r.name, r.at])).toEqual([
      ['few_failed', 20],
      ['outer', 60],
    ]);
    expect(results[1]!.result.firstTime).toBe(20_000);
  });

  it('a success before the inner window is complete is not after it', () => {
    expect(
      run(chain, [
        ['failed', 0, { User: 'bob' }],
        ['failed', 10, { User: 'bob' }],
        ['success', 15, { User: 'bob' }],
        ['failed', 20, { User: 'bob' }],
      ]).map((r) => r.name),
    ).toEqual(['few_failed']);
  });
});

describe("a pipeline's field names apply to group-by, aliases and condition fields", () => {
  const set = ruleSet(
    correlation(
      '    type: value_count\n    rules: [failed]\n    group-by: [User]\n    timespan: 1h\n    condition:\n        field: SourceIp\n        gte: 2',
    ) + BASE('failed'),
  );
  const fieldmap = new Map([
    ['User', 'user.name'],
    ['SourceIp', 'source.ip'],
  ]);

  function pushAll(target: RuleSet, steps: Step[], map: ReadonlyMap<string, string>): CorrelationResult[] {
    const resolve = referenceResolver(target);
    const engine = new CorrelationEngine(target.correlations, resolve);
    const out: CorrelationResult[] = [];
    for (const [name, seconds, fields] of steps)
      out.push(
        ...engine.pushMatch(
          resolve(name) as DetectionRule,
          event(fields ?? {}, seconds * 1000),
          seconds * 1000,
          map,
        ),
      );
    return [...out, ...engine.flush()];
  }

  it('events of different users are different groups', () => {
    const results = pushAll(
      set,
      [
        ['failed', 0, { 'user.name': 'alice', 'source.ip': '10.0.0.1' }],
        ['failed', 1, { 'user.name': 'bob', 'source.ip': '10.0.0.2' }],
        ['failed', 2, { 'user.name': 'bob', 'source.ip': '10.0.0.3' }],
      ],
      fieldmap,
    );
    expect(results.map((r) => [r.group, r.value])).toEqual([[{ User: 'bob' }, 2]]);
  });

  it('aliases name fields as the rules do, mapped like them', () => {
    const aliased = ruleSet(
      correlation(`    type: temporal
    rules: [logon, connection]
    group-by: [host]
    timespan: 1m
    aliases:
        host:
            logon: Computer
            connection: DestinationHostname`) +
        BASE('logon') +
        '---\n' +
        BASE('connection'),
    );
    const map = new Map([
      ['Computer', 'host.name'],
      ['DestinationHostname', 'destination.domain'],
    ]);
    const results = pushAll(
      aliased,
      [
        ['logon', 0, { 'host.name': 'ws1' }],
        ['connection', 1, { 'destination.domain': 'ws2' }],
        ['connection', 2, { 'destination.domain': 'ws1' }],
      ],
      map,
    );
    expect(results.map((r) => r.group)).toEqual([{ host: 'ws1' }]);
  });
});

describe("a log source's own field names apply to the matches read in it", () => {
  it('process_creation from Sysmon 1 and from Security 4688 group by the same image', async () => {
    const set = ruleSet(`title: one program started twice
correlation:
    type: event_count
    rules: [started]
    group-by: [Image]
    timespan: 1m
    condition:
        gte: 2
---
title: started
name: started
logsource: {category: process_creation, product: windows}
detection:
    selection:
        CommandLine|contains: update
    condition: selection
`);
    const engine = new DetectionEngine(set.rules, combinePipelines(await builtinPipelines()));
    const correlations = new CorrelationEngine(set.correlations, referenceResolver(set));
    const image = 'C:\\Temp\\updater.exe';
    const events: Record<string, FieldValue>[] = [
      { Channel: 'Microsoft-Windows-Sysmon/Operational', EventID: 1, Image: image, CommandLine: 'update' },
      { Channel: 'Security', EventID: 4688, NewProcessName: image, CommandLine: 'update /now' },
    ];
    const results: CorrelationResult[] = [];
    events.forEach((fields, i) => {
      for (const match of engine.evaluate(event(fields, i * 1000)))
        results.push(...correlations.pushMatch(match.rule, match.event, i * 1000, match.fieldmap));
    });
    results.push(...correlations.flush());
    expect(results.map((r) => [r.group, r.value])).toEqual([[{ Image: image }, 2]]);
  });
});

describe('pushing as events arrive gives what one batch gives', () => {
  const set = ruleSet(`title: brute force then success
name: outer
correlation:
    type: temporal_ordered
    rules: [failures, success]
    group-by: [User]
    timespan: 2m
---
title: failures
name: failures
correlation:
    type: event_count
    rules: [failed]
    group-by: [User]
    timespan: 1m
    condition:
        gte: 3
---
title: a handful
name: handful
correlation:
    type: event_count
    rules: [failed]
    group-by: [User]
    timespan: 1m
    condition:
        gte: 2
        lte: 4
---
title: large average
name: average
correlation:
    type: value_avg
    rules: [success]
    group-by: [User]
    timespan: 1m
    condition:
        field: n
        gt: 50
---
title: many hosts
name: hosts
correlation:
    type: value_count
    rules: [failed, success]
    timespan: 30s
    condition:
        field: Host
        gte: 3
---
title: handful then success
name: handful_success
correlation:
    type: temporal_ordered
    rules: [handful, success]
    group-by: [User]
    timespan: 1m
---
${BASE('failed')}---
${BASE('success')}`);

  /** A fixed pseudo-random sequence (so that the test is the same on every run). */
  function steps(count: number, seed: number): Step[] {
    let state = seed;
    const next = () => {
      state = (state * 1103515245 + 12345) % 2147483648;
      return state / 2147483648;
    };
    const out: Step[] = [];
    let seconds = 0;
    for (let i = 0; i < count; i++) {
      if (next() < 0.7) seconds += Math.floor(next() * 20);
      out.push([
        next() < 0.75 ? 'failed' : 'success',
        seconds,
        {
          User: `u${Math.floor(next() * 3)}`,
          Host: `h${Math.floor(next() * 4)}`,
          n: Math.floor(next() * 100),
        },
      ]);
    }
    return out;
  }

  const describeResult = (r: CorrelationResult) =>
    JSON.stringify([r.time, r.rule.name, r.group, r.value, r.firstTime, r.events.map((e) => e.time)]);

  it('the same matches pushed in one batch, or with watermarks in between, give the same results', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const sequence = steps(400, seed);
      const batch = run(set, sequence).map((r) => describeResult(r.result));
      const resolve = referenceResolver(set);
      const engine = new CorrelationEngine(set.correlations, resolve);
      const streamed: CorrelationResult[] = [];
      sequence.forEach(([name, seconds, fields], i) => {
        streamed.push(
          ...engine.pushMatch(
            resolve(name) as DetectionRule,
            event(fields ?? {}, seconds * 1000),
            seconds * 1000,
          ),
        );
        // the next match is no earlier: the time may move on up to it
        const following = sequence[i + 1]?.[1];
        if (following !== undefined && i % 3 === 0) streamed.push(...engine.advance(following * 1000));
      });
      streamed.push(...engine.flush());
      expect(streamed.map(describeResult).sort(), `seed ${seed}`).toEqual(batch.sort());
      expect(batch.length, `seed ${seed}`).toBeGreaterThan(10);
      expect(new Set(batch.map((b) => JSON.parse(b)[1])).size, `seed ${seed}`).toBe(6);
    }
  });

  it('a snapshot taken anywhere, saved as JSON and restored in a new engine, goes on to the same results', () => {
    for (const seed of [6, 7, 8]) {
      const sequence = steps(400, seed);
      const batch = run(set, sequence).map((r) => describeResult(r.result));
      const resolve = referenceResolver(set);
      let engine = new CorrelationEngine(set.correlations, resolve);
      const results: CorrelationResult[] = [];
      sequence.forEach(([name, seconds, fields], i) => {
        results.push(
          ...engine.pushMatch(
            resolve(name) as DetectionRule,
            event(fields ?? {}, seconds * 1000),
            seconds * 1000,
          ),
        );
        if (i % 97 === 50) {
          // A restart: only what the snapshot holds survives.
          const saved = JSON.parse(JSON.stringify(engine.snapshot()));
          engine = new CorrelationEngine(set.correlations, resolve);
          engine.restore(saved);
        }
      });
      results.push(...engine.flush());
      expect(results.map(describeResult).sort(), `seed ${seed}`).toEqual(batch.sort());
    }
  });
});
