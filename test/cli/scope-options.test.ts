import { describe, expect, it } from 'vitest';
import { eventScope, parseTimeBound, reportScope } from '../../src/cli/scope-options.js';

const NOW = Date.UTC(2024, 4, 10, 12, 0, 0);

describe('--from and --to', () => {
  it('read dates (a whole day), times in UTC unless an offset is given, and spans back from now', () => {
    expect(parseTimeBound('2024-05-01', '--from', NOW)).toBe(Date.UTC(2024, 4, 1));
    expect(parseTimeBound('2024-05-01', '--to', NOW)).toBe(Date.UTC(2024, 4, 2) - 1);
    expect(parseTimeBound('2024-05-01T10:20:30', '--from', NOW)).toBe(Date.UTC(2024, 4, 1, 10, 20, 30));
    expect(parseTimeBound('2024-05-01 10:20', '--from', NOW)).toBe(Date.UTC(2024, 4, 1, 10, 20));
    expect(parseTimeBound('2024-05-01T10:20:30+02:00', '--from', NOW)).toBe(Date.UTC(2024, 4, 1, 8, 20, 30));
    expect(parseTimeBound('24h', '--from', NOW)).toBe(NOW - 24 * 3600e3);
    expect(parseTimeBound('7d', '--from', NOW)).toBe(NOW - 7 * 86400e3);
    expect(parseTimeBound('30m', '--to', NOW)).toBe(NOW - 30 * 60e3);
  });

  it('refuse what is not a time, a day the calendar lacks, and a window that ends before it starts', () => {
    for (const text of ['yesterday', '2024-02-30', '2024-05-01T25:00', '1714557600', '24 hours', ''])
      expect(() => parseTimeBound(text, '--from', NOW), text).toThrow(/--from takes a date/);
    expect(() => eventScope({ from: '2024-05-02', to: '2024-05-01' }, NOW)).toThrow(/is after --to/);
    expect(eventScope({ host: ['ws1', 'dc1'] }, NOW)).toEqual({ hosts: ['ws1', 'dc1'] });
  });
});

describe('--level and --rule-status', () => {
  it('leave out deprecated and unsupported rules unless statuses are named; all takes every rule', () => {
    expect(reportScope({ minLevel: 'low' })).toEqual({
      minLevel: 'low',
      excludeStatuses: ['deprecated', 'unsupported'],
    });
    expect(reportScope({ minLevel: 'low', ruleStatus: 'ALL' })).toEqual({ minLevel: 'low' });
    expect(reportScope({ minLevel: 'informational', level: 'High, critical', ruleStatus: 'stable' })).toEqual(
      {
        minLevel: 'informational',
        levels: ['high', 'critical'],
        statuses: ['stable'],
      },
    );
    expect(() => reportScope({ minLevel: 'informational', level: ',' })).toThrow(/--level takes/);
  });
});
