import { describe, expect, it } from 'vitest';
import type { LogEvent } from '../../src/core/index.js';
import { eventScopeTest, reportsRule } from '../../src/detect/index.js';

const event = (host: string | undefined, time: number | undefined): LogEvent => ({
  fields: host === undefined ? {} : { Computer: host },
  source: { file: 'x.json', record: 1 },
  time,
});

describe('event scope', () => {
  it('takes every event when nothing is asked', () => {
    expect(eventScopeTest(undefined)).toBeUndefined();
    expect(eventScopeTest({ hosts: [] })).toBeUndefined();
  });

  it('keeps the window with both ends inclusive; an event without a time is out of any window', () => {
    const test = eventScopeTest({ from: 1000, to: 2000 })!;
    expect([999, 1000, 1500, 2000, 2001].map((t) => test(event('a', t)))).toEqual([
      false,
      true,
      true,
      true,
      false,
    ]);
    expect(test(event('a', undefined))).toBe(false);
    expect(eventScopeTest({ from: 1000 })!(event('a', 10 ** 13))).toBe(true);
  });

  it('compares hosts without case, a short name matching its domains, and two full names exactly', () => {
    const short = eventScopeTest({ hosts: ['WS1'] })!;
    expect(['ws1', 'WS1.corp.example', 'ws10', 'ws2.corp.example'].map((h) => short(event(h, 1)))).toEqual([
      true,
      true,
      false,
      false,
    ]);
    const full = eventScopeTest({ hosts: ['ws1.corp.example', 'dc1'] })!;
    expect(
      ['ws1', 'ws1.corp.example', 'ws1.other.example', 'DC1.corp'].map((h) => full(event(h, 1))),
    ).toEqual([true, true, false, true]);
    expect(full(event(undefined, 1))).toBe(false);
  });
});

describe('report scope', () => {
  it('minimum level, exact levels and statuses all hold; a rule without a level is medium', () => {
    const reports = reportsRule({ minLevel: 'low', levels: ['medium', 'critical'] });
    expect(
      [
        { level: 'low' as const },
        { level: 'medium' as const },
        { level: 'high' as const },
        { level: 'critical' as const },
        {},
      ].map(reports),
    ).toEqual([false, true, false, true, true]);
    expect(reportsRule({ minLevel: 'high' })({})).toBe(false);
  });

  it('a status list takes only those statuses; an exclusion list leaves rules without status in', () => {
    const only = reportsRule({ statuses: ['stable', 'test'] });
    expect([{ status: 'stable' }, { status: 'experimental' }, {}].map(only)).toEqual([true, false, false]);
    const usual = reportsRule({ excludeStatuses: ['deprecated', 'unsupported'] });
    expect([{ status: 'deprecated' }, { status: 'unsupported' }, { status: 'test' }, {}].map(usual)).toEqual([
      false,
      false,
      true,
      true,
    ]);
  });
});
