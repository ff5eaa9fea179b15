import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VIGIL_RULES_DIR } from '../../src/sigma/index.js';
import { type HuntedDetection, huntDetections, vigil } from '../helpers/cli.js';
import { asa, entra, fortigate, globalprotect, okta } from '../helpers/identity-events.js';
import { TEST_PLACES, writeCityDatabase } from '../helpers/mmdb.js';
import { api, provision, type RunningService, startService } from '../helpers/serve.js';
import { securityEvent } from '../helpers/windows-events.js';

/**
 * Vigil's baseline detections (rules/identity/baselines.yml): impossible travel, a new country, an
 * unusual hour and a dormant account, each judged against what the same account did before. Each
 * fires on its pattern and none fires on a month of ordinary logons of as many accounts, in
 * `vigil hunt` and in `vigil serve`, where the baselines it learned survive a restart.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const BASE = Date.parse('2026-03-02T00:00:00Z');
const PARIS = '192.0.2.10';
const SYDNEY = '198.51.100.20';
const NUREMBERG = '203.0.113.5';
const NEW_YORK = '100.64.1.1';

interface Logon {
  user: string;
  ip: string;
  at: number;
}

let record = 1;
const windowsLogon = ({ user, ip, at }: Logon): string =>
  securityEvent({
    id: 4624,
    at,
    record: record++,
    data: { TargetUserName: user, TargetDomainName: 'CORP', LogonType: 10, IpAddress: ip },
  });

/** An sshd message as RFC 5424 syslog, as a collector writes it to a file. */
const sshLogon = ({ user, ip, at }: Logon): string =>
  `<38>1 ${new Date(at).toISOString()} bastion sshd 4242 - - Accepted password for ${user} from ${ip} port 50122 ssh2`;

/** A successful sign-in as an identity provider or VPN gateway writes it. */
const byProduct =
  (write: (kind: 'success', user: string, ip: string, at: number, n: number) => string) =>
  ({ user, ip, at }: Logon): string =>
    write('success', user, ip, at, record++);

/** One logon a working day at office hours (8:00 to 16:00 UTC, varying), from one place. */
const workdays = (user: string, ip: string, days: number, from = 0): Logon[] =>
  Array.from({ length: days }, (_, i) => ({ user, ip, at: BASE + (from + i) * DAY + (8 + (i % 9)) * HOUR }));

/**
 * Each pattern with the account it is about; each account's story apart from the others', its
 * last logon the one that fires (after every other story's history, so a service can be sent the
 * histories first and the last logons after a restart).
 */
function attacks(): { title: string; user: string; logons: Logon[] }[] {
  return [
    {
      title: 'Impossible Travel Between %s Logons',
      user: 'alice',
      logons: [
        { user: 'alice', ip: PARIS, at: BASE + 2 * DAY + 9 * HOUR },
        { user: 'alice', ip: SYDNEY, at: BASE + 2 * DAY + 11 * HOUR },
      ],
    },
    {
      title: '%s Logon From A New Country',
      user: 'bob',
      // Twelve days from Nuremberg, then Sydney two weeks later (too late to be travel).
      logons: [
        ...workdays('bob', NUREMBERG, 12),
        { user: 'bob', ip: SYDNEY, at: BASE + 26 * DAY + 10 * HOUR },
      ],
    },
    {
      title: '%s Logon At An Unusual Hour For The Account',
      user: 'carol',
      logons: [...workdays('carol', PARIS, 25), { user: 'carol', ip: PARIS, at: BASE + 25 * DAY + 3 * HOUR }],
    },
    {
      title: 'Dormant %s Account Logs On',
      user: 'dave',
      logons: [
        ...workdays('dave', NEW_YORK, 3),
        { user: 'dave', ip: NEW_YORK, at: BASE + 80 * DAY + 10 * HOUR },
      ],
    },
  ];
}

/**
 * As many logons, of forty accounts working as people do: every working day at office hours for
 * two months, some from one city and some moving between Paris and Nuremberg (600 km) a few hours
 * apart, some from addresses no database places.
 */
function benign(): Logon[] {
  const logons: Logon[] = [];
  for (let u = 0; u < 40; u++) {
    const user = `staff${u}`;
    for (let day = 0; day < 60; day++) {
      if (day % 7 >= 5) continue;
      const at = BASE + day * DAY + (8 + ((day + u) % 8)) * HOUR;
      const ip = u % 5 === 0 ? `10.1.${u}.7` : u % 2 === 0 && day % 3 === 0 ? NUREMBERG : PARIS;
      logons.push({ user, ip, at });
    }
  }
  return logons;
}

