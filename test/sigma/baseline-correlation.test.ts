import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type FieldValue, type Locate, openGeoDatabase } from '../../src/core/index.js';
import { referenceResolver } from '../../src/detect/index.js';
import {
  assembleRuleSet,
  type BaselineSnapshot,
  CorrelationEngine,
  type CorrelationResult,
  type DetectionRule,
  parseRuleText,
  type RuleSet,
} from '../../src/sigma/index.js';
import { TEST_PLACES, writeCityDatabase } from '../helpers/mmdb.js';
import { seededRandom } from '../helpers/random.js';
import { event, ruleError } from '../helpers/sigma.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 10, 2); // a Monday, 00:00 UTC

const locate: Locate = openGeoDatabase(
  writeCityDatabase(join(mkdtempSync(join(tmpdir(), 'vigil-geo-')), 'city.mmdb'), TEST_PLACES),
);

const BASE = `title: signin
name: signin
logsource: {product: test}
detection:
    selection:
        EventID: 1
    condition: selection
`;

function ruleSet(correlation: string): RuleSet {
  const { rules, errors } = parseRuleText(
    `title: baseline\nname: baseline\ncorrelation:\n${correlation}\n---\n${BASE}`,
    'baseline.yml',
  );
  if (errors.length) throw new Error(errors.map((e) => e.describe()).join('\n'));
  return assembleRuleSet(rules, 1);
}

type Step = [time: number, fields: Record<string, FieldValue>];

function run(set: RuleSet, steps: Step[], options: { locate?: Locate } = { locate }) {
  const resolve = referenceResolver(set);
  const engine = new CorrelationEngine(set.correlations, resolve, options);
  const signin = resolve('signin') as DetectionRule;
  const out: CorrelationResult[] = [];
  for (const [time, fields] of steps) out.push(...engine.pushMatch(signin, event(fields, time), time));
  out.push(...engine.flush());
  return { results: out, engine };
}

describe('velocity', () => {
  const set = ruleSet(`    type: velocity
    rules: signin
    group-by: [user]
    timespan: 1d
    condition:
        field: ip
        gt: 1000`);

  it('fires when the same user signs in from places too far apart for the time between', () => {
    const { results } = run(set, [
      [T0, { user: 'ana', ip: '192.0.2.10' }], // Paris
      [T0 + 2 * HOUR, { user: 'ana', ip: '198.51.100.20' }], // Sydney, 17,000 km later
    ]);
    expect(results).toHaveLength(1);
    const [result] = results;
    expect(result!.group).toEqual({ user: 'ana' });
    expect(result!.firstTime).toBe(T0);
    expect(result!.time).toBe(T0 + 2 * HOUR);
    expect(result!.value).toBeGreaterThan(8000);
    expect(result!.events).toHaveLength(2);
    expect(result!.detail).toMatch(/km from Paris, FR to Sydney, AU in 2 h: [\d,]+ km\/h/);
  });

  it('leaves alone journeys a plane makes, other users, places near each other and old sign-ins', () => {
    const { results } = run(set, [
      [T0, { user: 'ana', ip: '192.0.2.10' }], // Paris
      [T0 + 3 * HOUR, { user: 'ana', ip: '203.0.113.5' }], // Nuremberg, 600 km in 3 h
      [T0 + 3 * HOUR, { user: 'bo', ip: '198.51.100.20' }], // another user in Sydney
      [T0 + 3 * HOUR + 60_000, { user: 'bo', ip: '198.51.100.21' }], // same city again
      [T0 + 3 * DAY, { user: 'ana', ip: '198.51.100.20' }], // Sydney, beyond the timespan
      [T0 + 3 * DAY + HOUR, { user: 'ana', ip: '10.1.2.3' }], // a private address: not placed
    ]);
    expect(results).toEqual([]);
  });

  it('names places given as coordinates by the fields place_name gives, as far as the event fills them', () => {
    const named = ruleSet(`    type: velocity
    rules: signin
    group-by: [user]
    timespan: 1d
    condition:
        field: [lat, lon]
        place_name: [city, country]
        gt: 1000`);
    const { results } = run(named, [
      [T0, { user: 'ana', lat: 48.8566, lon: 2.3522, city: 'Paris', country: 'FR' }],
      [T0 + HOUR, { user: 'ana', lat: -33.8688, lon: 151.2093, country: 'AU' }],
      [T0 + 2 * HOUR, { user: 'ana', lat: 40.7128, lon: -74.006 }],
    ]);
    expect(results.map((r) => r.detail?.replace(/ in .*/, ''))).toEqual([
      '16,961 km from Paris, FR to AU',
      '15,989 km from AU to 40.71, -74.01',
    ]);
  });

  it('subtracts the places accuracy and keeps a minimum distance', () => {
    const near = ruleSet(`    type: velocity
    rules: signin
    group-by: [user]
    timespan: 1d
    condition:
        field: [lat, lon]
        min_distance: 500
        gt: 1000`);
    // 300 km in a minute is fast but under min_distance: geolocation is not that precise.
    const { results } = run(near, [
      [T0, { user: 'ana', lat: 48.85, lon: 2.35 }],
      [T0 + 60_000, { user: 'ana', lat: 50.85, lon: 4.35 }],
      [T0 + 120_000, { user: 'ana', lat: 40.71, lon: -74.0 }],
    ]);
    expect(results.map((r) => r.time)).toEqual([T0 + 120_000]);
    expect(results[0]!.detail).toContain('km from 50.85, 4.35 to 40.71, -74.00');
  });

  it('counts matches it cannot place, and places nothing without a database', () => {
    const steps: Step[] = [
      [T0, { user: 'ana', ip: '192.0.2.10' }],
      [T0 + HOUR, { user: 'ana', ip: '198.51.100.20' }],
    ];
    const { results, engine } = run(set, steps, {});
    expect(results).toEqual([]);
    expect(engine.unplaced()).toEqual([{ rule: set.correlations[0], matches: 2 }]);
  });
});

