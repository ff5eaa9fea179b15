import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VIGIL_RULES_DIR } from '../../src/sigma/index.js';
import { type HuntedDetection, huntDetections, vigil } from '../helpers/cli.js';
import { contentPath, hasContent } from '../helpers/content.js';
import { api, provision, type RunningService, startService } from '../helpers/serve.js';
import { securityEvent } from '../helpers/windows-events.js';

/**
 * Vigil's identity pack (rules/identity) on authentication events of its own: each detection fires
 * on its pattern, and none fires on the same number of failures spread over many users, sources and
 * hours. Run through `vigil hunt` and through `vigil serve`, as users run them.
 */

const DAY = 86_400_000;
const MINUTE = 60_000;
const BASE = Date.parse('2026-03-02T08:00:00Z');
let record = 1000;

interface AuthEvent {
  id: number;
  at: number;
  host?: string;
  data: Record<string, string | number>;
}

const windowsEvent = (event: AuthEvent): string => securityEvent({ ...event, record: record++ });

const failure = (user: string, ip: string, at: number, subStatus = '0xc000006a'): AuthEvent => ({
  id: 4625,
  at,
  data: {
    TargetUserName: user,
    TargetDomainName: 'CORP',
    Status: '0xc000006d',
    SubStatus: subStatus,
    LogonType: 3,
    IpAddress: ip,
    WorkstationName: '-',
  },
});
const success = (user: string, ip: string, at: number): AuthEvent => ({
  id: 4624,
  at,
  data: { TargetUserName: user, TargetDomainName: 'CORP', LogonType: 3, IpAddress: ip },
});
const lockout = (user: string, at: number): AuthEvent => ({
  id: 4740,
  at,
  data: { TargetUserName: user, TargetDomainName: 'WS7', SubjectUserName: 'DC1$' },
});
const explicit = (subject: string, target: string, at: number): AuthEvent => ({
  id: 4648,
  at,
  host: 'ws7.corp.example',
  data: { SubjectUserName: subject, TargetUserName: target, TargetServerName: 'fs1', IpAddress: '-' },
});

const ntlmFailure = (user: string, workstation: string, at: number): AuthEvent => ({
  id: 4776,
  at,
  data: {
    TargetUserName: user,
    Workstation: workstation,
    Status: '0xc000006a',
    PackageName: 'MICROSOFT_AUTHENTICATION_PACKAGE_V1_0',
  },
});

const users = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);

/** Each pattern on a day of its own, so that no window reaches from one into another. */
function attacks(): { title: string; group: Record<string, string>; events: AuthEvent[] }[] {
  const day = (n: number) => BASE + n * DAY;
  return [
    {
      title: 'Brute Force Of One Windows Account From One Source',
      group: { TargetUserName: 'alice', IpAddress: '198.51.100.10' },
      events: Array.from({ length: 12 }, (_, i) => failure('alice', '198.51.100.10', day(0) + i * 15_000)),
    },
    {
      title: 'Successful Windows Logon After Repeated Failures',
      group: { TargetUserName: 'alice' },
      events: [success('alice', '198.51.100.10', day(0) + 5 * MINUTE)],
    },
    {
      title: 'Password Spraying From One Source',
      group: { IpAddress: '198.51.100.20' },
      events: users('staff', 10).map((u, i) => failure(u, '198.51.100.20', day(1) + i * 30_000)),
    },
    {
      title: 'Successful Windows Logon From A Password Spraying Source',
      group: { IpAddress: '198.51.100.20' },
      events: [success('staff7', '198.51.100.20', day(1) + 7 * MINUTE)],
    },
    {
      // Six sources, none past the single-source threshold: only the spread shows.
      title: 'Distributed Password Spraying',
      group: {},
      events: users('person', 24).map((u, i) => failure(u, `203.0.113.${1 + (i % 6)}`, day(2) + i * 15_000)),
    },
    {
      title: 'Credential Stuffing From One Source',
      group: { IpAddress: '198.51.100.40' },
      events: users('leaked', 9).map((u, i) =>
        failure(u, '198.51.100.40', day(3) + i * 20_000, '0xc0000064'),
      ),
    },
    {
      title: 'Windows Account Lockouts Of Many Accounts',
      group: {},
      events: users('locked', 6).map((u, i) => lockout(u, day(4) + i * MINUTE)),
    },
    {
      title: 'Explicit Credentials Tried For Many Accounts On One Host',
      group: { Computer: 'ws7.corp.example', SubjectUserName: 'mallory' },
      events: users('svc', 9).map((u, i) => explicit('mallory', u, day(5) + i * 20_000)),
    },
    {
      title: 'NTLM Brute Force Of One Account From One Workstation',
      group: { TargetUserName: 'bob', Workstation: 'KIOSK3' },
      events: Array.from({ length: 11 }, (_, i) => ntlmFailure('bob', 'KIOSK3', day(6) + i * 10_000)),
    },
    {
      title: 'NTLM Password Spraying From One Workstation',
      group: { Workstation: 'LAPTOP-X' },
      events: users('emp', 9).map((u, i) => ntlmFailure(u, 'LAPTOP-X', day(7) + i * 20_000)),
    },
  ];
}

