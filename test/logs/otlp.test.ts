import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { JsonLogsSerializer, ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { describe, expect, it } from 'vitest';
import type { LogEvent } from '../../src/core/index.js';
import {
  decodeOtlpLogs,
  decodeOtlpLogsJson,
  decodeOtlpLogsProtobuf,
  OtlpError,
  readEvtxEvents,
  toLogEvent,
} from '../../src/logs/index.js';
import { compileDetection, MatchContext, parseRuleText } from '../../src/sigma/index.js';
import { contentPath, hasContent } from '../helpers/content.js';
import { encode, type ProtoField } from '../helpers/protobuf.js';

type Readable = Parameters<typeof ProtobufLogsSerializer.serializeRequest>[0][number];

/** A log record as the OpenTelemetry JS SDK hands it to its exporters. */
function sdkRecord(body: unknown, extra: Partial<Record<string, unknown>> = {}): Readable {
  return {
    hrTime: [1_700_000_000, 123_456_789],
    hrTimeObserved: [1_700_000_005, 0],
    severityNumber: 9,
    severityText: 'INFO',
    body,
    attributes: { 'log.file.name': 'app.log', 'http.status': 503 },
    droppedAttributesCount: 0,
    resource: { attributes: { 'host.name': 'ws-17', 'service.name': 'agent' } },
    instrumentationScope: { name: 'vigil.test', version: '2.1' },
    spanContext: { traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', traceFlags: 1 },
    ...extra,
  } as unknown as Readable;
}

const viaProtobuf = (records: Readable[]) =>
  decodeOtlpLogsProtobuf(ProtobufLogsSerializer.serializeRequest(records)!);
const viaJson = (records: Readable[]) => decodeOtlpLogsJson(JsonLogsSerializer.serializeRequest(records)!);

const plain = (event: LogEvent) => ({ fields: { ...event.fields }, time: event.time });

function rejection(run: () => unknown): OtlpError {
  try {
    run();
  } catch (error) {
    if (error instanceof OtlpError) return error;
    throw error;
  }
  throw new Error('expected an OtlpError');
}

describe('OTLP logs from the OpenTelemetry SDK serializers', () => {
  it('gives one event per record with body, attributes, resource, scope, severity, ids and time', () => {
    const records = [
      sdkRecord('Disk /var is 91% full'),
      sdkRecord({ user: 'eve', nested: { depth: 2 }, list: ['a', 1], raw: new Uint8Array([1, 2, 3]) }),
    ];
    for (const decoded of [viaProtobuf(records), viaJson(records)]) {
      expect(decoded.rejected).toEqual([]);
      expect(decoded.events).toHaveLength(2);
      const [text, map] = decoded.events;
      expect(text!.time).toBe(1_700_000_000_123);
      expect(text!.source).toEqual({ file: 'otlp', record: 1 });
      expect({ ...text!.fields }).toEqual({
        message: 'Disk /var is 91% full',
        severityText: 'INFO',
        severityNumber: 9,
        traceId: '5b8efff798038103d269b633813fc60c',
        spanId: 'eee19b7ec3c1b174',
        'log.file.name': 'app.log',
        'http.status': 503,
        'host.name': 'ws-17',
        'service.name': 'agent',
        'scope.name': 'vigil.test',
        'scope.version': '2.1',
      });
      expect({ ...map!.fields }).toMatchObject({
        user: 'eve',
        'nested.depth': 2,
        list: ['a', 1],
        raw: 'AQID',
        'host.name': 'ws-17',
      });
      expect(map!.raw).toMatchObject({ user: 'eve' });
    }
  });

  it('reads JSON and protobuf of the same records into the same events', () => {
    const records = [
      sdkRecord({ n: -5, big: 2 ** 40, d: 1.5, t: true, empty: {} }),
      sdkRecord('{"Event":{"System":{"EventID":4625,"Channel":"Security","Computer":"dc1"}}}'),
      sdkRecord(42, { hrTime: [0, 0] }),
    ];
    expect(viaJson(records).events.map(plain)).toEqual(viaProtobuf(records).events.map(plain));
  });

  it('takes the time from timeUnixNano, else the body, else observedTimeUnixNano', () => {
    const [known, fromBody, observed] = viaProtobuf([
      sdkRecord('x'),
      sdkRecord({ '@timestamp': '2024-01-02T03:04:05Z' }, { hrTime: [0, 0] }),
      sdkRecord('x', { hrTime: [0, 0] }),
    ]).events;
    expect(known!.time).toBe(1_700_000_000_123);
    expect(fromBody!.time).toBe(Date.UTC(2024, 0, 2, 3, 4, 5));
    expect(observed!.time).toBe(1_700_000_005_000);
  });

  it('reads a Windows event in XML (the Collector with raw: true) as its EVTX form', () => {
    const xml =
      '<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System>' +
      '<Provider Name="Microsoft-Windows-Security-Auditing" Guid="{54849625-5478-4994-a5ba-3e3b0328c30d}"/>' +
      '<EventID>4625</EventID><Version>0</Version><Level>0</Level><Task>12544</Task>' +
      '<TimeCreated SystemTime="2024-02-03T04:05:06.7890123Z"/><EventRecordID>77</EventRecordID>' +
      '<Correlation/><Execution ProcessID="640" ThreadID="700"/><Channel>Security</Channel>' +
      '<Computer>dc1.corp</Computer><Security/></System><EventData>' +
      '<Data Name="TargetUserName">admin</Data><Data Name="IpAddress">203.0.113.9</Data>' +
      '<Data Name="ProcessName">C:\\Windows\\System32\\svchost.exe</Data><Data Name="Note">a &amp; b &lt;c&gt;</Data>' +
      '</EventData></Event>';
    const [event] = viaProtobuf([sdkRecord(xml, { hrTime: [0, 0] })]).events;
    expect(event!.fields).toMatchObject({
      EventID: 4625,
      Channel: 'Security',
      Computer: 'dc1.corp',
      Provider_Name: 'Microsoft-Windows-Security-Auditing',
      EventRecordID: 77,
      Execution_ProcessID: 640,
      TargetUserName: 'admin',
      IpAddress: '203.0.113.9',
      ProcessName: 'C:\\Windows\\System32\\svchost.exe',
      Note: 'a & b <c>',
    });
    expect(event!.time).toBe(Date.UTC(2024, 1, 3, 4, 5, 6, 789));
  });

  it('reads a Windows event sent as JSON text or as a CEF line into their fields', () => {
    const windows = {
      Event: {
        System: {
          Provider: { '#attributes': { Name: 'Microsoft-Windows-Security-Auditing' } },
          EventID: 4625,
          Channel: 'Security',
          Computer: 'dc1.corp',
          TimeCreated: { '#attributes': { SystemTime: '2024-02-03T04:05:06.789Z' } },
        },
        EventData: { TargetUserName: 'admin', IpAddress: '203.0.113.9', LogonType: 3 },
      },
    };
    const [event, cef] = viaProtobuf([
      sdkRecord(JSON.stringify(windows), { hrTime: [0, 0] }),
      sdkRecord('CEF:0|Vendor|IDS|1.0|42|Port scan|8|src=203.0.113.9 act=blocked'),
    ]).events;
    const expected = toLogEvent(windows, 'otlp', 1);
    expect(event!.fields).toMatchObject({ ...expected.fields, 'host.name': 'ws-17' });
    expect(event!.fields.EventID).toBe(4625);
    expect(event!.time).toBe(Date.UTC(2024, 1, 3, 4, 5, 6, 789));
    expect(cef!.fields).toMatchObject({
      DeviceProduct: 'IDS',
      Severity: 8,
      src: '203.0.113.9',
      act: 'blocked',
    });
  });
});

/** The body the OpenTelemetry Collector's windowseventlog receiver sends for an event (current form). */
function collectorBody(event: LogEvent, form: 'map' | 'data-list'): Record<string, unknown> {
  const f = event.fields;
  const system = new Set([
    'EventID',
    'Channel',
    'Computer',
    'Provider_Name',
    'Provider_Guid',
    'EventRecordID',
    'TimeCreated',
    'TimeCreated_SystemTime',
    'Level',
    'Task',
    'Opcode',
    'Keywords',
    'Version',
    'Execution_ProcessID',
    'Execution_ThreadID',
    'Security_UserID',
    'Correlation_ActivityID',
    'Correlation_RelatedActivityID',
    'EventID_Qualifiers',
    'Provider_EventSourceName',
  ]);
  const data = Object.entries(f).filter(([name]) => !system.has(name));
  const eventData =
    form === 'map'
      ? Object.fromEntries(data.map(([k, v]) => [k, String(v)]))
      : { data: data.map(([k, v]) => ({ [k]: String(v) })) };
  return {
    channel: f.Channel,
    computer: f.Computer,
    event_id: { id: f.EventID, qualifiers: 0 },
    provider: { name: f.Provider_Name, guid: f.Provider_Guid, event_source: '' },
    record_id: f.EventRecordID,
    system_time: f.TimeCreated,
    version: f.Version,
    level: 'Information',
    task: String(f.Task),
    opcode: 'Info',
    keywords: ['0x8000000000000000'],
    message: 'Process Create: …',
    event_data: eventData,
    execution: { process_id: f.Execution_ProcessID, thread_id: f.Execution_ThreadID },
    security: { user_id: f.Security_UserID },
  };
}

describe.skipIf(!hasContent)('Windows events shipped by the OpenTelemetry Collector', () => {
  const sample = () =>
    contentPath(
      '..',
      'datasets',
      'evtx-attack-samples',
      'Credential Access',
      'sysmon_10_1_memdump_comsvcs_minidump.evtx',
    );

  it("get the EVTX reader's Sigma field names and the same SigmaHQ detections", async () => {
    const evtx: LogEvent[] = [];
    for await (const event of readEvtxEvents(sample())) evtx.push(event);
    expect(evtx.length).toBeGreaterThan(0);
    const rulesDir = contentPath('sigma', 'rules', 'windows', 'process_creation');
    const detections = readdirSync(rulesDir)
      .filter((name) => name.endsWith('.yml'))
      .flatMap((name) => parseRuleText(readFileSync(join(rulesDir, name), 'utf8'), name).rules)
      .flatMap((rule) =>
        rule.kind === 'detection' ? [{ id: rule.id, matcher: compileDetection(rule.detection) }] : [],
      );
    const fired = (events: LogEvent[]) =>
      events.map((event) =>
        detections.filter((d) => d.matcher.matches(new MatchContext(event))).map((d) => d.id),
      );

    for (const form of ['map', 'data-list'] as const) {
      const decoded = viaProtobuf(
        evtx.map((event) => sdkRecord(collectorBody(event, form), { hrTime: [0, 0] })),
      );
      expect(decoded.rejected).toEqual([]);
      expect(decoded.events).toHaveLength(evtx.length);
      decoded.events.forEach((event, i) => {
        const original = evtx[i]!.fields;
        for (const name of [
          'EventID',
          'Channel',
          'Computer',
          'Provider_Name',
          'EventRecordID',
          'Task',
          'Keywords',
        ]) {
          expect(event.fields[name], name).toEqual(original[name]);
        }
        // Level and Opcode came rendered ('Information'), not as the numbers rules expect.
        const missing = Object.keys(original).filter(
          (name) => !(name in event.fields) && original[name] !== null,
        );
        expect(missing.sort()).toEqual(['Level', 'Opcode']);
        expect(event.time).toBe(evtx[i]!.time);
      });
      const expected = fired(evtx);
      expect(expected.flat()).toContain('646ea171-dded-4578-8a4d-65e9822892e3'); // Process Memory Dump Via Comsvcs.DLL
      expect(fired(decoded.events)).toEqual(expected);
    }
  });
});

describe('malformed OTLP/JSON', () => {
  const record = (extra: object) => ({
    timeUnixNano: '1700000000000000000',
    body: { stringValue: 'ok' },
    ...extra,
  });
  const request = (records: unknown[]) => ({
    resourceLogs: [{ scopeLogs: [{ logRecords: [record({})] }, { logRecords: records }] }],
  });

  it('rejects a bad record with its path and reads the others', () => {
    const decoded = decodeOtlpLogsJson(
      JSON.stringify(
        request([
          record({}),
          record({ body: { kvlistValue: { values: [{ key: 'a', value: { intValue: 'x1' } }] } } }),
          record({ traceId: 'not-hex' }),
          record({ attributes: [{ key: 'k', value: { arrayValue: { values: [{ boolValue: 'yes' }] } } }] }),
          'not a record',
        ]),
      ),
    );
    expect(decoded.events).toHaveLength(2);
    expect(decoded.events.map((e) => e.source.record)).toEqual([1, 2]);
    expect(decoded.rejected.map((e) => [e.code, e.location.field])).toEqual([
      ['OTLP_RECORD', 'resourceLogs[0].scopeLogs[1].logRecords[1].body.kvlistValue.values[0].value.intValue'],
      ['OTLP_RECORD', 'resourceLogs[0].scopeLogs[1].logRecords[2].traceId'],
      [
        'OTLP_RECORD',
        'resourceLogs[0].scopeLogs[1].logRecords[3].attributes[0].value.arrayValue.values[0].boolValue',
      ],
      ['OTLP_RECORD', 'resourceLogs[0].scopeLogs[1].logRecords[4]'],
    ]);
  });

  it('refuses a request that is not JSON, or whose shape is wrong above the records, with the path', () => {
    expect(rejection(() => decodeOtlpLogsJson('{"resourceLogs": [')).code).toBe('OTLP_REQUEST');
    expect(rejection(() => decodeOtlpLogsJson('[]')).code).toBe('OTLP_REQUEST');
    const scope = rejection(() =>
      decodeOtlpLogsJson(JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: {} }] }] })),
    );
    expect(scope.location.field).toBe('resourceLogs[0].scopeLogs[0].logRecords');
    const resource = rejection(() =>
      decodeOtlpLogsJson(JSON.stringify({ resourceLogs: [{ resource: { attributes: [{ key: 1 }] } }] })),
    );
    expect(resource.location.field).toBe('resourceLogs[0].resource.attributes[0].key');
    expect(rejection(() => decodeOtlpLogsJson('{"resource_logs":[]}')).message).toMatch(/lowerCamelCase/);
  });

  it('takes what the proto3 JSON mapping allows: numbers for int64, NaN, unknown keys, legacy scopes', () => {
    const decoded = decodeOtlpLogsJson(
      JSON.stringify({
        resourceLogs: [
          {
            futureField: { anything: true },
            instrumentationLibraryLogs: [
              {
                instrumentationLibrary: { name: 'old-lib' },
                logRecords: [
                  {
                    timeUnixNano: 1_700_000_000_000_000_000,
                    traceId: '5B8EFFF798038103D269B633813FC60C',
                    body: {
                      kvlistValue: {
                        values: [
                          { key: 'a', value: { intValue: 7 } },
                          { key: 'b', value: { intValue: '-9223372036854775808' } },
                          { key: 'c', value: { doubleValue: 'NaN' } },
                          { key: 'd', value: {} },
                        ],
                      },
                    },
                  },
                ],
              },
            ],
          },
        ],
      }),
    );
    expect(decoded.rejected).toEqual([]);
    expect({ ...decoded.events[0]!.fields }).toMatchObject({
      a: 7,
      b: '-9223372036854775808',
      c: 'NaN',
      d: null,
      traceId: '5b8efff798038103d269b633813fc60c',
      'scope.name': 'old-lib',
    });
    expect(decoded.events[0]!.time).toBe(1_700_000_000_000);
  });
});

