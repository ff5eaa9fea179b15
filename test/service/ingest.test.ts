import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BodyTooLarge, parseNdjson } from '../../src/service/index.js';
import { jsonObjectSpan } from '../../src/service/json-check.js';
import { contentPath, hasContent } from '../helpers/content.js';
import { seededRandom } from '../helpers/random.js';

/** What JSON.parse says of the text: an object, another value, or not JSON. */
function verdict(text: string): 'object' | 'other' | 'invalid' {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? 'object' : 'other';
  } catch {
    return 'invalid';
  }
}

/** The byte check's answer on a text: the object's text, or undefined when it is not sure. */
function checked(text: string): string | undefined {
  const bytes = Buffer.from(text);
  const span = jsonObjectSpan(bytes, 0, bytes.length);
  return span && bytes.toString('utf8', span.start, span.end);
}

const DATASETS = [
  'aws-cloudtrail-invictus-stratus/cloudtrail.ndjson',
  'zeek-stratosphere-simda/all.converted.ndjson',
  'linux-sysmon/otrf_log4shell_sysmon_for_linux.eventdata.ndjson',
  'suricata-ait-lds/eve.json',
];

/** Characters that matter to JSON's grammar, and a few that it refuses or must pass through. */
const PIECES = [...'"\\{}[]:, \t\0\u001fé\uFEFF-.e0un'];

function mutate(text: string, next: () => number): string {
  let out = text;
  const edits = 1 + Math.floor(next() * 3);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(next() * (out.length + 1));
    const kind = next();
    if (kind < 0.45) out = out.slice(0, at) + PIECES[Math.floor(next() * PIECES.length)] + out.slice(at);
    else if (kind < 0.8) out = out.slice(0, at) + out.slice(at + 1 + Math.floor(next() * 4));
    else out = out.slice(0, at);
  }
  return out;
}

describe('the byte check of an NDJSON line', () => {
  it.skipIf(!hasContent)('takes every line of real NDJSON, as JSON.parse does', () => {
    for (const dataset of DATASETS) {
      const lines = readFileSync(contentPath('..', 'datasets', 'logs-beyond-windows', dataset), 'utf8')
        .split('\n')
        .filter((line) => line.trim() !== '');
      expect(lines.length).toBeGreaterThan(10);
      for (const line of lines) expect(checked(line), `${dataset}: ${line.slice(0, 80)}`).toBe(line.trim());
    }
  });

  it.skipIf(!hasContent)('never takes a damaged line that JSON.parse refuses or that is no object', () => {
    const next = seededRandom(8259);
    const lines = readFileSync(
      contentPath(
        '..',
        'datasets',
        'logs-beyond-windows',
        'aws-cloudtrail-otrf',
        'ec2_proxy_s3_exfiltration.ndjson',
      ),
      'utf8',
    )
      .split('\n')
      .filter(Boolean);
    const taken = { object: 0, unsure: 0 };
    for (let i = 0; i < 20_000; i++) {
      const text = mutate(lines[i % lines.length]!, next);
      const span = checked(text);
      if (span === undefined) {
        taken.unsure++;
        continue;
      }
      taken.object++;
      expect(verdict(text), text).toBe('object');
      expect(JSON.parse(span)).toEqual(JSON.parse(text));
    }
    // Both answers were met often enough for the comparison to mean something.
    expect(taken.object).toBeGreaterThan(1000);
    expect(taken.unsure).toBeGreaterThan(1000);
  });

  it('agrees with JSON.parse on the corners of the grammar', () => {
    const cases = [
      '{}',
      ' \t{ } \r',
      '{"a":[1,-0,0.5,1e5,1E-5,-12.5e+3,true,false,null,{},[]]}',
      '{"s":"\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\uD83D\\ude00"}',
      '{"é":"ü 漢字"}',
      '{"a":01}',
      '{"a":1.}',
      '{"a":.5}',
      '{"a":1e}',
      '{"a":-}',
      '{"a":+1}',
      '{"a":"\\x41"}',
      '{"a":"\\u12"}',
      '{"a":"tab\there"}',
      '{"a":1,}',
      '{,"a":1}',
      '{"a" 1}',
      '{a:1}',
      "{'a':1}",
      '{"a":tru}',
      '{"a":nul}',
      '{"a":[1,]}',
      '{"a":[,1]}',
      '{"a":1}{"b":2}',
      '{"a":1} x',
      '{"a":NaN}',
      '{"a":"unterminated}',
      '[{"a":1}]',
      '"text"',
      '42',
      'null',
      '',
      '   ',
    ];
    for (const text of cases) {
      const span = checked(text);
      if (span !== undefined) expect(verdict(text), text).toBe('object');
      if (verdict(text) === 'object') expect(span, text).toBe(text.trim());
    }
  });

  it('leaves nesting deeper than it reads to JSON.parse instead of running out of stack', () => {
    const deep = `{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    expect(checked(deep)).toBeUndefined();
  });
});

describe('parseNdjson', () => {
  it('accepts objects as sent and rejects every other line by its number, with why', () => {
    const body = Buffer.from(
      [
        '{"EventID": 4625, "Computer": "dc1"}',
        '',
        '{"EventID": 4625,',
        '[1, 2]',
        '\uFEFF{"bom": true}',
        '  {"padded": "é"}  \r',
        '"just text"',
        'null',
        '{"last": 1}',
      ].join('\n'),
    );
    const parsed = parseNdjson(body, 1 << 20);
    const texts = parsed.events.map((event) =>
      typeof event === 'string' ? event : Buffer.from(event).toString('utf8'),
    );
    expect(texts).toEqual([
      '{"EventID": 4625, "Computer": "dc1"}',
      '{"bom": true}',
      '{"padded": "é"}',
      '{"last": 1}',
    ]);
    expect(parsed.rejected.map((r) => r.line)).toEqual([3, 4, 7, 8]);
    expect(parsed.rejected[0]!.error).toMatch(/^not valid JSON: /);
    expect(parsed.rejected[1]!.error).toBe('an event must be a JSON object, not an array');
    expect(parsed.rejected[2]!.error).toBe('an event must be a JSON object, not a string');
    expect(parsed.rejected[3]!.error).toBe('an event must be a JSON object, not null');
  });

  it('refuses a line over the limit, naming it', () => {
    const body = Buffer.from(`{"a":1}\n{"long":"${'x'.repeat(100)}"}\n`);
    expect(() => parseNdjson(body, 64)).toThrow(BodyTooLarge);
    expect(() => parseNdjson(body, 64)).toThrow(/line 2 is longer than the limit of 64 bytes/);
  });
});