/**
 * As many failures, lockouts and explicit logons as the attacks hold, spread so that no pattern
 * forms: a different user and source each time, one event every 20 minutes over two days, and
 * successful logons of the same users between them.
 */
function benign(): AuthEvent[] {
  const start = BASE + 10 * DAY;
  const step = 20 * MINUTE;
  const events: AuthEvent[] = [];
  for (let i = 0; i < 70; i++) {
    const at = start + i * step;
    const user = `user${i % 40}`;
    const ip = `10.20.${i % 30}.${10 + (i % 7)}`;
    events.push(failure(user, ip, at, i % 9 === 0 ? '0xc0000064' : '0xc000006a'));
    events.push(success(user, ip, at + MINUTE));
    if (i % 10 === 0) events.push(lockout(user, at + 2 * MINUTE));
    if (i % 7 === 0) events.push(explicit(`admin${i % 3}`, `svc${i}`, at + 3 * MINUTE));
    if (i % 3 === 0) events.push(ntlmFailure(user, `WS${i % 11}`, at + 4 * MINUTE));
  }
  return events;
}

const lines = (events: AuthEvent[]) => `${events.map(windowsEvent).join('\n')}\n`;
const IDENTITY = join(VIGIL_RULES_DIR, 'identity');

function hunt(file: string, rules: string[] = ['--rules', IDENTITY]): HuntedDetection[] {
  return huntDetections([file, ...rules, '--no-summary']).detections;
}

