import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VIGIL_RULES_DIR } from '../../src/sigma/index.js';
import { huntDetections } from '../helpers/cli.js';
import { api, provision, type RunningService, startService } from '../helpers/serve.js';

/**
 * Local password guessing through PAM (rules/identity/linux-pam.yml), on syslog lines as su, sudo
 * and sshd write them: the guessing and the account switch that follows fire, and nothing fires on
 * as many refused passwords spread over users and hours, nor on sshd's own PAM lines (the SSH rules
 * count those attempts). In `vigil hunt` and in `vigil serve` (syslog over TCP).
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const BASE = Date.parse('2026-03-02T08:00:00Z');
const IDENTITY = join(VIGIL_RULES_DIR, 'identity');

const line = (at: number, host: string, app: string, message: string) =>
  `<86>1 ${new Date(at).toISOString()} ${host} ${app} ${1000 + (at % 9000)} - - ${message}`;
const suFailure = (at: number, host: string, user: string, target = 'root') =>
  line(
    at,
    host,
    'su',
    `pam_unix(su:auth): authentication failure; logname=${user} uid=1000 euid=0 tty=/dev/pts/0 ruser=${user} rhost=  user=${target}`,
  );
const sudoFailure = (at: number, host: string, user: string) =>
  line(
    at,
    host,
    'sudo',
    `pam_unix(sudo:auth): authentication failure; logname=${user} uid=1001 euid=0 tty=/dev/pts/1 ruser=${user} rhost=  user=${user}`,
  );
const suSession = (at: number, host: string, user: string, target = 'root') =>
  line(at, host, 'su', `pam_unix(su:session): session opened for user ${target}(uid=0) by ${user}(uid=1000)`);
const sshdPamFailure = (at: number, host: string, ip: string) =>
  line(
    at,
    host,
    'sshd',
    `pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=${ip}  user=root`,
  );

function attacks(): string[] {
  return [
    // bob guesses root's password six times on web1, then becomes root.
    ...Array.from({ length: 6 }, (_, i) => suFailure(BASE + i * 20_000, 'web1', 'bob')),
    suSession(BASE + 3 * MINUTE, 'web1', 'bob'),
    // carol's sudo refuses her five times on db2.
    ...Array.from({ length: 5 }, (_, i) => sudoFailure(BASE + HOUR + i * 30_000, 'db2', 'carol')),
  ];
}

/** As many refused passwords, one every 40 minutes by a different user, and switches without guessing. */
function benign(): string[] {
  const lines: string[] = [];
  for (let i = 0; i < 12; i++) {
    const at = BASE + 5 * HOUR + i * 40 * MINUTE;
    const user = `user${i % 6}`;
    lines.push(i % 2 ? suFailure(at, `web${i % 3}`, user) : sudoFailure(at, `db${i % 3}`, user));
    lines.push(suSession(at + MINUTE, `web${i % 3}`, `admin${i % 4}`));
  }
  // An SSH brute force's PAM lines: counted by the SSH rules from sshd's own lines, not here.
  for (let i = 0; i < 12; i++)
    lines.push(sshdPamFailure(BASE + 20 * HOUR + i * 10_000, 'web1', '203.0.113.9'));
  return lines;
}

const EXPECTED = [
  ['Account Switch After Local Password Guessing', { host: 'web1', 'source.user.name': 'bob' }],
  ['Local Password Guessing Through su Or sudo', { host: 'db2', 'source.user.name': 'carol' }],
  ['Local Password Guessing Through su Or sudo', { host: 'web1', 'source.user.name': 'bob' }],
];

describe('Local password guessing through PAM', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-pam-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function hunt(lines: string[]): [string, Record<string, string> | undefined][] {
    const file = join(dir, 'auth.log');
    writeFileSync(file, `${lines.join('\n')}\n`);
    return huntDetections([file, '--rules', IDENTITY, '--no-summary'])
      .detections.map((d): [string, Record<string, string> | undefined] => [
        d.rule.title,
        d.correlation?.group,
      ])
      .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  }

  it('vigil hunt: the guessing and the switch that follows fire, with their group', () => {
    expect(hunt(attacks())).toEqual(EXPECTED);
  });

  it("vigil hunt: nothing fires on spread-out refusals, nor on sshd's PAM lines", () => {
    expect(hunt(benign())).toEqual([]);
  });

  it('vigil serve: the same over syslog', async () => {
    const data = join(dir, 'data');
    const tokens = await provision(data, 'acme', ['viewer']);
    writeFileSync(
      join(data, 'config.yml'),
      'lateness: 2s\nsyslog:\n  - { protocol: tcp, listen: "127.0.0.1:0", tenant: acme }\n',
    );
    const service: RunningService = await startService(data, ['--rules', IDENTITY], {
      VIGIL_HOME: join(dir, 'home'),
    });
    try {
      const port = Number(/syslog over TCP on 127\.0\.0\.1:(\d+)/.exec(service.log())![1]);
      const lines = [...benign(), ...attacks()].sort((a, b) =>
        a.split(' ')[1]!.localeCompare(b.split(' ')[1]!),
      );
      const tcp = connect(port, '127.0.0.1');
      await new Promise<void>((resolve) => tcp.once('connect', () => resolve()));
      await new Promise<void>((resolve) => tcp.end(`${lines.join('\n')}\n`, () => resolve()));
      for (let waited = 0; ; waited += 100) {
        const stats = (await api(service, tokens.viewer, 'GET', '/api/v1/stats')).body;
        if (stats.accepted === lines.length && stats.processed === stats.accepted) break;
        if (waited > 30_000) throw new Error(`not processed in time:\n${service.log()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      await new Promise((r) => setTimeout(r, 2_500)); // the lateness, for the last matches
      const alerts = (await api(service, tokens.viewer, 'GET', '/api/v1/alerts?limit=100')).body.alerts;
      const titles = alerts.map((alert: { rule: { title: string } }) => alert.rule.title).sort();
      expect(titles).toEqual(EXPECTED.map(([title]) => title));
    } finally {
      service.process.kill('SIGTERM');
      await service.exited;
    }
  });
});
