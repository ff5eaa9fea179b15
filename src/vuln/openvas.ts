import { VigilError } from '../core/index.js';
import { type Coverage, CVE, earliest, type Finding, notACve, type ParsedScan } from './scan.js';
import { scanTime } from './times.js';
import { walkXml } from './xml.js';

interface Result {
  host?: string;
  hostname?: string;
  port?: number;
  oid: string;
  name?: string;
  cves: string[];
  /** By CVSS version, the newest read first. */
  vectors: Map<'2' | '3' | '4', { vector: string; score?: number }>;
  score?: number;
  created?: string;
  /** A CVE reference could not be read: the NVT's silence proves nothing on this host. */
  unreadable: boolean;
  line: number;
}

interface HostSummary {
  ip: string;
  start?: string;
  end?: string;
  hostname?: string;
  ports: number[];
}

/** Host details that list the ports a scan found open (comma-separated numbers or ranges). */
const PORT_DETAILS = new Set(['ports', 'tcp_ports', 'udp_ports']);

/**
 * OpenVAS/GVM XML reports (`get_reports` with the XML format). A report re-tests a finding when
 * the scan ran to the end (status Done), the export holds all its results (no filter, no paging),
 * the report is of the same GVM task (which fixes the scan config and target), the host was
 * scanned to the end, the NVT that found it did not fail on the host, and its port answered.
 */