describe("Vigil's identity pack", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-identity-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads without a problem, each detection tagged with its ATT&CK technique', () => {
    const result = vigil(['rules', 'check', IDENTITY, '--json']);
    expect(result.status).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.failed).toEqual([]);
    expect(report.warnings).toEqual([]);
    expect(report.loaded).toBeGreaterThanOrEqual(18);
  });

  it('vigil hunt: each pattern fires on its own events, with its group', () => {
    const file = join(dir, 'attacks.jsonl');
    const expected = attacks();
    writeFileSync(file, lines(expected.flatMap((attack) => attack.events).sort((a, b) => a.at - b.at)));
    const found = hunt(file);
    for (const attack of expected) {
      const hits = found.filter((d) => d.rule.title === attack.title);
      expect({ title: attack.title, fired: hits.length > 0 }).toEqual({ title: attack.title, fired: true });
      expect(hits.map((d) => d.correlation?.group)).toContainEqual(attack.group);
    }
    // Building blocks and stages report nothing by themselves.
    expect(
      found.filter((d) => /Stage|^Windows (Logon|Remote|Successful|Account Locked|NTLM)/.test(d.rule.title)),
    ).toEqual([]);
  });

  it('vigil hunt: nothing fires on the same failures spread over many users, sources and hours', () => {
    const file = join(dir, 'benign.jsonl');
    writeFileSync(file, lines(benign()));
    expect(hunt(file).map((d) => d.rule.title)).toEqual([]);
  });

  it.skipIf(!hasContent)(
    'loaded by default beside SigmaHQ: the Kerberos password spray of EVTX-ATTACK-SAMPLES is found',
    () => {
      const sample = contentPath(
        '..',
        'datasets',
        'evtx-attack-samples',
        'Credential Access',
        'kerberos_pwd_spray_4771.evtx',
      );
      const titles = hunt(sample, []).map((d) => d.rule.title);
      expect(titles).toContain('Password Spraying From One Source');
      const check = vigil(['rules', 'check', '--json']);
      const report = JSON.parse(check.stdout);
      expect(report.loaded).toBeGreaterThan(3000);
      expect(report.files).toBeGreaterThan(3000);
    },
  );

  it.skipIf(!hasContent)(
    "sshd: finds the spraying and the brute forces of a real server's auth.log, and not its administrator",
    () => {
      const log = contentPath(
        '..',
        'datasets',
        'logs-beyond-windows',
        'linux-auth',
        'elastic-examples_ec2_auth.log',
      );
      const found = hunt(log);
      const groups = (title: string) =>
        found.filter((d) => d.rule.title === title).map((d) => d.correlation?.group);
      expect(groups('SSH Password Spraying From One Source')).toContainEqual({
        'source.ip': '91.197.232.109',
      });
      expect(groups('SSH Brute Force Of One Account From One Source')).toContainEqual({
        'user.name': 'elastic_user_0',
        'source.ip': '24.151.103.17',
      });
      // The address the administrator logs in from (publickey) fails a few times and is not flagged.
      expect(JSON.stringify(found)).not.toContain('85.245.107.41');
    },
  );

  describe('vigil serve', () => {
    let data: string;
    let service: RunningService;
    let tokens: Record<string, Record<string, string>>;

    beforeAll(async () => {
      data = join(dir, 'data');
      tokens = {
        attacked: await provision(data, 'attacked', ['ingest', 'viewer']),
        quiet: await provision(data, 'quiet', ['ingest', 'viewer']),
      };
      writeFileSync(join(data, 'config.yml'), 'lateness: 2s\n');
      service = await startService(data, ['--rules', IDENTITY], { VIGIL_HOME: join(dir, 'home') });
    }, 60_000);
    afterAll(async () => {
      service?.process.kill('SIGTERM');
      await service?.exited;
    });

    async function alertsOf(tenant: string, events: AuthEvent[]): Promise<string[]> {
      const sent = await api(
        service,
        tokens[tenant]!.ingest,
        'POST',
        '/api/v1/events',
        lines(events),
        'application/x-ndjson',
      );
      expect(sent.body.accepted).toBe(events.length);
      for (let waited = 0; ; waited += 100) {
        const stats = await api(service, tokens[tenant]!.viewer, 'GET', '/api/v1/stats');
        if (stats.body.processed === stats.body.accepted) break;
        if (waited > 30_000) throw new Error(`not processed in time:\n${service.log()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const list = await api(service, tokens[tenant]!.viewer, 'GET', '/api/v1/alerts?limit=100');
      return list.body.alerts.map((alert: { rule: { title: string } }) => alert.rule.title);
    }

    it('raises an alert for each pattern, and none for the spread-out failures', async () => {
      const expected = attacks();
      const titles = await alertsOf(
        'attacked',
        expected.flatMap((attack) => attack.events).sort((a, b) => a.at - b.at),
      );
      for (const attack of expected) expect(titles).toContain(attack.title);
      // Stages and building blocks feed other correlations and raise no alert of their own.
      expect(
        titles.filter((title) =>
          /Stage|^Failed Logons|^Windows (Logon|Remote|Successful|Account Locked Out|NTLM)/.test(title),
        ),
      ).toEqual([]);
      expect(await alertsOf('quiet', benign())).toEqual([]);
    });
  });
});
