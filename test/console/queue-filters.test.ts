import { describe, expect, it } from 'vitest';
import { FilterError, parseQueueFilters, queueUrl, storeQuery } from '../../src/console/queue-filters.js';

describe("the queue's filters", () => {
  it('reads the address bar into a store query within the scope given', () => {
    const filters = parseQueueFilters({
      status: ['open', 'acknowledged'],
      level: 'high,critical',
      host: ' web1 ',
      assignee: '-',
      since: '2026-01-31T08:00',
      until: '2026-02-01T08:00:00+02:00',
      sort: 'level',
    });
    expect(storeQuery(filters, 'acme')).toMatchObject({
      tenant: 'acme',
      status: ['open', 'acknowledged'],
      level: ['high', 'critical'],
      host: 'web1',
      assignee: null,
      since: Date.parse('2026-01-31T08:00:00Z'),
      until: Date.parse('2026-02-01T06:00:00Z'),
      sort: 'level',
      limit: 50,
    });
  });

  it('refuses values outside the lists, and times it cannot read, by name', () => {
    expect(() => parseQueueFilters({ status: 'opened' })).toThrow(
      new FilterError('status must be among open, acknowledged, closed'),
    );
    expect(() => parseQueueFilters({ sort: 'random' })).toThrow(FilterError);
    expect(() => parseQueueFilters({ group: 'tenant' })).toThrow('group must be rule or host');
    expect(() => parseQueueFilters({ since: 'yesterday' })).toThrow(/since must be a date and time/);
  });

  it('writes filters back as an address, leaving out defaults and what a change removes', () => {
    const filters = parseQueueFilters({ status: 'open', host: 'a&b', cursor: 'Mw' });
    expect(queueUrl(filters)).toBe('/console/alerts?status=open&host=a%26b&cursor=Mw');
    expect(queueUrl(filters, { cursor: undefined, level: ['high'] })).toBe(
      '/console/alerts?status=open&level=high&host=a%26b',
    );
    expect(queueUrl(parseQueueFilters({}))).toBe('/console/alerts');
  });
});
