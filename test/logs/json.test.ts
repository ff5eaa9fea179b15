import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectFiles, type LogEvent, type VigilError } from '../../src/core/index.js';
import { JsonRecordSplitter, readEvents, toLogEvent } from '../../src/logs/index.js';
import { contentPath, hasContent } from '../helpers/content.js';

async function file(name: string, text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-logs-'));
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

async function read(path: string): Promise<{ events: LogEvent[]; errors: VigilError[] }> {
  const events: LogEvent[] = [];
  const errors: VigilError[] = [];
  for await (const event of readEvents(path, { onError: (e) => errors.push(e) })) events.push(event);
  return { events, errors };
}

const WINDOWS = {
  Event: {
    '#attributes': { xmlns: 'http://schemas.microsoft.com/win/2004/08/events/event' },
    System: {
      Provider: {
        '#attributes': { Name: 'Microsoft-Windows-Sysmon', Guid: '5770385F-C22A-43E0-BF4C-06F5698FFBD9' },
      },
      EventID: 1,
      TimeCreated: { '#attributes': { SystemTime: '2021-03-04T05:06:07.123456Z' } },
      EventRecordID: 42,
      Execution: { '#attributes': { ProcessID: 3208, ThreadID: 1724 } },
      Channel: 'Microsoft-Windows-Sysmon/Operational',
      Computer: 'host-1',
      Security: { '#attributes': { UserID: 'S-1-5-18' } },
    },
    EventData: { Image: 'C:\\Windows\\System32\\cmd.exe', ProcessId: 4460, 'Source Name': 'x' },
  },
};

describe('JSON and JSONL logs', () => {
  it('reads concatenated pretty-printed objects (as EVTX-to-JSON dumps write them)', async () => {
    const text = `${JSON.stringify(WINDOWS, null, 2)}\n${JSON.stringify(WINDOWS, null, 2)}${JSON.stringify({ a: '}{"' })}`;
    const { events, errors } = await read(await file('dump.json', text));
    expect(errors).toEqual([]);
    expect(events).toHaveLength(3);
    // Windows events by their EventRecordID, others by position
    expect(events.map((e) => e.source.record)).toEqual([42, 42, 3]);
    expect(events[1]!.source.line).toBe(text.split('\n').findIndex((l, i) => i > 0 && l === '{') + 1);
    expect(events[2]!.fields.a).toBe('}{"');
  });

  it('reads a top-level array and NDJSON', async () => {
    const array = await read(
      await file('a.json', JSON.stringify([{ a: 1 }, { a: 2 }, { a: [3, { b: 4 }] }])),
    );
    expect(array.events.map((e) => e.fields.a)).toEqual([1, 2, [3, { b: 4 }]]);
    const lines = await read(await file('b.jsonl', '{"a":1}\n\n{"a":2}\r\n{"a":3}'));
    expect(lines.events.map((e) => e.fields.a)).toEqual([1, 2, 3]);
  });

  it('reads the records a CloudTrail log file or an Azure diagnostic export wraps, numbered after their wrapper', async () => {
    const trail = await file(
      'trail.json',
      JSON.stringify({ Records: [{ eventName: 'StopLogging' }, { eventName: 'DeleteTrail' }] }, null, 2),
    );
    const { events, errors } = await read(trail);
    expect(errors).toEqual([]);
    expect(events.map((e) => [e.fields.eventName, e.source.record, e.source.line])).toEqual([
      ['StopLogging', 1_000_000, 1],
      ['DeleteTrail', 1_000_001, 1],
    ]);
    const azure = await file('PT1H.json', `${JSON.stringify({ records: [{ category: 'SignInLogs' }] })}\n`);
    expect((await read(azure)).events.map((e) => e.fields.category)).toEqual(['SignInLogs']);
    // An object with other keys besides is one record, as written.
    const other = await file('x.json', JSON.stringify({ Records: [{ a: 1 }], next: null }));
    expect((await read(other)).events).toHaveLength(1);
  });

  it('reports a corrupt record with file, line and record number, and reads the rest', async () => {
    const path = await file('c.jsonl', '{"a":1}\n{"a":\n{"a":3}\n[1,2]\n');
    const { events, errors } = await read(path);
    expect(events.map((e) => e.fields.a)).toEqual([1, 3]);
    expect(errors.map((e) => [e.code, e.location.line, e.location.record])).toEqual([
      ['LOG_RECORD', 2, 2],
      ['LOG_RECORD', 4, 4],
    ]);
    expect(errors[0]!.location.file).toBe(path);
  });

  it('reports a truncated file and garbage between objects', async () => {
    const { events, errors } = await read(await file('t.json', '{"a":1} junk {"a":2} {"a": [1, 2'));
    expect(events.map((e) => e.fields.a)).toEqual([1, 2]);
    expect(errors.map((e) => e.message)).toEqual([
      expect.stringContaining('junk'),
      expect.stringContaining('truncated'),
    ]);
  });

  it('a file without records is reported as empty, once', async () => {
    for (const [name, text, message] of [
      ['e.jsonl', '', 'the file is empty'],
      ['e.json', '', 'the file is empty'],
      ['w.jsonl', '\n \r\n', 'the file holds no records'],
      ['a.json', '[]', 'the file holds no records'],
    ]) {
      const { events, errors } = await read(await file(name!, text!));
      expect(events).toEqual([]);
      expect(errors.map((e) => [e.code, e.message])).toEqual([['LOG_EMPTY', message]]);
    }
    const broken = await read(await file('b.jsonl', '{"a":'));
    expect(broken.errors.map((e) => e.code)).toEqual(['LOG_RECORD']);
  });

  it('a missing file is an error, not a crash', async () => {
    const { events, errors } = await read('/nonexistent/file.json');
    expect(events).toEqual([]);
    expect(errors[0]?.code).toBe('FILE_UNREADABLE');
  });

  it('splits records across chunk boundaries', () => {
    const splitter = new JsonRecordSplitter();
    const text = `${JSON.stringify(WINDOWS)}\n${JSON.stringify({ s: 'a\\"}b' })}`;
    const out = [];
    const bytes = Buffer.from(text);
    for (let i = 0; i < bytes.length; i += 7) out.push(...splitter.feed(bytes.subarray(i, i + 7)));
    expect(out.map((r) => JSON.parse(r.text))).toEqual([WINDOWS, { s: 'a\\"}b' }]);
  });

  it('keeps multi-byte characters whole when a chunk ends inside one', () => {
    const splitter = new JsonRecordSplitter();
    const record = { Product: 'Microsoft® Windows® Operating System', Name: 'éàü 😀' };
    const bytes = Buffer.from(JSON.stringify(record) + JSON.stringify(record));
    const out = [];
    for (let i = 0; i < bytes.length; i++) out.push(...splitter.feed(bytes.subarray(i, i + 1)));
    expect(out.map((r) => JSON.parse(r.text))).toEqual([record, record]);
  });
});

describe('Windows events in JSON become Sigma fields', () => {
  const event = toLogEvent(WINDOWS as never, 'x.json', 1);

  it('System children and attributes', () => {
    expect(event.fields).toMatchObject({
      EventID: 1,
      Channel: 'Microsoft-Windows-Sysmon/Operational',
      Computer: 'host-1',
      Provider_Name: 'Microsoft-Windows-Sysmon',
      Execution_ProcessID: 3208,
      Security_UserID: 'S-1-5-18',
      EventRecordID: 42,
      TimeCreated: '2021-03-04T05:06:07.123456Z',
    });
    expect(event.time).toBe(Date.UTC(2021, 2, 4, 5, 6, 7, 123));
  });

  it('EventData by name, types kept, spaces also removed from names', () => {
    expect(event.fields.Image).toBe('C:\\Windows\\System32\\cmd.exe');
    expect(event.fields.ProcessId).toBe(4460);
    expect(event.fields['Source Name']).toBe('x');
    expect(event.fields.SourceName).toBe('x');
  });

  it('UserData items by name, however deep', () => {
    const wmi = toLogEvent(
      {
        Event: {
          System: { EventID: 5858, Channel: 'Microsoft-Windows-WMI-Activity/Operational' },
          UserData: {
            Operation_ClientFailure: {
              '#attributes': { xmlns: 'x' },
              Id: '{1}',
              ClientMachine: 'WS1',
              Operation: 'Start',
            },
          },
        },
      },
      'x.json',
      1,
    );
    expect(wmi.fields).toMatchObject({ EventID: 5858, Id: '{1}', ClientMachine: 'WS1', Operation: 'Start' });
  });

  it('xmltodict-style Data lists, EventID with Qualifiers, and unnamed Data', () => {
    const ev = toLogEvent(
      {
        Event: {
          System: { EventID: { '#attributes': { Qualifiers: 16384 }, '#text': 7045 }, Channel: 'System' },
          EventData: {
            Data: [
              { '@Name': 'ServiceName', '#text': 'evil' },
              { '#attributes': { Name: 'ImagePath' }, '#text': 'C:\\e.exe' },
            ],
          },
        },
      },
      'x.json',
      1,
    );
    expect(ev.fields).toMatchObject({
      EventID: 7045,
      EventID_Qualifiers: 16384,
      ServiceName: 'evil',
      ImagePath: 'C:\\e.exe',
    });
    const classic = toLogEvent(
      {
        Event: {
          System: { EventID: 400 },
          EventData: { Data: ['Available', 'None', 'HostApplication=powershell'] },
        },
      },
      'x',
      1,
    );
    expect(classic.fields.Data).toEqual(['Available', 'None', 'HostApplication=powershell']);
  });

  it('Winlogbeat documents and generic nested JSON', () => {
    const beat = toLogEvent(
      {
        '@timestamp': '2022-01-01T00:00:00Z',
        winlog: {
          channel: 'Security',
          event_id: '4624',
          computer_name: 'dc1',
          event_data: { LogonType: '3' },
        },
      },
      'x',
      1,
    );
    expect(beat.fields).toMatchObject({
      Channel: 'Security',
      EventID: 4624,
      Computer: 'dc1',
      LogonType: '3',
    });
    expect(beat.time).toBe(Date.UTC(2022, 0, 1));
    const ecs = toLogEvent({ process: { command_line: 'whoami' }, '@timestamp': 1_700_000_000 }, 'x', 1);
    expect(ecs.fields['process.command_line']).toBe('whoami');
    expect(ecs.time).toBe(1_700_000_000_000);
  });
});

describe.skipIf(!hasContent)('SigmaHQ regression events (reference content)', () => {
  it('reads every event of the 202 regression JSON files without error', async () => {
    const { files } = await collectFiles([contentPath('sigma', 'regression_data')], ['.json']);
    expect(files).toHaveLength(202);
    let count = 0;
    const errors: VigilError[] = [];
    for (const path of files) {
      for await (const event of readEvents(path, { onError: (e) => errors.push(e) })) {
        count++;
        expect(event.fields.Channel, path).toBeTypeOf('string');
        expect(event.time, path).toBeTypeOf('number');
      }
    }
    expect(errors).toEqual([]);
    expect(count).toBe(238);
  });
});

describe('Log Analytics rows with dynamic columns as JSON text', () => {
  // A SigninLogs row as Sentinel's query API returns it.
  const row = {
    TenantId: '00000000-0000-0000-0000-000000000001',
    TimeGenerated: '2026-11-02T09:00:00Z',
    UserPrincipalName: 'ana@example.com',
    ResultType: '50126',
    Status: '{"errorCode":50126,"failureReason":"Invalid username or password."}',
    LocationDetails:
      '{"city":"Paris","countryOrRegion":"FR","geoCoordinates":{"latitude":48.8566,"longitude":2.3522}}',
    ConditionalAccessPolicies: '[]',
    UserAgent: '{not json}',
    Type: 'SigninLogs',
  };

  it('reads the columns as the objects they hold, and leaves the raw row as it came', () => {
    const event = toLogEvent(row, 'signinlogs.json', 1);
    expect(event.fields['Status.errorCode']).toBe(50126);
    expect(event.fields['LocationDetails.city']).toBe('Paris');
    expect(event.fields['LocationDetails.geoCoordinates.latitude']).toBe(48.8566);
    expect(event.fields.ConditionalAccessPolicies).toEqual([]);
    expect(event.fields.UserAgent).toBe('{not json}');
    expect(event.raw).toEqual(row);
    expect(event.time).toBe(Date.parse('2026-11-02T09:00:00Z'));
  });

  it('leaves JSON-looking text alone in records that are not Log Analytics rows', () => {
    const { TenantId: _tenant, Type: _type, ...other } = row;
    const event = toLogEvent(other, 'other.json', 1);
    expect(event.fields.LocationDetails).toBe(row.LocationDetails);
    expect(event.fields['LocationDetails.city']).toBeUndefined();
  });
});
