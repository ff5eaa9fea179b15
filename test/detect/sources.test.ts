import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Detection, type DetectionSetup, hunt, loadDetectionSetup } from '../../src/detect/index.js';
import { readEvents } from '../../src/logs/index.js';
import { contentPath, hasContent } from '../helpers/content.js';

/**
 * The non-Windows samples of ../shared/datasets/logs-beyond-windows (its README says what each
 * holds): every record read, every event recognized as its source, the attacks found by the
 * SigmaHQ rules written for them, and no rule of one product firing on another's events.
 */
const folder = () => contentPath('..', 'datasets', 'logs-beyond-windows');

interface ManifestRow {
  file: string;
  kind: string;
  records: number;
}

function manifest(): ManifestRow[] {
  const [, ...rows] = readFileSync(join(folder(), 'MANIFEST.csv'), 'utf8').trim().split('\n');
  return rows
    .map((row) => row.split(','))
    .filter(([, , , kind]) => kind === 'ndjson' || kind === 'text')
    .map(([dir, file, , kind, records]) => ({
      file: `${dir}/${file}`,
      kind: kind!,
      records: Number(records),
    }));
}

/** The product each folder's events must be recognized as (by the built-in pipelines). */
const PRODUCTS: Record<string, string[]> = {
  'aws-cloudtrail-invictus-stratus': ['aws'],
  'aws-cloudtrail-otrf': ['aws'],
  'azure-m365-otrf-goldensaml/aad_auditlogs.sentinel.ndjson': ['azure'],
  'azure-m365-otrf-goldensaml/m365_officeactivity.sentinel.ndjson': ['m365'],
  'azure-m365-otrf-goldensaml/m365defender_advancedhunting.ndjson': ['m365defender'],
  'email-fail2ban/exim_mainlog.log': ['exim'],
  'email-fail2ban/postfix_maillog.log': ['postfix'],
  'email-fail2ban/sendmail_maillog.log': ['sendmail'],
  'gcp-audit-wazuh': ['gcp'],
  'linux-auditd': ['linux'],
  'linux-auth': ['linux'],
  'linux-sysmon': ['linux'],
  'proxy-squid-fail2ban': ['squid'],
  'suricata-ait-lds': ['suricata'],
  'suricata-surevego': ['suricata'],
  'web-apache-elastic-examples': ['apache'],
  'web-attack-evtx-samples/iis_tunna_rdp_tunnel_webshell.w3c.log': ['iis'],
  'web-attack-evtx-samples/tomcat_web_attack_and_webshell.access.log': ['apache'],
  'zeek-otrf-lsass': ['zeek'],
  'zeek-stratosphere-honeypot': ['zeek'],
  'zeek-stratosphere-simda': ['zeek'],
  'zeek-wrccdc-2018': ['zeek'],
};

const productsOf = (file: string) => PRODUCTS[file] ?? PRODUCTS[file.split('/')[0]!]!;

