import { ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { describe, expect, it } from 'vitest';
import {
  decodeOtlpLogsJson,
  decodeOtlpLogsProtobuf,
  OtlpError,
  parseSyslog,
  SyslogError,
  SyslogFrameSplitter,
} from '../../src/logs/index.js';
import { seededRandom } from '../helpers/random.js';

const SPECIAL = '<>[]"\\=|: -\n\0\uFEFF\u00e9';

function mutate(text: string, next: () => number): string {
  let out = text;
  const edits = 1 + Math.floor(next() * 4);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(next() * (out.length + 1));
    const kind = next();
    if (kind < 0.35) out = out.slice(0, at) + SPECIAL[Math.floor(next() * SPECIAL.length)] + out.slice(at);
    else if (kind < 0.65) out = out.slice(0, at) + out.slice(at + 1 + Math.floor(next() * 8));
    else if (kind < 0.85) out = out.slice(0, at);
    else out = out.slice(0, at) + String.fromCharCode(Math.floor(next() * 0x3000)) + out.slice(at);
  }
  return out;
}

const SYSLOG = [
  '<165>1 2003-10-11T22:14:15.003Z host.example app 1234 ID47 [a@1 x="1" y="a\\"b\\]c"][b z="2"] \uFEFFmessage',
  '<34>Oct 11 22:14:15 mymachine su[12]: failed for user on /dev/pts/8',
  '<189>2041: *Mar  2 01:02:03.456: %SYS-5-CONFIG_I: Configured from console',
  '<166>Jan 05 2024 10:20:30 edge-asa : %ASA-6-302013: Built outbound TCP connection',
  '<134>Feb 10 10:10:10 h CEF:0|V\\|x|P|1|id|Name here|7|src=1.2.3.4 msg=a b\\=c cs1=x',
  '<189>date=2024-05-10 time=11:37:47 devname="FGT" msg="say \\"x\\"" action=Add',
  'Jun 17 14:37:39 <mail.notice> mx sm-mta[2794]: User unknown',
  '<13>2024-03-05T10:00:00.123+01:00 db-1 mysqld[77]: ready',
  '<14>1 2022-05-11T18:10:20Z UBUNTU5 sysmon - - - <Event><System><Provider Name="Linux-Sysmon"/><EventID>1</EventID>' +
    '<TimeCreated SystemTime="2022-05-11T18:10:20.399Z"/><Computer>UBUNTU5</Computer></System><EventData>' +
    '<Data Name="Image">/bin/bash</Data><Data Name="CommandLine">bash -c &lt unknown&gt; &amp;</Data></EventData></Event>',
];

