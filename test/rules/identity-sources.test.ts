import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VIGIL_RULES_DIR } from '../../src/sigma/index.js';
import { type HuntedDetection, huntDetections } from '../helpers/cli.js';
import { asa, entra, fortigate, globalprotect, type Kind, okta } from '../helpers/identity-events.js';
import { api, provision, type RunningService, startService } from '../helpers/serve.js';

/**
 * The identity pack's rules for Entra ID, Okta, FortiGate SSL-VPN, GlobalProtect and Cisco ASA, on
 * events written from each product's documented format: each detection fires on its pattern, and
 * none fires on the same number of failures spread over many users, sources and hours. Entra ID
 * and Okta are JSON records; the VPN gateways are syslog lines. Run through `vigil hunt` and
 * through `vigil serve` (JSON over HTTP, syslog over TCP).
 */

const DAY = 86_400_000;
const MINUTE = 60_000;
const BASE = Date.parse('2026-03-02T08:00:00Z');
const day = (n: number) => BASE + n * DAY;
const iso = (at: number) => new Date(at).toISOString();

interface Source {
  name: string;
  /** One event of a kind as the product writes it: a JSON record or a syslog line. */
  event: (kind: Kind, user: string, ip: string, at: number, n: number) => string;
  file: string;
  syslog: boolean;
  /** The group-by fields of the rules, as the rules name them. */
  user: string;
  ip: string;
}

const SOURCES: Source[] = [
  {
    name: 'Entra ID',
    event: entra,
    file: 'entra.jsonl',
    syslog: false,
    user: 'UserPrincipalName',
    ip: 'IPAddress',
  },
  {
    name: 'Okta',
    event: okta,
    file: 'okta.jsonl',
    syslog: false,
    user: 'actor.alternateId',
    ip: 'client.ipAddress',
  },
  {
    name: 'FortiGate SSL-VPN',
    event: fortigate,
    file: 'fortigate.log',
    syslog: true,
    user: 'user',
    ip: 'remip',
  },
  {
    name: 'GlobalProtect',
    event: globalprotect,
    file: 'globalprotect.log',
    syslog: true,
    user: 'srcuser',
    ip: 'public_ip',
  },
  { name: 'Cisco ASA', event: asa, file: 'asa.log', syslog: true, user: 'user.name', ip: 'source.ip' },
];

interface Planned {
  kind: Kind;
  user: string;
  ip: string;
  at: number;
}

const users = (prefix: string, n: number, domain: string) =>
  Array.from({ length: n }, (_, i) => `${prefix}${i + 1}${domain}`);

interface Attack {
  title: string;
  group: Record<string, string>;
  events: Planned[];
}