describe('rare_value', () => {
  const set = ruleSet(`    type: rare_value
    rules: signin
    group-by: [user]
    timespan: 30d
    condition:
        field: ip|country
        history: 5
        eq: 0`);

  const daily = (user: string, ip: string, days: number): Step[] =>
    Array.from({ length: days }, (_, day) => [T0 + day * DAY + 9 * HOUR, { user, ip }] as Step);

  it('fires on a sign-in from a country the user has not signed in from in the timespan', () => {
    const { results } = run(set, [
      ...daily('ana', '192.0.2.10', 10),
      [T0 + 10 * DAY, { user: 'ana', ip: '198.51.100.1' }],
    ]);
    expect(results).toHaveLength(1);
    expect(results[0]!.value).toBe(0);
    expect(results[0]!.detail).toBe("AU: 0 of the group's 10 earlier matches in 30d");
  });

  it('waits for a history, and forgets what the timespan no longer covers', () => {
    const { results } = run(set, [
      ...daily('bo', '192.0.2.10', 3),
      [T0 + 3 * DAY, { user: 'bo', ip: '198.51.100.1' }], // only 3 earlier sign-ins: not judged
      ...daily('bo', '192.0.2.10', 8).map(([t, f]) => [t + 4 * DAY, f] as Step),
      [T0 + 14 * DAY, { user: 'bo', ip: '198.51.100.1' }], // AU seen 11 days ago: known
      [T0 + 60 * DAY, { user: 'bo', ip: '192.0.2.10' }], // baseline gone: too little history
    ]);
    expect(results).toEqual([]);
  });

  it('takes plain fields too (a country the product already gives)', () => {
    const plain = ruleSet(`    type: rare_value
    rules: signin
    group-by: [user]
    timespan: 30d
    condition:
        field: country
        history: 2
        lte: 1`);
    const { results } = run(plain, [
      [T0, { user: 'ana', country: 'FR' }],
      [T0 + HOUR, { user: 'ana', country: 'FR' }],
      [T0 + 2 * HOUR, { user: 'ana', country: 'BR' }],
      [T0 + 3 * HOUR, { user: 'ana', country: 'BR' }],
      [T0 + 4 * HOUR, { user: 'ana', country: 'BR' }],
    ]);
    expect(results.map((r) => r.value)).toEqual([0, 1]);
  });
});