const byTime = (logons: Logon[]) => [...logons].sort((a, b) => a.at - b.at);
const IDENTITY = join(VIGIL_RULES_DIR, 'identity');

function hunt(file: string, extra: string[]): { found: HuntedDetection[]; summary: string } {
  const { detections, stderr } = huntDetections([file, '--rules', IDENTITY, ...extra]);
  return { found: detections, summary: stderr };
}

/** Each source with how it writes a successful logon, and how it reaches a service. */
const PRODUCTS = [
  {
    product: 'Windows',
    tenant: 'windows',
    line: windowsLogon,
    file: 'logons.jsonl',
    syslog: false,
    host: 'dc1.corp.example',
  },
  { product: 'SSH', tenant: 'ssh', line: sshLogon, file: 'auth.log', syslog: true, host: 'bastion' },
  // Entra ID and Okta place the sign-ins themselves; the gateways' addresses take the database.
  {
    product: 'Entra ID',
    tenant: 'entra',
    line: byProduct(entra),
    file: 'entra.jsonl',
    syslog: false,
    host: 'entra/00000000-0000-0000-0000-000000000001',
  },
  { product: 'Okta', tenant: 'okta', line: byProduct(okta), file: 'okta.jsonl', syslog: false, host: 'okta' },
  {
    product: 'FortiGate SSL-VPN',
    tenant: 'fortigate',
    line: byProduct(fortigate),
    file: 'fortigate.log',
    syslog: true,
    host: 'FGT-EDGE',
  },
  {
    product: 'GlobalProtect',
    tenant: 'globalprotect',
    line: byProduct(globalprotect),
    file: 'globalprotect.log',
    syslog: true,
    host: 'PA-VM',
  },
  {
    product: 'Cisco ASA',
    tenant: 'asa',
    line: byProduct(asa),
    file: 'asa.log',
    syslog: true,
    host: 'asa-edge',
  },
] as const;

