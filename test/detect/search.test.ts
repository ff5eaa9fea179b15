import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type SearchHit, type SearchQuery, search } from '../../src/detect/index.js';

const sysmon = (record: number, computer: string, time: string, data: Record<string, unknown>) =>
  JSON.stringify({
    Event: {
      System: {
        EventID: 1,
        EventRecordID: record,
        Channel: 'Microsoft-Windows-Sysmon/Operational',
        Computer: computer,
        TimeCreated: { '#attributes': { SystemTime: time } },
      },
      EventData: data,
    },
  });

async function logs(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'vigil-search-'));
  await writeFile(
    join(root, 'a.jsonl'),
    [
      sysmon(1, 'ws1', '2024-05-01T10:00:00Z', {
        Image: 'C:\\Tools\\MIMIKATZ.exe',
        CommandLine: 'mimikatz "sekurlsa::logonpasswords" exit',
      }),
      sysmon(2, 'ws2', '2024-05-01T11:00:00Z', {
        Image: 'C:\\Windows\\notepad.exe',
        CommandLine: 'notepad x.txt',
      }),
      sysmon(3, 'ws1', '2024-05-02T09:00:00Z', {
        Image: 'C:\\Windows\\cmd.exe',
        CommandLine: 'cmd /c whoami',
      }),
    ].join('\n'),
  );
  await writeFile(
    join(root, 'b.json'),
    JSON.stringify({
      '@timestamp': '2024-05-01T12:00:00Z',
      process: { args: ['rundll32', 'comsvcs.dll,MiniDump'] },
    }),
  );
  return root;
}

async function run(query: Partial<SearchQuery>): Promise<{ hits: SearchHit[]; outOfScope: number }> {
  const root = await logs();
  const hits: SearchHit[] = [];
  const summary = await search([join(root, 'a.jsonl'), join(root, 'b.json')], {
    query: { keywords: [], regexes: [], ...query },
    onHit: (hit) => hits.push(hit),
  });
  return { hits, outOfScope: summary.outOfScope };
}

const records = (hits: SearchHit[]) => hits.map((hit) => `${basename(hit.source.file)}#${hit.source.record}`);

describe('search', () => {
  it('finds a keyword in any field without case, and says where with the event around it', async () => {
    const { hits } = await run({ keywords: ['MimiKatz'] });
    expect(records(hits)).toEqual(['a.jsonl#1']);
    expect(hits[0]).toMatchObject({
      time: '2024-05-01T10:00:00.000Z',
      host: 'ws1',
      channel: 'Microsoft-Windows-Sysmon/Operational',
      eventId: 1,
      matched: { Image: 'C:\\Tools\\MIMIKATZ.exe', CommandLine: 'mimikatz "sekurlsa::logonpasswords" exit' },
      event: { Computer: 'ws1', EventRecordID: 1 },
    });
  });

  it('searches nested values and arrays, and numbers as text', async () => {
    expect(records((await run({ keywords: ['minidump'] })).hits)).toEqual(['b.json#1']);
    expect(records((await run({ regexes: ['^3$'], fields: ['EventRecordID'] })).hits)).toEqual(['a.jsonl#3']);
    expect(records((await run({ keywords: ['comsvcs'], fields: ['process.args'] })).hits)).toEqual([
      'b.json#1',
    ]);
  });

  it('regular expressions are case-sensitive unless asked, and safe on hostile patterns', async () => {
    expect(records((await run({ regexes: ['sekurlsa::\\w+'] })).hits)).toEqual(['a.jsonl#1']);
    expect(records((await run({ regexes: ['SEKURLSA'] })).hits)).toEqual([]);
    expect(records((await run({ regexes: ['SEKURLSA'], ignoreCase: true })).hits)).toEqual(['a.jsonl#1']);
    expect(records((await run({ regexes: ['(a+)+$'], fields: ['CommandLine'] })).hits)).toEqual([]);
    await expect(run({ regexes: ['(?<=a)b'] })).rejects.toMatchObject({ code: 'SEARCH_REGEX' });
  });

  it('--field narrows the fields (names in any case); every term must match unless any', async () => {
    expect(records((await run({ keywords: ['notepad'], fields: ['commandline'] })).hits)).toEqual([
      'a.jsonl#2',
    ]);
    expect(records((await run({ keywords: ['whoami'], fields: ['Image'] })).hits)).toEqual([]);
    expect(records((await run({ keywords: ['cmd', 'whoami'] })).hits)).toEqual(['a.jsonl#3']);
    expect(records((await run({ keywords: ['notepad', 'whoami'] })).hits)).toEqual([]);
    expect(records((await run({ keywords: ['notepad', 'whoami'], any: true })).hits)).toEqual([
      'a.jsonl#2',
      'a.jsonl#3',
    ]);
  });

  it('the time window and hosts leave events out before searching, and are counted', async () => {
    const windowed = await run({
      keywords: ['.exe'],
      scope: { from: Date.parse('2024-05-01T10:30:00Z'), to: Date.parse('2024-05-01T23:59:59Z') },
    });
    expect(records(windowed.hits)).toEqual(['a.jsonl#2']);
    expect(windowed.outOfScope).toBe(2);
    const hosts = await run({ keywords: ['.exe'], scope: { hosts: ['WS1'] } });
    expect(records(hosts.hits)).toEqual(['a.jsonl#1', 'a.jsonl#3']);
    expect(hosts.outOfScope).toBe(2);
  });
});