describe.skipIf(!hasContent)('logs beyond Windows (shared samples)', () => {
  const rows = hasContent ? manifest() : [];
  let setup: DetectionSetup;
  const results = new Map<
    string,
    { detections: Detection[]; sources: Map<string, number>; events: number }
  >();

  beforeAll(async () => {
    const options = { rules: [contentPath('sigma', 'rules')] };
    setup = await loadDetectionSetup(options);
    for (const row of rows) {
      const detections: Detection[] = [];
      const summary = await hunt([join(folder(), row.file)], {
        setup: options,
        loaded: setup,
        onDetection: (d) => detections.push(d),
      });
      results.set(row.file, {
        detections,
        sources: new Map(summary.bySource.map((s) => [s.key, s.count])),
        events: summary.events,
      });
    }
  }, 120_000);

  it('the manifest lists the samples (the table below covers each)', () => {
    expect(rows.length).toBeGreaterThanOrEqual(35);
    for (const row of rows) expect(productsOf(row.file), row.file).toBeDefined();
  });

  it('every file is read whole: no record lost, none reported damaged', async () => {
    for (const row of rows) {
      const file = join(folder(), row.file);
      const errors: string[] = [];
      let covered = 0;
      for await (const event of readEvents(file, { onError: (e) => errors.push(e.describe()) })) {
        // A text event covers its lines (an audit event, those of its records); a JSON one its record.
        covered += typeof event.raw === 'string' ? event.raw.split('\n').length : 1;
      }
      expect(errors, row.file).toEqual([]);
      // Zeek TSV and W3C headers are lines the manifest counts but no record.
      const text = readFileSync(file, 'latin1');
      const headers =
        row.kind === 'text' ? text.split('\n').filter((line) => line.startsWith('#')).length : 0;
      expect(covered + headers, row.file).toBe(row.records);
    }
  });

  it("every event is recognized as its source's product, none left to no pipeline", () => {
    for (const row of rows) {
      const { sources, events } = results.get(row.file)!;
      expect(sources.get(''), row.file).toBeUndefined();
      const products = new Set([...sources.keys()].map((key) => key.split('/')[0]));
      expect([...products], row.file).toEqual(productsOf(row.file));
      expect(
        [...sources.values()].reduce((a, b) => a + b, 0),
        row.file,
      ).toBe(events);
    }
  });

  it('the service of each log is told apart (Zeek by _path or by its fields, Suricata by event_type)', () => {
    const sources = (file: string) => Object.fromEntries(results.get(file)!.sources);
    expect(sources('zeek-wrccdc-2018/rdp.ndjson')).toEqual({ 'zeek/rdp': 1449 });
    expect(sources('zeek-stratosphere-honeypot/http.ndjson')).toEqual({ 'zeek/http': 2136 });
    expect(sources('zeek-stratosphere-honeypot/ssh.ndjson')).toEqual({ 'zeek/ssh': 2240 });
    expect(sources('zeek-stratosphere-simda/conn.log')).toEqual({ 'zeek/conn': 992 });
    expect(sources('aws-cloudtrail-invictus-stratus/cloudtrail.ndjson')).toEqual({ 'aws/cloudtrail': 2900 });
    expect(sources('linux-auditd/otrf_T1027.001_dd_binary_padding.audit.log')).toEqual({ 'linux/auditd': 1 });
    expect(sources('linux-auth/elastic-examples_ec2_auth.log')).toMatchObject({
      'linux/sshd': 4095,
      'linux/sudo': 557,
      'linux/cron': 1264,
    });
    expect(sources('suricata-surevego/eve.json')).toMatchObject({ 'suricata/alert': 68, 'suricata/dns': 48 });
    expect(sources('linux-sysmon/otrf_log4shell_sysmon_for_linux.sentinel_syslog.ndjson')).toEqual(
      sources('linux-sysmon/otrf_log4shell_sysmon_for_linux.eventdata.ndjson'),
    );
  });

  // Dataset -> the SigmaHQ rule that describes what it shows, and how often it must fire.
  const PAIRS: [string, string, number][] = [
    ['linux-auditd/otrf_T1027.001_dd_binary_padding.audit.log', 'Binary Padding - Linux', 1],
    ['linux-auditd/go-libaudit_rhel7_record_types.audit.log', 'Creation Of An User Account', 1],
    [
      'linux-sysmon/otrf_log4shell_sysmon_for_linux.eventdata.ndjson',
      'Suspicious Java Children Processes',
      1,
    ],
    ['linux-sysmon/otrf_log4shell_sysmon_for_linux.eventdata.ndjson', 'Linux Reverse Shell Indicator', 1],
    [
      'linux-sysmon/otrf_log4shell_sysmon_for_linux.sentinel_syslog.ndjson',
      'Linux Reverse Shell Indicator',
      1,
    ],
    ['linux-sysmon/otrf_log4shell_sysmon_for_linux.eventdata.ndjson', 'Decode Base64 Encoded Text', 1],
    ['aws-cloudtrail-invictus-stratus/cloudtrail.ndjson', 'AWS CloudTrail Important Change', 6],
    ['aws-cloudtrail-invictus-stratus/cloudtrail.ndjson', 'AWS VPC Flow Logs Deleted', 1],
    ['aws-cloudtrail-invictus-stratus/cloudtrail.ndjson', 'AWS Snapshot Backup Exfiltration', 2],
    ['aws-cloudtrail-invictus-stratus/cloudtrail.ndjson', 'AWS IAM Backdoor Users Keys', 2],
    ['aws-cloudtrail-otrf/ec2_proxy_s3_exfiltration.ndjson', 'AWS STS AssumeRole Misuse', 11],
    ['gcp-audit-wazuh/gcp_logging.ndjson', 'Google Cloud Firewall Modified or Deleted', 3],
    ['gcp-audit-wazuh/gcp_logging.ndjson', 'Google Cloud Storage Buckets Modified or Deleted', 2],
    [
      'azure-m365-otrf-goldensaml/aad_auditlogs.sentinel.ndjson',
      'Delegated Permissions Granted For All Users',
      1,
    ],
    ['azure-m365-otrf-goldensaml/aad_auditlogs.sentinel.ndjson', 'App Granted Microsoft Permissions', 1],
    [
      'web-attack-evtx-samples/tomcat_web_attack_and_webshell.access.log',
      'Path Traversal Exploitation Attempts',
      24,
    ],
    ['web-attack-evtx-samples/tomcat_web_attack_and_webshell.access.log', 'Cross Site Scripting Strings', 4],
    [
      'zeek-wrccdc-2018/windows_protocols.dce_rpc-smb-kerberos-ntlm.ndjson',
      'MITRE BZAR Indicators for Execution',
      24,
    ],
  ];
  it.each(PAIRS)('%s: "%s" fires %i times', (file, title, count) => {
    const fired = results.get(file)!.detections.filter((d) => d.rule.title === title);
    expect(fired).toHaveLength(count);
  });

  it('detections on cloud events have the account, project or tenant as their host', () => {
    const hosts = (file: string) => [...new Set(results.get(file)!.detections.map((d) => d.host))].sort();
    expect(hosts('aws-cloudtrail-invictus-stratus/cloudtrail.ndjson')).toEqual([
      'aws/123837392027/us-east-1',
    ]);
    expect(hosts('aws-cloudtrail-otrf/ec2_proxy_s3_exfiltration.ndjson')).toEqual([
      'aws/123456789123/us-east-1',
    ]);
    expect(hosts('gcp-audit-wazuh/gcp_logging.ndjson')).toEqual(['gcp/wazuh-dev-258815']);
    expect(hosts('azure-m365-otrf-goldensaml/aad_auditlogs.sentinel.ndjson')).toEqual([
      'entra/00000000-0000-0000-0000-000000000000',
    ]);
  });

  it('rules of one product no longer fire on the events of another', () => {
    const titles = (file: string) => results.get(file)!.detections.map((d) => d.rule.title);
    const rdp = 'Publicly Accessible RDP Service';
    // The numbers: 3,425 Suricata, 2,900 CloudTrail and 2,585 Zeek HTTP records each fired it.
    expect(titles('suricata-ait-lds/eve.json')).not.toContain(rdp);
    expect(titles('aws-cloudtrail-invictus-stratus/cloudtrail.ndjson')).not.toContain(rdp);
    expect(titles('zeek-stratosphere-honeypot/http.ndjson')).not.toContain(rdp);
    const ruleProduct = new Map(setup.ruleSet.rules.map((rule) => [rule.id, rule.logsource.product]));
    for (const row of rows) {
      for (const detection of results.get(row.file)!.detections) {
        const product = ruleProduct.get(detection.rule.id);
        if (product)
          expect(productsOf(row.file), `${detection.rule.title} on ${row.file}`).toContain(product);
      }
    }
    // Benign baselines stay quiet.
    expect(titles('suricata-ait-lds/eve.json')).toEqual([]);
    expect(titles('web-apache-elastic-examples/apache_combined_access.log')).toEqual([]);
  });
});