/** Each source's patterns, each on a day of its own from `first` on, so no window reaches into another. */
function attacks(source: Source, first: number): Attack[] {
  const domain = source.syslog ? '' : '@corp.example';
  const alice = `alice${domain}`;
  const list: Attack[] = [];
  let d = first;
  const fail = (user: string, ip: string, at: number, kind: Kind = 'failure'): Planned => ({
    kind,
    user,
    ip,
    at,
  });
  // Brute force, then the guess that worked.
  const bruteDay = day(d++);
  list.push({
    title: `${source.name} Brute Force Of One Account From One Source`,
    group: { [source.user]: alice, [source.ip]: '198.51.100.10' },
    events: Array.from({ length: 12 }, (_, i) => fail(alice, '198.51.100.10', bruteDay + i * 15_000)),
  });
  list.push({
    title: `${source.name} Success After Repeated Failures`,
    group: { [source.user]: alice },
    events: [{ kind: 'success', user: alice, ip: '198.51.100.10', at: bruteDay + 5 * MINUTE }],
  });
  const sprayDay = day(d++);
  list.push({
    title: `${source.name} Password Spraying From One Source`,
    group: { [source.ip]: '198.51.100.20' },
    events: users('staff', 10, domain).map((u, i) => fail(u, '198.51.100.20', sprayDay + i * 30_000)),
  });
  const spreadDay = day(d++);
  list.push({
    // Six sources, none past the single-source threshold: only the spread shows.
    title: `${source.name} Distributed Password Spraying`,
    group: {},
    events: users('person', 24, domain).map((u, i) =>
      fail(u, `203.0.113.${1 + (i % 6)}`, spreadDay + i * 15_000),
    ),
  });
  if (['Entra ID', 'Okta', 'FortiGate SSL-VPN'].includes(source.name)) {
    const stuffDay = day(d++);
    list.push({
      title: `${source.name} Credential Stuffing From One Source`,
      group: { [source.ip]: '198.51.100.40' },
      events: users('leaked', 9, domain).map((u, i) =>
        fail(u, '198.51.100.40', stuffDay + i * 20_000, 'unknown'),
      ),
    });
  }
  if (['Entra ID', 'Okta'].includes(source.name)) {
    const mfaDay = day(d++);
    const bob = `bob${domain}`;
    list.push({
      title: `${source.name} MFA Fatigue: Approval After Repeated Denials`,
      group: { [source.user]: bob },
      events: [
        ...Array.from({ length: 4 }, (_, i) => fail(bob, '198.51.100.50', mfaDay + i * MINUTE, 'mfa-denied')),
        fail(bob, '198.51.100.50', mfaDay + 6 * MINUTE, 'mfa-approved'),
      ],
    });
  }
  if (source.name === 'Okta') {
    const bombDay = day(d++);
    const carol = `carol${domain}`;
    list.push({
      title: 'Okta MFA Fatigue: Approval After Many Pushes',
      group: { [source.user]: carol },
      events: [
        ...Array.from({ length: 6 }, (_, i) =>
          fail(carol, '198.51.100.60', bombDay + i * MINUTE, 'push-sent'),
        ),
        fail(carol, '198.51.100.60', bombDay + 8 * MINUTE, 'mfa-approved'),
      ],
    });
  }
  return list;
}

/**
 * As many failures as the attacks hold, spread so that no pattern forms: a different user and
 * source each time, one every 20 minutes, each followed by that user's success (and, for the
 * identity providers, one denied MFA prompt and an approval now and then).
 */
function benign(source: Source, first: number): Planned[] {
  const domain = source.syslog ? '' : '@corp.example';
  const events: Planned[] = [];
  for (let i = 0; i < 70; i++) {
    const at = day(first) + i * 20 * MINUTE;
    const user = `user${i % 40}${domain}`;
    const ip = `10.20.${i % 30}.${10 + (i % 7)}`;
    events.push({ kind: i % 9 === 0 ? 'unknown' : 'failure', user, ip, at });
    events.push({ kind: 'success', user, ip, at: at + MINUTE });
    if (!source.syslog && i % 5 === 0) {
      events.push({ kind: 'mfa-denied', user, ip, at: at + 2 * MINUTE });
      events.push({ kind: 'push-sent', user, ip, at: at + 3 * MINUTE });
      events.push({ kind: 'mfa-approved', user, ip, at: at + 4 * MINUTE });
    }
  }
  return events;
}

const lines = (source: Source, events: Planned[]) =>
  `${[...events]
    .sort((a, b) => a.at - b.at)
    .map((e, n) => source.event(e.kind, e.user, e.ip, e.at, n))
    .join('\n')}\n`;

const IDENTITY = join(VIGIL_RULES_DIR, 'identity');

/** Twelve refused SSH logins of root from one address within three minutes, from `at` on. */
const sshdFailures = (at: number) =>
  Array.from({ length: 12 }, (_, i) => ({
    at: at + i * 15_000,
    text: `Failed password for root from 203.0.113.9 port ${40_000 + i} ssh2`,
  }));
const SSH_BRUTE_FORCE = 'SSH Brute Force Of One Account From One Source';

/** An OTLP/JSON request of sshd's messages, as a collector's journald or filelog receiver sends them. */
const otlpSshd = (at: number) =>
  JSON.stringify({
    resourceLogs: [
      {
        resource: {
          attributes: [
            { key: 'service.name', value: { stringValue: 'sshd' } },
            { key: 'host.name', value: { stringValue: 'bastion1' } },
          ],
        },
        scopeLogs: [
          {
            logRecords: sshdFailures(at).map((m) => ({
              timeUnixNano: `${m.at}000000`,
              severityText: 'INFO',
              body: { stringValue: m.text },
            })),
          },
        ],
      },
    ],
  });