describe('rare_hour', () => {
  const set = ruleSet(`    type: rare_hour
    rules: signin
    group-by: [user]
    timespan: 30d
    condition:
        history: 20
        lt: 5`);

  const officeHours = (user: string): Step[] =>
    Array.from({ length: 20 }, (_, i) => [T0 + i * DAY + (8 + (i % 9)) * HOUR, { user }] as Step);

  it('fires on a logon at an hour the user never logs on at', () => {
    const { results } = run(set, [...officeHours('ana'), [T0 + 20 * DAY + 3 * HOUR, { user: 'ana' }]]);
    expect(results).toHaveLength(1);
    expect(results[0]!.value).toBe(0);
    expect(results[0]!.detail).toBe(
      "03:00 UTC: 0 of the group's 20 earlier matches within an hour of it (0 %)",
    );
  });

  it('leaves alone usual hours, the hour next to them, and users it has not learned yet', () => {
    const { results } = run(set, [
      ...officeHours('ana'),
      [T0 + 20 * DAY + 10 * HOUR, { user: 'ana' }],
      [T0 + 21 * DAY + 7 * HOUR, { user: 'ana' }], // within an hour of 8:00
      [T0 + 21 * DAY + 3 * HOUR, { user: 'new' }],
    ]);
    expect(results).toEqual([]);
  });
});

describe('dormant', () => {
  const set = ruleSet(`    type: dormant
    rules: signin
    group-by: [user]
    timespan: 365d
    condition:
        gte: 30`);

  it('fires on the first sign-in after 30 days or more without one', () => {
    const { results } = run(set, [
      [T0, { user: 'ana' }],
      [T0 + 10 * DAY, { user: 'ana' }],
      [T0 + 55 * DAY, { user: 'ana' }],
      [T0 + 56 * DAY, { user: 'ana' }],
      [T0 + 56 * DAY, { user: 'bo' }],
      [T0 + 500 * DAY, { user: 'bo' }], // beyond the timespan: not remembered
    ]);
    expect(results.map((r) => [r.time, r.value])).toEqual([[T0 + 55 * DAY, 45]]);
    expect(results[0]!.detail).toMatch(/^first match in 45 days \(previous 2026-11-12T00:00:00.000Z\)$/);
  });
});

describe('baseline state across a restart', () => {
  it('a snapshot taken back goes on as if the engine had never stopped', () => {
    const set = ruleSet(`    type: rare_hour
    rules: signin
    group-by: [user]
    timespan: 30d
    condition:
        history: 5
        lt: 10`);
    const resolve = referenceResolver(set);
    const signin = resolve('signin') as DetectionRule;
    const first = new CorrelationEngine(set.correlations, resolve);
    for (let day = 0; day < 6; day++)
      first.pushMatch(signin, event({ user: 'ana' }, T0 + day * DAY + 9 * HOUR), T0 + day * DAY + 9 * HOUR);
    const saved = JSON.parse(JSON.stringify(first.snapshot()));
    const second = new CorrelationEngine(set.correlations, resolve);
    second.restore(saved);
    const late = T0 + 7 * DAY + 2 * HOUR;
    const results = second.pushMatch(signin, event({ user: 'ana' }, late), late);
    expect(results.map((r) => r.value)).toEqual([0]);
  });

  // Accounts that sign in on some days and not others, from a few countries, over three months: a
  // snapshot taken at any point and restored must judge the rest exactly as the engine that went on.
  it('restored from a snapshot at any point, judges the rest as the engine that never stopped', () => {
    const random = seededRandom(7);
    const steps: Step[] = [];
    for (let day = 0; day < 90; day++)
      for (const user of ['ana', 'bo', 'cy'])
        if (random() < 0.6) {
          const ip = random() < 0.9 ? '192.0.2.10' : random() < 0.5 ? '198.51.100.1' : '203.0.113.5';
          steps.push([T0 + day * DAY + Math.floor(random() * 24) * HOUR, { user, ip }]);
        }
    steps.sort((a, b) => a[0] - b[0]);
    const sets = [
      ruleSet(`    type: rare_value
    rules: signin
    group-by: [user]
    timespan: 14d
    condition:
        field: ip|country
        history: 3
        lte: 1`),
      ruleSet(`    type: rare_hour
    rules: signin
    group-by: [user]
    timespan: 10d
    condition:
        history: 4
        lt: 20`),
    ];
    for (const set of sets) {
      const resolve = referenceResolver(set);
      const signin = resolve('signin') as DetectionRule;
      const feed = (engine: CorrelationEngine, part: Step[]) =>
        part.flatMap(([time, fields]) => engine.pushMatch(signin, event(fields, time), time));
      const described = (r: CorrelationResult) => `${r.time} ${r.value} ${r.detail}`;
      const whole = feed(new CorrelationEngine(set.correlations, resolve, { locate }), steps);
      expect(whole.length).toBeGreaterThan(5);
      for (const cut of [1, 40, 77, 120, steps.length - 1]) {
        const before = new CorrelationEngine(set.correlations, resolve, { locate });
        const found = feed(before, steps.slice(0, cut));
        const restored = new CorrelationEngine(set.correlations, resolve, { locate });
        restored.restore(JSON.parse(JSON.stringify(before.snapshot())));
        found.push(...feed(restored, steps.slice(cut)));
        expect(found.map(described)).toEqual(whole.map(described));
      }
    }
  });

  it('saves counts as a first day and a count per day, days without one as minus their number', () => {
    const set = ruleSet(`    type: rare_value
    rules: signin
    group-by: [user]
    timespan: 30d
    condition:
        field: country
        eq: 0`);
    const day0 = Math.floor(T0 / DAY);
    const { engine } = run(set, [
      [T0, { user: 'ana', country: 'FR' }],
      [T0 + HOUR, { user: 'ana', country: 'FR' }],
      [T0 + DAY, { user: 'ana', country: 'FR' }],
      [T0 + 5 * DAY, { user: 'ana', country: 'FR' }],
      [T0 + 5 * DAY + HOUR, { user: 'ana', country: 'DE' }],
    ]);
    const [state] = Object.values(engine.snapshot().states) as BaselineSnapshot[];
    expect(state!.groups[0]!.counts).toEqual({ '=FR': [day0, 2, 1, -3, 1], '=DE': [day0 + 5, 1] });
  });

  it('reads the snapshots earlier versions saved, an object per day', () => {
    const set = ruleSet(`    type: rare_value
    rules: signin
    group-by: [user]
    timespan: 30d
    condition:
        field: country
        history: 3
        eq: 0`);
    const resolve = referenceResolver(set);
    const engine = new CorrelationEngine(set.correlations, resolve);
    const day0 = Math.floor(T0 / DAY);
    const [key] = Object.keys(engine.snapshot().states);
    engine.restore({
      watermark: T0 + 2 * DAY,
      late: 0,
      states: {
        [key!]: {
          kind: 'baseline',
          inputWatermark: T0 + 2 * DAY,
          buffer: [],
          groups: [
            {
              key: '=ana',
              values: { user: 'ana' },
              days: [
                { day: day0, counts: { '=FR': 2 }, total: 2 },
                { day: day0 + 2, counts: { '=FR': 1, '=DE': 1 }, total: 2 },
              ],
            },
          ],
        },
      },
    });
    const signin = resolve('signin') as DetectionRule;
    const at = T0 + 3 * DAY;
    const judged = (country: string) =>
      engine.pushMatch(signin, event({ user: 'ana', country }, at), at).map((r) => r.detail);
    expect(judged('DE')).toEqual([]);
    expect(judged('BR')).toEqual(["BR: 0 of the group's 5 earlier matches in 30d"]);
  });
});