export function openvas(text: string, file: string, now: Date): ParsedScan {
  const problems: VigilError[] = [];
  const results: Result[] = [];
  const hostSummaries = new Map<string, HostSummary>();
  const failedNvts = new Map<string, Set<string>>();
  const listedPorts = new Map<string, Set<number>>();
  let status: string | undefined;
  let task: string | undefined;
  let scanStart: string | undefined;
  const counts: { full?: number; filtered?: number } = {};
  let result: Result | undefined;
  let summary: HostSummary | undefined;
  let detailName = '';
  let severityType = '';
  let error: { host?: string; oid?: string } | undefined;
  let listedHost = '';
  const portOf = (value: string) => {
    const port = Number(/^(\d+)\//.exec(value)?.[1]);
    return port > 0 ? port : undefined;
  };
  const addTo = <T>(map: Map<string, Set<T>>, key: string, value: T) => {
    const set = map.get(key) ?? new Set<T>();
    set.add(value);
    map.set(key, set);
  };
  walkXml(text, file, {
    open(name, attributes, line, path) {
      const parent = path.at(-1);
      if (name === 'result' && parent === 'results') {
        result = { oid: '', cves: [], vectors: new Map(), unreadable: false, line };
      } else if (result && name === 'nvt') result.oid = attributes.oid ?? '';
      else if (result && name === 'ref' && attributes.type?.toLowerCase() === 'cve') {
        if (attributes.id && CVE.test(attributes.id)) result.cves.push(attributes.id.toUpperCase());
        else {
          problems.push(notACve(attributes.id, { file, line, field: 'result.nvt.refs.ref' }));
          result.unreadable = true;
        }
      } else if (result && name === 'severity') severityType = attributes.type ?? '';
      else if (name === 'task' && parent === 'report' && attributes.id) task ??= attributes.id;
      else if (name === 'host' && parent === 'report') summary = { ip: '', ports: [] };
      else if (name === 'error' && parent === 'errors') error = {};
      else if (error && name === 'nvt') error.oid = attributes.oid;
    },
    close(name, value, path) {
      const parent = path.at(-1);
      if (result) {
        if (name === 'result') {
          results.push(result);
          result = undefined;
        } else if (name === 'host' && parent === 'result') result.host = value.split('\n')[0]!.trim();
        else if (name === 'hostname' && parent === 'host') result.hostname = value || undefined;
        else if (name === 'port' && parent === 'result') result.port = portOf(value);
        else if (name === 'name' && parent === 'nvt') result.name = value;
        else if (name === 'creation_time' && parent === 'result') result.created = scanTime(value);
        else if (name === 'cve' && parent === 'nvt') {
          // Older GVM: one element with the CVEs separated by commas, NOCVE when there is none.
          for (const id of value.split(/[\s,]+/).filter((v) => v && v !== 'NOCVE')) {
            if (CVE.test(id)) result.cves.push(id.toUpperCase());
            else {
              problems.push(notACve(id, { file, line: result.line, field: 'result.nvt.cve' }));
              result.unreadable = true;
            }
          }
        } else if (name === 'tags' && parent === 'nvt') {
          const vector = /(?:^|\|)cvss_base_vector=([^|]+)/.exec(value)?.[1];
          if (vector) addVector(result, vector);
        } else if (name === 'value' && parent === 'severity') addVector(result, value, severityType);
        else if (name === 'score' && parent === 'severity') result.score ??= Number(value) || undefined;
        else if (name === 'severity' && parent === 'result') result.score ??= Number(value) || undefined;
        return;
      }
      if (error) {
        if (name === 'host' && parent === 'error') error.host = value.split('\n')[0]!.trim();
        else if (name === 'error') {
          if (error.host && error.oid) addTo(failedNvts, error.host, error.oid);
          error = undefined;
        }
        return;
      }
      if (summary) {
        if (name === 'ip' && parent === 'host') summary.ip = value;
        else if (name === 'start' && parent === 'host') summary.start = scanTime(value);
        else if (name === 'end' && parent === 'host') summary.end = scanTime(value);
        else if (name === 'name' && parent === 'detail') detailName = value;
        else if (name === 'value' && parent === 'detail') {
          if (detailName === 'hostname') summary.hostname ??= value || undefined;
          if (PORT_DETAILS.has(detailName)) summary.ports.push(...portList(value));
        } else if (name === 'host') {
          if (summary.ip) hostSummaries.set(summary.ip, summary);
          summary = undefined;
        }
        return;
      }
      if (name === 'scan_run_status') status = value;
      else if (name === 'scan_start' && parent === 'report') scanStart = scanTime(value);
      else if ((name === 'full' || name === 'filtered') && parent === 'result_count')
        counts[name] = Number(value);
      else if (name === 'host' && parent === 'port') listedHost = value.split('\n')[0]!.trim();
      else if (name === 'port' && parent === 'ports') {
        // <port><host>IP</host>443/tcp<threat>…</threat></port>: the port's own text is the port.
        const port = portOf(value);
        if (port && listedHost) addTo(listedPorts, listedHost, port);
        listedHost = '';
      }
    },
  });

  const imported = now.toISOString();
  const notes: string[] = [];
  const done = status?.toLowerCase() === 'done';
  if (!done) notes.push(`the scan's status is "${status ?? 'unknown'}", not Done: it closes no finding`);
  if (!task)
    notes.push(
      'no GVM task in the report: it closes no finding (a re-test is told by its task: the same scan config and target)',
    );
  const partial =
    (counts.full !== undefined && counts.filtered !== undefined && counts.filtered < counts.full) ||
    (counts.filtered !== undefined && results.length < counts.filtered);
  if (partial)
    notes.push(
      `the report holds ${results.length} of ${counts.full ?? counts.filtered} results (a filtered or paged export): it closes no finding; export it without a results filter`,
    );

  const findings: Finding[] = [];
  const hosts = new Map<string, { hostname?: string; ports: Set<number>; results: Result[] }>();
  for (const [ip, s] of hostSummaries)
    hosts.set(ip, { hostname: s.hostname, ports: new Set(s.ports), results: [] });
  for (const r of results) {
    if (!r.host) {
      problems.push(
        new VigilError('VULN_ENTRY', 'a result without a host', { file, line: r.line, field: 'result.host' }),
      );
      continue;
    }
    const host = hosts.get(r.host) ?? { ports: new Set<number>(), results: [] };
    host.hostname ??= r.hostname;
    if (r.port) host.ports.add(r.port);
    host.results.push(r);
    hosts.set(r.host, host);
  }
  const coverage: Coverage[] = [];
  const untimed: string[] = [];
  for (const [ip, host] of hosts) {
    const asset = (host.hostname ?? ip).toLowerCase();
    const summary = hostSummaries.get(ip);
    const at =
      summary?.start ??
      summary?.end ??
      scanStart ??
      earliest(
        host.results.map((r) => r.created),
        '',
      );
    if (!at) untimed.push(asset);
    const seenAt = at || imported;
    const unreadable = new Set(host.results.filter((r) => r.unreadable).map((r) => r.oid));
    for (const r of host.results) {
      const vector = r.vectors.get('4') ?? r.vectors.get('3') ?? r.vectors.get('2');
      for (const cve of r.cves) {
        findings.push({
          asset,
          address: ip,
          cve,
          port: r.port,
          product: r.name,
          cvssVector: vector?.vector,
          cvssScore: vector?.score ?? r.score,
          scanner: 'openvas',
          scope: task ?? '',
          check: r.oid,
          seenAt,
          present: true,
          location: { file, line: r.line },
        });
      }
    }
    for (const port of listedPorts.get(ip) ?? []) host.ports.add(port);
    // With host summaries in the report, a host is finished when its summary has an end time.
    const finished = hostSummaries.size ? summary?.end !== undefined : true;
    coverage.push({
      asset,
      scope: task ?? '',
      testedAt: seenAt,
      complete: done && !partial && task !== undefined && finished,
      excluded: [...(failedNvts.get(ip) ?? []), ...unreadable],
      ports: [...host.ports],
    });
  }
  if (untimed.length) {
    problems.push(
      new VigilError(
        'VULN_NO_TIME',
        `${untimed.length} host(s) without a scan time: their findings are dated by the import (${untimed.slice(0, 5).join(', ')})`,
        { file },
      ),
    );
  }
  return {
    format: 'openvas',
    scannedAt: earliest(
      coverage.map((c) => c.testedAt),
      imported,
    ),
    findings,
    coverage,
    problems,
    notes,
  };
}

function addVector(result: Result, value: string, type = ''): void {
  const vector = value.trim();
  const version = /^cvss:4/i.test(vector)
    ? '4'
    : /^cvss:3/i.test(vector)
      ? '3'
      : /^\(?av:[nalp]\//i.test(vector) || /_v2$/.test(type)
        ? '2'
        : undefined;
  if (version && !result.vectors.has(version)) result.vectors.set(version, { vector });
}

/** `22,80,443` or `1-3,8080` as port numbers; a range counts only its ends' worth (at most 1,024 ports). */
function portList(value: string): number[] {
  const ports: number[] = [];
  for (const part of value.split(/[\s,]+/)) {
    const range = /^(\d+)-(\d+)$/.exec(part);
    if (range) {
      const [from, to] = [Number(range[1]), Number(range[2])];
      for (let p = from; p <= Math.min(to, from + 1023); p++) ports.push(p);
    } else if (/^\d+$/.test(part)) ports.push(Number(part));
  }
  return ports.filter((p) => p > 0 && p < 65536);
}
