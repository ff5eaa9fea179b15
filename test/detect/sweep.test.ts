import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LogEvent } from '../../src/core/index.js';
import { CollectedLogs } from '../../src/coverage/index.js';
import { addSweep, hunt, IndicatorSweep, type SweepResult } from '../../src/detect/index.js';
import { contentPath, hasContent } from '../helpers/content.js';

const event = (fields: LogEvent['fields'], record = 1): LogEvent => ({
  fields,
  source: { file: 'x.jsonl', record },
  time: Date.UTC(2024, 0, 1),
});

describe('indicator sweep', () => {
  it('finds each value in any string field, ignoring case, with where it was', () => {
    const sweep = new IndicatorSweep([
      { type: 'domain', value: 'evil-cdn.example' },
      { type: 'sha256', value: 'AB'.repeat(32) },
      // Too short to mean anything: matched by chance in any text.
      { type: 'filename', value: 'a.b' },
    ]);
    sweep.check(event({ Computer: 'ws1', QueryName: 'cdn.EVIL-CDN.example', Note: 'a.b' }, 7));
    sweep.check(event({ Hashes: ['MD5=00', `SHA256=${'ab'.repeat(32)}`], EventID: 1 }, 8));
    sweep.check(event({ Message: 'nothing here' }, 9));
    expect(sweep.result.events).toBe(3);
    expect(sweep.result.total).toBe(2);
    expect(sweep.result.hits).toEqual([
      expect.objectContaining({
        type: 'domain',
        record: 7,
        host: 'ws1',
        field: 'QueryName',
        file: 'x.jsonl',
      }),
      expect.objectContaining({ type: 'sha256', record: 8, field: 'Hashes' }),
    ]);
  });

  it('finds a value only where it stands alone, not inside a longer one', () => {
    const md5 = '0123456789abcdef0123456789abcdef';
    const sweep = new IndicatorSweep([
      { type: 'filename', value: 'hive.bat' },
      { type: 'ipv4', value: '1.2.3.4' },
      { type: 'domain', value: 'evil.com' },
      { type: 'md5', value: md5 },
      { type: 'url', value: 'https://mega.nz' },
    ]);
    const found = (text: string) => {
      sweep.take();
      sweep.check(event({ Text: text }));
      return sweep.result.hits.map((h) => h.value);
    };
    expect(found('C:\\Users\\x\\archive.bat and hive.bat.txt')).toEqual([]);
    expect(found('cmd /c C:\\ProgramData\\hive.bat')).toEqual(['hive.bat']);
    expect(found('11.2.3.45 and 1.2.3.45 and 1.2.3.4.5')).toEqual([]);
    expect(found('dst=1.2.3.4:443.')).toEqual(['1.2.3.4']);
    expect(found('notevil.com evil.com.au evil.community')).toEqual([]);
    expect(found('c2.EVIL.com')).toEqual(['evil.com']);
    expect(found('mail from user@evil.com')).toEqual(['evil.com']);
    expect(found(`SHA256=${md5}${md5}`)).toEqual([]);
    expect(found(`MD5=${md5.toUpperCase()},SHA1=00`)).toEqual([md5]);
    expect(found('https://mega.nz.evil.io/x')).toEqual([]);
    expect(found('GET https://mega.nz/file/abc')).toEqual(['https://mega.nz']);
  });

  it('has nothing to do without usable values', () => {
    const sweep = new IndicatorSweep([{ type: 'filename', value: 'x' }]);
    sweep.check(event({ Image: 'x' }));
    expect(sweep.result).toEqual({ events: 0, hits: [], total: 0 });
  });
});

describe.skipIf(!hasContent)('one pass over the logs', () => {
  it('gives every event to the rules, the indicator sweep and the channel record, on one thread or two alike', async () => {
    const folder = join(contentPath('..', 'datasets', 'evtx-attack-samples'), 'Lateral Movement');
    const rules = contentPath('sigma', 'rules', 'windows', 'process_creation');
    const files = readdirSync(folder)
      .filter((f) => f.endsWith('.evtx'))
      .sort()
      .map((f) => join(folder, f));
    const watchWith = async (threads: number) => {
      const sweep: SweepResult = { events: 0, hits: [], total: 0 };
      const collected = new CollectedLogs();
      const summary = await hunt(files, {
        setup: { rules: [rules] },
        threads,
        watch: { indicators: [{ type: 'filename', value: 'whoami.exe' }], channels: true },
        onWatched: (watched) => {
          if (watched.sweep) addSweep(sweep, watched.sweep);
          for (const [channel, ids] of watched.channels ?? []) collected.addIds(channel, ids);
        },
        onDetection: () => {},
      });
      return { summary, sweep, windows: collected.inventory(folder).collection.windows };
    };
    const one = await watchWith(1);
    expect(one.summary.events).toBeGreaterThan(0);
    expect(one.sweep.events).toBe(one.summary.events);
    expect(one.sweep.hits.some((hit) => hit.field === 'Image' && hit.file.endsWith('whoami.evtx'))).toBe(
      true,
    );
    const sysmon = one.windows.get('microsoft-windows-sysmon/operational');
    expect(sysmon instanceof Set && sysmon.has(1)).toBe(true);
    // Workers see the same events, and their parts come back in file and record order.
    const two = await watchWith(2);
    expect(two.sweep).toEqual(one.sweep);
    expect(two.windows).toEqual(one.windows);
  });
});