describe('ingest parsers on damaged input', () => {
  it('syslog: never throws, always gives fields, reports only SyslogErrors', () => {
    const next = seededRandom(5424);
    for (let i = 0; i < 5_000; i++) {
      const text = mutate(SYSLOG[i % SYSLOG.length]!, next);
      const parsed = parseSyslog(text, { receivedAt: Date.UTC(2024, 3, 1), timeZone: 'Europe/Paris' });
      expect(parsed.fields).toBeTypeOf('object');
      if (parsed.error) expect(parsed.error).toBeInstanceOf(SyslogError);
      if (parsed.time !== undefined) expect(Number.isFinite(parsed.time), text).toBe(true);
    }
  });

  it('TCP framing: random bytes in random chunks never throw nor give more bytes than came in', () => {
    const next = seededRandom(6587);
    for (let i = 0; i < 300; i++) {
      const stream = Buffer.from(
        Array.from({ length: 2000 }, () => {
          const r = next();
          return r < 0.1
            ? 0x0a
            : r < 0.2
              ? 0x20
              : r < 0.4
                ? 0x30 + Math.floor(next() * 10)
                : Math.floor(next() * 256);
        }),
      );
      const splitter = new SyslogFrameSplitter({ maxMessageSize: 1 + Math.floor(next() * 300) });
      let bytes = 0;
      for (let at = 0; at < stream.length; ) {
        const size = 1 + Math.floor(next() * 200);
        for (const frame of splitter.feed(stream.subarray(at, at + size))) bytes += frame.bytes.length;
        at += size;
      }
      for (const frame of splitter.end()) bytes += frame.bytes.length;
      expect(bytes).toBeLessThanOrEqual(stream.length);
    }
  });

  const records = Array.from({ length: 5 }, (_, i) => ({
    hrTime: [1_700_000_000 + i, 5],
    hrTimeObserved: [1_700_000_000, 0],
    severityNumber: 9,
    body:
      i % 2 ? `line ${i}` : { user: 'eve', n: i, list: [1, 'x', { deep: true }], bytes: new Uint8Array([i]) },
    attributes: { 'a.b': i, c: 'text' },
    droppedAttributesCount: 0,
    resource: { attributes: { 'host.name': 'h' } },
    instrumentationScope: { name: 's', version: '1' },
    spanContext: { traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', traceFlags: 1 },
  })) as unknown as Parameters<typeof ProtobufLogsSerializer.serializeRequest>[0];

  it('OTLP/protobuf: damaged requests give events, rejected records or an OtlpError, nothing else', () => {
    const valid = Buffer.from(ProtobufLogsSerializer.serializeRequest(records)!);
    const next = seededRandom(4317);
    for (let i = 0; i < 5_000; i++) {
      const bytes = Buffer.from(valid);
      const edits = 1 + Math.floor(next() * 4);
      for (let e = 0; e < edits; e++) bytes[Math.floor(next() * bytes.length)] = Math.floor(next() * 256);
      const cut = next() < 0.2 ? bytes.subarray(0, Math.floor(next() * bytes.length)) : bytes;
      try {
        const decoded = decodeOtlpLogsProtobuf(cut);
        expect(decoded.events.length + decoded.rejected.length).toBeLessThanOrEqual(cut.length);
        for (const r of decoded.rejected) expect(r.code).toBe('OTLP_RECORD');
      } catch (error) {
        expect(error).toBeInstanceOf(OtlpError);
      }
    }
  });

  it('OTLP/JSON: values of the wrong type anywhere give rejected records or an OtlpError', () => {
    const valid = JSON.parse(
      JSON.stringify({
        resourceLogs: [
          {
            resource: { attributes: [{ key: 'host.name', value: { stringValue: 'h' } }] },
            scopeLogs: [
              {
                scope: { name: 's' },
                logRecords: [
                  {
                    timeUnixNano: '1700000000000000000',
                    severityNumber: 9,
                    traceId: '5b8efff798038103d269b633813fc60c',
                    body: {
                      kvlistValue: {
                        values: [{ key: 'k', value: { arrayValue: { values: [{ intValue: '1' }] } } }],
                      },
                    },
                    attributes: [{ key: 'a', value: { doubleValue: 1.5 } }],
                  },
                ],
              },
            ],
          },
        ],
      }),
    );
    const replacements = [null, 1, -1.5, 'x', '', true, [], {}, [1], { a: 1 }];
    const next = seededRandom(4318);
    const paths: (string | number)[][] = [];
    const walk = (value: unknown, path: (string | number)[]) => {
      paths.push(path);
      if (value && typeof value === 'object') {
        for (const [key, child] of Object.entries(value))
          walk(child, [...path, Array.isArray(value) ? Number(key) : key]);
      }
    };
    walk(valid, []);
    for (let i = 0; i < 3_000; i++) {
      const copy = structuredClone(valid);
      const path = paths[1 + Math.floor(next() * (paths.length - 1))]!;
      let parent = copy;
      for (const key of path.slice(0, -1)) parent = parent[key];
      parent[path.at(-1)!] = replacements[Math.floor(next() * replacements.length)];
      try {
        const decoded = decodeOtlpLogsJson(JSON.stringify(copy));
        expect(decoded.events.length + decoded.rejected.length).toBeLessThanOrEqual(1);
      } catch (error) {
        expect(error).toBeInstanceOf(OtlpError);
      }
    }
  });
});