describe('OTLP/protobuf built by hand', () => {
  const anyString = (text: string): ProtoField[] => [[1, 'bytes', text]];
  const keyValue = (key: string, value: ProtoField[]): ProtoField[] => [
    [1, 'bytes', key],
    [2, 'message', value],
  ];
  const logRecord = (extra: ProtoField[] = []): ProtoField[] => [
    [1, 'fixed64', 1_700_000_000_000_000_000n],
    [5, 'message', anyString('hello')],
    ...extra,
  ];
  const requestOf = (resourceLogs: ProtoField[]) => encode([[1, 'message', resourceLogs]]);

  it('reads int64 at both ends, doubles, bytes, unknown fields, and a resource after its scopes', () => {
    const body: ProtoField[] = [
      [
        6,
        'message',
        [
          [1, 'message', keyValue('max', [[3, 'varint', 9_223_372_036_854_775_807n]])],
          [1, 'message', keyValue('neg', [[3, 'varint', -42n]])],
          [1, 'message', keyValue('safe', [[3, 'varint', 2n ** 53n - 1n]])],
          [1, 'message', keyValue('inf', [[4, 'double', Number.POSITIVE_INFINITY]])],
          [1, 'message', keyValue('bin', [[7, 'bytes', new Uint8Array([0xde, 0xad])]])],
          [1, 'message', keyValue('flag', [[2, 'varint', 1]])],
          [1, 'message', [[99, 'varint', 5], ...keyValue('unknown-inside', anyString('kept'))]],
        ],
      ],
    ];
    const bytes = requestOf([
      [
        2,
        'message',
        [
          [
            2,
            'message',
            [
              [5, 'message', body],
              [77, 'bytes', 'ignored'],
              [11, 'fixed64', 0n],
            ],
          ],
        ],
      ],
      [1, 'message', [[1, 'message', keyValue('host.name', anyString('late-host'))]]],
      [
        1000,
        'message',
        [
          [1, 'message', [[1, 'bytes', 'legacy']]],
          [2, 'message', logRecord()],
        ],
      ],
    ]);
    const decoded = decodeOtlpLogsProtobuf(bytes);
    expect(decoded.rejected).toEqual([]);
    expect({ ...decoded.events[0]!.fields }).toEqual({
      max: '9223372036854775807',
      neg: -42,
      safe: 2 ** 53 - 1,
      inf: 'Infinity',
      bin: '3q0=',
      flag: true,
      'unknown-inside': 'kept',
      'host.name': 'late-host',
    });
    expect(decoded.events[0]!.time).toBeUndefined();
    expect({ ...decoded.events[1]!.fields }).toMatchObject({ message: 'hello', 'scope.name': 'legacy' });
    expect(decoded.events[1]!.time).toBe(1_700_000_000_000);
  });

  it('converts nanoseconds to milliseconds exactly near the top of fixed64', () => {
    const nanos = 18_446_744_073_709_551_615n;
    const decoded = decodeOtlpLogsProtobuf(
      requestOf([[2, 'message', [[2, 'message', [[1, 'fixed64', nanos]]]]]]),
    );
    expect(decoded.events[0]!.time).toBe(Number(nanos / 1_000_000n));
  });

  it('rejects a damaged record on its own and says where', () => {
    const bytes = requestOf([
      [
        2,
        'message',
        [
          [2, 'message', logRecord()],
          [2, 'message', logRecord([[9, 'bytes', new Uint8Array([1, 2, 3])]])],
          [2, 'raw', 2, Buffer.from([0x03, 0x2a, 0x05, 0x0a])], // body claims 5 bytes, has 1
          [2, 'message', logRecord([[2, 'bytes', 'severity with the wrong wire type']])],
          [
            2,
            'message',
            logRecord([
              [
                5,
                'message',
                [[6, 'message', [[1, 'message', [[2, 'message', [[3, 'raw', 0, Buffer.from([0xff])]]]]]]]],
              ],
            ]),
          ],
          [2, 'message', logRecord()],
        ],
      ],
    ]);
    const decoded = decodeOtlpLogsProtobuf(bytes);
    expect(decoded.events.map((e) => e.source.record)).toEqual([1, 6]);
    expect(decoded.rejected.map((e) => [e.code, e.location.field, e.message])).toEqual([
      [
        'OTLP_RECORD',
        'resourceLogs[0].scopeLogs[0].logRecords[1].traceId',
        'traceId must be 16 bytes, not 3',
      ],
      [
        'OTLP_RECORD',
        'resourceLogs[0].scopeLogs[0].logRecords[2]',
        'a protobuf length runs past the end of its message',
      ],
      ['OTLP_RECORD', 'resourceLogs[0].scopeLogs[0].logRecords[3]', 'severityNumber has wire type 2, not 0'],
      [
        'OTLP_RECORD',
        'resourceLogs[0].scopeLogs[0].logRecords[4].body.kvlistValue.values[0].value',
        'the protobuf data ends inside a number',
      ],
    ]);
  });

  it('refuses a request whose structure above the records is damaged, and nests no deeper than 64', () => {
    const good = requestOf([[2, 'message', [[2, 'message', logRecord()]]]]);
    const cut = rejection(() => decodeOtlpLogsProtobuf(good.subarray(0, good.length - 3)));
    expect(cut.code).toBe('OTLP_REQUEST');
    const scope = rejection(() =>
      decodeOtlpLogsProtobuf(
        requestOf([[2, 'message', [[1, 'message', [[1, 'raw', 0, Buffer.from([1])]]]]]]),
      ),
    );
    expect(scope.location.field).toBe('resourceLogs[0].scopeLogs[0].scope');
    expect(rejection(() => decodeOtlpLogsProtobuf(Buffer.from([0x0b]))).message).toMatch(/wire type 3/);
    let deep: ProtoField[] = anyString('bottom');
    for (let i = 0; i < 100; i++) deep = [[5, 'message', [[1, 'message', deep]]]];
    const decoded = decodeOtlpLogsProtobuf(
      requestOf([[2, 'message', [[2, 'message', [[5, 'message', deep]]]]]]),
    );
    expect(decoded.rejected[0]?.message).toMatch(/nested more than 64/);
  });

  it('dispatches on the content type', () => {
    const json = Buffer.from(
      JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { stringValue: 'j' } }] }] }] }),
    );
    expect(decodeOtlpLogs('application/json; charset=utf-8', json).events[0]!.fields.message).toBe('j');
    const proto = requestOf([[2, 'message', [[2, 'message', logRecord()]]]]);
    expect(decodeOtlpLogs('application/x-protobuf', proto).events[0]!.fields.message).toBe('hello');
    expect(rejection(() => decodeOtlpLogs('text/plain', proto)).code).toBe('OTLP_REQUEST');
  });

  it('numbers events from firstRecord under the source name given', () => {
    const proto = requestOf([
      [
        2,
        'message',
        [
          [2, 'message', logRecord()],
          [2, 'message', logRecord()],
        ],
      ],
    ]);
    const decoded = decodeOtlpLogsProtobuf(proto, { source: 'otlp:tenant-a', firstRecord: 101 });
    expect(decoded.events.map((e) => e.source)).toEqual([
      { file: 'otlp:tenant-a', record: 101 },
      { file: 'otlp:tenant-a', record: 102 },
    ]);
  });
});