describe('rule checks', () => {
  const rule = (condition: string, type = 'velocity') =>
    `title: x\ncorrelation:\n    type: ${type}\n    rules: a\n    timespan: 1d\n    condition:\n${condition}`;

  it('names what is wrong with a baseline condition', () => {
    expect(ruleError(rule('        gt: 900'))?.message).toMatch(/velocity correlation needs 'field'/);
    expect(ruleError(rule('        field: ip|country\n        gt: 900'))?.message).toMatch(
      /velocity fields take no modifier/,
    );
    expect(ruleError(rule('        field: ip|city\n        eq: 0', 'rare_value'))?.message).toMatch(
      /the only modifier is '\|country'/,
    );
    expect(ruleError(rule('        field: x\n        lt: 5', 'rare_hour'))?.message).toMatch(
      /reads no field/,
    );
    expect(ruleError(rule('        history: 0\n        lt: 5', 'rare_hour'))?.message).toMatch(
      /history must be a whole number/,
    );
    expect(ruleError(rule('        history: 3\n        gte: 30', 'dormant'))?.message).toMatch(
      /unknown condition key 'history'/,
    );
    expect(ruleError(rule('        field: ip|country\n        gte: 3', 'value_count'))?.message).toMatch(
      /for rare_value correlations only/,
    );
    expect(ruleError(rule('        field: ip\n        place_name: city\n        gt: 900'))?.message).toMatch(
      /place_name is for places given as \[latitude, longitude\]/,
    );
    expect(
      ruleError(rule('        field: [lat, lon]\n        place_name: {}\n        gt: 900'))?.message,
    ).toMatch(/place_name must be a field name or a list of them/);
    expect(ruleError(rule('        place_name: city\n        gte: 30', 'dormant'))?.message).toMatch(
      /unknown condition key 'place_name'/,
    );
  });
});