describe("Vigil's baseline detections", () => {
  let dir: string;
  let geoip: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-baselines-'));
    geoip = writeCityDatabase(join(dir, 'city.mmdb'), TEST_PLACES);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const { product, line, file, host } of PRODUCTS) {
    it(`vigil hunt, ${product}: each pattern fires for its account, with what made it fire`, () => {
      const path = join(dir, `attacks-${file}`);
      const expected = attacks();
      writeFileSync(
        path,
        `${byTime(expected.flatMap((a) => a.logons))
          .map(line)
          .join('\n')}\n`,
      );
      const { found } = hunt(path, ['--geoip', geoip]);
      const fired = found.map((d) => [d.rule.title, Object.values(d.correlation?.group ?? {})[0]]);
      expect(fired.sort()).toEqual(expected.map((a) => [a.title.replace('%s', product), a.user]).sort());
      const travel = found.find((d) => d.rule.title.startsWith('Impossible Travel'));
      // Places from the database have their names; places the product gave, the names it gave them.
      const route = product === 'Okta' ? 'Paris, France to Sydney, Australia' : 'Paris, FR to Sydney, AU';
      // The host its events name: the machine, the syslog sender, the product's tenant.
      expect(travel?.host).toBe(host);
      expect(travel?.correlation?.detail).toMatch(
        new RegExp(`^16,961 km from ${route} in 2 h: [\\d,]+ km/h$`),
      );
    });

    it(`vigil hunt, ${product}: nothing fires on two months of ordinary logons`, () => {
      const path = join(dir, `benign-${file}`);
      writeFileSync(path, `${byTime(benign()).map(line).join('\n')}\n`);
      const { found, summary } = hunt(path, ['--geoip', geoip]);
      expect(found.map((d) => d.rule.title)).toEqual([]);
      // Eight accounts log on from private addresses: said, not hidden.
      expect(summary).toMatch(/matches of .* could not be placed/);
    });
  }

  it('without a geolocation database, travel and countries are not judged, and the summary says why', () => {
    const path = join(dir, 'travel.jsonl');
    writeFileSync(path, `${attacks()[0]!.logons.map(windowsLogon).join('\n')}\n`);
    const { found, summary } = hunt(path, []);
    expect(found).toEqual([]);
    expect(summary).toContain(
      "4 matches of 'Impossible Travel Between Windows Logons', 'Windows Logon From A New Country' were not judged: they place addresses, which needs a geolocation database (--geoip",
    );
    const check = JSON.parse(vigil(['rules', 'check', IDENTITY, '--json']).stdout);
    expect(check.geolocation).toHaveLength(10);
    const broken = vigil(['hunt', path, '--rules', IDENTITY, '--geoip', join(dir, 'missing.mmdb')]);
    expect(broken.status).not.toBe(0);
    expect(broken.stderr).toContain('missing.mmdb: not a MaxMind DB geolocation database: no such file');
  });

  describe('vigil serve', () => {
    let data: string;
    let service: RunningService | undefined;
    const tokens: Record<string, Record<string, string>> = {};
    const syslogPorts: Record<string, number> = {};
    const start = async () => {
      service = await startService(data, ['--rules', IDENTITY], { VIGIL_HOME: join(dir, 'home') });
      for (const [, port, tenant] of service
        .log()
        .matchAll(/syslog over TCP on 127\.0\.0\.1:(\d+) for tenant (\w+)/g))
        syslogPorts[tenant!] = Number(port);
    };
    const stop = async () => {
      service?.process.kill('SIGTERM');
      await service?.exited;
    };

    beforeAll(async () => {
      data = join(dir, 'data');
      for (const { tenant } of PRODUCTS) tokens[tenant] = await provision(data, tenant, ['ingest', 'viewer']);
      // The database from config.yml, relative to the data folder.
      writeCityDatabase(join(data, 'city.mmdb'), TEST_PLACES);
      const listeners = PRODUCTS.filter((p) => p.syslog).map(
        ({ tenant }) => `  - { protocol: tcp, listen: "127.0.0.1:0", tenant: ${tenant} }`,
      );
      writeFileSync(
        join(data, 'config.yml'),
        ['lateness: 2s', 'geoip: city.mmdb', 'syslog:', ...listeners, ''].join('\n'),
      );
      await start();
    }, 60_000);
    afterAll(stop);

    /** Sends a product's logons to its tenant (JSON over HTTP, syslog over TCP) and waits until they are processed. */
    async function send(source: (typeof PRODUCTS)[number], logons: Logon[]): Promise<void> {
      const { ingest, viewer } = tokens[source.tenant]!;
      const before = (await api(service!, viewer, 'GET', '/api/v1/stats')).body.accepted as number;
      const text = `${logons.map(source.line).join('\n')}\n`;
      if (source.syslog) {
        const tcp = connect(syslogPorts[source.tenant]!, '127.0.0.1');
        await new Promise<void>((resolve) => tcp.once('connect', () => resolve()));
        await new Promise<void>((resolve) => tcp.end(text, () => resolve()));
      } else {
        const sent = await api(service!, ingest, 'POST', '/api/v1/events', text, 'application/x-ndjson');
        expect(sent.body.accepted).toBe(logons.length);
      }
      for (let waited = 0; ; waited += 100) {
        const stats = (await api(service!, viewer, 'GET', '/api/v1/stats')).body;
        if (stats.accepted >= before + logons.length && stats.processed === stats.accepted) return;
        if (waited > 30_000) throw new Error(`not processed in time:\n${service!.log()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }

    async function titles(tenant: string): Promise<string[]> {
      const list = await api(service!, tokens[tenant]!.viewer, 'GET', '/api/v1/alerts?limit=100');
      return list.body.alerts.map((alert: { rule: { title: string } }) => alert.rule.title).sort();
    }
    // The last matches wait for the lateness to pass.
    const lateness = () => new Promise((r) => setTimeout(r, 2_500));

    it('learns each account of each source, keeps what it learned across a restart, and raises only the patterns', async () => {
      const stories = attacks();
      const lastHistory = BASE + 25 * DAY;
      const ordinary = benign().filter((logon) => logon.at < lastHistory);
      // Alice's journey whole; of the others, all but the logon that gives them away.
      const [travel, ...others] = stories;
      const history = byTime([
        ...ordinary,
        ...travel!.logons,
        ...others.flatMap((a) => a.logons.slice(0, -1)),
      ]);
      for (const source of PRODUCTS) await send(source, history);
      await lateness();
      for (const { product, tenant } of PRODUCTS)
        expect({ product, alerts: await titles(tenant) }).toEqual({
          product,
          alerts: [travel!.title.replace('%s', product)],
        });
      await stop();
      await start();
      for (const source of PRODUCTS) await send(source, byTime(others.map((a) => a.logons.at(-1)!)));
      await lateness();
      for (const { product, tenant } of PRODUCTS)
        expect({ product, alerts: await titles(tenant) }).toEqual({
          product,
          alerts: stories.map((a) => a.title.replace('%s', product)).sort(),
        });
    });
  });
});
