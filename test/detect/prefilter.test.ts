import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectFiles, type FieldValue, type LogEvent } from '../../src/core/index.js';
import { DetectionEngine, loadDetectionSetup } from '../../src/detect/index.js';
import { LOG_EXTENSIONS, readEvents } from '../../src/logs/index.js';
import { contentPath, hasContent } from '../helpers/content.js';

/** Rule ids (and matched fields) per event, in evaluation order. */
function outcomes(engine: DetectionEngine, events: LogEvent[]): string[] {
  return events.map((event) =>
    engine
      .evaluate(event)
      .map((m) => `${m.rule.id}${JSON.stringify(m.matched)}`)
      .join(' '),
  );
}

/** Variations that stress case folding and literal boundaries without changing what a rule means. */
function variants(event: LogEvent, seed: number): LogEvent[] {
  const change = (fn: (text: string) => string): LogEvent => {
    const fields: Record<string, FieldValue> = {};
    for (const [key, value] of Object.entries(event.fields)) {
      fields[key] = typeof value === 'string' && !['Channel', 'EventID'].includes(key) ? fn(value) : value;
    }
    return { ...event, fields };
  };
  return [
    change((t) => t.toUpperCase()),
    change((t) => t.replace(/[a-z]/g, (c, i) => ((i + seed) % 3 === 0 ? c.toUpperCase() : c))),
    change((t) => `\u00e9\u0130 ${t} \u03a3\u{1F600}`),
    change((t) => t.replace(/\\/g, '/')),
  ];
}

describe.skipIf(!hasContent)('the literal prefilter never changes what fires (reference content)', () => {
  it('gives the same matches as evaluating every rule, on the regression events and variations of them', async () => {
    const sigma = contentPath('sigma');
    const setup = await loadDetectionSetup({
      rules: ['rules', 'rules-emerging-threats', 'rules-threat-hunting'].map((f) => join(sigma, f)),
    });
    const reference = new DetectionEngine(setup.ruleSet.rules, setup.pipelines, { prefilter: false });
    const { files } = await collectFiles([join(sigma, 'regression_data')], LOG_EXTENSIONS);
    const events: LogEvent[] = [];
    for (const file of files) for await (const event of readEvents(file)) events.push(event);
    const all = events.flatMap((event, i) => [event, ...variants(event, i)]);
    const fast = outcomes(setup.engine, all);
    const full = outcomes(reference, all);
    expect(fast.filter(Boolean).length).toBeGreaterThan(200);
    for (let i = 0; i < all.length; i++) expect(fast[i], `event ${i}`).toBe(full[i]);
  });
});

describe('the prefilter on hand-made edge cases', () => {
  async function both(rules: string, events: Record<string, FieldValue>[]): Promise<[string[], string[]]> {
    const { parseRuleText, assembleRuleSet, builtinPipelines, combinePipelines } = await import(
      '../../src/sigma/index.js'
    );
    const { rules: parsed, errors } = parseRuleText(rules, 'r.yml');
    expect(errors).toEqual([]);
    const set = assembleRuleSet(parsed, 1);
    const pipelines = combinePipelines(await builtinPipelines());
    const evs = events.map((fields, i) => ({ fields, source: { file: 'e', record: i + 1 } }));
    return [
      outcomes(new DetectionEngine(set.rules, pipelines), evs),
      outcomes(new DetectionEngine(set.rules, pipelines, { prefilter: false }), evs),
    ];
  }
  const rule = (id: string, item: string) =>
    `title: ${id}\nid: ${id}\nlogsource: {product: test}\ndetection:\n    sel:\n        ${item}\n    condition: sel\n---\n`;

  it('agrees with full evaluation on case folding, scripts outside ASCII and regex literals', async () => {
    const rules = [
      rule('a', "CommandLine|contains: 'adi'"),
      rule('b', "CommandLine|contains: '\u{10400}x'"),
      rule('c', "CommandLine|re|i: '\u0131ex'"),
      rule('d', "CommandLine|re: '(?i)\u017ftop'"),
      rule('e', "CommandLine|contains: '\u039f\u03a3'"),
      rule('f', "Image|re: '^[[:alpha:]]:\\\\Windows\\\\Temp\\\\'"),
      rule('g', "CommandLine|re: 'abc$'"),
    ].join('');
    const events: Record<string, FieldValue>[] = [
      { CommandLine: 'AD\u0130' },
      { CommandLine: '\u{10400}x' },
      { CommandLine: 'IEX' },
      { CommandLine: 'STOP' },
      { CommandLine: '\u03bf\u03c3' },
      { CommandLine: '\u039f\u03a3\u0391' },
      { Image: 'C:\\Windows\\Temp\\x.exe' },
      { CommandLine: 'xabc\n' },
    ];
    const [fast, full] = await both(rules, events);
    expect(fast).toEqual(full);
    expect(full.map((line) => line.split('{')[0])).toEqual(['a', 'b', 'c', 'd', 'e', 'e', 'f', 'g']);
  });
});
