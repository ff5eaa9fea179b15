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
