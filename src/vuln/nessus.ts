import { VigilError } from '../core/index.js';
import { type Coverage, CVE, earliest, type Finding, notACve, type ParsedScan } from './scan.js';
import { scanTime } from './times.js';
import { walkXml } from './xml.js';

interface Item {
  plugin: string;
  pluginName?: string;
  port?: number;
  service?: string;
  cves: string[];
  vectors: { v2?: string; v3?: string; v4?: string };
  scores: { v2?: number; v3?: number; v4?: number };
  exploit?: boolean;
  /** plugin_type local: the plugin reads the host from inside, with credentials. */
  local?: boolean;
  line: number;
}

interface Host {
  name: string;
  tags: Map<string, string>;
  items: Item[];
  /** Plugins with an entry that could not be read: they re-test nothing on this host. */
  unreadable: Set<string>;
}

/**
 * Plugins that say the scan logged in to the host (OS Security Patch Assessment Available; Target
 * Credential Status: Valid Credentials Provided), and plugins that say it did not (OS Security Patch
 * Assessment Failed; Failure for Provided Credentials; No Credentials Provided).
 */
const LOGGED_IN = new Set(['117887', '141118']);
const NOT_LOGGED_IN = new Set(['21745', '104410', '110723']);

const VECTOR_TAGS: Record<string, 'v2' | 'v3' | 'v4'> = {
  cvss_vector: 'v2',
  cvss3_vector: 'v3',
  cvss4_vector: 'v4',
};
const SCORE_TAGS: Record<string, 'v2' | 'v3' | 'v4'> = {
  cvss_base_score: 'v2',
  cvss3_base_score: 'v3',
  cvss4_base_score: 'v4',
};

/**
 * Nessus v2 (`.nessus`). A host re-tests a finding when the host was scanned to the end
 * (HOST_END), the plugin that found it is in the policy's plugin set, the port it was on answered
 * this time, and, for a local plugin, the scan logged in (Credentialed_Scan, or the plugins that
 * report credentials working, and none that reports them failing). Times are the host's HOST_START
 * (or HOST_END).
 */
export function nessus(text: string, file: string, now: Date): ParsedScan {
  const problems: VigilError[] = [];
  const hosts: Host[] = [];
  let pluginSet: string[] | undefined;
  let preferenceName = '';
  let tag = '';
  let host: Host | undefined;
  let item: Item | undefined;
  walkXml(text, file, {
    open(name, attributes, line) {
      if (name === 'ReportHost') {
        host = { name: attributes.name ?? '', tags: new Map(), items: [], unreadable: new Set() };
        hosts.push(host);
      } else if (name === 'tag') tag = attributes.name ?? '';
      else if (name === 'ReportItem' && host) {
        const port = Number(attributes.port);
        item = {
          plugin: attributes.pluginID ?? '',
          pluginName: attributes.pluginName,
          port: port > 0 ? port : undefined,
          service: attributes.svc_name,
          cves: [],
          vectors: {},
          scores: {},
          line,
        };
        host.items.push(item);
      }
    },
    close(name, value, path) {
      const parent = path.at(-1);
      if (parent === 'preference' && path.at(-2) === 'ServerPreferences') {
        if (name === 'name') preferenceName = value;
        else if (name === 'value' && preferenceName === 'plugin_set')
          pluginSet = value.split(';').filter((id) => id.trim());
      } else if (name === 'tag' && host) host.tags.set(tag, value);
      else if (item && host && parent === 'ReportItem') {
        if (name === 'cve') {
          if (CVE.test(value)) item.cves.push(value.toUpperCase());
          else {
            problems.push(notACve(value, { file, line: item.line, field: 'ReportItem.cve' }));
            host.unreadable.add(item.plugin);
          }
        } else if (name in VECTOR_TAGS) item.vectors[VECTOR_TAGS[name]!] = value;
        else if (name in SCORE_TAGS) item.scores[SCORE_TAGS[name]!] = Number(value) || undefined;
        else if (name === 'exploit_available') item.exploit = value === 'true';
        else if (name === 'plugin_type') item.local = value === 'local';
      } else if (name === 'ReportItem') item = undefined;
      else if (name === 'ReportHost') host = undefined;
    },
  });

  const findings: Finding[] = [];
  const coverage: Coverage[] = [];
  const notes: string[] = [];
  const untimed: string[] = [];
  const unfinished: string[] = [];
  const imported = now.toISOString();
  for (const h of hosts) {
    const asset = (h.tags.get('host-fqdn') || h.name).toLowerCase();
    const address = h.tags.get('host-ip') || h.name;
    const ended = scanTime(h.tags.get('HOST_END_TIMESTAMP')) ?? scanTime(h.tags.get('HOST_END'));
    const started = scanTime(h.tags.get('HOST_START_TIMESTAMP')) ?? scanTime(h.tags.get('HOST_START'));
    const at = started ?? ended;
    if (!at) untimed.push(asset);
    if (!ended) unfinished.push(asset);
    const seenAt = at ?? imported;
    for (const i of h.items) {
      const version = i.vectors.v4 ? 'v4' : i.vectors.v3 ? 'v3' : i.vectors.v2 ? 'v2' : undefined;
      for (const cve of i.cves) {
        findings.push({
          asset,
          address,
          cve,
          port: i.port,
          service: i.service,
          product: i.pluginName,
          cvssVector: version && i.vectors[version],
          cvssScore: version ? i.scores[version] : (i.scores.v4 ?? i.scores.v3 ?? i.scores.v2),
          exploitAvailable: i.exploit,
          local: i.local || undefined,
          scanner: 'nessus',
          scope: '',
          check: i.plugin,
          seenAt,
          present: true,
          location: { file, line: i.line },
        });
      }
    }
    coverage.push({
      asset,
      scope: '',
      testedAt: seenAt,
      complete: ended !== undefined && pluginSet !== undefined,
      excluded: [...h.unreadable],
      ports: [...new Set(h.items.flatMap((i) => (i.port ? [i.port] : [])))],
      credentialed:
        !h.items.some((i) => NOT_LOGGED_IN.has(i.plugin)) &&
        (h.tags.get('Credentialed_Scan') === 'true' || h.items.some((i) => LOGGED_IN.has(i.plugin))),
    });
  }
  if (!pluginSet)
    notes.push("the policy's plugin set (plugin_set) is not in the file: this scan closes no finding");
  if (unfinished.length)
    notes.push(
      `${unfinished.length} host(s) not scanned to the end (no HOST_END), nothing on them closes: ${unfinished.slice(0, 5).join(', ')}`,
    );
  if (untimed.length) {
    problems.push(
      new VigilError(
        'VULN_NO_TIME',
        `${untimed.length} host(s) without HOST_START or HOST_END: their findings are dated by the import (${untimed.slice(0, 5).join(', ')})`,
        { file },
      ),
    );
  }
  return {
    format: 'nessus',
    scannedAt: earliest(
      coverage.map((c) => c.testedAt),
      imported,
    ),
    findings,
    coverage,
    checks: pluginSet ?? [],
    problems,
    notes,
  };
}