function hunt(file: string): HuntedDetection[] {
  return huntDetections([file, '--rules', IDENTITY, '--no-summary']).detections;
}

/** Building blocks and stages: they feed correlations and report nothing by themselves. */
const SILENT =
  /\(Stage\)|Authentication Failure$|Unknown Account$|Successful Authentication$|MFA Request Denied$|Push Rejected$|MFA Approved$|Push Sent$|Failures (From|For) Many/;

describe("Vigil's identity pack beyond Windows", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-identity-sources-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  describe.each(SOURCES.map((s) => [s.name, s] as const))('%s', (_name, source) => {
    it('vigil hunt: each pattern fires on its own events, with its group, and building blocks stay silent', () => {
      const file = join(dir, `attacks-${source.file}`);
      const expected = attacks(source, 0);
      writeFileSync(
        file,
        lines(
          source,
          expected.flatMap((a) => a.events),
        ),
      );
      const found = hunt(file);
      for (const attack of expected) {
        const hits = found.filter((d) => d.rule.title === attack.title);
        expect({ title: attack.title, fired: hits.length > 0 }).toEqual({ title: attack.title, fired: true });
        expect(hits.map((d) => d.correlation?.group)).toContainEqual(attack.group);
      }
      expect(found.filter((d) => SILENT.test(d.rule.title)).map((d) => d.rule.title)).toEqual([]);
    });

    it('vigil hunt: nothing fires on the same failures spread over many users, sources and hours', () => {
      const file = join(dir, `benign-${source.file}`);
      writeFileSync(file, lines(source, benign(source, 10)));
      expect(hunt(file).map((d) => d.rule.title)).toEqual([]);
    });
  });

  it('sshd: the SSH rules fire on the systemd journal and on Sentinel Syslog rows as on syslog lines', () => {
    const journal = join(dir, 'journal.jsonl');
    writeFileSync(
      journal,
      sshdFailures(day(0))
        .map((m) =>
          JSON.stringify({
            __REALTIME_TIMESTAMP: `${m.at}000`,
            _HOSTNAME: 'bastion1',
            SYSLOG_IDENTIFIER: 'sshd',
            SYSLOG_FACILITY: '10',
            PRIORITY: '6',
            _PID: '913',
            _SYSTEMD_UNIT: 'ssh.service',
            MESSAGE: m.text,
          }),
        )
        .join('\n'),
    );
    const sentinel = join(dir, 'sentinel-syslog.jsonl');
    writeFileSync(
      sentinel,
      sshdFailures(day(0))
        .map((m) =>
          JSON.stringify({
            TimeGenerated: iso(m.at),
            Computer: 'bastion1',
            Facility: 'authpriv',
            SeverityLevel: 'info',
            ProcessName: 'sshd',
            ProcessID: 913,
            SyslogMessage: m.text,
            SourceSystem: 'Linux',
            Type: 'Syslog',
          }),
        )
        .join('\n'),
    );
    for (const file of [journal, sentinel]) {
      const found = hunt(file).filter((d) => d.rule.title === SSH_BRUTE_FORCE);
      expect(found.map((d) => d.correlation?.group)).toEqual([
        { 'user.name': 'root', 'source.ip': '203.0.113.9' },
      ]);
    }
  });

  it('Entra ID: a reported fraud is reported on its own', () => {
    const file = join(dir, 'entra-fraud.jsonl');
    const record = JSON.parse(entra('mfa-denied', 'dave@corp.example', '198.51.100.70', day(0), 0));
    record.properties.status.additionalDetails = 'MFA denied; Phone App Reported Fraud';
    writeFileSync(file, `${JSON.stringify(record)}\n`);
    expect(hunt(file).map((d) => d.rule.title)).toEqual(['Entra ID MFA Fraud Reported']);
  });

  describe('vigil serve', () => {
    let service: RunningService;
    const tokens: Record<string, Record<string, string>> = {};
    const syslogPorts: Record<string, number> = {};

    beforeAll(async () => {
      const data = join(dir, 'data');
      for (const tenant of ['attacked', 'quiet'])
        tokens[tenant] = await provision(data, tenant, ['ingest', 'viewer']);
      writeFileSync(
        join(data, 'config.yml'),
        [
          'lateness: 2s',
          'syslog:',
          '  - { protocol: tcp, listen: "127.0.0.1:0", tenant: attacked }',
          '  - { protocol: tcp, listen: "127.0.0.1:0", tenant: quiet }',
          '',
        ].join('\n'),
      );
      service = await startService(data, ['--rules', IDENTITY], { VIGIL_HOME: join(dir, 'home') });
      for (const [, port, tenant] of service
        .log()
        .matchAll(/syslog over TCP on 127\.0\.0\.1:(\d+) for tenant (\w+)/g))
        syslogPorts[tenant!] = Number(port);
    }, 60_000);
    afterAll(async () => {
      service?.process.kill('SIGTERM');
      await service?.exited;
    });

    /** Sends one source's events to a tenant (JSON over HTTP, syslog over TCP) and waits until they are processed. */
    async function send(tenant: string, source: Source, events: Planned[]): Promise<void> {
      const { ingest, viewer } = tokens[tenant]!;
      const before = (await api(service, viewer, 'GET', '/api/v1/stats')).body.accepted as number;
      const text = lines(source, events);
      if (source.syslog) {
        const tcp = connect(syslogPorts[tenant]!, '127.0.0.1');
        await new Promise<void>((resolve) => tcp.once('connect', () => resolve()));
        await new Promise<void>((resolve) => tcp.end(text, () => resolve()));
      } else {
        const sent = await api(service, ingest, 'POST', '/api/v1/events', text, 'application/x-ndjson');
        expect(sent.body.accepted).toBe(events.length);
      }
      for (let waited = 0; ; waited += 100) {
        const stats = (await api(service, viewer, 'GET', '/api/v1/stats')).body;
        if (stats.accepted >= before + events.length && stats.processed === stats.accepted) return;
        if (waited > 30_000) throw new Error(`not processed in time:\n${service.log()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }

    async function titles(tenant: string): Promise<string[]> {
      const list = await api(service, tokens[tenant]!.viewer, 'GET', '/api/v1/alerts?limit=200');
      return list.body.alerts.map((alert: { rule: { title: string } }) => alert.rule.title);
    }

    it('raises an alert for each pattern of each source, and none for the spread-out failures', async () => {
      // One source after the other in time, as a tenant's log must be (within its lateness).
      const expected: Attack[] = [];
      for (const [index, source] of SOURCES.entries()) {
        const own = attacks(source, index * 10);
        await send(
          'attacked',
          source,
          own.flatMap((a) => a.events),
        );
        expected.push(...own);
      }
      const raised = await titles('attacked');
      for (const attack of expected) expect(raised).toContain(attack.title);
      expect(raised.filter((title) => SILENT.test(title))).toEqual([]);

      for (const [index, source] of SOURCES.entries()) await send('quiet', source, benign(source, index * 5));
      expect(await titles('quiet')).toEqual([]);
    }, 120_000);

    it('raises the SSH brute force alert for sshd messages sent as OpenTelemetry records', async () => {
      const { ingest, viewer } = tokens.attacked!;
      const before = (await api(service, viewer, 'GET', '/api/v1/stats')).body.accepted as number;
      const sent = await fetch(`${service.url}/v1/logs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ingest}`, 'content-type': 'application/json' },
        body: otlpSshd(day(90)),
      });
      expect(sent.status).toBe(200);
      for (let waited = 0; ; waited += 100) {
        const stats = (await api(service, viewer, 'GET', '/api/v1/stats')).body;
        if (stats.accepted >= before + 12 && stats.processed === stats.accepted) break;
        if (waited > 30_000) throw new Error(`not processed in time:\n${service.log()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(await titles('attacked')).toContain(SSH_BRUTE_FORCE);
    });
  });
});
