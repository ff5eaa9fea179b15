import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vigil } from '../helpers/cli.js';
import { contentPath, hasContent } from '../helpers/content.js';
import { deleteStreams, hasNats, natsUrl, testPrefix } from '../helpers/nats.js';
import { api, everyTenantToken, provision, type RunningService, startService } from '../helpers/serve.js';

const BATCH = 500;

function batches(lines: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < lines.length; i += BATCH) out.push(`${lines.slice(i, i + BATCH).join('\n')}\n`);
  return out;
}

/** Rule id, host and record of each detection, sorted: what must be equal between hunt and serve. */
function keys(
  detections: {
    rule: { id?: string | null };
    host?: string | null;
    record?: number;
    source?: { record: number };
  }[],
) {
  return detections.map((d) => `${d.rule.id}|${d.host ?? ''}|${d.record ?? d.source?.record}`).sort();
}

async function waitProcessed(service: RunningService, token: string, timeoutMs = 120_000) {
  const started = Date.now();
  for (;;) {
    const stats = await api(service, token, 'GET', '/api/v1/stats');
    if (stats.body.processed === stats.body.accepted) return stats.body;
    if (Date.now() - started > timeoutMs)
      throw new Error(`detection did not catch up: ${JSON.stringify(stats.body)}\n${service.log()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function allDetections(service: RunningService, token: string) {
  const out = [];
  let cursor: string | null = null;
  do {
    const page = await api(
      service,
      token,
      'GET',
      `/api/v1/detections?limit=1000${cursor ? `&cursor=${cursor}` : ''}`,
    );
    expect(page.status).toBe(200);
    out.push(...page.body.detections);
    cursor = page.body.next;
  } while (cursor);
  return out;
}

/** A retro-hunt of the stored events with the deployed rules: what it found, and that it opened no alert. */
async function retroHunt(service: RunningService, tokens: Record<string, string>, events: number) {
  const alertsBefore = (await api(service, tokens.viewer, 'GET', '/api/v1/stats')).body.alerts;
  const started = await api(service, tokens.analyst, 'POST', '/api/v1/hunts', {});
  expect(started.status, JSON.stringify(started.body)).toBe(202);
  let hunt: { status: string; events: number; detections: number } = started.body;
  for (let i = 0; i < 600 && hunt.status === 'running'; i++) {
    await new Promise((r) => setTimeout(r, 200));
    hunt = (await api(service, tokens.viewer, 'GET', `/api/v1/hunts/${started.body.id}?limit=1`)).body;
  }
  expect(hunt).toMatchObject({ status: 'done', events });
  const results = [];
  for (let offset = 0; offset < hunt.detections; offset += 1000) {
    const page = await api(
      service,
      tokens.viewer,
      'GET',
      `/api/v1/hunts/${started.body.id}?limit=1000&offset=${offset}`,
    );
    results.push(...page.body.results);
  }
  expect((await api(service, tokens.viewer, 'GET', '/api/v1/stats')).body.alerts).toBe(alertsBefore);
  return keys(results);
}

/** `vigil hunt --data` over the events a service kept, as detection keys. */
function huntStored(data: string, rules: string, env: NodeJS.ProcessEnv, extra: string[] = []) {
  const stored = vigil(
    [
      'hunt',
      '--data',
      data,
      ...extra,
      '--rules',
      rules,
      '--format',
      'jsonl',
      '--no-summary',
      '--no-progress',
    ],
    env,
  );
  expect(stored.status, stored.stderr).toBe(0);
  return keys(
    stored.stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line)),
  );
}

/** The service's stage timers (seconds since start, by stage) from /metrics, as an admin sees them. */
async function stageSeconds(service: RunningService, admin: string): Promise<Record<string, number>> {
  const metrics = (await api(service, admin, 'GET', '/metrics')).body as string;
  const out: Record<string, number> = {};
  for (const [, stage, value] of metrics.matchAll(/^vigil_stage_seconds_total\{stage="(\w+)"\} (\S+)$/gm))
    out[stage!] = Number(value);
  return out;
}

async function stop(service: RunningService) {
  service.process.kill('SIGTERM');
  return service.exited;
}

describe.skipIf(!hasContent)('vigil serve over the EVTX-ATTACK-SAMPLES', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let lines: string[];
  let expected: string[];
  /** Alerts the service with files opened, for the run on a bus to match. */
  let alertsWithFiles: number | undefined;
  const rules = () => contentPath('sigma', 'rules', 'windows');

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-serve-'));
    env = { VIGIL_HOME: join(dir, 'home') };
    const samples = join(contentPath(), '..', 'datasets', 'evtx-attack-samples');
    const jsonl = join(dir, 'samples.jsonl');
    const dumped = vigil(['dump', samples, '-o', jsonl], env);
    expect(dumped.status, dumped.stderr).toBe(0);
    lines = readFileSync(jsonl, 'utf8').split('\n').filter(Boolean);
    const hunted = vigil(
      ['hunt', jsonl, '--rules', rules(), '--format', 'jsonl', '--no-summary', '--no-progress'],
      env,
    );
    expect(hunted.status, hunted.stderr).toBe(0);
    expected = keys(
      hunted.stdout
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line)),
    );
    expect(expected.length).toBeGreaterThan(500);
  }, 300_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds exactly what vigil hunt finds on the same events, sent over HTTP in batches', async () => {
    const data = join(dir, 'plain');
    const tokens = await provision(data, 'acme', ['ingest', 'viewer', 'analyst']);
    const admin = await everyTenantToken(data, 'admin');
    const service = await startService(data, ['--rules', rules()], env);
    try {
      const timersBefore = await stageSeconds(service, admin);
      for (const body of batches(lines)) {
        const sent = await api(
          service,
          tokens.ingest!,
          'POST',
          '/api/v1/events',
          body,
          'application/x-ndjson',
        );
        expect(sent.status, JSON.stringify(sent.body)).toBe(200);
        expect(sent.body.rejected).toEqual([]);
      }
      const stats = await waitProcessed(service, tokens.viewer!);
      expect(stats.accepted).toBe(lines.length);
      expect(keys(await allDetections(service, tokens.viewer!))).toEqual(expected);
      alertsWithFiles = stats.alerts;
      // Where the time went (what bench:cluster reads): every stage timed, and each grew with the work.
      const timers = await stageSeconds(service, admin);
      const stages = ['log_append', 'log_read', 'detection_threads', 'detection_wait', 'store_commit'];
      // Correlation snapshots are timed too; these rules may hold no correlation to save.
      expect(Object.keys(timers).sort()).toEqual([...stages, 'correlation_snapshot'].sort());
      for (const stage of stages) expect(timers[stage], stage).toBeGreaterThan(timersBefore[stage] ?? 0);
      // A tenant's token does not see the process-wide timers.
      expect((await api(service, tokens.viewer, 'GET', '/metrics')).body).not.toContain(
        'vigil_stage_seconds',
      );

      // A retro-hunt of the stored events with the deployed rules finds the same, and opens no alert.
      expect(await retroHunt(service, tokens, lines.length)).toEqual(expected);
    } finally {
      expect(await stop(service)).toBe(0);
    }
    // vigil hunt reads the same stored events from the data folder.
    expect(huntStored(data, rules(), env)).toEqual(expected);
  }, 300_000);

  it.skipIf(!hasNats)(
    'does the same with its event log on NATS JetStream (--bus): same detections and alerts, hunts read the streams',
    async () => {
      const data = join(dir, 'bus');
      const prefix = testPrefix();
      try {
        const tokens = await provision(data, 'acme', ['ingest', 'viewer', 'analyst']);
        // The prefix from config.yml, the address from the flag (which wins over config.yml's).
        writeFileSync(join(data, 'config.yml'), `bus:\n  url: nats://127.0.0.1:1\n  prefix: ${prefix}\n`);
        const service = await startService(data, ['--rules', rules(), '--bus', natsUrl], env);
        try {
          expect(service.log()).toContain(`event log: JetStream at ${natsUrl} (streams ${prefix}_<tenant>)`);
          for (const body of batches(lines)) {
            const sent = await api(
              service,
              tokens.ingest!,
              'POST',
              '/api/v1/events',
              body,
              'application/x-ndjson',
            );
            expect(sent.status, JSON.stringify(sent.body)).toBe(200);
          }
          const stats = await waitProcessed(service, tokens.viewer!);
          expect(stats.accepted).toBe(lines.length);
          expect(keys(await allDetections(service, tokens.viewer!))).toEqual(expected);
          if (alertsWithFiles !== undefined) expect(stats.alerts).toBe(alertsWithFiles);
          expect(await retroHunt(service, tokens, lines.length)).toEqual(expected);
        } finally {
          expect(await stop(service)).toBe(0);
        }
        // Nothing went to the data folder's files.
        expect(existsSync(join(data, 'events'))).toBe(false);
        expect(huntStored(data, rules(), env, ['--bus', natsUrl])).toEqual(expected);
      } finally {
        await deleteStreams(prefix);
      }
    },
    300_000,
  );

  it('loses nothing and counts nothing twice when killed right after an acknowledged batch', async () => {
    const data = join(dir, 'crash');
    const tokens = await provision(data, 'acme', ['ingest', 'viewer']);
    const parts = batches(lines);
    let service = await startService(data, ['--rules', rules()], env);
    let sent = 0;
    // Send until an acknowledged batch finds detection behind, then kill without warning.
    for (; sent < parts.length; ) {
      const answer = await api(
        service,
        tokens.ingest!,
        'POST',
        '/api/v1/events',
        parts[sent++],
        'application/x-ndjson',
      );
      expect(answer.status).toBe(200);
      const stats = await api(service, tokens.viewer!, 'GET', '/api/v1/stats');
      if (sent >= 4 && stats.body.processed < stats.body.accepted) break;
    }
    expect(sent).toBeLessThan(parts.length);
    service.process.kill('SIGKILL');
    await service.exited;
    service = await startService(data, ['--rules', rules()], env);
    try {
      for (; sent < parts.length; sent++) {
        const answer = await api(
          service,
          tokens.ingest!,
          'POST',
          '/api/v1/events',
          parts[sent],
          'application/x-ndjson',
        );
        expect(answer.status).toBe(200);
      }
      const stats = await waitProcessed(service, tokens.viewer!);
      expect(stats.accepted).toBe(lines.length);
      expect(keys(await allDetections(service, tokens.viewer!))).toEqual(expected);
    } finally {
      expect(await stop(service)).toBe(0);
    }
  }, 300_000);
});
